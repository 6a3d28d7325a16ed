/* postage-composer-window.c — write a message and watch it being sent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only. The SMTP job runs on a worker thread and delivers its
 * events and result on this thread's main context; each callback holds a
 * GWeakRef to the window plus the job's GCancellable, and drops anything that
 * belongs to a window that is gone or to a job that is no longer the current one.
 */
#define G_LOG_DOMAIN "postage-composer"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mail/postage-address.h"
#include "mail/postage-draft.h"
#include "mail/postage-mail-error.h"
#include "mail/postage-message-writer.h"
#include "smtp/postage-smtp-error.h"
#include "smtp/postage-smtp-job.h"

#include "postage-account-wizard.h"
#include "postage-composer-window.h"
#include "postage-ui-private.h"

struct _PostageComposerWindow
{
  AdwApplicationWindow  parent_instance;

  /* template children */
  AdwToastOverlay      *toast_overlay;
  GtkRevealer          *error_revealer;
  GtkLabel             *error_title_label;
  GtkLabel             *error_label;
  GtkLabel             *error_server_label;
  GtkLabel             *error_hint_label;
  GtkButton            *error_action_button;
  GtkDropDown          *from_dropdown;
  GtkEntry             *to_entry;
  GtkToggleButton      *cc_bcc_toggle;
  GtkLabel             *cc_label;
  GtkEntry             *cc_entry;
  GtkLabel             *bcc_label;
  GtkEntry             *bcc_entry;
  GtkEntry             *subject_entry;
  GtkLabel             *field_error_label;
  GtkTextView          *body_view;
  GtkRevealer          *status_revealer;
  GtkSpinner           *spinner;
  GtkLabel             *progress_label;
  GtkButton            *cancel_button;
  GtkProgressBar       *progress_bar;
  GtkExpander          *transcript_expander;
  GtkScrolledWindow    *transcript_scroller;
  GtkTextView          *transcript_view;

  /* owned */
  PostageAccountStore  *store;
  PostageSessionPasswords *passwords;
  GSettings            *settings;    /* NULL when the schema is not installed */
  GCancellable         *cancellable; /* non-NULL while a job runs */
  GtkTextMark          *transcript_end;

  /* state */
  char                 *host;        /* of the running job, for the progress text */
  PostageSmtpPhase      phase;
};

