/* postage-account-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only.
 */
#define G_LOG_DOMAIN "postage-account-store"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <string.h>

#include "postage-account-store.h"

#define GROUP "Account"
#define SUFFIX ".account"

struct _PostageAccountStore
{
  GObject parent_instance;

  GListStore *accounts;
  char       *folder;
};

G_DEFINE_FINAL_TYPE (PostageAccountStore, postage_account_store, G_TYPE_OBJECT)

static int
compare_accounts (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  return g_strcmp0 (postage_account_get_id ((PostageAccount *) a),
                    postage_account_get_id ((PostageAccount *) b));
}

/* g_ptr_array_sort_values_with_data is GLib 2.76; this is its 2.74 shape. */
static int
compare_account_ptrs (gconstpointer a,
                      gconstpointer b,
                      gpointer      user_data)
{
  return compare_accounts (*(gpointer *) a, *(gpointer *) b, user_data);
}

static char *
account_path (PostageAccountStore *self,
              const char          *id)
{
  g_autofree char *name = g_strconcat (id, SUFFIX, NULL);

  return g_build_filename (self->folder, name, NULL);
}

static gboolean
find_account (PostageAccountStore *self,
              const char          *id,
              guint               *position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PostageAccount) account = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);

      if (g_strcmp0 (postage_account_get_id (account), id) == 0)
        {
          *position = i;
          return TRUE;
        }
    }
  return FALSE;
}

/* Keys are the account's property names, so the file reads like the CLI flags. */
static PostageAccount *
account_from_keyfile (const char  *id,
                      GKeyFile    *keyfile,
                      GError     **error)
{
  static const char * const string_keys[] = { "display-name", "email", "host", "ca-file",
                                               "fingerprint" };
  g_autoptr(PostageAccount) account = postage_account_new (id);
  g_autofree char *security = g_key_file_get_string (keyfile, GROUP, "security", NULL);
  PostageSecurity mode = POSTAGE_SECURITY_STARTTLS;
  gint port;

  for (guint i = 0; i < G_N_ELEMENTS (string_keys); i++)
    {
      g_autofree char *value = g_key_file_get_string (keyfile, GROUP, string_keys[i], NULL);

      g_object_set (account, string_keys[i], value, NULL);
    }
  /* An absent user means "the email address"; a present, empty one means no AUTH. */
  if (g_key_file_has_key (keyfile, GROUP, "user", NULL))
    {
      g_autofree char *user = g_key_file_get_string (keyfile, GROUP, "user", NULL);

      postage_account_set_user (account, user != NULL ? user : "");
    }
  if (security != NULL && !postage_security_from_string (security, &mode))
    {
      g_set_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID,
                   "unknown security “%s”", security);
      return NULL;
    }
  postage_account_set_security (account, mode);
  port = g_key_file_get_integer (keyfile, GROUP, "port", NULL);
  postage_account_set_port (account, port > 0 && port <= G_MAXUINT16
                                     ? (guint16) port : postage_security_default_port (mode));
  postage_account_set_size_limit (account,
                                  g_key_file_get_uint64 (keyfile, GROUP, "size-limit", NULL));
  if (!postage_account_validate (account, error))
    return NULL;
  return g_steal_pointer (&account);
}

static GKeyFile *
account_to_keyfile (PostageAccount *account)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  const char *display_name = postage_account_get_display_name (account);
  const char *ca_file = postage_account_get_ca_file (account);
  const char *fingerprint = postage_account_get_fingerprint (account);
  g_autofree char *user = NULL;

  g_object_get (account, "user", &user, NULL);
  if (display_name != NULL)
    g_key_file_set_string (keyfile, GROUP, "display-name", display_name);
  g_key_file_set_string (keyfile, GROUP, "email", postage_account_get_email (account));
  g_key_file_set_string (keyfile, GROUP, "host", postage_account_get_host (account));
  g_key_file_set_integer (keyfile, GROUP, "port", postage_account_get_port (account));
  g_key_file_set_string (keyfile, GROUP, "security",
                         postage_security_to_string (postage_account_get_security (account)));
  if (user != NULL)
    g_key_file_set_string (keyfile, GROUP, "user", user);
  if (ca_file != NULL)
    g_key_file_set_string (keyfile, GROUP, "ca-file", ca_file);
  if (fingerprint != NULL)
    g_key_file_set_string (keyfile, GROUP, "fingerprint", fingerprint);
  if (postage_account_get_size_limit (account) > 0)
    g_key_file_set_uint64 (keyfile, GROUP, "size-limit", postage_account_get_size_limit (account));
  return g_steal_pointer (&keyfile);
}

static void
postage_account_store_finalize (GObject *object)
{
  PostageAccountStore *self = (PostageAccountStore *) object;

  g_clear_object (&self->accounts);
  g_clear_pointer (&self->folder, g_free);

  G_OBJECT_CLASS (postage_account_store_parent_class)->finalize (object);
}

static void
postage_account_store_class_init (PostageAccountStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = postage_account_store_finalize;
}

static void
postage_account_store_init (PostageAccountStore *self)
{
  self->accounts = g_list_store_new (POSTAGE_TYPE_ACCOUNT);
  self->folder = g_build_filename (g_get_user_config_dir (), "postage", "accounts", NULL);
}

PostageAccountStore *
postage_account_store_new (void)
{
  return g_object_new (POSTAGE_TYPE_ACCOUNT_STORE, NULL);
}

