/* postage-composer-window.c — write a message and watch it being sent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only. What the person writes is saved as a draft a moment
 * after they stop typing (and on close). Send hands the draft to the outbox
 * queue, which stores the message on a worker, then sends it on another;
 * the window follows that one outbox entry through the queue's signals. The
 * send does not belong to the window: closing it leaves the message going
 * out (the application says how it went). A refused or cancelled message
 * comes back into the window to be fixed; one waiting for a retry stays in
 * the outbox.
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
#include "store/postage-draft-store.h"
#include "store/postage-outbox-queue.h"

#include "postage-account-wizard.h"
#include "postage-application.h"
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
  GtkButton            *error_outbox_button;
  GtkDropDown          *from_dropdown;
  GtkEntry             *to_entry;
  GtkToggleButton      *cc_bcc_toggle;
  GtkLabel             *cc_label;
  GtkEntry             *cc_entry;
  GtkLabel             *bcc_label;
  GtkEntry             *bcc_entry;
  GtkLabel             *reply_to_label;
  GtkEntry             *reply_to_entry;
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
  GtkBox               *attachments_box;
  GtkListBox           *attachments_list;
  GtkLabel             *attachments_total_label;

  /* owned */
  PostageAccountStore  *store;
  PostageSessionPasswords *passwords;
  GSettings            *settings;    /* NULL when the schema is not installed */
  PostageOutboxQueue   *queue;
  PostageDraftStore    *drafts;
  GSignalGroup         *account_signals; /* of the selected account */
  GCancellable         *cancellable; /* non-NULL from Send until the outcome */
  GtkTextMark          *transcript_end;
  GListStore           *attachments;   /* of GFileInfo, see "Attachments" below */
  GtkFileChooserNative *file_chooser;  /* while the Attach dialog is open */

  /* state */
  char                 *host;        /* of the running job, for the progress text */
  char                 *draft_id;    /* the saved draft, NULL until there is one */
  char                 *outbox_id;   /* the entry being sent, NULL otherwise */
  char                 *in_reply_to; /* from a link; not shown, but sent */
  PostageSmtpPhase      phase;
  guint                 autosave_id;
  gboolean              dirty;       /* changed since the draft was saved */
  gboolean              loading;     /* filling the fields: not a change */
  gboolean              save_failed; /* the person was told; tell again only after a success */
  gboolean              notify_always;
  gboolean              cancel_pending; /* Cancel before the outbox had it */
  gboolean              attachments_size_confirmed;
};

/* How long after the last keystroke the draft is saved. */
#define AUTOSAVE_MSEC 1000

enum {
  PROP_0,
  PROP_STORE,
  PROP_SESSION_PASSWORDS,
  PROP_QUEUE,
  PROP_DRAFTS,
  PROP_SENDING,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (PostageComposerWindow, postage_composer_window, ADW_TYPE_APPLICATION_WINDOW)

static GParamSpec *properties[N_PROPS];

/* What a job callback needs to find its window, and to tell whether it still
 * belongs to the job the window is running. */
static PostageUiGuard *
send_guard_new (PostageComposerWindow *self)
{
  return _postage_ui_guard_new (self, G_STRUCT_OFFSET (PostageComposerWindow, cancellable));
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
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.attach-file", !sending);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.remove-attachment", !sending);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.discard-draft", !sending);
}

