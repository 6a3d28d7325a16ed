/* test-draft-store.c — drafts kept on a real disk: exact, atomic, undoable
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <utime.h>

#include "store/postage-draft-store.h"
#include "store/postage-outbox.h"
#include "store-test-util.h"

typedef struct {
  char              *root;
  char              *drafts;
  PostageDraftStore *store;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  fixture->root = store_test_make_dir (NULL);
  fixture->drafts = g_build_filename (fixture->root, "drafts", NULL);
  fixture->store = postage_draft_store_new (fixture->root);
}

static void
fixture_tear (Fixture       *fixture,
              gconstpointer  data)
{
  g_assert_finalize_object (fixture->store);
  g_assert_true (store_test_rm_rf (fixture->root));
  g_clear_pointer (&fixture->root, g_free);
  g_clear_pointer (&fixture->drafts, g_free);
}

static char *
draft_file (Fixture    *fixture,
            const char *id)
{
  g_autofree char *name = g_strconcat (id, ".draft", NULL);

  return g_build_filename (fixture->drafts, name, NULL);
}

static void
save (Fixture            *fixture,
      const char         *id,
      const PostageDraft *draft)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_draft_store_save (fixture->store, id, draft, &error));
  g_assert_no_error (error);
}

static PostageDraft *
load (Fixture    *fixture,
      const char *id)
{
  g_autoptr(GError) error = NULL;
  PostageDraft *draft = postage_draft_store_load (fixture->store, id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (draft);
  return draft;
}

static void
assert_same_draft (const PostageDraft *a,
                   const PostageDraft *b)
{
  g_assert_cmpstr (a->account_id, ==, b->account_id);
  g_assert_cmpstr (a->from_name, ==, b->from_name);
  g_assert_cmpstr (a->from_address, ==, b->from_address);
  g_assert_cmpstr (a->to, ==, b->to);
  g_assert_cmpstr (a->cc, ==, b->cc);
  g_assert_cmpstr (a->bcc, ==, b->bcc);
  g_assert_cmpstr (a->reply_to, ==, b->reply_to);
  g_assert_cmpstr (a->in_reply_to, ==, b->in_reply_to);
  g_assert_cmpstr (a->subject, ==, b->subject);
  g_assert_cmpstr (a->body, ==, b->body);
  g_assert_cmpuint (a->attachments->len, ==, b->attachments->len);
  for (guint i = 0; i < a->attachments->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a->attachments, i), ==,
                     g_ptr_array_index (b->attachments, i));
}

/* Every field, with what keyfiles and URIs find hard: line ends of every
 * kind, leading and trailing blanks, backslashes, '#' and '[' starting a
 * line, ';' and ',' (list separators), non-ASCII, file names that are not
 * UTF-8 and need escaping as URIs. */
static void
test_round_trip (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(PostageDraft) draft = postage_draft_new ();
  g_autoptr(PostageDraft) back = NULL;
  g_autoptr(PostageDraft) empty_back = NULL;
  g_autoptr(PostageDraft) empty = postage_draft_new ();
  g_auto(GStrv) ids = NULL;
  g_autofree char *id = postage_draft_store_new_id (fixture->store);

  g_assert_true (postage_outbox_id_is_valid (id));
  draft->account_id = g_strdup ("work@example.test");
  draft->from_name = g_strdup ("  Zoë \"Z\" Ångström; Esq.  ");
  draft->from_address = g_strdup ("zoe@example.test");
  draft->to = g_strdup ("A <a@example.test>, b@example.test; c@example.test");
  draft->cc = g_strdup ("\tcc@example.test ");
  draft->bcc = g_strdup ("");
  draft->reply_to = g_strdup ("replies@example.test");
  draft->in_reply_to = g_strdup ("<1234.5678@example.test>");
  draft->subject = g_strdup (" Re: [list] 50% off = \\o/ # not a comment ");
  draft->body = g_strdup ("First line\r\nCRLF above, LF below\n"
                          "# a hash at the start\n[Draft]\nkey=value\n"
                          "\\n is not a line break, \\\\ neither\n"
                          "bare CR\rtrailing blanks   \n\n\n"
                          "  leading blanks\ttab\n"
                          "日本語 ✉\n");
  g_ptr_array_add (draft->attachments, g_strdup ("/tmp/photo one.jpg"));
  g_ptr_array_add (draft->attachments, g_strdup ("/tmp/a;b,c%20d#e?.txt"));
  g_ptr_array_add (draft->attachments, g_strdup ("/tmp/latin1-\xe9t\xe9.txt"));
  g_ptr_array_add (draft->attachments, g_strdup ("/home/zoë/Документ.pdf"));

  save (fixture, id, draft);
  back = load (fixture, id);
  assert_same_draft (back, draft);

  /* Unset stays unset, not "". */
  save (fixture, "empty", empty);
  empty_back = load (fixture, "empty");
  assert_same_draft (empty_back, empty);
  g_assert_null (empty_back->subject);
  g_assert_null (empty_back->body);

  ids = postage_draft_store_list (fixture->store);
  g_assert_cmpuint (g_strv_length (ids), ==, 2);
  g_assert_true (g_strv_contains ((const char * const *) ids, id));
  g_assert_true (g_strv_contains ((const char * const *) ids, "empty"));
}