enum {
  PROP_0,
  PROP_STORE,
  PROP_SESSION_PASSWORDS,
  PROP_SENDING,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (PostageComposerWindow, postage_composer_window, ADW_TYPE_APPLICATION_WINDOW)

static GParamSpec *properties[N_PROPS];

/* What a job callback needs to find its window, and to tell whether it still
 * belongs to the job the window is running. */
typedef struct
{
  GWeakRef      window;
  GCancellable *cancellable;
} SendClosure;

static SendClosure *
send_closure_new (PostageComposerWindow *self)
{
  SendClosure *closure = g_new0 (SendClosure, 1);

  g_weak_ref_init (&closure->window, self);
  closure->cancellable = g_object_ref (self->cancellable);

  return closure;
}

static void
send_closure_free (gpointer data)
{
  SendClosure *closure = data;

  g_weak_ref_clear (&closure->window);
  g_clear_object (&closure->cancellable);
  g_free (closure);
}

/* A new reference to the window when it is alive and still running this job. */
static PostageComposerWindow *
send_closure_dup_window (SendClosure *closure)
{
  PostageComposerWindow *self = g_weak_ref_get (&closure->window);

  if (self != NULL && self->cancellable != closure->cancellable)
    g_clear_object (&self);

  return self;
}

static char *
account_display_cb (PostageAccount *account)
{
  if (account == NULL)
    return g_strdup ("");

  return postage_account_dup_from_display (account);
}

static PostageAccount *
get_selected_account (PostageComposerWindow *self)
{
  return gtk_drop_down_get_selected_item (self->from_dropdown);
}

static void
update_actions (PostageComposerWindow *self)
{
  gboolean sending = self->cancellable != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.send",
                                 !sending && get_selected_account (self) != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-send", sending);
}

static void
set_form_editable (PostageComposerWindow *self,
                   gboolean               editable)
{
  gtk_editable_set_editable (GTK_EDITABLE (self->to_entry), editable);
  gtk_editable_set_editable (GTK_EDITABLE (self->cc_entry), editable);
  gtk_editable_set_editable (GTK_EDITABLE (self->bcc_entry), editable);
  gtk_editable_set_editable (GTK_EDITABLE (self->subject_entry), editable);
  gtk_text_view_set_editable (self->body_view, editable);
  /* The dropdown has no read-only mode; the sending account must not change mid-send. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->from_dropdown), editable);
}

static void
set_cc_bcc_visible (PostageComposerWindow *self,
                    gboolean               visible)
{
  gtk_widget_set_visible (GTK_WIDGET (self->cc_label), visible);
  gtk_widget_set_visible (GTK_WIDGET (self->cc_entry), visible);
  gtk_widget_set_visible (GTK_WIDGET (self->bcc_label), visible);
  gtk_widget_set_visible (GTK_WIDGET (self->bcc_entry), visible);
}

static void
clear_field_error (PostageComposerWindow *self,
                   GtkEntry              *entry)
{
  gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
  gtk_accessible_reset_state (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_STATE_INVALID);
}

static void
clear_field_errors (PostageComposerWindow *self)
{
  clear_field_error (self, self->to_entry);
  clear_field_error (self, self->cc_entry);
  clear_field_error (self, self->bcc_entry);
  clear_field_error (self, self->subject_entry);
  gtk_widget_set_visible (GTK_WIDGET (self->field_error_label), FALSE);
}

static void
show_field_error (PostageComposerWindow *self,
                  GtkEntry              *entry,
                  const char            *message)
{
  gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
  gtk_accessible_update_state (GTK_ACCESSIBLE (entry),
                               GTK_ACCESSIBLE_STATE_INVALID, GTK_ACCESSIBLE_INVALID_TRUE,
                               -1);

  /* Only the first problem gets the sentence and the focus. */
  if (!gtk_widget_get_visible (GTK_WIDGET (self->field_error_label)))
    {
      gtk_label_set_text (self->field_error_label, message);
      gtk_widget_set_visible (GTK_WIDGET (self->field_error_label), TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (entry));
    }
}

static void
hide_error (PostageComposerWindow *self)
{
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
}

static const char *
error_title (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return _("The server stopped answering");

  if (error->domain == POSTAGE_ACCOUNT_ERROR)
    return _("The password could not be read from the keyring");

  if (error->domain != POSTAGE_SMTP_ERROR)
    return _("The message could not be sent");

  switch ((PostageSmtpErrorCode) error->code)
    {
    case POSTAGE_SMTP_ERROR_CONNECT:
      return _("Could not reach the mail server");
    case POSTAGE_SMTP_ERROR_TLS_HANDSHAKE:
    case POSTAGE_SMTP_ERROR_NO_STARTTLS:
    case POSTAGE_SMTP_ERROR_STARTTLS_INJECTION:
    case POSTAGE_SMTP_ERROR_INSECURE_AUTH:
      return _("A secure connection could not be made");
    case POSTAGE_SMTP_ERROR_CERTIFICATE_UNTRUSTED:
      return _("The server’s certificate could not be trusted");
    case POSTAGE_SMTP_ERROR_AUTH_UNSUPPORTED:
    case POSTAGE_SMTP_ERROR_AUTH_FAILED:
      return _("Signing in to the server failed");
    case POSTAGE_SMTP_ERROR_SENDER_REJECTED:
      return _("The server refused the sender address");
    case POSTAGE_SMTP_ERROR_RECIPIENT_REJECTED:
      return _("The server refused a recipient");
    case POSTAGE_SMTP_ERROR_MESSAGE_TOO_LARGE:
      return _("The message is too large for this server");
    case POSTAGE_SMTP_ERROR_DELIVERY_UNKNOWN:
      return _("The message may or may not have been sent");
    case POSTAGE_SMTP_ERROR_TRANSIENT:
      return _("The server cannot take the message right now");
    case POSTAGE_SMTP_ERROR_MESSAGE_REJECTED:
    case POSTAGE_SMTP_ERROR_PERMANENT:
    case POSTAGE_SMTP_ERROR_PROTOCOL:
    case POSTAGE_SMTP_ERROR_CLOSED:
    default:
      return _("The message could not be sent");
    }
}

static const char *
error_hint (const GError *error)
{
  /* The engine's own sentences already say what to do about the credentials. */
  if (g_error_matches (error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_DELIVERY_UNKNOWN))
    return _("The connection was lost after the message went out. Check with a recipient "
             "before sending it again.");
  if (error->domain == POSTAGE_SMTP_ERROR && postage_smtp_error_is_transient (error))
    return _("Your message is still here. Try sending it again later.");
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return _("Your message is still here. Try sending it again later.");
  if (g_error_matches (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_KEYRING))
    return _("You can type the password for this session only: Postage keeps it in memory "
             "until it quits and never writes it anywhere.");

  return NULL;
}

static void
show_error (PostageComposerWindow *self,
            const GError          *error)
{
  const char *server_text = NULL;
  const char *hint = error_hint (error);

  if (error->domain == POSTAGE_SMTP_ERROR)
    server_text = postage_smtp_error_get_server_text (error);

  gtk_label_set_text (self->error_title_label, error_title (error));
  gtk_label_set_text (self->error_label, error->message);

  /* The engine usually quotes the server in its sentence already. */
  if (server_text != NULL && *server_text != '\0' && strstr (error->message, server_text) == NULL)
    {
      g_autofree char *quoted = NULL;

      /* Translators: %s is the mail server's own reply, e.g. "535 5.7.8 Authentication failed" */
      quoted = g_strdup_printf (_("The server said: %s"), server_text);
      gtk_label_set_text (self->error_server_label, quoted);
      gtk_widget_set_visible (GTK_WIDGET (self->error_server_label), TRUE);
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->error_server_label), FALSE);
    }

  gtk_label_set_text (self->error_hint_label, hint != NULL ? hint : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_hint_label), hint != NULL);

  /* A password that stopped working, or none to be had: ask for one. */
  if (g_error_matches (error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_AUTH_FAILED))
    {
      gtk_button_set_label (self->error_action_button, _("Enter New _Password…"));
      gtk_widget_set_visible (GTK_WIDGET (self->error_action_button), TRUE);
    }
  else if (g_error_matches (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_KEYRING) ||
           g_error_matches (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_PASSWORD))
    {
      gtk_button_set_label (self->error_action_button, _("Enter _Password…"));
      gtk_widget_set_visible (GTK_WIDGET (self->error_action_button), TRUE);
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->error_action_button), FALSE);
    }

  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
}

