/* test-outbox.c — the outbox on a real disk: states, claims, locks, damage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every case works in its own throw-away folder. The only stand-ins are the
 * @now values handed to claim() and prune_sent(): they are arguments.
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mail/postage-mail-error.h"
#include "store/postage-outbox.h"
#include "store-test-util.h"

typedef struct {
  char          *root;
  PostageOutbox *outbox;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  fixture->root = store_test_make_dir (NULL);
  fixture->outbox = postage_outbox_new (fixture->root);
}

static void
fixture_tear (Fixture       *fixture,
              gconstpointer  data)
{
  g_clear_pointer (&fixture->outbox, postage_outbox_unref);
  g_assert_true (store_test_rm_rf (fixture->root));
  g_clear_pointer (&fixture->root, g_free);
}

static char *
outbox_path (Fixture    *fixture,
             const char *first,
             ...)
{
  va_list args;
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();
  const char *part;

  g_ptr_array_add (parts, fixture->root);
  g_ptr_array_add (parts, (gpointer) "outbox");
  va_start (args, first);
  for (part = first; part != NULL; part = va_arg (args, const char *))
    g_ptr_array_add (parts, (gpointer) part);
  va_end (args);
  g_ptr_array_add (parts, NULL);
  return g_build_filenamev ((char **) parts->pdata);
}

static char *
sidecar_path (Fixture    *fixture,
              const char *id)
{
  g_autofree char *name = g_strconcat (id, ".envelope", NULL);

  return outbox_path (fixture, name, NULL);
}

static PostageOutboxEntry *
add (Fixture    *fixture,
     const char *subject)
{
  g_autoptr(PostageDraft) draft = store_test_make_draft ("sam@example.test", subject);
  g_autoptr(GError) error = NULL;
  PostageOutboxEntry *entry = postage_outbox_add (fixture->outbox, draft, &error);

  g_assert_no_error (error);
  g_assert_nonnull (entry);
  return entry;
}

static PostageOutboxEntry *
get (Fixture    *fixture,
     const char *id)
{
  g_autoptr(GError) error = NULL;
  PostageOutboxEntry *entry = postage_outbox_get (fixture->outbox, id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (entry);
  return entry;
}

static PostageOutboxClaim *
claim (Fixture    *fixture,
       const char *id,
       gint64      now)
{
  g_autoptr(GError) error = NULL;
  PostageOutboxClaim *claim = postage_outbox_claim (fixture->outbox, id, now, &error);

  g_assert_no_error (error);
  g_assert_nonnull (claim);
  return claim;
}

static void
assert_claim_fails (Fixture    *fixture,
                    const char *id,
                    int         code)
{
  g_autoptr(GError) error = NULL;
  PostageOutboxClaim *claim = postage_outbox_claim (fixture->outbox, id, 1, &error);

  g_assert_error (error, POSTAGE_OUTBOX_ERROR, code);
  g_assert_null (claim);
}

static void
test_retry_delay (void)
{
  g_assert_cmpint (postage_outbox_retry_delay (0), ==, 60);
  g_assert_cmpint (postage_outbox_retry_delay (1), ==, 60);
  g_assert_cmpint (postage_outbox_retry_delay (2), ==, 5 * 60);
  g_assert_cmpint (postage_outbox_retry_delay (3), ==, 15 * 60);
  g_assert_cmpint (postage_outbox_retry_delay (4), ==, 60 * 60);
  g_assert_cmpint (postage_outbox_retry_delay (5), ==, 60 * 60);
  g_assert_cmpint (postage_outbox_retry_delay (1000), ==, 60 * 60);
  g_assert_cmpint (postage_outbox_retry_delay (G_MAXUINT), ==, 60 * 60);
}

static void
test_add_list_claim_sent (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) added = add (fixture, "Hello");
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(PostageOutboxClaim) held = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GKeyFile) record = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *bytes = NULL;
  g_autofree char *sent_bytes = NULL;
  g_autofree char *sent_path = NULL;
  g_autofree char *sent_name = NULL;
  g_autofree char *expected_path = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *new_dir = NULL;
  g_autofree char *tmp_dir = NULL;
  g_autofree char *sidecar = NULL;
  g_autofree char *lock = NULL;
  g_auto(GStrv) recipients = NULL;
  const PostageOutboxEntry *claimed;
  gsize length, sent_length;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;

  /* add: QUEUED, due now, the message in new/ and nothing left in tmp/. */
  g_assert_true (postage_outbox_id_is_valid (added->id));
  g_assert_cmpint (added->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
  g_assert_cmpstr (added->account_id, ==, "sam@example.test");
  g_assert_cmpstr (added->subject, ==, "Hello");
  g_assert_cmpuint (added->attempts, ==, 0);
  g_assert_cmpint (added->next_try, ==, 0);
  g_assert_nonnull (added->outgoing);
  expected_path = outbox_path (fixture, "new", added->id, NULL);
  g_assert_cmpstr (added->outgoing->path, ==, expected_path);
  bytes = store_test_read (added->outgoing->path, &length);
  g_assert_cmpuint (length, ==, added->outgoing->size);
  g_assert_nonnull (strstr (bytes, "Subject: Hello\r\n"));
  /* Bcc is in the envelope only. */
  g_assert_null (strstr (bytes, "hidden@example.test"));
  g_assert_cmpuint (added->outgoing->recipients->len, ==, 2);
  tmp_dir = outbox_path (fixture, "tmp", NULL);
  g_assert_cmpuint (store_test_count_dir (tmp_dir), ==, 0);

  /* list: the same entry, read back from disk. */
  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  entry = postage_outbox_entry_copy (g_ptr_array_index (entries, 0));
  g_assert_cmpstr (entry->id, ==, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
  g_assert_false (entry->busy);
  g_assert_cmpint (entry->created, >=, before);
  g_assert_cmpstr (entry->outgoing->sender, ==, "sam@example.test");
  g_assert_cmpstr (g_ptr_array_index (entry->outgoing->recipients, 0), ==,
                   "friend@example.test");
  g_assert_cmpstr (g_ptr_array_index (entry->outgoing->recipients, 1), ==,
                   "hidden@example.test");
  g_assert_cmpuint (entry->outgoing->size, ==, length);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  /* claim: SENDING, one more attempt, at the time given; on disk too. */
  held = claim (fixture, added->id, 1000);
  claimed = postage_outbox_claim_get_entry (held);
  g_assert_cmpint (claimed->state, ==, POSTAGE_OUTBOX_STATE_SENDING);
  g_assert_cmpuint (claimed->attempts, ==, 1);
  g_assert_cmpint (claimed->last_attempt, ==, 1000);
  entry = get (fixture, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_SENDING);
  g_assert_true (entry->busy);
  g_assert_cmpuint (entry->attempts, ==, 1);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  /* commit: right before the ".", durably UNCERTAIN. */
  g_assert_true (postage_outbox_claim_commit (held, &error));
  g_assert_no_error (error);
  entry = get (fixture, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_UNCERTAIN);
  g_assert_nonnull (entry->last_error);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  /* sent: the exact bytes in sent/cur/ID:2,S, the reply in its sidecar. */
  g_assert_true (postage_outbox_claim_sent (held, "250 2.0.0 OK queued as 0001", &error));
  g_assert_no_error (error);
  sent_path = postage_outbox_dup_sent_path (fixture->outbox, added->id);
  sent_name = g_strconcat (added->id, ":2,S", NULL);
  g_free (expected_path);
  expected_path = g_build_filename (fixture->root, "sent", "cur", sent_name, NULL);
  g_assert_cmpstr (sent_path, ==, expected_path);
  sent_bytes = store_test_read (sent_path, &sent_length);
  g_assert_cmpmem (sent_bytes, sent_length, bytes, length);
  record = postage_outbox_load_sent (fixture->outbox, added->id, &error);
  g_assert_no_error (error);
  reply = g_key_file_get_string (record, "Sent", "reply", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply, ==, "250 2.0.0 OK queued as 0001");
  g_assert_cmpint (g_key_file_get_integer (record, "Sent", "attempts", NULL), ==, 1);
  g_assert_cmpint (g_key_file_get_int64 (record, "Sent", "time", NULL), >=, before);
  recipients = g_key_file_get_string_list (record, "Envelope", "recipients", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (recipients), ==, 2);

  /* … and the outbox has nothing of it any more, even before the release. */
  new_dir = outbox_path (fixture, "new", NULL);
  g_assert_cmpuint (store_test_count_dir (new_dir), ==, 0);
  sidecar = sidecar_path (fixture, added->id);
  g_assert_false (g_file_test (sidecar, G_FILE_TEST_EXISTS));
  g_clear_pointer (&held, postage_outbox_claim_release);
  lock = g_strconcat (added->id, ".lock", NULL);
  g_free (sidecar);
  sidecar = outbox_path (fixture, lock, NULL);
  g_assert_false (g_file_test (sidecar, G_FILE_TEST_EXISTS));
  g_clear_pointer (&entries, g_ptr_array_unref);
  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 0);
  entry = postage_outbox_get (fixture->outbox, added->id, &error);
  g_assert_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND);
  g_assert_null (entry);
}