static void
set_form_editable (PostageComposerWindow *self,
                   gboolean               editable)
{
  gtk_editable_set_editable (GTK_EDITABLE (self->to_entry), editable);
  gtk_editable_set_editable (GTK_EDITABLE (self->cc_entry), editable);
  gtk_editable_set_editable (GTK_EDITABLE (self->bcc_entry), editable);
  gtk_editable_set_editable (GTK_EDITABLE (self->reply_to_entry), editable);
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
  gtk_widget_set_visible (GTK_WIDGET (self->reply_to_label), visible);
  gtk_widget_set_visible (GTK_WIDGET (self->reply_to_entry), visible);
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
  clear_field_error (self, self->reply_to_entry);
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

/* What became of the message, for the title over the error. */
typedef enum {
  OUTCOME_HERE,    /* it is back in the window, to be fixed */
  OUTCOME_QUEUED,  /* it waits in the outbox for another try */
  OUTCOME_UNSURE,  /* it may have gone; the outbox keeps it */
} Whereabouts;

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

static char *
error_hint (const GError *error,
            Whereabouts   where,
            gint64        next_try)
{
  /* The engine's own sentences already say what to do about the credentials. */
  if (where == OUTCOME_UNSURE)
    return g_strdup (_("It is kept in the Outbox. Check with a recipient before you send it "
                       "again from there."));
  if (where == OUTCOME_QUEUED)
    {
      g_autoptr(GDateTime) when = next_try > 0 ? g_date_time_new_from_unix_local (next_try)
                                               : NULL;
      g_autofree char *time = when != NULL ? g_date_time_format (when, "%X") : NULL;

      if (time != NULL)
        /* Translators: %s is a time of day */
        return g_strdup_printf (_("Your message is safe in the Outbox. Postage tries again at "
                                  "%s, and at once when the network comes back."), time);
      return g_strdup (_("Your message is safe in the Outbox. Postage tries again later."));
    }
  if (g_error_matches (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NO_KEYRING))
    return g_strdup (_("You can type the password for this session only: Postage keeps it "
                       "in memory until it quits and never writes it anywhere."));

  return NULL;
}

static void
show_outcome_error (PostageComposerWindow *self,
                    const GError          *error,
                    Whereabouts            where,
                    gint64                 next_try)
{
  const char *server_text = NULL;
  g_autofree char *hint = error_hint (error, where, next_try);

  if (error->domain == POSTAGE_SMTP_ERROR)
    server_text = postage_smtp_error_get_server_text (error);

  gtk_label_set_text (self->error_title_label,
                      where == OUTCOME_QUEUED ? _("Not sent yet") : error_title (error));
  gtk_widget_set_visible (GTK_WIDGET (self->error_outbox_button), where != OUTCOME_HERE);
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
  if (where != OUTCOME_HERE)
    gtk_widget_set_visible (GTK_WIDGET (self->error_action_button), FALSE);
  else if (g_error_matches (error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_AUTH_FAILED))
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
show_error (PostageComposerWindow *self,
            const GError          *error)
{
  show_outcome_error (self, error, OUTCOME_HERE, 0);
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

/* Attachments
 *
 * The list holds one GFileInfo per file (name, size, icon), with the GFile
 * itself under ATTACHMENT_FILE. The Attach button, a drop of files on the
 * window and a paste of files into the body all end in
 * postage_composer_window_attach_files(). */

#define ATTACHMENT_FILE "postage::file"
#define ATTACHMENT_QUERY G_FILE_ATTRIBUTE_STANDARD_TYPE "," \
                         G_FILE_ATTRIBUTE_STANDARD_SIZE "," \
                         G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME "," \
                         G_FILE_ATTRIBUTE_STANDARD_SYMBOLIC_ICON
/* Gmail, Outlook.com and most other providers refuse messages over 25 MB,
 * counted as sent, i.e. after base64. Once a session has reached the
 * account's server, its own SIZE (RFC 1870) is known and used instead. */
#define ATTACHMENTS_WARN_SIZE ((guint64) 25 * 1000 * 1000)

static GFile *
attachment_get_file (GFileInfo *info)
{
  return G_FILE (g_file_info_get_attribute_object (info, ATTACHMENT_FILE));
}

static guint64
attachments_total_size (PostageComposerWindow *self)
{
  GListModel *model = G_LIST_MODEL (self->attachments);
  guint64 total = 0;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GFileInfo) info = g_list_model_get_item (model, i);

      total += (guint64) g_file_info_get_size (info);
    }

  return total;
}

/* Base64 turns 3 bytes into 4 and adds CRLF every 76 characters (RFC 2045 §6.8). */
static guint64
attachments_encoded_size (guint64 size)
{
  guint64 chars = (size + 2) / 3 * 4;

  return chars + chars / 76 * 2;
}

static gboolean
find_attachment (PostageComposerWindow *self,
                 GFile                 *file,
                 guint                 *position)
{
  GListModel *model = G_LIST_MODEL (self->attachments);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GFileInfo) info = g_list_model_get_item (model, i);

      if (g_file_equal (attachment_get_file (info), file))
        {
          if (position != NULL)
            *position = i;
          return TRUE;
        }
    }

  return FALSE;
}

static gboolean
add_attachment (PostageComposerWindow  *self,
                GFile                  *file,
                GError                **error)
{
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = g_file_get_path (file);

  /* The message writer reads from a path; a URI without one cannot be sent. */
  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);

      /* Translators: %s is a URI such as sftp://host/file.pdf */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("“%s” is not a local file and cannot be attached."), uri);
      return FALSE;
    }

  if (find_attachment (self, file, NULL))
    return TRUE;

  info = g_file_query_info (file, ATTACHMENT_QUERY, G_FILE_QUERY_INFO_NONE, NULL, &local_error);
  if (info == NULL)
    {
      /* Typically a draft's file, moved or deleted since it was saved. */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_autofree char *shown = g_filename_display_basename (path);

          /* Translators: %s is a file name */
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       _("“%s” is no longer there, so it is not attached. If it should go "
                         "with this message, find it and attach it again."), shown);
        }
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      /* Translators: %s is a file name */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   _("“%s” is a folder or a special file; only files can be attached."),
                   g_file_info_get_display_name (info));
      return FALSE;
    }

  g_file_info_set_attribute_object (info, ATTACHMENT_FILE, G_OBJECT (file));
  g_list_store_append (self->attachments, info);

  return TRUE;
}

static void
clear_attachments (PostageComposerWindow *self)
{
  g_list_store_remove_all (self->attachments);
}

static void
add_draft_attachments (PostageComposerWindow *self,
                       PostageDraft          *draft)
{
  GListModel *model = G_LIST_MODEL (self->attachments);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GFileInfo) info = g_list_model_get_item (model, i);

      g_ptr_array_add (draft->attachments, g_file_get_path (attachment_get_file (info)));
    }
}

static GtkWidget *
create_attachment_row_cb (gpointer item,
                          gpointer user_data)
{
  GFileInfo *info = item;
  g_autofree char *uri = g_file_get_uri (attachment_get_file (info));
  g_autofree char *size = g_format_size ((guint64) g_file_info_get_size (info));
  g_autofree char *remove_label = NULL;
  GIcon *icon = g_file_info_get_symbolic_icon (info);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button;

  /* File names are text, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), g_file_info_get_display_name (info));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), size);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 1);

  if (icon != NULL)
    {
      GtkWidget *image = gtk_image_new_from_gicon (icon);

      gtk_accessible_update_property (GTK_ACCESSIBLE (image), GTK_ACCESSIBLE_PROPERTY_LABEL, "",
                                      -1);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), image);
    }

  button = gtk_button_new_from_icon_name ("window-close-symbolic");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_add_css_class (button, "circular");
  gtk_widget_set_tooltip_text (button, _("Remove Attachment"));
  /* Translators: accessible label of the button that removes one attachment;
   * %s is its file name */
  remove_label = g_strdup_printf (_("Remove %s"), g_file_info_get_display_name (info));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  remove_label, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.remove-attachment");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (uri));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  return row;
}

/* The limit to warn at: the server's own, when a session has learnt it. */
static guint64
size_limit (PostageComposerWindow *self,
            gboolean              *known)
{
  PostageAccount *account = get_selected_account (self);
  guint64 limit = account != NULL ? postage_account_get_size_limit (account) : 0;

  *known = limit > 0;
  return limit > 0 ? limit : ATTACHMENTS_WARN_SIZE;
}

