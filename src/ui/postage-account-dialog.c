/* postage-account-dialog.c — add an SMTP account: settings to a keyfile, password to the keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only. The password goes to the keyring first; the account is
 * written only once that worked, so there is never an account without one.
 */
#define G_LOG_DOMAIN "postage-account-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "accounts/postage-secret-store.h"

#include "postage-account-dialog.h"
#include "postage-ui-private.h"

struct _PostageAccountDialog
{
  AdwWindow             parent_instance;

  /* template children */
  AdwEntryRow          *name_row;
  AdwEntryRow          *email_row;
  AdwEntryRow          *host_row;
  AdwComboRow          *security_row;
  GtkSpinButton        *port_spin;
  AdwEntryRow          *user_row;
  AdwPasswordEntryRow  *password_row;
  AdwEntryRow          *ca_file_row;
  GtkSpinner           *spinner;
  GtkRevealer          *error_revealer;
  GtkLabel             *error_label;

  /* owned */
  PostageAccountStore  *store;
  GCancellable         *cancellable;
  PostageAccount       *pending;      /* waiting for the keyring */
  GtkFileChooserNative *chooser;

  /* state */
  char                 *mirrored_user; /* what we last copied from the email row */
  guint                 port_edited : 1;
  guint                 setting_port : 1;
};

enum {
  PROP_0,
  PROP_STORE,
  N_PROPS
};

enum {
  ACCOUNT_SAVED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (PostageAccountDialog, postage_account_dialog, ADW_TYPE_WINDOW)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* The combo row's items, in this order (see the .ui). */
static const PostageSecurity security_items[] = {
  POSTAGE_SECURITY_STARTTLS,
  POSTAGE_SECURITY_TLS,
  POSTAGE_SECURITY_NONE,
};

static PostageSecurity
get_security (PostageAccountDialog *self)
{
  guint selected = adw_combo_row_get_selected (self->security_row);

  return selected < G_N_ELEMENTS (security_items) ? security_items[selected]
                                                  : POSTAGE_SECURITY_STARTTLS;
}

static const char *
row_text (gpointer row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

static char *
row_dup_stripped (gpointer row)
{
  return g_strstrip (g_strdup (row_text (row)));
}

static void
show_error (PostageAccountDialog *self,
            const char           *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
}

static void
set_busy (PostageAccountDialog *self,
          gboolean              busy)
{
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "account.save", !busy);
}

static PostageAccount *
build_account (PostageAccountDialog *self)
{
  g_autofree char *email = row_dup_stripped (self->email_row);
  g_autofree char *name = row_dup_stripped (self->name_row);
  g_autofree char *host = row_dup_stripped (self->host_row);
  g_autofree char *user = row_dup_stripped (self->user_row);
  g_autofree char *ca_file = row_dup_stripped (self->ca_file_row);
  PostageAccount *account;

  /* Keep it simple: the account is named after its address. */
  account = postage_account_new (email);
  postage_account_set_display_name (account, *name != '\0' ? name : NULL);
  postage_account_set_email (account, email);
  postage_account_set_host (account, host);
  postage_account_set_port (account, (guint16) gtk_spin_button_get_value_as_int (self->port_spin));
  postage_account_set_security (account, get_security (self));
  /* Unset means "the email address" (postage_account_get_user). */
  postage_account_set_user (account, (*user != '\0' && g_strcmp0 (user, email) != 0) ? user : NULL);
  postage_account_set_ca_file (account, *ca_file != '\0' ? ca_file : NULL);

  return account;
}

static void
secret_saved_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PostageAccountDialog) self = user_data;
  g_autoptr(PostageAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  POSTAGE_ASSERT_UI_THREAD ();

  account = g_steal_pointer (&self->pending);

  if (!postage_secret_store_save_finish (result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          set_busy (self, FALSE);
          show_error (self, error->message);
        }
      return;
    }

  /* The dialog was closed while the keyring worked. */
  if (account == NULL || g_cancellable_is_cancelled (self->cancellable))
    return;

  if (!postage_account_store_save (self->store, account, &error))
    {
      set_busy (self, FALSE);
      show_error (self, error->message);
      return;
    }

  g_signal_emit (self, signals[ACCOUNT_SAVED], 0, account);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  PostageAccountDialog *self = POSTAGE_ACCOUNT_DIALOG (widget);
  g_autoptr(PostageAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  const char *password = row_text (self->password_row);

  POSTAGE_ASSERT_UI_THREAD ();

  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);

  account = build_account (self);
  if (!postage_account_validate (account, &error))
    {
      show_error (self, error->message);
      return;
    }

  if (*password == '\0')
    {
      show_error (self, _("Enter the password, or the app-specific password your provider gave you."));
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }

  set_busy (self, TRUE);
  g_set_object (&self->pending, account);
  postage_secret_store_save_async (account, password, self->cancellable,
                                   secret_saved_cb, g_object_ref (self));
}

