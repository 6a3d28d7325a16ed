/* test-outbox-queue.c — the queue's verdicts, back-off and network return
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * classify() is pure. The queue itself sends through the real SMTP engine to
 * the real aiosmtpd server (tests/lib/aiosmtpd-server.py, STARTTLS + AUTH on
 * 127.0.0.1) with its --refuse-while switch for "451, not now". Two stand-ins
 * only, both the queue's own seams: a clock (time moves by assignment, no
 * test ever sleeps) and a GNetworkMonitor whose availability the test sets.
 * Runs in a throw-away session (tests/lib/with-session.sh) for the account
 * store's folder; the password comes from the queue's password function.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "accounts/postage-account-store.h"
#include "smtp/postage-smtp-error.h"
#include "store/postage-outbox-queue.h"
#include "store-test-util.h"

#define TEST_USER     "sam@example.test"
#define TEST_PASSWORD "app-specific-pass-1234"
#define WAIT_SECONDS  60

/* A GNetworkMonitor whose answer the test decides. */

#define TEST_TYPE_MONITOR (test_monitor_get_type ())
G_DECLARE_FINAL_TYPE (TestMonitor, test_monitor, TEST, MONITOR, GObject)

struct _TestMonitor
{
  GObject  parent_instance;
  gboolean available;
};

enum {
  PROP_0,
  PROP_NETWORK_AVAILABLE,
  PROP_NETWORK_METERED,
  PROP_CONNECTIVITY,
};

static void test_monitor_initable_iface_init (GInitableIface *iface);
static void test_monitor_iface_init          (GNetworkMonitorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestMonitor, test_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      test_monitor_initable_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR,
                                                      test_monitor_iface_init))

static gboolean
test_monitor_initable_init (GInitable     *initable,
                            GCancellable  *cancellable,
                            GError       **error)
{
  return TRUE;
}

static void
test_monitor_initable_iface_init (GInitableIface *iface)
{
  iface->init = test_monitor_initable_init;
}

static gboolean
test_monitor_can_reach (GNetworkMonitor     *monitor,
                        GSocketConnectable  *connectable,
                        GCancellable        *cancellable,
                        GError             **error)
{
  if (TEST_MONITOR (monitor)->available)
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE, "test: no network");
  return FALSE;
}

static void
test_monitor_iface_init (GNetworkMonitorInterface *iface)
{
  iface->can_reach = test_monitor_can_reach;
}

