/* postage-draft-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Any thread, one at a time per store (the window uses it from the main
 * thread only); the store itself is just two immutable paths.
 */
#define G_LOG_DOMAIN "postage-drafts"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "postage-draft-store.h"
#include "postage-outbox.h"
#include "postage-store-private.h"

#define SUFFIX  ".draft"
#define G_DRAFT "Draft"
#define G_LINK  "Link"

struct _PostageDraftStore
{
  GObject  parent_instance;
  char    *dir;
  char    *discarded_dir;
};

G_DEFINE_FINAL_TYPE (PostageDraftStore, postage_draft_store, G_TYPE_OBJECT)

static void
postage_draft_store_finalize (GObject *object)
{
  PostageDraftStore *store = POSTAGE_DRAFT_STORE (object);

  g_free (store->dir);
  g_free (store->discarded_dir);

  G_OBJECT_CLASS (postage_draft_store_parent_class)->finalize (object);
}

static void
postage_draft_store_class_init (PostageDraftStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = postage_draft_store_finalize;
}

static void
postage_draft_store_init (PostageDraftStore *store)
{
}

PostageDraftStore *
postage_draft_store_new (const char *root)
{
  PostageDraftStore *store = g_object_new (POSTAGE_TYPE_DRAFT_STORE, NULL);
  g_autofree char *base = root != NULL ? g_strdup (root)
                                       : g_build_filename (g_get_user_data_dir (), "postage",
                                                           NULL);

  store->dir = g_build_filename (base, "drafts", NULL);
  store->discarded_dir = g_build_filename (store->dir, "discarded", NULL);
  return store;
}

char *
postage_draft_store_new_id (PostageDraftStore *store)
{
  g_return_val_if_fail (POSTAGE_IS_DRAFT_STORE (store), NULL);

  return _postage_store_new_id ();
}

static char *
draft_path (const char *dir,
            const char *id)
{
  g_autofree char *name = g_strconcat (id, SUFFIX, NULL);

  return g_build_filename (dir, name, NULL);
}

static gboolean
check_id (const char  *id,
          GError     **error)
{
  /* Same alphabet as outbox IDs: a name, never a path. */
  if (postage_outbox_id_is_valid (id))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME, _("There is no draft %s."), id);
  return FALSE;
}

static GKeyFile *
load (PostageDraftStore  *store,
      const char         *id,
      GError            **error)
{
  g_autofree char *path = NULL;

  if (!check_id (id, error))
    return NULL;
  path = draft_path (store->dir, id);
  return _postage_store_load_keyfile (path, error);
}

gboolean
postage_draft_store_save (PostageDraftStore   *store,
                          const char          *id,
                          const PostageDraft  *draft,
                          GError             **error)
{
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autofree char *path = NULL;

  g_return_val_if_fail (POSTAGE_IS_DRAFT_STORE (store), FALSE);
  g_return_val_if_fail (draft != NULL, FALSE);

  if (!check_id (id, error))
    return FALSE;
  /* The link survives a save: it is about where the message went. */
  if ((keyfile = load (store, id, NULL)) == NULL)
    keyfile = g_key_file_new ();
  postage_draft_to_keyfile (draft, keyfile, G_DRAFT);
  path = draft_path (store->dir, id);
  return _postage_store_write_keyfile (keyfile, path, error);
}

PostageDraft *
postage_draft_store_load (PostageDraftStore  *store,
                          const char         *id,
                          GError            **error)
{
  g_autoptr(GKeyFile) keyfile = NULL;

  g_return_val_if_fail (POSTAGE_IS_DRAFT_STORE (store), NULL);

  if ((keyfile = load (store, id, error)) == NULL)
    return NULL;
  return postage_draft_from_keyfile (keyfile, G_DRAFT, error);
}

gboolean
postage_draft_store_link (PostageDraftStore  *store,
                          const char         *id,
                          const char         *outbox_id,
                          GError            **error)
{
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autofree char *path = NULL;

  g_return_val_if_fail (POSTAGE_IS_DRAFT_STORE (store), FALSE);

  if ((keyfile = load (store, id, error)) == NULL)
    return FALSE;
  if (outbox_id != NULL)
    g_key_file_set_string (keyfile, G_LINK, "outbox", outbox_id);
  else
    g_key_file_remove_group (keyfile, G_LINK, NULL);
  path = draft_path (store->dir, id);
  return _postage_store_write_keyfile (keyfile, path, error);
}

