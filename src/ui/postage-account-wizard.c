/* postage-account-wizard.c — from an email address to a verified, saved account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only. Discovery and the verification job deliver their results
 * on this thread's main context; every callback holds a GWeakRef to the
 * wizard plus the GCancellable of the step it belongs to, and drops results
 * of a step that was cancelled or replaced (Back, a new address, closing).
 *
 * Order of saving: the server must accept the sign-in first; then the
 * password goes to the keyring and only then the settings to the store, so
 * there is never an account whose password was refused or is missing.
 *
 * The msmtp import is the one exception, because nothing is verified there:
 * it copies settings only (never a password, never running anything from
 * the file). Finding and parsing the file and asking the keyring are
 * blocking, so both run on GTask worker threads on snapshots; the store is
 * only touched here.
 */
#define G_LOG_DOMAIN "postage-account-wizard"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "accounts/postage-discovery.h"
#include "accounts/postage-msmtp-import.h"
#include "accounts/postage-providers.h"
#include "accounts/postage-secret-store.h"
#include "smtp/postage-smtp-error.h"
#include "smtp/postage-smtp-job.h"

#include "postage-account-wizard.h"
#include "postage-ui-private.h"

typedef enum {
  MODE_ADD,
  MODE_EDIT,
  MODE_PASSWORD,
} WizardMode;

typedef enum {
  VERIFY_IDLE,
  VERIFY_RUNNING,
  VERIFY_FAILED,
  VERIFY_SAVING,
  VERIFY_DONE,
} VerifyState;

struct _PostageAccountWizard
{
  AdwWindow                parent_instance;

  /* template children */
  AdwWindowTitle          *window_title;
  GtkButton               *cancel_button;
  GtkButton               *back_button;
  GtkButton               *next_button;
  GtkSpinner              *spinner;
  GtkStack                *stack;
  GtkLabel                *address_title_label;
  GtkLabel                *address_intro_label;
  AdwEntryRow             *name_row;
  AdwEntryRow             *email_row;
  GtkLabel                *address_error_label;
  GtkBox                  *discovering_box;
  GtkSpinner              *discovering_spinner;
  GtkLabel                *discovering_label;
  GtkButton               *manual_button;
  AdwActionRow            *source_row;
  GtkImage                *source_icon;
  AdwEntryRow             *host_row;
  AdwComboRow             *security_row;
  GtkSpinButton           *port_spin;
  AdwEntryRow             *user_row;
  AdwEntryRow             *ca_file_row;
  AdwActionRow            *pinned_row;
  GtkLabel                *settings_error_label;
  AdwStatusPage           *blocked_page;
  AdwPreferencesGroup     *app_password_group;
  GtkLabel                *app_password_intro_label;
  GtkLabel                *steps_label;
  GtkButton               *open_page_button;
  AdwButtonContent        *open_page_content;
  AdwPreferencesGroup     *password_group;
  AdwPasswordEntryRow     *password_row;
  GtkLabel                *password_error_label;
  GtkStack                *status_icon_stack;
  GtkSpinner              *verify_spinner;
  GtkLabel                *status_title_label;
  GtkLabel                *status_label;
  GtkProgressBar          *progress_bar;
  GtkButton               *app_password_link;
  AdwPreferencesGroup     *certificate_group;
  GtkLabel                *certificate_label;
  GtkButton               *trust_button;
  AdwPreferencesGroup     *keyring_group;
  GtkLabel                *keyring_label;
  GtkButton               *session_button;
  GtkExpander             *transcript_expander;
  GtkScrolledWindow       *transcript_scroller;
  GtkTextView             *transcript_view;
  AdwPreferencesGroup     *msmtp_group;
  AdwActionRow            *msmtp_row;
  GtkLabel                *imported_title_label;
  GtkLabel                *imported_intro_label;
  GtkListBox              *imported_list;

  /* owned */
  PostageAccountStore     *store;
  PostageSessionPasswords *passwords;
  PostageAccount          *original;     /* edit and password modes: as stored */
  PostageAccount          *pending;      /* what is being verified and saved */
  PostageProviders        *providers;
  GCancellable            *cancellable;  /* the window's; cancelled on close */
  GCancellable            *step;         /* the running discovery, job or save */
  GtkFileChooserNative    *chooser;
  GtkTextMark             *transcript_end;
  GPtrArray               *msmtp_items;  /* PostageMsmtpAccount *, from the scan */
  char                    *msmtp_path;

  /* borrowed from providers */
  const PostageProvider   *provider;

  /* state */
  WizardMode               mode;
  VerifyState              verify_state;
  char                    *discovered_email; /* the address the settings are for */
  char                    *mirrored_user;    /* what we last copied from the email row */
  char                    *fingerprint;      /* pinned certificate, normalized */
  char                    *untrusted_fingerprint;
  char                    *password;         /* verified, waiting for the keyring */
  guint                    port_edited : 1;
  guint                    setting_port : 1;
  guint                    discovering : 1;
  guint                    providers_loaded : 1;
  guint                    checking_keyring : 1;
};

enum {
  PROP_0,
  PROP_STORE,
  PROP_SESSION_PASSWORDS,
  PROP_ACCOUNT,
  PROP_PASSWORD_ONLY,
  N_PROPS
};