static void
update_attachments_total (PostageComposerWindow *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->attachments));
  g_autofree char *size = g_format_size (attachments_total_size (self));
  g_autofree char *text = NULL;
  gboolean known;
  guint64 limit = size_limit (self, &known);

  /* Translators: "2 attachments, 1.4 MB in total" */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u attachment, %s in total",
                                       "%u attachments, %s in total", n),
                          n, size);
  if (known)
    {
      g_autofree char *limit_text = g_format_size (limit);
      g_autofree char *with_limit = NULL;

      /* Translators: the first %s is "2 attachments, 1.4 MB in total", the
       * second the server's limit, such as "20.0 MB" */
      with_limit = g_strdup_printf (_("%s (the server takes up to %s)"), text, limit_text);
      g_free (text);
      text = g_steal_pointer (&with_limit);
    }
  gtk_label_set_text (self->attachments_total_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->attachments_box), n > 0);
}

static void schedule_autosave (PostageComposerWindow *self);

static void
attachments_changed_cb (PostageComposerWindow *self)
{
  /* A different set of files needs its own answer to the size warning. */
  self->attachments_size_confirmed = FALSE;
  update_attachments_total (self);
  schedule_autosave (self);
}

static void
size_dialog_response_cb (PostageComposerWindow *self,
                         const char            *response)
{
  if (g_strcmp0 (response, "send") != 0)
    return;

  self->attachments_size_confirmed = TRUE;
  gtk_widget_activate_action (GTK_WIDGET (self), "win.send", NULL);
}

static gboolean
confirm_attachments_size (PostageComposerWindow *self)
{
  guint64 encoded = attachments_encoded_size (attachments_total_size (self));
  g_autofree char *size = NULL;
  g_autofree char *limit_text = NULL;
  AdwMessageDialog *dialog;
  gboolean known;
  guint64 limit = size_limit (self, &known);

  if (self->attachments_size_confirmed || encoded <= limit)
    return TRUE;

  size = g_format_size (encoded);
  limit_text = g_format_size (limit);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                       _("Send a Large Message?"), NULL));
  if (known)
    /* Translators: two sizes, such as "31.4 MB" and "20.0 MB" */
    adw_message_dialog_format_body (dialog, _("With its attachments this message is about %s, "
                                              "but the server of this account accepts at "
                                              "most %s. It will most likely be refused."),
                                    size, limit_text);
  else
    /* Translators: %s is a size such as "31.4 MB" */
    adw_message_dialog_format_body (dialog, _("With its attachments this message is about %s. "
                                              "Most providers refuse messages over 25 MB."),
                                    size);
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "send", _("Send _Anyway"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "send", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (size_dialog_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));

  return FALSE;
}

/* Empties the window for a new message; the old draft is someone else's
 * business now (sent, queued, or discarded). */
static void
clear_message (PostageComposerWindow *self)
{
  self->loading = TRUE;
  clear_attachments (self);
  gtk_editable_set_text (GTK_EDITABLE (self->to_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->cc_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->bcc_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->reply_to_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->subject_entry), "");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->body_view), "", -1);
  self->loading = FALSE;
  g_clear_pointer (&self->in_reply_to, g_free);
  g_clear_pointer (&self->draft_id, g_free);
  g_clear_handle_id (&self->autosave_id, g_source_remove);
  self->dirty = FALSE;
  self->notify_always = FALSE;
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

  if (!ok || !check_address_field (self, self->reply_to_entry, _("Reply-To"), &(guint) { 0 }))
    {
      /* A problem in a hidden field must not stay hidden. */
      if (gtk_widget_has_css_class (GTK_WIDGET (self->cc_entry), "error") ||
          gtk_widget_has_css_class (GTK_WIDGET (self->bcc_entry), "error") ||
          gtk_widget_has_css_class (GTK_WIDGET (self->reply_to_entry), "error"))
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

/* Everything in the window; @account (or NULL, for a draft not yet
 * addressed from any account) gives From. */
static PostageDraft *
build_draft (PostageComposerWindow *self,
             PostageAccount        *account)
{
  PostageDraft *draft = postage_draft_new ();
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->body_view);
  GtkTextIter start, end;
  const char *name = account != NULL ? postage_account_get_display_name (account) : NULL;

  gtk_text_buffer_get_bounds (buffer, &start, &end);

  if (account != NULL)
    {
      draft->account_id = g_strdup (postage_account_get_id (account));
      draft->from_address = g_strdup (postage_account_get_email (account));
    }
  draft->from_name = (name != NULL && *name != '\0') ? g_strdup (name) : NULL;
  draft->to = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->to_entry)));
  draft->cc = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->cc_entry)));
  draft->bcc = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->bcc_entry)));
  draft->reply_to = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->reply_to_entry)));
  draft->in_reply_to = g_strdup (self->in_reply_to);
  draft->subject = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->subject_entry)));
  draft->body = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  add_draft_attachments (self, draft);

  return draft;
}

/* Drafts */

/* Saves now. TRUE when what the window holds is safe on disk (an empty
 * window needs no draft: a saved one is then deleted). */
static gboolean
save_draft (PostageComposerWindow  *self,
            GError                **error)
{
  g_autoptr(PostageDraft) draft = build_draft (self, get_selected_account (self));

  g_clear_handle_id (&self->autosave_id, g_source_remove);
  /* While sending, the draft on disk is the one that went to the outbox. */
  if (self->cancellable != NULL)
    return TRUE;
  if (postage_draft_is_empty (draft))
    {
      if (self->draft_id != NULL && !postage_draft_store_delete (self->drafts, self->draft_id,
                                                                 error))
        return FALSE;
      g_clear_pointer (&self->draft_id, g_free);
      self->dirty = FALSE;
      return TRUE;
    }
  if (self->draft_id == NULL)
    self->draft_id = postage_draft_store_new_id (self->drafts);
  if (!postage_draft_store_save (self->drafts, self->draft_id, draft, error))
    return FALSE;
  self->dirty = FALSE;
  self->save_failed = FALSE;
  return TRUE;
}

