/* test-outbox.c — the Outbox window, and the notifications of a send
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs inside tests/lib/with-session.sh --x11, against the real aiosmtpd
 * server (tests/lib/aiosmtpd-server.py, STARTTLS and AUTH required) with a
 * --refuse-file: recipients listed there get a 4xx or 5xx at RCPT TO, which
 * is how the outbox gets a waiting and a failed entry. The real
 * PostageApplication is registered on the test session bus and sends
 * through its own queue.
 *
 * Notifications: GLib picks GNotification's backend once per process
 * (gio/gnotificationbackend.c). Outside a sandbox, "gtk" (org.gtk.Notifications,
 * priority 100) is used only when that name has an owner; otherwise the
 * fallback "freedesktop" calls org.freedesktop.Notifications.Notify. No
 * GNOME Shell runs here, so this process owns org.freedesktop.Notifications
 * on a connection of its own to the same bus and records each Notify, from
 * the first notification on (GLib warns, fatally here, when Notify fails).
 *
 * Screenshot: outbox.png in the build folder.
 */
#include "config.h"

#include <adwaita.h>
#include <gdk/x11/gdkx.h>
#include <glib/gstdio.h>
#include <string.h>

#include "accounts/postage-account-store.h"
#include "accounts/postage-secret-store.h"
#include "mail/postage-message-writer.h"
#include "store/postage-draft-store.h"
#include "store/postage-outbox.h"
#include "ui/postage-application.h"
#include "ui/postage-composer-window.h"
#include "ui/postage-outbox-window.h"

#include "ui-test-common.h"

#define TEST_USER     "ui-tester"
#define TEST_PASSWORD "correct-horse-outbox-4410"
#define TEST_FROM     "sender@example.test"
#define WAIT_SECONDS  60

/* Refused at RCPT TO, in the server's own words. */
#define TEMP_RCPT     "temp@example.test"
#define TEMP_REPLY    "450 4.2.0 <temp@example.test>: Recipient address rejected: Greylisted, " \
                      "come back later"
#define GONE_RCPT     "nobody@example.test"
#define GONE_REPLY    "550 5.1.1 <nobody@example.test>: Recipient address rejected: User " \
                      "unknown in virtual mailbox table"
#define RELAY_RCPT    "elsewhere@other.test"
#define RELAY_REPLY   "554 5.7.1 <elsewhere@other.test>: Relay access denied"

typedef struct {
  guint32  id;
  char    *summary;
  char    *body;
  GStrv    actions;      /* as sent: id, label, id, label, … */
  char    *desktop_entry;
} Notice;

static struct {
  char               *top;
  char               *cert_dir;
  char               *spool;
  char               *refuse_file;
  char               *stall_file;
  UiTestServer        server;
  char               *skip_reason;
  PostageApplication *app;
  GHashTable         *outcomes;   /* outbox id → PostageOutboxOutcome + 1, from ::finished */
  /* the notification server */
  GDBusConnection    *bus;
  guint               registration;
  guint               owner;
  gboolean            owned;
  GPtrArray          *notices;    /* of Notice, in order */
  /* the entries made for the Outbox window */
  char               *queued_id;
  char               *failed_id;
  char               *doomed_id;
} env;

/* The notification server */

static const char notifications_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.Notifications'>"
  "    <method name='Notify'>"
  "      <arg type='s' direction='in'/><arg type='u' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='as' direction='in'/>"
  "      <arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "      <arg type='u' direction='out'/>"
  "    </method>"
  "    <method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "    <method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "    <method name='GetServerInformation'>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "    </method>"
  "    <signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
  "    <signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
  "  </interface>"
  "</node>";

static void
notice_free (gpointer data)
{
  Notice *notice = data;

  g_free (notice->summary);
  g_free (notice->body);
  g_strfreev (notice->actions);
  g_free (notice->desktop_entry);
  g_free (notice);
}

static void
notifications_method_cb (GDBusConnection       *connection,
                         const char            *sender,
                         const char            *path,
                         const char            *interface,
                         const char            *method,
                         GVariant              *parameters,
                         GDBusMethodInvocation *invocation,
                         gpointer               user_data)
{
  if (g_strcmp0 (method, "Notify") == 0)
    {
      Notice *notice = g_new0 (Notice, 1);
      g_autoptr(GVariant) hints = NULL;
      guint32 replaces;

      g_variant_get (parameters, "(&su&sss^as@a{sv}i)", NULL, &replaces, NULL, &notice->summary,
                     &notice->body, &notice->actions, &hints, NULL);
      g_variant_lookup (hints, "desktop-entry", "s", &notice->desktop_entry);
      notice->id = replaces != 0 ? replaces : env.notices->len + 1;
      g_test_message ("Notify #%u: “%s” — “%s”", notice->id, notice->summary, notice->body);
      g_ptr_array_add (env.notices, notice);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", notice->id));
    }
  else if (g_strcmp0 (method, "GetCapabilities") == 0)
    {
      const char *caps[] = { "actions", "body", NULL };

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", caps));
    }
  else if (g_strcmp0 (method, "GetServerInformation") == 0)
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(ssss)", "postage-test", "Postage",
                                                          "1", "1.2"));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  env.owned = TRUE;
}

static void
name_lost_cb (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  /* Another owner, or no bus: then nothing here is what it claims to test. */
  g_error ("Lost (or never got) %s on the test bus", name);
}

static gboolean
is_owned (gpointer data)
{
  return env.owned;
}

