/* postage-mail-error.h — the error domain of the message layer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define POSTAGE_MAIL_ERROR (postage_mail_error_quark ())

typedef enum {
  POSTAGE_MAIL_ERROR_INVALID_ADDRESS, /* an address that is not name@domain */
  POSTAGE_MAIL_ERROR_NO_RECIPIENTS,   /* To, Cc and Bcc are all empty */
  POSTAGE_MAIL_ERROR_INVALID_HEADER,  /* CR, LF or a control character in a header value */
  POSTAGE_MAIL_ERROR_ATTACHMENT,      /* an attachment could not be read */
} PostageMailError;

GQuark postage_mail_error_quark (void);

G_END_DECLS
