/* test-composer.c — the composer window, driven in-process against a real server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs inside tests/lib/with-session.sh --x11: an Xvfb display, a throw-away
 * profile and an unlocked gnome-keyring. The server is Debian's aiosmtpd
 * (tests/lib/aiosmtpd-server.py) with STARTTLS and AUTH required, using a CA
 * made at test time. Screenshots land in the build folder as test artefacts.
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <string.h>

#include "accounts/postage-account-store.h"
#include "accounts/postage-secret-store.h"
#include "mail/postage-message-writer.h"
#include "ui/postage-composer-window.h"

#include "ui-test-common.h"

#define TEST_USER     "ui-tester"
#define TEST_PASSWORD "correct-horse-ui-7731"
#define TEST_FROM     "sender@example.test"
/* A second account whose keyring password the server refuses. */
#define WRONG_FROM    "wrong@example.test"
#define WRONG_USER    "ui-wrong"
/* Each wait is bounded; the engine's own timeouts are shorter than this. */
#define WAIT_SECONDS  60

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)

static struct {
  char                *top;
  char                *cert_dir;
  char                *spool;
  UiTestServer         server;
  PostageAccountStore *store;
  char                *skip_reason;
} env;

/* Helpers */

static gboolean
is_not_sending (gpointer data)
{
  return !postage_composer_window_get_sending (data);
}

static PostageComposerWindow *
new_composer_for (const char *account_id)
{
  PostageComposerWindow *window = postage_composer_window_new (NULL, env.store, NULL);

  g_assert_true (postage_composer_window_select_account (window, account_id));
  gtk_window_present (GTK_WINDOW (window));

  return window;
}

static PostageComposerWindow *
new_composer (void)
{
  return new_composer_for (TEST_FROM);
}

static char *
write_test_file (const char *name,
                 const char *contents,
                 gsize       length)
{
  char *path = g_build_filename (env.top, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, (gssize) length, NULL));
  return path;
}

static guint
n_attachments (PostageComposerWindow *window)
{
  return g_list_model_get_n_items (postage_composer_window_get_attachments (window));
}

static gboolean
has_one_attachment (gpointer data)
{
  return n_attachments (data) == 1;
}

/* Attaches through the same entry point as the drop handler and the file chooser. */
static guint
attach_paths (PostageComposerWindow *window,
              const char            *first_path,
              ...)
{
  g_autoptr(GSList) files = NULL;
  const char *path;
  va_list args;
  guint added;

  va_start (args, first_path);
  for (path = first_path; path != NULL; path = va_arg (args, const char *))
    files = g_slist_append (files, g_file_new_for_path (path));
  va_end (args);

  added = postage_composer_window_attach_files (window, files);
  g_slist_free_full (g_steal_pointer (&files), g_object_unref);
  return added;
}

static AdwMessageDialog *
find_message_dialog (GtkWindow *parent)
{
  g_autoptr(GListModel) toplevels = g_object_ref (gtk_window_get_toplevels ());

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) &&
          gtk_window_get_transient_for (GTK_WINDOW (window)) == parent)
        return ADW_MESSAGE_DIALOG (window);
    }
  return NULL;
}

/* Cases */