static void
start_notification_server (void)
{
  static const GDBusInterfaceVTable vtable = { notifications_method_cb, NULL, NULL };
  g_autoptr(GDBusNodeInfo) node = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gboolean gtk_owned = TRUE;
  g_autofree char *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);

  g_assert_no_error (error);
  env.bus = g_dbus_connection_new_for_address_sync (address,
                                                    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                    NULL, NULL, &error);
  g_assert_no_error (error);
  node = g_dbus_node_info_new_for_xml (notifications_xml, &error);
  g_assert_no_error (error);
  env.registration = g_dbus_connection_register_object (env.bus, "/org/freedesktop/Notifications",
                                                        node->interfaces[0], &vtable, NULL, NULL,
                                                        &error);
  g_assert_no_error (error);
  env.owner = g_bus_own_name_on_connection (env.bus, "org.freedesktop.Notifications",
                                            G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, name_acquired_cb,
                                            name_lost_cb, NULL, NULL);
  ui_test_spin_until (is_owned, NULL);

  /* Nobody owns org.gtk.Notifications, so GLib takes the freedesktop backend. */
  reply = g_dbus_connection_call_sync (env.bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", "org.gtk.Notifications"),
                                       G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(b)", &gtk_owned);
  g_assert_false (gtk_owned);
}

typedef struct {
  guint       from;     /* index into env.notices to look from */
  const char *summary;  /* a prefix */
  Notice     *found;
} NoticeWait;

static gboolean
has_notice (gpointer data)
{
  NoticeWait *wait = data;

  for (guint i = wait->from; i < env.notices->len; i++)
    {
      Notice *notice = g_ptr_array_index (env.notices, i);

      if (g_str_has_prefix (notice->summary, wait->summary))
        {
          wait->found = notice;
          return TRUE;
        }
    }
  return FALSE;
}

/* The notification whose summary starts with @summary, sent after the
 * first @from ones. */
static Notice *
wait_for_notice (guint       from,
                 const char *summary)
{
  NoticeWait wait = { from, summary, NULL };

  ui_test_spin_until (has_notice, &wait);
  return wait.found;
}

/* The button labels of @notice, in order, and the action of the one labelled @label. */
static char *
notice_buttons (Notice      *notice,
                const char  *label,
                char       **action)
{
  g_autoptr(GString) labels = g_string_new (NULL);

  for (guint i = 0; notice->actions[i] != NULL && notice->actions[i + 1] != NULL; i += 2)
    {
      if (g_strcmp0 (notice->actions[i], "default") == 0)
        continue;
      g_string_append_printf (labels, "%s%s", labels->len > 0 ? " / " : "", notice->actions[i + 1]);
      if (action != NULL && g_strcmp0 (notice->actions[i + 1], label) == 0)
        *action = g_strdup (notice->actions[i]);
    }
  return g_string_free (g_steal_pointer (&labels), FALSE);
}

/* The string an @action button of a notification names (an outbox id for
 * app.retry-send, a draft id for app.open-draft). */