static gboolean
autosave_cb (gpointer user_data)
{
  PostageComposerWindow *self = user_data;
  g_autoptr(GError) error = NULL;

  self->autosave_id = 0;
  if (!save_draft (self, &error) && !self->save_failed)
    {
      g_autofree char *text = NULL;

      /* Once per failure, not at every keystroke; the window keeps the text. */
      self->save_failed = TRUE;
      /* Translators: %s says why, e.g. "No space left on device" */
      text = g_strdup_printf (_("Your draft could not be saved: %s. Keep this window open."),
                              error->message);
      show_toast (self, text);
    }
  return G_SOURCE_REMOVE;
}

static void
schedule_autosave (PostageComposerWindow *self)
{
  if (self->loading || self->cancellable != NULL || self->drafts == NULL)
    return;
  self->dirty = TRUE;
  g_clear_handle_id (&self->autosave_id, g_source_remove);
  self->autosave_id = g_timeout_add_full (G_PRIORITY_DEFAULT, AUTOSAVE_MSEC, autosave_cb, self,
                                          NULL);
}

static void
content_changed_cb (PostageComposerWindow *self)
{
  schedule_autosave (self);
}

static void
queue_event_cb (PostageComposerWindow  *self,
                const char             *id,
                const PostageSmtpEvent *event,
                PostageOutboxQueue     *queue)
{
  POSTAGE_ASSERT_UI_THREAD ();

  /* The queue sends other messages too: only ours is shown here. */
  if (self->outbox_id == NULL || g_strcmp0 (id, self->outbox_id) != 0)
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
forget_draft (PostageComposerWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (self->draft_id != NULL && !postage_draft_store_delete (self->drafts, self->draft_id, &error))
    g_message ("Failed to delete draft %s: %s", self->draft_id, error->message);
  g_clear_pointer (&self->draft_id, g_free);
}

/* A refused or cancelled message comes back here to be fixed: out of the
 * outbox, and the draft no longer tied to it. */
static void
take_back (PostageComposerWindow *self,
           const char            *id)
{
  g_autoptr(GError) error = NULL;

  if (!postage_outbox_remove (postage_outbox_queue_get_outbox (self->queue), id, &error))
    g_message ("Failed to take %s back from the outbox: %s", id, error->message);
  if (self->draft_id != NULL &&
      !postage_draft_store_link (self->drafts, self->draft_id, NULL, &error))
    g_message ("Failed to unlink draft %s: %s", self->draft_id, error->message);
}

static void
queue_finished_cb (PostageComposerWindow *self,
                   const char            *id,
                   int                    outcome,
                   const char            *reply,
                   const GError          *error,
                   PostageOutboxQueue    *queue)
{
  g_autoptr(PostageOutboxEntry) entry = NULL;

  POSTAGE_ASSERT_UI_THREAD ();

  if (self->outbox_id == NULL || g_strcmp0 (id, self->outbox_id) != 0)
    return;

  g_clear_pointer (&self->outbox_id, g_free);
  set_sending (self, NULL);

  switch ((PostageOutboxOutcome) outcome)
    {
    case POSTAGE_OUTBOX_OUTCOME_SENT:
      {
        g_autofree char *toast = NULL;

        set_phase (self, POSTAGE_SMTP_PHASE_DONE);
        /* Translators: %s is the server's final reply, e.g. "250 2.0.0 Ok: queued as 343FD5003CE" */
        toast = g_strdup_printf (_("Sent — %s"), reply);
        show_toast (self, toast);
        forget_draft (self);
        clear_message (self);
      }
      break;
    case POSTAGE_OUTBOX_OUTCOME_QUEUED:
    case POSTAGE_OUTBOX_OUTCOME_UNCERTAIN:
      /* The outbox has it now, and will try again (or asks first). */
      entry = postage_outbox_get (postage_outbox_queue_get_outbox (queue), id, NULL);
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
      set_progress_text (self, outcome == POSTAGE_OUTBOX_OUTCOME_QUEUED
                               ? _("Not sent yet — kept in the Outbox")
                               : _("Kept in the Outbox"));
      show_outcome_error (self, error,
                          outcome == POSTAGE_OUTBOX_OUTCOME_QUEUED ? OUTCOME_QUEUED
                                                                   : OUTCOME_UNSURE,
                          entry != NULL ? entry->next_try : 0);
      forget_draft (self);
      clear_message (self);
      break;
    case POSTAGE_OUTBOX_OUTCOME_CANCELLED:
      take_back (self, id);
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
      set_progress_text (self, _("Sending cancelled"));
      show_toast (self, _("Sending cancelled"));
      break;
    case POSTAGE_OUTBOX_OUTCOME_FAILED:
    case POSTAGE_OUTBOX_OUTCOME_BROKEN:
    default:
      take_back (self, id);
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
      set_progress_text (self, _("Not sent"));
      show_error (self, error);
      break;
    }
}

typedef struct {
  PostageUiGuard    *guard;
  PostageDraftStore *drafts;
  char              *draft_id;
} Submit;

static void
submit_free (Submit *submit)
{
  _postage_ui_guard_free (submit->guard);
  g_object_unref (submit->drafts);
  g_free (submit->draft_id);
  g_free (submit);
}

/* The message is in the outbox now (or could not be stored at all). */
static void
submit_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Submit *submit = user_data;
  g_autoptr(PostageComposerWindow) self = NULL;
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) link_error = NULL;

  POSTAGE_ASSERT_UI_THREAD ();

  entry = postage_outbox_queue_submit_finish (POSTAGE_OUTBOX_QUEUE (source), result, &error);
  /* Not stored: the draft is the person's again, whether or not the window
   * is still there. */
  if (entry == NULL && submit->draft_id != NULL &&
      !postage_draft_store_link (submit->drafts, submit->draft_id, NULL, &link_error))
    g_message ("Failed to unlink draft %s: %s", submit->draft_id, link_error->message);
  self = _postage_ui_guard_dup (submit->guard);
  submit_free (submit);
  if (self == NULL)
    return;

  if (entry == NULL)
    {
      set_sending (self, NULL);
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
      set_progress_text (self, _("Not sent"));
      if (g_error_matches (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER) &&
          !postage_header_value_check ("Subject",
                                       gtk_editable_get_text (GTK_EDITABLE (self->subject_entry)),
                                       NULL))
        show_field_error (self, self->subject_entry, error->message);
      else
        show_error (self, error);
      return;
    }
  self->outbox_id = g_strdup (entry->id);
  if (self->cancel_pending)
    {
      /* Not started yet, so there will be no outcome: end it here. */
      self->cancel_pending = FALSE;
      postage_outbox_queue_cancel (self->queue, entry->id);
      if (postage_outbox_queue_get_current (self->queue) == NULL ||
          g_strcmp0 (postage_outbox_queue_get_current (self->queue), entry->id) != 0)
        {
          g_autoptr(GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                             _("Sending was cancelled."));

          queue_finished_cb (self, entry->id, POSTAGE_OUTBOX_OUTCOME_CANCELLED, NULL, cancelled,
                             self->queue);
        }
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
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *outbox_id = NULL;
  Submit *submit;

  POSTAGE_ASSERT_UI_THREAD ();

  if (self->cancellable != NULL)
    return;

  hide_error (self);

  if ((account = get_selected_account (self)) == NULL)
    return;

  if (!check_fields (self))
    return;

  if (!confirm_attachments_size (self))
    return;

  /* On disk before anything else: from here on the draft, and then the
   * outbox, hold the message whatever happens to this process. */
  if (!save_draft (self, &error))
    {
      show_error (self, error);
      return;
    }

  g_free (self->host);
  self->host = g_strdup (postage_account_get_host (account));

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->transcript_view), "", -1);
  gtk_revealer_set_reveal_child (self->status_revealer, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), TRUE);

  draft = build_draft (self, account);
  cancellable = g_cancellable_new ();
  set_sending (self, cancellable);
  set_progress_text (self, _("Preparing the message…"));
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);

  /* The draft learns its outbox ID before the message can be in the
   * outbox: after a crash at any point, a draft whose message made it
   * there is never offered back, and so never sent twice. */
  outbox_id = postage_outbox_new_id ();
  if (!postage_draft_store_link (self->drafts, self->draft_id, outbox_id, &error))
    {
      set_sending (self, NULL);
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
      show_error (self, error);
      return;
    }
  submit = g_new0 (Submit, 1);
  submit->guard = send_guard_new (self);
  submit->drafts = g_object_ref (self->drafts);
  submit->draft_id = g_strdup (self->draft_id);
  postage_outbox_queue_submit_async (self->queue, draft, outbox_id, NULL, submit_done_cb, submit);
}

