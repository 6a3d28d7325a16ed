/* postage-application.c — the application: accounts, actions, accelerators
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only. Every accelerator of the program is set here, so the
 * shortcuts window (resources/gtk/help-overlay.ui) and the code agree.
 *
 * One instance per session (GApplication over D-Bus). `postage mailto:…`
 * reaches the running instance through GApplication's "open";
 * `postage --compose --to … --attach …` is read in the calling process
 * (handle-local-options, where relative paths still mean something) and
 * handed to the running instance as the app.compose action.
 *
 * The application owns the one outbox queue: it keeps running (held) while
 * a message is going out, even with every window closed, and says how a
 * send ended with a desktop notification when nobody was looking.
 */
#define G_LOG_DOMAIN "postage-application"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "resources/postage-resources.h"

#include "accounts/postage-secret-store.h"

#include "postage-account-wizard.h"
#include "postage-application.h"
#include "postage-composer-window.h"
#include "postage-outbox-window.h"
#include "postage-preferences-window.h"
#include "postage-ui-private.h"

#define SETTINGS_SCHEMA_ID "io.github.postage.Postage"

struct _PostageApplication
{
  AdwApplication       parent_instance;

  /* owned */
  PostageAccountStore     *store;
  PostageSessionPasswords *passwords; /* wiped at shutdown */
  PostageOutbox           *outbox;
  PostageOutboxQueue      *queue;
  PostageDraftStore       *drafts;
  GSettings               *settings;  /* NULL when the schema is not installed */

  /* state */
  gboolean                 composed;  /* --compose was handled; skip the activate that follows */
  gboolean                 held;      /* g_application_hold() while the queue is busy */
  gboolean                 offered;   /* drafts of an earlier run were offered already */
};

/* EX_NOINPUT (sysexits.h): an --attach file that cannot be read. */
#define EXIT_NOINPUT 66

G_DEFINE_FINAL_TYPE (PostageApplication, postage_application, ADW_TYPE_APPLICATION)

static GThread *ui_thread;

void
_postage_ui_init (void)
{
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      ui_thread = g_thread_self ();
      /* Referencing the resource pulls its object file (and the constructor
       * that registers it) out of the static library. */
      g_assert (postage_get_resource () != NULL);
      g_once_init_leave (&initialized, 1);
    }
}

gboolean
_postage_ui_is_main_thread (void)
{
  return ui_thread != NULL && ui_thread == g_thread_self ();
}

GSettings *
_postage_settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, SETTINGS_SCHEMA_ID, TRUE);
  if (schema == NULL)
    {
      g_warning ("Failed to find the settings schema %s; is it installed?", SETTINGS_SCHEMA_ID);
      return NULL;
    }

  return g_settings_new_full (schema, NULL, NULL);
}

/* Runs on a GTask worker: only the private copy of the account is touched. */
static void
secret_clear_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GError *error = NULL;

  if (postage_secret_store_clear_sync (task_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
secret_cleared_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_debug ("Failed to remove an old keyring entry: %s", error->message);
}

void
_postage_secret_clear_async (PostageAccount      *account,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (POSTAGE_IS_ACCOUNT (account));

  task = g_task_new (NULL, NULL, callback != NULL ? callback : secret_cleared_cb, user_data);
  g_task_set_source_tag (task, _postage_secret_clear_async);
  g_task_set_task_data (task, postage_account_copy (account), g_object_unref);
  g_task_run_in_thread (task, secret_clear_thread);
}

gboolean
_postage_secret_clear_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static const struct {
  const char *action;
  const char *accels[3];
} accels[] = {
  { "win.send", { "<Control>Return", "<Control>KP_Enter", NULL } },
  { "win.attach-file", { "<Control><Shift>a", NULL } },
  { "window.close", { "<Control>w", NULL } },
  { "app.quit", { "<Control>q", NULL } },
  { "app.preferences", { "<Control>comma", NULL } },
  { "win.show-help-overlay", { "<Control>question", NULL } },
  { "app.new-message", { "<Control>n", NULL } },
  { "app.show-outbox", { "<Control><Shift>o", NULL } },
};

static PostageComposerWindow *
find_composer (PostageApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (POSTAGE_IS_COMPOSER_WINDOW (window))
    return POSTAGE_COMPOSER_WINDOW (window);

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (POSTAGE_IS_COMPOSER_WINDOW (l->data))
      return l->data;

  return NULL;
}

/* The open composer whose draft (@outbox FALSE) or message in flight
 * (@outbox TRUE) is @id, or NULL. */
static PostageComposerWindow *
composer_with (PostageApplication *self,
               gboolean            outbox,
               const char         *id)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (POSTAGE_IS_COMPOSER_WINDOW (l->data) &&
        g_strcmp0 (outbox ? postage_composer_window_get_outbox_id (l->data)
                          : postage_composer_window_get_draft_id (l->data), id) == 0)
      return l->data;
  return NULL;
}

