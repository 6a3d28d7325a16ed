/* test-full-disk.c — drafts and the outbox on a disk that fills up
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run by tests/lib/with-small-disk.sh, which mounts a small tmpfs in a
 * private mount namespace and names it in $POSTAGE_TEST_SMALL_DISK: a real
 * file system that really runs out of space. Whatever fails there must
 * fail with G_IO_ERROR_NO_SPACE and a sentence that says so, and must
 * leave everything saved before exactly as it was.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store/postage-draft-store.h"
#include "store/postage-outbox.h"
#include "store-test-util.h"

/* Larger than this and it is not the small disk the wrapper makes. */
#define MAX_DISK (8 * 1024 * 1024)

static const char *small_disk;

typedef struct {
  char              *root;
  char              *filler;
  char              *outside;  /* a folder on the ordinary disk */
  PostageDraftStore *drafts;
  PostageOutbox     *outbox;
} Fixture;

static gboolean
skip_without_disk (void)
{
  struct statvfs info;

  if (small_disk == NULL)
    {
      g_test_skip ("needs a small file system: run through tests/lib/with-small-disk.sh "
                   "(meson test store-full-disk)");
      return TRUE;
    }
  g_assert_cmpint (statvfs (small_disk, &info), ==, 0);
  g_assert_cmpuint ((guint64) info.f_blocks * info.f_frsize, <=, MAX_DISK);
  return FALSE;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  if (small_disk == NULL)
    return;
  fixture->root = store_test_make_dir (small_disk);
  fixture->filler = g_build_filename (small_disk, "filler", NULL);
  fixture->outside = store_test_make_dir (NULL);
  fixture->drafts = postage_draft_store_new (fixture->root);
  fixture->outbox = postage_outbox_new (fixture->root);
}

static void
fixture_tear (Fixture       *fixture,
              gconstpointer  data)
{
  if (fixture->root == NULL)
    return;
  g_clear_object (&fixture->drafts);
  g_clear_pointer (&fixture->outbox, postage_outbox_unref);
  g_unlink (fixture->filler);
  g_assert_true (store_test_rm_rf (fixture->root));
  g_assert_true (store_test_rm_rf (fixture->outside));
  g_clear_pointer (&fixture->root, g_free);
  g_clear_pointer (&fixture->filler, g_free);
  g_clear_pointer (&fixture->outside, g_free);
}

static guint64
free_bytes (void)
{
  struct statvfs info;

  g_assert_cmpint (statvfs (small_disk, &info), ==, 0);
  return (guint64) info.f_bavail * info.f_frsize;
}

/* Appends to the filler until the disk has at most @leave bytes free (0:
 * until a write of a single byte fails with ENOSPC). */