static void
test_send (void)
{
  PostageComposerWindow *window;
  g_autofree char *eml_path = NULL;
  g_autofree char *json_path = NULL;
  g_autofree char *eml = NULL;
  g_autofree char *json = NULL;
  g_autofree char *headers = NULL;
  g_autofree char *transcript = NULL;
  g_autofree char *body = NULL;
  const char *end_of_headers;
  guint before;

  if (!ui_test_require (env.skip_reason))
    return;

  before = ui_test_count_spooled (env.spool);
  window = new_composer ();

  gtk_editable_set_text (ui_test_child (window, "to_entry"),
                         "Ann Example <ann@example.test>, bob@example.test");
  gtk_toggle_button_set_active (ui_test_child (window, "cc_bcc_toggle"), TRUE);
  gtk_editable_set_text (ui_test_child (window, "cc_entry"), "carol@example.test");
  gtk_editable_set_text (ui_test_child (window, "bcc_entry"), "hidden-dave@example.test");
  gtk_editable_set_text (ui_test_child (window, "subject_entry"), "Lunch on Thursday?");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (ui_test_child (window, "body_view")),
                            "Hi all,\n\nShall we meet at noon by the fountain?\n\n— Sam\n", -1);

  ui_test_save_screenshot (GTK_WINDOW (window), "composer.png");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  g_assert_true (postage_composer_window_get_sending (window));
  ui_test_spin_until (is_not_sending, window);

  /* What the person sees. */
  transcript = ui_test_text_view_dup_text (ui_test_child (window, "transcript_view"));
  g_test_message ("transcript:\n%s", transcript);
  g_assert_false (gtk_revealer_get_reveal_child (ui_test_child (window, "error_revealer")));
  g_assert_cmpstr (gtk_label_get_text (ui_test_child (window, "progress_label")), ==, "Sent");
  g_assert_nonnull (strstr (transcript, "S: 250"));
  g_assert_nonnull (strstr (transcript, "C: AUTH PLAIN ****"));
  g_assert_null (strstr (transcript, TEST_PASSWORD));
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (window, "to_entry")), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (window, "cc_entry")), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (window, "bcc_entry")), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (window, "subject_entry")), ==, "");
  body = ui_test_text_view_dup_text (ui_test_child (window, "body_view"));
  g_assert_cmpstr (body, ==, "");
  g_assert_true (postage_composer_window_select_account (window, TEST_FROM));

  gtk_expander_set_expanded (ui_test_child (window, "transcript_expander"), TRUE);
  ui_test_save_screenshot (GTK_WINDOW (window), "composer-sent.png");

  /* What the server got. */
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before + 1);
  eml_path = g_strdup_printf ("%s/%04u.eml", env.spool, before + 1);
  json_path = g_strdup_printf ("%s/%04u.json", env.spool, before + 1);
  g_assert_true (g_file_get_contents (eml_path, &eml, NULL, NULL));
  g_assert_true (g_file_get_contents (json_path, &json, NULL, NULL));

  g_assert_nonnull (strstr (json, "\"mail_from\": \"" TEST_FROM "\""));
  g_assert_nonnull (strstr (json, "\"ann@example.test\""));
  g_assert_nonnull (strstr (json, "\"bob@example.test\""));
  g_assert_nonnull (strstr (json, "\"carol@example.test\""));
  g_assert_nonnull (strstr (json, "\"hidden-dave@example.test\""));

  end_of_headers = strstr (eml, "\r\n\r\n");
  g_assert_nonnull (end_of_headers);
  headers = g_strndup (eml, end_of_headers - eml + 2);
  g_assert_nonnull (strstr (headers, "From: "));
  g_assert_nonnull (strstr (headers, TEST_FROM));
  g_assert_nonnull (strstr (headers, "ann@example.test"));
  g_assert_nonnull (strstr (headers, "bob@example.test"));
  g_assert_nonnull (strstr (headers, "\r\nCc: "));
  g_assert_nonnull (strstr (headers, "carol@example.test"));
  g_assert_nonnull (strstr (headers, "\r\nSubject: Lunch on Thursday?\r\n"));
  g_assert_null (strstr (headers, "\r\nBcc:"));
  g_assert_null (strstr (eml, "hidden-dave"));
  g_assert_nonnull (strstr (end_of_headers, "fountain"));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_attachments (void)
{
  static const char report[] = "Grüße aus München.\r\n.\r\nZeile ohne Ende";
  g_autofree char *report_path = write_test_file ("Reisebericht März.txt", report,
                                                  sizeof report - 1);
  g_autofree char *photo = g_strnfill (5000, '\xff');
  g_autofree char *photo_path = write_test_file ("photo.bin", photo, 5000);
  g_autofree char *photo_uri = NULL;
  g_autofree char *eml_path = NULL;
  g_autofree char *eml = NULL;
  g_autofree char *report_size = g_format_size (sizeof report - 1);
  g_autofree char *photo_size = g_format_size (5000);
  g_autoptr(GFile) photo_file = g_file_new_for_path (photo_path);
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeStream) decoded = NULL;
  PostageComposerWindow *window;
  GMimeMultipart *mixed;
  GMimeObject *part;
  GtkWidget *row;
  GByteArray *bytes;
  gsize length;
  guint before;

  if (!ui_test_require (env.skip_reason))
    return;

  before = ui_test_count_spooled (env.spool);
  window = new_composer ();
  gtk_editable_set_text (ui_test_child (window, "to_entry"), "Ann Example <ann@example.test>");
  gtk_editable_set_text (ui_test_child (window, "subject_entry"), "Der Bericht");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (ui_test_child (window, "body_view")),
                            "Hi Ann,\n\nthe report is attached.\n", -1);
  g_assert_false (gtk_widget_get_visible (ui_test_child (window, "attachments_box")));

  /* Two files; the same file again and a folder are not added. */
  g_assert_cmpuint (attach_paths (window, report_path, photo_path, NULL), ==, 2);
  g_assert_cmpuint (attach_paths (window, photo_path, env.top, NULL), ==, 0);
  g_assert_cmpuint (n_attachments (window), ==, 2);
  g_assert_true (gtk_widget_get_visible (ui_test_child (window, "attachments_box")));

  row = gtk_widget_get_first_child (ui_test_child (window, "attachments_list"));
  g_assert_true (ADW_IS_ACTION_ROW (row));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==,
                   "Reisebericht März.txt");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, report_size);
  row = gtk_widget_get_next_sibling (row);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "photo.bin");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, photo_size);
  g_test_message ("total: %s", gtk_label_get_text (ui_test_child (window, "attachments_total_label")));
  g_assert_true (g_str_has_prefix (gtk_label_get_text (ui_test_child (window, "attachments_total_label")),
                                   "2 attachments, "));

  ui_test_save_screenshot (GTK_WINDOW (window), "composer-attachments.png");

  /* The row's remove button, by its action. */
  photo_uri = g_file_get_uri (photo_file);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.remove-attachment", "s",
                                             photo_uri));
  g_assert_cmpuint (n_attachments (window), ==, 1);
  g_assert_true (g_str_has_prefix (gtk_label_get_text (ui_test_child (window, "attachments_total_label")),
                                   "1 attachment, "));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  g_assert_true (postage_composer_window_get_sending (window));
  /* Nothing can be added or removed mid-send. */
  g_assert_cmpuint (attach_paths (window, photo_path, NULL), ==, 0);
  ui_test_spin_until (is_not_sending, window);

  g_assert_false (gtk_revealer_get_reveal_child (ui_test_child (window, "error_revealer")));
  g_assert_cmpuint (n_attachments (window), ==, 0);
  g_assert_false (gtk_widget_get_visible (ui_test_child (window, "attachments_box")));

  /* What arrived: the text part and exactly the one remaining file, intact. */
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before + 1);
  eml_path = g_strdup_printf ("%s/%04u.eml", env.spool, before + 1);
  g_assert_true (g_file_get_contents (eml_path, &eml, &length, NULL));
  stream = g_mime_stream_mem_new_with_buffer (eml, length);
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  g_assert_nonnull (message);
  g_assert_true (GMIME_IS_MULTIPART (g_mime_message_get_mime_part (message)));
  mixed = GMIME_MULTIPART (g_mime_message_get_mime_part (message));
  g_assert_cmpint (g_mime_multipart_get_count (mixed), ==, 2);
  part = g_mime_multipart_get_part (mixed, 1);
  g_assert_cmpstr (g_mime_part_get_filename (GMIME_PART (part)), ==, "Reisebericht März.txt");
  decoded = g_mime_stream_mem_new ();
  g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (GMIME_PART (part)), decoded);
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (decoded));
  g_assert_cmpmem (bytes->data, bytes->len, report, sizeof report - 1);
  g_assert_null (strstr (eml, "photo.bin"));

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (report_path);
  g_unlink (photo_path);
}