static void
account_saved_cb (PostageApplication *self,
                  PostageAccount     *account)
{
  PostageComposerWindow *composer;

  POSTAGE_ASSERT_UI_THREAD ();

  if ((composer = find_composer (self)) != NULL)
    postage_composer_window_select_account (composer, postage_account_get_id (account));
}

static void
show_account_wizard (PostageApplication *self,
                     GtkWindow          *parent)
{
  PostageAccountWizard *wizard;

  wizard = postage_account_wizard_new (parent, self->store, self->passwords);
  g_signal_connect_object (wizard, "account-saved", G_CALLBACK (account_saved_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (wizard));
}

static void
add_account_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  PostageApplication *self = user_data;

  show_account_wizard (self, GTK_WINDOW (find_composer (self)));
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  PostageApplication *self = user_data;
  PostagePreferencesWindow *preferences = NULL;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (POSTAGE_IS_PREFERENCES_WINDOW (l->data))
      preferences = l->data;

  if (preferences == NULL)
    {
      preferences = postage_preferences_window_new (GTK_WINDOW (find_composer (self)),
                                                    self->store, self->passwords);
      gtk_window_set_application (GTK_WINDOW (preferences), GTK_APPLICATION (self));
    }

  gtk_window_present (GTK_WINDOW (preferences));
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  PostageApplication *self = user_data;
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "modal", TRUE,
                        "application-name", _("Postage"),
                        "application-icon", APP_ID,
                        "version", PACKAGE_VERSION,
                        "comments", _("Write a message and send it through your own mail server, watching every step."),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  PostageApplication *self = user_data;
  GList *windows;

  /* Closed as the person would: each composer saves its draft first, and
   * one that cannot (a full disk) stays open, so nothing is lost. */
  for (windows = gtk_application_get_windows (GTK_APPLICATION (self)); windows != NULL;)
    {
      GtkWindow *window = windows->data;

      windows = windows->next;
      gtk_window_close (window);
    }
  if (gtk_application_get_windows (GTK_APPLICATION (self)) != NULL)
    return;
  /* Nothing new starts. One in flight is stopped before its final "." (it
   * stays queued for the next start) or sees its verdict through, and a
   * message still being written to the outbox is written whole; the hold
   * taken for them ends the program when they are done (queue_busy_cb). */
  postage_outbox_queue_set_automatic (self->queue, FALSE);
  if (postage_outbox_queue_is_busy (self->queue))
    {
      if (postage_outbox_queue_get_current (self->queue) != NULL)
        postage_outbox_queue_cancel (self->queue,
                                     postage_outbox_queue_get_current (self->queue));
      return;
    }
  g_application_quit (G_APPLICATION (self));
}

/* Defined below with the other ways of opening a composer. */
static void compose_action (GSimpleAction *action, GVariant *param, gpointer user_data);
static void new_message_action (GSimpleAction *action, GVariant *param, gpointer user_data);
static void restore_drafts_action (GSimpleAction *action, GVariant *param, gpointer user_data);
static void show_outbox_action (GSimpleAction *action, GVariant *param, gpointer user_data);
static void retry_send_action (GSimpleAction *action, GVariant *param, gpointer user_data);
static void edit_outbox_action (GSimpleAction *action, GVariant *param, gpointer user_data);
static void open_draft_action (GSimpleAction *action, GVariant *param, gpointer user_data);

