/* postage-draft.h — what the person wrote, before it becomes a message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A plain struct: filled on the main thread (or by the command line), then
 * handed to postage_message_build(). Nothing about SMTP here.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char      *from_name;    /* display name, may be NULL */
  char      *from_address; /* bare address; also the envelope sender */
  char      *to;           /* comma-separated lists as typed */
  char      *cc;
  char      *bcc;
  char      *subject;
  char      *body;         /* UTF-8, any line ends */
  GPtrArray *attachments;  /* file paths (char *) */
} PostageDraft;

PostageDraft *postage_draft_new  (void);
PostageDraft *postage_draft_copy (const PostageDraft *draft);
void          postage_draft_free (PostageDraft       *draft);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageDraft, postage_draft_free)

G_END_DECLS