/* A crash between moving the message to sent/ and deleting its sidecar
 * leaves only the sidecar: that is an entry that was sent, not a broken one. */
static void
test_sent_leftover (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) added = add (fixture, "Hello");
  g_autoptr(PostageOutboxClaim) held = claim (fixture, added->id, 1000);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sidecar = sidecar_path (fixture, added->id);
  g_autofree char *copy = NULL;
  gsize length;

  copy = store_test_read (sidecar, &length);
  g_assert_true (postage_outbox_claim_commit (held, &error));
  g_assert_true (postage_outbox_claim_sent (held, "250 OK", &error));
  g_assert_no_error (error);
  g_clear_pointer (&held, postage_outbox_claim_release);
  store_test_write (sidecar, copy, length);

  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 0);
  g_assert_false (g_file_test (sidecar, G_FILE_TEST_EXISTS));
}

static void
test_load_draft (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(PostageDraft) draft = store_test_make_draft ("sam@example.test", "Edit me");
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(PostageDraft) back = NULL;
  g_autoptr(GError) error = NULL;

  draft->cc = g_strdup ("cc@example.test");
  draft->reply_to = g_strdup ("replies@example.test");
  draft->body = (g_free (draft->body), g_strdup ("line one\n\n  indented\ttab \\ back\n"));
  entry = postage_outbox_add (fixture->outbox, draft, &error);
  g_assert_no_error (error);
  back = postage_outbox_load_draft (fixture->outbox, entry->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->account_id, ==, draft->account_id);
  g_assert_cmpstr (back->from_name, ==, draft->from_name);
  g_assert_cmpstr (back->from_address, ==, draft->from_address);
  g_assert_cmpstr (back->to, ==, draft->to);
  g_assert_cmpstr (back->cc, ==, draft->cc);
  g_assert_cmpstr (back->bcc, ==, draft->bcc);
  g_assert_cmpstr (back->reply_to, ==, draft->reply_to);
  g_assert_cmpstr (back->subject, ==, draft->subject);
  g_assert_cmpstr (back->body, ==, draft->body);
}

