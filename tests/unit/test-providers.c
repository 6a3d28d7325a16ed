/* test-providers.c — the shipped provider list and its lookups
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads the merged build copy of data/providers.ini ($POSTAGE_PROVIDERS, set
 * by tests/meson.build) and small files in tests/unit/data/.
 */
#include "config.h"

#include <string.h>
#include "accounts/postage-providers.h"

static PostageProviders *
load_default (void)
{
  g_autoptr(GError) error = NULL;
  PostageProviders *providers = postage_providers_load_default (&error);

  g_assert_no_error (error);
  g_assert_nonnull (providers);
  return providers;
}

static const PostageProvider *
by_id (PostageProviders *providers,
       const char       *id)
{
  for (guint i = 0; i < postage_providers_get_n_items (providers); i++)
    {
      const PostageProvider *provider = postage_providers_get_item (providers, i);

      if (g_strcmp0 (provider->id, id) == 0)
        return provider;
    }
  g_error ("no provider %s", id);
  return NULL;
}

static void
test_load (void)
{
  g_autoptr(PostageProviders) providers = load_default ();
  const char *required[] = { "icloud", "gmail", "yahoo", "aol", "outlook", "microsoft365",
                             "fastmail", "zoho", "gmx", "web-de", "mailcom", "mailbox-org",
                             "posteo", "yandex", "protonbridge" };
  const PostageProvider *p;

  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    {
      p = by_id (providers, required[i]);
      g_assert_nonnull (p->name);
      g_assert_nonnull (p->host);
      g_assert_cmpuint (p->port, >, 0);
      g_assert_nonnull (p->domains[0]);
      /* Whoever needs an app password is told where and how to make it. */
      if (p->app_password)
        {
          g_assert_true (g_str_has_prefix (p->app_password_url, "https://"));
          g_assert_cmpuint (g_strv_length (p->steps), >=, 2);
          g_assert_cmpuint (g_strv_length (p->steps), <=, 3);
        }
    }

  p = by_id (providers, "icloud");
  g_assert_cmpstr (p->host, ==, "smtp.mail.me.com");
  g_assert_cmpuint (p->port, ==, 587);
  g_assert_cmpint (p->security, ==, POSTAGE_SECURITY_STARTTLS);
  g_assert_true (p->app_password);
  g_assert_null (p->no_password_login);

  p = by_id (providers, "gmail");
  g_assert_cmpstr (p->host, ==, "smtp.gmail.com");
  g_assert_true (p->app_password);

  /* Consumer Outlook.com: no password sign-in at all, said plainly. */
  p = by_id (providers, "outlook");
  g_assert_nonnull (p->no_password_login);
  g_assert_nonnull (strstr (p->no_password_login, "password"));

  /* Microsoft 365: SMTP AUTH is the administrator's decision. */
  p = by_id (providers, "microsoft365");
  g_assert_null (p->no_password_login);
  g_assert_nonnull (strstr (p->steps[0], "administrator"));

  p = by_id (providers, "protonbridge");
  g_assert_cmpstr (p->host, ==, "127.0.0.1");
  g_assert_cmpuint (p->port, ==, 1025);
  g_assert_cmpint (p->security, ==, POSTAGE_SECURITY_STARTTLS);
  g_assert_true (p->pin_certificate);
}

static void
test_every_domain (void)
{
  g_autoptr(PostageProviders) providers = load_default ();

  for (guint i = 0; i < postage_providers_get_n_items (providers); i++)
    {
      const PostageProvider *p = postage_providers_get_item (providers, i);

      for (guint j = 0; p->domains[j] != NULL; j++)
        {
          const char *domain = p->domains[j];
          g_autofree char *name = g_str_has_prefix (domain, "*.")
                                  ? g_strconcat ("tenant", domain + 1, NULL)
                                  : g_strdup (domain);
          g_autofree char *upper = g_ascii_strup (name, -1);
          g_autofree char *dotted = g_strconcat (name, ".", NULL);

          g_assert_true (postage_providers_lookup_domain (providers, name) == p);
          g_assert_true (postage_providers_lookup_domain (providers, upper) == p);
          g_assert_true (postage_providers_lookup_domain (providers, dotted) == p);
        }
    }
  g_assert_null (postage_providers_lookup_domain (providers, "example.test"));
  g_assert_null (postage_providers_lookup_domain (providers, "evil-icloud.com"));
  g_assert_null (postage_providers_lookup_domain (providers, "icloud.com.evil.test"));
  g_assert_null (postage_providers_lookup_domain (providers, "mail.icloud.com"));
  /* A wildcard covers subdomains only. */
  g_assert_null (postage_providers_lookup_domain (providers, "onmicrosoft.com"));
}

