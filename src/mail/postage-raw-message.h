/* postage-raw-message.h — a finished RFC 5322 message from elsewhere
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What `postage sendmail` reads on standard input: a complete message that
 * another program wrote. It is parsed with GMime, checked, completed (From,
 * Date, Message-ID when missing), stripped of Bcc, and written with CRLF
 * line ends. Any thread; call postage_mail_init() once first.
 */
#pragma once

#include <glib.h>

#include "postage-message-writer.h"

G_BEGIN_DECLS

typedef struct {
  const char         *sender;       /* MAIL FROM (sendmail's -f), required */
  const char         *from_name;    /* for a From header when the message has none; may be NULL */
  const char         *from_address; /* likewise; required */
  const char * const *recipients;   /* given on the command line; may be NULL */
  gboolean            use_headers;  /* sendmail's -t: To, Cc and Bcc are recipients too */
} PostageRawOptions;

typedef struct _PostageRawMessage PostageRawMessage;

/* Everything is checked here, before anything is written: NUL octets, header
 * lines over 998 octets, addresses, no recipient at all. Lone CR and LF are
 * made CRLF; body lines over 998 octets are re-encoded as quoted-printable,
 * which decodes to the same text. Errors: POSTAGE_MAIL_ERROR_*. */
PostageRawMessage *postage_raw_message_parse       (const char               *data,
                                                    gsize                     length,
                                                    const PostageRawOptions  *options,
                                                    GError                  **error);
/* The decoded Subject, or NULL. */
const char        *postage_raw_message_get_subject (PostageRawMessage        *message);
/* Writes the message to @fd like postage_message_write() does. */
PostageOutgoing   *postage_raw_message_write       (PostageRawMessage        *message,
                                                    int                       fd,
                                                    GError                  **error);
void               postage_raw_message_free        (PostageRawMessage        *message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageRawMessage, postage_raw_message_free)

G_END_DECLS