/* Ctrl+V of files copied in a file manager attaches them; text still pastes as text. */
static void
test_paste_files (void)
{
  g_autofree char *path = write_test_file ("pasted.txt", "pasted", 6);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GSList) files = g_slist_append (NULL, file);
  GdkFileList *list = gdk_file_list_new_from_list (files);
  g_autofree char *body = NULL;
  PostageComposerWindow *window = new_composer ();
  GtkWidget *body_view = ui_test_child (window, "body_view");
  GdkClipboard *clipboard = gtk_widget_get_clipboard (body_view);

  gdk_clipboard_set (clipboard, GDK_TYPE_FILE_LIST, list);
  g_boxed_free (GDK_TYPE_FILE_LIST, list);
  gtk_widget_grab_focus (body_view);
  g_signal_emit_by_name (body_view, "paste-clipboard");
  ui_test_spin_until (has_one_attachment, window);
  body = ui_test_text_view_dup_text (GTK_TEXT_VIEW (body_view));
  g_assert_cmpstr (body, ==, "");

  gdk_clipboard_set_text (clipboard, "just text");
  g_signal_emit_by_name (body_view, "paste-clipboard");
  g_assert_cmpuint (n_attachments (window), ==, 1);

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (path);
}

/* Over the limit once encoded: asked first; Cancel sends nothing and keeps
 * everything. The limit is the server's own SIZE once a session has learnt
 * it, and the common 25 MB before. */