static void
cancel_send_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (widget);
  g_autoptr(PostageOutboxEntry) entry = NULL;

  POSTAGE_ASSERT_UI_THREAD ();

  if (self->cancellable == NULL)
    return;
  if (self->outbox_id != NULL)
    entry = postage_outbox_get (postage_outbox_queue_get_outbox (self->queue), self->outbox_id,
                                NULL);
  /* After the final "." only the server can say how it ended. */
  set_progress_text (self, entry != NULL && entry->state == POSTAGE_OUTBOX_STATE_UNCERTAIN
                           ? _("The message is out; waiting for the server’s answer…")
                           : _("Cancelling…"));
  /* Still being stored: it is cancelled as soon as the outbox has it. */
  if (self->outbox_id == NULL)
    self->cancel_pending = TRUE;
  else
    postage_outbox_queue_cancel (self->queue, self->outbox_id);
}

static void
discard_undo_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (widget);
  const char *id = g_variant_get_string (param, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageDraft) draft = NULL;
  g_autoptr(PostageDraft) current = NULL;

  if (!postage_draft_store_restore (self->drafts, id, &error))
    {
      show_toast (self, error->message);
      return;
    }
  current = build_draft (self, NULL);
  /* Something new was written since: keep both, the old one for next time. */
  if (self->cancellable != NULL || !postage_draft_is_empty (current))
    {
      show_toast (self, _("The discarded draft is back among the drafts; Postage offers it the "
                          "next time it starts."));
      return;
    }
  if ((draft = postage_draft_store_load (self->drafts, id, &error)) == NULL)
    {
      show_toast (self, error->message);
      return;
    }
  postage_composer_window_load_draft (self, id, draft);
}

static void
discard_draft_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  AdwToast *toast;

  if (self->cancellable != NULL || !save_draft (self, &error))
    {
      if (error != NULL)
        show_error (self, error);
      return;
    }
  if (self->draft_id == NULL)
    return; /* nothing written: nothing to discard */
  id = g_strdup (self->draft_id);
  if (!postage_draft_store_discard (self->drafts, id, &error))
    {
      show_error (self, error);
      return;
    }
  clear_message (self);
  hide_error (self);
  toast = adw_toast_new (_("Draft discarded"));
  adw_toast_set_button_label (toast, _("_Undo"));
  adw_toast_set_action_name (toast, "win.undo-discard");
  adw_toast_set_action_target_value (toast, g_variant_new_string (id));
  adw_toast_set_timeout (toast, 10);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
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
  const char *reply_to = gtk_editable_get_text (GTK_EDITABLE (self->reply_to_entry));

  /* Never hide addresses that would still be used. */
  if (!active && (*cc != '\0' || *bcc != '\0' || *reply_to != '\0'))
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
  /* A session may learn the server's SIZE while the window is open. */
  g_signal_group_set_target (self->account_signals, get_selected_account (self));
  update_attachments_total (self);
}