/* Bad input is refused before anything reaches the disk. */
static void
test_add_refused (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(PostageDraft) draft = store_test_make_draft ("sam@example.test", "Nobody");
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = outbox_path (fixture, NULL);
  g_autofree char *tmp = outbox_path (fixture, "tmp", NULL);
  g_autofree char *new_dir = outbox_path (fixture, "new", NULL);

  g_clear_pointer (&draft->to, g_free);
  g_clear_pointer (&draft->bcc, g_free);
  entry = postage_outbox_add (fixture->outbox, draft, &error);
  g_assert_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_NO_RECIPIENTS);
  g_assert_null (entry);
  g_assert_cmpuint (store_test_count_dir (tmp), ==, 0);
  g_assert_cmpuint (store_test_count_dir (new_dir), ==, 0);
  /* only tmp, new, cur */
  g_assert_cmpuint (store_test_count_dir (dir), <=, 3);
  g_clear_error (&error);
  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 0);
}

static void
test_claim_failed_transient (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) added = add (fixture, "Later");
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(PostageOutboxClaim) held = claim (fixture, added->id, 1000);
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_outbox_claim_failed (held, TRUE, 1060, 451, "451 4.3.0 Not now",
                                              &error));
  g_assert_no_error (error);
  g_clear_pointer (&held, postage_outbox_claim_release);

  entry = get (fixture, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
  g_assert_cmpint (entry->next_try, ==, 1060);
  g_assert_cmpuint (entry->last_code, ==, 451);
  g_assert_cmpstr (entry->last_error, ==, "451 4.3.0 Not now");
  g_assert_cmpuint (entry->attempts, ==, 1);
  g_assert_cmpint (entry->last_attempt, ==, 1000);
  g_assert_false (entry->busy);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  /* Still claimable: the next try counts on. */
  held = claim (fixture, added->id, 1060);
  g_assert_cmpuint (postage_outbox_claim_get_entry (held)->attempts, ==, 2);
  g_assert_cmpint (postage_outbox_claim_get_entry (held)->last_attempt, ==, 1060);
}