static const GActionEntry app_actions[] = {
  { .name = "add-account", .activate = add_account_action },
  { .name = "preferences", .activate = preferences_action },
  { .name = "about", .activate = about_action },
  { .name = "quit", .activate = quit_action },
  { .name = "compose", .activate = compose_action, .parameter_type = "a{sv}" },
  { .name = "new-message", .activate = new_message_action },
  { .name = "restore-drafts", .activate = restore_drafts_action },
  { .name = "show-outbox", .activate = show_outbox_action },
  { .name = "retry-send", .activate = retry_send_action, .parameter_type = "s" },
  { .name = "edit-outbox", .activate = edit_outbox_action, .parameter_type = "s" },
  { .name = "open-draft", .activate = open_draft_action, .parameter_type = "s" },
};

/* The options of xdg-email(1), so that other programs can call us the same way. */
static const GOptionEntry main_options[] = {
  { "compose", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Open a new message, filled in from the options below"), NULL },
  { "to", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, N_("Add a recipient (repeatable)"),
    N_("ADDRESS") },
  { "cc", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, N_("Add a Cc recipient (repeatable)"),
    N_("ADDRESS") },
  { "bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, N_("Add a Bcc recipient (repeatable)"),
    N_("ADDRESS") },
  { "subject", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Set the subject"), N_("TEXT") },
  { "body", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Set the message text"), N_("TEXT") },
  { "attach", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, N_("Attach a file (repeatable)"),
    N_("FILE") },
  /* xdg-email's --utf8 says the arguments are UTF-8; GOption converts them anyway. */
  { "utf8", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, NULL, NULL, NULL },
  { NULL }
};

static void start_outbox (PostageApplication *self);

static void
postage_application_startup (GApplication *app)
{
  PostageApplication *self = POSTAGE_APPLICATION (app);
  g_autoptr(GError) error = NULL;

  _postage_ui_init ();

  G_APPLICATION_CLASS (postage_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action,
                                           accels[i].accels);

  if (!postage_account_store_load (self->store, &error))
    g_warning ("Failed to load the accounts: %s", error->message);

  self->settings = _postage_settings_new ();
  start_outbox (self);
}

static void
present_composer (PostageApplication    *self,
                  PostageComposerWindow *composer)
{
  gtk_window_present (GTK_WINDOW (composer));

  /* With no account the composer cannot send: ask for one first, on top of it. */
  if (postage_account_store_get_default (self->store) == NULL)
    show_account_wizard (self, GTK_WINDOW (composer));
}

static PostageComposerWindow *
new_composer (PostageApplication *self)
{
  return postage_composer_window_new (GTK_APPLICATION (self), self->store, self->passwords);
}

/* Drafts left by an earlier run (a crash, a power cut, windows closed with
 * text in them), minus those already open. A draft tied to a message that
 * reached the outbox or sent/ was handed on already: it goes, so that the
 * message can never be sent twice; one whose outbox entry is gone (taken
 * back, deleted) is the person's again. */
static GPtrArray *
leftover_drafts (PostageApplication *self)
{
  g_autoptr(GPtrArray) left = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) ids = postage_draft_store_list (self->drafts);

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *link = postage_draft_store_dup_link (self->drafts, ids[i]);

      if (link != NULL)
        {
          g_autoptr(PostageOutboxEntry) entry = postage_outbox_get (self->outbox, link, NULL);
          g_autoptr(GKeyFile) sent = postage_outbox_load_sent (self->outbox, link, NULL);

          if (entry != NULL || sent != NULL)
            {
              postage_draft_store_delete (self->drafts, ids[i], NULL);
              continue;
            }
          postage_draft_store_link (self->drafts, ids[i], NULL, NULL);
        }
      if (composer_with (self, FALSE, ids[i]) == NULL)
        g_ptr_array_add (left, g_strdup (ids[i]));
    }
  return g_steal_pointer (&left);
}

/* Once per run, in the first window: what an earlier run left behind. */
static void
offer_leftovers (PostageApplication    *self,
                 PostageComposerWindow *composer)
{
  g_autoptr(GPtrArray) drafts = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  guint attention = 0;

  if (self->offered)
    return;
  self->offered = TRUE;
  postage_draft_store_purge_discarded (self->drafts);

  if ((drafts = leftover_drafts (self))->len > 0)
    {
      g_autofree char *text = NULL;
      AdwToast *toast;

      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Postage kept a message you had not sent",
                                           "Postage kept %u messages you had not sent",
                                           drafts->len), drafts->len);
      toast = adw_toast_new (text);
      adw_toast_set_button_label (toast, _("_Open"));
      adw_toast_set_action_name (toast, "app.restore-drafts");
      adw_toast_set_timeout (toast, 0);
      postage_composer_window_add_toast (composer, toast);
    }

  /* A damaged message, or one that may have gone: told once, not at every start. */
  entries = postage_outbox_list (self->outbox, NULL);
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      PostageOutboxEntry *entry = g_ptr_array_index (entries, i);

      if ((entry->state == POSTAGE_OUTBOX_STATE_BROKEN ||
           entry->state == POSTAGE_OUTBOX_STATE_UNCERTAIN) && !entry->reported && !entry->busy)
        {
          attention++;
          postage_outbox_mark_reported (self->outbox, entry->id, NULL);
        }
    }
  if (attention > 0)
    {
      g_autofree char *text = NULL;
      AdwToast *toast;

      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "A message in the Outbox needs your attention",
                                           "%u messages in the Outbox need your attention",
                                           attention), attention);
      toast = adw_toast_new (text);
      adw_toast_set_button_label (toast, _("Open _Outbox"));
      adw_toast_set_action_name (toast, "app.show-outbox");
      adw_toast_set_timeout (toast, 0);
      postage_composer_window_add_toast (composer, toast);
    }
}

