/* test-wizard.c — the account wizard and the preferences, driven in-process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs inside tests/lib/with-session.sh --x11: an Xvfb display, a throw-away
 * profile and an unlocked gnome-keyring. The servers are Debian's aiosmtpd
 * (tests/lib/aiosmtpd-server.py) with STARTTLS and AUTH required, on
 * certificates made at test time by make-certs.sh.
 *
 * With --no-keyring the program first starts a D-Bus session bus of its own
 * that has no Secret Service on it (and cannot start one), and runs the
 * session-only password cases there instead.
 *
 * Screenshots land in the build folder as test artefacts.
 */
#define _GNU_SOURCE /* memmem */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <signal.h>
#include <string.h>

#include "accounts/postage-account-store.h"
#include "accounts/postage-providers.h"
#include "accounts/postage-secret-store.h"
#include "mail/postage-message-writer.h"
#include "ui/postage-account-wizard.h"
#include "ui/postage-composer-window.h"
#include "ui/postage-preferences-window.h"
#include "ui/postage-session-passwords.h"

#include "ui-test-common.h"

#define TEST_USER     "ui-tester"
#define TEST_PASSWORD "correct-horse-wizard-5519"
/* Each wait is bounded; the engine's own timeouts are shorter than this. */
#define WAIT_SECONDS  60

static struct {
  char                    *top;
  char                    *cert_dir;
  char                    *spool;
  UiTestServer             good;
  PostageAccountStore     *store;
  PostageSessionPasswords *passwords;
  GSubprocess             *bus;
  char                    *skip_reason;
} env;

/* Helpers */

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static char *
ca_file (void)
{
  return g_build_filename (env.cert_dir, "ca.pem", NULL);
}

/* The password in the real keyring, or NULL (and which error). */
static char *
keyring_password (const char  *host,
                  guint16      port,
                  const char  *user,
                  GError     **error)
{
  return postage_secret_store_lookup_sync (host, port, user, NULL, error);
}

/* TRUE when @needle is in any file under @folder, keyrings/ excepted. */
static gboolean
found_in_files (const char *folder,
                const char *needle)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (folder, name, NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;

      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (g_strcmp0 (name, "keyrings") != 0 && found_in_files (path, needle))
            return TRUE;
          continue;
        }
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR) &&
          g_file_get_contents (path, &contents, &length, NULL) &&
          memmem (contents, length, needle, strlen (needle)) != NULL)
        {
          g_test_message ("found in %s", path);
          return TRUE;
        }
    }

  return FALSE;
}

/* Driving the wizard */

static const char *
wizard_page (PostageAccountWizard *wizard)
{
  return gtk_stack_get_visible_child_name (ui_test_child (wizard, "stack"));
}

typedef struct {
  PostageAccountWizard *wizard;
  const char           *page;
} PageWait;

static gboolean
on_page (gpointer data)
{
  PageWait *wait = data;

  return g_strcmp0 (wizard_page (wait->wizard), wait->page) == 0;
}

static void
wait_for_page (PostageAccountWizard *wizard,
               const char           *page)
{
  PageWait wait = { wizard, page };

  ui_test_spin_until (on_page, &wait);
}

/* The verification ended in a failure the person can act on. */
static gboolean
verify_failed (gpointer data)
{
  PostageAccountWizard *wizard = data;
  GtkStack *icon = ui_test_child (wizard, "status_icon_stack");

  return g_strcmp0 (gtk_stack_get_visible_child_name (icon), "failed") == 0 ||
         gtk_widget_get_visible (ui_test_child (wizard, "keyring_group"));
}

static void
next (PostageAccountWizard *wizard)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (wizard), "wizard.next", NULL));
}

static void
saved_cb (PostageAccountWizard *wizard,
          PostageAccount       *account,
          gpointer              data)
{
  *(gboolean *) data = TRUE;
}

static PostageAccountWizard *
new_wizard (gboolean *saved)
{
  PostageAccountWizard *wizard;

  wizard = g_object_ref (postage_account_wizard_new (NULL, env.store, env.passwords));
  g_signal_connect (wizard, "account-saved", G_CALLBACK (saved_cb), saved);
  gtk_window_present (GTK_WINDOW (wizard));

  return wizard;
}

/* Address → Manual Settings → the settings of the local server. */
static void
fill_manual (PostageAccountWizard *wizard,
             const char           *name,
             const char           *email,
             guint16               port,
             const char           *user)
{
  g_autofree char *ca = ca_file ();

  gtk_editable_set_text (ui_test_child (wizard, "name_row"), name);
  gtk_editable_set_text (ui_test_child (wizard, "email_row"), email);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (wizard), "wizard.manual", NULL));
  g_assert_cmpstr (wizard_page (wizard), ==, "settings");

  gtk_editable_set_text (ui_test_child (wizard, "host_row"), "127.0.0.1");
  adw_combo_row_set_selected (ui_test_child (wizard, "security_row"), 0);
  gtk_spin_button_set_value (ui_test_child (wizard, "port_spin"), port);
  gtk_editable_set_text (ui_test_child (wizard, "user_row"), user);
  gtk_editable_set_text (ui_test_child (wizard, "ca_file_row"), ca);
}

