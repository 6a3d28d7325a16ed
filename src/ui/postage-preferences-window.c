/* postage-preferences-window.c — the accounts: add, edit, remove, the default
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only. The list follows the store's GListModel; adding and
 * editing go through the wizard, which verifies before it saves.
 */
#define G_LOG_DOMAIN "postage-preferences"

#include "config.h"

#include <glib/gi18n.h>

#include "postage-account-wizard.h"
#include "postage-preferences-window.h"
#include "postage-ui-private.h"

struct _PostagePreferencesWindow
{
  AdwPreferencesWindow     parent_instance;

  /* template children */
  AdwPreferencesGroup     *accounts_group;
  GtkButton               *add_button;
  GtkListBox              *accounts_list;
  AdwPreferencesGroup     *default_group;
  AdwComboRow             *default_row;

  /* owned */
  PostageAccountStore     *store;
  PostageSessionPasswords *passwords;
  GSettings               *settings;

  /* state */
  guint                    syncing_default : 1;
};

enum {
  PROP_0,
  PROP_STORE,
  PROP_SESSION_PASSWORDS,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (PostagePreferencesWindow, postage_preferences_window,
                     ADW_TYPE_PREFERENCES_WINDOW)

static GParamSpec *properties[N_PROPS];

static char *
account_title (PostageAccount *account)
{
  const char *name = postage_account_get_display_name (account);

  return g_strdup (name != NULL && *name != '\0' ? name : postage_account_get_email (account));
}

static char *
account_display_cb (PostageAccount *account)
{
  if (account == NULL)
    return g_strdup ("");

  return postage_account_dup_from_display (account);
}

static GtkWidget *
make_row_button (const char     *icon_name,
                 const char     *action_name,
                 PostageAccount *account,
                 const char     *tooltip,
                 const char     *accessible_label)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon_name);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action_name);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s",
                                    postage_account_get_id (account));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible_label,
                                  -1);
  return button;
}

static GtkWidget *
create_account_row_cb (gpointer item,
                       gpointer user_data)
{
  PostageAccount *account = item;
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *title = account_title (account);
  g_autofree char *subtitle = NULL;
  g_autofree char *edit_label = NULL;
  g_autofree char *remove_label = NULL;

  /* Translators: an account's address, then its server, e.g. "robin@icloud.com — smtp.mail.me.com:587" */
  subtitle = g_strdup_printf (_("%s — %s:%u"), postage_account_get_email (account),
                              postage_account_get_host (account),
                              (guint) postage_account_get_port (account));
  /* Names and servers are the person's text, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("mail-send-symbolic"));

  /* Translators: %s is an account's name or address */
  edit_label = g_strdup_printf (_("Edit %s"), title);
  /* Translators: %s is an account's name or address */
  remove_label = g_strdup_printf (_("Remove %s"), title);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             make_row_button ("document-edit-symbolic", "prefs.edit-account",
                                              account, _("Edit"), edit_label));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             make_row_button ("user-trash-symbolic", "prefs.remove-account",
                                              account, _("Remove"), remove_label));

  return row;
}

static guint
find_account (PostagePreferencesWindow *self,
              const char               *id)
{
  GListModel *model = postage_account_store_get_model (self->store);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; id != NULL && i < n; i++)
    {
      g_autoptr(PostageAccount) account = g_list_model_get_item (model, i);

      if (g_strcmp0 (postage_account_get_id (account), id) == 0)
        return i;
    }

  return GTK_INVALID_LIST_POSITION;
}

/* Shows the default: the chosen one, else the store's own. */
static void
sync_default_row (PostagePreferencesWindow *self)
{
  g_autofree char *id = NULL;
  PostageAccount *fallback;
  guint position;

  if (self->settings != NULL)
    id = g_settings_get_string (self->settings, "default-account");

  position = find_account (self, id);
  if (position == GTK_INVALID_LIST_POSITION &&
      (fallback = postage_account_store_get_default (self->store)) != NULL)
    position = find_account (self, postage_account_get_id (fallback));

  self->syncing_default = TRUE;
  adw_combo_row_set_selected (self->default_row, position);
  self->syncing_default = FALSE;

  gtk_widget_set_visible (GTK_WIDGET (self->default_group),
                          g_list_model_get_n_items (postage_account_store_get_model (self->store)) > 1);
}