static char *
action_target (const char *detailed,
               const char *action)
{
  g_autofree char *name = NULL;
  g_autoptr(GVariant) target = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (detailed);
  g_assert_true (g_action_parse_detailed_name (detailed, &name, &target, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (name, ==, action);
  g_assert_nonnull (target);
  g_assert_true (g_variant_is_of_type (target, G_VARIANT_TYPE_STRING));
  return g_variant_dup_string (target, NULL);
}

static gboolean
has_default_action (Notice *notice)
{
  for (guint i = 0; notice->actions[i] != NULL; i += 2)
    if (g_strcmp0 (notice->actions[i], "default") == 0)
      return TRUE;
  return FALSE;
}

/* What a click on a notification's button does: the server says so on the bus. */
static void
invoke_notice_action (Notice     *notice,
                      const char *action)
{
  g_autoptr(GError) error = NULL;

  g_dbus_connection_emit_signal (env.bus, NULL, "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications", "ActionInvoked",
                                 g_variant_new ("(us)", notice->id, action), &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (env.bus, NULL, &error);
  g_assert_no_error (error);
}

/* Helpers */

static PostageOutbox *
get_outbox (void)
{
  return postage_outbox_queue_get_outbox (postage_application_get_outbox_queue (env.app));
}

static void
write_refusals (const char *first,
                ...)
{
  g_autoptr(GString) text = g_string_new (NULL);
  va_list args;

  va_start (args, first);
  for (const char *line = first; line != NULL; line = va_arg (args, const char *))
    g_string_append_printf (text, "%s\n", line);
  va_end (args);
  g_assert_true (g_file_set_contents (env.refuse_file, text->str, -1, NULL));
}

static void
finished_cb (PostageOutboxQueue *queue,
             const char         *id,
             int                 outcome,
             const char         *reply,
             const GError       *error,
             gpointer            user_data)
{
  g_test_message ("finished %s: outcome %d, %s", id, outcome,
                  error != NULL ? error->message : reply);
  g_hash_table_insert (env.outcomes, g_strdup (id), GINT_TO_POINTER (outcome + 1));
}

static gboolean
has_outcome (gpointer data)
{
  return g_hash_table_contains (env.outcomes, data);
}

static PostageOutboxOutcome
wait_for_outcome (const char *id)
{
  ui_test_spin_until (has_outcome, (gpointer) id);
  return GPOINTER_TO_INT (g_hash_table_lookup (env.outcomes, id)) - 1;
}

typedef struct {
  PostageOutboxEntry *entry;
  GError             *error;
  gboolean            done;
} Submitted;

static void
submitted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Submitted *submitted = user_data;

  submitted->entry = postage_outbox_queue_submit_finish (POSTAGE_OUTBOX_QUEUE (source), result,
                                                         &submitted->error);
  submitted->done = TRUE;
}

static gboolean
is_submitted (gpointer data)
{
  return ((Submitted *) data)->done;
}

static PostageDraft *
new_draft (const char *to,
           const char *subject)
{
  PostageDraft *draft = postage_draft_new ();

  draft->account_id = g_strdup (TEST_FROM);
  draft->from_address = g_strdup (TEST_FROM);
  draft->from_name = g_strdup ("Sam Sender");
  draft->to = g_strdup (to);
  draft->subject = g_strdup (subject);
  draft->body = g_strdup_printf ("Hello,\n\nthis is “%s”.\n", subject);
  return draft;
}

/* Hands @draft to the application's queue, as a composer closed mid-send
 * leaves it, and waits for the first try's outcome. Returns the entry's id. */
static char *
send_through_queue (const PostageDraft   *draft,
                    PostageOutboxOutcome  expected)
{
  Submitted submitted = { 0 };
  g_autofree char *id = NULL;

  postage_outbox_queue_submit_async (postage_application_get_outbox_queue (env.app), draft, NULL, NULL,
                                     submitted_cb, &submitted);
  ui_test_spin_until (is_submitted, &submitted);
  g_assert_no_error (submitted.error);
  id = g_strdup (submitted.entry->id);
  postage_outbox_entry_free (submitted.entry);
  g_assert_cmpint (wait_for_outcome (id), ==, expected);
  return g_steal_pointer (&id);
}

static PostageOutboxWindow *
show_outbox (void)
{
  g_autoptr(GList) windows = NULL;

  g_action_group_activate_action (G_ACTION_GROUP (env.app), "show-outbox", NULL);
  windows = ui_test_list_windows (GTK_APPLICATION (env.app), POSTAGE_TYPE_OUTBOX_WINDOW);
  g_assert_cmpuint (g_list_length (windows), ==, 1);
  return windows->data;
}

/* The row of entry @id in @window's list, or NULL. */
static AdwActionRow *
find_row (PostageOutboxWindow *window,
          const char          *id)
{
  for (GtkWidget *row = gtk_widget_get_first_child (ui_test_child (window, "list")); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (gtk_widget_get_name (row), id) == 0)
      return ADW_ACTION_ROW (row);
  return NULL;
}

static GtkWidget *
row_button (PostageOutboxWindow *window,
            const char          *id,
            const char          *action)
{
  AdwActionRow *row = find_row (window, id);
  GtkWidget *button;

  g_assert_nonnull (row);
  button = ui_test_find_action_button (GTK_WIDGET (row), action, g_variant_new_string (id));
  g_assert_nonnull (button);
  return button;
}

static AdwMessageDialog *
find_message_dialog (GtkWindow *parent)
{
  g_autoptr(GListModel) toplevels = g_object_ref (gtk_window_get_toplevels ());

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)) &&
          gtk_window_get_transient_for (GTK_WINDOW (window)) == parent)
        return ADW_MESSAGE_DIALOG (window);
    }
  return NULL;
}

static gboolean
entry_exists (const char *id)
{
  g_autoptr(PostageOutboxEntry) entry = postage_outbox_get (get_outbox (), id, NULL);

  return entry != NULL;
}

static void
assert_labelled (GtkWidget *window)
{
  g_autoptr(GPtrArray) unlabelled = ui_test_list_unlabelled (window);

  for (guint i = 0; i < unlabelled->len; i++)
    g_test_message ("no accessible name: %s", (const char *) g_ptr_array_index (unlabelled, i));
  g_assert_cmpuint (unlabelled->len, ==, 0);
}

/* Cases: the Outbox window */

static void
test_outbox_list (void)
{
  g_autoptr(PostageDraft) queued = NULL;
  g_autoptr(PostageDraft) failed = NULL;
  g_autoptr(PostageDraft) doomed = NULL;
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(GError) error = NULL;
  PostageOutboxWindow *window;
  AdwActionRow *row;
  const char *subtitle;

  if (!ui_test_require (env.skip_reason))
    return;

  write_refusals (TEMP_RCPT " " TEMP_REPLY, GONE_RCPT " " GONE_REPLY,
                  RELAY_RCPT " " RELAY_REPLY, NULL);
  queued = new_draft (TEMP_RCPT, "Waiting for the greylist");
  failed = new_draft (GONE_RCPT, "To someone who left");
  failed->cc = g_strdup ("carol@example.test");
  failed->bcc = g_strdup ("hidden-dave@example.test");
  g_free (failed->body);
  failed->body = g_strdup ("Dear Nobody,\n\nthis one\r\ncomes back.\n");
  doomed = new_draft (RELAY_RCPT, "Not through this server");
  env.queued_id = send_through_queue (queued, POSTAGE_OUTBOX_OUTCOME_QUEUED);
  env.failed_id = send_through_queue (failed, POSTAGE_OUTBOX_OUTCOME_FAILED);
  env.doomed_id = send_through_queue (doomed, POSTAGE_OUTBOX_OUTCOME_FAILED);

  entry = postage_outbox_get (get_outbox (), env.queued_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
  g_assert_cmpuint (entry->attempts, ==, 1);
  g_assert_cmpint (entry->next_try, >, g_get_real_time () / G_USEC_PER_SEC);

  window = show_outbox ();
  ui_test_wait_for_frames (GTK_WINDOW (window));
  g_assert_cmpstr (adw_window_title_get_subtitle (ui_test_child (window, "window_title")), ==,
                   "3 messages");

  /* Waiting: where it stands, the server's words, when the next try is. */
  row = find_row (window, env.queued_id);
  g_assert_nonnull (row);
  subtitle = adw_action_row_get_subtitle (row);
  g_test_message ("queued row: %s\n%s", adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)),
                  subtitle);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==,
                   "Waiting for the greylist");
  g_assert_nonnull (strstr (subtitle, "Recipients: " TEMP_RCPT));
  g_assert_nonnull (strstr (subtitle, "Waiting; tried 1 time, next try at "));
  g_assert_nonnull (strstr (subtitle, "Greylisted, come back later"));
  g_assert_nonnull (strstr (subtitle, "450"));

  /* Failed: said so, with the server's words. */
  row = find_row (window, env.failed_id);
  g_assert_nonnull (row);
  subtitle = adw_action_row_get_subtitle (row);
  g_test_message ("failed row: %s", subtitle);
  g_assert_nonnull (strstr (subtitle, "\nNot sent\n"));
  /* Oldest first, even within one second. */
  g_assert_cmpint (gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (find_row (window, env.queued_id))),
                   <, gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (row)));
  g_assert_nonnull (strstr (subtitle, "User unknown in virtual mailbox table"));
  g_assert_nonnull (strstr (subtitle, "550"));
  g_assert_null (strstr (subtitle, "next try"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (find_row (window, env.doomed_id)),
                            "Relay access denied"));

  /* Each row has its three buttons, each with a name a screen reader says. */
  row_button (window, env.queued_id, "outbox.retry");
  row_button (window, env.queued_id, "outbox.edit");
  row_button (window, env.queued_id, "outbox.delete");
  row_button (window, env.failed_id, "outbox.retry");
  g_assert_true (gtk_widget_is_sensitive (ui_test_child (window, "send_all_button")));
  assert_labelled (GTK_WIDGET (window));

  ui_test_save_screenshot (GTK_WINDOW (window), "outbox.png");
}

