/* postage-draft.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "postage-draft.h"

PostageDraft *
postage_draft_new (void)
{
  PostageDraft *draft = g_new0 (PostageDraft, 1);

  draft->attachments = g_ptr_array_new_with_free_func (g_free);
  return draft;
}

PostageDraft *
postage_draft_copy (const PostageDraft *draft)
{
  PostageDraft *copy;

  g_return_val_if_fail (draft != NULL, NULL);

  copy = postage_draft_new ();
  copy->from_name = g_strdup (draft->from_name);
  copy->from_address = g_strdup (draft->from_address);
  copy->to = g_strdup (draft->to);
  copy->cc = g_strdup (draft->cc);
  copy->bcc = g_strdup (draft->bcc);
  copy->subject = g_strdup (draft->subject);
  copy->body = g_strdup (draft->body);
  for (guint i = 0; i < draft->attachments->len; i++)
    g_ptr_array_add (copy->attachments, g_strdup (g_ptr_array_index (draft->attachments, i)));
  return copy;
}

void
postage_draft_free (PostageDraft *draft)
{
  if (draft == NULL)
    return;
  g_free (draft->from_name);
  g_free (draft->from_address);
  g_free (draft->to);
  g_free (draft->cc);
  g_free (draft->bcc);
  g_free (draft->subject);
  g_free (draft->body);
  g_ptr_array_unref (draft->attachments);
  g_free (draft);
}
