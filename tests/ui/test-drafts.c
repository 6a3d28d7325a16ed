/* test-drafts.c — what is typed survives a crash, and a discard can be undone
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs inside tests/lib/with-session.sh --x11. The crash case re-runs this
 * program as a child (--crash-child): the real PostageApplication registered
 * on the test session bus, its composer typed into a character at a time.
 * Once the autosave is on disk under $XDG_DATA_HOME/postage/drafts the child
 * gets SIGKILL, and a new PostageApplication here, in the test process,
 * must offer the draft back with every field as typed. Screenshot:
 * drafts-restored.png in the build folder.
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "accounts/postage-account-store.h"
#include "mail/postage-message-writer.h"
#include "store/postage-draft-store.h"
#include "store/postage-outbox.h"
#include "ui/postage-application.h"
#include "ui/postage-composer-window.h"

#include "ui-test-common.h"

#define TEST_FROM    "sender@example.test"
#define WAIT_SECONDS 60

/* What the child types. Non-ASCII, a comma list, a line end of each kind. */
#define TYPED_TO      "Ann Exämple <ann@example.test>, bob@example.test"
#define TYPED_CC      "carol@example.test"
#define TYPED_BCC     "hidden-dave@example.test"
#define TYPED_SUBJECT "Grüße — crash test"
#define TYPED_BODY    "Hi all,\n\nthis was typed before the crash.\r\nSecond line\n— Sam"

static PostageApplication *app;

/* The attachments the crash child attaches: both exist before it starts. */
static char *
attachment_path (guint i)
{
  g_autofree char *name = g_strdup_printf ("crash-attachment-%u%s", i, i == 0 ? ".txt" : " ä.bin");

  return g_build_filename (g_getenv ("POSTAGE_TEST_HOME"), "ui-test", name, NULL);
}

static char *
drafts_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "postage", "drafts", NULL);
}

static const char *
entry_text (gpointer    window,
            const char *name)
{
  return gtk_editable_get_text (GTK_EDITABLE (ui_test_child (window, name)));
}

/* Types the whole message into @composer's fields, and attaches the two files. */
static void
type_message (PostageComposerWindow *composer)
{
  g_autoslist(GFile) files = NULL;

  ui_test_type (ui_test_child (composer, "to_entry"), TYPED_TO);
  gtk_toggle_button_set_active (ui_test_child (composer, "cc_bcc_toggle"), TRUE);
  ui_test_type (ui_test_child (composer, "cc_entry"), TYPED_CC);
  ui_test_type (ui_test_child (composer, "bcc_entry"), TYPED_BCC);
  ui_test_type (ui_test_child (composer, "subject_entry"), TYPED_SUBJECT);
  ui_test_type_in_view (ui_test_child (composer, "body_view"), TYPED_BODY);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *path = attachment_path (i);

      files = g_slist_append (files, g_file_new_for_path (path));
    }
  for (GSList *l = files; l != NULL; l = l->next)
    {
      GSList one = { l->data, NULL };

      g_assert_cmpuint (postage_composer_window_attach_files (composer, &one), ==, 1);
    }
}

static GtkWidget *
discard_button (PostageComposerWindow *composer)
{
  GtkWidget *button = ui_test_find_action_button (GTK_WIDGET (composer), "win.discard-draft", NULL);

  g_assert_nonnull (button);
  return button;
}

/* Every field of @draft is exactly what type_message() typed. */
static gboolean
draft_is_typed (const PostageDraft *draft)
{
  g_autofree char *first = attachment_path (0);
  g_autofree char *second = attachment_path (1);

  return g_strcmp0 (draft->to, TYPED_TO) == 0 && g_strcmp0 (draft->cc, TYPED_CC) == 0 &&
         g_strcmp0 (draft->bcc, TYPED_BCC) == 0 &&
         g_strcmp0 (draft->subject, TYPED_SUBJECT) == 0 &&
         g_strcmp0 (draft->body, TYPED_BODY) == 0 &&
         g_strcmp0 (draft->account_id, TEST_FROM) == 0 &&
         draft->attachments->len == 2 &&
         g_strcmp0 (g_ptr_array_index (draft->attachments, 0), first) == 0 &&
         g_strcmp0 (g_ptr_array_index (draft->attachments, 1), second) == 0;
}