static void
fill (Fixture *fixture,
      guint64  leave)
{
  static char chunk[4096];
  int fd = g_open (fixture->filler, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  while (free_bytes () > leave)
    {
      gsize size = MIN (sizeof chunk, free_bytes () - leave);
      ssize_t n = write (fd, chunk, leave == 0 ? sizeof chunk : size);

      if (n < 0)
        {
          g_assert_cmpint (errno, ==, ENOSPC);
          break;
        }
    }
  if (leave == 0)
    {
      while (write (fd, chunk, 1) == 1)
        ;
      g_assert_cmpint (errno, ==, ENOSPC);
    }
  g_assert_cmpint (fsync (fd), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);
}

static void
assert_no_space (const GError *error)
{
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  /* A sentence that says what happened, not just a code. */
  g_test_message ("refused as expected: %s", error->message);
  g_assert_nonnull (strstr (error->message, g_strerror (ENOSPC)));
  /* and says what to do next */
  g_assert_nonnull (strstr (error->message, "Free some disk space"));
}

typedef struct {
  char  *path;
  char  *bytes;
  gsize  length;
} Kept;

static void
keep (Kept       *kept,
      const char *path)
{
  kept->path = g_strdup (path);
  kept->bytes = store_test_read (path, &kept->length);
}

static void
assert_kept (const Kept *kept)
{
  g_autofree char *now = NULL;
  gsize length;

  now = store_test_read (kept->path, &length);
  g_assert_cmpmem (now, length, kept->bytes, kept->length);
}

static void
kept_clear (Kept *kept)
{
  g_clear_pointer (&kept->path, g_free);
  g_clear_pointer (&kept->bytes, g_free);
}

static char *
sidecar_path (Fixture    *fixture,
              const char *id)
{
  g_autofree char *name = g_strconcat (id, ".envelope", NULL);

  return g_build_filename (fixture->root, "outbox", name, NULL);
}

/* The earlier draft and outbox entry are intact, and nothing else is there. */
static void
assert_earlier_intact (Fixture                  *fixture,
                       const Kept               *draft_file,
                       const Kept               *message,
                       const Kept               *sidecar,
                       const PostageOutboxEntry *earlier)
{
  g_autoptr(PostageDraft) draft = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;
  g_autofree char *tmp = g_build_filename (fixture->root, "outbox", "tmp", NULL);
  g_autofree char *new_dir = g_build_filename (fixture->root, "outbox", "new", NULL);
  g_autofree char *drafts_dir = g_build_filename (fixture->root, "drafts", NULL);
  PostageOutboxEntry *entry;

  assert_kept (draft_file);
  assert_kept (message);
  assert_kept (sidecar);

  ids = postage_draft_store_list (fixture->drafts);
  g_assert_cmpstrv (ids, ((const char * const[]) { "earlier", NULL }));
  g_assert_cmpuint (store_test_count_dir (drafts_dir), ==, 1);
  draft = postage_draft_store_load (fixture->drafts, "earlier", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (draft->subject, ==, "Earlier draft");

  entries = postage_outbox_list (fixture->outbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  entry = g_ptr_array_index (entries, 0);
  g_assert_cmpstr (entry->id, ==, earlier->id);
  g_assert_cmpint (entry->state, ==, POSTAGE_OUTBOX_STATE_QUEUED);
  g_assert_cmpuint (entry->attempts, ==, 0);
  g_assert_cmpuint (store_test_count_dir (tmp), ==, 0);
  g_assert_cmpuint (store_test_count_dir (new_dir), ==, 1);
}

static void
test_full_disk (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(PostageDraft) earlier_draft = NULL;
  g_autoptr(PostageDraft) changed = NULL;
  g_autoptr(PostageDraft) fresh = NULL;
  g_autoptr(PostageDraft) with_attachment = NULL;
  g_autoptr(PostageOutboxEntry) earlier = NULL;
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(PostageOutboxClaim) claim = NULL;
  g_autoptr(PostageDraft) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *draft_path = NULL;
  g_autofree char *sidecar = NULL;
  g_autofree char *attachment = NULL;
  g_autofree char *attachment_bytes = NULL;
  Kept draft_file = { 0 }, message = { 0 }, envelope = { 0 };
  guint64 before;

  if (skip_without_disk ())
    return;

  /* What was saved while there was room. */
  earlier_draft = store_test_make_draft ("sam@example.test", "Earlier draft");
  g_assert_true (postage_draft_store_save (fixture->drafts, "earlier", earlier_draft, &error));
  g_assert_no_error (error);
  earlier = postage_outbox_add (fixture->outbox, earlier_draft, &error);
  g_assert_no_error (error);
  draft_path = g_build_filename (fixture->root, "drafts", "earlier.draft", NULL);
  sidecar = sidecar_path (fixture, earlier->id);
  keep (&draft_file, draft_path);
  keep (&message, earlier->outgoing->path);
  keep (&envelope, sidecar);

  changed = store_test_make_draft ("sam@example.test", "Changed, on a full disk");
  fresh = store_test_make_draft ("sam@example.test", "New, on a full disk");

  /* Some room, but not enough: a message with a 192 KiB attachment (base64
   * makes it 256 KiB) runs out half way, and a 64 KiB draft too. */
  attachment = g_build_filename (fixture->outside, "photo.bin", NULL);
  attachment_bytes = g_strnfill (192 * 1024, 'p');
  store_test_write (attachment, attachment_bytes, 192 * 1024);
  with_attachment = store_test_make_draft ("sam@example.test", "Big");
  g_ptr_array_add (with_attachment->attachments, g_strdup (attachment));
  g_free (changed->body);
  changed->body = g_strnfill (64 * 1024, 'c');
  fill (fixture, 32 * 1024);
  before = free_bytes ();
  g_assert_cmpuint (before, <=, 32 * 1024);
  g_assert_cmpuint (before, >, 0);

  entry = postage_outbox_add (fixture->outbox, with_attachment, &error);
  g_assert_null (entry);
  assert_no_space (error);
  g_clear_error (&error);
  g_assert_false (postage_draft_store_save (fixture->drafts, "earlier", changed, &error));
  assert_no_space (error);
  g_clear_error (&error);
  /* The half-written files are gone again: the room is as it was. */
  g_assert_cmpuint (free_bytes (), ==, before);
  assert_earlier_intact (fixture, &draft_file, &message, &envelope, earlier);

  /* No room at all: even a small draft or message cannot be written. */
  fill (fixture, 0);
  g_free (changed->body);
  changed->body = g_strdup ("A short change.\n");
  g_assert_false (postage_draft_store_save (fixture->drafts, "earlier", changed, &error));
  assert_no_space (error);
  g_clear_error (&error);
  g_assert_false (postage_draft_store_save (fixture->drafts, "fresh", fresh, &error));
  assert_no_space (error);
  g_clear_error (&error);
  entry = postage_outbox_add (fixture->outbox, fresh, &error);
  g_assert_null (entry);
  assert_no_space (error);
  g_clear_error (&error);
  /* Changing the earlier entry's status fails too, and leaves it QUEUED. */
  claim = postage_outbox_claim (fixture->outbox, earlier->id, 1000, &error);
  g_assert_null (claim);
  assert_no_space (error);
  g_clear_error (&error);
  g_assert_false (postage_outbox_mark_reported (fixture->outbox, earlier->id, &error));
  assert_no_space (error);
  g_clear_error (&error);
  assert_earlier_intact (fixture, &draft_file, &message, &envelope, earlier);

  /* Room again: everything works, starting from what was kept. */
  g_assert_cmpint (g_unlink (fixture->filler), ==, 0);
  g_assert_true (postage_draft_store_save (fixture->drafts, "earlier", changed, &error));
  g_assert_no_error (error);
  back = postage_draft_store_load (fixture->drafts, "earlier", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->subject, ==, "Changed, on a full disk");
  entry = postage_outbox_add (fixture->outbox, fresh, &error);
  g_assert_no_error (error);
  claim = postage_outbox_claim (fixture->outbox, earlier->id, 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (postage_outbox_claim_get_entry (claim)->attempts, ==, 1);

  kept_clear (&draft_file);
  kept_clear (&message);
  kept_clear (&envelope);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  postage_mail_init ();
  small_disk = g_getenv ("POSTAGE_TEST_SMALL_DISK");

  g_test_add ("/postage/full-disk/drafts-and-outbox", Fixture, NULL, fixture_setup,
              test_full_disk, fixture_tear);

  return g_test_run ();
}