static void
file_chooser_response_cb (PostageComposerWindow *self,
                          int                    response,
                          GtkNativeDialog       *native)
{
  g_autoptr(GListModel) files = NULL;
  GSList *list = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (native));
      for (guint i = g_list_model_get_n_items (files); i > 0; i--)
        list = g_slist_prepend (list, g_list_model_get_item (files, i - 1));
      postage_composer_window_attach_files (self, list);
      g_slist_free_full (list, g_object_unref);
    }

  gtk_native_dialog_destroy (native);
  g_clear_object (&self->file_chooser);
}

static void
attach_file_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (widget);

  POSTAGE_ASSERT_UI_THREAD ();

  if (self->cancellable != NULL || self->file_chooser != NULL)
    return;

  self->file_chooser = gtk_file_chooser_native_new (_("Attach Files"), GTK_WINDOW (self),
                                                    GTK_FILE_CHOOSER_ACTION_OPEN,
                                                    _("_Attach"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (self->file_chooser), TRUE);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->file_chooser), TRUE);
  g_signal_connect_object (self->file_chooser, "response", G_CALLBACK (file_chooser_response_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->file_chooser));
}

static void
remove_attachment_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (widget);
  g_autoptr(GFile) file = g_file_new_for_uri (g_variant_get_string (param, NULL));
  guint position;

  if (self->cancellable == NULL && find_attachment (self, file, &position))
    g_list_store_remove (self->attachments, position);
}

static gboolean
drop_files_cb (PostageComposerWindow *self,
               const GValue          *value,
               double                 x,
               double                 y)
{
  GSList *files;

  if (self->cancellable != NULL || !G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;

  files = gdk_file_list_get_files (g_value_get_boxed (value));
  postage_composer_window_attach_files (self, files);
  g_slist_free (files);

  return TRUE;
}

static void
paste_files_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(PostageComposerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  const GValue *value;
  GSList *files = NULL;
  gboolean any_local = FALSE;

  value = gdk_clipboard_read_value_finish (GDK_CLIPBOARD (source), result, &error);
  /* The window went away while the clipboard was read. */
  if (self->body_view == NULL)
    return;
  if (value != NULL)
    files = gdk_file_list_get_files (g_value_get_boxed (value));
  for (GSList *l = files; l != NULL && !any_local; l = l->next)
    any_local = g_file_is_native (l->data);

  /* A list of links (from a browser, say) is pasted as the text it also is. */
  if (any_local)
    postage_composer_window_attach_files (self, files);
  else
    gtk_text_buffer_paste_clipboard (gtk_text_view_get_buffer (self->body_view),
                                     GDK_CLIPBOARD (source), NULL,
                                     gtk_text_view_get_editable (self->body_view));
  g_slist_free (files);
}

/* Ctrl+V in the body: files copied in a file manager are attached rather
 * than pasted as their paths. */
static void
body_paste_clipboard_cb (PostageComposerWindow *self,
                         GtkTextView           *view)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (view));
  g_autoptr(GdkContentFormats) formats = NULL;

  if (self->cancellable != NULL)
    return;

  formats = gdk_content_formats_union_deserialize_gtypes (
              gdk_content_formats_ref (gdk_clipboard_get_formats (clipboard)));
  if (!gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    return;

  g_signal_stop_emission_by_name (view, "paste-clipboard");
  gdk_clipboard_read_value_async (clipboard, GDK_TYPE_FILE_LIST, G_PRIORITY_DEFAULT, NULL,
                                  paste_files_cb, g_object_ref (self));
}

static void
setup_attachments (PostageComposerWindow *self)
{
  GtkDropTarget *target;

  self->attachments = g_list_store_new (G_TYPE_FILE_INFO);
  gtk_list_box_bind_model (self->attachments_list, G_LIST_MODEL (self->attachments),
                           create_attachment_row_cb, NULL, NULL);
  g_signal_connect_object (self->attachments, "items-changed",
                           G_CALLBACK (attachments_changed_cb), self, G_CONNECT_SWAPPED);
  attachments_changed_cb (self);

  /* Capture phase: a file dropped on the body attaches rather than inserting its URI. */
  target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (target), GTK_PHASE_CAPTURE);
  g_signal_connect_object (target, "drop", G_CALLBACK (drop_files_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  g_signal_connect_object (self->body_view, "paste-clipboard",
                           G_CALLBACK (body_paste_clipboard_cb), self, G_CONNECT_SWAPPED);
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
  /* The application's, normally (postage_composer_window_new() passes them:
   * "application" is not a construct property, so it is still unset here);
   * without one (tests), a private outbox queue and drafts in the default
   * folders. */
  if (self->drafts == NULL)
    self->drafts = postage_draft_store_new (NULL);
  if (self->queue == NULL)
    {
      g_autoptr(PostageOutbox) outbox = postage_outbox_new (NULL);

      self->queue = postage_outbox_queue_new (outbox, self->store);
      postage_outbox_queue_set_password_func (self->queue,
                                              postage_session_passwords_dup_for_queue,
                                              g_object_ref (self->passwords), g_object_unref);
    }
  g_signal_connect_object (self->queue, "event", G_CALLBACK (queue_event_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->queue, "finished", G_CALLBACK (queue_finished_cb), self,
                           G_CONNECT_SWAPPED);

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

  /* Closing the window does not stop its send: the message is in the
   * outbox, and the queue sees it through. */
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->autosave_id, g_source_remove);
  if (self->file_chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->file_chooser));
  g_clear_object (&self->file_chooser);

  gtk_widget_dispose_template (GTK_WIDGET (self), POSTAGE_TYPE_COMPOSER_WINDOW);

  g_clear_object (&self->store);
  g_clear_object (&self->passwords);
  g_clear_object (&self->settings);
  g_clear_object (&self->queue);
  g_clear_object (&self->drafts);
  g_clear_object (&self->account_signals);

  G_OBJECT_CLASS (postage_composer_window_parent_class)->dispose (object);
}