static void
show_toast (PostageComposerWindow *self,
            const char            *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);
  AdwToast *toast = adw_toast_new (escaped);

  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
set_progress_text (PostageComposerWindow *self,
                   const char            *text)
{
  gtk_label_set_text (self->progress_label, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress_bar),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, text,
                                  -1);
}

static void
set_phase (PostageComposerWindow *self,
           PostageSmtpPhase       phase)
{
  g_autofree char *text = NULL;
  double fraction = 0.0;

  self->phase = phase;

  switch (phase)
    {
    case POSTAGE_SMTP_PHASE_CONNECTING:
      /* Translators: %s is the mail server's host name */
      text = g_strdup_printf (_("Connecting to %s…"), self->host != NULL ? self->host : "");
      fraction = 0.05;
      break;
    case POSTAGE_SMTP_PHASE_TLS:
      text = g_strdup (_("Securing the connection (TLS)…"));
      fraction = 0.15;
      break;
    case POSTAGE_SMTP_PHASE_AUTH:
      text = g_strdup (_("Signing in…"));
      fraction = 0.25;
      break;
    case POSTAGE_SMTP_PHASE_SENDING:
      text = g_strdup (_("Sending…"));
      fraction = 0.3;
      break;
    case POSTAGE_SMTP_PHASE_DONE:
    default:
      text = g_strdup (_("Sent"));
      fraction = 1.0;
      break;
    }

  set_progress_text (self, text);
  gtk_progress_bar_set_fraction (self->progress_bar, fraction);
}

