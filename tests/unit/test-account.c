/* test-account.c — the account model and its keyfile store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs in a throw-away XDG profile (tests/lib/with-session.sh).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include "accounts/postage-account-store.h"
#include "accounts/postage-secret-store.h"

static PostageAccount *
make_account (const char *id)
{
  PostageAccount *account = postage_account_new (id);

  postage_account_set_email (account, "you@example.test");
  postage_account_set_display_name (account, "You");
  postage_account_set_host (account, "smtp.example.test");
  return account;
}

static void
test_new_destroy (void)
{
  PostageAccount *account = make_account ("a");
  PostageAccountStore *store = postage_account_store_new ();

  g_assert_cmpuint (postage_account_get_port (account), ==, 587);
  g_assert_cmpstr (postage_account_get_user (account), ==, "you@example.test");
  g_assert_finalize_object (account);
  g_assert_finalize_object (store);
}

static void
test_validate (void)
{
  g_autoptr(PostageAccount) account = make_account ("a");
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_account_validate (account, &error));
  postage_account_set_security (account, POSTAGE_SECURITY_NONE);
  g_assert_false (postage_account_validate (account, &error));
  g_assert_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID);
  g_clear_error (&error);
  postage_account_set_host (account, "127.0.0.1");
  g_assert_true (postage_account_validate (account, &error));
  postage_account_set_host (account, "::1");
  g_assert_true (postage_account_validate (account, &error));

  postage_account_set_user (account, "you@example.test\r\nMAIL FROM:<x@evil.test>");
  g_assert_false (postage_account_validate (account, &error));
  g_clear_error (&error);
  postage_account_set_user (account, NULL);
  postage_account_set_display_name (account, "Eve\r\n\r\nbody");
  g_assert_false (postage_account_validate (account, &error));
  g_clear_error (&error);
  postage_account_set_display_name (account, NULL);
  postage_account_set_email (account, "you@example.test\nRCPT TO:<a@evil.test>");
  g_assert_false (postage_account_validate (account, &error));
  g_clear_error (&error);
}

static void
test_loopback (void)
{
  g_assert_true (postage_host_is_loopback ("localhost"));
  g_assert_true (postage_host_is_loopback ("127.0.0.2"));
  g_assert_true (postage_host_is_loopback ("::1"));
  g_assert_false (postage_host_is_loopback ("smtp.mail.me.com"));
  g_assert_false (postage_host_is_loopback ("192.0.2.1"));
  g_assert_false (postage_host_is_loopback ("localhost.evil.test"));
}

static void
test_store_round_trip (void)
{
  g_autoptr(PostageAccountStore) store = postage_account_store_new ();
  g_autoptr(PostageAccountStore) again = postage_account_store_new ();
  g_autoptr(PostageAccount) account = make_account ("work");
  g_autoptr(PostageAccount) other = make_account ("alpha");
  g_autoptr(GError) error = NULL;
  PostageAccount *loaded;

  postage_account_set_security (account, POSTAGE_SECURITY_TLS);
  postage_account_set_port (account, 465);
  postage_account_set_user (account, "");
  postage_account_set_ca_file (account, "/tmp/ca.pem");
  g_assert_true (postage_account_store_load (store, &error));
  g_assert_true (postage_account_store_save (store, account, &error));
  g_assert_true (postage_account_store_save (store, other, &error));
  g_assert_no_error (error);

  g_assert_true (postage_account_store_load (again, &error));
  g_assert_cmpuint (g_list_model_get_n_items (postage_account_store_get_model (again)), ==, 2);
  g_assert_cmpstr (postage_account_get_id (postage_account_store_get_default (again)), ==, "alpha");
  loaded = postage_account_store_lookup (again, "work");
  g_assert_nonnull (loaded);
  g_assert_cmpstr (postage_account_get_host (loaded), ==, "smtp.example.test");
  g_assert_cmpuint (postage_account_get_port (loaded), ==, 465);
  g_assert_cmpint (postage_account_get_security (loaded), ==, POSTAGE_SECURITY_TLS);
  g_assert_cmpstr (postage_account_get_user (loaded), ==, "");
  g_assert_cmpstr (postage_account_get_ca_file (loaded), ==, "/tmp/ca.pem");
  g_assert_cmpstr (postage_account_get_display_name (loaded), ==, "You");

  g_assert_true (postage_account_store_remove (again, "work", &error));
  g_assert_null (postage_account_store_lookup (again, "work"));
  g_assert_false (postage_account_store_remove (again, "work", &error));
  g_assert_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NOT_FOUND);
}

static void
test_store_refuses_invalid (void)
{
  g_autoptr(PostageAccountStore) store = postage_account_store_new ();
  g_autoptr(PostageAccount) account = make_account ("../escape");
  g_autoptr(GError) error = NULL;

  g_assert_false (postage_account_store_save (store, account, &error));
  g_assert_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID);
}

static void
test_keyring (void)
{
  g_autoptr(PostageAccount) account = make_account ("k");
  g_autoptr(GError) error = NULL;
  char *password;

  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      g_test_skip ("no D-Bus session bus: run under tests/lib/with-session.sh");
      return;
    }
  g_assert_true (postage_secret_store_save_sync (account, "s3cret pass", NULL, &error));
  g_assert_no_error (error);
  password = postage_secret_store_lookup_sync ("smtp.example.test", 587, "you@example.test",
                                               NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "s3cret pass");
  postage_secret_free (password);

  /* another port is another account's entry, never a fallback */
  password = postage_secret_store_lookup_sync ("smtp.example.test", 465, "you@example.test",
                                               NULL, &error);
  g_assert_null (password);
  g_assert_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_PASSWORD);
  g_clear_error (&error);

  /* an entry without a port, as `secret-tool store` makes it, fits any port */
  g_assert_true (g_spawn_command_line_sync ("sh -c 'printf portless | secret-tool store "
                                            "--label=t user you@example.test server "
                                            "other.example.test protocol smtp'",
                                            NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  password = postage_secret_store_lookup_sync ("other.example.test", 2525, "you@example.test",
                                               NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "portless");
  postage_secret_free (password);

  g_assert_true (postage_secret_store_clear_sync (account, NULL, &error));
  password = postage_secret_store_lookup_sync ("smtp.example.test", 587, "you@example.test",
                                               NULL, &error);
  g_assert_null (password);
  g_assert_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_PASSWORD);
}