char *
postage_draft_store_dup_link (PostageDraftStore *store,
                              const char        *id)
{
  g_autoptr(GKeyFile) keyfile = NULL;

  g_return_val_if_fail (POSTAGE_IS_DRAFT_STORE (store), NULL);

  if ((keyfile = load (store, id, NULL)) == NULL)
    return NULL;
  return g_key_file_get_string (keyfile, G_LINK, "outbox", NULL);
}

typedef struct {
  char   *id;
  gint64  mtime;
} Listed;

static gint
compare_listed (gconstpointer a,
                gconstpointer b)
{
  const Listed *x = a;
  const Listed *y = b;

  if (x->mtime != y->mtime)
    return x->mtime > y->mtime ? -1 : 1;
  return strcmp (y->id, x->id);
}

GStrv
postage_draft_store_list (PostageDraftStore *store)
{
  g_autoptr(GArray) listed = g_array_new (FALSE, FALSE, sizeof (Listed));
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_return_val_if_fail (POSTAGE_IS_DRAFT_STORE (store), NULL);

  if ((dir = g_dir_open (store->dir, 0, NULL)) != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = NULL;
        GStatBuf info;
        Listed item;

        if (!g_str_has_suffix (name, SUFFIX))
          continue;
        item.id = g_strndup (name, strlen (name) - strlen (SUFFIX));
        path = draft_path (store->dir, item.id);
        if (!postage_outbox_id_is_valid (item.id) || g_stat (path, &info) != 0)
          {
            g_free (item.id);
            continue;
          }
        item.mtime = info.st_mtime;
        g_array_append_val (listed, item);
      }
  g_array_sort (listed, compare_listed);
  for (guint i = 0; i < listed->len; i++)
    {
      g_strv_builder_add (ids, g_array_index (listed, Listed, i).id);
      g_free (g_array_index (listed, Listed, i).id);
    }
  return g_strv_builder_end (ids);
}

static gboolean
move_draft (const char  *from_dir,
            const char  *to_dir,
            const char  *id,
            GError     **error)
{
  g_autofree char *from = draft_path (from_dir, id);
  g_autofree char *to = draft_path (to_dir, id);

  if (g_mkdir_with_parents (to_dir, 0700) != 0 || g_rename (from, to) != 0)
    {
      return _postage_store_set_errno (error, errno, from);
    }
  return TRUE;
}

gboolean
postage_draft_store_discard (PostageDraftStore  *store,
                             const char         *id,
                             GError            **error)
{
  g_return_val_if_fail (POSTAGE_IS_DRAFT_STORE (store), FALSE);

  return check_id (id, error) && move_draft (store->dir, store->discarded_dir, id, error);
}

gboolean
postage_draft_store_restore (PostageDraftStore  *store,
                             const char         *id,
                             GError            **error)
{
  g_return_val_if_fail (POSTAGE_IS_DRAFT_STORE (store), FALSE);

  return check_id (id, error) && move_draft (store->discarded_dir, store->dir, id, error);
}

gboolean
postage_draft_store_delete (PostageDraftStore  *store,
                            const char         *id,
                            GError            **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (POSTAGE_IS_DRAFT_STORE (store), FALSE);

  if (!check_id (id, error))
    return FALSE;
  path = draft_path (store->dir, id);
  if (g_unlink (path) != 0 && errno != ENOENT)
    return _postage_store_set_errno (error, errno, path);
  return TRUE;
}

void
postage_draft_store_forget_outbox (PostageDraftStore *store,
                                   const char        *outbox_id)
{
  g_auto(GStrv) ids = NULL;

  g_return_if_fail (POSTAGE_IS_DRAFT_STORE (store));
  g_return_if_fail (outbox_id != NULL);

  ids = postage_draft_store_list (store);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *link = postage_draft_store_dup_link (store, ids[i]);

      if (g_strcmp0 (link, outbox_id) == 0)
        postage_draft_store_delete (store, ids[i], NULL);
    }
}

void
postage_draft_store_purge_discarded (PostageDraftStore *store)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_return_if_fail (POSTAGE_IS_DRAFT_STORE (store));

  if ((dir = g_dir_open (store->discarded_dir, 0, NULL)) == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, SUFFIX))
      {
        g_autofree char *path = g_build_filename (store->discarded_dir, name, NULL);

        g_unlink (path);
      }
}