/* The composer shows exactly what type_message() typed. */
static void
assert_composer_typed (PostageComposerWindow *composer)
{
  GListModel *attachments = postage_composer_window_get_attachments (composer);
  g_autofree char *body = ui_test_text_view_dup_text (ui_test_child (composer, "body_view"));

  g_assert_cmpstr (entry_text (composer, "to_entry"), ==, TYPED_TO);
  g_assert_cmpstr (entry_text (composer, "cc_entry"), ==, TYPED_CC);
  g_assert_cmpstr (entry_text (composer, "bcc_entry"), ==, TYPED_BCC);
  g_assert_cmpstr (entry_text (composer, "subject_entry"), ==, TYPED_SUBJECT);
  g_assert_cmpstr (body, ==, TYPED_BODY);
  g_assert_true (gtk_widget_get_visible (ui_test_child (composer, "cc_entry")));
  g_assert_true (gtk_widget_get_visible (ui_test_child (composer, "bcc_entry")));
  g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GFileInfo) info = g_list_model_get_item (attachments, i);
      g_autofree char *path = attachment_path (i);
      g_autofree char *name = g_path_get_basename (path);

      g_assert_cmpstr (g_file_info_get_display_name (info), ==, name);
    }
}

/* The crash child: the real application, typed into, never leaving by itself. */

static int
run_crash_child (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GList) composers = NULL;

  gtk_init ();
  postage_mail_init ();

  app = postage_application_new ();
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    g_error ("crash child: cannot register: %s", error->message);
  g_assert_false (g_application_get_is_remote (G_APPLICATION (app)));
  g_application_activate (G_APPLICATION (app));

  composers = ui_test_list_windows (GTK_APPLICATION (app), POSTAGE_TYPE_COMPOSER_WINDOW);
  g_assert_cmpuint (g_list_length (composers), ==, 1);
  type_message (composers->data);

  /* The parent watches the drafts folder and ends this with SIGKILL. */
  g_main_loop_run (g_main_loop_new (NULL, FALSE));
  return 1;
}

/* Helpers for the parent */

typedef struct {
  GSubprocess *child;
  gboolean     exited;
  char        *draft_id;
  gboolean     name_owned;
} Crash;

static void
child_exited_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Crash *crash = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  crash->exited = TRUE;
}

/* Done when the child died, or when the drafts folder holds one draft with
 * everything typed (the autosave after the last keystroke). */
static gboolean
autosave_landed (gpointer data)
{
  Crash *crash = data;
  g_autoptr(PostageDraftStore) store = NULL;
  g_auto(GStrv) ids = NULL;

  if (crash->exited)
    return TRUE;
  store = postage_draft_store_new (NULL);
  ids = postage_draft_store_list (store);
  if (g_strv_length (ids) == 1)
    {
      g_autoptr(PostageDraft) draft = postage_draft_store_load (store, ids[0], NULL);

      if (draft != NULL && draft_is_typed (draft))
        {
          crash->draft_id = g_strdup (ids[0]);
          return TRUE;
        }
    }
  return FALSE;
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  ((Crash *) user_data)->name_owned = TRUE;
}

static void
name_vanished_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  ((Crash *) user_data)->name_owned = FALSE;
}

static gboolean
name_is_free (gpointer data)
{
  return !((Crash *) data)->name_owned;
}

static gboolean
child_is_gone (gpointer data)
{
  return ((Crash *) data)->exited;
}

/* The application of this process, made once the crash case is over (one
 * instance per session bus). */
static void
ensure_app (void)
{
  g_autoptr(GError) error = NULL;

  if (app != NULL)
    return;
  app = postage_application_new ();
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_application_get_is_remote (G_APPLICATION (app)));
  /* No server listens here: what the crash case leaves in the outbox must
   * wait there, not be tried (and notified about) meanwhile. */
  postage_outbox_queue_set_automatic (postage_application_get_outbox_queue (app), FALSE);
}

/* Cases */