static void
test_fingerprint (void)
{
  const char *colons = "48:BB:EE:2F:54:C2:DF:5C:A9:05:FD:24:48:C6:8B:E5:44:A4:78:50:A5:5F:4D:A7:"
                       "E2:30:33:7A:A3:67:EF:B6";
  g_autofree char *plain = postage_fingerprint_normalize (
    "48bbee2f54c2df5ca905fd2448c68be544a47850a55f4da7e230337aa367efb6");
  g_autofree char *spaced = postage_fingerprint_normalize (
    "48 bb ee 2f 54 c2 df 5c a9 05 fd 24 48 c6 8b e5 44 a4 78 50 a5 5f 4d a7 e2 30 33 7a a3 67 ef b6");
  g_autoptr(PostageAccount) account = make_account ("f");
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (plain, ==, colons);
  g_assert_cmpstr (spaced, ==, colons);
  g_assert_null (postage_fingerprint_normalize ("48:BB"));
  g_assert_null (postage_fingerprint_normalize ("zz"));
  g_assert_null (postage_fingerprint_normalize (
    "48bbee2f54c2df5ca905fd2448c68be544a47850a55f4da7e230337aa367efb6aa"));

  postage_account_set_fingerprint (account, "not a fingerprint");
  g_assert_false (postage_account_validate (account, &error));
  g_assert_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID);
  postage_account_set_fingerprint (account, colons);
  g_assert_cmpstr (postage_account_get_fingerprint (account), ==, colons);
  g_clear_error (&error);
  g_assert_true (postage_account_validate (account, &error));
}

static void
test_ca_file (void)
{
  g_autoptr(PostageAccount) account = make_account ("c");
  g_autofree char *dir = g_dir_make_tmp ("postage-ca-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_autofree char *pem = g_build_filename (dir, "ca.pem", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_account_check_ca_file (account, &error)); /* none set */
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_true (g_file_set_contents (pem, "x", -1, NULL));
  /* a FIFO blocked GnuTLS's open() forever; missing files and devices too */
  for (guint i = 0; i < 3; i++)
    {
      postage_account_set_ca_file (account, i == 0 ? fifo : i == 1 ? "/nonexistent.pem"
                                                                   : "/dev/zero");
      g_assert_false (postage_account_check_ca_file (account, &error));
      g_assert_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID);
      g_clear_error (&error);
      /* still a valid account: one whose CA file went away must load */
      g_assert_true (postage_account_validate (account, &error));
    }
  postage_account_set_ca_file (account, pem);
  g_assert_true (postage_account_check_ca_file (account, &error));
  g_unlink (fifo);
  g_unlink (pem);
  g_rmdir (dir);
}

static void
test_host_names (void)
{
  const char *good[] = { "smtp.mail.me.com", "localhost", "127.0.0.1", "::1", "mx-1.example.test" };
  const char *bad[] = { "$(id)", "a b", "smtp.example.test:587", "-x", ".x", "x;y", "[::1]" };
  g_autoptr(PostageAccount) account = make_account ("h");
  g_autofree char *long_host = g_strnfill (300, 'a');

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;

      postage_account_set_host (account, good[i]);
      g_assert_true (postage_account_validate (account, &error));
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      postage_account_set_host (account, bad[i]);
      g_assert_false (postage_account_validate (account, &error));
    }
  postage_account_set_host (account, long_host);
  g_assert_false (postage_account_validate (account, NULL));
  postage_account_set_host (account, "smtp.example.test");
  postage_account_set_user (account, "bad \xff utf8");
  g_assert_false (postage_account_validate (account, NULL));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/postage/account/new-destroy", test_new_destroy);
  g_test_add_func ("/postage/account/validate", test_validate);
  g_test_add_func ("/postage/account/loopback", test_loopback);
  g_test_add_func ("/postage/account/store-round-trip", test_store_round_trip);
  g_test_add_func ("/postage/account/store-refuses-invalid", test_store_refuses_invalid);
  g_test_add_func ("/postage/account/keyring", test_keyring);
  g_test_add_func ("/postage/account/fingerprint", test_fingerprint);
  g_test_add_func ("/postage/account/ca-file", test_ca_file);
  g_test_add_func ("/postage/account/host-names", test_host_names);
  return g_test_run ();
}