enum {
  ACCOUNT_SAVED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (PostageAccountWizard, postage_account_wizard, ADW_TYPE_WINDOW)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* The combo row's items, in this order (see the .ui). */
static const PostageSecurity security_items[] = {
  POSTAGE_SECURITY_STARTTLS,
  POSTAGE_SECURITY_TLS,
  POSTAGE_SECURITY_NONE,
};

static void start_verify (PostageAccountWizard *self);

/* What a callback needs to find the wizard and to tell whether its step is
 * still the current one. */
static PostageUiGuard *
step_guard_new (PostageAccountWizard *self)
{
  return _postage_ui_guard_new (self, G_STRUCT_OFFSET (PostageAccountWizard, step));
}

static GCancellable *
new_step (PostageAccountWizard *self)
{
  if (self->step != NULL)
    g_cancellable_cancel (self->step);
  g_clear_object (&self->step);
  self->step = g_cancellable_new ();

  return self->step;
}

static void
cancel_step (PostageAccountWizard *self)
{
  if (self->step != NULL)
    g_cancellable_cancel (self->step);
  g_clear_object (&self->step);
}

static void
wipe_password (PostageAccountWizard *self)
{
  if (self->password != NULL)
    explicit_bzero (self->password, strlen (self->password));
  g_clear_pointer (&self->password, g_free);
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

static PostageSecurity
get_security (PostageAccountWizard *self)
{
  guint selected = adw_combo_row_get_selected (self->security_row);

  return selected < G_N_ELEMENTS (security_items) ? security_items[selected]
                                                  : POSTAGE_SECURITY_STARTTLS;
}

static void
set_security (PostageAccountWizard *self,
              PostageSecurity       security)
{
  for (guint i = 0; i < G_N_ELEMENTS (security_items); i++)
    if (security_items[i] == security)
      adw_combo_row_set_selected (self->security_row, i);
}

static void
set_port (PostageAccountWizard *self,
          guint16               port)
{
  self->setting_port = TRUE;
  gtk_spin_button_set_value (self->port_spin, port);
  self->setting_port = FALSE;
}

/* The part after the last '@', or NULL when there is no plausible address. */
static const char *
email_domain (const char *email)
{
  const char *at = strrchr (email, '@');

  if (at == NULL || at == email || at[1] == '\0' || strchr (at + 1, '.') == NULL ||
      strpbrk (email, " \t\r\n<>") != NULL)
    return NULL;

  return at + 1;
}

static PostageProviders *
get_providers (PostageAccountWizard *self)
{
  g_autoptr(GError) error = NULL;

  if (!self->providers_loaded)
    {
      self->providers_loaded = TRUE;
      self->providers = postage_providers_load_default (&error);
      if (self->providers == NULL)
        g_warning ("Failed to load the provider list: %s", error->message);
    }

  return self->providers;
}

/* The provider of the current address from the shipped list (no DNS). */
static const PostageProvider *
lookup_provider (PostageAccountWizard *self)
{
  g_autofree char *email = row_dup_stripped (self->email_row);
  const char *domain = email_domain (email);
  PostageProviders *providers = get_providers (self);

  if (domain == NULL || providers == NULL)
    return NULL;

  return postage_providers_lookup_domain (providers, domain);
}

static gboolean
pending_key_changed (PostageAccountWizard *self)
{
  if (self->original == NULL || self->pending == NULL)
    return TRUE;

  return g_strcmp0 (postage_account_get_host (self->original),
                    postage_account_get_host (self->pending)) != 0 ||
         postage_account_get_port (self->original) != postage_account_get_port (self->pending) ||
         g_strcmp0 (postage_account_get_user (self->original),
                    postage_account_get_user (self->pending)) != 0;
}

/* Anything that decides whether the server accepts this account. */
static gboolean
pending_connection_changed (PostageAccountWizard *self)
{
  if (pending_key_changed (self))
    return TRUE;

  return postage_account_get_security (self->original) !=
           postage_account_get_security (self->pending) ||
         g_strcmp0 (postage_account_get_ca_file (self->original),
                    postage_account_get_ca_file (self->pending)) != 0 ||
         g_strcmp0 (postage_account_get_fingerprint (self->original),
                    postage_account_get_fingerprint (self->pending)) != 0;
}

static const char *
page_name (PostageAccountWizard *self)
{
  return gtk_stack_get_visible_child_name (self->stack);
}

static gboolean
on_page (PostageAccountWizard *self,
         const char           *name)
{
  return g_strcmp0 (page_name (self), name) == 0;
}

static gboolean
is_first_page (PostageAccountWizard *self)
{
  return on_page (self, self->mode == MODE_PASSWORD ? "password" : "address");
}

/* Header: title, Cancel or Back, Next and what it says, the spinner. */
static void
update_header (PostageAccountWizard *self)
{
  const char *subtitle = NULL;
  const char *next_label = _("_Next");
  gboolean next_visible = TRUE;
  gboolean next_enabled = TRUE;
  gboolean busy = FALSE;
  gboolean first = is_first_page (self);

  if (on_page (self, "address"))
    {
      subtitle = _("Your Address");
      busy = self->discovering;
      next_enabled = !self->discovering;
    }
  else if (on_page (self, "settings"))
    {
      subtitle = _("Server Settings");
    }
  else if (on_page (self, "blocked"))
    {
      subtitle = _("Not Supported");
      next_enabled = FALSE;
    }
  else if (on_page (self, "password"))
    {
      subtitle = _("Password");
      if (self->mode == MODE_EDIT && self->pending != NULL && !pending_connection_changed (self) &&
          *row_text (self->password_row) == '\0')
        next_label = _("_Save");
      else
        next_label = _("_Verify");
    }
  else if (on_page (self, "imported"))
    {
      subtitle = _("Imported from msmtp");
      busy = self->checking_keyring;
      next_label = _("_Done");
    }
  else if (on_page (self, "verify"))
    {
      subtitle = _("Verification");
      busy = self->verify_state == VERIFY_RUNNING || self->verify_state == VERIFY_SAVING;
      next_label = _("_Try Again");
      next_visible = self->verify_state == VERIFY_FAILED;
    }

  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_button_set_label (self->next_button, next_label);
  gtk_widget_set_visible (GTK_WIDGET (self->next_button), next_visible);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.next", next_enabled && next_visible);
  /* The import is done once it has happened: no way back, only Done. */
  gtk_widget_set_visible (GTK_WIDGET (self->back_button), !first && !on_page (self, "imported"));
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), first);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.back",
                                 !first && !on_page (self, "imported") &&
                                 self->verify_state != VERIFY_SAVING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.manual", !self->discovering);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.import-msmtp",
                                 !self->discovering && on_page (self, "address"));
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
}

static void
show_page (PostageAccountWizard *self,
           const char           *name)
{
  GtkWidget *focus = NULL;

  gtk_stack_set_visible_child_name (self->stack, name);
  update_header (self);

  if (g_str_equal (name, "address"))
    focus = *row_text (self->email_row) == '\0' && self->mode == MODE_ADD
            ? GTK_WIDGET (self->name_row) : GTK_WIDGET (self->email_row);
  else if (g_str_equal (name, "settings"))
    focus = GTK_WIDGET (self->host_row);
  else if (g_str_equal (name, "password"))
    focus = GTK_WIDGET (self->password_row);

  if (focus != NULL)
    gtk_widget_grab_focus (focus);
}

static void
show_label_error (GtkLabel   *label,
                  const char *message)
{
  gtk_label_set_text (label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (label), message != NULL);
}

static void
update_pinned_row (PostageAccountWizard *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->pinned_row), self->fingerprint != NULL);
  adw_action_row_set_subtitle (self->pinned_row, self->fingerprint != NULL ? self->fingerprint : "");
}

static void
set_source (PostageAccountWizard *self,
            const char           *icon_name,
            const char           *title,
            const char           *subtitle)
{
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->source_row), title);
  adw_action_row_set_subtitle (self->source_row, subtitle);
  gtk_image_set_from_icon_name (self->source_icon, icon_name);
}

static void
fill_settings (PostageAccountWizard *self,
               const char           *host,
               guint16               port,
               PostageSecurity       security,
               const char           *user)
{
  gtk_editable_set_text (GTK_EDITABLE (self->host_row), host != NULL ? host : "");
  self->setting_port = TRUE;
  set_security (self, security);
  self->setting_port = FALSE;
  set_port (self, port != 0 ? port : postage_security_default_port (security));
  self->port_edited = FALSE;
  gtk_editable_set_text (GTK_EDITABLE (self->user_row), user != NULL ? user : "");
  g_free (self->mirrored_user);
  self->mirrored_user = g_strdup (user);
}

static void
apply_discovery (PostageAccountWizard         *self,
                 const PostageDiscoveryResult *result,
                 const char                   *domain)
{
  g_autofree char *subtitle = NULL;

  self->provider = result->provider;
  fill_settings (self, result->host, result->port, result->security, result->user);

  switch (result->source)
    {
    case POSTAGE_DISCOVERY_PROVIDER:
      set_source (self, "emblem-ok-symbolic", result->provider->name,
                  _("Settings from Postage’s list of providers"));
      break;
    case POSTAGE_DISCOVERY_SRV:
      /* Translators: %s is a mail domain, e.g. example.org */
      subtitle = g_strdup_printf (_("Published by %s in its DNS records. DNS answers can be "
                                    "forged: check that the server looks right."), domain);
      set_source (self, "network-server-symbolic", _("Found in Your Domain’s DNS"), subtitle);
      break;
    case POSTAGE_DISCOVERY_MX:
      /* Translators: the first %s is a mail domain, the second a provider, e.g. Gmail */
      subtitle = g_strdup_printf (_("Mail for %s is handled by %s, according to its DNS "
                                    "records. Check that this is right."),
                                  domain, result->provider->name);
      set_source (self, "network-server-symbolic",
                  result->provider->name, subtitle);
      break;
    case POSTAGE_DISCOVERY_GUESS:
    default:
      set_source (self, "dialog-question-symbolic", _("Postage’s Best Guess"),
                  _("Nothing confirmed these settings. Check them against your provider’s "
                    "help pages before going on."));
      break;
    }
}

static void
show_discovering (PostageAccountWizard *self,
                  const char           *domain)
{
  g_autofree char *text = NULL;

  self->discovering = domain != NULL;
  if (domain != NULL)
    {
      /* Translators: %s is a mail domain, e.g. example.org */
      text = g_strdup_printf (_("Looking up the settings for %s…"), domain);
      gtk_label_set_text (self->discovering_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->discovering_box), domain != NULL);
  gtk_spinner_set_spinning (self->discovering_spinner, domain != NULL);
  gtk_editable_set_editable (GTK_EDITABLE (self->email_row), domain == NULL);
  update_header (self);
}