gboolean
postage_account_store_load (PostageAccountStore  *self,
                            GError              **error)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) loaded = g_ptr_array_new_with_free_func (g_object_unref);
  const char *name;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (self), FALSE);

  dir = g_dir_open (self->folder, 0, &local_error);
  if (dir == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_list_store_remove_all (self->accounts);
          return TRUE;
        }
      g_set_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_IO,
                   _("Could not read the accounts folder: %s"), local_error->message);
      return FALSE;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *id = NULL;
      g_autoptr(GKeyFile) keyfile = g_key_file_new ();
      g_autoptr(GError) file_error = NULL;
      PostageAccount *account;

      if (!g_str_has_suffix (name, SUFFIX) || name[0] == '.')
        continue;
      id = g_strndup (name, strlen (name) - strlen (SUFFIX));
      path = g_build_filename (self->folder, name, NULL);
      if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &file_error) ||
          (account = account_from_keyfile (id, keyfile, &file_error)) == NULL)
        {
          g_warning ("Failed to load account %s: %s", path, file_error->message);
          continue;
        }
      g_ptr_array_add (loaded, account);
    }

  g_ptr_array_sort_with_data (loaded, compare_account_ptrs, NULL);
  g_list_store_splice (self->accounts, 0, g_list_model_get_n_items (G_LIST_MODEL (self->accounts)),
                       loaded->pdata, loaded->len);
  return TRUE;
}

GListModel *
postage_account_store_get_model (PostageAccountStore *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (self), NULL);
  return G_LIST_MODEL (self->accounts);
}

PostageAccount *
postage_account_store_lookup (PostageAccountStore *self,
                              const char          *id)
{
  g_autoptr(PostageAccount) account = NULL;
  guint position;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (self), NULL);

  if (id == NULL || !find_account (self, id, &position))
    return NULL;
  account = g_list_model_get_item (G_LIST_MODEL (self->accounts), position);
  return account; /* the list keeps its own reference */
}

PostageAccount *
postage_account_store_get_default (PostageAccountStore *self)
{
  g_autoptr(PostageAccount) account = NULL;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (self), NULL);

  account = g_list_model_get_item (G_LIST_MODEL (self->accounts), 0);
  return account; /* borrowed: the list keeps its own reference */
}

static gboolean
write_account (PostageAccountStore  *self,
               PostageAccount       *account,
               GError              **error)
{
  g_autoptr(GKeyFile) keyfile = account_to_keyfile (account);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = account_path (self, postage_account_get_id (account));
  g_autofree char *data = NULL;
  gsize length;

  data = g_key_file_to_data (keyfile, &length, NULL);
  /* g_file_set_contents_full writes a temporary file, fsyncs and renames it,
   * so a crash never leaves a half-written account behind. */
  if (g_mkdir_with_parents (self->folder, 0700) != 0 ||
      !g_file_set_contents_full (path, data, length, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &local_error))
    {
      g_set_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_IO,
                   _("Could not save the account to %s: %s"), path,
                   local_error != NULL ? local_error->message : g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
postage_account_store_save (PostageAccountStore  *self,
                            PostageAccount       *account,
                            GError              **error)
{
  guint position;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (account), FALSE);

  if (!postage_account_validate (account, error) || !write_account (self, account, error))
    return FALSE;

  if (find_account (self, postage_account_get_id (account), &position))
    g_list_store_splice (self->accounts, position, 1, (gpointer *) &account, 1);
  else
    g_list_store_insert_sorted (self->accounts, account, compare_accounts, NULL);
  return TRUE;
}

gboolean
postage_account_store_remember_size_limit (PostageAccountStore  *self,
                                           const char           *id,
                                           guint64               limit,
                                           GError              **error)
{
  PostageAccount *account;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (self), FALSE);

  if ((account = postage_account_store_lookup (self, id)) == NULL ||
      postage_account_get_size_limit (account) == limit)
    return TRUE;
  /* In place, not through save(): the account stays the same object, so
   * whatever shows or selects it is not disturbed. */
  postage_account_set_size_limit (account, limit);
  return write_account (self, account, error);
}

gboolean
postage_account_store_shares_secret (PostageAccountStore *self,
                                     PostageAccount      *account,
                                     const char          *except_id)
{
  GListModel *model;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (account), FALSE);

  model = G_LIST_MODEL (self->accounts);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PostageAccount) other = g_list_model_get_item (model, i);

      if (g_strcmp0 (postage_account_get_id (other), except_id) != 0 &&
          g_strcmp0 (postage_account_get_user (other), postage_account_get_user (account)) == 0 &&
          g_strcmp0 (postage_account_get_host (other), postage_account_get_host (account)) == 0 &&
          postage_account_get_port (other) == postage_account_get_port (account))
        return TRUE;
    }
  return FALSE;
}

gboolean
postage_account_store_remove (PostageAccountStore  *self,
                              const char           *id,
                              GError              **error)
{
  g_autofree char *path = NULL;
  guint position;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (self), FALSE);

  if (id == NULL || !find_account (self, id, &position))
    {
      g_set_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NOT_FOUND,
                   _("There is no account named “%s”."), id != NULL ? id : "");
      return FALSE;
    }
  path = account_path (self, id);
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_set_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_IO,
                   _("Could not remove %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  g_list_store_remove (self->accounts, position);
  return TRUE;
}