static PostageAccountWizard *
find_wizard (void)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (POSTAGE_IS_ACCOUNT_WIZARD (l->data))
      return l->data;

  return NULL;
}

/* Servers */

static gboolean
start_server (UiTestServer *server,
              const char   *cert_name)
{
  return ui_test_start_server (server, env.cert_dir, cert_name, TEST_USER, TEST_PASSWORD,
                               env.spool);
}

static void
setup_certificates (void)
{
  const char *srcdir = g_getenv ("POSTAGE_SOURCE_ROOT");

  if (srcdir == NULL || g_getenv ("POSTAGE_TEST_HOME") == NULL)
    {
      env.skip_reason = g_strdup ("not inside tests/lib/with-session.sh");
      return;
    }

  env.cert_dir = g_build_filename (env.top, "certs", NULL);
  env.spool = g_build_filename (env.top, "spool", NULL);
  ui_test_make_certs (env.cert_dir);

  if (!start_server (&env.good, "good"))
    env.skip_reason = g_strdup ("the aiosmtpd server did not start (is python3-aiosmtpd installed?)");
}

/* A D-Bus session bus with nothing on it and no service it could start, so
 * there is no Secret Service: what a session without a keyring looks like. */
static void
start_bus_without_keyring (void)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *config = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *address = NULL;
  g_autofree char *folder = g_build_filename (env.top, "bus", NULL);

  g_mkdir_with_parents (folder, 0700);
  config = g_strdup_printf (
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>session</type>\n"
    "  <listen>unix:dir=%s</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context=\"default\">\n"
    "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
    "    <allow eavesdrop=\"true\"/>\n"
    "    <allow own=\"*\"/>\n"
    "  </policy>\n"
    "</busconfig>\n", folder);
  config_path = g_build_filename (folder, "session.conf", NULL);
  g_assert_true (g_file_set_contents (config_path, config, -1, NULL));

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, ui_test_die_with_parent, NULL, NULL);
  env.bus = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", "--nofork",
                                         "--config-file", config_path,
                                         "--print-address=1", NULL);
  g_assert_no_error (error);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (env.bus));
  address = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (address);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
}

/* Cases, with a keyring */

static void
test_new_destroy (void)
{
  PostageAccountWizard *wizard;
  PostagePreferencesWindow *prefs;

  wizard = g_object_ref (postage_account_wizard_new (NULL, env.store, env.passwords));
  gtk_window_present (GTK_WINDOW (wizard));
  gtk_window_destroy (GTK_WINDOW (wizard));
  g_assert_finalize_object (wizard);

  prefs = g_object_ref (postage_preferences_window_new (NULL, env.store, env.passwords));
  gtk_window_present (GTK_WINDOW (prefs));
  gtk_window_destroy (GTK_WINDOW (prefs));
  g_assert_finalize_object (prefs);
}

/* An iCloud address: iCloud's settings and the app-specific password page;
 * then pointed at the local server, verified and saved. */