static void
show_blocked (PostageAccountWizard  *self,
              const PostageProvider *provider)
{
  g_autofree char *title = NULL;

  /* Translators: %s is a provider's name, e.g. Outlook.com */
  title = g_strdup_printf (_("%s Does Not Allow Password Sign-In"), provider->name);
  adw_status_page_set_title (self->blocked_page, title);
  adw_status_page_set_description (self->blocked_page, provider->no_password_login);
  show_page (self, "blocked");
}

static void
discovery_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PostageUiGuard *guard = user_data;
  g_autoptr(PostageAccountWizard) self = NULL;
  g_autoptr(PostageDiscoveryResult) found = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *email = NULL;

  POSTAGE_ASSERT_UI_THREAD ();

  found = postage_discovery_lookup_finish (result, &error);
  self = _postage_ui_guard_dup (guard);
  _postage_ui_guard_free (guard);

  if (self == NULL)
    return;

  g_clear_object (&self->step);
  show_discovering (self, NULL);

  if (found == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_label_error (self->address_error_label, error->message);
      return;
    }

  email = row_dup_stripped (self->email_row);
  g_free (self->discovered_email);
  self->discovered_email = g_strdup (email);
  apply_discovery (self, found, email_domain (email));

  if (self->provider != NULL && self->provider->no_password_login != NULL)
    show_blocked (self, self->provider);
  else
    show_page (self, "settings");
}

/* FALSE, with the reason shown, when the address cannot be an account. */
static gboolean
check_address (PostageAccountWizard *self)
{
  g_autofree char *email = row_dup_stripped (self->email_row);

  show_label_error (self->address_error_label, NULL);

  if (email_domain (email) == NULL)
    {
      show_label_error (self->address_error_label,
                        _("Enter your whole email address, for example robin@example.org."));
      gtk_widget_grab_focus (GTK_WIDGET (self->email_row));
      return FALSE;
    }

  if (self->mode == MODE_ADD && postage_account_store_lookup (self->store, email) != NULL)
    {
      show_label_error (self->address_error_label,
                        _("There is an account for this address already. Change it in "
                          "Preferences instead."));
      return FALSE;
    }

  return TRUE;
}

static void
start_discovery (PostageAccountWizard *self)
{
  g_autofree char *email = row_dup_stripped (self->email_row);
  PostageProviders *providers = get_providers (self);

  if (providers == NULL)
    {
      /* Without the list there is still the manual page. */
      gtk_widget_activate_action (GTK_WIDGET (self), "wizard.manual", NULL);
      return;
    }

  new_step (self);
  show_discovering (self, email_domain (email));
  postage_discovery_lookup_async (email, providers, NULL, self->step,
                                  discovery_done_cb, step_guard_new (self));
}

static PostageAccount *
build_account (PostageAccountWizard *self)
{
  g_autofree char *email = row_dup_stripped (self->email_row);
  g_autofree char *name = row_dup_stripped (self->name_row);
  g_autofree char *host = row_dup_stripped (self->host_row);
  g_autofree char *user = row_dup_stripped (self->user_row);
  g_autofree char *ca_file = row_dup_stripped (self->ca_file_row);
  PostageAccount *account;

  if (self->original != NULL)
    account = postage_account_copy (self->original);
  else
    account = postage_account_new (email);

  postage_account_set_display_name (account, *name != '\0' ? name : NULL);
  postage_account_set_email (account, email);
  postage_account_set_host (account, host);
  postage_account_set_port (account, (guint16) gtk_spin_button_get_value_as_int (self->port_spin));
  postage_account_set_security (account, get_security (self));
  /* Unset means "the email address" (postage_account_get_user). */
  postage_account_set_user (account, (*user != '\0' && g_strcmp0 (user, email) != 0) ? user : NULL);
  postage_account_set_ca_file (account, *ca_file != '\0' ? ca_file : NULL);
  postage_account_set_fingerprint (account, self->fingerprint);

  return account;
}

static void
configure_password_page (PostageAccountWizard *self)
{
  const PostageProvider *provider = self->provider;
  g_autofree char *description = NULL;
  gboolean optional;

  if (provider == NULL)
    provider = lookup_provider (self);

  if (provider != NULL && provider->app_password)
    {
      g_autofree char *intro = NULL;
      g_autofree char *button = NULL;
      g_autoptr(GString) steps = g_string_new (NULL);

      /* Translators: %s is a provider's name, e.g. iCloud Mail */
      intro = g_strdup_printf (_("%s lets mail programs sign in only with an app-specific "
                                 "password: a separate password you create for Postage alone, "
                                 "which you can revoke without changing your main one."),
                               provider->name);
      for (guint i = 0; provider->steps != NULL && provider->steps[i] != NULL; i++)
        g_string_append_printf (steps, "%s%u.  %s", i > 0 ? "\n" : "", i + 1, provider->steps[i]);

      /* Translators: %s is a provider's name; the button opens its web page */
      button = g_strdup_printf (_("_Open %s in the Browser"), provider->name);
      gtk_label_set_text (self->app_password_intro_label, intro);
      gtk_label_set_text (self->steps_label, steps->str);
      gtk_widget_set_visible (GTK_WIDGET (self->steps_label), steps->len > 0);
      adw_button_content_set_label (self->open_page_content, button);
      gtk_widget_set_visible (GTK_WIDGET (self->open_page_button),
                              provider->app_password_url != NULL);
      /* Where it goes, before it goes there. */
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->open_page_button), provider->app_password_url);
      gtk_widget_set_visible (GTK_WIDGET (self->app_password_group), TRUE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->password_row),
                                     _("App-Specific Password"));
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->app_password_group), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->password_row), _("Password"));
    }

  optional = self->mode == MODE_EDIT && !pending_key_changed (self);
  if (optional)
    description = g_strdup (_("Leave this empty to keep the saved password."));
  else
    /* Translators: the first %s is a user name, the second a server's host name */
    description = g_strdup_printf (_("For %s on %s. Postage keeps it in your keyring, never in "
                                     "a file."),
                                   postage_account_get_user (self->pending),
                                   postage_account_get_host (self->pending));
  adw_preferences_group_set_description (self->password_group, description);
  show_label_error (self->password_error_label, NULL);
}

static void
go_to_password (PostageAccountWizard *self)
{
  g_autoptr(PostageAccount) account = build_account (self);
  g_autoptr(GError) error = NULL;

  if (!postage_account_validate (account, &error))
    {
      show_label_error (self->settings_error_label, error->message);
      return;
    }
  show_label_error (self->settings_error_label, NULL);

  g_set_object (&self->pending, account);
  configure_password_page (self);
  show_page (self, "password");
}

/* Verification */

static void
set_status (PostageAccountWizard *self,
            const char           *icon,
            const char           *title,
            const char           *text)
{
  gtk_stack_set_visible_child_name (self->status_icon_stack, icon);
  gtk_spinner_set_spinning (self->verify_spinner, g_str_equal (icon, "running"));
  gtk_label_set_text (self->status_title_label, title);
  gtk_label_set_text (self->status_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), text != NULL && *text != '\0');
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress_bar),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, title,
                                  -1);
}

static void
set_verify_state (PostageAccountWizard *self,
                  VerifyState           state)
{
  self->verify_state = state;
  update_header (self);
}

static void
scroll_transcript_to_end (PostageAccountWizard *self)
{
  gtk_text_view_scroll_to_mark (self->transcript_view, self->transcript_end, 0.0, TRUE, 0.0, 1.0);
}

static void
append_transcript_line (PostageAccountWizard *self,
                        char                  direction,
                        const char           *line)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->transcript_view);
  GtkTextIter end;
  g_autofree char *text = NULL;

  text = g_strdup_printf ("%c: %s\n", direction, line != NULL ? line : "");
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert (buffer, &end, text, -1);
  scroll_transcript_to_end (self);
}