static PostageOutboxWindow *retry_window;

static gboolean
sent_and_listed_no_more (gpointer data)
{
  return has_outcome (data) && find_row (retry_window, data) == NULL;
}

static void
test_outbox_retry (void)
{
  PostageOutboxWindow *window;
  g_autoptr(GKeyFile) sent = NULL;
  g_autofree char *eml_path = NULL;
  g_autofree char *json_path = NULL;
  g_autofree char *json = NULL;
  g_autofree char *eml = NULL;
  guint before;

  if (!ui_test_require (env.skip_reason))
    return;
  g_assert_nonnull (env.queued_id);

  /* The greylisting is over; Retry Now does not wait for the next try. */
  write_refusals (GONE_RCPT " " GONE_REPLY, RELAY_RCPT " " RELAY_REPLY, NULL);
  before = ui_test_count_spooled (env.spool);
  window = retry_window = show_outbox ();
  g_hash_table_remove (env.outcomes, env.queued_id);
  ui_test_click (row_button (window, env.queued_id, "outbox.retry"));
  ui_test_spin_until (sent_and_listed_no_more, env.queued_id);
  g_assert_cmpint (wait_for_outcome (env.queued_id), ==, POSTAGE_OUTBOX_OUTCOME_SENT);

  /* It arrived, and the outbox keeps its copy in sent/, not in the list. */
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before + 1);
  json_path = g_strdup_printf ("%s/%04u.json", env.spool, before + 1);
  eml_path = g_strdup_printf ("%s/%04u.eml", env.spool, before + 1);
  g_assert_true (g_file_get_contents (json_path, &json, NULL, NULL));
  g_assert_true (g_file_get_contents (eml_path, &eml, NULL, NULL));
  g_assert_nonnull (strstr (json, "\"" TEMP_RCPT "\""));
  g_assert_nonnull (strstr (eml, "Subject: Waiting for the greylist"));
  g_assert_false (entry_exists (env.queued_id));
  sent = postage_outbox_load_sent (get_outbox (), env.queued_id, NULL);
  g_assert_nonnull (sent);
  g_assert_cmpstr (adw_window_title_get_subtitle (ui_test_child (window, "window_title")), ==,
                   "2 messages");
}

static void
test_outbox_delete (void)
{
  PostageOutboxWindow *window;
  AdwMessageDialog *dialog;
  GtkWidget *button;

  if (!ui_test_require (env.skip_reason))
    return;
  g_assert_nonnull (env.doomed_id);

  window = show_outbox ();

  /* Asked first; Cancel keeps it. */
  ui_test_click (row_button (window, env.doomed_id, "outbox.delete"));
  dialog = find_message_dialog (GTK_WINDOW (window));
  g_assert_nonnull (dialog);
  g_test_message ("%s — %s", adw_message_dialog_get_heading (dialog),
                  adw_message_dialog_get_body (dialog));
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Delete This Message?");
  assert_labelled (GTK_WIDGET (dialog));
  button = ui_test_find_button (GTK_WIDGET (dialog), "_Cancel");
  g_assert_nonnull (button);
  ui_test_click (button);
  g_assert_null (find_message_dialog (GTK_WINDOW (window)));
  g_assert_true (entry_exists (env.doomed_id));
  g_assert_nonnull (find_row (window, env.doomed_id));

  /* Delete: gone from the disk and from the list. */
  ui_test_click (row_button (window, env.doomed_id, "outbox.delete"));
  dialog = find_message_dialog (GTK_WINDOW (window));
  g_assert_nonnull (dialog);
  button = ui_test_find_button (GTK_WIDGET (dialog), "_Delete");
  g_assert_nonnull (button);
  ui_test_click (button);
  g_assert_null (find_message_dialog (GTK_WINDOW (window)));
  g_assert_false (entry_exists (env.doomed_id));
  g_assert_null (find_row (window, env.doomed_id));
  g_assert_nonnull (find_row (window, env.failed_id));
}