static void
test_claim_failed_permanent (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) added = add (fixture, "Never");
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(PostageOutboxClaim) held = claim (fixture, added->id, 1000);
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_outbox_claim_failed (held, FALSE, 9999, 550,
                                              "550 5.1.1 No such user", &error));
  g_assert_no_error (error);
  g_clear_pointer (&held, postage_outbox_claim_release);

  entry = get (fixture, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_FAILED);
  g_assert_cmpint (entry->next_try, ==, 0);
  g_assert_cmpuint (entry->last_code, ==, 550);
  g_assert_cmpstr (entry->last_error, ==, "550 5.1.1 No such user");
  g_clear_pointer (&entry, postage_outbox_entry_free);

  /* Never again by itself … */
  assert_claim_fails (fixture, added->id, POSTAGE_OUTBOX_ERROR_STATE);
  entry = get (fixture, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_FAILED);
  g_assert_cmpuint (entry->attempts, ==, 1);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  /* … only when the person says "Retry now". */
  g_assert_true (postage_outbox_requeue (fixture->outbox, added->id, &error));
  g_assert_no_error (error);
  entry = get (fixture, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
  g_assert_cmpint (entry->next_try, ==, 0);
  held = claim (fixture, added->id, 2000);
  g_assert_cmpuint (postage_outbox_claim_get_entry (held)->attempts, ==, 2);
}

static void
test_claim_unknown (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) added = add (fixture, "Maybe");
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(PostageOutboxClaim) held = claim (fixture, added->id, 1000);
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_outbox_claim_commit (held, &error));
  g_assert_true (postage_outbox_claim_unknown (held, "The connection broke after the end.",
                                               &error));
  g_assert_no_error (error);
  g_clear_pointer (&held, postage_outbox_claim_release);

  entry = get (fixture, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_UNCERTAIN);
  g_assert_cmpstr (entry->last_error, ==, "The connection broke after the end.");
  g_assert_false (entry->reported);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  /* Never claimable by itself: it may have been delivered. */
  assert_claim_fails (fixture, added->id, POSTAGE_OUTBOX_ERROR_STATE);
  assert_claim_fails (fixture, added->id, POSTAGE_OUTBOX_ERROR_STATE);
  entry = get (fixture, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_UNCERTAIN);
  g_assert_cmpuint (entry->attempts, ==, 1);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  /* Told once. */
  g_assert_true (postage_outbox_mark_reported (fixture->outbox, added->id, &error));
  g_assert_no_error (error);
  entry = get (fixture, added->id);
  g_assert_true (entry->reported);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_UNCERTAIN);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  /* "Send anyway". */
  g_assert_true (postage_outbox_requeue (fixture->outbox, added->id, &error));
  g_assert_no_error (error);
  entry = get (fixture, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
  g_assert_false (entry->reported);
  held = claim (fixture, added->id, 2000);
  g_assert_cmpint (postage_outbox_claim_get_entry (held)->state, ==,
                   POSTAGE_OUTBOX_STATE_SENDING);
}

/* A process that dies after the "." (its claim dropped at UNCERTAIN) leaves
 * a message that may have gone: never QUEUED again by itself. */
static void
test_release_after_commit (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) added = add (fixture, "Gone?");
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(PostageOutboxClaim) held = claim (fixture, added->id, 1000);
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_outbox_claim_commit (held, &error));
  g_assert_no_error (error);
  g_clear_pointer (&held, postage_outbox_claim_release);
  entry = get (fixture, added->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_UNCERTAIN);
  g_assert_nonnull (strstr (entry->last_error, "may or may not have been delivered"));
  assert_claim_fails (fixture, added->id, POSTAGE_OUTBOX_ERROR_STATE);
}

static void
test_release_while_sending (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) added = add (fixture, "Interrupted");
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(PostageOutboxClaim) held = claim (fixture, added->id, 1000);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *sidecar = sidecar_path (fixture, added->id);
  g_autofree char *state = NULL;

  g_clear_pointer (&held, postage_outbox_claim_release);

  /* SENDING on disk, but nobody holds its lock: interrupted before the ".". */
  g_assert_true (g_key_file_load_from_file (keyfile, sidecar, G_KEY_FILE_NONE, &error));
  state = g_key_file_get_string (keyfile, "Status", "state", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (state, ==, "sending");

  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  entry = postage_outbox_entry_copy (g_ptr_array_index (entries, 0));
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
  g_assert_false (entry->busy);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  held = claim (fixture, added->id, 2000);
  g_assert_cmpuint (postage_outbox_claim_get_entry (held)->attempts, ==, 2);
}