static void
test_monitor_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TestMonitor *self = TEST_MONITOR (object);

  switch (prop_id)
    {
    case PROP_NETWORK_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    case PROP_NETWORK_METERED:
      g_value_set_boolean (value, FALSE);
      break;
    case PROP_CONNECTIVITY:
      g_value_set_enum (value, self->available ? G_NETWORK_CONNECTIVITY_FULL
                                               : G_NETWORK_CONNECTIVITY_LOCAL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_monitor_class_init (TestMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_monitor_get_property;
  g_object_class_override_property (object_class, PROP_NETWORK_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, PROP_NETWORK_METERED, "network-metered");
  g_object_class_override_property (object_class, PROP_CONNECTIVITY, "connectivity");
}

static void
test_monitor_init (TestMonitor *self)
{
  self->available = TRUE;
}

static void
test_monitor_set_available (TestMonitor *self,
                            gboolean     available)
{
  if (self->available == available)
    return;
  self->available = available;
  g_object_notify (G_OBJECT (self), "network-available");
  g_object_notify (G_OBJECT (self), "connectivity");
  g_signal_emit_by_name (self, "network-changed", available);
}

/* classify() */

static GError *
smtp_error (PostageSmtpErrorCode code,
            guint                reply_code)
{
  GError *error = NULL;

  postage_smtp_set_error (&error, code, reply_code, NULL, NULL, "test error %u", reply_code);
  return error;
}

static void
test_classify (void)
{
  static const struct {
    GQuark               domain; /* 0: POSTAGE_SMTP_ERROR */
    int                  code;
    guint                reply;
    PostageOutboxOutcome outcome;
  } cases[] = {
    { 0, POSTAGE_SMTP_ERROR_TRANSIENT, 421, POSTAGE_OUTBOX_OUTCOME_QUEUED },
    { 0, POSTAGE_SMTP_ERROR_TRANSIENT, 451, POSTAGE_OUTBOX_OUTCOME_QUEUED },
    { 0, POSTAGE_SMTP_ERROR_SENDER_REJECTED, 451, POSTAGE_OUTBOX_OUTCOME_QUEUED },
    { 0, POSTAGE_SMTP_ERROR_RECIPIENT_REJECTED, 450, POSTAGE_OUTBOX_OUTCOME_QUEUED },
    { 0, POSTAGE_SMTP_ERROR_MESSAGE_REJECTED, 452, POSTAGE_OUTBOX_OUTCOME_QUEUED },
    { 0, POSTAGE_SMTP_ERROR_CONNECT, 0, POSTAGE_OUTBOX_OUTCOME_QUEUED },
    { 0, POSTAGE_SMTP_ERROR_CLOSED, 0, POSTAGE_OUTBOX_OUTCOME_QUEUED },
    { 0, POSTAGE_SMTP_ERROR_SENDER_REJECTED, 553, POSTAGE_OUTBOX_OUTCOME_FAILED },
    { 0, POSTAGE_SMTP_ERROR_RECIPIENT_REJECTED, 550, POSTAGE_OUTBOX_OUTCOME_FAILED },
    { 0, POSTAGE_SMTP_ERROR_MESSAGE_REJECTED, 554, POSTAGE_OUTBOX_OUTCOME_FAILED },
    { 0, POSTAGE_SMTP_ERROR_MESSAGE_TOO_LARGE, 552, POSTAGE_OUTBOX_OUTCOME_FAILED },
    { 0, POSTAGE_SMTP_ERROR_PERMANENT, 500, POSTAGE_OUTBOX_OUTCOME_FAILED },
    { 0, POSTAGE_SMTP_ERROR_AUTH_FAILED, 535, POSTAGE_OUTBOX_OUTCOME_FAILED },
    { 0, POSTAGE_SMTP_ERROR_CERTIFICATE_UNTRUSTED, 0, POSTAGE_OUTBOX_OUTCOME_FAILED },
    { 0, POSTAGE_SMTP_ERROR_NO_STARTTLS, 0, POSTAGE_OUTBOX_OUTCOME_FAILED },
    { 0, POSTAGE_SMTP_ERROR_PROTOCOL, 0, POSTAGE_OUTBOX_OUTCOME_FAILED },
    { 0, POSTAGE_SMTP_ERROR_DELIVERY_UNKNOWN, 0, POSTAGE_OUTBOX_OUTCOME_UNCERTAIN },
  };
  const gint64 created = 1700000000;
  const gint64 five_days = 5 * 24 * 3600;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (postage_outbox_queue_classify (NULL, created, created), ==,
                   POSTAGE_OUTBOX_OUTCOME_SENT);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) e = smtp_error (cases[i].code, cases[i].reply);

      g_test_message ("case %u: code %d, reply %u", i, cases[i].code, cases[i].reply);
      g_assert_cmpint (postage_outbox_queue_classify (e, created, created + 60), ==,
                       cases[i].outcome);
      /* Five days of "not now" and it is "not ever" (RFC 5321 §4.5.4.1);
       * the other verdicts do not age. */
      g_assert_cmpint (postage_outbox_queue_classify (e, created, created + five_days), ==,
                       cases[i].outcome);
      g_assert_cmpint (postage_outbox_queue_classify (e, created, created + five_days + 1), ==,
                       cases[i].outcome == POSTAGE_OUTBOX_OUTCOME_QUEUED
                         ? POSTAGE_OUTBOX_OUTCOME_FAILED : cases[i].outcome);
      /* An entry with no creation time never ages out. */
      g_assert_cmpint (postage_outbox_queue_classify (e, 0, created + five_days + 1), ==,
                       cases[i].outcome);
    }

  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out");
  g_assert_cmpint (postage_outbox_queue_classify (error, created, created), ==,
                   POSTAGE_OUTBOX_OUTCOME_QUEUED);
  g_clear_error (&error);
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
  g_assert_cmpint (postage_outbox_queue_classify (error, created, created), ==,
                   POSTAGE_OUTBOX_OUTCOME_CANCELLED);
  g_clear_error (&error);
  /* The message file is gone: nothing can ever send it. */
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
  g_assert_cmpint (postage_outbox_queue_classify (error, created, created), ==,
                   POSTAGE_OUTBOX_OUTCOME_BROKEN);
  g_clear_error (&error);
  /* Our own full disk: nothing was delivered, later it may work. */
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NO_SPACE, "full");
  g_assert_cmpint (postage_outbox_queue_classify (error, created, created), ==,
                   POSTAGE_OUTBOX_OUTCOME_QUEUED);
  g_clear_error (&error);
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "denied");
  g_assert_cmpint (postage_outbox_queue_classify (error, created, created), ==,
                   POSTAGE_OUTBOX_OUTCOME_FAILED);
  g_clear_error (&error);
  error = g_error_new_literal (POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NOT_FOUND, "no");
  g_assert_cmpint (postage_outbox_queue_classify (error, created, created), ==,
                   POSTAGE_OUTBOX_OUTCOME_FAILED);
}