static void
restore_drafts_action (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  PostageApplication *self = user_data;
  g_autoptr(GPtrArray) ids = leftover_drafts (self);
  PostageComposerWindow *empty = find_composer (self);

  /* The first one into the window that is open, if nothing is written there. */
  if (empty != NULL && (postage_composer_window_get_draft_id (empty) != NULL ||
                        postage_composer_window_get_sending (empty)))
    empty = NULL;
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(PostageDraft) draft = postage_draft_store_load (self->drafts, id, &error);
      PostageComposerWindow *composer;

      if (draft == NULL)
        {
          g_message ("Failed to read draft %s: %s", id, error->message);
          continue;
        }
      composer = empty != NULL ? empty : new_composer (self);
      empty = NULL;
      postage_composer_window_load_draft (composer, id, draft);
      gtk_window_present (GTK_WINDOW (composer));
    }
}

static void
new_message_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  PostageApplication *self = user_data;

  gtk_window_present (GTK_WINDOW (new_composer (self)));
}

static void
show_outbox_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  PostageApplication *self = user_data;
  PostageOutboxWindow *outbox = NULL;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (POSTAGE_IS_OUTBOX_WINDOW (l->data))
      outbox = l->data;
  if (outbox == NULL)
    outbox = postage_outbox_window_new (GTK_APPLICATION (self), self->queue);
  gtk_window_present (GTK_WINDOW (outbox));
}

static void
retry_send_action (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  PostageApplication *self = user_data;
  const char *id = g_variant_get_string (param, NULL);
  g_autoptr(PostageOutboxEntry) entry = postage_outbox_get (self->outbox, id, NULL);
  g_autoptr(GError) error = NULL;

  /* A notification can outlive what it said: a try since (here or by
   * `postage outbox flush`) may have left the message "may have been
   * sent". Sending that again is the person's choice, made in the Outbox
   * window, which says so; not a click on an old "Retry Now". */
  if (entry != NULL && entry->state == POSTAGE_OUTBOX_STATE_UNCERTAIN)
    {
      g_action_group_activate_action (G_ACTION_GROUP (self), "show-outbox", NULL);
      return;
    }
  if (!postage_outbox_queue_retry (self->queue, id, &error))
    g_message ("Cannot send %s again: %s", id, error->message);
}

/* An outbox entry back into a composer. The draft is saved, tied to the
 * entry, before the entry goes: a crash in between leaves the entry, never
 * both (see leftover_drafts()). */