static void
test_icloud (void)
{
  PostageAccountWizard *wizard;
  g_autoptr(PostageProviders) providers = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ca = ca_file ();
  const PostageProvider *icloud;
  gboolean saved = FALSE;
  PostageAccount *account;
  const char *steps;
  char *password;

  if (!ui_test_require (env.skip_reason))
    return;

  providers = postage_providers_load_default (&error);
  g_assert_no_error (error);
  icloud = postage_providers_lookup_domain (providers, "icloud.com");
  g_assert_nonnull (icloud);
  g_assert_true (icloud->app_password);

  wizard = new_wizard (&saved);
  g_assert_cmpstr (wizard_page (wizard), ==, "address");
  gtk_editable_set_text (ui_test_child (wizard, "name_row"), "Robin Example");
  gtk_editable_set_text (ui_test_child (wizard, "email_row"), "robin@icloud.com");
  ui_test_save_screenshot (GTK_WINDOW (wizard), "wizard-1-address.png");

  /* The shipped list answers; no DNS involved. */
  next (wizard);
  wait_for_page (wizard, "settings");
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (wizard, "host_row")), ==, icloud->host);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (ui_test_child (wizard, "port_spin")), ==,
                   icloud->port);
  g_assert_cmpstr (adw_preferences_row_get_title (ui_test_child (wizard, "source_row")), ==,
                   icloud->name);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ui_test_child (wizard, "source_row")),
                            "list of providers"));
  ui_test_save_screenshot (GTK_WINDOW (wizard), "wizard-settings.png");

  /* Point it at the local test server instead. */
  gtk_editable_set_text (ui_test_child (wizard, "host_row"), "127.0.0.1");
  gtk_spin_button_set_value (ui_test_child (wizard, "port_spin"), env.good.port);
  gtk_editable_set_text (ui_test_child (wizard, "user_row"), TEST_USER);
  gtk_editable_set_text (ui_test_child (wizard, "ca_file_row"), ca);
  next (wizard);
  g_assert_cmpstr (wizard_page (wizard), ==, "password");

  /* The app-specific password explained: a sentence, the steps, the page. */
  g_assert_true (gtk_widget_get_visible (ui_test_child (wizard, "app_password_group")));
  g_assert_nonnull (strstr (gtk_label_get_text (ui_test_child (wizard, "app_password_intro_label")),
                            "app-specific password"));
  steps = gtk_label_get_text (ui_test_child (wizard, "steps_label"));
  g_test_message ("steps:\n%s", steps);
  g_assert_nonnull (icloud->steps);
  for (guint i = 0; icloud->steps[i] != NULL; i++)
    g_assert_nonnull (strstr (steps, icloud->steps[i]));
  g_assert_nonnull (icloud->app_password_url);
  g_assert_true (g_str_has_prefix (icloud->app_password_url, "https://"));
  g_assert_true (gtk_widget_get_visible (ui_test_child (wizard, "open_page_button")));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (ui_test_child (wizard, "open_page_button")), ==,
                   icloud->app_password_url);
  g_assert_cmpstr (adw_preferences_row_get_title (ui_test_child (wizard, "password_row")), ==,
                   "App-Specific Password");

  gtk_editable_set_text (ui_test_child (wizard, "password_row"), TEST_PASSWORD);
  ui_test_save_screenshot (GTK_WINDOW (wizard), "wizard-2-app-password.png");

  next (wizard);
  g_assert_cmpstr (wizard_page (wizard), ==, "verify");
  ui_test_spin_until (flag_set, &saved);

  /* Settings in the store, the password in the keyring and in no file. */
  account = postage_account_store_lookup (env.store, "robin@icloud.com");
  g_assert_nonnull (account);
  g_assert_cmpstr (postage_account_get_host (account), ==, "127.0.0.1");
  g_assert_cmpstr (postage_account_get_display_name (account), ==, "Robin Example");
  password = keyring_password ("127.0.0.1", env.good.port, TEST_USER, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, TEST_PASSWORD);
  postage_secret_free (password);
  g_assert_false (found_in_files (g_getenv ("POSTAGE_TEST_HOME"), TEST_PASSWORD));

  /* It closed itself. */
  g_assert_finalize_object (wizard);
}

/* A password the server refuses: the 535 in words, nothing saved. */
static void
test_wrong_password (void)
{
  PostageAccountWizard *wizard;
  g_autoptr(GError) error = NULL;
  g_autofree char *transcript = NULL;
  gboolean saved = FALSE;
  const char *text;

  if (!ui_test_require (env.skip_reason))
    return;

  wizard = new_wizard (&saved);
  fill_manual (wizard, "Casey Wrong", "casey@example.test", env.good.port, "ui-nobody");
  next (wizard);
  g_assert_cmpstr (wizard_page (wizard), ==, "password");
  g_assert_false (gtk_widget_get_visible (ui_test_child (wizard, "app_password_group")));
  gtk_editable_set_text (ui_test_child (wizard, "password_row"), "not-the-password");
  next (wizard);
  ui_test_spin_until (verify_failed, wizard);

  g_assert_cmpstr (gtk_label_get_text (ui_test_child (wizard, "status_title_label")), ==,
                   "The user name or password was not accepted");
  text = gtk_label_get_text (ui_test_child (wizard, "status_label"));
  g_test_message ("shown: %s", text);
  g_assert_nonnull (strstr (text, "535"));
  transcript = ui_test_text_view_dup_text (ui_test_child (wizard, "transcript_view"));
  g_assert_nonnull (strstr (transcript, "C: AUTH PLAIN ****"));
  g_assert_null (strstr (transcript, "not-the-password"));
  g_assert_true (gtk_widget_get_visible (ui_test_child (wizard, "next_button")));

  gtk_expander_set_expanded (ui_test_child (wizard, "transcript_expander"), TRUE);
  ui_test_save_screenshot (GTK_WINDOW (wizard), "wizard-3-verify.png");

  /* Nothing saved anywhere. */
  g_assert_false (saved);
  g_assert_null (postage_account_store_lookup (env.store, "casey@example.test"));
  g_assert_null (keyring_password ("127.0.0.1", env.good.port, "ui-nobody", &error));
  g_assert_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_PASSWORD);

  gtk_window_destroy (GTK_WINDOW (wizard));
  g_assert_finalize_object (wizard);
}

/* A certificate from an unknown authority: shown, trusted (pinned), verified;
 * a different certificate later fails again. */