static void
test_outbox_edit (void)
{
  g_autoptr(GList) before = ui_test_list_windows (GTK_APPLICATION (env.app), POSTAGE_TYPE_COMPOSER_WINDOW);
  g_autoptr(PostageDraftStore) drafts = postage_draft_store_new (NULL);
  g_autoptr(PostageDraft) saved = NULL;
  g_autofree char *body = NULL;
  PostageOutboxWindow *window;
  PostageComposerWindow *composer;

  if (!ui_test_require (env.skip_reason))
    return;
  g_assert_nonnull (env.failed_id);

  window = show_outbox ();
  ui_test_click (row_button (window, env.failed_id, "outbox.edit"));

  /* A composer with exactly what was written, out of the outbox and into a draft. */
  composer = ui_test_new_window_since (GTK_APPLICATION (env.app), POSTAGE_TYPE_COMPOSER_WINDOW, before);
  body = ui_test_text_view_dup_text (ui_test_child (composer, "body_view"));
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (composer, "to_entry")), ==, GONE_RCPT);
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (composer, "cc_entry")), ==,
                   "carol@example.test");
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (composer, "bcc_entry")), ==,
                   "hidden-dave@example.test");
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (composer, "subject_entry")), ==,
                   "To someone who left");
  g_assert_cmpstr (body, ==, "Dear Nobody,\n\nthis one\r\ncomes back.\n");
  g_assert_true (gtk_widget_get_visible (ui_test_child (composer, "bcc_entry")));
  g_assert_false (entry_exists (env.failed_id));
  g_assert_null (find_row (window, env.failed_id));
  g_assert_nonnull (postage_composer_window_get_draft_id (composer));
  saved = postage_draft_store_load (drafts, postage_composer_window_get_draft_id (composer), NULL);
  g_assert_nonnull (saved);
  g_assert_cmpstr (saved->to, ==, GONE_RCPT);
  g_assert_cmpstr (saved->bcc, ==, "hidden-dave@example.test");

  /* The window is empty now. */
  g_assert_cmpstr (gtk_stack_get_visible_child_name (ui_test_child (window, "stack")), ==, "empty");
  g_assert_false (gtk_widget_is_sensitive (ui_test_child (window, "send_all_button")));
  ui_test_save_screenshot (GTK_WINDOW (window), "outbox-empty.png");

  /* Not needed any more; leave no draft for the cases after this one. */
  ui_test_click (ui_test_find_action_button (GTK_WIDGET (composer), "win.discard-draft", NULL));
  gtk_window_destroy (GTK_WINDOW (composer));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Cases: notifications */

static gboolean
is_not_sending (gpointer data)
{
  return !postage_composer_window_get_sending (data);
}

/* What a window manager does when the person clicks @window. Under Xvfb
 * there is none, and X's focus follows the pointer (PointerRoot), which
 * rests in the middle of the screen, over the composer. */
static void
focus_window (GtkWindow *window)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (window));

  g_assert_true (GDK_IS_X11_SURFACE (surface));
  XSetInputFocus (gdk_x11_display_get_xdisplay (display), gdk_x11_surface_get_xid (surface),
                  RevertToParent, CurrentTime);
  XFlush (gdk_x11_display_get_xdisplay (display));
}

static gboolean
is_inactive (gpointer data)
{
  return !gtk_window_is_active (data);
}

/* A composer of the application, filled in, and not the window with focus. */
static PostageComposerWindow *
unfocused_composer (const char *to,
                    const char *subject)
{
  g_autoptr(GList) before = ui_test_list_windows (GTK_APPLICATION (env.app), POSTAGE_TYPE_COMPOSER_WINDOW);
  PostageComposerWindow *composer;
  PostageOutboxWindow *outbox;

  g_action_group_activate_action (G_ACTION_GROUP (env.app), "new-message", NULL);
  composer = ui_test_new_window_since (GTK_APPLICATION (env.app), POSTAGE_TYPE_COMPOSER_WINDOW, before);
  g_assert_true (postage_composer_window_select_account (composer, TEST_FROM));
  ui_test_type (ui_test_child (composer, "to_entry"), to);
  ui_test_type (ui_test_child (composer, "subject_entry"), subject);
  ui_test_type_in_view (ui_test_child (composer, "body_view"), "Sent while you looked away.");
  ui_test_wait_for_frames (GTK_WINDOW (composer));
  /* The person turns to the Outbox window. */
  g_assert_true (gtk_window_is_active (GTK_WINDOW (composer)));
  outbox = show_outbox ();
  ui_test_wait_for_frames (GTK_WINDOW (outbox));
  focus_window (GTK_WINDOW (outbox));
  ui_test_poll_until (is_inactive, composer);
  g_assert_true (gtk_window_is_active (GTK_WINDOW (outbox)));
  g_assert_false (postage_composer_window_get_notify_always (composer));
  /* The application's queue, which says how a send ended. */
  {
    g_autoptr(PostageOutboxQueue) queue = NULL;

    g_object_get (composer, "queue", &queue, NULL);
    g_assert_true (queue == postage_application_get_outbox_queue (env.app));
  }
  return composer;
}