static void
set_mtime (Fixture    *fixture,
           const char *id,
           gint64      seconds)
{
  g_autofree char *path = draft_file (fixture, id);
  struct utimbuf times = { .actime = seconds, .modtime = seconds };

  g_assert_cmpint (g_utime (path, &times), ==, 0);
}

static void
test_replace_and_list (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(PostageDraft) first = store_test_make_draft (NULL, "First");
  g_autoptr(PostageDraft) second = store_test_make_draft (NULL, "Second");
  g_autoptr(PostageDraft) back = NULL;
  g_auto(GStrv) ids = NULL;
  g_auto(GStrv) files = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  save (fixture, "a", first);
  save (fixture, "a", second);
  back = load (fixture, "a");
  g_assert_cmpstr (back->subject, ==, "Second");
  /* A replace leaves no temporary file behind. */
  files = store_test_list_dir (fixture->drafts);
  g_assert_cmpuint (g_strv_length (files), ==, 1);
  g_assert_cmpstr (files[0], ==, "a.draft");

  save (fixture, "b", first);
  set_mtime (fixture, "a", now - 100);
  set_mtime (fixture, "b", now - 50);
  ids = postage_draft_store_list (fixture->store);
  g_assert_cmpstrv (ids, ((const char * const[]) { "b", "a", NULL }));
  g_clear_pointer (&ids, g_strfreev);
  set_mtime (fixture, "b", now - 200);
  ids = postage_draft_store_list (fixture->store);
  g_assert_cmpstrv (ids, ((const char * const[]) { "a", "b", NULL }));
}

/* A write that fails (here: larger than RLIMIT_FSIZE allows, which needs no
 * privilege) never replaces the good file, and leaves no temporary. */
static void
test_failed_write_keeps_old (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(PostageDraft) good = store_test_make_draft (NULL, "Good");
  g_autoptr(PostageDraft) huge = store_test_make_draft (NULL, "Huge");
  g_autoptr(PostageDraft) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = draft_file (fixture, "d");
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_auto(GStrv) files = NULL;
  struct rlimit saved, small;
  void (*old_handler) (int);
  gsize before_length, after_length;
  gboolean ok;

  save (fixture, "d", good);
  before = store_test_read (path, &before_length);
  g_free (huge->body);
  huge->body = g_strnfill (200 * 1024, 'y');

  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  small = saved;
  small.rlim_cur = 16 * 1024;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
  ok = postage_draft_store_save (fixture->store, "d", huge, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, old_handler);

  g_assert_false (ok);
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR || error->domain == G_FILE_ERROR);
  g_assert_nonnull (strstr (error->message, g_strerror (EFBIG)));
  after = store_test_read (path, &after_length);
  g_assert_cmpmem (after, after_length, before, before_length);
  back = load (fixture, "d");
  g_assert_cmpstr (back->subject, ==, "Good");
  files = store_test_list_dir (fixture->drafts);
  g_assert_cmpuint (g_strv_length (files), ==, 1);
}

