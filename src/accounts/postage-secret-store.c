/* postage-secret-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Threads: *_sync from a worker thread or the command line; *_async on the
 * main thread. Nothing here logs a password, and every copy we make is wiped.
 */
#define G_LOG_DOMAIN "postage-secret-store"

#include "config.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>
#include <string.h>

#include "postage-secret-store.h"

#define PROTOCOL "smtp"

/* The common network-password form that GNOME Keyring, secret-tool and other
 * mail programs use. DONT_MATCH_NAME so entries stored by secret-tool, which
 * carry no schema name, are found too. */
static const SecretSchema network_schema = {
  "org.gnome.keyring.NetworkPassword", SECRET_SCHEMA_DONT_MATCH_NAME,
  {
    { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "protocol", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "port", SECRET_SCHEMA_ATTRIBUTE_INTEGER },
    { NULL, 0 },
  }
};

/* msmtp's documented secret-tool entry: host, service = smtp, user. */
static const SecretSchema msmtp_schema = {
  "de.marlam.msmtp.password", SECRET_SCHEMA_DONT_MATCH_NAME,
  {
    { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  }
};

/* Any failure to talk to the Secret Service becomes one sentence that says
 * what to do; the D-Bus details go to the debug log only. */
static void
set_keyring_error (GError **error,
                   GError  *cause)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_error_copy (cause));
      return;
    }
  g_debug ("Secret Service error: %s", cause->message);
  g_set_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_KEYRING,
               _("The system keyring is not available or is locked (%s). Start or unlock "
                 "GNOME Keyring (or another Secret Service) and try again."),
               cause->message);
}

static char *
make_label (PostageAccount *account)
{
  /* Translators: the label of the keyring entry; %s is user@host */
  return g_strdup_printf (_("Postage SMTP password for %s@%s"),
                          postage_account_get_user (account),
                          postage_account_get_host (account));
}

gboolean
postage_secret_store_save_sync (PostageAccount  *account,
                                const char      *password,
                                GCancellable    *cancellable,
                                GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *label = NULL;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (password != NULL, FALSE);

  label = make_label (account);
  if (!secret_password_store_sync (&network_schema, SECRET_COLLECTION_DEFAULT, label, password,
                                   cancellable, &local_error,
                                   "user", postage_account_get_user (account),
                                   "server", postage_account_get_host (account),
                                   "protocol", PROTOCOL,
                                   "port", (int) postage_account_get_port (account),
                                   NULL))
    {
      set_keyring_error (error, local_error);
      return FALSE;
    }
  return TRUE;
}

static void
store_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GError) error = NULL;

  if (!secret_password_store_finish (result, &local_error))
    {
      set_keyring_error (&error, local_error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
postage_secret_store_save_async (PostageAccount      *account,
                                 const char          *password,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *label = NULL;

  g_return_if_fail (POSTAGE_IS_ACCOUNT (account));
  g_return_if_fail (password != NULL);

  task = g_task_new (account, cancellable, callback, user_data);
  g_task_set_source_tag (task, postage_secret_store_save_async);
  label = make_label (account);
  secret_password_store (&network_schema, SECRET_COLLECTION_DEFAULT, label, password,
                         cancellable, store_cb, g_steal_pointer (&task),
                         "user", postage_account_get_user (account),
                         "server", postage_account_get_host (account),
                         "protocol", PROTOCOL,
                         "port", (int) postage_account_get_port (account),
                         NULL);
}

gboolean
postage_secret_store_save_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* An smtp entry for user@server with no port (as `secret-tool store` makes
 * them) matches any port; one made for another port is another account's
 * and must never be used here. */
static char *
lookup_portless (const char    *host,
                 guint16        port,
                 const char    *user,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autofree char *wanted = g_strdup_printf ("%u", port);
  GList *items;
  char *password = NULL;

  items = secret_password_search_sync (&network_schema,
                                       SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK,
                                       cancellable, error, "user", user, "server", host,
                                       "protocol", PROTOCOL, NULL);
  for (GList *l = items; l != NULL && password == NULL; l = l->next)
    {
      g_autoptr(GHashTable) attributes = secret_retrievable_get_attributes (l->data);
      const char *item_port = g_hash_table_lookup (attributes, "port");
      SecretValue *value;

      if (item_port != NULL && g_strcmp0 (item_port, wanted) != 0)
        continue;
      value = secret_retrievable_retrieve_secret_sync (l->data, cancellable, error);
      if (value == NULL)
        break;
      password = secret_value_unref_to_password (value, NULL);
    }
  g_list_free_full (items, g_object_unref);
  return password;
}

char *
postage_secret_store_lookup_sync (const char    *host,
                                  guint16        port,
                                  const char    *user,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  char *password;

  g_return_val_if_fail (host != NULL && user != NULL, NULL);

  /* Most specific first: our own entry with the port; then any smtp entry for
   * user@server (made by secret-tool without a port); then msmtp's. */
  password = secret_password_lookup_nonpageable_sync (&network_schema, cancellable, &local_error,
                                                      "user", user, "server", host,
                                                      "protocol", PROTOCOL, "port", (int) port,
                                                      NULL);
  if (password == NULL && local_error == NULL)
    password = lookup_portless (host, port, user, cancellable, &local_error);
  if (password == NULL && local_error == NULL)
    password = secret_password_lookup_nonpageable_sync (&msmtp_schema, cancellable, &local_error,
                                                        "host", host, "service", PROTOCOL,
                                                        "user", user, NULL);
  if (local_error != NULL)
    {
      set_keyring_error (error, local_error);
      return NULL;
    }
  if (password == NULL)
    g_set_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_PASSWORD,
                 _("No password for %s on %s was found in the keyring. If the keyring is "
                   "locked, unlock it and try again; otherwise add the account again with "
                   "its password."), user, host);
  return password;
}

gboolean
postage_secret_store_clear_sync (PostageAccount  *account,
                                 GCancellable    *cancellable,
                                 GError         **error)
{
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (account), FALSE);

  secret_password_clear_sync (&network_schema, cancellable, &local_error,
                              "user", postage_account_get_user (account),
                              "server", postage_account_get_host (account),
                              "protocol", PROTOCOL,
                              "port", (int) postage_account_get_port (account),
                              NULL);
  if (local_error != NULL)
    {
      set_keyring_error (error, local_error);
      return FALSE;
    }
  return TRUE;
}

void
postage_secret_free (char *secret)
{
  /* secret_password_free wipes before freeing, and handles the non-pageable
   * memory that the lookups above return. Our own copies come from
   * secret_password_... too, or go through this with the same guarantee. */
  secret_password_free (secret);
}