static void
test_notify_sent (void)
{
  PostageComposerWindow *composer;
  Notice *notice;
  g_autofree char *buttons = NULL;
  g_autofree char *action = NULL;
  guint from;

  if (!ui_test_require (env.skip_reason))
    return;

  composer = unfocused_composer ("ann@example.test", "Lunch on Friday");
  from = env.notices->len;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (composer), "win.send", NULL));
  /* Before the message is written (no main-loop turn yet), its draft already
   * names the outbox entry it becomes: a kill at any later point leaves a
   * draft that is not offered back beside a message that sends itself. */
  {
    g_autoptr(PostageDraftStore) drafts = postage_draft_store_new (NULL);
    g_autofree char *link = postage_draft_store_dup_link (
      drafts, postage_composer_window_get_draft_id (composer));

    g_assert_nonnull (link);
    g_assert_true (postage_outbox_id_is_valid (link));
    ui_test_spin_until (is_not_sending, composer);
    g_assert_nonnull (postage_outbox_load_sent (get_outbox (), link, NULL));
  }
  g_assert_cmpstr (gtk_label_get_text (ui_test_child (composer, "progress_label")), ==, "Sent");

  notice = wait_for_notice (from, "Sent to ");
  g_assert_cmpstr (notice->summary, ==, "Sent to ann@example.test");
  g_assert_cmpstr (notice->body, ==, "Lunch on Friday");
  g_assert_cmpstr (notice->desktop_entry, ==, APP_ID);
  buttons = notice_buttons (notice, "Open Outbox", &action);
  g_assert_cmpstr (buttons, ==, "Open Outbox");
  g_assert_cmpstr (action, ==, "app.show-outbox");
  g_assert_true (has_default_action (notice));
  /* One notification for one send. */
  g_assert_cmpuint (env.notices->len, ==, from + 1);

  gtk_window_destroy (GTK_WINDOW (composer));
}

static void
test_notify_failed (void)
{
  PostageComposerWindow *composer;
  Notice *notice;
  g_autofree char *buttons = NULL;
  g_autofree char *retry = NULL;
  g_autofree char *id = NULL;
  guint from;

  if (!ui_test_require (env.skip_reason))
    return;

  write_refusals (GONE_RCPT " " GONE_REPLY, NULL);
  composer = unfocused_composer (GONE_RCPT, "Are you still there?");
  from = env.notices->len;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (composer), "win.send", NULL));
  ui_test_spin_until (is_not_sending, composer);

  notice = wait_for_notice (from, "Not sent");
  g_assert_true (g_str_has_prefix (notice->summary, "Not sent: "));
  g_assert_nonnull (strstr (notice->summary, "User unknown in virtual mailbox table"));
  g_assert_cmpstr (notice->body, ==, "Are you still there?");
  /* The window took the message back to be fixed, and still holds it: the
   * notification leads there, not to an outbox that no longer has it. */
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (composer, "to_entry")), ==, GONE_RCPT);
  buttons = notice_buttons (notice, "Open Message", &retry);
  g_assert_cmpstr (buttons, ==, "Open Message");
  id = action_target (retry, "app.open-draft");
  g_assert_cmpstr (id, ==, postage_composer_window_get_draft_id (composer));
  g_assert_true (has_default_action (notice));

  /* Even with that window closed, the button opens the message again. */
  gtk_window_destroy (GTK_WINDOW (composer));
  g_action_group_activate_action (G_ACTION_GROUP (env.app), "open-draft",
                                  g_variant_new_string (id));
  composer = NULL;
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (env.app)); l != NULL; l = l->next)
    if (POSTAGE_IS_COMPOSER_WINDOW (l->data) &&
        g_strcmp0 (postage_composer_window_get_draft_id (l->data), id) == 0)
      composer = l->data;
  g_assert_nonnull (composer);
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (composer, "to_entry")), ==, GONE_RCPT);
  gtk_window_destroy (GTK_WINDOW (composer));
}

static void
test_notify_queued (void)
{
  PostageComposerWindow *composer;
  Notice *notice;
  g_autofree char *buttons = NULL;
  g_autofree char *retry = NULL;
  g_autofree char *id = NULL;
  guint before;
  guint from;

  if (!ui_test_require (env.skip_reason))
    return;

  write_refusals (TEMP_RCPT " " TEMP_REPLY, NULL);
  composer = unfocused_composer (TEMP_RCPT, "Try, try again");
  from = env.notices->len;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (composer), "win.send", NULL));
  ui_test_spin_until (is_not_sending, composer);

  notice = wait_for_notice (from, "Not sent");
  g_assert_cmpstr (notice->summary, ==, "Not sent yet to " TEMP_RCPT);
  g_assert_nonnull (strstr (notice->body, "Greylisted, come back later"));
  buttons = notice_buttons (notice, "Retry Now", &retry);
  g_assert_cmpstr (buttons, ==, "Retry Now / Open Outbox");
  id = action_target (retry, "app.retry-send");
  g_assert_true (entry_exists (id));

  /* Retry Now from the notification, the greylisting over: it arrives. */
  write_refusals (NULL);
  before = ui_test_count_spooled (env.spool);
  g_hash_table_remove (env.outcomes, id);
  invoke_notice_action (notice, retry);
  g_assert_cmpint (wait_for_outcome (id), ==, POSTAGE_OUTBOX_OUTCOME_SENT);
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before + 1);
  g_assert_false (entry_exists (id));

  gtk_window_destroy (GTK_WINDOW (composer));
}

/* Cases: what must never send a message twice */

/* An entry whose "." went out with no verdict back: UNCERTAIN on disk, as a
 * killed `postage send` or a lost connection leaves it. */
static char *
make_uncertain_entry (const char *subject)
{
  g_autoptr(PostageDraft) draft = new_draft ("ann@example.test", subject);
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(GError) error = NULL;
  PostageOutboxClaim *claim;

  /* Claimed in the same main-loop turn, before the queue's folder watch can
   * pick the new QUEUED entry up. */
  entry = postage_outbox_add (get_outbox (), draft, &error);
  g_assert_no_error (error);
  claim = postage_outbox_claim (get_outbox (), entry->id, g_get_real_time () / G_USEC_PER_SEC,
                                &error);
  g_assert_no_error (error);
  g_assert_true (postage_outbox_claim_commit (claim, &error));
  g_assert_no_error (error);
  postage_outbox_claim_release (claim);
  return g_strdup (entry->id);
}