static void
test_certificate (void)
{
  PostageAccountWizard *wizard;
  UiTestServer unknown = { 0 }, other = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *first_certificate = NULL;
  g_autofree char *pinned = NULL;
  gboolean saved = FALSE;
  PostageAccount *account;
  char *password;

  if (!ui_test_require (env.skip_reason))
    return;

  g_assert_true (start_server (&unknown, "unknown-ca"));

  wizard = new_wizard (&saved);
  fill_manual (wizard, "Pat Pinned", "pat@example.test", unknown.port, TEST_USER);
  next (wizard);
  gtk_editable_set_text (ui_test_child (wizard, "password_row"), TEST_PASSWORD);
  next (wizard);
  ui_test_spin_until (verify_failed, wizard);

  g_assert_cmpstr (gtk_label_get_text (ui_test_child (wizard, "status_title_label")), ==,
                   "The server’s certificate is not trusted");
  g_assert_true (gtk_widget_get_visible (ui_test_child (wizard, "certificate_group")));
  first_certificate = g_strdup (gtk_label_get_text (ui_test_child (wizard, "certificate_label")));
  g_test_message ("certificate:\n%s\nreason: %s", first_certificate,
                  gtk_label_get_text (ui_test_child (wizard, "status_label")));
  g_assert_nonnull (strstr (first_certificate, "Some Other CA"));
  g_assert_nonnull (strstr (first_certificate, "SHA-256"));
  g_assert_nonnull (strstr (gtk_label_get_text (ui_test_child (wizard, "status_label")),
                            "unknown certificate authority"));
  g_assert_true (gtk_widget_get_visible (ui_test_child (wizard, "trust_button")));
  ui_test_save_screenshot (GTK_WINDOW (wizard), "wizard-certificate.png");
  g_assert_null (postage_account_store_lookup (env.store, "pat@example.test"));

  /* Trust pins exactly this certificate, and the next verification passes. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (wizard), "wizard.trust-certificate",
                                             NULL));
  ui_test_spin_until (flag_set, &saved);
  g_assert_finalize_object (wizard);

  account = postage_account_store_lookup (env.store, "pat@example.test");
  g_assert_nonnull (account);
  g_assert_nonnull (postage_account_get_fingerprint (account));
  pinned = g_strdup (postage_account_get_fingerprint (account));
  g_assert_nonnull (strstr (first_certificate, pinned));
  password = keyring_password ("127.0.0.1", unknown.port, TEST_USER, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, TEST_PASSWORD);
  postage_secret_free (password);

  /* Later the account meets another certificate: refused again, and the
   * edit (a new port) is not saved. */
  g_assert_true (start_server (&other, "self-signed"));
  saved = FALSE;
  wizard = g_object_ref (postage_account_wizard_new_for_edit (NULL, env.store, env.passwords,
                                                              account));
  g_signal_connect (wizard, "account-saved", G_CALLBACK (saved_cb), &saved);
  gtk_window_present (GTK_WINDOW (wizard));
  g_assert_cmpstr (wizard_page (wizard), ==, "address");
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (wizard, "email_row")), ==,
                   "pat@example.test");
  next (wizard);
  g_assert_cmpstr (wizard_page (wizard), ==, "settings");
  g_assert_true (gtk_widget_get_visible (ui_test_child (wizard, "pinned_row")));
  gtk_spin_button_set_value (ui_test_child (wizard, "port_spin"), other.port);
  next (wizard);
  g_assert_cmpstr (wizard_page (wizard), ==, "password");
  /* The server changed: the password is asked for again. */
  next (wizard);
  g_assert_cmpstr (wizard_page (wizard), ==, "password");
  g_assert_true (gtk_widget_get_visible (ui_test_child (wizard, "password_error_label")));
  gtk_editable_set_text (ui_test_child (wizard, "password_row"), TEST_PASSWORD);
  next (wizard);
  ui_test_spin_until (verify_failed, wizard);
  g_assert_true (gtk_widget_get_visible (ui_test_child (wizard, "certificate_group")));
  g_assert_null (strstr (gtk_label_get_text (ui_test_child (wizard, "certificate_label")), pinned));
  g_assert_false (saved);
  account = postage_account_store_lookup (env.store, "pat@example.test");
  g_assert_cmpuint (postage_account_get_port (account), ==, unknown.port);
  g_assert_cmpstr (postage_account_get_fingerprint (account), ==, pinned);

  gtk_window_destroy (GTK_WINDOW (wizard));
  g_assert_finalize_object (wizard);
  ui_test_stop_server (&unknown);
  ui_test_stop_server (&other);
}

static gboolean
composer_idle (gpointer data)
{
  return !postage_composer_window_get_sending (data);
}

static void
fill_message (PostageComposerWindow *window,
              const char            *subject)
{
  gtk_editable_set_text (ui_test_child (window, "to_entry"), "ann@example.test");
  gtk_editable_set_text (ui_test_child (window, "subject_entry"), subject);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (ui_test_child (window, "body_view")),
                            "Hello from the wizard test.", -1);
}

static void
add_account_directly (const char *id,
                      guint16     port,
                      const char *keyring_password_or_null)
{
  g_autoptr(PostageAccount) account = postage_account_new (id);
  g_autoptr(GError) error = NULL;
  g_autofree char *ca = ca_file ();

  postage_account_set_email (account, id);
  postage_account_set_host (account, "127.0.0.1");
  postage_account_set_port (account, port);
  postage_account_set_security (account, POSTAGE_SECURITY_STARTTLS);
  postage_account_set_user (account, TEST_USER);
  postage_account_set_ca_file (account, ca);
  postage_account_store_save (env.store, account, &error);
  g_assert_no_error (error);

  if (keyring_password_or_null != NULL)
    {
      postage_secret_store_save_sync (account, keyring_password_or_null, NULL, &error);
      g_assert_no_error (error);
    }
}

