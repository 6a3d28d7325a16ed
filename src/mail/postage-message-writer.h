/* postage-message-writer.h — a draft becomes RFC 5322 bytes plus an envelope
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Uses GMime; any thread, but call postage_mail_init() once first. Blocking
 * file I/O: from the UI, call it on a worker (the outbox does).
 */
#pragma once

#include <glib.h>

#include "postage-draft.h"

G_BEGIN_DECLS

/* The envelope of a written message and where its bytes are. */
typedef struct {
  char      *sender;     /* MAIL FROM (IDN domain as A-labels) */
  GPtrArray *recipients; /* RCPT TO: To, then Cc, then Bcc, no duplicates */
  char      *message_id; /* without <>, e.g. "1234.5678@example.org" */
  char      *path;       /* the message file: CRLF line ends, not dot-stuffed, no Bcc
                          * header; set by whoever stored it (the outbox) */
  guint64    size;       /* its size in octets, as SIZE= (RFC 1870) declares it */
  gboolean   eight_bit;  /* it holds octets over 0x7F (UTF-8 headers: needs SMTPUTF8) */
} PostageOutgoing;

void             postage_mail_init       (void);

/* Validates every field first — nothing is written when a field is bad —
 * then writes the message to @fd from its current offset. Attachments are
 * streamed from disk and base64-encoded on the way, so memory use does not
 * grow with their size. @fd is neither synced nor closed. The result has
 * path == NULL. Errors: POSTAGE_MAIL_ERROR_*; G_IO_ERROR_* when writing to
 * @fd fails (a full disk: G_IO_ERROR_NO_SPACE). */
PostageOutgoing *postage_message_write   (const PostageDraft *draft,
                                          int                 fd,
                                          GError            **error);
PostageOutgoing *postage_outgoing_copy   (const PostageOutgoing *outgoing);
void             postage_outgoing_free   (PostageOutgoing    *outgoing);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageOutgoing, postage_outgoing_free)

G_END_DECLS