/* The queue against a real server */

static char *cert_dir;
static char *top;

typedef struct {
  char                 *id;
  PostageOutboxOutcome  outcome;
  char                 *reply;
  char                 *message; /* the error's */
} Finished;

static void
finished_free (gpointer data)
{
  Finished *finished = data;

  g_free (finished->id);
  g_free (finished->reply);
  g_free (finished->message);
  g_free (finished);
}

typedef struct {
  char                *dir;
  char                *spool;
  char                *refuse;   /* while this file exists the server says 451 */
  GSubprocess         *server;
  guint16              port;
  PostageAccountStore *accounts;
  PostageOutbox       *outbox;
  PostageOutboxQueue  *queue;
  TestMonitor         *monitor;
  gint64               now;      /* the queue's clock */
  GPtrArray           *finished; /* of Finished */
  gboolean             idle;     /* ::idle since the last wait began */
  gboolean             skip;
} Fixture;

static gint64
clock_cb (gpointer user_data)
{
  Fixture *fixture = user_data;

  return fixture->now;
}

static char *
password_cb (const char *account_id,
             gpointer    user_data)
{
  g_assert_cmpstr (account_id, ==, TEST_USER);
  return g_strdup (TEST_PASSWORD);
}

static void
finished_cb (PostageOutboxQueue *queue,
             const char         *id,
             int                 outcome,
             const char         *reply,
             const GError       *error,
             Fixture            *fixture)
{
  Finished *finished = g_new0 (Finished, 1);

  finished->id = g_strdup (id);
  finished->outcome = outcome;
  finished->reply = g_strdup (reply);
  finished->message = error != NULL ? g_strdup (error->message) : NULL;
  g_test_message ("finished %s: outcome %d, reply %s, error %s", id, outcome,
                  reply != NULL ? reply : "-", error != NULL ? error->message : "-");
  g_ptr_array_add (fixture->finished, finished);
}