static void
set_phase (PostageAccountWizard *self,
           PostageSmtpPhase      phase)
{
  g_autofree char *text = NULL;
  double fraction;

  switch (phase)
    {
    case POSTAGE_SMTP_PHASE_CONNECTING:
      /* Translators: %s is the mail server's host name */
      text = g_strdup_printf (_("Connecting to %s…"), postage_account_get_host (self->pending));
      fraction = 0.1;
      break;
    case POSTAGE_SMTP_PHASE_TLS:
      text = g_strdup (_("Securing the connection…"));
      fraction = 0.4;
      break;
    case POSTAGE_SMTP_PHASE_AUTH:
      /* Translators: %s is the user name */
      text = g_strdup_printf (_("Signing in as %s…"), postage_account_get_user (self->pending));
      fraction = 0.7;
      break;
    case POSTAGE_SMTP_PHASE_SENDING:
    case POSTAGE_SMTP_PHASE_DONE:
    default:
      text = g_strdup (_("Signed in"));
      fraction = 1.0;
      break;
    }

  set_status (self, "running", text, NULL);
  gtk_progress_bar_set_fraction (self->progress_bar, fraction);
}

static const PostageProvider *
current_provider (PostageAccountWizard *self)
{
  return self->provider != NULL ? self->provider : lookup_provider (self);
}

static void
show_failure (PostageAccountWizard *self,
              const GError         *error)
{
  const char *title = _("Verification failed");
  g_autofree char *text = g_strdup (error->message);
  gboolean app_link = FALSE;
  const PostageProvider *provider = current_provider (self);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    title = _("The server stopped answering");
  else if (g_error_matches (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_PASSWORD))
    {
      title = _("No saved password was found");
      g_free (text);
      text = g_strdup (_("Go back and enter the password for this account."));
    }
  else if (g_error_matches (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_KEYRING))
    {
      title = _("The keyring is not available");
      g_free (text);
      /* Translators: %s is the keyring's own explanation */
      text = g_strdup_printf (_("%s Go back and enter the password to use it for this session "
                                "only."), error->message);
    }
  else if (error->domain == POSTAGE_SMTP_ERROR)
    {
      switch ((PostageSmtpErrorCode) error->code)
        {
        case POSTAGE_SMTP_ERROR_CONNECT:
          title = _("Could not reach the server");
          break;
        case POSTAGE_SMTP_ERROR_TLS_HANDSHAKE:
        case POSTAGE_SMTP_ERROR_NO_STARTTLS:
        case POSTAGE_SMTP_ERROR_STARTTLS_INJECTION:
        case POSTAGE_SMTP_ERROR_INSECURE_AUTH:
          title = _("A secure connection could not be made");
          break;
        case POSTAGE_SMTP_ERROR_CERTIFICATE_UNTRUSTED:
          title = _("The server’s certificate is not trusted");
          break;
        case POSTAGE_SMTP_ERROR_AUTH_UNSUPPORTED:
          title = _("The server offers no sign-in Postage can use");
          break;
        case POSTAGE_SMTP_ERROR_AUTH_FAILED:
          if (postage_smtp_error_get_reply_code (error) == 534 ||
              g_strcmp0 (postage_smtp_error_get_enhanced_status (error), "5.7.9") == 0)
            {
              title = _("An app-specific password is needed");
              app_link = TRUE;
            }
          else
            {
              title = _("The user name or password was not accepted");
              app_link = provider != NULL && provider->app_password;
            }
          break;
        case POSTAGE_SMTP_ERROR_TRANSIENT:
          title = _("The server cannot sign you in right now");
          break;
        default:
          break;
        }
    }

  set_status (self, "failed", title, text);
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->app_password_link),
                          app_link && provider != NULL && provider->app_password_url != NULL);

  g_clear_pointer (&self->untrusted_fingerprint, g_free);
  if (g_error_matches (error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_CERTIFICATE_UNTRUSTED))
    {
      const char *certificate = postage_smtp_error_get_certificate (error);

      self->untrusted_fingerprint = postage_fingerprint_normalize (
        postage_smtp_error_get_fingerprint (error));
      gtk_label_set_text (self->certificate_label, certificate != NULL ? certificate : "");
      gtk_widget_set_visible (GTK_WIDGET (self->certificate_group), TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->trust_button),
                              self->untrusted_fingerprint != NULL);
    }

  set_verify_state (self, VERIFY_FAILED);
}

static void
finish_save (PostageAccountWizard *self,
             gboolean              password_in_keyring)
{
  g_autoptr(PostageAccount) account = g_object_ref (self->pending);
  g_autoptr(GError) error = NULL;
  const char *id = postage_account_get_id (account);
  gboolean clear_old;

  POSTAGE_ASSERT_UI_THREAD ();

  /* Decided before the store holds the new settings. */
  clear_old = password_in_keyring && self->original != NULL && pending_key_changed (self) &&
              !postage_account_store_shares_secret (self->store, self->original,
                                                    postage_account_get_id (self->original));

  if (!postage_account_store_save (self->store, account, &error))
    {
      set_status (self, "failed", _("The account could not be saved"), error->message);
      set_verify_state (self, VERIFY_FAILED);
      return;
    }

  if (password_in_keyring)
    postage_session_passwords_set (self->passwords, id, NULL);

  /* The old entry belongs to nobody now. A blocking D-Bus call: on a worker. */
  if (clear_old)
    _postage_secret_clear_in_background (self->original);

  wipe_password (self);
  set_verify_state (self, VERIFY_DONE);
  g_signal_emit (self, signals[ACCOUNT_SAVED], 0, account);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
show_keyring_problem (PostageAccountWizard *self,
                      const GError         *error)
{
  set_status (self, "done", _("Signed in, but the password cannot be kept"),
              _("The server accepted the password, but the system keyring could not store it."));
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  gtk_label_set_text (self->keyring_label, error->message);
  gtk_widget_set_visible (GTK_WIDGET (self->keyring_group), TRUE);
  set_verify_state (self, VERIFY_FAILED);
  /* Trying again would only repeat a verification that worked. */
  gtk_widget_set_visible (GTK_WIDGET (self->next_button), FALSE);
  gtk_widget_grab_focus (GTK_WIDGET (self->session_button));
}

static void
secret_saved_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PostageUiGuard *guard = user_data;
  g_autoptr(PostageAccountWizard) self = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  POSTAGE_ASSERT_UI_THREAD ();

  ok = postage_secret_store_save_finish (result, &error);
  self = _postage_ui_guard_dup (guard);
  _postage_ui_guard_free (guard);

  if (self == NULL)
    return;

  g_clear_object (&self->step);

  if (ok)
    finish_save (self, TRUE);
  else if (g_error_matches (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_KEYRING))
    show_keyring_problem (self, error);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_failure (self, error);
}

static void
save_verified (PostageAccountWizard *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->keyring_group), FALSE);

  if (self->password == NULL)
    {
      /* Nothing new for the keyring (an edit that kept the password). */
      finish_save (self, FALSE);
      return;
    }

  set_status (self, "running", _("Saving the password in your keyring…"), NULL);
  set_verify_state (self, VERIFY_SAVING);
  new_step (self);
  postage_secret_store_save_async (self->pending, self->password, self->step,
                                   secret_saved_cb, step_guard_new (self));
}

static void
job_event_cb (const PostageSmtpEvent *event,
              gpointer                user_data)
{
  g_autoptr(PostageAccountWizard) self = _postage_ui_guard_dup (user_data);

  POSTAGE_ASSERT_UI_THREAD ();

  if (self == NULL)
    return;

  switch (event->kind)
    {
    case POSTAGE_SMTP_EVENT_PHASE:
      set_phase (self, event->phase);
      break;
    case POSTAGE_SMTP_EVENT_TRANSCRIPT:
      append_transcript_line (self, event->direction, event->line);
      break;
    case POSTAGE_SMTP_EVENT_PROGRESS:
    default:
      break;
    }
}

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  PostageUiGuard *guard = user_data;
  g_autoptr(PostageAccountWizard) self = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  POSTAGE_ASSERT_UI_THREAD ();

  reply = postage_smtp_job_run_finish (result, &error);
  self = _postage_ui_guard_dup (guard);
  _postage_ui_guard_free (guard);

  if (self == NULL)
    return;

  g_clear_object (&self->step);

  if (reply == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_failure (self, error);
      return;
    }

  set_phase (self, POSTAGE_SMTP_PHASE_DONE);
  save_verified (self);
}