/* Whatever was typed since the last save goes to disk before the window. */
static gboolean
postage_composer_window_close_request (GtkWindow *window)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (window);
  g_autoptr(GError) error = NULL;

  if ((self->dirty || self->autosave_id != 0) && !save_draft (self, &error))
    {
      /* Closing now would lose it: stay open and say why. */
      show_error (self, error);
      return TRUE;
    }
  return GTK_WINDOW_CLASS (postage_composer_window_parent_class)->close_request (window);
}

static void
postage_composer_window_finalize (GObject *object)
{
  PostageComposerWindow *self = POSTAGE_COMPOSER_WINDOW (object);

  g_clear_pointer (&self->host, g_free);
  g_clear_pointer (&self->draft_id, g_free);
  g_clear_pointer (&self->outbox_id, g_free);
  g_clear_pointer (&self->in_reply_to, g_free);
  g_clear_object (&self->attachments);

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
    case PROP_QUEUE:
      g_value_set_object (value, self->queue);
      break;
    case PROP_DRAFTS:
      g_value_set_object (value, self->drafts);
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
    case PROP_QUEUE:
      self->queue = g_value_dup_object (value);
      break;
    case PROP_DRAFTS:
      self->drafts = g_value_dup_object (value);
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
  GTK_WINDOW_CLASS (klass)->close_request = postage_composer_window_close_request;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         POSTAGE_TYPE_ACCOUNT_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SESSION_PASSWORDS] =
    g_param_spec_object ("session-passwords", NULL, NULL,
                         POSTAGE_TYPE_SESSION_PASSWORDS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_QUEUE] =
    g_param_spec_object ("queue", NULL, NULL,
                         POSTAGE_TYPE_OUTBOX_QUEUE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DRAFTS] =
    g_param_spec_object ("drafts", NULL, NULL,
                         POSTAGE_TYPE_DRAFT_STORE,
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
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, error_outbox_button);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, from_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, to_entry);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, cc_bcc_toggle);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, cc_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, cc_entry);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, bcc_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, bcc_entry);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, reply_to_label);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, reply_to_entry);
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
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, attachments_box);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow, attachments_list);
  gtk_widget_class_bind_template_child (widget_class, PostageComposerWindow,
                                        attachments_total_label);

  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-send", NULL, cancel_send_action);
  gtk_widget_class_install_action (widget_class, "win.attach-file", NULL, attach_file_action);
  gtk_widget_class_install_action (widget_class, "win.remove-attachment", "s",
                                   remove_attachment_action);
  gtk_widget_class_install_action (widget_class, "win.dismiss-error", NULL, dismiss_error_action);
  gtk_widget_class_install_action (widget_class, "win.enter-password", NULL,
                                   enter_password_action);
  gtk_widget_class_install_action (widget_class, "win.discard-draft", NULL, discard_draft_action);
  gtk_widget_class_install_action (widget_class, "win.undo-discard", "s", discard_undo_action);
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
  g_signal_connect_object (self->reply_to_entry, "changed", G_CALLBACK (entry_changed_cb), self,
                           G_CONNECT_SWAPPED);
  {
    GtkWidget *fields[] = { GTK_WIDGET (self->to_entry), GTK_WIDGET (self->cc_entry),
                            GTK_WIDGET (self->bcc_entry), GTK_WIDGET (self->reply_to_entry),
                            GTK_WIDGET (self->subject_entry) };

    for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
      g_signal_connect_object (fields[i], "changed", G_CALLBACK (content_changed_cb), self,
                               G_CONNECT_SWAPPED);
    g_signal_connect_object (gtk_text_view_get_buffer (self->body_view), "changed",
                             G_CALLBACK (content_changed_cb), self, G_CONNECT_SWAPPED);
  }
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

  self->account_signals = g_signal_group_new (POSTAGE_TYPE_ACCOUNT);
  g_signal_group_connect_object (self->account_signals, "notify::size-limit",
                                 G_CALLBACK (update_attachments_total), self, G_CONNECT_SWAPPED);

  setup_attachments (self);
}

PostageComposerWindow *
postage_composer_window_new (GtkApplication          *application,
                             PostageAccountStore     *store,
                             PostageSessionPasswords *passwords)
{
  g_return_val_if_fail (application == NULL || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (passwords == NULL || POSTAGE_IS_SESSION_PASSWORDS (passwords), NULL);

  /* The application's queue and drafts: its queue is the one that keeps the
   * program alive while this window's message goes out, and that tells how
   * it went when the window has no focus. */
  if (POSTAGE_IS_APPLICATION (application))
    return g_object_new (POSTAGE_TYPE_COMPOSER_WINDOW,
                         "application", application,
                         "store", store,
                         "session-passwords", passwords,
                         "queue", postage_application_get_outbox_queue (POSTAGE_APPLICATION (application)),
                         "drafts", postage_application_get_draft_store (POSTAGE_APPLICATION (application)),
                         NULL);

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

/* Adds each file that is not attached yet; a folder, a special file or one that
 * cannot be read is refused with a toast. Returns how many were added. */
guint
postage_composer_window_attach_files (PostageComposerWindow *self,
                                      GSList                *files)
{
  g_autoptr(GError) first_error = NULL;
  guint before;

  g_return_val_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self), 0);

  POSTAGE_ASSERT_UI_THREAD ();

  if (self->cancellable != NULL)
    return 0;

  before = g_list_model_get_n_items (G_LIST_MODEL (self->attachments));
  for (GSList *l = files; l != NULL; l = l->next)
    {
      g_autoptr(GError) error = NULL;

      g_return_val_if_fail (G_IS_FILE (l->data), 0);
      if (!add_attachment (self, l->data, &error) && first_error == NULL)
        first_error = g_steal_pointer (&error);
    }

  if (first_error != NULL)
    show_toast (self, first_error->message);

  return g_list_model_get_n_items (G_LIST_MODEL (self->attachments)) - before;
}

