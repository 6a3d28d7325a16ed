/* postage-cli.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only; a GMainLoop spins while the SMTP job runs on its worker.
 * Everything for people goes to stderr; stdout carries only what a script
 * may want to read (the account list, the server's final reply).
 */
#define G_LOG_DOMAIN "postage-cli"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "accounts/postage-account-store.h"
#include "accounts/postage-discovery.h"
#include "accounts/postage-msmtp-import.h"
#include "accounts/postage-providers.h"
#include "accounts/postage-secret-store.h"
#include "mail/postage-address.h"
#include "mail/postage-mail-error.h"
#include "mail/postage-message-writer.h"
#include "postage-cli.h"
#include "postage-cli-private.h"
#include "smtp/postage-smtp-error.h"
#include "smtp/postage-smtp-job.h"
#include "smtp/postage-smtp-reply.h"

/* A password is a line; anything longer than this on stdin is a mistake. */
#define MAX_PASSWORD_LENGTH 4096

/* One async operation run to its end on a loop here, cancelled by Ctrl-C
 * or SIGTERM: wait_begin(), start it with wait_done_cb and &wait, then
 * wait_end() gives its GAsyncResult for the matching _finish(). */
typedef struct {
  GMainLoop    *loop;
  GCancellable *cancellable;
  GAsyncResult *result;
  guint         sigint_id;
  guint         sigterm_id;
} Wait;

int
_postage_cli_usage_error (GOptionContext *context,
                          const char     *message)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  g_printerr ("postage: %s\n\n%s", message, help);
  return POSTAGE_EXIT_USAGE;
}

int
_postage_cli_fail (int         code,
                   const char *format,
                   ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("postage: %s\n", message);
  return code;
}

/* Reads the password line from stdin into memory that is wiped afterwards. */
static char *
read_password_stdin (GError **error)
{
  GString *password = g_string_sized_new (64);
  int c;

  while ((c = getchar ()) != EOF && c != '\n')
    {
      /* A NUL would silently cut the password short in the keyring. */
      if (c == '\0' || password->len >= MAX_PASSWORD_LENGTH)
        {
          explicit_bzero (password->str, password->len);
          g_string_free (password, TRUE);
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               c == '\0' ? _("The password on standard input contains a NUL "
                                              "byte.")
                                          : _("The password on standard input is too long."));
          return NULL;
        }
      g_string_append_c (password, (char) c);
    }
  if (password->len > 0 && password->str[password->len - 1] == '\r')
    g_string_truncate (password, password->len - 1);
  /* Empty is what a broken pipe gives: never let it replace a password. */
  if (password->len == 0)
    {
      g_string_free (password, TRUE);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("No password on standard input; nothing was saved."));
      return NULL;
    }
  return g_string_free (password, FALSE);
}