/* A second claim in this process, then a lock held by another process. */
static void
test_busy (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) added = add (fixture, "Busy");
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(PostageOutboxClaim) held = claim (fixture, added->id, 1000);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) holder = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *lock_name = g_strconcat (added->id, ".lock", NULL);
  g_autofree char *lock = outbox_path (fixture, lock_name, NULL);
  g_autofree char *line = NULL;

  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  entry = postage_outbox_entry_copy (g_ptr_array_index (entries, 0));
  g_assert_true (entry->busy);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_SENDING);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  assert_claim_fails (fixture, added->id, POSTAGE_OUTBOX_ERROR_BUSY);
  g_assert_false (postage_outbox_remove (fixture->outbox, added->id, &error));
  g_assert_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_false (postage_outbox_requeue (fixture->outbox, added->id, &error));
  g_assert_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_BUSY);
  g_clear_error (&error);

  /* The claim failing to be taken twice changed nothing on disk. */
  entry = get (fixture, added->id);
  g_assert_cmpuint (entry->attempts, ==, 1);
  g_clear_pointer (&entry, postage_outbox_entry_free);
  g_clear_pointer (&held, postage_outbox_claim_release);

  /* Another process (flock(1) from util-linux, without forking, so that
   * the process killed below is the one holding it) holds the lock: BUSY
   * too, until that process dies and the kernel drops the lock with it. */
  {
    const char *argv[] = { "flock", "--exclusive", "--no-fork", lock,
                           "sh", "-c", "echo locked; exec cat", NULL };

    holder = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                      G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  }
  if (holder == NULL)
    {
      g_autofree char *reason = g_strdup_printf ("flock(1) cannot be run: %s", error->message);

      g_test_skip (reason);
      return;
    }
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (holder));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line, ==, "locked");

  assert_claim_fails (fixture, added->id, POSTAGE_OUTBOX_ERROR_BUSY);
  entry = get (fixture, added->id);
  g_assert_true (entry->busy);
  g_clear_pointer (&entry, postage_outbox_entry_free);

  g_subprocess_force_exit (holder);
  g_assert_true (g_subprocess_wait (holder, NULL, &error));
  g_assert_no_error (error);

  entry = get (fixture, added->id);
  g_assert_false (entry->busy);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
  held = claim (fixture, added->id, 2000);
  g_assert_cmpuint (postage_outbox_claim_get_entry (held)->attempts, ==, 2);
}

/* BROKEN: listed (without hiding the others), never claimable, told once,
 * and removable with everything it left behind. */
static void
assert_broken (Fixture    *fixture,
               const char *id,
               const char *healthy_id,
               const char *reason)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(GError) error = NULL;
  gboolean found_healthy = FALSE;

  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 2);
  for (guint i = 0; i < entries->len; i++)
    {
      PostageOutboxEntry *listed = g_ptr_array_index (entries, i);

      if (g_strcmp0 (listed->id, healthy_id) == 0)
        {
          g_assert_cmpint (listed->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
          found_healthy = TRUE;
          continue;
        }
      g_assert_cmpstr (listed->id, ==, id);
      g_assert_cmpint (listed->state, ==, POSTAGE_OUTBOX_STATE_BROKEN);
      g_assert_null (listed->outgoing);
      g_assert_nonnull (listed->last_error);
      g_assert_nonnull (strstr (listed->last_error, reason));
      g_assert_false (listed->reported);
    }
  g_assert_true (found_healthy);

  assert_claim_fails (fixture, id, POSTAGE_OUTBOX_ERROR_CORRUPT);
  g_assert_false (postage_outbox_requeue (fixture->outbox, id, &error));
  g_assert_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_STATE);
  g_clear_error (&error);

  /* Reported once: the mark survives listing again. */
  g_assert_true (postage_outbox_mark_reported (fixture->outbox, id, &error));
  g_assert_no_error (error);
  for (guint round = 0; round < 2; round++)
    {
      entry = get (fixture, id);
      g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_BROKEN);
      g_assert_true (entry->reported);
      g_assert_nonnull (strstr (entry->last_error, reason));
      g_clear_pointer (&entry, postage_outbox_entry_free);
    }

  g_assert_true (postage_outbox_remove (fixture->outbox, id, &error));
  g_assert_no_error (error);
  g_clear_pointer (&entries, g_ptr_array_unref);
  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpstr (((PostageOutboxEntry *) g_ptr_array_index (entries, 0))->id, ==, healthy_id);
}

