/* postage-application.c — the application: accounts, actions, accelerators
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only. Every accelerator of the program is set here, so the
 * shortcuts window (resources/gtk/help-overlay.ui) and the code agree.
 */
#define G_LOG_DOMAIN "postage-application"

#include "config.h"

#include <glib/gi18n.h>

#include "resources/postage-resources.h"

#include "accounts/postage-secret-store.h"

#include "postage-account-wizard.h"
#include "postage-application.h"
#include "postage-composer-window.h"
#include "postage-preferences-window.h"
#include "postage-ui-private.h"

#define SETTINGS_SCHEMA_ID "io.github.postage.Postage"

struct _PostageApplication
{
  AdwApplication       parent_instance;

  /* owned */
  PostageAccountStore     *store;
  PostageSessionPasswords *passwords; /* wiped at shutdown */
};

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
  { "window.close", { "<Control>w", NULL } },
  { "app.quit", { "<Control>q", NULL } },
  { "app.preferences", { "<Control>comma", NULL } },
  { "win.show-help-overlay", { "<Control>question", NULL } },
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

  /* Destroying the windows cancels their sends (see the composer's dispose). */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (self))) != NULL)
    gtk_window_destroy (windows->data);

  g_application_quit (G_APPLICATION (self));
}

static const GActionEntry app_actions[] = {
  { .name = "add-account", .activate = add_account_action },
  { .name = "preferences", .activate = preferences_action },
  { .name = "about", .activate = about_action },
  { .name = "quit", .activate = quit_action },
};

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
}

static void
postage_application_activate (GApplication *app)
{
  PostageApplication *self = POSTAGE_APPLICATION (app);
  PostageComposerWindow *composer;

  POSTAGE_ASSERT_UI_THREAD ();

  if ((composer = find_composer (self)) == NULL)
    composer = postage_composer_window_new (GTK_APPLICATION (self), self->store, self->passwords);

  gtk_window_present (GTK_WINDOW (composer));

  /* With no account the composer cannot send: ask for one first, on top of it. */
  if (postage_account_store_get_default (self->store) == NULL)
    show_account_wizard (self, GTK_WINDOW (composer));
}

static void
postage_application_shutdown (GApplication *app)
{
  PostageApplication *self = POSTAGE_APPLICATION (app);

  /* Session-only passwords end with the session. */
  postage_session_passwords_clear (self->passwords);

  G_APPLICATION_CLASS (postage_application_parent_class)->shutdown (app);
}

static void
postage_application_dispose (GObject *object)
{
  PostageApplication *self = POSTAGE_APPLICATION (object);

  g_clear_object (&self->store);
  g_clear_object (&self->passwords);

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
  app_class->shutdown = postage_application_shutdown;
}

static void
postage_application_init (PostageApplication *self)
{
  self->store = postage_account_store_new ();
  self->passwords = postage_session_passwords_new ();
}

PostageApplication *
postage_application_new (void)
{
  return g_object_new (POSTAGE_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
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