static void
wipe_free (char *secret)
{
  if (secret != NULL)
    explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

PostageAccountStore *
_postage_cli_load_store (GError **error)
{
  g_autoptr(PostageAccountStore) store = postage_account_store_new ();

  if (!postage_account_store_load (store, error))
    return NULL;
  return g_steal_pointer (&store);
}

static gboolean
wait_interrupt_cb (gpointer user_data)
{
  Wait *wait = user_data;

  g_printerr ("%s\n", _("postage: cancelling…"));
  g_cancellable_cancel (wait->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
wait_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
  g_main_loop_quit (wait->loop);
}

static void
wait_begin (Wait *wait)
{
  wait->loop = g_main_loop_new (NULL, FALSE);
  wait->cancellable = g_cancellable_new ();
  wait->result = NULL;
  wait->sigint_id = g_unix_signal_add (SIGINT, wait_interrupt_cb, wait);
  wait->sigterm_id = g_unix_signal_add (SIGTERM, wait_interrupt_cb, wait);
}

static GAsyncResult *
wait_end (Wait *wait)
{
  g_main_loop_run (wait->loop);
  g_source_remove (wait->sigint_id);
  g_source_remove (wait->sigterm_id);
  /* Callbacks queued before the result (SMTP events) are already
   * dispatched; drain any stragglers so none outlives its caller's state. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_pointer (&wait->loop, g_main_loop_unref);
  g_clear_object (&wait->cancellable);
  return g_steal_pointer (&wait->result);
}

/* The same discovery as the setup wizard: provider list, SRV, MX, guess. */
static PostageDiscoveryResult *
discover (const char        *email,
          PostageProviders  *providers,
          GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  Wait wait;

  wait_begin (&wait);
  postage_discovery_lookup_async (email, providers, NULL, wait.cancellable, wait_done_cb, &wait);
  result = wait_end (&wait);
  return postage_discovery_lookup_finish (result, error);
}

/* Says what was found and where from: DNS answers can be forged, so the
 * person should see them before a password is sent. */
static void
report_discovery (const char                   *email,
                  const PostageDiscoveryResult *found)
{
  const PostageProvider *provider = found->provider;

  switch (found->source)
    {
    case POSTAGE_DISCOVERY_PROVIDER:
      /* Translators: an email address, then a provider such as “iCloud Mail” */
      g_printerr (_("postage: %s belongs to %s: using the settings from Postage’s provider "
                    "list\n"), email, provider->name);
      break;
    case POSTAGE_DISCOVERY_SRV:
      g_printerr (_("postage: found in the DNS SRV records of the domain of %s (check them: DNS "
                    "answers can be forged)\n"), email);
      break;
    case POSTAGE_DISCOVERY_MX:
      /* Translators: an email address, then a provider such as “Gmail” */
      g_printerr (_("postage: the mail of %s is handled by %s (the domain’s MX records): using "
                    "its settings\n"), email, provider->name);
      break;
    case POSTAGE_DISCOVERY_GUESS:
    default:
      g_printerr (_("postage: no settings were found for %s; this is a guess, check it\n"),
                  email);
      break;
    }
  /* Translators: host, port, security mode (starttls/tls), then a user name */
  g_printerr (_("postage: server %s port %u (%s), sign-in name %s\n"), found->host, found->port,
              postage_security_to_string (found->security), found->user);
}

/* The app-specific password and the steps to make one, in a terminal. */
static void
report_provider_steps (const PostageProvider *provider)
{
  if (provider->app_password)
    /* Translators: a provider such as “iCloud Mail” */
    g_printerr (_("postage: %s needs an app-specific password: your usual password will not "
                  "work.\n"), provider->name);
  if (provider->app_password_url != NULL)
    g_printerr (provider->app_password ? _("postage: create one at %s\n")
                                       : _("postage: see %s\n"), provider->app_password_url);
  for (guint i = 0; provider->steps != NULL && provider->steps[i] != NULL; i++)
    g_printerr ("postage:   %u. %s\n", i + 1, provider->steps[i]);
  if (provider->pin_certificate)
    g_printerr ("%s\n", _("postage: this server uses its own certificate: run postage account "
                          "verify NAME, compare the fingerprint it shows with the one the "
                          "program shows, then add the account again with --fingerprint."));
}

static int
account_add (int    argc,
             char **argv)
{
  g_autofree char *email = NULL;
  g_autofree char *display_name = NULL;
  g_autofree char *host = NULL;
  g_autofree char *security_text = NULL;
  g_autofree char *user = NULL;
  g_autofree char *ca_file = NULL;
  g_autofree char *fingerprint = NULL;
  gboolean password_stdin = FALSE;
  gint port = -1;
  const GOptionEntry entries[] = {
    { "email", 0, 0, G_OPTION_ARG_STRING, &email, N_("The From address"), N_("ADDRESS") },
    { "display-name", 0, 0, G_OPTION_ARG_STRING, &display_name, N_("The From name"), N_("TEXT") },
    { "host", 0, 0, G_OPTION_ARG_STRING, &host,
      N_("The SMTP server (default: found from the address)"), N_("HOST") },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, N_("The port (587 for STARTTLS, 465 for TLS)"),
      N_("N") },
    { "security", 0, 0, G_OPTION_ARG_STRING, &security_text,
      N_("starttls (default), tls, or none (this computer only)"), N_("MODE") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user,
      N_("The sign-in name (default: the email address; empty: no sign-in)"), N_("USER") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      N_("Trust the certificate authorities in this PEM file instead of the system's"),
      N_("FILE") },
    { "fingerprint", 0, 0, G_OPTION_ARG_STRING, &fingerprint,
      N_("Trust exactly the server certificate with this SHA-256 fingerprint"), N_("SHA256") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin,
      N_("Read the password from standard input and store it in the keyring"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("NAME — add or replace an account"));
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageAccountStore) store = NULL;
  g_autoptr(PostageAccount) account = NULL;
  g_autoptr(PostageAccount) old = NULL;
  g_autofree char *password = NULL;
  PostageSecurity security = POSTAGE_SECURITY_STARTTLS;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return _postage_cli_usage_error (context, error->message);
  if (argc != 2)
    return _postage_cli_usage_error (context, _("Name the account: postage account add NAME --email …"));
  if (email == NULL)
    return _postage_cli_usage_error (context, _("--email is required."));
  if (security_text != NULL && !postage_security_from_string (security_text, &security))
    return _postage_cli_usage_error (context, _("--security must be starttls, tls or none."));
  if (port != -1 && (port < 1 || port > G_MAXUINT16))
    return _postage_cli_usage_error (context, _("--port must be a number from 1 to 65535."));
  if (!g_utf8_validate (argv[1], -1, NULL))
    return _postage_cli_fail (POSTAGE_EXIT_DATAERR, "%s", _("The account name must be UTF-8 text."));

  /* Before anything is looked up: no DNS query for an address that
   * will be refused anyway. */
  if (!postage_address_is_valid (email))
    return _postage_cli_fail (POSTAGE_EXIT_DATAERR, "%s",
                 _("The email address is not valid. Write it as name@example.com."));

  /* Without --host, the settings are discovered; every option given
   * explicitly still wins over what was found. */
  if (host == NULL)
    {
      g_autoptr(PostageProviders) providers = postage_providers_load_default (&error);
      g_autoptr(PostageDiscoveryResult) found = NULL;

      if (providers == NULL)
        return _postage_cli_fail (POSTAGE_EXIT_SOFTWARE, _("Postage’s provider list could not be read: %s"),
                     error->message);
      if ((found = discover (email, providers, &error)) == NULL)
        return _postage_cli_fail (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                     ? POSTAGE_EXIT_TEMPFAIL : POSTAGE_EXIT_DATAERR, "%s", error->message);
      report_discovery (email, found);
      if (found->provider != NULL && found->provider->no_password_login != NULL)
        return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", found->provider->no_password_login);
      if (found->provider != NULL)
        report_provider_steps (found->provider);
      host = g_strdup (found->host);
      if (port == -1 && (security_text == NULL || security == found->security))
        port = found->port;
      if (security_text == NULL)
        security = found->security;
      /* Stored only when it differs: an unset user follows the address. */
      if (user == NULL && g_strcmp0 (found->user, email) != 0)
        user = g_strdup (found->user);
    }

  account = postage_account_new (argv[1]);
  postage_account_set_email (account, email);
  postage_account_set_display_name (account, display_name);
  postage_account_set_host (account, host);
  postage_account_set_security (account, security);
  postage_account_set_port (account, port != -1 ? port : postage_security_default_port (security));
  postage_account_set_user (account, user);
  /* Stored absolute: a later send may run from any folder. */
  if (ca_file != NULL && *ca_file != '\0')
    {
      g_autofree char *absolute = g_canonicalize_filename (ca_file, NULL);

      postage_account_set_ca_file (account, absolute);
    }
  postage_account_set_fingerprint (account, fingerprint);
  if (!postage_account_validate (account, &error) ||
      !postage_account_check_ca_file (account, &error))
    return _postage_cli_fail (POSTAGE_EXIT_DATAERR, "%s", error->message);
  if ((store = _postage_cli_load_store (&error)) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);
  if (password_stdin && (password = read_password_stdin (&error)) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_DATAERR, "%s", error->message);
  if (postage_account_store_lookup (store, argv[1]) != NULL)
    old = postage_account_copy (postage_account_store_lookup (store, argv[1]));

  /* The file first: if it cannot be written (disk full, name too long)
   * the keyring is left as it was. */
  if (!postage_account_store_save (store, account, &error))
    {
      wipe_free (g_steal_pointer (&password));
      return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);
    }
  if (password != NULL)
    {
      gboolean saved = postage_secret_store_save_sync (account, password, NULL, &error);

      wipe_free (g_steal_pointer (&password));
      if (!saved)
        {
          /* Put the account back as it was, so file and keyring agree. */
          if (old != NULL)
            postage_account_store_save (store, old, NULL);
          else
            postage_account_store_remove (store, argv[1], NULL);
          return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);
        }
    }
  /* A changed server or user leaves the old entry behind unless nobody
   * else signs in with it. */
  if (old != NULL &&
      (g_strcmp0 (postage_account_get_user (old), postage_account_get_user (account)) != 0 ||
       g_strcmp0 (postage_account_get_host (old), postage_account_get_host (account)) != 0 ||
       postage_account_get_port (old) != postage_account_get_port (account)) &&
      !postage_account_store_shares_secret (store, old, NULL))
    {
      if (!postage_secret_store_clear_sync (old, NULL, &error))
        {
          g_printerr (_("postage: warning: %s\n"), error->message);
          g_clear_error (&error);
        }
    }
  g_printerr (_("postage: account “%s” saved\n"), argv[1]);
  return POSTAGE_EXIT_OK;
}

static int
account_list (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageAccountStore) store = _postage_cli_load_store (&error);
  GListModel *model;

  if (store == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);
  model = postage_account_store_get_model (store);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(PostageAccount) account = g_list_model_get_item (model, i);
      g_autofree char *from = postage_account_dup_from_display (account);

      g_print ("%s\t%s\t%s:%u\t%s\n", postage_account_get_id (account), from,
               postage_account_get_host (account), postage_account_get_port (account),
               postage_security_to_string (postage_account_get_security (account)));
    }
  return POSTAGE_EXIT_OK;
}