/* Only the healthy entry's files are left in outbox/. */
static void
assert_only (Fixture    *fixture,
             const char *healthy_id)
{
  g_autofree char *dir = outbox_path (fixture, NULL);
  g_autofree char *new_dir = outbox_path (fixture, "new", NULL);
  g_autofree char *sidecar = g_strconcat (healthy_id, ".envelope", NULL);
  g_autofree char *lock = g_strconcat (healthy_id, ".lock", NULL);
  g_auto(GStrv) names = store_test_list_dir (dir);
  g_auto(GStrv) messages = store_test_list_dir (new_dir);

  for (guint i = 0; names[i] != NULL; i++)
    g_assert_true (g_strv_contains ((const char * const[]) { "tmp", "new", "cur", sidecar, lock,
                                                            NULL }, names[i]));
  g_assert_cmpuint (g_strv_length (messages), ==, 1);
  g_assert_cmpstr (messages[0], ==, healthy_id);
}

static void
test_broken_message_missing (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) healthy = add (fixture, "Fine");
  g_autoptr(PostageOutboxEntry) victim = add (fixture, "Vanishing");

  g_assert_cmpint (g_unlink (victim->outgoing->path), ==, 0);
  assert_broken (fixture, victim->id, healthy->id, "message file is missing");
  assert_only (fixture, healthy->id);
}

/* The same found by a claim rather than a list: a claim holds the entry's
 * lock itself, which must not pass for someone else adding the message. */
static void
test_broken_claim_first (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) healthy = add (fixture, "Fine");
  g_autoptr(PostageOutboxEntry) victim = add (fixture, "Vanishing");

  g_assert_cmpint (g_unlink (victim->outgoing->path), ==, 0);
  assert_claim_fails (fixture, victim->id, POSTAGE_OUTBOX_ERROR_CORRUPT);
  assert_broken (fixture, victim->id, healthy->id, "message file is missing");
  assert_only (fixture, healthy->id);
}

static void
test_broken_sidecar_corrupt (Fixture       *fixture,
                             gconstpointer  data)
{
  static const char garbage[] = "[Status]\nstate=exploded\n\x01\x02 not a keyfile\n";
  g_autoptr(PostageOutboxEntry) healthy = add (fixture, "Fine");
  g_autoptr(PostageOutboxEntry) victim = add (fixture, "Scrambled");
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sidecar = sidecar_path (fixture, victim->id);
  g_autofree char *aside = g_strconcat (sidecar, ".corrupt", NULL);
  g_autofree char *kept = NULL;
  gsize length;

  store_test_write (sidecar, garbage, sizeof garbage - 1);
  /* The unreadable original is kept aside, byte for byte. */
  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  kept = store_test_read (aside, &length);
  g_assert_cmpmem (kept, length, garbage, sizeof garbage - 1);
  assert_broken (fixture, victim->id, healthy->id, "could not be read");
  g_assert_false (g_file_test (aside, G_FILE_TEST_EXISTS));
  assert_only (fixture, healthy->id);
}

/* A sidecar that reads as a keyfile but lacks what an entry needs. */
static void
test_broken_sidecar_incomplete (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) healthy = add (fixture, "Fine");
  g_autoptr(PostageOutboxEntry) victim = add (fixture, "Half");
  g_autofree char *sidecar = sidecar_path (fixture, victim->id);

  store_test_write (sidecar, "[Status]\nstate=queued\nattempts=zero\n", -1);
  assert_broken (fixture, victim->id, healthy->id, "could not be read");
  assert_only (fixture, healthy->id);
}

static void
test_broken_orphan_message (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) healthy = add (fixture, "Fine");
  g_autofree char *orphan = outbox_path (fixture, "new", "1700000000.deadbeef", NULL);

  store_test_write (orphan, "Subject: who am I for?\r\n\r\nNo envelope.\r\n", -1);
  assert_broken (fixture, "1700000000.deadbeef", healthy->id, "envelope");
  assert_only (fixture, healthy->id);
}

