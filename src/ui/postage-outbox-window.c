/* postage-outbox-window.c — what waits to be sent, and what could not be
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only. The list is read again from the outbox whenever the
 * queue says it changed; the disk is the truth, this window only shows it.
 */
#define G_LOG_DOMAIN "postage-outbox-window"

#include "config.h"

#include <glib/gi18n.h>

#include "postage-outbox-window.h"
#include "postage-ui-private.h"

struct _PostageOutboxWindow
{
  AdwWindow           parent_instance;

  /* template children */
  AdwToastOverlay    *toast_overlay;
  AdwWindowTitle     *window_title;
  GtkStack           *stack;
  GtkListBox         *list;
  GtkButton          *send_all_button;

  /* owned */
  PostageOutboxQueue *queue;
};

enum {
  PROP_0,
  PROP_QUEUE,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (PostageOutboxWindow, postage_outbox_window, ADW_TYPE_WINDOW)

static GParamSpec *properties[N_PROPS];

static PostageOutbox *
get_outbox (PostageOutboxWindow *self)
{
  return postage_outbox_queue_get_outbox (self->queue);
}

static char *
format_time (gint64 unix_time)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (unix_time);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (time == NULL)
    return g_strdup ("?");
  /* Today just the time; otherwise the day too. */
  if (g_date_time_get_day_of_year (time) == g_date_time_get_day_of_year (now) &&
      g_date_time_get_year (time) == g_date_time_get_year (now))
    return g_date_time_format (time, "%X");
  return g_date_time_format (time, "%x %X");
}

/* One line that says where the message stands. */
static char *
describe_state (const PostageOutboxEntry *entry)
{
  g_autofree char *when = NULL;

  if (entry->busy)
    return g_strdup (_("Sending now…"));
  switch (entry->state)
    {
    case POSTAGE_OUTBOX_STATE_QUEUED:
    case POSTAGE_OUTBOX_STATE_SENDING:
      if (entry->next_try <= g_get_real_time () / G_USEC_PER_SEC)
        return g_strdup (_("Waiting to be sent"));
      when = format_time (entry->next_try);
      /* Translators: %s is a time, e.g. "14:05"; the count is of tries so far */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Waiting; tried %2$u time, next try at %1$s",
                                           "Waiting; tried %2$u times, next try at %1$s",
                                           entry->attempts), when, entry->attempts);
    case POSTAGE_OUTBOX_STATE_FAILED:
      /* The reason follows on the next line, in the server's words. */
      return g_strdup (_("Not sent"));
    case POSTAGE_OUTBOX_STATE_UNCERTAIN:
      return g_strdup (_("May have been sent: check with a recipient before sending it again"));
    case POSTAGE_OUTBOX_STATE_BROKEN:
    default:
      return g_strdup (_("Damaged: it cannot be sent"));
    }
}

static char *
join_recipients (const PostageOutboxEntry *entry)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; entry->outgoing != NULL && i < entry->outgoing->recipients->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? ", " : "",
                            (const char *) g_ptr_array_index (entry->outgoing->recipients, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static GtkWidget *
make_button (const char *icon,
             const char *label,
             const char *action,
             const char *id)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (id));
  return button;
}

/* Waiting, failed and "may have been sent" look different at a glance. */
static GtkWidget *
make_state_icon (const PostageOutboxEntry *entry,
                 const char               *state)
{
  const char *icon = "document-open-recent-symbolic";
  const char *style = NULL;
  GtkWidget *image;

  if (entry->state == POSTAGE_OUTBOX_STATE_FAILED || entry->state == POSTAGE_OUTBOX_STATE_BROKEN)
    icon = "dialog-error-symbolic", style = "error";
  else if (entry->state == POSTAGE_OUTBOX_STATE_UNCERTAIN)
    icon = "dialog-warning-symbolic", style = "warning";
  image = gtk_image_new_from_icon_name (icon);
  if (style != NULL)
    gtk_widget_add_css_class (image, style);
  gtk_accessible_update_property (GTK_ACCESSIBLE (image), GTK_ACCESSIBLE_PROPERTY_LABEL, state, -1);
  return image;
}