static int
account_remove (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageAccountStore) store = _postage_cli_load_store (&error);
  PostageAccount *account;

  if (store == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);
  if ((account = postage_account_store_lookup (store, id)) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, _("There is no account named “%s”."), id);
  /* The keyring entry goes with the account, unless another account signs
   * in with it; a keyring that cannot be reached must not keep the account
   * from being removed, so only warn. */
  if (!postage_account_store_shares_secret (store, account, id) &&
      !postage_secret_store_clear_sync (account, NULL, &error))
    {
      g_printerr (_("postage: warning: %s\n"), error->message);
      g_clear_error (&error);
    }
  if (!postage_account_store_remove (store, id, &error))
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);
  g_printerr (_("postage: account “%s” removed\n"), id);
  return POSTAGE_EXIT_OK;
}

static int account_verify (int argc, char **argv);
static int account_import_msmtp (int argc, char **argv);

static int
account_command (int    argc,
                 char **argv)
{
  if (argc >= 3 && strcmp (argv[2], "add") == 0)
    return account_add (argc - 2, argv + 2);
  if (argc == 3 && strcmp (argv[2], "list") == 0)
    return account_list ();
  if (argc == 4 && strcmp (argv[2], "remove") == 0)
    return account_remove (argv[3]);
  if (argc >= 3 && strcmp (argv[2], "verify") == 0)
    return account_verify (argc - 2, argv + 2);
  if (argc >= 3 && strcmp (argv[2], "import-msmtp") == 0)
    return account_import_msmtp (argc - 2, argv + 2);
  g_printerr ("%s\n", _("Usage: postage account add NAME --email ADDRESS [--host HOST] "
                        "[OPTION…]\n"
                        "       postage account list\n"
                        "       postage account remove NAME\n"
                        "       postage account verify NAME [--timeout SECONDS]\n"
                        "       postage account import-msmtp [--file PATH] [--dry-run] "
                        "[--replace]"));
  return POSTAGE_EXIT_USAGE;
}