static void
send_one (Fixture    *fixture,
          const char *id)
{
  g_autoptr(PostageOutboxClaim) held = claim (fixture, id, 1000);
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_outbox_claim_commit (held, &error));
  g_assert_true (postage_outbox_claim_sent (held, "250 OK", &error));
  g_assert_no_error (error);
}

static void
test_prune_sent (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) old = add (fixture, "Old");
  g_autoptr(PostageOutboxEntry) recent = add (fixture, "Recent");
  g_autoptr(GKeyFile) record = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *old_path = postage_outbox_dup_sent_path (fixture->outbox, old->id);
  g_autofree char *recent_path = postage_outbox_dup_sent_path (fixture->outbox, recent->id);
  g_autofree char *old_name = g_strconcat (old->id, ".envelope", NULL);
  g_autofree char *old_sidecar = g_build_filename (fixture->root, "sent", old_name, NULL);
  g_autofree char *data_text = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 week = 7 * 24 * 3600;
  gsize length;

  /* Nothing sent yet: nothing to do, and no error for the missing folder. */
  g_assert_cmpuint (postage_outbox_prune_sent (fixture->outbox, now, week, &error), ==, 0);
  g_assert_no_error (error);

  send_one (fixture, old->id);
  send_one (fixture, recent->id);
  /* Sent ten days ago: the record's time is what prune_sent reads. */
  record = postage_outbox_load_sent (fixture->outbox, old->id, &error);
  g_assert_no_error (error);
  g_key_file_set_int64 (record, "Sent", "time", now - 10 * 24 * 3600);
  data_text = g_key_file_to_data (record, &length, NULL);
  store_test_write (old_sidecar, data_text, length);

  g_assert_cmpuint (postage_outbox_prune_sent (fixture->outbox, now, week, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_false (g_file_test (old_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (old_sidecar, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (recent_path, G_FILE_TEST_EXISTS));
  g_clear_pointer (&record, g_key_file_unref);
  record = postage_outbox_load_sent (fixture->outbox, recent->id, &error);
  g_assert_no_error (error);

  /* Young enough: kept; a week and a minute later: gone too. */
  g_assert_cmpuint (postage_outbox_prune_sent (fixture->outbox, now + 60, week, &error), ==, 0);
  g_assert_true (g_file_test (recent_path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (postage_outbox_prune_sent (fixture->outbox, now + week + 3600, week, &error),
                    ==, 1);
  g_assert_no_error (error);
  g_assert_false (g_file_test (recent_path, G_FILE_TEST_EXISTS));
}

static void
test_remove (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) keep = add (fixture, "Keep");
  g_autoptr(PostageOutboxEntry) drop = add (fixture, "Drop");
  g_autoptr(PostageOutboxClaim) held = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  /* A lock file exists once an entry has been claimed. */
  held = claim (fixture, drop->id, 1000);
  g_assert_true (postage_outbox_claim_failed (held, FALSE, 0, 554, "554 no", &error));
  g_clear_pointer (&held, postage_outbox_claim_release);

  g_assert_true (postage_outbox_remove (fixture->outbox, drop->id, &error));
  g_assert_no_error (error);
  assert_only (fixture, keep->id);
  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);

  g_assert_false (postage_outbox_remove (fixture->outbox, drop->id, &error));
  g_assert_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* A name, never a path. */
  g_assert_false (postage_outbox_id_is_valid ("../new/x"));
  g_assert_false (postage_outbox_id_is_valid (".hidden"));
  g_assert_false (postage_outbox_id_is_valid (""));
  g_assert_false (postage_outbox_remove (fixture->outbox, "../outbox", &error));
  g_assert_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (g_file_test (fixture->root, G_FILE_TEST_IS_DIR));

  /* A well-formed ID that names nothing leaves no lock file behind. */
  g_assert_false (postage_outbox_requeue (fixture->outbox, "1700000000.000000_deadbeef", &error));
  g_assert_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (postage_outbox_claim (fixture->outbox, "1700000000.000000_deadbeef", 1000,
                                       &error));
  g_assert_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (postage_outbox_remove (fixture->outbox, "1700000000.000000_deadbeef", &error));
  g_assert_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND);
  assert_only (fixture, keep->id);
}

/* An ID chosen first (the composer links its draft to it) is the entry's;
 * one taken, in the outbox or in sent/, or no ID at all, is refused. */
static void
test_add_as (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(PostageDraft) draft = store_test_make_draft ("sam@example.test", "Chosen");
  g_autofree char *id = postage_outbox_new_id ();
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(PostageOutboxEntry) again = NULL;
  g_autoptr(GError) error = NULL;
  PostageOutboxClaim *held;

  g_assert_true (postage_outbox_id_is_valid (id));
  entry = postage_outbox_add_as (fixture->outbox, id, draft, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (entry->id, ==, id);
  assert_only (fixture, id);

  again = postage_outbox_add_as (fixture->outbox, id, draft, &error);
  g_assert_null (again);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  assert_only (fixture, id);

  held = claim (fixture, id, 1000);
  g_assert_true (postage_outbox_claim_commit (held, &error));
  g_assert_true (postage_outbox_claim_sent (held, "250 ok", &error));
  postage_outbox_claim_release (held);
  g_assert_null (postage_outbox_add_as (fixture->outbox, id, draft, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);

  g_assert_null (postage_outbox_add_as (fixture->outbox, "../x", draft, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
}

/* A message too big for what the process may write (RLIMIT_FSIZE, which
 * needs no privilege): add fails, leaves nothing, and damages nothing. */
static void
test_add_write_fails (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(PostageOutboxEntry) earlier = add (fixture, "Earlier");
  g_autoptr(PostageDraft) draft = store_test_make_draft ("sam@example.test", "Too big");
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sidecar = sidecar_path (fixture, earlier->id);
  g_autofree char *sidecar_before = NULL;
  g_autofree char *message_before = NULL;
  g_autofree char *sidecar_after = NULL;
  g_autofree char *message_after = NULL;
  g_autofree char *tmp = outbox_path (fixture, "tmp", NULL);
  struct rlimit saved, small;
  gsize sidecar_length, message_length, length;
  void (*old_handler) (int);

  sidecar_before = store_test_read (sidecar, &sidecar_length);
  message_before = store_test_read (earlier->outgoing->path, &message_length);
  g_free (draft->body);
  draft->body = g_strnfill (256 * 1024, 'x');

  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  small = saved;
  small.rlim_cur = 16 * 1024;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
  entry = postage_outbox_add (fixture->outbox, draft, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, old_handler);

  g_assert_null (entry);
  g_assert_error (error, G_IO_ERROR, (int) g_io_error_from_errno (EFBIG));
  g_assert_cmpuint (store_test_count_dir (tmp), ==, 0);
  assert_only (fixture, earlier->id);
  entries = postage_outbox_list (fixture->outbox, NULL);
  g_assert_cmpuint (entries->len, ==, 1);
  sidecar_after = store_test_read (sidecar, &length);
  g_assert_cmpmem (sidecar_after, length, sidecar_before, sidecar_length);
  message_after = store_test_read (earlier->outgoing->path, &length);
  g_assert_cmpmem (message_after, length, message_before, message_length);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  postage_mail_init ();

#define ADD(path, func) \
  g_test_add ("/postage/outbox/" path, Fixture, NULL, fixture_setup, func, fixture_tear)

  g_test_add_func ("/postage/outbox/retry-delay", test_retry_delay);
  ADD ("add-list-claim-sent", test_add_list_claim_sent);
  ADD ("sent-leftover", test_sent_leftover);
  ADD ("load-draft", test_load_draft);
  ADD ("add-refused", test_add_refused);
  ADD ("add-as", test_add_as);
  ADD ("add-write-fails", test_add_write_fails);
  ADD ("claim-failed-transient", test_claim_failed_transient);
  ADD ("claim-failed-permanent", test_claim_failed_permanent);
  ADD ("claim-unknown", test_claim_unknown);
  ADD ("release-after-commit", test_release_after_commit);
  ADD ("release-while-sending", test_release_while_sending);
  ADD ("busy", test_busy);
  ADD ("broken/message-missing", test_broken_message_missing);
  ADD ("broken/claim-first", test_broken_claim_first);
  ADD ("broken/sidecar-corrupt", test_broken_sidecar_corrupt);
  ADD ("broken/sidecar-incomplete", test_broken_sidecar_incomplete);
  ADD ("broken/orphan-message", test_broken_orphan_message);
  ADD ("prune-sent", test_prune_sent);
  ADD ("remove", test_remove);

#undef ADD

  return g_test_run ();
}