static GtkWidget *
make_row (PostageOutboxWindow      *self,
          const PostageOutboxEntry *entry)
{
  g_autofree char *recipients = join_recipients (entry);
  g_autofree char *state = describe_state (entry);
  g_autoptr(GString) subtitle = g_string_new (NULL);
  g_autoptr(PostageDraft) draft = NULL;
  GtkWidget *row = adw_action_row_new ();
  const char *subject = entry->subject != NULL && *entry->subject != '\0'
                        ? entry->subject : _("(no subject)");

  /* Subjects, addresses and server replies are text, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), subject);
  /* Who, where it stands, and what went wrong last, a line each. */
  if (*recipients != '\0')
    /* Translators: %s lists every address it goes to, Cc and Bcc included */
    g_string_append_printf (subtitle, _("Recipients: %s"), recipients);
  g_string_append_printf (subtitle, "%s%s", subtitle->len > 0 ? "\n" : "", state);
  if (entry->last_error != NULL)
    g_string_append_printf (subtitle, "\n%s", entry->last_error);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 6);
  gtk_widget_set_name (row, entry->id);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), make_state_icon (entry, state));

  if (entry->busy)
    {
      GtkWidget *spinner = gtk_spinner_new ();

      gtk_spinner_set_spinning (GTK_SPINNER (spinner), TRUE);
      gtk_accessible_update_property (GTK_ACCESSIBLE (spinner), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Sending now"), -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), spinner);
      return row;
    }
  if (entry->state != POSTAGE_OUTBOX_STATE_BROKEN)
    adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                               make_button ("mail-send-symbolic",
                                            entry->state == POSTAGE_OUTBOX_STATE_QUEUED ||
                                            entry->state == POSTAGE_OUTBOX_STATE_SENDING
                                            ? _("Retry Now") : _("Send Again"),
                                            "outbox.retry", entry->id));
  /* Only what came from a composer can go back to one. */
  if (entry->state != POSTAGE_OUTBOX_STATE_BROKEN &&
      (draft = postage_outbox_load_draft (get_outbox (self), entry->id, NULL)) != NULL)
    adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                               make_button ("document-edit-symbolic", _("Edit"), "outbox.edit",
                                            entry->id));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             make_button ("user-trash-symbolic", _("Delete"), "outbox.delete",
                                          entry->id));
  return row;
}

static void
reload (PostageOutboxWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = postage_outbox_list (get_outbox (self), &error);
  GtkWidget *child;
  guint waiting = 0;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  if (entries == NULL)
    {
      adw_window_title_set_subtitle (self->window_title, error->message);
      entries = g_ptr_array_new ();
    }
  for (guint i = 0; i < entries->len; i++)
    {
      PostageOutboxEntry *entry = g_ptr_array_index (entries, i);

      gtk_list_box_append (self->list, make_row (self, entry));
      waiting += entry->state == POSTAGE_OUTBOX_STATE_QUEUED && !entry->busy;
      /* Seen here: no need to say it again at the next start. */
      if ((entry->state == POSTAGE_OUTBOX_STATE_BROKEN ||
           entry->state == POSTAGE_OUTBOX_STATE_UNCERTAIN) && !entry->reported && !entry->busy)
        postage_outbox_mark_reported (get_outbox (self), entry->id, NULL);
    }
  gtk_stack_set_visible_child_name (self->stack, entries->len > 0 ? "list" : "empty");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "outbox.send-all", waiting > 0);
  if (error == NULL)
    {
      g_autofree char *count = entries->len > 0
        ? g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u message", "%u messages",
                                        entries->len), entries->len)
        : NULL;

      adw_window_title_set_subtitle (self->window_title, count);
    }
}

static void
show_toast (PostageOutboxWindow *self,
            const char          *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (escaped));
}

static void
retry_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  PostageOutboxWindow *self = POSTAGE_OUTBOX_WINDOW (widget);
  const char *id = g_variant_get_string (param, NULL);
  g_autoptr(GError) error = NULL;

  if (!postage_outbox_queue_retry (self->queue, id, &error))
    {
      show_toast (self, error->message);
      return;
    }
  reload (self);
}