static const char *
phase_text (PostageSmtpPhase phase)
{
  switch (phase)
    {
    case POSTAGE_SMTP_PHASE_CONNECTING: return _("connecting");
    case POSTAGE_SMTP_PHASE_TLS: return _("securing the connection (TLS)");
    case POSTAGE_SMTP_PHASE_AUTH: return _("signing in");
    case POSTAGE_SMTP_PHASE_SENDING: return _("sending");
    case POSTAGE_SMTP_PHASE_DONE: return _("sent");
    default: return "";
    }
}

void
_postage_cli_event_cb (const PostageSmtpEvent *event,
                       gpointer                user_data)
{
  PostageCliState *state = user_data;

  switch (event->kind)
    {
    case POSTAGE_SMTP_EVENT_PHASE:
      if (event->phase == POSTAGE_SMTP_PHASE_DONE && state->verifying)
        g_printerr ("%s\n", _("postage: signed in; nothing was sent"));
      else
        g_printerr (event->phase == POSTAGE_SMTP_PHASE_DONE ? "postage: %s\n"
                                                            : "postage: %s…\n",
                    phase_text (event->phase));
      break;
    case POSTAGE_SMTP_EVENT_PROGRESS:
      if (state->verbose)
        /* Translators: bytes sent, then the total */
        g_printerr (_("postage: %llu of %llu bytes sent\n"),
                    (unsigned long long) event->bytes_sent,
                    (unsigned long long) event->bytes_total);
      break;
    case POSTAGE_SMTP_EVENT_TRANSCRIPT:
      g_printerr ("%c: %s\n", event->direction, event->line);
      break;
    default:
      break;
    }
}

