/* postage-providers.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Loaded once and never changed afterwards, so any thread may read it. The
 * file format is documented at the top of data/providers.desktop.in.
 */
#define G_LOG_DOMAIN "postage-providers"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "postage-providers.h"

/* Set by tests/meson.build and `meson devenv` to the merged copy in the build
 * folder, so an uninstalled Postage finds its list. */
#define PROVIDERS_ENV  "POSTAGE_PROVIDERS"
#define PROVIDERS_FILE "providers.ini"

struct _PostageProviders
{
  GPtrArray *items; /* PostageProvider* in file order */
};

static void
provider_free (PostageProvider *provider)
{
  g_free (provider->id);
  g_free (provider->name);
  g_strfreev (provider->domains);
  g_strfreev (provider->mx_suffixes);
  g_free (provider->host);
  g_free (provider->app_password_url);
  g_strfreev (provider->steps);
  g_free (provider->no_password_login);
  g_free (provider);
}

static gboolean
bad_value (GError     **error,
           const char  *group,
           const char  *key)
{
  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
               "Provider “%s”: missing or invalid %s", group, key);
  return FALSE;
}

/* Lower case, no trailing root dot: how DNS names are compared (RFC 4343). */
static char *
normalize_name (const char *name)
{
  g_autofree char *down = g_ascii_strdown (name, -1);
  gsize len = strlen (down);

  while (len > 0 && down[len - 1] == '.')
    down[--len] = '\0';
  return g_steal_pointer (&down);
}

/* Optional list: an absent key is an empty list, never an error. */
static GStrv
get_list (GKeyFile   *file,
          const char *group,
          const char *key,
          gboolean    translated)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) values = NULL;

  values = translated ? g_key_file_get_locale_string_list (file, group, key, NULL, NULL, NULL)
                      : g_key_file_get_string_list (file, group, key, NULL, NULL);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    {
      g_autofree char *value = g_strstrip (g_strdup (values[i]));

      if (*value == '\0')
        continue;
      if (!translated)
        {
          char *name = normalize_name (value);

          g_free (value);
          value = name;
        }
      g_strv_builder_add (builder, value);
    }
  return g_strv_builder_end (builder);
}

static char *
get_optional (GKeyFile   *file,
              const char *group,
              const char *key,
              gboolean    translated)
{
  g_autofree char *value = translated
                           ? g_key_file_get_locale_string (file, group, key, NULL, NULL)
                           : g_key_file_get_string (file, group, key, NULL);

  if (value == NULL || *g_strstrip (value) == '\0')
    return NULL;
  return g_steal_pointer (&value);
}

static gboolean
get_boolean (GKeyFile    *file,
             const char  *group,
             const char  *key,
             gboolean    *out_value,
             GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  *out_value = g_key_file_get_boolean (file, group, key, &local_error);
  if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
    *out_value = FALSE;
  else if (local_error != NULL)
    return bad_value (error, group, key);
  return TRUE;
}

static PostageProvider *
provider_from_group (GKeyFile    *file,
                     const char  *group,
                     GError     **error)
{
  PostageProvider *provider = g_new0 (PostageProvider, 1);
  g_autofree char *security = NULL;
  g_autofree char *user_form = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 port;

  provider->id = g_strdup (group);
  provider->name = get_optional (file, group, "Name", TRUE);
  provider->domains = get_list (file, group, "Domains", FALSE);
  provider->mx_suffixes = get_list (file, group, "MxSuffixes", FALSE);
  provider->host = get_optional (file, group, "Host", FALSE);
  provider->app_password_url = get_optional (file, group, "AppPasswordUrl", FALSE);
  provider->steps = get_list (file, group, "Steps", TRUE);
  provider->no_password_login = get_optional (file, group, "NoPasswordLogin", TRUE);
  security = get_optional (file, group, "Security", FALSE);
  user_form = get_optional (file, group, "User", FALSE);
  port = g_key_file_get_int64 (file, group, "Port", &local_error);

  if (provider->name == NULL)
    bad_value (error, group, "Name");
  else if (provider->domains[0] == NULL)
    bad_value (error, group, "Domains");
  else if (provider->host == NULL || strpbrk (provider->host, ":/ ") != NULL)
    bad_value (error, group, "Host");
  else if (local_error != NULL || port < 1 || port > G_MAXUINT16)
    bad_value (error, group, "Port");
  else if (security == NULL || !postage_security_from_string (security, &provider->security) ||
           (provider->security == POSTAGE_SECURITY_NONE &&
            !postage_host_is_loopback (provider->host)))
    bad_value (error, group, "Security");
  else if (user_form != NULL && strcmp (user_form, "email") != 0 &&
           strcmp (user_form, "local-part") != 0)
    bad_value (error, group, "User");
  else if (get_boolean (file, group, "AppPassword", &provider->app_password, error) &&
           get_boolean (file, group, "PinCertificate", &provider->pin_certificate, error))
    {
      provider->port = (guint16) port;
      provider->user_form = g_strcmp0 (user_form, "local-part") == 0
                            ? POSTAGE_PROVIDER_USER_LOCAL_PART
                            : POSTAGE_PROVIDER_USER_EMAIL;
      return provider;
    }
  provider_free (provider);
  return NULL;
}

/* A domain or MX suffix that two providers claim would make the answer depend
 * on the order of the file: refuse the file instead. */