static void
assert_size_warning (PostageComposerWindow *window,
                     const char            *says)
{
  AdwMessageDialog *dialog;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  g_assert_false (postage_composer_window_get_sending (window));

  dialog = find_message_dialog (GTK_WINDOW (window));
  g_assert_nonnull (dialog);
  g_test_message ("%s — %s", adw_message_dialog_get_heading (dialog),
                  adw_message_dialog_get_body (dialog));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), says));
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));

  g_assert_false (postage_composer_window_get_sending (window));
  g_assert_cmpuint (n_attachments (window), ==, 1);
}

static void
test_large_attachments_warning (void)
{
  g_autofree char *path = g_build_filename (env.top, "large.bin", NULL);
  g_autofree char *ten_mb = g_format_size (10 * 1000 * 1000); /* "10.0 MB", with a no-break space */
  PostageAccount *account = postage_account_store_lookup (env.store, TEST_FROM);
  guint64 learnt = postage_account_get_size_limit (account);
  PostageComposerWindow *window;
  FILE *f;

  f = fopen (path, "w");
  g_assert_nonnull (f);
  /* Sparse: 20 MB of file, about 27 MB as base64, nothing read before the answer. */
  g_assert_cmpint (ftruncate (fileno (f), 20 * 1000 * 1000), ==, 0);
  fclose (f);

  window = new_composer ();
  gtk_editable_set_text (ui_test_child (window, "to_entry"), "ann@example.test");
  g_assert_cmpuint (attach_paths (window, path, NULL), ==, 1);

  postage_account_set_size_limit (account, 0);
  assert_size_warning (window, "25 MB");
  /* What EHLO SIZE said, as a session records it on the account. */
  postage_account_set_size_limit (account, 10 * 1000 * 1000);
  assert_size_warning (window, ten_mb);
  g_assert_nonnull (strstr (gtk_label_get_text (ui_test_child (window, "attachments_total_label")),
                            ten_mb));

  postage_account_set_size_limit (account, learnt);
  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (path);
}

static void
test_malformed_address (void)
{
  PostageComposerWindow *window;
  GtkWidget *to_entry;
  GtkLabel *field_error;
  guint before;

  if (!ui_test_require (env.skip_reason))
    return;

  before = ui_test_count_spooled (env.spool);
  window = new_composer ();
  to_entry = ui_test_child (window, "to_entry");
  field_error = ui_test_child (window, "field_error_label");

  gtk_editable_set_text (GTK_EDITABLE (to_entry), "ann@example.test, bob@@nowhere");
  gtk_editable_set_text (ui_test_child (window, "subject_entry"), "Not going anywhere");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (ui_test_child (window, "body_view")), "Hi", -1);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));

  /* Pointed out at the field, before anything was started. */
  g_assert_false (postage_composer_window_get_sending (window));
  g_assert_true (gtk_widget_has_css_class (to_entry, "error"));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (field_error)));
  g_test_message ("field error: %s", gtk_label_get_text (field_error));
  g_assert_nonnull (strstr (gtk_label_get_text (field_error), "To"));
  g_assert_false (gtk_revealer_get_reveal_child (ui_test_child (window, "status_revealer")));

  /* Nothing was touched either. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (to_entry)), ==,
                   "ann@example.test, bob@@nowhere");
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (window, "subject_entry")), ==,
                   "Not going anywhere");

  ui_test_save_screenshot (GTK_WINDOW (window), "composer-bad-address.png");
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before);

  /* Typing again clears the mark. */
  gtk_editable_set_text (GTK_EDITABLE (to_entry), "ann@example.test");
  g_assert_false (gtk_widget_has_css_class (to_entry, "error"));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (field_error)));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_auth_failed (void)
{
  PostageComposerWindow *window;
  g_autofree char *body = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *attached = NULL;
  guint before;

  if (!ui_test_require (env.skip_reason))
    return;

  before = ui_test_count_spooled (env.spool);
  window = new_composer_for (WRONG_FROM);
  gtk_editable_set_text (ui_test_child (window, "to_entry"), "ann@example.test");
  gtk_editable_set_text (ui_test_child (window, "subject_entry"), "Still here afterwards");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (ui_test_child (window, "body_view")),
                            "Nothing is lost.", -1);
  attached = write_test_file ("kept.txt", "kept", 4);
  g_assert_cmpuint (attach_paths (window, attached, NULL), ==, 1);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  ui_test_spin_until (is_not_sending, window);

  /* The sentence plus the server's own words (535), and the message untouched. */
  g_assert_true (gtk_revealer_get_reveal_child (ui_test_child (window, "error_revealer")));
  shown = g_strconcat (gtk_label_get_text (ui_test_child (window, "error_label")), "\n",
                       gtk_label_get_text (ui_test_child (window, "error_server_label")), NULL);
  g_test_message ("error shown: %s", shown);
  g_assert_nonnull (strstr (shown, "535"));
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (window, "to_entry")), ==, "ann@example.test");
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (window, "subject_entry")), ==,
                   "Still here afterwards");
  body = ui_test_text_view_dup_text (ui_test_child (window, "body_view"));
  g_assert_cmpstr (body, ==, "Nothing is lost.");
  g_assert_cmpuint (n_attachments (window), ==, 1);
  g_assert_cmpuint (ui_test_count_spooled (env.spool), ==, before);

  ui_test_save_screenshot (GTK_WINDOW (window), "composer-error.png");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_new_destroy (void)
{
  PostageComposerWindow *window;

  window = g_object_ref (postage_composer_window_new (NULL, env.store, NULL));
  gtk_window_present (GTK_WINDOW (window));
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
}

