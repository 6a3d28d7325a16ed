/* test-msmtp-import.c — accounts from an msmtp configuration
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads tests/unit/data/msmtprc-sample (every option the importer knows) and
 * small malformed files written on the fly. Pure parsing: no keyring here.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "accounts/postage-msmtp-import.h"

static GPtrArray *
read_sample (gboolean full)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "unit", "data", "msmtprc-sample",
                                                 NULL);
  g_autoptr(GError) error = NULL;
  GPtrArray *items = full ? postage_msmtp_import_read_full (path, &error)
                          : postage_msmtp_import_read (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (items);
  return items;
}

static PostageMsmtpAccount *
find (GPtrArray  *items,
      const char *id)
{
  for (guint i = 0; i < items->len; i++)
    {
      PostageMsmtpAccount *item = g_ptr_array_index (items, i);

      if (g_strcmp0 (postage_account_get_id (item->account), id) == 0)
        return item;
    }
  return NULL;
}

static void
test_sample (void)
{
  g_autofree char *home_ca = g_build_filename (g_get_home_dir (), "certs", "ca.pem", NULL);
  g_autoptr(GPtrArray) items = NULL;
  const char *order[] = { "starttls", "implicit", "plain", "local", "pinned", "sha1", "nofrom",
                          "both" };
  PostageMsmtpAccount *item;
  PostageAccount *a;

  /* The sample's ~/certs/ca.pem must exist: a CA file that does not is a
   * problem the import reports (test-account: /postage/account/ca-file). */
  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  {
    g_autofree char *dir = g_path_get_dirname (home_ca);

    g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
    g_assert_true (g_file_set_contents (home_ca, "test only\n", -1, NULL));
  }
  items = read_sample (TRUE);

  /* File order; "account default : starttls" only names the default. */
  g_assert_cmpuint (items->len, ==, G_N_ELEMENTS (order));
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpstr (postage_account_get_id (
                       ((PostageMsmtpAccount *) g_ptr_array_index (items, i))->account),
                     ==, order[i]);

  /* tls on (bare, in defaults) + tls_starttls on by default: STARTTLS on
   * msmtp's default port 25; user, from and the defaults' trust file. */
  item = find (items, "starttls");
  a = item->account;
  g_assert_null (item->problem);
  g_assert_cmpstr (postage_account_get_host (a), ==, "smtp.example.test");
  g_assert_cmpuint (postage_account_get_port (a), ==, 25);
  g_assert_cmpint (postage_account_get_security (a), ==, POSTAGE_SECURITY_STARTTLS);
  g_assert_cmpstr (postage_account_get_user (a), ==, "me");
  g_assert_cmpstr (postage_account_get_email (a), ==, "me@example.test");
  g_assert_cmpstr (postage_account_get_ca_file (a), ==, "/etc/ssl/certs/ca-certificates.crt");
  g_assert_null (postage_account_get_fingerprint (a));
  g_assert_true (item->had_passwordeval);
  g_assert_false (item->had_password);

  /* Inherits host, user and passwordeval; tls_starttls off: TLS on 465;
   * a quoted from; its password line is flagged, never read. */
  item = find (items, "implicit");
  a = item->account;
  g_assert_null (item->problem);
  g_assert_cmpstr (postage_account_get_host (a), ==, "smtp.example.test");
  g_assert_cmpuint (postage_account_get_port (a), ==, 465);
  g_assert_cmpint (postage_account_get_security (a), ==, POSTAGE_SECURITY_TLS);
  g_assert_cmpstr (postage_account_get_user (a), ==, "me");
  g_assert_cmpstr (postage_account_get_email (a), ==, "me+tls@example.test");
  g_assert_true (item->had_passwordeval);
  g_assert_true (item->had_password);

  /* tls off to another computer: refused, and said why. */
  item = find (items, "plain");
  g_assert_nonnull (item->problem);
  g_assert_cmpint (postage_account_get_security (item->account), ==, POSTAGE_SECURITY_NONE);

  /* tls off to loopback with auth off: cleartext is fine, no sign-in. */
  item = find (items, "local");
  a = item->account;
  g_assert_null (item->problem);
  g_assert_cmpint (postage_account_get_security (a), ==, POSTAGE_SECURITY_NONE);
  g_assert_cmpuint (postage_account_get_port (a), ==, 1025);
  g_assert_cmpstr (postage_account_get_user (a), ==, "");

  /* Quoting with \" inside, the pinned SHA-256 fingerprint normalized, and
   * tls_trust_file system overriding the defaults' file. */
  item = find (items, "pinned");
  a = item->account;
  g_assert_null (item->problem);
  g_assert_cmpstr (postage_account_get_host (a), ==, "smtp.quoted.test");
  g_assert_cmpuint (postage_account_get_port (a), ==, 587);
  g_assert_cmpint (postage_account_get_security (a), ==, POSTAGE_SECURITY_STARTTLS);
  g_assert_cmpstr (postage_account_get_user (a), ==, "a \"quoted\" user");
  g_assert_null (postage_account_get_ca_file (a));
  g_assert_cmpstr (postage_account_get_fingerprint (a), ==,
                   "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                   "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
  g_assert_false (item->had_password || item->had_passwordeval);

  g_assert_nonnull (find (items, "sha1")->problem);
  g_assert_nonnull (find (items, "nofrom")->problem);

  /* Two parents: the defaults, then pinned, then implicit, then its own. */
  item = find (items, "both");
  a = item->account;
  g_assert_null (item->problem);
  g_assert_cmpstr (postage_account_get_host (a), ==, "smtp.example.test");
  g_assert_cmpuint (postage_account_get_port (a), ==, 587);
  g_assert_cmpint (postage_account_get_security (a), ==, POSTAGE_SECURITY_TLS);
  g_assert_cmpstr (postage_account_get_email (a), ==, "me+tls@example.test");
  g_assert_nonnull (postage_account_get_fingerprint (a));
  g_assert_cmpstr (postage_account_get_ca_file (a), ==, home_ca);
  g_assert_true (item->had_password && item->had_passwordeval);
}