static void
edit_outbox_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  PostageApplication *self = user_data;
  const char *id = g_variant_get_string (param, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageDraft) draft = postage_outbox_load_draft (self->outbox, id, &error);
  g_autofree char *draft_id = postage_draft_store_new_id (self->drafts);
  PostageComposerWindow *composer;

  if (draft == NULL ||
      !postage_draft_store_save (self->drafts, draft_id, draft, &error) ||
      !postage_draft_store_link (self->drafts, draft_id, id, &error) ||
      !postage_outbox_remove (self->outbox, id, &error))
    {
      PostageComposerWindow *shown = find_composer (self);

      if (draft != NULL)
        postage_draft_store_delete (self->drafts, draft_id, NULL);
      if (shown != NULL)
        postage_composer_window_show_notice (shown, error->message);
      else
        g_message ("Cannot edit %s: %s", id, error->message);
      return;
    }
  postage_draft_store_link (self->drafts, draft_id, NULL, NULL);
  composer = new_composer (self);
  postage_composer_window_load_draft (composer, draft_id, draft);
  gtk_window_present (GTK_WINDOW (composer));
}

/* A notification's way back to a message a composer took back: that
 * window if it is still open, else the saved draft in a new one. */
static void
open_draft_action (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  PostageApplication *self = user_data;
  const char *id = g_variant_get_string (param, NULL);
  g_autoptr(PostageDraft) draft = NULL;
  g_autoptr(GError) error = NULL;
  PostageComposerWindow *composer;

  if ((composer = composer_with (self, FALSE, id)) != NULL)
    {
      gtk_window_present (GTK_WINDOW (composer));
      return;
    }
  if ((draft = postage_draft_store_load (self->drafts, id, &error)) == NULL)
    {
      /* Sent or discarded since: there is nothing to open. */
      g_message ("Cannot open draft %s: %s", id, error->message);
      return;
    }
  composer = new_composer (self);
  postage_composer_window_load_draft (composer, id, draft);
  gtk_window_present (GTK_WINDOW (composer));
}

/* "Ada Lovelace" or "ada@example.com and 2 others", for a notification. */
static char *
describe_recipients (const char *first,
                     gsize       n)
{
  if (n == 0)
    return g_strdup ("?");
  if (n == 1)
    return g_strdup (first);
  /* Translators: an address, then how many more there are */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s and %u other", "%s and %u others",
                                       n - 1), first, (guint) (n - 1));
}

/* @composer: the window that sent it, if it is still open. */
static void
notify_outcome (PostageApplication    *self,
                const char            *id,
                PostageOutboxOutcome   outcome,
                const GError          *error,
                PostageComposerWindow *composer)
{
  g_autoptr(GNotification) notification = NULL;
  g_autoptr(GKeyFile) sent = NULL;
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_auto(GStrv) recipients = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *who = NULL;
  g_autofree char *title = NULL;
  g_autofree char *notification_id = g_strconcat ("send-", id, NULL);
  const char *first = NULL;
  gsize count = 0;
  const char *draft_id;

  if (outcome == POSTAGE_OUTBOX_OUTCOME_SENT)
    {
      if ((sent = postage_outbox_load_sent (self->outbox, id, NULL)) != NULL)
        {
          recipients = g_key_file_get_string_list (sent, "Envelope", "recipients", &count, NULL);
          subject = g_key_file_get_string (sent, "Envelope", "subject", NULL);
          first = count > 0 ? recipients[0] : NULL;
        }
    }
  else if ((entry = postage_outbox_get (self->outbox, id, NULL)) != NULL)
    {
      subject = g_strdup (entry->subject);
      if (entry->outgoing != NULL && entry->outgoing->recipients->len > 0)
        {
          count = entry->outgoing->recipients->len;
          first = g_ptr_array_index (entry->outgoing->recipients, 0);
        }
    }
  who = describe_recipients (first, count);

  switch (outcome)
    {
    case POSTAGE_OUTBOX_OUTCOME_SENT:
      /* Translators: %s says who, e.g. "ada@example.com and 2 others" */
      title = g_strdup_printf (_("Sent to %s"), who);
      notification = g_notification_new (title);
      if (subject != NULL && *subject != '\0')
        g_notification_set_body (notification, subject);
      break;
    case POSTAGE_OUTBOX_OUTCOME_QUEUED:
      /* Translators: %s says who, e.g. "ada@example.com" */
      title = g_strdup_printf (_("Not sent yet to %s"), who);
      notification = g_notification_new (title);
      g_notification_set_body (notification, error->message);
      g_notification_add_button_with_target (notification, _("Retry Now"), "app.retry-send",
                                             "s", id);
      break;
    case POSTAGE_OUTBOX_OUTCOME_UNCERTAIN:
      title = g_strdup_printf (_("Maybe not sent to %s"), who);
      notification = g_notification_new (title);
      g_notification_set_body (notification, error->message);
      break;
    case POSTAGE_OUTBOX_OUTCOME_FAILED:
    case POSTAGE_OUTBOX_OUTCOME_BROKEN:
      /* Translators: %s is the reason, in the server's words when it gave any */
      title = g_strdup_printf (_("Not sent: %s"), error->message);
      notification = g_notification_new (title);
      g_notification_set_body (notification, subject != NULL ? subject : who);
      /* An open composer takes a refused message back to be fixed: it is
       * no longer in the outbox, so the way back is that window. */
      draft_id = composer != NULL ? postage_composer_window_get_draft_id (composer) : NULL;
      if (draft_id != NULL)
        {
          g_notification_add_button_with_target (notification, _("Open Message"),
                                                 "app.open-draft", "s", draft_id);
          g_notification_set_default_action_and_target (notification, "app.open-draft", "s",
                                                        draft_id);
          g_application_send_notification (G_APPLICATION (self), notification_id, notification);
          return;
        }
      g_notification_add_button_with_target (notification, _("Retry"), "app.retry-send",
                                             "s", id);
      break;
    case POSTAGE_OUTBOX_OUTCOME_CANCELLED:
    default:
      return; /* the person did that themself */
    }
  g_notification_add_button (notification, _("Open Outbox"), "app.show-outbox");
  g_notification_set_default_action (notification, "app.show-outbox");
  g_application_send_notification (G_APPLICATION (self), notification_id, notification);
}