static void
idle_cb (PostageOutboxQueue *queue,
         Fixture            *fixture)
{
  fixture->idle = TRUE;
}

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
start_server (Fixture *fixture)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *server_py = g_build_filename (g_getenv ("POSTAGE_SOURCE_ROOT"), "tests",
                                                 "lib", "aiosmtpd-server.py", NULL);
  g_autofree char *line = NULL;
  const char *argv[] = { "/usr/bin/python3", server_py, "--cert-dir", cert_dir,
                         "--user", TEST_USER, "--password", TEST_PASSWORD,
                         "--spool", fixture->spool, "--refuse-while", fixture->refuse, NULL };

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  fixture->server = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  /* "PORT <n>" once it listens; EOF when it could not start. */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fixture->server));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL || !g_str_has_prefix (line, "PORT "))
    return FALSE;
  fixture->port = (guint16) g_ascii_strtoull (line + 5, NULL, 10);
  g_assert_cmpuint (fixture->port, >, 0);
  return TRUE;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(PostageAccount) account = postage_account_new (TEST_USER);
  g_autoptr(GError) error = NULL;
  g_autofree char *ca_file = g_build_filename (cert_dir, "ca.pem", NULL);
  g_autofree char *root = NULL;

  fixture->dir = store_test_make_dir (top);
  fixture->spool = g_build_filename (fixture->dir, "spool", NULL);
  fixture->refuse = g_build_filename (fixture->dir, "refuse", NULL);
  fixture->finished = g_ptr_array_new_with_free_func (finished_free);
  fixture->now = g_get_real_time () / G_USEC_PER_SEC;
  if (!start_server (fixture))
    {
      fixture->skip = TRUE;
      return;
    }

  postage_account_set_display_name (account, "Sam Sender");
  postage_account_set_email (account, TEST_USER);
  postage_account_set_host (account, "127.0.0.1");
  postage_account_set_port (account, fixture->port);
  postage_account_set_security (account, POSTAGE_SECURITY_STARTTLS);
  postage_account_set_user (account, TEST_USER);
  postage_account_set_ca_file (account, ca_file);
  fixture->accounts = postage_account_store_new ();
  postage_account_store_load (fixture->accounts, NULL);
  postage_account_store_save (fixture->accounts, account, &error);
  g_assert_no_error (error);

  root = g_build_filename (fixture->dir, "data", NULL);
  fixture->outbox = postage_outbox_new (root);
  fixture->monitor = g_object_new (TEST_TYPE_MONITOR, NULL);
  fixture->queue = postage_outbox_queue_new (fixture->outbox, fixture->accounts);
  postage_outbox_queue_set_clock (fixture->queue, clock_cb, fixture);
  postage_outbox_queue_set_network_monitor (fixture->queue, G_NETWORK_MONITOR (fixture->monitor));
  postage_outbox_queue_set_password_func (fixture->queue, password_cb, NULL, NULL);
  postage_outbox_queue_set_timeout (fixture->queue, 20);
  g_signal_connect (fixture->queue, "finished", G_CALLBACK (finished_cb), fixture);
  g_signal_connect (fixture->queue, "idle", G_CALLBACK (idle_cb), fixture);
}

static void
fixture_tear (Fixture       *fixture,
              gconstpointer  data)
{
  if (fixture->queue != NULL)
    {
      g_assert_false (postage_outbox_queue_is_busy (fixture->queue));
      postage_outbox_queue_set_automatic (fixture->queue, FALSE);
      g_assert_finalize_object (fixture->queue);
    }
  g_clear_object (&fixture->monitor);
  g_clear_pointer (&fixture->outbox, postage_outbox_unref);
  g_clear_object (&fixture->accounts);
  if (fixture->server != NULL)
    {
      g_subprocess_send_signal (fixture->server, SIGTERM);
      g_subprocess_wait (fixture->server, NULL, NULL);
      g_clear_object (&fixture->server);
    }
  g_assert_true (store_test_rm_rf (fixture->dir));
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->spool, g_free);
  g_clear_pointer (&fixture->refuse, g_free);
  g_clear_pointer (&fixture->finished, g_ptr_array_unref);
}

static gboolean
skip_without_server (Fixture *fixture)
{
  if (fixture->skip)
    g_test_skip ("the aiosmtpd server did not start (is python3-aiosmtpd installed?)");
  return fixture->skip;
}

static gboolean
timed_out_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Bounded: spins the main context until @count tries have finished and the
 * queue said ::idle, failing after WAIT_SECONDS. */