static void
set_bytes (PostageComposerWindow *self,
           guint64                sent,
           guint64                total)
{
  g_autofree char *sent_text = g_format_size (sent);
  g_autofree char *total_text = g_format_size (total);
  g_autofree char *text = NULL;

  /* Translators: "Sending — 12.3 kB of 40.0 kB" */
  text = g_strdup_printf (_("Sending — %s of %s"), sent_text, total_text);
  set_progress_text (self, text);

  /* The data is the last 70 % of the bar; the handshakes before it the first 30 %. */
  if (total > 0)
    gtk_progress_bar_set_fraction (self->progress_bar,
                                   0.3 + 0.7 * MIN (1.0, (double) sent / (double) total));
}

static void
scroll_transcript_to_end (PostageComposerWindow *self)
{
  /* scroll_to_mark, unlike scroll_mark_onscreen, waits for a valid layout, so
   * this also works while the expander is collapsed or not yet allocated. */
  gtk_text_view_scroll_to_mark (self->transcript_view, self->transcript_end, 0.0, TRUE, 0.0, 1.0);
}

static void
append_transcript_line (PostageComposerWindow *self,
                        char                   direction,
                        const char            *line)
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
clear_message (PostageComposerWindow *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->to_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->cc_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->bcc_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->subject_entry), "");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->body_view), "", -1);
  clear_field_errors (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->to_entry));
}

static void
set_sending (PostageComposerWindow *self,
             GCancellable          *cancellable)
{
  g_set_object (&self->cancellable, cancellable);

  set_form_editable (self, cancellable == NULL);
  gtk_spinner_set_spinning (self->spinner, cancellable != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), cancellable != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), cancellable != NULL);
  update_actions (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SENDING]);
}

/* Checks one address field; FALSE (and the field marked) when it is malformed. */
static gboolean
check_address_field (PostageComposerWindow *self,
                     GtkEntry              *entry,
                     const char            *field_name,
                     guint                 *n_addresses)
{
  g_autoptr(GPtrArray) addresses = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  addresses = postage_address_list_parse (gtk_editable_get_text (GTK_EDITABLE (entry)), &error);
  if (addresses != NULL)
    {
      *n_addresses += addresses->len;
      return TRUE;
    }

  /* Translators: the first %s is a field name (To, Cc, Bcc), the second says what is wrong */
  message = g_strdup_printf (_("Check the %s field: %s"), field_name, error->message);
  show_field_error (self, entry, message);

  return FALSE;
}

static gboolean
check_fields (PostageComposerWindow *self)
{
  guint n_addresses = 0;
  gboolean ok = TRUE;

  clear_field_errors (self);

  ok &= check_address_field (self, self->to_entry, _("To"), &n_addresses);
  ok &= check_address_field (self, self->cc_entry, _("Cc"), &n_addresses);
  ok &= check_address_field (self, self->bcc_entry, _("Bcc"), &n_addresses);

  if (!ok)
    {
      /* A problem in a hidden field must not stay hidden. */
      if (gtk_widget_has_css_class (GTK_WIDGET (self->cc_entry), "error") ||
          gtk_widget_has_css_class (GTK_WIDGET (self->bcc_entry), "error"))
        gtk_toggle_button_set_active (self->cc_bcc_toggle, TRUE);
      return FALSE;
    }

  if (n_addresses == 0)
    {
      show_field_error (self, self->to_entry, _("Add at least one recipient."));
      return FALSE;
    }

  return TRUE;
}

static PostageDraft *
build_draft (PostageComposerWindow *self,
             PostageAccount        *account)
{
  PostageDraft *draft = postage_draft_new ();
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->body_view);
  GtkTextIter start, end;
  const char *name = postage_account_get_display_name (account);

  gtk_text_buffer_get_bounds (buffer, &start, &end);

  draft->from_name = (name != NULL && *name != '\0') ? g_strdup (name) : NULL;
  draft->from_address = g_strdup (postage_account_get_email (account));
  draft->to = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->to_entry)));
  draft->cc = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->cc_entry)));
  draft->bcc = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->bcc_entry)));
  draft->subject = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->subject_entry)));
  draft->body = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);

  return draft;
}

