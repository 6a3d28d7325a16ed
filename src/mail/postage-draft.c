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
  copy->account_id = g_strdup (draft->account_id);
  copy->from_name = g_strdup (draft->from_name);
  copy->from_address = g_strdup (draft->from_address);
  copy->to = g_strdup (draft->to);
  copy->cc = g_strdup (draft->cc);
  copy->bcc = g_strdup (draft->bcc);
  copy->reply_to = g_strdup (draft->reply_to);
  copy->in_reply_to = g_strdup (draft->in_reply_to);
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
  g_free (draft->account_id);
  g_free (draft->from_name);
  g_free (draft->from_address);
  g_free (draft->to);
  g_free (draft->cc);
  g_free (draft->bcc);
  g_free (draft->reply_to);
  g_free (draft->in_reply_to);
  g_free (draft->subject);
  g_free (draft->body);
  g_ptr_array_unref (draft->attachments);
  g_free (draft);
}

static gboolean
is_blank (const char *text)
{
  for (const char *p = text; p != NULL && *p != '\0'; p++)
    if (!g_ascii_isspace (*p))
      return FALSE;
  return TRUE;
}

/* The account and From are not something the person wrote. */
gboolean
postage_draft_is_empty (const PostageDraft *draft)
{
  g_return_val_if_fail (draft != NULL, TRUE);

  return is_blank (draft->to) && is_blank (draft->cc) && is_blank (draft->bcc) &&
         is_blank (draft->reply_to) && is_blank (draft->subject) && is_blank (draft->body) &&
         draft->attachments->len == 0;
}

/* The string fields, by their keyfile key. */
#define DRAFT_FIELDS(draft) \
  { "account", &(draft)->account_id }, \
  { "from-name", &(draft)->from_name }, \
  { "from-address", &(draft)->from_address }, \
  { "to", &(draft)->to }, \
  { "cc", &(draft)->cc }, \
  { "bcc", &(draft)->bcc }, \
  { "reply-to", &(draft)->reply_to }, \
  { "in-reply-to", &(draft)->in_reply_to }, \
  { "subject", &(draft)->subject }, \
  { "body", &(draft)->body }

typedef struct {
  const char  *key;
  char       **value;
} Field;

void
postage_draft_to_keyfile (const PostageDraft *draft,
                          GKeyFile           *keyfile,
                          const char         *group)
{
  PostageDraft *mutable = (PostageDraft *) draft;
  const Field fields[] = { DRAFT_FIELDS (mutable) };
  g_autoptr(GPtrArray) uris = g_ptr_array_new_with_free_func (g_free);

  g_return_if_fail (draft != NULL);
  g_return_if_fail (keyfile != NULL);

  g_key_file_remove_group (keyfile, group, NULL);
  /* GKeyFile escapes \n, \r, \t and \\ in values, so the text comes back
   * byte for byte; an unset field is left out, not written empty. */
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    if (*fields[i].value != NULL)
      g_key_file_set_string (keyfile, group, fields[i].key, *fields[i].value);
  /* File names need not be UTF-8, and a keyfile value must be: URIs are. */
  for (guint i = 0; i < draft->attachments->len; i++)
    {
      char *uri = g_filename_to_uri (g_ptr_array_index (draft->attachments, i), NULL, NULL);

      if (uri != NULL)
        g_ptr_array_add (uris, uri);
    }
  /* Always, even empty: a draft with nothing set must still have its
   * group, or it would read back as "no draft here". */
  g_key_file_set_string_list (keyfile, group, "attachments",
                              (const char * const *) uris->pdata, uris->len);
}

PostageDraft *
postage_draft_from_keyfile (GKeyFile    *keyfile,
                            const char  *group,
                            GError     **error)
{
  g_autoptr(PostageDraft) draft = postage_draft_new ();
  const Field fields[] = { DRAFT_FIELDS (draft) };
  g_auto(GStrv) uris = NULL;

  g_return_val_if_fail (keyfile != NULL, NULL);

  if (!g_key_file_has_group (keyfile, group))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                   "no [%s] group", group);
      return NULL;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autoptr(GError) local_error = NULL;

      *fields[i].value = g_key_file_get_string (keyfile, group, fields[i].key, &local_error);
      if (local_error != NULL &&
          !g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  uris = g_key_file_get_string_list (keyfile, group, "attachments", NULL, NULL);
  for (guint i = 0; uris != NULL && uris[i] != NULL; i++)
    {
      char *path = g_filename_from_uri (uris[i], NULL, NULL);

      if (path != NULL)
        g_ptr_array_add (draft->attachments, path);
    }
  return g_steal_pointer (&draft);
}