static PostageOutboxState
entry_state (const char *id)
{
  g_autoptr(PostageOutboxEntry) entry = postage_outbox_get (get_outbox (), id, NULL);

  g_assert_nonnull (entry);
  return entry->state;
}

/* A "Retry Now" notification sent while the message was waiting can still
 * be clicked after another try (here, or `postage outbox flush`) left it
 * "may have been sent". That click must not send it again unasked: the
 * Outbox window, which says it may have gone, opens instead. */
static void
test_retry_uncertain_from_notification (void)
{
  g_autofree char *id = NULL;
  g_autoptr(GList) outboxes = NULL;
  PostageOutboxQueue *queue;
  guint before;

  if (!ui_test_require (env.skip_reason))
    return;
  write_refusals (NULL);
  queue = postage_application_get_outbox_queue (env.app);
  id = make_uncertain_entry ("Did this one go?");
  before = ui_test_count_spooled (env.spool);

  g_action_group_activate_action (G_ACTION_GROUP (env.app), "retry-send",
                                  g_variant_new_string (id));
  g_assert_false (postage_outbox_queue_is_busy (queue));
  g_assert_cmpint (entry_state (id), ==, POSTAGE_OUTBOX_STATE_UNCERTAIN);
  outboxes = ui_test_list_windows (GTK_APPLICATION (env.app), POSTAGE_TYPE_OUTBOX_WINDOW);
  g_assert_cmpuint (g_list_length (outboxes), ==, 1);
  g_assert_nonnull (find_row (outboxes->data, id));

  /* Send All Now leaves it alone too. */
  postage_outbox_queue_run_due (queue, TRUE);
  g_assert_false (postage_outbox_queue_is_busy (queue));
  g_assert_cmpint (entry_state (id), ==, POSTAGE_OUTBOX_STATE_UNCERTAIN);
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before);

  g_assert_true (postage_outbox_remove (get_outbox (), id, NULL));
  gtk_window_destroy (outboxes->data);
}

/* Notification actions with ids that name nothing (sent, deleted, or not
 * an id at all): nothing happens, nothing warns (warnings are fatal here). */
static void
test_stale_notification_actions (void)
{
  static const char *const ids[] = { "", "..", "../../etc/passwd", "no such id",
                                     "1700000000.12345_1.nowhere", "a/b", NULL };
  static const char *const actions[] = { "retry-send", "edit-outbox", "open-draft", NULL };
  g_autoptr(GList) before = NULL;
  g_autoptr(GList) after = NULL;

  if (!ui_test_require (env.skip_reason))
    return;
  before = ui_test_list_windows (GTK_APPLICATION (env.app), GTK_TYPE_WINDOW);
  for (guint a = 0; actions[a] != NULL; a++)
    for (guint i = 0; ids[i] != NULL; i++)
      g_action_group_activate_action (G_ACTION_GROUP (env.app), actions[a],
                                      g_variant_new_string (ids[i]));
  g_assert_false (postage_outbox_queue_is_busy (postage_application_get_outbox_queue (env.app)));
  after = ui_test_list_windows (GTK_APPLICATION (env.app), GTK_TYPE_WINDOW);
  g_assert_cmpuint (g_list_length (after), ==, g_list_length (before));
}

static gboolean
server_holds_dot (gpointer data)
{
  g_autofree char *held = g_strconcat (env.stall_file, ".held", NULL);

  return g_file_test (held, G_FILE_TEST_EXISTS);
}

/* Cancel in the composer once the whole message is out: it says it waits
 * for the server, and the verdict stands (Sent, not "cancelled"). */
static void
test_cancel_after_dot (void)
{
  PostageComposerWindow *composer;
  guint before;

  if (!ui_test_require (env.skip_reason))
    return;
  write_refusals (NULL);
  before = ui_test_count_spooled (env.spool);
  g_assert_true (g_file_set_contents (env.stall_file, "", -1, NULL));
  composer = unfocused_composer ("ann@example.test", "Cancelled too late");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (composer), "win.send", NULL));
  ui_test_poll_until (server_holds_dot, NULL);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (composer), "win.cancel-send", NULL));
  g_assert_cmpstr (gtk_label_get_text (ui_test_child (composer, "progress_label")), ==,
                   "The message is out; waiting for the server’s answer…");
  g_assert_cmpint (g_unlink (env.stall_file), ==, 0);
  ui_test_spin_until (is_not_sending, composer);
  g_assert_cmpstr (gtk_label_get_text (ui_test_child (composer, "progress_label")), ==, "Sent");
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before + 1);
  gtk_window_destroy (GTK_WINDOW (composer));
}

/* Ctrl+Q while the server has the whole message but has not answered yet:
 * the program waits for the verdict rather than turning a message that
 * is being accepted into one that "may have been sent". Last: it quits. */