static void
test_discard_restore_purge (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(PostageDraft) one = store_test_make_draft (NULL, "One");
  g_autoptr(PostageDraft) two = store_test_make_draft (NULL, "Two");
  g_autoptr(PostageDraft) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *discarded = g_build_filename (fixture->drafts, "discarded", NULL);
  g_auto(GStrv) ids = NULL;

  save (fixture, "one", one);
  save (fixture, "two", two);

  g_assert_true (postage_draft_store_discard (fixture->store, "one", &error));
  g_assert_no_error (error);
  ids = postage_draft_store_list (fixture->store);
  g_assert_cmpstrv (ids, ((const char * const[]) { "two", NULL }));
  g_assert_null (postage_draft_store_load (fixture->store, "one", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  g_assert_cmpuint (store_test_count_dir (discarded), ==, 1);

  /* Undo: back with every byte. */
  g_assert_true (postage_draft_store_restore (fixture->store, "one", &error));
  g_assert_no_error (error);
  back = load (fixture, "one");
  assert_same_draft (back, one);
  g_clear_pointer (&ids, g_strfreev);
  ids = postage_draft_store_list (fixture->store);
  g_assert_cmpuint (g_strv_length (ids), ==, 2);

  /* Discard, purge: gone for good; the live draft is untouched. */
  g_assert_true (postage_draft_store_discard (fixture->store, "one", &error));
  g_assert_no_error (error);
  postage_draft_store_purge_discarded (fixture->store);
  g_assert_cmpuint (store_test_count_dir (discarded), ==, 0);
  g_assert_false (postage_draft_store_restore (fixture->store, "one", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_pointer (&ids, g_strfreev);
  ids = postage_draft_store_list (fixture->store);
  g_assert_cmpstrv (ids, ((const char * const[]) { "two", NULL }));
  g_clear_pointer (&back, postage_draft_free);
  back = load (fixture, "two");
  assert_same_draft (back, two);

  /* Purge with nothing discarded, and discard of nothing. */
  postage_draft_store_purge_discarded (fixture->store);
  g_assert_false (postage_draft_store_discard (fixture->store, "never", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_link_and_delete (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(PostageDraft) draft = store_test_make_draft (NULL, "Linked");
  g_autoptr(GError) error = NULL;
  g_autofree char *link = NULL;
  g_auto(GStrv) ids = NULL;

  save (fixture, "sent-one", draft);
  save (fixture, "other", draft);
  g_assert_null (postage_draft_store_dup_link (fixture->store, "sent-one"));
  g_assert_true (postage_draft_store_link (fixture->store, "sent-one", "1700000000.00c0ffee",
                                           &error));
  g_assert_no_error (error);
  /* A save after the link keeps it: it is about where the message went. */
  save (fixture, "sent-one", draft);
  link = postage_draft_store_dup_link (fixture->store, "sent-one");
  g_assert_cmpstr (link, ==, "1700000000.00c0ffee");
  g_assert_null (postage_draft_store_dup_link (fixture->store, "other"));

  postage_draft_store_forget_outbox (fixture->store, "1700000000.00c0ffee");
  ids = postage_draft_store_list (fixture->store);
  g_assert_cmpstrv (ids, ((const char * const[]) { "other", NULL }));

  g_assert_true (postage_draft_store_delete (fixture->store, "other", &error));
  g_assert_no_error (error);
  g_assert_true (postage_draft_store_delete (fixture->store, "other", &error));
  g_assert_no_error (error);
  g_clear_pointer (&ids, g_strfreev);
  ids = postage_draft_store_list (fixture->store);
  g_assert_cmpuint (g_strv_length (ids), ==, 0);
}

/* An ID is a name, never a path. */
static void
test_bad_ids (Fixture       *fixture,
              gconstpointer  data)
{
  static const char *const bad[] = { "../escape", "a/b", "", ".hidden", NULL };
  g_autoptr(PostageDraft) draft = store_test_make_draft (NULL, "Nowhere");
  g_autofree char *escape = g_build_filename (fixture->root, "escape.draft", NULL);

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (postage_draft_store_save (fixture->store, bad[i], draft, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
      g_clear_error (&error);
      g_assert_null (postage_draft_store_load (fixture->store, bad[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
      g_clear_error (&error);
      g_assert_false (postage_draft_store_delete (fixture->store, bad[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
    }
  g_assert_false (g_file_test (escape, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (store_test_count_dir (fixture->drafts), ==, 0);
}

/* A FIFO where a draft should be is refused at once, not waited on (it
 * would hang the window's start, which reads every draft). */
static void
test_fifo_refused (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(PostageDraft) draft = store_test_make_draft (NULL, "Real");
  g_autofree char *id = postage_draft_store_new_id (fixture->store);
  g_autofree char *fifo_id = postage_draft_store_new_id (fixture->store);
  g_autofree char *name = g_strconcat (fifo_id, ".draft", NULL);
  g_autofree char *fifo = g_build_filename (fixture->drafts, name, NULL);
  g_autoptr(PostageDraft) loaded = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_draft_store_save (fixture->store, id, draft, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_null (postage_draft_store_load (fixture->store, fifo_id, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* The real one still loads. */
  loaded = postage_draft_store_load (fixture->store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (loaded->subject, ==, draft->subject);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/postage/draft-store/" path, Fixture, NULL, fixture_setup, func, fixture_tear)

  ADD ("round-trip", test_round_trip);
  ADD ("replace-and-list", test_replace_and_list);
  ADD ("failed-write-keeps-old", test_failed_write_keeps_old);
  ADD ("discard-restore-purge", test_discard_restore_purge);
  ADD ("link-and-delete", test_link_and_delete);
  ADD ("bad-ids", test_bad_ids);
  ADD ("fifo-refused", test_fifo_refused);

#undef ADD

  return g_test_run ();
}