GListModel *
postage_composer_window_get_attachments (PostageComposerWindow *self)
{
  g_return_val_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self), NULL);

  return G_LIST_MODEL (self->attachments);
}

/* Pre-filled composers: `postage --compose …` and mailto: links */

static void
set_entry_text (GtkEntry   *entry,
                const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), text != NULL ? text : "");
}

/* Fills the fields and attaches the draft's files; From is left as it is. */
void
postage_composer_window_set_draft (PostageComposerWindow *self,
                                   const PostageDraft    *draft)
{
  g_autoslist(GFile) files = NULL;

  g_return_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self));
  g_return_if_fail (draft != NULL);

  POSTAGE_ASSERT_UI_THREAD ();

  if (self->cancellable != NULL)
    return;

  set_entry_text (self->to_entry, draft->to);
  set_entry_text (self->cc_entry, draft->cc);
  set_entry_text (self->bcc_entry, draft->bcc);
  set_entry_text (self->reply_to_entry, draft->reply_to);
  set_entry_text (self->subject_entry, draft->subject);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->body_view),
                            draft->body != NULL ? draft->body : "", -1);
  g_free (self->in_reply_to);
  self->in_reply_to = g_strdup (draft->in_reply_to);
  if ((draft->cc != NULL && *draft->cc != '\0') || (draft->bcc != NULL && *draft->bcc != '\0') ||
      (draft->reply_to != NULL && *draft->reply_to != '\0'))
    gtk_toggle_button_set_active (self->cc_bcc_toggle, TRUE);

  for (guint i = 0; draft->attachments != NULL && i < draft->attachments->len; i++)
    files = g_slist_prepend (files, g_file_new_for_path (g_ptr_array_index (draft->attachments,
                                                                             i)));
  files = g_slist_reverse (files);
  if (files != NULL)
    postage_composer_window_attach_files (self, files);

  /* Start where the person has something left to write. */
  if (*gtk_editable_get_text (GTK_EDITABLE (self->to_entry)) == '\0')
    gtk_widget_grab_focus (GTK_WIDGET (self->to_entry));
  else if (*gtk_editable_get_text (GTK_EDITABLE (self->subject_entry)) == '\0')
    gtk_widget_grab_focus (GTK_WIDGET (self->subject_entry));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->body_view));
}

static void
show_link_notice (PostageComposerWindow *self,
                  const PostageMailto   *mailto)
{
  g_autoptr(GString) names = g_string_new (NULL);
  g_autofree char *text = NULL;
  AdwToast *toast;

  if (mailto->ignored->len == 0)
    return;

  if (postage_mailto_asked_to_attach (mailto))
    {
      /* Until dismissed: the person should know a page tried this. */
      toast = adw_toast_new (_("This link asked to attach a file; Postage never does that for "
                               "links"));
      adw_toast_set_timeout (toast, 0);
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
      return;
    }

  for (guint i = 0; i < mailto->ignored->len; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "",
                            (const char *) g_ptr_array_index (mailto->ignored, i));
  /* Translators: %s lists header names from a mailto: link, such as "from, x-mailer" */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "The link also set %s, which was ignored.",
                                       "The link also set %s, which were ignored.",
                                       mailto->ignored->len), names->str);
  show_toast (self, text);
}

/* A link fills To, Cc, Bcc, Subject and the text, and never attaches a file. */
void
postage_composer_window_set_mailto (PostageComposerWindow *self,
                                    const PostageMailto   *mailto)
{
  g_autoptr(PostageDraft) draft = NULL;

  g_return_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self));
  g_return_if_fail (mailto != NULL);

  draft = postage_mailto_to_draft (mailto);
  g_assert (draft->attachments->len == 0);
  postage_composer_window_set_draft (self, draft);
  /* Another program opened this window; the person may not watch it. */
  self->notify_always = TRUE;
  show_link_notice (self, mailto);
}

/* A saved draft (from the draft store, under @id) back in the window, with
 * its account: what the window holds from now on is saved under @id. */
void
postage_composer_window_load_draft (PostageComposerWindow *self,
                                    const char            *id,
                                    const PostageDraft    *draft)
{
  g_return_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self));
  g_return_if_fail (id != NULL);
  g_return_if_fail (draft != NULL);

  if (self->cancellable != NULL)
    return;
  clear_message (self);
  self->loading = TRUE;
  postage_composer_window_set_draft (self, draft);
  self->loading = FALSE;
  if (draft->account_id != NULL)
    postage_composer_window_select_account (self, draft->account_id);
  self->draft_id = g_strdup (id);
  self->dirty = FALSE;
}

const char *
postage_composer_window_get_draft_id (PostageComposerWindow *self)
{
  g_return_val_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self), NULL);

  return self->draft_id;
}

const char *
postage_composer_window_get_outbox_id (PostageComposerWindow *self)
{
  g_return_val_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self), NULL);

  return self->outbox_id;
}

gboolean
postage_composer_window_get_notify_always (PostageComposerWindow *self)
{
  g_return_val_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self), FALSE);

  return self->notify_always;
}

void
postage_composer_window_set_notify_always (PostageComposerWindow *self,
                                           gboolean               notify_always)
{
  g_return_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self));

  self->notify_always = notify_always;
}

void
postage_composer_window_add_toast (PostageComposerWindow *self,
                                   AdwToast              *toast)
{
  g_return_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self));
  g_return_if_fail (ADW_IS_TOAST (toast));

  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* A short notice over the window, e.g. why a link could not be read. */
void
postage_composer_window_show_notice (PostageComposerWindow *self,
                                     const char            *text)
{
  g_return_if_fail (POSTAGE_IS_COMPOSER_WINDOW (self));
  g_return_if_fail (text != NULL);

  show_toast (self, text);
}