int
_postage_cli_exit_code_for (const GError *error)
{
  if (error->domain == POSTAGE_MAIL_ERROR)
    return POSTAGE_EXIT_DATAERR;
  if (error->domain == POSTAGE_ACCOUNT_ERROR)
    return POSTAGE_EXIT_CONFIG;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return POSTAGE_EXIT_TEMPFAIL;
  if (g_error_matches (error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_AUTH_FAILED))
    return POSTAGE_EXIT_NOPERM;
  if (postage_smtp_error_is_transient (error))
    return POSTAGE_EXIT_TEMPFAIL;
  return POSTAGE_EXIT_UNAVAILABLE;
}

/* Runs @job to its end on a loop here; Ctrl-C or SIGTERM cancel it cleanly
 * (QUIT is still sent). The server's final reply goes to stdout; a failure
 * to stderr after @failed ("not sent"). Returns the exit code. */
static int
run_job (PostageSmtpJob *job,
         PostageCliState      *state,
         const char     *failed)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;
  Wait wait;

  wait_begin (&wait);
  postage_smtp_job_run_async (job, wait.cancellable, _postage_cli_event_cb, state, NULL, wait_done_cb,
                              &wait);
  result = wait_end (&wait);
  reply = postage_smtp_job_run_finish (result, &error);
  if (reply == NULL)
    {
      g_printerr ("postage: %s: %s\n", failed, error->message);
      return _postage_cli_exit_code_for (error);
    }
  g_print ("%s\n", reply);
  return POSTAGE_EXIT_OK;
}

/* A job with no message: connect, TLS, EHLO, AUTH, QUIT. Exit 0 only when
 * the server accepted the sign-in; the same codes as send otherwise. */
static int
account_verify (int    argc,
                char **argv)
{
  gint timeout = 0;
  gboolean verbose = FALSE;
  const GOptionEntry entries[] = {
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      N_("Seconds to wait for the server at each step"), N_("SECONDS") },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Show progress in detail"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new (N_("NAME — sign in to the server without sending anything"));
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageAccountStore) store = NULL;
  g_autoptr(PostageSmtpJob) job = NULL;
  PostageAccount *account;
  PostageCliState state = { 0 };
  int code;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return _postage_cli_usage_error (context, error->message);
  if (argc != 2)
    return _postage_cli_usage_error (context, _("Name the account: postage account verify NAME"));
  if (timeout < 0 || timeout > POSTAGE_SMTP_MAX_TIMEOUT)
    return _postage_cli_usage_error (context, _("--timeout must be a number of seconds from 1 to 600."));
  if ((store = _postage_cli_load_store (&error)) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);
  if ((account = postage_account_store_lookup (store, argv[1])) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, _("There is no account named “%s”. See postage account "
                                        "list."), argv[1]);
  if (!postage_account_validate (account, &error))
    return _postage_cli_fail (POSTAGE_EXIT_DATAERR, "%s", error->message);

  job = postage_smtp_job_new (account);
  if (timeout > 0)
    postage_smtp_job_set_timeout (job, timeout);
  state.verbose = verbose;
  state.verifying = TRUE;
  /* Translators: host, port, then the account name */
  g_printerr (_("postage: verifying %s port %u for %s\n"), postage_account_get_host (account),
              postage_account_get_port (account), postage_account_get_id (account));
  /* Translators: follows "postage: " and comes before the reason */
  code = run_job (job, &state, _("verification failed"));
  if (code == POSTAGE_EXIT_OK)
    g_printerr (_("postage: account “%s” works: the server accepted the sign-in\n"), argv[1]);
  return code;
}