static void
default_selected_cb (PostagePreferencesWindow *self)
{
  PostageAccount *account;

  if (self->syncing_default || self->settings == NULL)
    return;

  account = adw_combo_row_get_selected_item (self->default_row);
  if (account != NULL)
    g_settings_set_string (self->settings, "default-account", postage_account_get_id (account));
}

static void
accounts_changed_cb (PostagePreferencesWindow *self)
{
  sync_default_row (self);
}

static void
add_account_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  PostagePreferencesWindow *self = POSTAGE_PREFERENCES_WINDOW (widget);
  PostageAccountWizard *wizard;

  wizard = postage_account_wizard_new (GTK_WINDOW (self), self->store, self->passwords);
  gtk_window_present (GTK_WINDOW (wizard));
}

static void
edit_account_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  PostagePreferencesWindow *self = POSTAGE_PREFERENCES_WINDOW (widget);
  PostageAccount *account;
  PostageAccountWizard *wizard;

  account = postage_account_store_lookup (self->store, g_variant_get_string (param, NULL));
  if (account == NULL)
    return;

  wizard = postage_account_wizard_new_for_edit (GTK_WINDOW (self), self->store, self->passwords,
                                                account);
  gtk_window_present (GTK_WINDOW (wizard));
}

static void
remove_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  PostagePreferencesWindow *self = user_data;
  g_autoptr(PostageAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *default_id = NULL;
  const char *id = g_object_get_data (G_OBJECT (dialog), "account-id");
  gboolean shared;

  POSTAGE_ASSERT_UI_THREAD ();

  if (g_strcmp0 (response, "remove") != 0)
    return;

  if (postage_account_store_lookup (self->store, id) == NULL)
    return;
  account = g_object_ref (postage_account_store_lookup (self->store, id));

  /* Another account signing in as the same user keeps the entry alive. */
  shared = postage_account_store_shares_secret (self->store, account, id);

  if (!postage_account_store_remove (self->store, id, &error))
    {
      AdwToast *toast = adw_toast_new (error->message);

      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), toast);
      return;
    }

  postage_session_passwords_set (self->passwords, id, NULL);
  if (!shared)
    _postage_secret_clear_in_background (account);

  if (self->settings != NULL)
    {
      default_id = g_settings_get_string (self->settings, "default-account");
      if (g_strcmp0 (default_id, id) == 0)
        g_settings_reset (self->settings, "default-account");
    }
  sync_default_row (self);
}

static void
remove_account_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  PostagePreferencesWindow *self = POSTAGE_PREFERENCES_WINDOW (widget);
  const char *id = g_variant_get_string (param, NULL);
  PostageAccount *account = postage_account_store_lookup (self->store, id);
  g_autofree char *title = NULL;
  g_autofree char *heading = NULL;
  AdwMessageDialog *dialog;

  if (account == NULL)
    return;

  title = account_title (account);
  /* Translators: %s is an account's name or address */
  heading = g_strdup_printf (_("Remove %s?"), title);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), heading, NULL));
  adw_message_dialog_set_body (dialog,
                               postage_account_store_shares_secret (self->store, account, id)
                               ? _("Postage forgets this account’s settings. Its password stays "
                                   "in your keyring, because another account signs in with it.")
                               : _("Postage forgets this account’s settings and removes its "
                                   "password from your keyring."));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "account-id", g_strdup (id), g_free);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