static void
start_verify (PostageAccountWizard *self)
{
  g_autoptr(PostageSmtpJob) job = NULL;
  const char *session = NULL;

  g_assert (self->pending != NULL);

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->transcript_view), "", -1);
  gtk_widget_set_visible (GTK_WIDGET (self->certificate_group), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->keyring_group), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->app_password_link), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), TRUE);
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);

  job = postage_smtp_job_new (self->pending);
  if (self->password != NULL)
    postage_smtp_job_set_password (job, self->password);
  else if (self->original != NULL &&
           (session = postage_session_passwords_lookup (self->passwords,
                                                        postage_account_get_id (self->original))) != NULL)
    postage_smtp_job_set_password (job, session);
  /* else: the worker reads the saved password from the keyring. */

  new_step (self);
  set_verify_state (self, VERIFY_RUNNING);
  set_phase (self, POSTAGE_SMTP_PHASE_CONNECTING);
  show_page (self, "verify");

  postage_smtp_job_run_async (job, self->step,
                              job_event_cb, step_guard_new (self), _postage_ui_guard_free,
                              job_done_cb, step_guard_new (self));
}

static void
password_next (PostageAccountWizard *self)
{
  const char *password = row_text (self->password_row);
  gboolean optional = self->mode == MODE_EDIT && !pending_key_changed (self);

  if (*password == '\0' && !optional)
    {
      show_label_error (self->password_error_label,
                        self->mode == MODE_EDIT
                        ? _("Enter the password: the server or user name changed.")
                        : _("Enter the password, or the app-specific password your provider "
                            "gave you."));
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }
  show_label_error (self->password_error_label, NULL);

  wipe_password (self);
  if (*password != '\0')
    self->password = g_strdup (password);

  /* An edit of the name or address alone needs no new sign-in. */
  if (self->mode == MODE_EDIT && self->password == NULL && !pending_connection_changed (self))
    {
      finish_save (self, FALSE);
      return;
    }

  start_verify (self);
}

/* msmtp import */

typedef struct
{
  char      *path;
  GPtrArray *items;
} MsmtpScan;

static void
msmtp_scan_free (MsmtpScan *scan)
{
  g_free (scan->path);
  g_clear_pointer (&scan->items, g_ptr_array_unref);
  g_free (scan);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsmtpScan, msmtp_scan_free)

typedef enum {
  KEYRING_CHECKING,
  KEYRING_FOUND,
  KEYRING_NOT_NEEDED,
  KEYRING_MISSING,
  KEYRING_FAILED,
  KEYRING_VERIFIED,
} KeyringStatus;

/* One account's keyring question, filled in on the main thread and only
 * read on the worker, which answers with new KeyringCheck structs. */
typedef struct
{
  char          *id;
  char          *host;
  char          *user;
  guint16        port;
  KeyringStatus  status;
  char          *message;
} KeyringCheck;

static void
keyring_check_free (gpointer data)
{
  KeyringCheck *check = data;

  g_free (check->id);
  g_free (check->host);
  g_free (check->user);
  g_free (check->message);
  g_free (check);
}

static GWeakRef *
weak_ref_new (gpointer object)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, object);
  return ref;
}

static void
weak_ref_free (GWeakRef *ref)
{
  g_weak_ref_clear (ref);
  g_free (ref);
}

/* Worker thread: parsing only. Nothing written in the file is ever run. */
static void
msmtp_scan_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  g_autofree char *path = postage_msmtp_find_config ();
  g_autoptr(GError) error = NULL;
  MsmtpScan *scan;
  GPtrArray *items;

  if (path == NULL)
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  if ((items = postage_msmtp_import_read_full (path, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  scan = g_new0 (MsmtpScan, 1);
  scan->path = g_steal_pointer (&path);
  scan->items = items;
  g_task_return_pointer (task, scan, (GDestroyNotify) msmtp_scan_free);
}

/* The accounts the import would add: readable, and not in the store. */
static guint
count_importable (PostageAccountWizard *self)
{
  guint n = 0;

  for (guint i = 0; self->msmtp_items != NULL && i < self->msmtp_items->len; i++)
    {
      PostageMsmtpAccount *item = g_ptr_array_index (self->msmtp_items, i);

      if (item->problem == NULL &&
          postage_account_store_lookup (self->store, postage_account_get_id (item->account)) == NULL)
        n++;
    }

  return n;
}

/* "~/.msmtprc" rather than the whole home folder. */
static char *
dup_display_path (const char *path)
{
  const char *home = g_get_home_dir ();
  gsize len = strlen (home);

  if (len > 1 && g_str_has_prefix (path, home) && path[len] == G_DIR_SEPARATOR)
    return g_strconcat ("~", path + len, NULL);

  return g_strdup (path);
}

static void
update_msmtp_offer (PostageAccountWizard *self)
{
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *display_path = NULL;
  guint n = self->mode == MODE_ADD ? count_importable (self) : 0;

  gtk_widget_set_visible (GTK_WIDGET (self->msmtp_group), n > 0);
  if (n == 0)
    return;

  display_path = dup_display_path (self->msmtp_path);
  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                        "Import %u account from msmtp",
                                        "Import %u accounts from msmtp", n), n);
  /* Translators: %s is msmtp's configuration file, e.g. ~/.msmtprc */
  subtitle = g_strdup_printf (_("Settings from %s. Passwords come from your keyring: Postage "
                                "never runs commands from that file."), display_path);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->msmtp_row), title);
  adw_action_row_set_subtitle (self->msmtp_row, subtitle);
}

static void
msmtp_scan_done_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GWeakRef *ref = user_data;
  g_autoptr(PostageAccountWizard) self = g_weak_ref_get (ref);
  g_autoptr(MsmtpScan) scan = NULL;
  g_autoptr(GError) error = NULL;

  POSTAGE_ASSERT_UI_THREAD ();

  weak_ref_free (ref);
  scan = g_task_propagate_pointer (G_TASK (result), &error);

  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    /* A file msmtp itself would reject: there is nothing to offer. */
    g_debug ("Not offering an msmtp import: %s", error->message);
  if (self == NULL || scan == NULL)
    return;

  g_clear_pointer (&self->msmtp_items, g_ptr_array_unref);
  g_free (self->msmtp_path);
  self->msmtp_items = g_steal_pointer (&scan->items);
  self->msmtp_path = g_steal_pointer (&scan->path);
  update_msmtp_offer (self);
}

static void
start_msmtp_scan (PostageAccountWizard *self)
{
  g_autoptr(GTask) task = NULL;

  /* No source object: closing the window must not wait for the worker. */
  task = g_task_new (NULL, self->cancellable, msmtp_scan_done_cb, weak_ref_new (self));
  g_task_set_source_tag (task, start_msmtp_scan);
  g_task_run_in_thread (task, msmtp_scan_thread);
}

/* Worker thread: one blocking keyring lookup per account. A password found
 * is wiped at once; it never leaves this function. */
static void
keyring_check_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  GPtrArray *checks = task_data;
  g_autoptr(GPtrArray) answers = g_ptr_array_new_with_free_func (keyring_check_free);

  for (guint i = 0; i < checks->len; i++)
    {
      const KeyringCheck *check = g_ptr_array_index (checks, i);
      KeyringCheck *answer = g_new0 (KeyringCheck, 1);
      g_autoptr(GError) error = NULL;
      char *password;

      answer->id = g_strdup (check->id);
      g_ptr_array_add (answers, answer);

      if (*check->user == '\0')
        {
          answer->status = KEYRING_NOT_NEEDED;
          continue;
        }

      password = postage_secret_store_lookup_sync (check->host, check->port, check->user,
                                                   cancellable, &error);
      if (password != NULL)
        answer->status = KEYRING_FOUND;
      else if (g_error_matches (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_PASSWORD))
        answer->status = KEYRING_MISSING;
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      else
        {
          answer->status = KEYRING_FAILED;
          answer->message = g_strdup (error->message);
        }
      postage_secret_free (password);
    }

  g_task_return_pointer (task, g_steal_pointer (&answers), (GDestroyNotify) g_ptr_array_unref);
}