/* Runs before any window's own handler (it was connected first). */
static void
queue_finished_cb (PostageApplication *self,
                   const char         *id,
                   int                 outcome,
                   const char         *reply,
                   const GError       *error,
                   PostageOutboxQueue *queue)
{
  PostageComposerWindow *composer = composer_with (self, TRUE, id);

  /* The window that sent it was closed meanwhile: its draft was left tied
   * to the entry, and the outbox (or sent/) has the message now. */
  if (composer == NULL)
    postage_draft_store_forget_outbox (self->drafts, id);
  if (composer == NULL || !gtk_window_is_active (GTK_WINDOW (composer)) ||
      postage_composer_window_get_notify_always (composer))
    notify_outcome (self, id, outcome, error, composer);
}

/* A message going out keeps the program alive with no window open. */
static void
queue_busy_cb (PostageApplication *self)
{
  gboolean busy = self->queue != NULL && postage_outbox_queue_is_busy (self->queue);

  if (busy && !self->held)
    g_application_hold (G_APPLICATION (self));
  else if (!busy && self->held)
    g_application_release (G_APPLICATION (self));
  self->held = busy;
}

static void
start_outbox (PostageApplication *self)
{
  guint keep_days = self->settings != NULL ? g_settings_get_uint (self->settings,
                                                                  "keep-sent-days") : 0;
  g_autoptr(GError) error = NULL;

  self->queue = postage_outbox_queue_new (self->outbox, self->store);
  postage_outbox_queue_set_password_func (self->queue, postage_session_passwords_dup_for_queue,
                                          g_object_ref (self->passwords), g_object_unref);
  g_signal_connect_object (self->queue, "finished", G_CALLBACK (queue_finished_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->queue, "notify::busy", G_CALLBACK (queue_busy_cb), self,
                           G_CONNECT_SWAPPED);
  /* Retries while Postage runs, and at once when the network comes back. */
  postage_outbox_queue_set_automatic (self->queue, TRUE);
  if (keep_days > 0 &&
      postage_outbox_prune_sent (self->outbox, g_get_real_time () / G_USEC_PER_SEC,
                                 (gint64) keep_days * 24 * 3600, &error) == 0 && error != NULL)
    g_message ("Failed to prune sent messages: %s", error->message);
}

static void
postage_application_activate (GApplication *app)
{
  PostageApplication *self = POSTAGE_APPLICATION (app);
  PostageComposerWindow *composer;

  POSTAGE_ASSERT_UI_THREAD ();

  /* The first instance, started with --compose: its window is up already. */
  if (self->composed)
    {
      self->composed = FALSE;
      return;
    }

  if ((composer = find_composer (self)) == NULL)
    composer = new_composer (self);

  present_composer (self, composer);
  offer_leftovers (self, composer);
}

/* mailto: links, from `postage mailto:…` here or in a second process, or from
 * the desktop (the .desktop file's x-scheme-handler/mailto). One new composer
 * per link; a link that cannot be read still opens one, saying why. */
static void
postage_application_open (GApplication  *app,
                          GFile        **files,
                          int            n_files,
                          const char    *hint)
{
  PostageApplication *self = POSTAGE_APPLICATION (app);

  POSTAGE_ASSERT_UI_THREAD ();

  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);
      g_autoptr(PostageMailto) mailto = NULL;
      g_autoptr(GError) error = NULL;
      PostageComposerWindow *composer = new_composer (self);

      g_debug ("Opening a composer for a link of %zu bytes", strlen (uri));
      if ((mailto = postage_mailto_parse (uri, &error)) != NULL)
        postage_composer_window_set_mailto (composer, mailto);
      else
        postage_composer_window_show_notice (composer, error->message);

      present_composer (self, composer);
      offer_leftovers (self, composer);
    }
}