static void
wait_finished (Fixture *fixture,
               guint    count)
{
  gboolean timed_out = FALSE;
  guint guard = g_timeout_add_seconds (WAIT_SECONDS, timed_out_cb, &timed_out);

  while (!timed_out && (fixture->finished->len < count || !fixture->idle))
    g_main_context_iteration (NULL, TRUE);
  fixture->idle = FALSE;
  g_assert_false (postage_outbox_queue_is_busy (fixture->queue));
  g_assert_false (timed_out);
  g_source_remove (guard);
  g_assert_cmpuint (fixture->finished->len, ==, count);
}

/* Runs whatever is ready now, without waiting for anything. */
static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static Finished *
last_finished (Fixture *fixture)
{
  g_assert_cmpuint (fixture->finished->len, >, 0);
  return g_ptr_array_index (fixture->finished, fixture->finished->len - 1);
}

static PostageOutboxEntry *
get (Fixture    *fixture,
     const char *id)
{
  g_autoptr(GError) error = NULL;
  PostageOutboxEntry *entry = postage_outbox_get (fixture->outbox, id, &error);

  g_assert_no_error (error);
  return entry;
}

static void
submit_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  PostageOutboxEntry **entry = user_data;
  g_autoptr(GError) error = NULL;

  *entry = postage_outbox_queue_submit_finish (POSTAGE_OUTBOX_QUEUE (source), result, &error);
  g_assert_no_error (error);
}