/* The composer's answer to a password that stopped working (535), then to a
 * missing one: the wizard's password and verify pages, then sending works. */
static void
send_after_new_password (const char *id,
                         const char *error_button_label,
                         gboolean    session_only)
{
  PostageComposerWindow *window;
  PostageAccountWizard *wizard;
  gboolean saved = FALSE;
  guint before = ui_test_count_spooled (env.spool);

  window = postage_composer_window_new (NULL, env.store, env.passwords);
  g_assert_true (postage_composer_window_select_account (window, id));
  gtk_window_present (GTK_WINDOW (window));
  fill_message (window, "After a new password");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  ui_test_spin_until (composer_idle, window);
  g_assert_true (gtk_revealer_get_reveal_child (ui_test_child (window, "error_revealer")));
  g_test_message ("error: %s", gtk_label_get_text (ui_test_child (window, "error_label")));
  g_assert_true (gtk_widget_get_visible (ui_test_child (window, "error_action_button")));
  g_assert_cmpstr (gtk_button_get_label (ui_test_child (window, "error_action_button")), ==,
                   error_button_label);
  if (session_only)
    ui_test_save_screenshot (GTK_WINDOW (window), "composer-no-keyring.png");
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.enter-password", NULL));
  wizard = g_object_ref (find_wizard ());
  g_assert_nonnull (wizard);
  g_signal_connect (wizard, "account-saved", G_CALLBACK (saved_cb), &saved);
  g_assert_cmpstr (wizard_page (wizard), ==, "password");
  gtk_editable_set_text (ui_test_child (wizard, "password_row"), TEST_PASSWORD);
  next (wizard);

  if (session_only)
    {
      ui_test_spin_until (verify_failed, wizard);
      g_assert_true (gtk_widget_get_visible (ui_test_child (wizard, "keyring_group")));
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (wizard),
                                                 "wizard.use-session-password", NULL));
    }
  ui_test_spin_until (flag_set, &saved);
  g_assert_finalize_object (wizard);
  g_assert_false (gtk_revealer_get_reveal_child (ui_test_child (window, "error_revealer")));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  ui_test_spin_until (composer_idle, window);
  g_assert_false (gtk_revealer_get_reveal_child (ui_test_child (window, "error_revealer")));
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before + 1);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_new_password (void)
{
  g_autoptr(GError) error = NULL;
  char *password;

  if (!ui_test_require (env.skip_reason))
    return;

  /* Same server and user as robin@icloud.com: one keyring entry, made stale here. */
  add_account_directly ("sam@example.test", env.good.port, "a-stale-password");
  send_after_new_password ("sam@example.test", "Enter New _Password…", FALSE);

  password = keyring_password ("127.0.0.1", env.good.port, TEST_USER, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, TEST_PASSWORD);
  postage_secret_free (password);
  g_assert_null (postage_session_passwords_lookup (env.passwords, "sam@example.test"));
}

/* The exact network-password entry (user, server, protocol, port) that
 * postage-secret-store.c writes. Not postage_secret_store_lookup_sync(): that
 * falls back to a port-less match, which also finds the same user's entry
 * for another port of the same host. */
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

static gboolean
keyring_entry_gone (gpointer data)
{
  g_autoptr(GError) error = NULL;
  char *password;

  /* One blocking lookup per turn; the removal runs on a worker meanwhile. */
  g_main_context_iteration (NULL, FALSE);
  password = secret_password_lookup_sync (&network_schema, NULL, &error,
                                          "user", TEST_USER, "server", "127.0.0.1",
                                          "protocol", "smtp", "port", (int) *(guint16 *) data,
                                          NULL);
  g_assert_no_error (error);
  if (password == NULL)
    return TRUE;

  secret_password_free (password);
  return FALSE;
}

static AdwMessageDialog *
find_message_dialog (void)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      return l->data;

  return NULL;
}