static void
test_quit_after_dot (void)
{
  g_autoptr(PostageDraft) draft = NULL;
  g_autoptr(GKeyFile) sent = NULL;
  Submitted submitted = { 0 };
  g_autofree char *id = NULL;
  guint before;

  if (!ui_test_require (env.skip_reason))
    return;
  write_refusals (NULL);
  before = ui_test_count_spooled (env.spool);
  g_assert_true (g_file_set_contents (env.stall_file, "", -1, NULL));
  draft = new_draft ("ann@example.test", "Sent while quitting");
  postage_outbox_queue_submit_async (postage_application_get_outbox_queue (env.app), draft, NULL, NULL,
                                     submitted_cb, &submitted);
  ui_test_spin_until (is_submitted, &submitted);
  g_assert_no_error (submitted.error);
  id = g_strdup (submitted.entry->id);
  postage_outbox_entry_free (submitted.entry);
  ui_test_poll_until (server_holds_dot, NULL);

  g_action_group_activate_action (G_ACTION_GROUP (env.app), "quit", NULL);
  /* The server answers a moment later. */
  g_assert_cmpint (g_unlink (env.stall_file), ==, 0);
  g_assert_cmpint (wait_for_outcome (id), ==, POSTAGE_OUTBOX_OUTCOME_SENT);
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before + 1);
  g_assert_false (entry_exists (id));
  sent = postage_outbox_load_sent (get_outbox (), id, NULL);
  g_assert_nonnull (sent);
}

/* Fixture for the whole run */

static void
start_server (void)
{
  const char *srcdir = g_getenv ("POSTAGE_SOURCE_ROOT");

  if (srcdir == NULL || g_getenv ("POSTAGE_TEST_HOME") == NULL)
    {
      env.skip_reason = g_strdup ("not inside tests/lib/with-session.sh");
      return;
    }

  env.cert_dir = g_build_filename (env.top, "certs", NULL);
  env.spool = g_build_filename (env.top, "spool", NULL);
  env.refuse_file = g_build_filename (env.top, "refuse.txt", NULL);
  ui_test_make_certs (env.cert_dir);
  env.stall_file = g_build_filename (env.top, "stall", NULL);
  if (!ui_test_start_server_stalling (&env.server, env.cert_dir, TEST_USER, TEST_PASSWORD,
                                      env.spool, env.refuse_file, env.stall_file))
    env.skip_reason = g_strdup ("the aiosmtpd server did not start (is python3-aiosmtpd installed?)");
}

static void
add_account (void)
{
  g_autoptr(PostageAccountStore) store = postage_account_store_new ();
  g_autoptr(PostageAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ca_file = g_build_filename (env.cert_dir, "ca.pem", NULL);

  ui_test_save_account (TEST_FROM, env.server.port, TEST_USER, ca_file);
  postage_account_store_load (store, NULL);
  account = g_object_ref (postage_account_store_lookup (store, TEST_FROM));

  postage_secret_store_save_sync (account, TEST_PASSWORD, NULL, &error);
  if (error != NULL)
    env.skip_reason = g_strdup_printf ("no keyring: %s", error->message);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int ret;

  /* GTK's test accessibility backend: no AT-SPI bus, but the accessible
   * properties are kept, so the test can check every control has a name. */
  g_setenv ("GTK_A11Y", "test", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  postage_mail_init ();
  ui_test_set_limits (WAIT_SECONDS, 10);

  env.top = g_build_filename (g_getenv ("POSTAGE_TEST_HOME") != NULL
                              ? g_getenv ("POSTAGE_TEST_HOME") : g_get_tmp_dir (),
                              "ui-test", NULL);
  g_mkdir_with_parents (env.top, 0700);
  env.outcomes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  env.notices = g_ptr_array_new_with_free_func (notice_free);

  start_server ();
  if (env.skip_reason == NULL)
    {
      add_account ();
      start_notification_server ();

      env.app = postage_application_new ();
      g_assert_true (g_application_register (G_APPLICATION (env.app), NULL, &error));
      g_assert_no_error (error);
      g_assert_false (g_application_get_is_remote (G_APPLICATION (env.app)));
      g_signal_connect (postage_application_get_outbox_queue (env.app), "finished",
                        G_CALLBACK (finished_cb), NULL);
    }

  g_test_add_func ("/postage/ui/outbox/list", test_outbox_list);
  g_test_add_func ("/postage/ui/outbox/retry", test_outbox_retry);
  g_test_add_func ("/postage/ui/outbox/delete", test_outbox_delete);
  g_test_add_func ("/postage/ui/outbox/edit", test_outbox_edit);
  g_test_add_func ("/postage/ui/notify/sent-unfocused", test_notify_sent);
  g_test_add_func ("/postage/ui/notify/failed-unfocused", test_notify_failed);
  g_test_add_func ("/postage/ui/notify/queued-unfocused", test_notify_queued);
  g_test_add_func ("/postage/ui/outbox/retry-uncertain-from-notification",
                   test_retry_uncertain_from_notification);
  g_test_add_func ("/postage/ui/notify/stale-actions", test_stale_notification_actions);
  /* Last: it quits the application. */
  g_test_add_func ("/postage/ui/cancel/after-dot", test_cancel_after_dot);
  g_test_add_func ("/postage/ui/quit/after-dot", test_quit_after_dot);
  ret = g_test_run ();

  if (env.app != NULL)
    {
      g_action_group_activate_action (G_ACTION_GROUP (env.app), "quit", NULL);
      g_clear_object (&env.app);
    }
  ui_test_stop_server (&env.server);
  if (env.owner != 0)
    g_bus_unown_name (env.owner);
  if (env.registration != 0)
    g_dbus_connection_unregister_object (env.bus, env.registration);
  g_clear_object (&env.bus);
  g_clear_pointer (&env.outcomes, g_hash_table_unref);
  g_clear_pointer (&env.notices, g_ptr_array_unref);
  g_free (env.top);
  g_free (env.cert_dir);
  g_free (env.spool);
  g_free (env.refuse_file);
  g_free (env.stall_file);
  g_free (env.skip_reason);
  g_free (env.queued_id);
  g_free (env.failed_id);
  g_free (env.doomed_id);
  return ret;
}