static PostageOutboxEntry *
submit (Fixture    *fixture,
        const char *subject)
{
  g_autoptr(PostageDraft) draft = store_test_make_draft (TEST_USER, subject);
  PostageOutboxEntry *entry = NULL;
  gboolean timed_out = FALSE;
  guint guard = g_timeout_add_seconds (WAIT_SECONDS, timed_out_cb, &timed_out);

  postage_outbox_queue_submit_async (fixture->queue, draft, NULL, NULL, submit_cb, &entry);
  /* Busy while the message is written, so that quitting waits for it. */
  g_assert_true (postage_outbox_queue_is_busy (fixture->queue));
  while (entry == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (guard);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
  return entry;
}

static PostageOutboxEntry *
add (Fixture    *fixture,
     const char *subject)
{
  g_autoptr(PostageDraft) draft = store_test_make_draft (TEST_USER, subject);
  g_autoptr(GError) error = NULL;
  PostageOutboxEntry *entry = postage_outbox_add (fixture->outbox, draft, &error);

  g_assert_no_error (error);
  return entry;
}

/* What the server kept is what the outbox kept in sent/. */
static void
assert_delivered (Fixture    *fixture,
                  const char *id,
                  const char *stem)
{
  g_autofree char *eml_name = g_strconcat (stem, ".eml", NULL);
  g_autofree char *eml = g_build_filename (fixture->spool, eml_name, NULL);
  g_autofree char *sent = postage_outbox_dup_sent_path (fixture->outbox, id);
  g_autofree char *received = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *reply = NULL;
  g_autoptr(GKeyFile) record = NULL;
  g_autoptr(GError) error = NULL;
  gsize received_length, kept_length;

  received = store_test_read (eml, &received_length);
  kept = store_test_read (sent, &kept_length);
  g_assert_cmpmem (received, received_length, kept, kept_length);
  record = postage_outbox_load_sent (fixture->outbox, id, &error);
  g_assert_no_error (error);
  reply = g_key_file_get_string (record, "Sent", "reply", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (reply, stem));
}

static void
test_backoff (Fixture       *fixture,
              gconstpointer  data)
{
  /* After try n the wait is 1, 5, 15, then 60 minutes. */
  static const gint64 delays[] = { 60, 5 * 60, 15 * 60, 60 * 60, 60 * 60 };
  g_autoptr(PostageOutboxEntry) submitted = NULL;
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  Finished *finished;

  if (skip_without_server (fixture))
    return;
  store_test_write (fixture->refuse, "", 0);

  /* Submitted: first in line at once, refused with 451. */
  submitted = submit (fixture, "Back off");
  wait_finished (fixture, 1);
  finished = last_finished (fixture);
  g_assert_cmpstr (finished->id, ==, submitted->id);
  g_assert_cmpint (finished->outcome, ==, POSTAGE_OUTBOX_OUTCOME_QUEUED);
  g_assert_nonnull (strstr (finished->message, "Not accepting messages right now"));

  for (guint n = 1; n <= G_N_ELEMENTS (delays); n++)
    {
      gint64 tried = fixture->now;

      entry = get (fixture, submitted->id);
      g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
      g_assert_cmpuint (entry->attempts, ==, n);
      g_assert_cmpuint (entry->last_code, ==, 451);
      g_assert_cmpint (entry->last_attempt, ==, tried);
      g_assert_cmpint (entry->next_try, ==, tried + delays[n - 1]);

      /* A second early: not due, nothing is tried. */
      fixture->now = entry->next_try - 1;
      postage_outbox_queue_run_due (fixture->queue, FALSE);
      g_assert_false (postage_outbox_queue_is_busy (fixture->queue));
      drain ();
      g_assert_cmpuint (fixture->finished->len, ==, n);

      /* Due: tried again (the last time, the server takes it). */
      fixture->now = entry->next_try;
      if (n == G_N_ELEMENTS (delays))
        g_assert_cmpint (g_unlink (fixture->refuse), ==, 0);
      postage_outbox_queue_run_due (fixture->queue, FALSE);
      g_assert_true (postage_outbox_queue_is_busy (fixture->queue));
      wait_finished (fixture, n + 1);
      g_clear_pointer (&entry, postage_outbox_entry_free);
    }

  finished = last_finished (fixture);
  g_assert_cmpint (finished->outcome, ==, POSTAGE_OUTBOX_OUTCOME_SENT);
  g_assert_null (finished->message);
  g_assert_nonnull (strstr (finished->reply, "0001"));
  assert_delivered (fixture, submitted->id, "0001");
  entries = postage_outbox_list (fixture->outbox, NULL);
  g_assert_cmpuint (entries->len, ==, 0);
  /* Only one copy reached the server. */
  g_assert_cmpuint (store_test_count_dir (fixture->spool), ==, 2);
}

/* Five days of 451 and the queue gives up: FAILED, with the server's words. */
static void
test_give_up (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) submitted = NULL;
  g_autoptr(PostageOutboxEntry) entry = NULL;

  if (skip_without_server (fixture))
    return;
  store_test_write (fixture->refuse, "", 0);
  submitted = submit (fixture, "Give up");
  wait_finished (fixture, 1);
  g_assert_cmpint (last_finished (fixture)->outcome, ==, POSTAGE_OUTBOX_OUTCOME_QUEUED);

  fixture->now = submitted->created + 5 * 24 * 3600 + 1;
  postage_outbox_queue_run_due (fixture->queue, FALSE);
  wait_finished (fixture, 2);
  g_assert_cmpint (last_finished (fixture)->outcome, ==, POSTAGE_OUTBOX_OUTCOME_FAILED);
  entry = get (fixture, submitted->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_FAILED);
  g_assert_cmpuint (entry->last_code, ==, 451);
  g_assert_nonnull (strstr (entry->last_error, "Not accepting messages right now"));

  /* FAILED is never tried again by itself, however late it gets. */
  fixture->now += 24 * 3600;
  postage_outbox_queue_run_due (fixture->queue, TRUE);
  g_assert_false (postage_outbox_queue_is_busy (fixture->queue));
  g_assert_cmpuint (store_test_count_dir (fixture->spool), ==, 0);
}

/* Automatic mode: nothing goes while the network is down, not even what is
 * due; when it comes back every queued entry is tried at once, whatever
 * its next-try time. */