static void
test_preferences (void)
{
  PostagePreferencesWindow *prefs;
  PostageComposerWindow *composer;
  PostageAccountWizard *wizard;
  AdwMessageDialog *dialog;
  g_autoptr(GSettings) settings = g_settings_new ("io.github.postage.Postage");
  GListModel *model = postage_account_store_get_model (env.store);
  PostageAccount *pat;
  guint16 pat_port;
  guint n_rows = 0;
  guint position = GTK_INVALID_LIST_POSITION;

  if (!ui_test_require (env.skip_reason))
    return;

  pat = postage_account_store_lookup (env.store, "pat@example.test");
  g_assert_nonnull (pat);
  pat_port = postage_account_get_port (pat);

  prefs = g_object_ref (postage_preferences_window_new (NULL, env.store, env.passwords));
  gtk_window_present (GTK_WINDOW (prefs));

  /* One row per account. */
  for (GtkWidget *row = gtk_widget_get_first_child (ui_test_child (prefs, "accounts_list"));
       row != NULL; row = gtk_widget_get_next_sibling (row))
    if (ADW_IS_ACTION_ROW (row))
      n_rows++;
  g_assert_cmpuint (n_rows, ==, g_list_model_get_n_items (model));
  g_assert_cmpuint (n_rows, >=, 2);

  /* The default: chosen here, kept in GSettings, where the composer starts. */
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PostageAccount) account = g_list_model_get_item (model, i);

      if (g_strcmp0 (postage_account_get_id (account), "robin@icloud.com") == 0)
        position = i;
    }
  g_assert_cmpuint (position, !=, GTK_INVALID_LIST_POSITION);
  adw_combo_row_set_selected (ui_test_child (prefs, "default_row"), position);
  g_assert_cmpstr (g_settings_get_string (settings, "default-account"), ==, "robin@icloud.com");
  ui_test_save_screenshot (GTK_WINDOW (prefs), "preferences.png");

  composer = postage_composer_window_new (NULL, env.store, env.passwords);
  g_assert_cmpstr (postage_account_get_id (gtk_drop_down_get_selected_item (
                     ui_test_child (composer, "from_dropdown"))), ==, "robin@icloud.com");
  gtk_window_destroy (GTK_WINDOW (composer));

  /* Edit opens the wizard on that account. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (prefs), "prefs.edit-account", "s",
                                             "robin@icloud.com"));
  wizard = find_wizard ();
  g_assert_nonnull (wizard);
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (wizard, "email_row")), ==,
                   "robin@icloud.com");
  gtk_window_destroy (GTK_WINDOW (wizard));

  /* Remove asks first, then forgets the settings and the keyring entry. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (prefs), "prefs.remove-account", "s",
                                             "pat@example.test"));
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  g_assert_nonnull (postage_account_store_lookup (env.store, "pat@example.test"));
  adw_message_dialog_response (dialog, "remove");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_null (postage_account_store_lookup (env.store, "pat@example.test"));
  ui_test_spin_until (keyring_entry_gone, &pat_port);

  gtk_window_destroy (GTK_WINDOW (prefs));
  g_assert_finalize_object (prefs);
}

/* msmtp users */

/* Stores a password the way msmtp's documentation says to, with secret-tool
 * itself: `secret-tool store --label=… host H service smtp user U`. */
static void
store_msmtp_secret (const char *host,
                    const char *user,
                    const char *password)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  /* A system tool, not code under test: not under the suite's fatal warnings. */
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_unsetenv (launcher, "MALLOC_CHECK_");
  process = g_subprocess_launcher_spawn (launcher, &error, "secret-tool", "store",
                                         "--label=msmtp test", "host", host, "service", "smtp",
                                         "user", user, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, password, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
}

static gboolean
is_visible (gpointer data)
{
  return gtk_widget_get_visible (data);
}

static AdwActionRow *
imported_row (PostageAccountWizard *wizard,
              const char           *id)
{
  for (GtkWidget *row = gtk_widget_get_first_child (ui_test_child (wizard, "imported_list"));
       row != NULL; row = gtk_widget_get_next_sibling (row))
    if (ADW_IS_ACTION_ROW (row) &&
        g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), id) == 0)
      return ADW_ACTION_ROW (row);

  return NULL;
}

static gboolean
keyring_answered (gpointer data)
{
  PostageAccountWizard *wizard = data;
  const char *ids[] = { "evalacct", "kim" };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      AdwActionRow *row = imported_row (wizard, ids[i]);

      g_assert_nonnull (row);
      if (g_str_has_prefix (adw_action_row_get_subtitle (row), "Looking"))
        return FALSE;
    }
  return TRUE;
}

/* The button under @root whose action is @action_name, or NULL. */
static GtkWidget *
find_action_button (GtkWidget  *root,
                    const char *action_name)
{
  if (GTK_IS_BUTTON (root) &&
      g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action_name) == 0)
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_action_button (child, action_name);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static PostageAccountWizard *
find_other_wizard (PostageAccountWizard *except)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (POSTAGE_IS_ACCOUNT_WIZARD (l->data) && l->data != (gpointer) except)
      return l->data;

  return NULL;
}

/* An msmtp user: the first page offers the two accounts; importing adds them
 * without running the passwordeval command or copying the plaintext
 * password, and says which one found its password in the keyring (msmtp's
 * secret-tool entry) and which one needs it entered. */