static void
job_event_cb (const PostageSmtpEvent *event,
              gpointer                user_data)
{
  g_autoptr(PostageComposerWindow) self = send_closure_dup_window (user_data);

  POSTAGE_ASSERT_UI_THREAD ();

  if (self == NULL)
    return;

  switch (event->kind)
    {
    case POSTAGE_SMTP_EVENT_PHASE:
      set_phase (self, event->phase);
      break;
    case POSTAGE_SMTP_EVENT_PROGRESS:
      set_bytes (self, event->bytes_sent, event->bytes_total);
      break;
    case POSTAGE_SMTP_EVENT_TRANSCRIPT:
      append_transcript_line (self, event->direction, event->line);
      break;
    default:
      break;
    }
}

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  SendClosure *closure = user_data;
  g_autoptr(PostageComposerWindow) self = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  POSTAGE_ASSERT_UI_THREAD ();

  reply = postage_smtp_job_run_finish (result, &error);
  self = send_closure_dup_window (closure);
  send_closure_free (closure);

  /* The window was closed (its dispose cancelled the job) or the job replaced. */
  if (self == NULL)
    return;

  set_sending (self, NULL);

  if (reply != NULL)
    {
      g_autofree char *toast = NULL;

      set_phase (self, POSTAGE_SMTP_PHASE_DONE);
      /* Translators: %s is the server's final reply, e.g. "250 2.0.0 Ok: queued as 343FD5003CE" */
      toast = g_strdup_printf (_("Sent — %s"), reply);
      show_toast (self, toast);
      clear_message (self);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
      set_progress_text (self, _("Sending cancelled"));
      show_toast (self, _("Sending cancelled"));
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
      set_progress_text (self, _("Not sent"));
      show_error (self, error);
    }
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (widget);
  PostageAccount *account;
  g_autoptr(PostageDraft) draft = NULL;
  g_autoptr(PostageOutgoing) outgoing = NULL;
  g_autoptr(PostageSmtpJob) job = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GError) error = NULL;
  const char *session_password;

  POSTAGE_ASSERT_UI_THREAD ();

  if (self->cancellable != NULL)
    return;

  hide_error (self);

  if ((account = get_selected_account (self)) == NULL)
    return;

  if (!check_fields (self))
    return;

  draft = build_draft (self, account);
  if ((outgoing = postage_message_build (draft, &error)) == NULL)
    {
      if (g_error_matches (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER) &&
          postage_header_value_check ("Subject",
                                      gtk_editable_get_text (GTK_EDITABLE (self->subject_entry)),
                                      NULL) == FALSE)
        show_field_error (self, self->subject_entry, error->message);
      else
        show_error (self, error);
      return;
    }

  g_free (self->host);
  self->host = g_strdup (postage_account_get_host (account));

  job = postage_smtp_job_new (account);
  postage_smtp_job_set_message (job, outgoing);
  /* Typed for this session because the keyring could not keep it. */
  if ((session_password = postage_session_passwords_lookup (self->passwords,
                                                            postage_account_get_id (account))) != NULL)
    postage_smtp_job_set_password (job, session_password);

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->transcript_view), "", -1);
  gtk_revealer_set_reveal_child (self->status_revealer, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), TRUE);

  cancellable = g_cancellable_new ();
  set_sending (self, cancellable);
  set_phase (self, POSTAGE_SMTP_PHASE_CONNECTING);

  /* Otherwise no password: the worker reads it from the keyring just before AUTH. */
  postage_smtp_job_run_async (job, cancellable,
                              job_event_cb, send_closure_new (self), send_closure_free,
                              job_done_cb, send_closure_new (self));
}

static void
cancel_send_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (widget);

  POSTAGE_ASSERT_UI_THREAD ();

  if (self->cancellable != NULL)
    {
      set_progress_text (self, _("Cancelling…"));
      g_cancellable_cancel (self->cancellable);
    }
}

static void
password_saved_cb (PostageComposerWindow *self,
                   PostageAccount        *account)
{
  POSTAGE_ASSERT_UI_THREAD ();

  hide_error (self);
  postage_composer_window_select_account (self, postage_account_get_id (account));
  show_toast (self, _("The server accepted the password. Send the message again."));
}