static void
chooser_response_cb (PostageAccountDialog *self,
                     int                   response,
                     GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        gtk_editable_set_text (GTK_EDITABLE (self->ca_file_row), path);
    }

  g_clear_object (&self->chooser);
}

static void
choose_ca_file_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  PostageAccountDialog *self = POSTAGE_ACCOUNT_DIALOG (widget);

  if (self->chooser != NULL)
    return;

  self->chooser = gtk_file_chooser_native_new (_("Choose a CA Certificate"),
                                               GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Choose"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (chooser_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
email_changed_cb (PostageAccountDialog *self)
{
  const char *user = row_text (self->user_row);

  /* The user name follows the address until the person types their own. */
  if (*user == '\0' || g_strcmp0 (user, self->mirrored_user) == 0)
    {
      g_free (self->mirrored_user);
      self->mirrored_user = row_dup_stripped (self->email_row);
      gtk_editable_set_text (GTK_EDITABLE (self->user_row), self->mirrored_user);
    }
}

static void
security_changed_cb (PostageAccountDialog *self)
{
  if (self->port_edited)
    return;

  self->setting_port = TRUE;
  gtk_spin_button_set_value (self->port_spin, postage_security_default_port (get_security (self)));
  self->setting_port = FALSE;
}

static void
port_changed_cb (PostageAccountDialog *self)
{
  if (!self->setting_port)
    self->port_edited = TRUE;
}

static void
postage_account_dialog_dispose (GObject *object)
{
  PostageAccountDialog *self = POSTAGE_ACCOUNT_DIALOG (object);

  g_cancellable_cancel (self->cancellable);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);

  gtk_widget_dispose_template (GTK_WIDGET (self), POSTAGE_TYPE_ACCOUNT_DIALOG);

  g_clear_object (&self->pending);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (postage_account_dialog_parent_class)->dispose (object);
}

static void
postage_account_dialog_finalize (GObject *object)
{
  PostageAccountDialog *self = POSTAGE_ACCOUNT_DIALOG (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->mirrored_user, g_free);

  G_OBJECT_CLASS (postage_account_dialog_parent_class)->finalize (object);
}

static void
postage_account_dialog_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  PostageAccountDialog *self = POSTAGE_ACCOUNT_DIALOG (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_account_dialog_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  PostageAccountDialog *self = POSTAGE_ACCOUNT_DIALOG (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_account_dialog_class_init (PostageAccountDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  _postage_ui_init ();

  object_class->dispose = postage_account_dialog_dispose;
  object_class->finalize = postage_account_dialog_finalize;
  object_class->get_property = postage_account_dialog_get_property;
  object_class->set_property = postage_account_dialog_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         POSTAGE_TYPE_ACCOUNT_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[ACCOUNT_SAVED] =
    g_signal_new ("account-saved",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, POSTAGE_TYPE_ACCOUNT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/postage/Postage/ui/postage-account-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, email_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, host_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, security_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, port_spin);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, user_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, ca_file_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountDialog, error_label);

  gtk_widget_class_install_action (widget_class, "account.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "account.choose-ca-file", NULL,
                                   choose_ca_file_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
postage_account_dialog_init (PostageAccountDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  g_signal_connect_object (self->email_row, "changed", G_CALLBACK (email_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->security_row, "notify::selected",
                           G_CALLBACK (security_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->port_spin, "value-changed", G_CALLBACK (port_changed_cb), self,
                           G_CONNECT_SWAPPED);

  set_busy (self, FALSE);
}

PostageAccountDialog *
postage_account_dialog_new (GtkWindow           *parent,
                            PostageAccountStore *store)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (store), NULL);

  return g_object_new (POSTAGE_TYPE_ACCOUNT_DIALOG,
                       "transient-for", parent,
                       "store", store,
                       NULL);
}