static GtkWidget *
find_imported_row (PostageAccountWizard *self,
                   const char           *id)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->imported_list));
       row != NULL; row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "account-id"), id) == 0)
      return row;

  return NULL;
}

static void
set_imported_status (GtkWidget     *row,
                     KeyringStatus  status,
                     const char    *message)
{
  GtkImage *icon = g_object_get_data (G_OBJECT (row), "status-icon");
  GtkWidget *button = g_object_get_data (G_OBJECT (row), "password-button");
  const char *notes = g_object_get_data (G_OBJECT (row), "notes");
  g_autofree char *text = NULL;
  g_autofree char *subtitle = NULL;
  const char *icon_name;

  switch (status)
    {
    case KEYRING_CHECKING:
      icon_name = "content-loading-symbolic";
      text = g_strdup (_("Looking for its password in your keyring…"));
      break;
    case KEYRING_FOUND:
      icon_name = "emblem-ok-symbolic";
      text = g_strdup (_("Ready: its password is in your keyring."));
      break;
    case KEYRING_NOT_NEEDED:
      icon_name = "emblem-ok-symbolic";
      text = g_strdup (_("Ready: it signs in without a password."));
      break;
    case KEYRING_VERIFIED:
      icon_name = "emblem-ok-symbolic";
      text = g_strdup (_("Ready: its password was checked and saved in your keyring."));
      break;
    case KEYRING_MISSING:
      icon_name = "dialog-password-symbolic";
      text = g_strdup (_("Needs a password: none is in your keyring yet."));
      break;
    case KEYRING_FAILED:
    default:
      icon_name = "dialog-warning-symbolic";
      /* Translators: %s is the keyring's own explanation */
      text = g_strdup_printf (_("Your keyring could not be asked: %s"), message);
      break;
    }

  subtitle = notes != NULL ? g_strconcat (text, "\n", notes, NULL) : g_strdup (text);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_image_set_from_icon_name (icon, icon_name);
  g_object_set_data (G_OBJECT (row), "status", GINT_TO_POINTER (status));
  gtk_widget_set_visible (button, status == KEYRING_MISSING || status == KEYRING_FAILED);
}

/* A row for one msmtp account. @problem: why it was not imported, or NULL. */
static void
add_imported_row (PostageAccountWizard *self,
                  PostageMsmtpAccount  *item,
                  const char           *problem)
{
  const char *id = postage_account_get_id (item->account);
  GtkWidget *row = adw_action_row_new ();
  /* The subtitle says it in words. */
  GtkWidget *icon = g_object_new (GTK_TYPE_IMAGE,
                                  "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                  NULL);
  GtkWidget *button;
  g_autoptr(GString) notes = g_string_new (NULL);
  g_autofree char *label = NULL;

  /* Names come from the file: text, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), id);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);

  button = gtk_button_new_with_mnemonic (_("Enter _Password…"));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "wizard.enter-imported-password");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", id);
  /* Translators: %s is an account's name */
  label = g_strdup_printf (_("Enter the password for %s"), id);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  if (item->had_passwordeval)
    g_string_append (notes, _("Its passwordeval command in the msmtp file was not run."));
  if (item->had_password)
    g_string_append_printf (notes, "%s%s", notes->len > 0 ? "\n" : "",
                            _("The password written in the msmtp file was not used or "
                              "copied."));

  g_object_set_data_full (G_OBJECT (row), "account-id", g_strdup (id), g_free);
  g_object_set_data (G_OBJECT (row), "status-icon", icon);
  g_object_set_data (G_OBJECT (row), "password-button", button);
  if (notes->len > 0)
    g_object_set_data_full (G_OBJECT (row), "notes",
                            g_string_free (g_steal_pointer (&notes), FALSE), g_free);
  gtk_list_box_append (self->imported_list, row);

  if (problem != NULL)
    {
      g_autofree char *text = NULL;

      /* Translators: %s says why, e.g. "The server is missing." */
      text = g_strdup_printf (_("Not imported: %s"), problem);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), text);
      gtk_image_set_from_icon_name (GTK_IMAGE (icon), "dialog-warning-symbolic");
      gtk_widget_set_visible (button, FALSE);
    }
  else
    set_imported_status (row, KEYRING_CHECKING, NULL);
}

static void
keyring_checked_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  PostageUiGuard *guard = user_data;
  g_autoptr(PostageAccountWizard) self = NULL;
  g_autoptr(GPtrArray) answers = NULL;
  g_autoptr(GError) error = NULL;

  POSTAGE_ASSERT_UI_THREAD ();

  answers = g_task_propagate_pointer (G_TASK (result), &error);
  self = _postage_ui_guard_dup (guard);
  _postage_ui_guard_free (guard);

  if (self == NULL)
    return;

  g_clear_object (&self->step);
  self->checking_keyring = FALSE;
  update_header (self);

  for (guint i = 0; answers != NULL && i < answers->len; i++)
    {
      KeyringCheck *answer = g_ptr_array_index (answers, i);
      GtkWidget *row = find_imported_row (self, answer->id);

      if (row != NULL)
        set_imported_status (row, answer->status, answer->message);
    }
}

/* Actions */

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);
  g_autofree char *email = NULL;

  POSTAGE_ASSERT_UI_THREAD ();

  if (on_page (self, "address"))
    {
      if (self->discovering || !check_address (self))
        return;

      email = row_dup_stripped (self->email_row);
      /* Keep what the person edited unless the address itself changed. */
      if (self->mode == MODE_EDIT || g_strcmp0 (email, self->discovered_email) == 0)
        {
          if (self->provider != NULL && self->provider->no_password_login != NULL)
            show_blocked (self, self->provider);
          else
            show_page (self, "settings");
        }
      else
        start_discovery (self);
    }
  else if (on_page (self, "settings"))
    go_to_password (self);
  else if (on_page (self, "password"))
    password_next (self);
  else if (on_page (self, "verify") && self->verify_state == VERIFY_FAILED)
    start_verify (self);
  else if (on_page (self, "imported"))
    gtk_window_close (GTK_WINDOW (self));
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);

  if (is_first_page (self) || on_page (self, "imported"))
    return;

  if (on_page (self, "verify"))
    {
      cancel_step (self);
      set_verify_state (self, VERIFY_IDLE);
      show_page (self, "password");
    }
  else if (on_page (self, "password"))
    show_page (self, "settings");
  else
    show_page (self, "address");
}

static void
manual_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);
  g_autofree char *email = NULL;
  g_autofree char *host = NULL;
  const char *domain;

  if (!check_address (self))
    return;

  cancel_step (self);
  show_discovering (self, NULL);

  email = row_dup_stripped (self->email_row);
  domain = email_domain (email);
  g_free (self->discovered_email);
  self->discovered_email = g_strdup (email);
  /* No DNS here: the list only explains the password page. */
  self->provider = lookup_provider (self);

  if (*row_text (self->host_row) == '\0')
    {
      host = g_strconcat ("smtp.", domain, NULL);
      fill_settings (self, host, 587, POSTAGE_SECURITY_STARTTLS, email);
    }
  set_source (self, "document-edit-symbolic", _("Manual Settings"),
              _("Enter the outgoing (SMTP) server your provider’s help pages give."));
  show_page (self, "settings");
}