static void
test_crash_restore (void)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GList) composers = NULL;
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = drafts_dir ();
  g_autofree char *file_name = NULL;
  g_autofree char *draft_path = NULL;
  g_autofree char *contents = NULL;
  PostageComposerWindow *composer;
  GtkWidget *open_button;
  Crash crash = { 0 };
  g_autofree char *handed_draft_id = NULL;
  g_autofree char *handed_outbox_id = NULL;
  guint watch;

  if (app != NULL)
    {
      g_test_skip ("the crash case runs first, before this process is the application");
      return;
    }
  g_assert_nonnull (self);

  watch = g_bus_watch_name (G_BUS_TYPE_SESSION, APP_ID, G_BUS_NAME_WATCHER_FLAGS_NONE,
                            name_appeared_cb, name_vanished_cb, &crash, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_child_setup (launcher, ui_test_die_with_parent, NULL, NULL);
  crash.child = g_subprocess_launcher_spawn (launcher, &error, self, "--crash-child", NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (crash.child, NULL, child_exited_cb, &crash);

  /* The child is the application, and its autosave reaches the disk. */
  ui_test_poll_until (autosave_landed, &crash);
  g_assert_false (crash.exited);
  g_assert_true (crash.name_owned);
  file_name = g_strconcat (crash.draft_id, ".draft", NULL);
  draft_path = g_build_filename (dir, file_name, NULL);
  g_assert_true (g_file_get_contents (draft_path, &contents, NULL, NULL));
  g_test_message ("%s after typing:\n%s", draft_path, contents);

  /* No close, no shutdown, no chance to save anything more. */
  g_subprocess_force_exit (crash.child);
  ui_test_spin_until (child_is_gone, &crash);
  g_assert_true (g_subprocess_get_if_signaled (crash.child));
  g_assert_cmpint (g_subprocess_get_term_sig (crash.child), ==, SIGKILL);
  ui_test_spin_until (name_is_free, &crash);
  g_bus_unwatch_name (watch);

  /* What a kill right after Send leaves: the message is in the outbox and its
   * draft was told so (linked) before it got there. That draft is not
   * offered back, or the message could go twice. */
  {
    g_autoptr(PostageDraftStore) store = postage_draft_store_new (NULL);
    g_autoptr(PostageOutbox) outbox = postage_outbox_new (NULL);
    g_autoptr(PostageDraft) handed = postage_draft_new ();
    g_autoptr(PostageOutboxEntry) entry = NULL;

    handed_draft_id = postage_draft_store_new_id (store);
    handed_outbox_id = postage_outbox_new_id ();
    handed->account_id = g_strdup (TEST_FROM);
    handed->from_address = g_strdup (TEST_FROM);
    handed->to = g_strdup ("once@example.test");
    handed->subject = g_strdup ("Sent just before the crash");
    g_assert_true (postage_draft_store_save (store, handed_draft_id, handed, &error));
    g_assert_true (postage_draft_store_link (store, handed_draft_id, handed_outbox_id, &error));
    entry = postage_outbox_add_as (outbox, handed_outbox_id, handed, &error);
    g_assert_no_error (error);
    g_assert_nonnull (entry);
  }

  /* A new instance: its first composer offers what the dead one held. */
  ensure_app ();
  g_application_activate (G_APPLICATION (app));
  composers = ui_test_list_windows (GTK_APPLICATION (app), POSTAGE_TYPE_COMPOSER_WINDOW);
  g_assert_cmpuint (g_list_length (composers), ==, 1);
  composer = composers->data;
  ui_test_wait_for_frames (GTK_WINDOW (composer));
  g_assert_true (ui_test_shows_text (GTK_WIDGET (composer),
                                     "Postage kept a message you had not sent"));
  g_assert_null (postage_composer_window_get_draft_id (composer));
  g_assert_cmpstr (entry_text (composer, "to_entry"), ==, "");

  /* Accepted: the toast's Open button. */
  open_button = ui_test_find_button (GTK_WIDGET (composer), "_Open");
  g_assert_nonnull (open_button);
  ui_test_click (open_button);

  g_assert_cmpstr (postage_composer_window_get_draft_id (composer), ==, crash.draft_id);
  assert_composer_typed (composer);
  g_assert_true (postage_composer_window_select_account (composer, TEST_FROM));
  ui_test_save_screenshot (GTK_WINDOW (composer), "drafts-restored.png");

  /* Still one draft on disk: restoring made no copy. */
  {
    g_autoptr(PostageDraftStore) store = postage_draft_store_new (NULL);
    g_auto(GStrv) ids = postage_draft_store_list (store);

    g_autoptr(PostageOutbox) outbox = postage_outbox_new (NULL);
    g_autoptr(PostageOutboxEntry) entry = NULL;

    g_assert_cmpuint (g_strv_length (ids), ==, 1);
    g_assert_cmpstr (ids[0], ==, crash.draft_id);
    /* The handed-on draft is gone; its message waits in the outbox, once. */
    g_assert_false (g_strv_contains ((const char * const *) ids, handed_draft_id));
    entry = postage_outbox_get (outbox, handed_outbox_id, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (entry->subject, ==, "Sent just before the crash");
  }

  gtk_window_destroy (GTK_WINDOW (composer));
  g_clear_object (&crash.child);
  g_free (crash.draft_id);
}

static gboolean
has_saved_draft (gpointer data)
{
  const char *id = postage_composer_window_get_draft_id (data);
  g_autoptr(PostageDraftStore) store = postage_draft_store_new (NULL);
  g_autoptr(PostageDraft) draft = NULL;

  if (id == NULL || (draft = postage_draft_store_load (store, id, NULL)) == NULL)
    return FALSE;
  return draft_is_typed (draft);
}

static void
test_discard_undo (void)
{
  g_autoptr(GList) before = NULL;
  g_autoptr(PostageDraftStore) store = postage_draft_store_new (NULL);
  g_auto(GStrv) ids = NULL;
  g_autofree char *id = NULL;
  g_autofree char *dir = drafts_dir ();
  g_autofree char *file_name = NULL;
  g_autofree char *path = NULL;
  g_autofree char *discarded_path = NULL;
  g_autofree char *body = NULL;
  PostageComposerWindow *composer = NULL;
  GtkWidget *undo_button;

  ensure_app ();
  before = ui_test_list_windows (GTK_APPLICATION (app), POSTAGE_TYPE_COMPOSER_WINDOW);
  g_action_group_activate_action (G_ACTION_GROUP (app), "new-message", NULL);
  composer = ui_test_new_window_since (GTK_APPLICATION (app), POSTAGE_TYPE_COMPOSER_WINDOW, before);
  g_assert_true (postage_composer_window_select_account (composer, TEST_FROM));
  ui_test_wait_for_frames (GTK_WINDOW (composer));

  type_message (composer);
  ui_test_poll_until (has_saved_draft, composer);
  id = g_strdup (postage_composer_window_get_draft_id (composer));
  file_name = g_strconcat (id, ".draft", NULL);
  path = g_build_filename (dir, file_name, NULL);
  discarded_path = g_build_filename (dir, "discarded", file_name, NULL);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  /* Discard, by its button: off the disk (into discarded/) and out of the window. */
  ui_test_click (discard_button (composer));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (discarded_path, G_FILE_TEST_IS_REGULAR));
  ids = postage_draft_store_list (store);
  g_assert_false (g_strv_contains ((const char *const *) ids, id));
  g_assert_null (postage_composer_window_get_draft_id (composer));
  g_assert_cmpstr (entry_text (composer, "to_entry"), ==, "");
  g_assert_cmpstr (entry_text (composer, "subject_entry"), ==, "");
  body = ui_test_text_view_dup_text (ui_test_child (composer, "body_view"));
  g_assert_cmpstr (body, ==, "");
  g_assert_cmpuint (g_list_model_get_n_items (postage_composer_window_get_attachments (composer)),
                    ==, 0);

  /* The toast says so, and its Undo brings everything back, on disk too. */
  ui_test_wait_for_frames (GTK_WINDOW (composer));
  g_assert_true (ui_test_shows_text (GTK_WIDGET (composer), "Draft discarded"));
  ui_test_save_screenshot (GTK_WINDOW (composer), "drafts-discarded.png");
  undo_button = ui_test_find_button (GTK_WIDGET (composer), "_Undo");
  g_assert_nonnull (undo_button);
  ui_test_click (undo_button);

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (discarded_path, G_FILE_TEST_EXISTS));
  g_clear_pointer (&ids, g_strfreev);
  ids = postage_draft_store_list (store);
  g_assert_true (g_strv_contains ((const char *const *) ids, id));
  g_assert_true (has_saved_draft (composer));
  g_assert_cmpstr (postage_composer_window_get_draft_id (composer), ==, id);
  assert_composer_typed (composer);

  /* Discarded again and left so: the next start purges it, nothing is offered. */
  ui_test_click (discard_button (composer));
  g_assert_true (g_file_test (discarded_path, G_FILE_TEST_IS_REGULAR));
  postage_draft_store_purge_discarded (store);
  g_assert_false (g_file_test (discarded_path, G_FILE_TEST_EXISTS));
  g_clear_pointer (&ids, g_strfreev);
  ids = postage_draft_store_list (store);
  g_assert_false (g_strv_contains ((const char *const *) ids, id));

  gtk_window_destroy (GTK_WINDOW (composer));
}