static void
enter_password_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (widget);
  PostageAccount *account = get_selected_account (self);
  PostageAccountWizard *wizard;

  POSTAGE_ASSERT_UI_THREAD ();

  if (account == NULL || self->cancellable != NULL)
    return;

  wizard = postage_account_wizard_new_for_password (GTK_WINDOW (self), self->store,
                                                    self->passwords, account);
  g_signal_connect_object (wizard, "account-saved", G_CALLBACK (password_saved_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (wizard));
}

static void
dismiss_error_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  hide_error (POSTAGE_COMPOSER_WINDOW (widget));
}

static void
entry_changed_cb (PostageComposerWindow *self,
                  GtkEditable           *entry)
{
  if (gtk_widget_has_css_class (GTK_WIDGET (entry), "error"))
    {
      clear_field_error (self, GTK_ENTRY (entry));
      gtk_widget_set_visible (GTK_WIDGET (self->field_error_label), FALSE);
    }
}

static void
transcript_expanded_cb (PostageComposerWindow *self)
{
  if (gtk_expander_get_expanded (self->transcript_expander))
    scroll_transcript_to_end (self);
}

/* Like a terminal: once the text view knows how tall the transcript is, show its end. */
static void
transcript_upper_cb (PostageComposerWindow *self,
                     GParamSpec            *pspec,
                     GtkAdjustment         *adjustment)
{
  gtk_adjustment_set_value (adjustment,
                            gtk_adjustment_get_upper (adjustment) -
                            gtk_adjustment_get_page_size (adjustment));
}

static void
cc_bcc_toggled_cb (PostageComposerWindow *self,
                   GtkToggleButton       *toggle)
{
  gboolean active = gtk_toggle_button_get_active (toggle);
  const char *cc = gtk_editable_get_text (GTK_EDITABLE (self->cc_entry));
  const char *bcc = gtk_editable_get_text (GTK_EDITABLE (self->bcc_entry));

  /* Never hide addresses that would still be sent to. */
  if (!active && (*cc != '\0' || *bcc != '\0'))
    {
      gtk_toggle_button_set_active (toggle, TRUE);
      return;
    }

  set_cc_bcc_visible (self, active);
  if (active)
    gtk_widget_grab_focus (GTK_WIDGET (self->cc_entry));
}

static void
accounts_changed_cb (PostageComposerWindow *self)
{
  update_actions (self);
}

static void
postage_composer_window_constructed (GObject *object)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (object);
  g_autoptr(GtkExpression) expression = NULL;

  G_OBJECT_CLASS (postage_composer_window_parent_class)->constructed (object);

  expression = gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL,
                                            G_CALLBACK (account_display_cb), NULL, NULL);
  gtk_drop_down_set_expression (self->from_dropdown, expression);
  if (self->store != NULL)
    {
      GListModel *model = postage_account_store_get_model (self->store);

      gtk_drop_down_set_model (self->from_dropdown, model);
      g_signal_connect_object (model, "items-changed", G_CALLBACK (accounts_changed_cb), self,
                               G_CONNECT_SWAPPED);
    }

  if (self->passwords == NULL)
    self->passwords = postage_session_passwords_new ();

  /* From starts on the chosen default account. */
  self->settings = _postage_settings_new ();
  if (self->settings != NULL)
    {
      g_autofree char *id = g_settings_get_string (self->settings, "default-account");

      if (*id != '\0')
        postage_composer_window_select_account (self, id);
    }

  update_actions (self);
}

static void
postage_composer_window_dispose (GObject *object)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (object);

  /* Closing the window stops its send; the callbacks then find no window. */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), POSTAGE_TYPE_COMPOSER_WINDOW);

  g_clear_object (&self->store);
  g_clear_object (&self->passwords);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (postage_composer_window_parent_class)->dispose (object);
}

static void
postage_composer_window_finalize (GObject *object)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (object);

  g_clear_pointer (&self->host, g_free);

  G_OBJECT_CLASS (postage_composer_window_parent_class)->finalize (object);
}

