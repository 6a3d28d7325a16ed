/* postage-draft.h — what the person wrote, before it becomes a message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A plain struct: filled on the main thread (or by the command line), then
 * handed to postage_message_write(). Nothing about SMTP here.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char      *account_id;   /* which account sends it; may be NULL before one is chosen */
  char      *from_name;    /* display name, may be NULL */
  char      *from_address; /* bare address; also the envelope sender */
  char      *to;           /* comma-separated lists as typed */
  char      *cc;
  char      *bcc;
  char      *reply_to;     /* optional Reply-To list, as typed */
  char      *in_reply_to;  /* optional "<id@host>" of the message answered (mailto: in-reply-to) */
  char      *subject;
  char      *body;         /* UTF-8, any line ends */
  GPtrArray *attachments;  /* file paths (char *) */
} PostageDraft;

PostageDraft *postage_draft_new          (void);
PostageDraft *postage_draft_copy         (const PostageDraft *draft);
void          postage_draft_free         (PostageDraft       *draft);
gboolean      postage_draft_is_empty     (const PostageDraft *draft); /* nothing typed or attached */

/* One keyfile group holds every field, exactly (body and names byte for byte,
 * attachments as paths). Used by the draft store and by the outbox sidecar so
 * that a queued or failed message can be opened again for editing. */
void          postage_draft_to_keyfile   (const PostageDraft *draft,
                                          GKeyFile           *keyfile,
                                          const char         *group);
/* Errors: G_KEY_FILE_ERROR_* when the group is missing or not UTF-8. */
PostageDraft *postage_draft_from_keyfile (GKeyFile           *keyfile,
                                          const char         *group,
                                          GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageDraft, postage_draft_free)

G_END_DECLS