/* A draft whose attachment was deleted since it was saved: the window says
 * which file is missing and what to do, in a sentence of its own. */
static void
test_missing_attachment (void)
{
  g_autoptr(PostageDraftStore) store = postage_draft_store_new (NULL);
  g_autoptr(PostageDraft) draft = postage_draft_new ();
  g_autoptr(GList) before = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = postage_draft_store_new_id (store);
  g_autofree char *gone = g_build_filename (g_getenv ("POSTAGE_TEST_HOME"), "ui-test",
                                            "Quarterly report.pdf", NULL);
  PostageComposerWindow *composer;

  ensure_app ();
  g_assert_true (g_file_set_contents (gone, "%PDF-1.4\n", -1, NULL));
  draft->account_id = g_strdup (TEST_FROM);
  draft->to = g_strdup ("ann@example.test");
  draft->subject = g_strdup ("The report");
  g_ptr_array_add (draft->attachments, g_strdup (gone));
  g_assert_true (postage_draft_store_save (store, id, draft, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (gone), ==, 0);

  before = ui_test_list_windows (GTK_APPLICATION (app), POSTAGE_TYPE_COMPOSER_WINDOW);
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-draft", g_variant_new_string (id));
  composer = ui_test_new_window_since (GTK_APPLICATION (app), POSTAGE_TYPE_COMPOSER_WINDOW, before);
  ui_test_wait_for_frames (GTK_WINDOW (composer));
  g_assert_cmpstr (entry_text (composer, "subject_entry"), ==, "The report");
  g_assert_cmpuint (g_list_model_get_n_items (postage_composer_window_get_attachments (composer)),
                    ==, 0);
  g_assert_true (ui_test_shows_text (GTK_WIDGET (composer), "Quarterly report.pdf"));
  g_assert_true (ui_test_shows_text (GTK_WIDGET (composer), "attach it again"));
  g_assert_false (ui_test_shows_text (GTK_WIDGET (composer), "Error when getting information"));

  postage_draft_store_delete (store, id, NULL);
  gtk_window_destroy (GTK_WINDOW (composer));
}

static void
make_attachments (void)
{
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *path = attachment_path (i);
      g_autofree char *dir = g_path_get_dirname (path);

      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      g_assert_true (g_file_set_contents (path, i == 0 ? "first\n" : "\xff\xfe second", -1,
                                          NULL));
    }
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_setenv ("GTK_A11Y", "none", FALSE);
  if (argc == 2 && g_strcmp0 (argv[1], "--crash-child") == 0)
    return run_crash_child ();

  gtk_test_init (&argc, &argv, NULL);
  postage_mail_init ();
  ui_test_set_limits (WAIT_SECONDS, 10);

  if (g_getenv ("POSTAGE_TEST_HOME") == NULL)
    {
      g_test_message ("not inside tests/lib/with-session.sh");
      return 77;
    }
  /* An account first, so the application does not start with the wizard. */
  /* Nothing is sent here: no server listens. */
  ui_test_save_account (TEST_FROM, 587, "sam", NULL);
  make_attachments ();

  g_test_add_func ("/postage/ui/drafts/crash-restore", test_crash_restore);
  g_test_add_func ("/postage/ui/drafts/discard-undo", test_discard_undo);
  g_test_add_func ("/postage/ui/drafts/missing-attachment", test_missing_attachment);
  ret = g_test_run ();

  if (app != NULL)
    g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  g_clear_object (&app);
  return ret;
}