static gboolean
check_unique (PostageProviders  *self,
              GError           **error)
{
  g_autoptr(GHashTable) domains = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) suffixes = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < self->items->len; i++)
    {
      PostageProvider *provider = g_ptr_array_index (self->items, i);

      for (guint j = 0; provider->domains[j] != NULL; j++)
        if (!g_hash_table_add (domains, provider->domains[j]))
          {
            g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                         "Provider “%s”: domain %s is claimed twice", provider->id,
                         provider->domains[j]);
            return FALSE;
          }
      for (guint j = 0; provider->mx_suffixes[j] != NULL; j++)
        if (!g_hash_table_add (suffixes, provider->mx_suffixes[j]))
          {
            g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                         "Provider “%s”: MX suffix %s is claimed twice", provider->id,
                         provider->mx_suffixes[j]);
            return FALSE;
          }
    }
  return TRUE;
}

PostageProviders *
postage_providers_load_file (const char  *path,
                             GError     **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(PostageProviders) self = NULL;
  g_auto(GStrv) groups = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, error))
    return NULL;
  self = g_new0 (PostageProviders, 1);
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) provider_free);
  groups = g_key_file_get_groups (file, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      PostageProvider *provider = provider_from_group (file, groups[i], error);

      if (provider == NULL)
        return NULL;
      g_ptr_array_add (self->items, provider);
    }
  if (!check_unique (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

PostageProviders *
postage_providers_load_default (GError **error)
{
  const char *path = g_getenv (PROVIDERS_ENV);
  g_autofree char *installed = NULL;

  if (path != NULL && *path != '\0')
    return postage_providers_load_file (path, error);
  installed = g_build_filename (PKGDATADIR, PROVIDERS_FILE, NULL);
  return postage_providers_load_file (installed, error);
}

void
postage_providers_free (PostageProviders *providers)
{
  if (providers == NULL)
    return;
  g_clear_pointer (&providers->items, g_ptr_array_unref);
  g_free (providers);
}

guint
postage_providers_get_n_items (PostageProviders *providers)
{
  g_return_val_if_fail (providers != NULL, 0);
  return providers->items->len;
}

const PostageProvider *
postage_providers_get_item (PostageProviders *providers,
                            guint             position)
{
  g_return_val_if_fail (providers != NULL, NULL);
  g_return_val_if_fail (position < providers->items->len, NULL);
  return g_ptr_array_index (providers->items, position);
}

const PostageProvider *
postage_providers_lookup_domain (PostageProviders *providers,
                                 const char       *domain)
{
  g_autofree char *name = NULL;
  const PostageProvider *wildcard = NULL;

  g_return_val_if_fail (providers != NULL, NULL);
  g_return_val_if_fail (domain != NULL, NULL);

  name = normalize_name (domain);
  /* An exact domain wins over a "*.parent" entry, whatever the order. */
  for (guint i = 0; i < providers->items->len; i++)
    {
      const PostageProvider *provider = g_ptr_array_index (providers->items, i);

      for (guint j = 0; provider->domains[j] != NULL; j++)
        {
          const char *entry = provider->domains[j];

          if (strcmp (entry, name) == 0)
            return provider;
          /* "*.onmicrosoft.com" matches "contoso.onmicrosoft.com", not the
           * parent itself: tenants get their own subdomain. */
          if (wildcard == NULL && g_str_has_prefix (entry, "*.") &&
              strlen (name) > strlen (entry) - 1 && g_str_has_suffix (name, entry + 1))
            wildcard = provider;
        }
    }
  return wildcard;
}

const PostageProvider *
postage_providers_lookup_mx (PostageProviders *providers,
                             const char       *mx_host)
{
  g_autofree char *name = NULL;
  const PostageProvider *best = NULL;
  gsize best_len = 0;

  g_return_val_if_fail (providers != NULL, NULL);
  g_return_val_if_fail (mx_host != NULL, NULL);

  name = normalize_name (mx_host);
  /* The longest suffix wins, so a specific one (mail.protection.outlook.com)
   * is never shadowed by a general one. Whole labels only: "evilgoogle.com"
   * is not Google's. */
  for (guint i = 0; i < providers->items->len; i++)
    {
      const PostageProvider *provider = g_ptr_array_index (providers->items, i);

      for (guint j = 0; provider->mx_suffixes[j] != NULL; j++)
        {
          const char *suffix = provider->mx_suffixes[j];
          gsize len = strlen (suffix);
          gsize name_len = strlen (name);
          gboolean match = strcmp (name, suffix) == 0 ||
                           (name_len > len && g_str_has_suffix (name, suffix) &&
                            name[name_len - len - 1] == '.');

          if (match && len > best_len)
            {
              best = provider;
              best_len = len;
            }
        }
    }
  return best;
}

char *
postage_provider_dup_user (const PostageProvider *provider,
                           const char            *email)
{
  const char *at;

  g_return_val_if_fail (provider != NULL, NULL);
  g_return_val_if_fail (email != NULL, NULL);

  /* The last @: a quoted local part may itself contain one (RFC 5321 §4.1.2). */
  at = strrchr (email, '@');
  if (provider->user_form == POSTAGE_PROVIDER_USER_LOCAL_PART && at != NULL)
    return g_strndup (email, at - email);
  return g_strdup (email);
}