/* The parameter is an a{sv} made by handle-local-options: to, cc, bcc,
 * subject, body (s) and attach (aay, absolute paths). */
static void
compose_action (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  PostageApplication *self = user_data;
  g_autoptr(PostageDraft) draft = postage_draft_new ();
  g_autoptr(GVariantDict) dict = g_variant_dict_new (param);
  g_autofree const char **attach = NULL;
  PostageComposerWindow *composer;

  POSTAGE_ASSERT_UI_THREAD ();

  g_variant_dict_lookup (dict, "to", "s", &draft->to);
  g_variant_dict_lookup (dict, "cc", "s", &draft->cc);
  g_variant_dict_lookup (dict, "bcc", "s", &draft->bcc);
  g_variant_dict_lookup (dict, "subject", "s", &draft->subject);
  g_variant_dict_lookup (dict, "body", "s", &draft->body);
  if (g_variant_dict_lookup (dict, "attach", "^a&ay", &attach))
    for (guint i = 0; attach[i] != NULL; i++)
      g_ptr_array_add (draft->attachments, g_strdup (attach[i]));

  composer = new_composer (self);
  postage_composer_window_set_draft (composer, draft);
  /* Another program asked for it: say how it went even if it has focus. */
  postage_composer_window_set_notify_always (composer, TRUE);
  present_composer (self, composer);
  offer_leftovers (self, composer);
}

static char *
join_option (GVariantDict *options,
             const char   *name)
{
  g_autofree const char **values = NULL;

  if (!g_variant_dict_lookup (options, name, "^a&s", &values))
    return NULL;
  return g_strjoinv (", ", (char **) values);
}

/* Runs in the process the person started, before it knows whether it is the
 * first instance. The xdg-email style options become one app.compose call,
 * which D-Bus carries to the running instance if there is one. */