static void
import_msmtp_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);
  g_autoptr(GPtrArray) checks = g_ptr_array_new_with_free_func (keyring_check_free);
  g_autoptr(GTask) task = NULL;
  g_autofree char *title = NULL;
  g_autofree char *intro = NULL;
  g_autofree char *display_path = NULL;
  GtkWidget *child;
  guint imported = 0;

  POSTAGE_ASSERT_UI_THREAD ();

  if (self->mode != MODE_ADD || self->msmtp_items == NULL || count_importable (self) == 0)
    return;

  cancel_step (self);
  show_discovering (self, NULL);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->imported_list))) != NULL)
    gtk_list_box_remove (self->imported_list, child);

  for (guint i = 0; i < self->msmtp_items->len; i++)
    {
      PostageMsmtpAccount *item = g_ptr_array_index (self->msmtp_items, i);
      PostageAccount *account = item->account;
      g_autoptr(GError) error = NULL;
      KeyringCheck *check;

      if (item->problem != NULL)
        {
          add_imported_row (self, item, item->problem);
          continue;
        }
      /* Never replaces: accounts Postage has were not part of the offer. */
      if (postage_account_store_lookup (self->store, postage_account_get_id (account)) != NULL)
        continue;
      if (!postage_account_store_save (self->store, account, &error))
        {
          add_imported_row (self, item, error->message);
          continue;
        }

      imported++;
      add_imported_row (self, item, NULL);
      check = g_new0 (KeyringCheck, 1);
      check->id = g_strdup (postage_account_get_id (account));
      check->host = g_strdup (postage_account_get_host (account));
      check->user = g_strdup (postage_account_get_user (account));
      check->port = postage_account_get_port (account);
      g_ptr_array_add (checks, check);
    }

  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u Account Imported",
                                        "%u Accounts Imported", imported), imported);
  display_path = dup_display_path (self->msmtp_path);
  /* Translators: %s is msmtp's configuration file, e.g. ~/.msmtprc */
  intro = g_strdup_printf (_("Their settings came from %s. Postage ran no command from that "
                             "file and copied no password written in it: passwords come from "
                             "your keyring."), display_path);
  gtk_label_set_text (self->imported_title_label, title);
  gtk_label_set_text (self->imported_intro_label, intro);
  gtk_widget_set_visible (GTK_WIDGET (self->msmtp_group), FALSE);

  self->checking_keyring = checks->len > 0;
  show_page (self, "imported");
  gtk_widget_grab_focus (GTK_WIDGET (self->next_button));
  if (checks->len == 0)
    return;

  new_step (self);
  task = g_task_new (NULL, self->step, keyring_checked_cb, step_guard_new (self));
  g_task_set_source_tag (task, import_msmtp_action);
  g_task_set_task_data (task, g_steal_pointer (&checks), (GDestroyNotify) g_ptr_array_unref);
  g_task_run_in_thread (task, keyring_check_thread);
}

static void
imported_password_saved_cb (PostageAccountWizard *self,
                            PostageAccount       *account)
{
  GtkWidget *row = find_imported_row (self, postage_account_get_id (account));

  if (row != NULL)
    set_imported_status (row, KEYRING_VERIFIED, NULL);
  /* Verified and kept, as the signal promises. */
  g_signal_emit (self, signals[ACCOUNT_SAVED], 0, account);
}

static void
enter_imported_password_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *param)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);
  PostageAccount *account;
  PostageAccountWizard *wizard;

  account = postage_account_store_lookup (self->store, g_variant_get_string (param, NULL));
  if (account == NULL)
    return;

  /* The password and verify pages, as for a password that stopped working. */
  wizard = postage_account_wizard_new_for_password (GTK_WINDOW (self), self->store,
                                                    self->passwords, account);
  g_signal_connect_object (wizard, "account-saved", G_CALLBACK (imported_password_saved_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (wizard));
}

static void
open_app_password_page_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);
  const PostageProvider *provider = current_provider (self);

  if (provider != NULL && provider->app_password_url != NULL)
    gtk_show_uri (GTK_WINDOW (self), provider->app_password_url, GDK_CURRENT_TIME);
}

static void
trust_certificate_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);

  if (self->untrusted_fingerprint == NULL || self->pending == NULL ||
      self->verify_state != VERIFY_FAILED)
    return;

  /* Exactly this certificate, for this account only; kept with its settings
   * once the verification that follows has succeeded. */
  g_free (self->fingerprint);
  self->fingerprint = g_steal_pointer (&self->untrusted_fingerprint);
  postage_account_set_fingerprint (self->pending, self->fingerprint);
  update_pinned_row (self);

  start_verify (self);
}

static void
forget_certificate_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *param)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);

  g_clear_pointer (&self->fingerprint, g_free);
  update_pinned_row (self);
}

static void
use_session_password_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);

  if (self->password == NULL || self->pending == NULL)
    return;

  /* In memory until Postage quits; never written anywhere. */
  postage_session_passwords_set (self->passwords, postage_account_get_id (self->pending),
                                 self->password);
  finish_save (self, FALSE);
}

static void
retry_keyring_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);

  if (self->password != NULL && self->pending != NULL)
    save_verified (self);
}

static void
chooser_response_cb (PostageAccountWizard *self,
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
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (widget);

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

/* Signal handlers */

static void
email_changed_cb (PostageAccountWizard *self)
{
  const char *user = row_text (self->user_row);

  show_label_error (self->address_error_label, NULL);

  /* The user name follows the address until the person types their own. */
  if (*user == '\0' || g_strcmp0 (user, self->mirrored_user) == 0)
    {
      g_free (self->mirrored_user);
      self->mirrored_user = row_dup_stripped (self->email_row);
      gtk_editable_set_text (GTK_EDITABLE (self->user_row), self->mirrored_user);
    }
}

static void
security_changed_cb (PostageAccountWizard *self)
{
  if (self->port_edited || self->setting_port)
    return;

  set_port (self, postage_security_default_port (get_security (self)));
}

static void
port_changed_cb (PostageAccountWizard *self)
{
  if (!self->setting_port)
    self->port_edited = TRUE;
}

static void
password_changed_cb (PostageAccountWizard *self)
{
  show_label_error (self->password_error_label, NULL);
  update_header (self);
}

static void
transcript_upper_cb (PostageAccountWizard *self,
                     GParamSpec           *pspec,
                     GtkAdjustment        *adjustment)
{
  gtk_adjustment_set_value (adjustment,
                            gtk_adjustment_get_upper (adjustment) -
                            gtk_adjustment_get_page_size (adjustment));
}

/* GObject */

static void
postage_account_wizard_constructed (GObject *object)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (object);
  PostageAccount *account = self->original;

  G_OBJECT_CLASS (postage_account_wizard_parent_class)->constructed (object);

  if (account == NULL)
    {
      self->mode = MODE_ADD;
      show_page (self, "address");
      start_msmtp_scan (self);
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->name_row),
                         postage_account_get_display_name (account) != NULL
                         ? postage_account_get_display_name (account) : "");
  gtk_editable_set_text (GTK_EDITABLE (self->email_row), postage_account_get_email (account));
  fill_settings (self, postage_account_get_host (account), postage_account_get_port (account),
                 postage_account_get_security (account), postage_account_get_user (account));
  gtk_editable_set_text (GTK_EDITABLE (self->ca_file_row),
                         postage_account_get_ca_file (account) != NULL
                         ? postage_account_get_ca_file (account) : "");
  self->fingerprint = g_strdup (postage_account_get_fingerprint (account));
  update_pinned_row (self);
  self->discovered_email = g_strdup (postage_account_get_email (account));
  self->provider = lookup_provider (self);
  set_source (self, "document-edit-symbolic", postage_account_get_id (account),
              _("Changing the server, port, user name or password signs in again before "
                "anything is saved."));
  gtk_widget_set_visible (GTK_WIDGET (self->manual_button), FALSE);

  if (self->mode == MODE_PASSWORD)
    {
      g_autofree char *title = NULL;

      /* Translators: %s is the account's address */
      title = g_strdup_printf (_("New Password for %s"), postage_account_get_email (account));
      gtk_window_set_title (GTK_WINDOW (self), title);
      adw_window_title_set_title (self->window_title, _("New Password"));
      self->pending = postage_account_copy (account);
      configure_password_page (self);
      show_page (self, "password");
      return;
    }

  self->mode = MODE_EDIT;
  gtk_window_set_title (GTK_WINDOW (self), _("Edit Account"));
  adw_window_title_set_title (self->window_title, _("Edit Account"));
  gtk_label_set_text (self->address_title_label, _("Edit Account"));
  gtk_label_set_text (self->address_intro_label,
                      _("Change how your name and address appear, then check the server "
                        "settings."));
  show_page (self, "address");
}