/* What the keyring holds for @account, in one line for people. msmtp's own
 * entry counts: postage_secret_store_lookup_sync() looks there too. */
static void
report_keyring (PostageAccount *account)
{
  g_autoptr(GError) error = NULL;
  const char *user = postage_account_get_user (account);
  char *password;

  if (*user == '\0')
    {
      g_printerr ("%s\n", _("postage:   it signs in without a password"));
      return;
    }
  password = postage_secret_store_lookup_sync (postage_account_get_host (account),
                                               postage_account_get_port (account), user,
                                               NULL, &error);
  if (password != NULL)
    {
      postage_secret_free (password);
      g_printerr ("%s\n", _("postage:   its password is in the keyring"));
    }
  else if (g_error_matches (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_PASSWORD))
    /* Translators: the placeholders make a secret-tool command line:
     * the server, then the user name; keep "host", "service smtp" and "user" */
    {
      /* Quoted: a person will paste this into a shell. */
      g_autofree char *quoted_host = g_shell_quote (postage_account_get_host (account));
      g_autofree char *quoted_user = g_shell_quote (user);

      g_printerr (_("postage:   no password in the keyring yet; store it (msmtp finds it "
                    "too) with: secret-tool store --label=msmtp host %s service smtp user %s\n"),
                  quoted_host, quoted_user);
    }
  else
    g_printerr (_("postage:   the keyring could not be asked: %s\n"), error->message);
}

