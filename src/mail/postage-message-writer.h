/* postage-message-writer.h — a draft becomes RFC 5322 bytes plus an envelope
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Uses GMime; any thread, but call postage_mail_init() once first.
 */
#pragma once

#include <glib.h>

#include "postage-draft.h"

G_BEGIN_DECLS

typedef struct {
  char      *sender;     /* MAIL FROM */
  GPtrArray *recipients; /* RCPT TO: To, then Cc, then Bcc, no duplicates */
  GBytes    *data;       /* the message, CRLF line ends, not dot-stuffed; no Bcc header */
  gboolean   eight_bit;  /* data holds bytes over 0x7F */
} PostageOutgoing;

void             postage_mail_init       (void);

/* Validates every field, then renders. Errors: POSTAGE_MAIL_ERROR_*. */
PostageOutgoing *postage_message_build   (const PostageDraft *draft,
                                          GError            **error);
void             postage_outgoing_free   (PostageOutgoing    *outgoing);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageOutgoing, postage_outgoing_free)

G_END_DECLS