postage_preferences_window_constructed (GObject *object)
{
  PostagePreferencesWindow *self = POSTAGE_PREFERENCES_WINDOW (object);
  g_autoptr(GtkExpression) expression = NULL;
  GListModel *model = postage_account_store_get_model (self->store);
  GtkWidget *placeholder;

  G_OBJECT_CLASS (postage_preferences_window_parent_class)->constructed (object);

  if (self->passwords == NULL)
    self->passwords = postage_session_passwords_new ();
  self->settings = _postage_settings_new ();

  gtk_list_box_bind_model (self->accounts_list, model, create_account_row_cb, self, NULL);
  placeholder = gtk_label_new (_("No accounts yet. Add one to start sending mail."));
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 18);
  gtk_widget_set_margin_bottom (placeholder, 18);
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_list_box_set_placeholder (self->accounts_list, placeholder);

  expression = gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL,
                                            G_CALLBACK (account_display_cb), NULL, NULL);
  adw_combo_row_set_expression (self->default_row, expression);
  adw_combo_row_set_model (self->default_row, model);

  g_signal_connect_object (model, "items-changed", G_CALLBACK (accounts_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->default_row, "notify::selected",
                           G_CALLBACK (default_selected_cb), self, G_CONNECT_SWAPPED);
  sync_default_row (self);
}

static void
postage_preferences_window_dispose (GObject *object)
{
  PostagePreferencesWindow *self = POSTAGE_PREFERENCES_WINDOW (object);

  if (self->accounts_list != NULL)
    gtk_list_box_bind_model (self->accounts_list, NULL, NULL, NULL, NULL);

  gtk_widget_dispose_template (GTK_WIDGET (self), POSTAGE_TYPE_PREFERENCES_WINDOW);

  g_clear_object (&self->store);
  g_clear_object (&self->passwords);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (postage_preferences_window_parent_class)->dispose (object);
}

static void
postage_preferences_window_get_property (GObject    *object,
                                         guint       prop_id,
                                         GValue     *value,
                                         GParamSpec *pspec)
{
  PostagePreferencesWindow *self = POSTAGE_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    case PROP_SESSION_PASSWORDS:
      g_value_set_object (value, self->passwords);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_preferences_window_set_property (GObject      *object,
                                         guint         prop_id,
                                         const GValue *value,
                                         GParamSpec   *pspec)
{
  PostagePreferencesWindow *self = POSTAGE_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;
    case PROP_SESSION_PASSWORDS:
      self->passwords = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_preferences_window_class_init (PostagePreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  _postage_ui_init ();

  object_class->constructed = postage_preferences_window_constructed;
  object_class->dispose = postage_preferences_window_dispose;
  object_class->get_property = postage_preferences_window_get_property;
  object_class->set_property = postage_preferences_window_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         POSTAGE_TYPE_ACCOUNT_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SESSION_PASSWORDS] =
    g_param_spec_object ("session-passwords", NULL, NULL,
                         POSTAGE_TYPE_SESSION_PASSWORDS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/postage/Postage/ui/postage-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PostagePreferencesWindow, accounts_group);
  gtk_widget_class_bind_template_child (widget_class, PostagePreferencesWindow, add_button);
  gtk_widget_class_bind_template_child (widget_class, PostagePreferencesWindow, accounts_list);
  gtk_widget_class_bind_template_child (widget_class, PostagePreferencesWindow, default_group);
  gtk_widget_class_bind_template_child (widget_class, PostagePreferencesWindow, default_row);

  gtk_widget_class_install_action (widget_class, "prefs.add-account", NULL, add_account_action);
  gtk_widget_class_install_action (widget_class, "prefs.edit-account", "s", edit_account_action);
  gtk_widget_class_install_action (widget_class, "prefs.remove-account", "s",
                                   remove_account_action);
}

static void
postage_preferences_window_init (PostagePreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

PostagePreferencesWindow *
postage_preferences_window_new (GtkWindow               *parent,
                                PostageAccountStore     *store,
                                PostageSessionPasswords *passwords)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (passwords == NULL || POSTAGE_IS_SESSION_PASSWORDS (passwords), NULL);

  return g_object_new (POSTAGE_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "store", store,
                       "session-passwords", passwords,
                       NULL);
}