static void
test_msmtp_import (void)
{
  g_autofree char *folder = g_build_filename (g_get_user_config_dir (), "msmtp", NULL);
  g_autofree char *config_path = g_build_filename (folder, "config", NULL);
  g_autofree char *postage_config = g_build_filename (g_get_user_config_dir (), "postage", NULL);
  g_autofree char *marker = NULL;
  g_autofree char *config = NULL;
  PostageAccountWizard *wizard;
  PostageAccountWizard *password_wizard;
  PostageAccount *account;
  AdwActionRow *row;
  GtkWidget *button;
  gboolean saved = FALSE;
  const char *subtitle;

  if (!ui_test_require (env.skip_reason))
    return;

  marker = g_build_filename (env.top, "passwordeval-ran", NULL);
  store_msmtp_secret ("smtp.msmtp-kim.test", "kim", "kim-keyring-secret-2203");
  config = g_strdup_printf ("# a sample msmtp configuration\n"
                            "defaults\n"
                            "auth on\n"
                            "tls on\n"
                            "tls_starttls on\n"
                            "\n"
                            "account evalacct\n"
                            "host 127.0.0.1\n"
                            "port %u\n"
                            "from eve@example.test\n"
                            "user ui-eve\n"
                            "passwordeval touch %s; echo not-a-password\n"
                            "\n"
                            "account kim\n"
                            "host smtp.msmtp-kim.test\n"
                            "port 587\n"
                            "from kim@example.test\n"
                            "user kim\n"
                            "password msmtp-plaintext-4417\n"
                            "\n"
                            "account default : kim\n",
                            env.good.port, marker);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_true (g_file_set_contents (config_path, config, -1, NULL));
  g_assert_null (postage_account_store_lookup (env.store, "evalacct"));
  g_assert_null (postage_account_store_lookup (env.store, "kim"));

  /* The offer, on the first page a new person sees. */
  wizard = new_wizard (&saved);
  g_assert_cmpstr (wizard_page (wizard), ==, "address");
  ui_test_spin_until (is_visible, ui_test_child (wizard, "msmtp_group"));
  g_assert_cmpstr (adw_preferences_row_get_title (ui_test_child (wizard, "msmtp_row")), ==,
                   "Import 2 accounts from msmtp");
  g_test_message ("offer: %s", adw_action_row_get_subtitle (ui_test_child (wizard, "msmtp_row")));
  ui_test_save_screenshot (GTK_WINDOW (wizard), "wizard-msmtp-offer.png");

  /* Press it. */
  g_signal_emit_by_name (ui_test_child (wizard, "msmtp_button"), "clicked");
  g_assert_cmpstr (wizard_page (wizard), ==, "imported");
  g_assert_cmpstr (gtk_label_get_text (ui_test_child (wizard, "imported_title_label")), ==,
                   "2 Accounts Imported");

  /* Both are in the store, with msmtp's settings and no password. */
  account = postage_account_store_lookup (env.store, "evalacct");
  g_assert_nonnull (account);
  g_assert_cmpstr (postage_account_get_email (account), ==, "eve@example.test");
  g_assert_cmpuint (postage_account_get_port (account), ==, env.good.port);
  account = postage_account_store_lookup (env.store, "kim");
  g_assert_nonnull (account);
  g_assert_cmpstr (postage_account_get_host (account), ==, "smtp.msmtp-kim.test");
  g_assert_cmpstr (postage_account_get_user (account), ==, "kim");
  g_assert_cmpint (postage_account_get_security (account), ==, POSTAGE_SECURITY_STARTTLS);

  /* The keyring answers, per account. */
  ui_test_spin_until (keyring_answered, wizard);
  row = imported_row (wizard, "kim");
  subtitle = adw_action_row_get_subtitle (row);
  g_test_message ("kim: %s", subtitle);
  g_assert_true (g_str_has_prefix (subtitle, "Ready: its password is in your keyring."));
  g_assert_nonnull (strstr (subtitle, "password written in the msmtp file was not used"));
  button = find_action_button (GTK_WIDGET (row), "wizard.enter-imported-password");
  g_assert_true (button == NULL || !gtk_widget_get_visible (button));

  row = imported_row (wizard, "evalacct");
  subtitle = adw_action_row_get_subtitle (row);
  g_test_message ("evalacct: %s", subtitle);
  g_assert_true (g_str_has_prefix (subtitle, "Needs a password"));
  g_assert_nonnull (strstr (subtitle, "passwordeval command in the msmtp file was not run"));
  button = find_action_button (GTK_WIDGET (row), "wizard.enter-imported-password");
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_get_visible (button));

  ui_test_save_screenshot (GTK_WINDOW (wizard), "wizard-msmtp-import.png");

  /* Nothing from the file was run, and the plaintext password was not copied. */
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_assert_false (found_in_files (postage_config, "msmtp-plaintext-4417"));
  g_assert_false (found_in_files (postage_config, "not-a-password"));

  /* A missing password: the password and verify pages for that account. */
  g_signal_emit_by_name (button, "clicked");
  password_wizard = find_other_wizard (wizard);
  g_assert_nonnull (password_wizard);
  g_assert_cmpstr (wizard_page (password_wizard), ==, "password");
  g_assert_nonnull (strstr (adw_preferences_group_get_description (
                              ui_test_child (password_wizard, "password_group")), "ui-eve"));
  gtk_window_destroy (GTK_WINDOW (password_wizard));

  /* Done closes it; an import verifies nothing, so nothing was "saved". */
  next (wizard);
  g_assert_finalize_object (wizard);
  g_assert_false (saved);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));

  g_assert_cmpint (g_unlink (config_path), ==, 0);
}

/* Cases, without a keyring */