static void
postage_composer_window_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    case PROP_SESSION_PASSWORDS:
      g_value_set_object (value, self->passwords);
      break;
    case PROP_SENDING:
      g_value_set_boolean (value, self->cancellable != NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_composer_window_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (object);

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
postage_composer_window_class_init (PostageComposerWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  _postage_ui_init ();

  object_class->constructed = postage_composer_window_constructed;
  object_class->dispose = postage_composer_window_dispose;
  object_class->finalize = postage_composer_window_finalize;
  object_class->get_property = postage_composer_window_get_property;
  object_class->set_property = postage_composer_window_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         POSTAGE_TYPE_ACCOUNT_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SESSION_PASSWORDS] =
    g_param_spec_object ("session-passwords", NULL, NULL,
                         POSTAGE_TYPE_SESSION_PASSWORDS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SENDING] =
    g_param_spec_boolean ("sending", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/postage/Postage/ui/postage-composer-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, error_title_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, error_server_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, error_hint_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, error_action_button);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, from_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, to_entry);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, cc_bcc_toggle);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, cc_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, cc_entry);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, bcc_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, bcc_entry);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, subject_entry);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, field_error_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, body_view);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, status_revealer);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, progress_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, transcript_expander);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, transcript_scroller);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, transcript_view);

  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-send", NULL, cancel_send_action);
  gtk_widget_class_install_action (widget_class, "win.dismiss-error", NULL, dismiss_error_action);
  gtk_widget_class_install_action (widget_class, "win.enter-password", NULL,
                                   enter_password_action);
}

static void
postage_composer_window_init (PostageComposerWindow *self)
{
  GtkTextBuffer *transcript = NULL;
  GtkTextIter end;

  gtk_widget_init_template (GTK_WIDGET (self));

  transcript = gtk_text_view_get_buffer (self->transcript_view);
  gtk_text_buffer_get_end_iter (transcript, &end);
  /* Right gravity: the mark stays at the end as lines are appended. */
  self->transcript_end = gtk_text_buffer_create_mark (transcript, "end", &end, FALSE);

  g_signal_connect_object (self->to_entry, "changed", G_CALLBACK (entry_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->cc_entry, "changed", G_CALLBACK (entry_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->bcc_entry, "changed", G_CALLBACK (entry_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->subject_entry, "changed", G_CALLBACK (entry_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->transcript_scroller),
                           "notify::upper", G_CALLBACK (transcript_upper_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->transcript_expander, "notify::expanded",
                           G_CALLBACK (transcript_expanded_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->cc_bcc_toggle, "toggled", G_CALLBACK (cc_bcc_toggled_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->from_dropdown, "notify::selected-item",
                           G_CALLBACK (accounts_changed_cb), self, G_CONNECT_SWAPPED);

  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
}

PostageComposerWindow *
postage_composer_window_new (GtkApplication          *application,
                             PostageAccountStore     *store,
                             PostageSessionPasswords *passwords)
{
  g_return_val_if_fail (application == NULL || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (passwords == NULL || POSTAGE_IS_SESSION_PASSWORDS (passwords), NULL);

  return g_object_new (POSTAGE_TYPE_COMPOSER_WINDOW,
                       "application", application,
                       "store", store,
                       "session-passwords", passwords,
                       NULL);
}

PostageAccountStore *
postage_composer_window_get_store (PostageComposerWindow *self)
{
  g_return_val_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self), NULL);

  return self->store;
}

gboolean
postage_composer_window_get_sending (PostageComposerWindow *self)
{
  g_return_val_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self), FALSE);

  return self->cancellable != NULL;
}

gboolean
postage_composer_window_select_account (PostageComposerWindow *self,
                                        const char            *account_id)
{
  GListModel *model;
  guint n;

  g_return_val_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self), FALSE);
  g_return_val_if_fail (account_id != NULL, FALSE);

  model = gtk_drop_down_get_model (self->from_dropdown);
  n = model != NULL ? g_list_model_get_n_items (model) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PostageAccount) account = g_list_model_get_item (model, i);

      if (g_strcmp0 (postage_account_get_id (account), account_id) == 0)
        {
          gtk_drop_down_set_selected (self->from_dropdown, i);
          return TRUE;
        }
    }

  return FALSE;
}