static int
account_import_msmtp (int    argc,
                      char **argv)
{
  g_autofree char *file = NULL;
  gboolean dry_run = FALSE;
  gboolean replace = FALSE;
  const GOptionEntry entries[] = {
    { "file", 0, 0, G_OPTION_ARG_FILENAME, &file,
      N_("Read this msmtp configuration (default: $XDG_CONFIG_HOME/msmtp/config or "
         "~/.msmtprc)"), N_("FILE") },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
      N_("Show what would be imported, change nothing"), NULL },
    { "replace", 0, 0, G_OPTION_ARG_NONE, &replace,
      N_("Replace accounts that have the same name"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new (N_("— import the accounts of msmtp"));
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageAccountStore) store = NULL;
  g_autoptr(GPtrArray) items = NULL;
  guint imported = 0;
  int code = POSTAGE_EXIT_OK;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return _postage_cli_usage_error (context, error->message);
  if (argc != 1)
    return _postage_cli_usage_error (context, _("Unexpected argument; name the file with --file."));
  if (file == NULL && (file = postage_msmtp_find_config ()) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", _("No msmtp configuration was found "
                                             "($XDG_CONFIG_HOME/msmtp/config or ~/.msmtprc)."));
  /* Parsing only: nothing in the file is ever run. */
  if ((items = postage_msmtp_import_read_full (file, &error)) == NULL)
    return _postage_cli_fail (g_error_matches (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID)
                 ? POSTAGE_EXIT_DATAERR : POSTAGE_EXIT_CONFIG, "%s", error->message);
  if ((store = _postage_cli_load_store (&error)) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);

  g_printerr (_("postage: reading %s\n"), file);
  for (guint i = 0; i < items->len; i++)
    {
      PostageMsmtpAccount *item = g_ptr_array_index (items, i);
      PostageAccount *account = item->account;
      const char *id = postage_account_get_id (account);

      if (item->problem != NULL)
        {
          g_printerr (_("postage: “%s” not imported: %s\n"), id, item->problem);
          continue;
        }
      if (postage_account_store_lookup (store, id) != NULL && !replace)
        {
          g_printerr (_("postage: “%s” not imported: an account with that name exists (use "
                        "--replace)\n"), id);
          continue;
        }
      if (dry_run)
        /* Translators: account name, host, port, security mode */
        g_printerr (_("postage: “%s” would be imported: %s port %u (%s)\n"), id,
                    postage_account_get_host (account), postage_account_get_port (account),
                    postage_security_to_string (postage_account_get_security (account)));
      else if (!postage_account_store_save (store, account, &error))
        {
          g_printerr (_("postage: “%s” not imported: %s\n"), id, error->message);
          g_clear_error (&error);
          code = POSTAGE_EXIT_CONFIG;
          continue;
        }
      else
        {
          /* Translators: account name, host, port, security mode */
          g_printerr (_("postage: “%s” imported: %s port %u (%s)\n"), id,
                      postage_account_get_host (account), postage_account_get_port (account),
                      postage_security_to_string (postage_account_get_security (account)));
          imported++;
        }
      if (item->had_passwordeval)
        g_printerr ("%s\n", _("postage:   its passwordeval command was NOT run and is not "
                              "used: Postage reads the password from the keyring"));
      if (item->had_password)
        g_printerr ("%s\n", _("postage:   its password line was NOT used or copied: keep "
                              "passwords in the keyring, not in the file"));
      report_keyring (account);
    }
  if (dry_run)
    g_printerr ("%s\n", _("postage: nothing was changed (--dry-run)"));
  else
    g_printerr (g_dngettext (GETTEXT_PACKAGE, "postage: %u account imported\n",
                             "postage: %u accounts imported\n", imported), imported);
  return code;
}

/* GLib's default writer sends debug and info to stdout, which belongs to
 * scripts here (the final reply, the account list): keep all logs on stderr. */
static GLogWriterOutput
log_to_stderr (GLogLevelFlags   level,
               const GLogField *fields,
               gsize            n_fields,
               gpointer         user_data)
{
  g_autofree char *line = NULL;
  const char *domain = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
  if (g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;
  line = g_log_writer_format_fields (level, fields, n_fields, FALSE);
  fprintf (stderr, "%s\n", line);
  return G_LOG_WRITER_HANDLED;
}

/* A link named "sendmail" to postage (in ~/bin, or /usr/sbin/sendmail)
 * makes it the sendmail of cron, git and scripts. */
static gboolean
invoked_as_sendmail (int    argc,
                     char **argv)
{
  g_autofree char *name = argc >= 1 ? g_path_get_basename (argv[0]) : NULL;

  return name != NULL && strcmp (name, "sendmail") == 0;
}

gboolean
postage_cli_handles (int    argc,
                     char **argv)
{
  static const char *const verbs[] = { "send", "account", "outbox", "sendmail" };

  if (invoked_as_sendmail (argc, argv))
    return TRUE;
  for (guint i = 0; argc >= 2 && i < G_N_ELEMENTS (verbs); i++)
    if (strcmp (argv[1], verbs[i]) == 0)
      return TRUE;
  return FALSE;
}

int
postage_cli_run (int    argc,
                 char **argv)
{
  g_return_val_if_fail (postage_cli_handles (argc, argv), POSTAGE_EXIT_USAGE);

  g_set_prgname ("postage");
  g_log_set_writer_func (log_to_stderr, NULL, NULL);
  if (invoked_as_sendmail (argc, argv))
    return _postage_cli_sendmail_command (argc, argv);
  if (strcmp (argv[1], "account") == 0)
    return account_command (argc, argv);
  if (strcmp (argv[1], "outbox") == 0)
    return _postage_cli_outbox_command (argc - 1, argv + 1);
  if (strcmp (argv[1], "sendmail") == 0)
    return _postage_cli_sendmail_command (argc - 1, argv + 1);
  return _postage_cli_send_command (argc - 1, argv + 1);
}
