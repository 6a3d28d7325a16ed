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
#include "postage-preferences-window.h"
#include "postage-ui-private.h"

#define SETTINGS_SCHEMA_ID "io.github.postage.Postage"

struct _PostageApplication
{
  AdwApplication       parent_instance;

  /* owned */
  PostageAccountStore     *store;
  PostageSessionPasswords *passwords; /* wiped at shutdown */

  /* state */
  gboolean                 composed;  /* --compose was handled; skip the activate that follows */
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

/* Defined below with the other ways of opening a composer. */
static void compose_action (GSimpleAction *action, GVariant *param, gpointer user_data);

static const GActionEntry app_actions[] = {
  { .name = "add-account", .activate = add_account_action },
  { .name = "preferences", .activate = preferences_action },
  { .name = "about", .activate = about_action },
  { .name = "quit", .activate = quit_action },
  { .name = "compose", .activate = compose_action, .parameter_type = "a{sv}" },
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
  present_composer (self, composer);
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
  app_class->open = postage_application_open;
  app_class->handle_local_options = postage_application_handle_local_options;
  app_class->shutdown = postage_application_shutdown;
}

static void
postage_application_init (PostageApplication *self)
{
  self->store = postage_account_store_new ();
  self->passwords = postage_session_passwords_new ();

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