static void
test_no_keyring_wizard (void)
{
  PostageAccountWizard *wizard;
  PostageComposerWindow *window;
  gboolean saved = FALSE;
  guint before;

  if (!ui_test_require (env.skip_reason))
    return;

  wizard = new_wizard (&saved);
  fill_manual (wizard, "Nora Nokey", "nora@example.test", env.good.port, TEST_USER);
  next (wizard);
  gtk_editable_set_text (ui_test_child (wizard, "password_row"), TEST_PASSWORD);
  next (wizard);
  ui_test_spin_until (verify_failed, wizard);

  /* Verified, but not kept: the message and the session-only choice. */
  g_assert_true (gtk_widget_get_visible (ui_test_child (wizard, "keyring_group")));
  g_test_message ("keyring: %s", gtk_label_get_text (ui_test_child (wizard, "keyring_label")));
  g_assert_nonnull (strstr (gtk_label_get_text (ui_test_child (wizard, "keyring_label")),
                            "keyring"));
  g_assert_null (postage_account_store_lookup (env.store, "nora@example.test"));
  ui_test_save_screenshot (GTK_WINDOW (wizard), "wizard-no-keyring.png");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (wizard), "wizard.use-session-password",
                                             NULL));
  ui_test_spin_until (flag_set, &saved);
  g_assert_finalize_object (wizard);
  g_assert_nonnull (postage_account_store_lookup (env.store, "nora@example.test"));
  g_assert_cmpstr (postage_session_passwords_lookup (env.passwords, "nora@example.test"), ==,
                   TEST_PASSWORD);
  g_assert_false (found_in_files (g_getenv ("POSTAGE_TEST_HOME"), TEST_PASSWORD));

  /* And it sends. */
  before = ui_test_count_spooled (env.spool);
  window = postage_composer_window_new (NULL, env.store, env.passwords);
  g_assert_true (postage_composer_window_select_account (window, "nora@example.test"));
  gtk_window_present (GTK_WINDOW (window));
  fill_message (window, "Session password");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  ui_test_spin_until (composer_idle, window);
  g_assert_false (gtk_revealer_get_reveal_child (ui_test_child (window, "error_revealer")));
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before + 1);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_no_keyring_send (void)
{
  if (!ui_test_require (env.skip_reason))
    return;

  add_account_directly ("olly@example.test", env.good.port, NULL);
  send_after_new_password ("olly@example.test", "Enter _Password…", TRUE);
  g_assert_cmpstr (postage_session_passwords_lookup (env.passwords, "olly@example.test"), ==,
                   TEST_PASSWORD);
  g_assert_false (found_in_files (g_getenv ("POSTAGE_TEST_HOME"), TEST_PASSWORD));
}

int
main (int    argc,
      char **argv)
{
  const char *home = g_getenv ("POSTAGE_TEST_HOME");
  g_autoptr(GtkCssProvider) provider = NULL;
  gboolean no_keyring = FALSE;
  int ret;

  for (int i = 1; i < argc; i++)
    if (g_strcmp0 (argv[i], "--no-keyring") == 0)
      {
        no_keyring = TRUE;
        memmove (&argv[i], &argv[i + 1], (argc - i) * sizeof (char *));
        argc--;
        break;
      }

  env.top = home != NULL ? g_build_filename (home, "wizard-test", NULL)
                         : g_dir_make_tmp ("postage-wizard-test-XXXXXX", NULL);
  g_mkdir_with_parents (env.top, 0700);

  /* Before anything connects to the session bus. */
  if (no_keyring && home != NULL)
    start_bus_without_keyring ();

  /* NO_AT_BRIDGE is GTK 3's switch; without this GTK 4 starts the AT-SPI bus. */
  g_setenv ("GTK_A11Y", "none", FALSE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  postage_mail_init ();

  ui_test_set_limits (WAIT_SECONDS, 30);
  provider = ui_test_add_app_style ();

  setup_certificates ();
  env.store = postage_account_store_new ();
  postage_account_store_load (env.store, NULL);
  env.passwords = postage_session_passwords_new ();

  if (no_keyring)
    {
      g_test_add_func ("/postage/ui/no-keyring/wizard", test_no_keyring_wizard);
      g_test_add_func ("/postage/ui/no-keyring/send", test_no_keyring_send);
    }
  else
    {
      g_test_add_func ("/postage/ui/accounts/new-destroy", test_new_destroy);
      g_test_add_func ("/postage/ui/accounts/icloud", test_icloud);
      g_test_add_func ("/postage/ui/accounts/wrong-password", test_wrong_password);
      g_test_add_func ("/postage/ui/accounts/certificate", test_certificate);
      g_test_add_func ("/postage/ui/accounts/new-password", test_new_password);
      g_test_add_func ("/postage/ui/accounts/preferences", test_preferences);
      g_test_add_func ("/postage/ui/accounts/msmtp-import", test_msmtp_import);
    }

  ret = g_test_run ();

  ui_test_stop_server (&env.good);
  if (env.bus != NULL)
    {
      g_subprocess_send_signal (env.bus, SIGTERM);
      g_subprocess_wait (env.bus, NULL, NULL);
      g_clear_object (&env.bus);
    }
  g_clear_object (&env.passwords);
  g_clear_object (&env.store);
  g_clear_pointer (&env.top, g_free);
  g_clear_pointer (&env.cert_dir, g_free);
  g_clear_pointer (&env.spool, g_free);
  g_clear_pointer (&env.skip_reason, g_free);

  return ret;
}