static void
postage_account_wizard_dispose (GObject *object)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (object);

  g_cancellable_cancel (self->cancellable);
  cancel_step (self);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);

  gtk_widget_dispose_template (GTK_WIDGET (self), POSTAGE_TYPE_ACCOUNT_WIZARD);

  g_clear_object (&self->pending);
  g_clear_object (&self->original);
  g_clear_object (&self->store);
  g_clear_object (&self->passwords);
  self->provider = NULL;
  g_clear_pointer (&self->providers, postage_providers_free);
  g_clear_pointer (&self->msmtp_items, g_ptr_array_unref);

  G_OBJECT_CLASS (postage_account_wizard_parent_class)->dispose (object);
}

static void
postage_account_wizard_finalize (GObject *object)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (object);

  wipe_password (self);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->discovered_email, g_free);
  g_clear_pointer (&self->mirrored_user, g_free);
  g_clear_pointer (&self->fingerprint, g_free);
  g_clear_pointer (&self->untrusted_fingerprint, g_free);
  g_clear_pointer (&self->msmtp_path, g_free);

  G_OBJECT_CLASS (postage_account_wizard_parent_class)->finalize (object);
}

static void
postage_account_wizard_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    case PROP_SESSION_PASSWORDS:
      g_value_set_object (value, self->passwords);
      break;
    case PROP_ACCOUNT:
      g_value_set_object (value, self->original);
      break;
    case PROP_PASSWORD_ONLY:
      g_value_set_boolean (value, self->mode == MODE_PASSWORD);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_account_wizard_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  PostageAccountWizard *self = POSTAGE_ACCOUNT_WIZARD (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;
    case PROP_SESSION_PASSWORDS:
      self->passwords = g_value_dup_object (value);
      if (self->passwords == NULL)
        self->passwords = postage_session_passwords_new ();
      break;
    case PROP_ACCOUNT:
      self->original = g_value_dup_object (value);
      break;
    case PROP_PASSWORD_ONLY:
      if (g_value_get_boolean (value))
        self->mode = MODE_PASSWORD;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_account_wizard_class_init (PostageAccountWizardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  _postage_ui_init ();

  object_class->constructed = postage_account_wizard_constructed;
  object_class->dispose = postage_account_wizard_dispose;
  object_class->finalize = postage_account_wizard_finalize;
  object_class->get_property = postage_account_wizard_get_property;
  object_class->set_property = postage_account_wizard_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         POSTAGE_TYPE_ACCOUNT_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SESSION_PASSWORDS] =
    g_param_spec_object ("session-passwords", NULL, NULL,
                         POSTAGE_TYPE_SESSION_PASSWORDS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL,
                         POSTAGE_TYPE_ACCOUNT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PASSWORD_ONLY] =
    g_param_spec_boolean ("password-only", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[ACCOUNT_SAVED] =
    g_signal_new ("account-saved",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, POSTAGE_TYPE_ACCOUNT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/postage/Postage/ui/postage-account-wizard.ui");
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, window_title);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, back_button);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, next_button);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, spinner);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, stack);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, address_title_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, address_intro_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, name_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, email_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, address_error_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, discovering_box);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, discovering_spinner);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, discovering_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, manual_button);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, source_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, source_icon);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, host_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, security_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, port_spin);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, user_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, ca_file_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, pinned_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, settings_error_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, blocked_page);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, app_password_group);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, app_password_intro_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, steps_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, open_page_button);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, open_page_content);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, password_group);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, password_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, password_error_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, status_icon_stack);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, verify_spinner);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, status_title_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, status_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, app_password_link);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, certificate_group);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, certificate_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, trust_button);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, keyring_group);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, keyring_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, session_button);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, transcript_expander);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, transcript_scroller);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, transcript_view);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, msmtp_group);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, msmtp_row);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, imported_title_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, imported_intro_label);
  gtk_widget_class_bind_template_child (widget_class, PostageAccountWizard, imported_list);
  /* Not kept in the struct; bound so tests can press it. */
  gtk_widget_class_bind_template_child_full (widget_class, "msmtp_button", FALSE, 0);

  gtk_widget_class_install_action (widget_class, "wizard.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "wizard.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "wizard.manual", NULL, manual_action);
  gtk_widget_class_install_action (widget_class, "wizard.open-app-password-page", NULL,
                                   open_app_password_page_action);
  gtk_widget_class_install_action (widget_class, "wizard.trust-certificate", NULL,
                                   trust_certificate_action);
  gtk_widget_class_install_action (widget_class, "wizard.forget-certificate", NULL,
                                   forget_certificate_action);
  gtk_widget_class_install_action (widget_class, "wizard.use-session-password", NULL,
                                   use_session_password_action);
  gtk_widget_class_install_action (widget_class, "wizard.retry-keyring", NULL,
                                   retry_keyring_action);
  gtk_widget_class_install_action (widget_class, "wizard.choose-ca-file", NULL,
                                   choose_ca_file_action);
  gtk_widget_class_install_action (widget_class, "wizard.import-msmtp", NULL,
                                   import_msmtp_action);
  gtk_widget_class_install_action (widget_class, "wizard.enter-imported-password", "s",
                                   enter_imported_password_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
postage_account_wizard_init (PostageAccountWizard *self)
{
  GtkTextBuffer *transcript;
  GtkTextIter end;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  transcript = gtk_text_view_get_buffer (self->transcript_view);
  gtk_text_buffer_get_end_iter (transcript, &end);
  self->transcript_end = gtk_text_buffer_create_mark (transcript, "end", &end, FALSE);

  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->next_button));

  g_signal_connect_object (self->email_row, "changed", G_CALLBACK (email_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->security_row, "notify::selected",
                           G_CALLBACK (security_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->port_spin, "value-changed", G_CALLBACK (port_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->password_row, "changed", G_CALLBACK (password_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->transcript_scroller),
                           "notify::upper", G_CALLBACK (transcript_upper_cb), self,
                           G_CONNECT_SWAPPED);
}

PostageAccountWizard *
postage_account_wizard_new (GtkWindow               *parent,
                            PostageAccountStore     *store,
                            PostageSessionPasswords *passwords)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (passwords == NULL || POSTAGE_IS_SESSION_PASSWORDS (passwords), NULL);

  return g_object_new (POSTAGE_TYPE_ACCOUNT_WIZARD,
                       "transient-for", parent,
                       "store", store,
                       "session-passwords", passwords,
                       NULL);
}

PostageAccountWizard *
postage_account_wizard_new_for_edit (GtkWindow               *parent,
                                     PostageAccountStore     *store,
                                     PostageSessionPasswords *passwords,
                                     PostageAccount          *account)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (passwords == NULL || POSTAGE_IS_SESSION_PASSWORDS (passwords), NULL);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (account), NULL);

  return g_object_new (POSTAGE_TYPE_ACCOUNT_WIZARD,
                       "transient-for", parent,
                       "store", store,
                       "session-passwords", passwords,
                       "account", account,
                       NULL);
}

PostageAccountWizard *
postage_account_wizard_new_for_password (GtkWindow               *parent,
                                         PostageAccountStore     *store,
                                         PostageSessionPasswords *passwords,
                                         PostageAccount          *account)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (passwords == NULL || POSTAGE_IS_SESSION_PASSWORDS (passwords), NULL);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (account), NULL);

  return g_object_new (POSTAGE_TYPE_ACCOUNT_WIZARD,
                       "transient-for", parent,
                       "store", store,
                       "session-passwords", passwords,
                       "account", account,
                       "password-only", TRUE,
                       NULL);
}