static void
edit_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (widget)));

  /* The application opens the composer; it owns the drafts. */
  if (app != NULL)
    g_action_group_activate_action (G_ACTION_GROUP (app), "edit-outbox", param);
  reload (POSTAGE_OUTBOX_WINDOW (widget));
}

static void
delete_response_cb (AdwMessageDialog    *dialog,
                    const char          *response,
                    PostageOutboxWindow *self)
{
  const char *id = g_object_get_data (G_OBJECT (dialog), "postage-id");
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "delete") != 0)
    return;
  if (!postage_outbox_remove (get_outbox (self), id, &error))
    show_toast (self, error->message);
  reload (self);
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  PostageOutboxWindow *self = POSTAGE_OUTBOX_WINDOW (widget);
  AdwMessageDialog *dialog;

  /* Deleting is the one thing here that loses what someone wrote: ask. */
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                       _("Delete This Message?"),
                                                       _("It will not be sent, and it cannot be "
                                                         "brought back.")));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "delete", _("_Delete"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "delete", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "postage-id",
                          g_strdup (g_variant_get_string (param, NULL)), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (delete_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
send_all_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  PostageOutboxWindow *self = POSTAGE_OUTBOX_WINDOW (widget);

  postage_outbox_queue_run_due (self->queue, TRUE);
}

static void
postage_outbox_window_constructed (GObject *object)
{
  PostageOutboxWindow *self = POSTAGE_OUTBOX_WINDOW (object);

  G_OBJECT_CLASS (postage_outbox_window_parent_class)->constructed (object);

  g_signal_connect_object (self->queue, "changed", G_CALLBACK (reload), self, G_CONNECT_SWAPPED);
  reload (self);
}

static void
postage_outbox_window_dispose (GObject *object)
{
  PostageOutboxWindow *self = POSTAGE_OUTBOX_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), POSTAGE_TYPE_OUTBOX_WINDOW);
  g_clear_object (&self->queue);

  G_OBJECT_CLASS (postage_outbox_window_parent_class)->dispose (object);
}

static void
postage_outbox_window_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  PostageOutboxWindow *self = POSTAGE_OUTBOX_WINDOW (object);

  switch (prop_id)
    {
    case PROP_QUEUE:
      g_value_set_object (value, self->queue);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_outbox_window_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  PostageOutboxWindow *self = POSTAGE_OUTBOX_WINDOW (object);

  switch (prop_id)
    {
    case PROP_QUEUE:
      self->queue = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_outbox_window_class_init (PostageOutboxWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  _postage_ui_init ();

  object_class->constructed = postage_outbox_window_constructed;
  object_class->dispose = postage_outbox_window_dispose;
  object_class->get_property = postage_outbox_window_get_property;
  object_class->set_property = postage_outbox_window_set_property;

  properties[PROP_QUEUE] =
    g_param_spec_object ("queue", NULL, NULL, POSTAGE_TYPE_OUTBOX_QUEUE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/postage/Postage/ui/postage-outbox-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PostageOutboxWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PostageOutboxWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PostageOutboxWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PostageOutboxWindow, list);
  gtk_widget_class_bind_template_child (widget_class, PostageOutboxWindow, send_all_button);

  gtk_widget_class_install_action (widget_class, "outbox.retry", "s", retry_action);
  gtk_widget_class_install_action (widget_class, "outbox.edit", "s", edit_action);
  gtk_widget_class_install_action (widget_class, "outbox.delete", "s", delete_action);
  gtk_widget_class_install_action (widget_class, "outbox.send-all", NULL, send_all_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
postage_outbox_window_init (PostageOutboxWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

PostageOutboxWindow *
postage_outbox_window_new (GtkApplication     *application,
                           PostageOutboxQueue *queue)
{
  g_return_val_if_fail (application == NULL || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (POSTAGE_IS_OUTBOX_QUEUE (queue), NULL);

  return g_object_new (POSTAGE_TYPE_OUTBOX_WINDOW,
                       "application", application,
                       "queue", queue,
                       NULL);
}

void
postage_outbox_window_reload (PostageOutboxWindow *self)
{
  g_return_if_fail (POSTAGE_IS_OUTBOX_WINDOW (self));

  reload (self);
}