static void
test_cancel (void)
{
  PostageComposerWindow *window;
  g_autofree char *body = NULL;

  if (!ui_test_require (env.skip_reason))
    return;

  window = new_composer ();
  gtk_editable_set_text (ui_test_child (window, "to_entry"), "ann@example.test");
  gtk_editable_set_text (ui_test_child (window, "subject_entry"), "Cancelled");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (ui_test_child (window, "body_view")), "Keep me", -1);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (ui_test_child (window, "cancel_button"))));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cancel-send", NULL));
  ui_test_spin_until (is_not_sending, window);

  g_assert_cmpstr (gtk_label_get_text (ui_test_child (window, "progress_label")), ==, "Sending cancelled");
  g_assert_false (gtk_revealer_get_reveal_child (ui_test_child (window, "error_revealer")));
  g_assert_cmpstr (gtk_editable_get_text (ui_test_child (window, "to_entry")), ==, "ann@example.test");
  body = ui_test_text_view_dup_text (ui_test_child (window, "body_view"));
  g_assert_cmpstr (body, ==, "Keep me");

  gtk_window_destroy (GTK_WINDOW (window));
}

/* Closing the window does not stop the message: it is in the outbox, and
 * the queue sees it through. The window's callbacks must then find no
 * window and touch nothing (the sanitizer build proves it). */
static gboolean
one_more_spooled (gpointer data)
{
  return ui_test_count_spooled (env.spool) > GPOINTER_TO_UINT (data);
}

static void
test_close_while_sending (void)
{
  PostageComposerWindow *window;
  guint before;

  if (!ui_test_require (env.skip_reason))
    return;

  before = ui_test_count_spooled (env.spool);
  window = g_object_ref (new_composer ());
  gtk_editable_set_text (ui_test_child (window, "to_entry"), "ann@example.test");
  gtk_editable_set_text (ui_test_child (window, "subject_entry"), "Closed mid-send");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  g_assert_true (postage_composer_window_get_sending (window));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  ui_test_spin_until (one_more_spooled, GUINT_TO_POINTER (before));
}

/* Fixture for the whole run: certificates, the server, the account. */