static void
test_network_back (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) waiting1 = NULL;
  g_autoptr(PostageOutboxEntry) waiting2 = NULL;
  g_autoptr(PostageOutboxEntry) due = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  const char *ids[3];
  gint64 frozen;

  if (skip_without_server (fixture))
    return;
  /* Two that failed earlier and wait an hour, one new. */
  waiting1 = add (fixture, "Waiting one");
  waiting2 = add (fixture, "Waiting two");
  due = add (fixture, "Due now");
  for (guint i = 0; i < 2; i++)
    {
      const char *id = i == 0 ? waiting1->id : waiting2->id;
      g_autoptr(PostageOutboxClaim) claim = postage_outbox_claim (fixture->outbox, id,
                                                                  fixture->now, &error);

      g_assert_no_error (error);
      g_assert_true (postage_outbox_claim_failed (claim, TRUE, fixture->now + 3600, 0,
                                                  "The network is down.", &error));
      g_assert_no_error (error);
    }
  frozen = fixture->now;

  test_monitor_set_available (fixture->monitor, FALSE);
  /* Automatic mode looks at the outbox at once (from the main loop), and
   * leaves everything where it is while the network is down. */
  postage_outbox_queue_set_automatic (fixture->queue, TRUE);
  drain ();
  g_assert_false (postage_outbox_queue_is_busy (fixture->queue));
  g_assert_cmpint (postage_outbox_queue_get_next_wakeup (fixture->queue), ==, 0);
  g_assert_cmpuint (fixture->finished->len, ==, 0);
  g_assert_cmpuint (store_test_count_dir (fixture->spool), ==, 0);
  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 3);

  test_monitor_set_available (fixture->monitor, TRUE);
  g_assert_true (postage_outbox_queue_is_busy (fixture->queue));
  wait_finished (fixture, 3);
  g_assert_cmpint (fixture->now, ==, frozen);
  /* Each once, one after another: the n-th try is the server's n-th message. */
  for (guint i = 0; i < 3; i++)
    {
      Finished *finished = g_ptr_array_index (fixture->finished, i);
      g_autofree char *stem = g_strdup_printf ("%04u", i + 1);

      g_assert_cmpint (finished->outcome, ==, POSTAGE_OUTBOX_OUTCOME_SENT);
      assert_delivered (fixture, finished->id, stem);
      ids[i] = finished->id;
    }
  g_assert_cmpstr (ids[0], !=, ids[1]);
  g_assert_cmpstr (ids[1], !=, ids[2]);
  g_assert_cmpstr (ids[0], !=, ids[2]);
  for (guint i = 0; i < 3; i++)
    g_assert_true (g_str_equal (ids[i], waiting1->id) || g_str_equal (ids[i], waiting2->id) ||
                   g_str_equal (ids[i], due->id));
  g_clear_pointer (&entries, g_ptr_array_unref);
  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_cmpuint (entries->len, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  const char *home = g_getenv ("POSTAGE_TEST_HOME");
  g_autofree char *make_certs = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  int ret;

  g_test_init (&argc, &argv, NULL);
  postage_mail_init ();

  top = store_test_make_dir (home);
  cert_dir = g_build_filename (top, "certs", NULL);
  make_certs = g_build_filename (g_getenv ("POSTAGE_SOURCE_ROOT"), "tests", "lib",
                                 "make-certs.sh", NULL);
  {
    const char *certs_argv[] = { "sh", make_certs, cert_dir, NULL };

    g_spawn_sync (NULL, (char **) certs_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                  NULL, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }

#define ADD(path, func) \
  g_test_add ("/postage/outbox-queue/" path, Fixture, NULL, fixture_setup, func, fixture_tear)

  g_test_add_func ("/postage/outbox-queue/classify", test_classify);
  ADD ("backoff", test_backoff);
  ADD ("give-up", test_give_up);
  ADD ("network-back", test_network_back);

#undef ADD

  ret = g_test_run ();
  store_test_rm_rf (top);
  g_clear_pointer (&top, g_free);
  g_clear_pointer (&cert_dir, g_free);
  return ret;
}