static int
postage_application_handle_local_options (GApplication *app,
                                          GVariantDict *options)
{
  PostageApplication *self = POSTAGE_APPLICATION (app);
  static const char *const fields[] = { "to", "cc", "bcc" };
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree const char **attach = NULL;
  g_autoptr(GError) error = NULL;
  gboolean compose = g_variant_dict_contains (options, "compose");
  const char *text;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *list = join_option (options, fields[i]);

      if (list != NULL)
        {
          g_variant_builder_add (&builder, "{sv}", fields[i], g_variant_new_string (list));
          compose = TRUE;
        }
    }
  if (g_variant_dict_lookup (options, "subject", "&s", &text))
    {
      g_variant_builder_add (&builder, "{sv}", "subject", g_variant_new_string (text));
      compose = TRUE;
    }
  if (g_variant_dict_lookup (options, "body", "&s", &text))
    {
      g_variant_builder_add (&builder, "{sv}", "body", g_variant_new_string (text));
      compose = TRUE;
    }
  /* Paths are made absolute here: the running instance has another working
   * folder. A missing file is reported now, to the terminal that named it. */
  if (g_variant_dict_lookup (options, "attach", "^a&ay", &attach))
    {
      for (guint i = 0; attach[i] != NULL; i++)
        {
          g_autofree char *path = g_canonicalize_filename (attach[i], NULL);

          if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
            {
              g_autofree char *shown = g_filename_display_name (attach[i]);

              /* Translators: %s is a file name given with --attach */
              fprintf (stderr, _("postage: cannot attach “%s”: no such file\n"), shown);
              return EXIT_NOINPUT;
            }
          g_ptr_array_add (paths, g_steal_pointer (&path));
        }
      g_ptr_array_add (paths, NULL);
      g_variant_builder_add (&builder, "{sv}", "attach",
                             g_variant_new_bytestring_array ((const char *const *) paths->pdata,
                                                             -1));
      compose = TRUE;
    }

  if (!compose)
    return -1;

  if (!g_application_register (app, NULL, &error))
    {
      fprintf (stderr, "postage: %s\n", error->message);
      return 1;
    }
  g_action_group_activate_action (G_ACTION_GROUP (app), "compose",
                                  g_variant_builder_end (&builder));

  if (g_application_get_is_remote (app))
    return 0;

  /* The first instance: run the main loop for the window just made. */
  self->composed = TRUE;
  return -1;
}

static void
postage_application_shutdown (GApplication *app)
{
  PostageApplication *self = POSTAGE_APPLICATION (app);

  /* Session-only passwords end with the session. */
  postage_session_passwords_clear (self->passwords);
  if (self->queue != NULL)
    g_signal_handlers_disconnect_by_data (self->queue, self);
  g_clear_object (&self->queue);

  G_APPLICATION_CLASS (postage_application_parent_class)->shutdown (app);
}

static void
postage_application_dispose (GObject *object)
{
  PostageApplication *self = POSTAGE_APPLICATION (object);

  g_clear_object (&self->store);
  g_clear_object (&self->passwords);
  g_clear_object (&self->queue);
  g_clear_object (&self->drafts);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->outbox, postage_outbox_unref);

  G_OBJECT_CLASS (postage_application_parent_class)->dispose (object);
}

static void
postage_application_class_init (PostageApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = postage_application_dispose;

  app_class->startup = postage_application_startup;
  app_class->activate = postage_application_activate;
  app_class->open = postage_application_open;
  app_class->handle_local_options = postage_application_handle_local_options;
  app_class->shutdown = postage_application_shutdown;
}

static void
postage_application_init (PostageApplication *self)
{
  self->store = postage_account_store_new ();
  self->passwords = postage_session_passwords_new ();
  self->outbox = postage_outbox_new (NULL);
  self->drafts = postage_draft_store_new (NULL);

  g_application_add_main_option_entries (G_APPLICATION (self), main_options);
  g_application_set_option_context_parameter_string (G_APPLICATION (self),
                                                      _("[mailto:LINK…]"));
}

PostageApplication *
postage_application_new (void)
{
  return g_object_new (POSTAGE_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       /* The same for the .Devel build: where style.css and help-overlay.ui live. */
                       "resource-base-path", "/io/github/postage/Postage",
                       NULL);
}

PostageAccountStore *
postage_application_get_account_store (PostageApplication *self)
{
  g_return_val_if_fail (POSTAGE_IS_APPLICATION (self), NULL);

  return self->store;
}

PostageSessionPasswords *
postage_application_get_session_passwords (PostageApplication *self)
{
  g_return_val_if_fail (POSTAGE_IS_APPLICATION (self), NULL);

  return self->passwords;
}

PostageOutboxQueue *
postage_application_get_outbox_queue (PostageApplication *self)
{
  g_return_val_if_fail (POSTAGE_IS_APPLICATION (self), NULL);

  return self->queue;
}

PostageDraftStore *
postage_application_get_draft_store (PostageApplication *self)
{
  g_return_val_if_fail (POSTAGE_IS_APPLICATION (self), NULL);

  return self->drafts;
}