static void
test_mx (void)
{
  g_autoptr(PostageProviders) providers = load_default ();
  static const struct { const char *mx; const char *id; } cases[] = {
    { "aspmx.l.google.com", "gmail" },
    { "ALT1.ASPMX.L.GOOGLE.COM.", "gmail" },
    { "smtp.google.com", "gmail" },
    { "gmail-smtp-in.l.google.com", "gmail" },
    { "contoso-com.mail.protection.outlook.com", "microsoft365" },
    { "in1-smtp.messagingengine.com", "fastmail" },
    { "mta5.am0.yahoodns.net", "yahoo" },
    { "mx.yandex.net", "yandex" },
    { "mx.zoho.com", "zoho" },
    { "evilgoogle.com", NULL },
    { "google.com.evil.test", NULL },
    { "mx.example.test", NULL },
    /* Consumer Outlook.com's MX must not look like Microsoft 365. */
    { "hotmail-com.olc.protection.outlook.com", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const PostageProvider *p = postage_providers_lookup_mx (providers, cases[i].mx);

      g_assert_cmpstr (p != NULL ? p->id : NULL, ==, cases[i].id);
    }
}

static void
test_user_forms (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "unit", "data",
                                                 "providers-test.ini", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageProviders) providers = postage_providers_load_file (path, &error);
  g_autoptr(PostageProviders) shipped = load_default ();
  const PostageProvider *local;
  const PostageProvider *specific;
  g_autofree char *user = NULL;
  g_autofree char *email_user = NULL;

  g_assert_no_error (error);
  local = postage_providers_lookup_domain (providers, "local.test");
  g_assert_nonnull (local);
  user = postage_provider_dup_user (local, "first.last@local.test");
  g_assert_cmpstr (user, ==, "first.last");
  g_assert_cmpint (local->security, ==, POSTAGE_SECURITY_TLS);
  g_assert_cmpstrv (local->steps, ((const char *[]) { "One.", "Two.", NULL }));

  email_user = postage_provider_dup_user (by_id (shipped, "icloud"), "me@icloud.com");
  g_assert_cmpstr (email_user, ==, "me@icloud.com");

  /* An exact domain beats a wildcard whatever the order; the longest MX
   * suffix wins. */
  specific = postage_providers_lookup_domain (providers, "exact.wild.test");
  g_assert_cmpstr (specific->id, ==, "specific");
  g_assert_true (postage_providers_lookup_domain (providers, "other.wild.test") == local);
  g_assert_true (postage_providers_lookup_mx (providers, "a.deep.mx.local.test") == specific);
  g_assert_true (postage_providers_lookup_mx (providers, "a.mx.local.test") == local);
  g_assert_false (specific->app_password);
  g_assert_null (specific->steps[0]);
  g_assert_null (specific->app_password_url);
}

static void
test_invalid_files (void)
{
  const char *names[] = { "providers-duplicate.ini", "providers-no-host.ini" };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "unit", "data", names[i],
                                                     NULL);

      g_assert_null (postage_providers_load_file (path, &error));
      g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
      g_clear_error (&error);
    }
  g_assert_null (postage_providers_load_file ("/nonexistent/providers.ini", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/postage/providers/load", test_load);
  g_test_add_func ("/postage/providers/every-domain", test_every_domain);
  g_test_add_func ("/postage/providers/mx", test_mx);
  g_test_add_func ("/postage/providers/user-forms", test_user_forms);
  g_test_add_func ("/postage/providers/invalid-files", test_invalid_files);
  return g_test_run ();
}
