/* postage-session-passwords.c — passwords kept for this session only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only. Every copy is wiped before it is freed.
 */
#define G_LOG_DOMAIN "postage-session-passwords"

#include "config.h"

#include <string.h>

#include "postage-session-passwords.h"
#include "postage-ui-private.h"

struct _PostageSessionPasswords
{
  GObject     parent_instance;

  /* owned: account id → password */
  GHashTable *passwords;
};

G_DEFINE_FINAL_TYPE (PostageSessionPasswords, postage_session_passwords, G_TYPE_OBJECT)

static void
wipe_free (gpointer data)
{
  char *secret = data;

  if (secret != NULL)
    {
      explicit_bzero (secret, strlen (secret));
      g_free (secret);
    }
}

static void
postage_session_passwords_finalize (GObject *object)
{
  PostageSessionPasswords *self = POSTAGE_SESSION_PASSWORDS (object);

  g_clear_pointer (&self->passwords, g_hash_table_unref);

  G_OBJECT_CLASS (postage_session_passwords_parent_class)->finalize (object);
}

static void
postage_session_passwords_class_init (PostageSessionPasswordsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = postage_session_passwords_finalize;
}

static void
postage_session_passwords_init (PostageSessionPasswords *self)
{
  self->passwords = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, wipe_free);
}

PostageSessionPasswords *
postage_session_passwords_new (void)
{
  return g_object_new (POSTAGE_TYPE_SESSION_PASSWORDS, NULL);
}

void
postage_session_passwords_set (PostageSessionPasswords *self,
                               const char              *account_id,
                               const char              *password)
{
  g_return_if_fail (POSTAGE_IS_SESSION_PASSWORDS (self));
  g_return_if_fail (account_id != NULL);

  if (password == NULL)
    g_hash_table_remove (self->passwords, account_id);
  else
    g_hash_table_replace (self->passwords, g_strdup (account_id), g_strdup (password));
}

const char *
postage_session_passwords_lookup (PostageSessionPasswords *self,
                                  const char              *account_id)
{
  g_return_val_if_fail (POSTAGE_IS_SESSION_PASSWORDS (self), NULL);
  g_return_val_if_fail (account_id != NULL, NULL);

  return g_hash_table_lookup (self->passwords, account_id);
}

void
postage_session_passwords_clear (PostageSessionPasswords *self)
{
  g_return_if_fail (POSTAGE_IS_SESSION_PASSWORDS (self));

  g_hash_table_remove_all (self->passwords);
}

char *
postage_session_passwords_dup_for_queue (const char *account_id,
                                         gpointer    user_data)
{
  g_return_val_if_fail (POSTAGE_IS_SESSION_PASSWORDS (user_data), NULL);

  return g_strdup (postage_session_passwords_lookup (user_data, account_id));
}