static void
start_server (void)
{
  g_autofree char *server_py = NULL;
  const char *srcdir = g_getenv ("POSTAGE_SOURCE_ROOT");

  if (srcdir == NULL || g_getenv ("POSTAGE_TEST_HOME") == NULL)
    {
      env.skip_reason = g_strdup ("not inside tests/lib/with-session.sh");
      return;
    }

  server_py = g_build_filename (srcdir, "tests", "lib", "aiosmtpd-server.py", NULL);
  if (!g_file_test (server_py, G_FILE_TEST_EXISTS))
    {
      env.skip_reason = g_strdup_printf ("%s is missing", server_py);
      return;
    }

  env.cert_dir = g_build_filename (env.top, "certs", NULL);
  env.spool = g_build_filename (env.top, "spool", NULL);
  ui_test_make_certs (env.cert_dir);

  if (!ui_test_start_server (&env.server, env.cert_dir, NULL, TEST_USER, TEST_PASSWORD,
                             env.spool))
    env.skip_reason = g_strdup ("the aiosmtpd server did not start (is python3-aiosmtpd installed?)");
}

static void
add_account (const char *id,
             const char *user,
             const char *password)
{
  g_autoptr(PostageAccount) account = postage_account_new (id);
  g_autoptr(GError) error = NULL;
  g_autofree char *ca_file = NULL;

  if (env.skip_reason != NULL)
    {
      /* The window still needs an account to show. */
      postage_account_set_host (account, "127.0.0.1");
      postage_account_set_port (account, 587);
    }
  else
    {
      ca_file = g_build_filename (env.cert_dir, "ca.pem", NULL);
      postage_account_set_host (account, "127.0.0.1");
      postage_account_set_port (account, env.server.port);
      postage_account_set_ca_file (account, ca_file);
    }
  postage_account_set_display_name (account, "Sam Sender");
  postage_account_set_email (account, id);
  postage_account_set_security (account, POSTAGE_SECURITY_STARTTLS);
  postage_account_set_user (account, user);

  postage_account_store_save (env.store, account, &error);
  g_assert_no_error (error);

  if (env.skip_reason == NULL)
    {
      postage_secret_store_save_sync (account, password, NULL, &error);
      if (error != NULL)
        env.skip_reason = g_strdup_printf ("no keyring: %s", error->message);
    }
}

int
main (int    argc,
      char **argv)
{
  const char *home = g_getenv ("POSTAGE_TEST_HOME");
  g_autoptr(GtkCssProvider) provider = NULL;
  int ret;

  /* NO_AT_BRIDGE is GTK 3's switch; without this GTK 4 starts the AT-SPI bus. */
  g_setenv ("GTK_A11Y", "none", FALSE);
  gtk_test_init (&argc, &argv, NULL);
  /* Deliberately not g_main_context_acquire(): between iterations the default
   * context has no owner, so a job that posted events with
   * g_main_context_invoke_full() would run them on its worker thread, and the
   * window's POSTAGE_ASSERT_UI_THREAD() would catch it. */
  adw_init ();
  postage_mail_init ();

  env.top = home != NULL ? g_build_filename (home, "ui-test", NULL)
                         : g_dir_make_tmp ("postage-ui-test-XXXXXX", NULL);
  g_mkdir_with_parents (env.top, 0700);

  ui_test_set_limits (WAIT_SECONDS, 10);
  provider = ui_test_add_app_style ();

  start_server ();
  env.store = postage_account_store_new ();
  postage_account_store_load (env.store, NULL);
  add_account (TEST_FROM, TEST_USER, TEST_PASSWORD);
  add_account (WRONG_FROM, WRONG_USER, "not-the-password");

  g_test_add_func ("/postage/ui/composer/new-destroy", test_new_destroy);
  g_test_add_func ("/postage/ui/composer/malformed-address", test_malformed_address);
  g_test_add_func ("/postage/ui/composer/close-while-sending", test_close_while_sending);
  g_test_add_func ("/postage/ui/composer/cancel", test_cancel);
  g_test_add_func ("/postage/ui/composer/send", test_send);
  g_test_add_func ("/postage/ui/composer/auth-failed", test_auth_failed);
  g_test_add_func ("/postage/ui/composer/attachments", test_attachments);
  g_test_add_func ("/postage/ui/composer/paste-files", test_paste_files);
  g_test_add_func ("/postage/ui/composer/large-attachments-warning",
                   test_large_attachments_warning);

  ret = g_test_run ();

  ui_test_stop_server (&env.server);
  g_clear_object (&env.store);
  g_clear_pointer (&env.top, g_free);
  g_clear_pointer (&env.cert_dir, g_free);
  g_clear_pointer (&env.spool, g_free);
  g_clear_pointer (&env.skip_reason, g_free);

  return ret;
}