static void
test_usable_only (void)
{
  g_autoptr(GPtrArray) items = NULL;

  /* The three that cannot be imported are skipped with a message each. */
  for (guint i = 0; i < 3; i++)
    g_test_expect_message ("postage-msmtp-import", G_LOG_LEVEL_MESSAGE,
                           "Not importing msmtp account*");
  items = read_sample (FALSE);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (items->len, ==, 5);
  for (guint i = 0; i < items->len; i++)
    {
      PostageMsmtpAccount *item = g_ptr_array_index (items, i);

      g_assert_null (item->problem);
      g_assert_true (postage_account_validate (item->account, NULL));
    }
}

static void
test_malformed (void)
{
  static const struct { const char *text; guint line; } cases[] = {
    { "account a\nhost \"unclosed\n", 2 },
    { "account a : nobody\nhost h\n", 1 },
    { "account a\naccount a\n", 2 },
    { "account a\nport 70000\n", 2 },
    { "account a\nport 25x\n", 2 },
    { "account a\ntls maybe\n", 2 },
    { "# nothing\naccount\n", 2 },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("postage-msmtp-XXXXXX", &error);
  g_autofree char *path = NULL;

  g_assert_no_error (error);
  path = g_build_filename (dir, "msmtprc", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) items = NULL;
      g_autofree char *where = g_strdup_printf ("line %u:", cases[i].line);

      g_assert_true (g_file_set_contents (path, cases[i].text, -1, NULL));
      items = postage_msmtp_import_read_full (path, &error);
      g_assert_null (items);
      g_assert_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, where));
      g_clear_error (&error);
    }
  g_assert_null (postage_msmtp_import_read_full (dir, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_find_config (void)
{
  g_autofree char *xdg = g_build_filename (g_get_user_config_dir (), "msmtp", NULL);
  g_autofree char *xdg_file = g_build_filename (xdg, "config", NULL);
  g_autofree char *home_file = g_build_filename (g_get_home_dir (), ".msmtprc", NULL);
  g_autofree char *found = NULL;

  /* with-session.sh gives a fresh HOME and XDG_CONFIG_HOME. */
  g_assert_null (postage_msmtp_find_config ());
  g_assert_true (g_file_set_contents (home_file, "account a\n", -1, NULL));
  found = postage_msmtp_find_config ();
  g_assert_cmpstr (found, ==, home_file);
  g_clear_pointer (&found, g_free);
  g_assert_cmpint (g_mkdir_with_parents (xdg, 0700), ==, 0);
  g_assert_true (g_file_set_contents (xdg_file, "account a\n", -1, NULL));
  found = postage_msmtp_find_config ();
  g_assert_cmpstr (found, ==, xdg_file);
  g_unlink (xdg_file);
  g_unlink (home_file);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/postage/msmtp-import/sample", test_sample);
  g_test_add_func ("/postage/msmtp-import/usable-only", test_usable_only);
  g_test_add_func ("/postage/msmtp-import/malformed", test_malformed);
  g_test_add_func ("/postage/msmtp-import/find-config", test_find_config);
  return g_test_run ();
}
