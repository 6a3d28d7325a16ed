/* postage-outbox.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Any thread; every function blocks on the disk. Nothing here is shared
 * between threads but the immutable root path: a claim is used by one
 * thread at a time (the queue hands it from the main thread to the SMTP
 * worker's hooks and back, never concurrently). Between processes, the
 * per-entry flock() is the only arbiter.
 */
#define G_LOG_DOMAIN "postage-outbox"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/postage-address.h"
#include "postage-outbox.h"
#include "postage-store-private.h"

#define ENVELOPE_SUFFIX ".envelope"
#define LOCK_SUFFIX     ".lock"
#define CORRUPT_SUFFIX  ".corrupt"
/* Maildir "info" of a message that has been seen (RFC-less, cr.yp.to/proto/maildir.html). */
#define SENT_INFO       ":2,S"

#define G_ENVELOPE "Envelope"
#define G_STATUS   "Status"
#define G_DRAFT    "Draft"
#define G_SENT     "Sent"

struct _PostageOutbox
{
  gatomicrefcount ref_count;
  char           *root;
  char           *outbox_dir;
  char           *sent_dir;
};

struct _PostageOutboxClaim
{
  PostageOutbox      *outbox;
  char               *id;
  int                 lock_fd;
  GKeyFile           *keyfile;
  PostageOutboxEntry *entry;
};

G_DEFINE_QUARK (postage-outbox-error-quark, postage_outbox_error)

static const char *const state_names[] = {
  [POSTAGE_OUTBOX_STATE_QUEUED] = "queued",
  [POSTAGE_OUTBOX_STATE_SENDING] = "sending",
  [POSTAGE_OUTBOX_STATE_UNCERTAIN] = "uncertain",
  [POSTAGE_OUTBOX_STATE_FAILED] = "failed",
  [POSTAGE_OUTBOX_STATE_BROKEN] = "broken",
};

const char *
postage_outbox_state_to_string (PostageOutboxState state)
{
  g_return_val_if_fail (state < G_N_ELEMENTS (state_names), "broken");
  return state_names[state];
}

static gboolean
state_from_string (const char         *text,
                   PostageOutboxState *state)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (text, state_names[i]) == 0)
      {
        *state = i;
        return TRUE;
      }
  return FALSE;
}

gint64
postage_outbox_retry_delay (guint attempts)
{
  static const gint64 minutes[] = { 1, 5, 15, 60 };

  return 60 * minutes[MIN (MAX (attempts, 1), G_N_ELEMENTS (minutes)) - 1];
}

PostageOutboxEntry *
postage_outbox_entry_copy (const PostageOutboxEntry *entry)
{
  PostageOutboxEntry *copy;

  g_return_val_if_fail (entry != NULL, NULL);

  copy = g_memdup2 (entry, sizeof *entry);
  copy->id = g_strdup (entry->id);
  copy->account_id = g_strdup (entry->account_id);
  copy->outgoing = entry->outgoing != NULL ? postage_outgoing_copy (entry->outgoing) : NULL;
  copy->subject = g_strdup (entry->subject);
  copy->last_error = g_strdup (entry->last_error);
  return copy;
}

void
postage_outbox_entry_free (PostageOutboxEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->id);
  g_free (entry->account_id);
  g_clear_pointer (&entry->outgoing, postage_outgoing_free);
  g_free (entry->subject);
  g_free (entry->last_error);
  g_free (entry);
}

PostageOutbox *
postage_outbox_new (const char *root)
{
  PostageOutbox *outbox = g_new0 (PostageOutbox, 1);

  g_atomic_ref_count_init (&outbox->ref_count);
  outbox->root = root != NULL ? g_strdup (root)
                              : g_build_filename (g_get_user_data_dir (), "postage", NULL);
  outbox->outbox_dir = g_build_filename (outbox->root, "outbox", NULL);
  outbox->sent_dir = g_build_filename (outbox->root, "sent", NULL);
  return outbox;
}

PostageOutbox *
postage_outbox_ref (PostageOutbox *outbox)
{
  g_return_val_if_fail (outbox != NULL, NULL);
  g_atomic_ref_count_inc (&outbox->ref_count);
  return outbox;
}

void
postage_outbox_unref (PostageOutbox *outbox)
{
  if (outbox == NULL || !g_atomic_ref_count_dec (&outbox->ref_count))
    return;
  g_free (outbox->root);
  g_free (outbox->outbox_dir);
  g_free (outbox->sent_dir);
  g_free (outbox);
}

const char *
postage_outbox_get_root (PostageOutbox *outbox)
{
  g_return_val_if_fail (outbox != NULL, NULL);
  return outbox->root;
}

gboolean
postage_outbox_id_is_valid (const char *id)
{
  if (id == NULL || *id == '\0' || *id == '.' || strlen (id) > 64)
    return FALSE;
  for (const char *p = id; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

/* Paths */

static char *
envelope_path (PostageOutbox *outbox,
               const char    *dir,
               const char    *id)
{
  g_autofree char *name = g_strconcat (id, ENVELOPE_SUFFIX, NULL);

  return g_build_filename (dir, name, NULL);
}

static char *
message_path (PostageOutbox *outbox,
              const char    *id)
{
  return g_build_filename (outbox->outbox_dir, "new", id, NULL);
}

static char *
lock_path (PostageOutbox *outbox,
           const char    *id)
{
  g_autofree char *name = g_strconcat (id, LOCK_SUFFIX, NULL);

  return g_build_filename (outbox->outbox_dir, name, NULL);
}

char *
postage_outbox_dup_sent_path (PostageOutbox *outbox,
                              const char    *id)
{
  g_autofree char *name = g_strconcat (id, SENT_INFO, NULL);

  g_return_val_if_fail (outbox != NULL, NULL);
  return g_build_filename (outbox->sent_dir, "cur", name, NULL);
}

/* Disk primitives */

static gboolean
make_maildir (const char  *dir,
              GError     **error)
{
  static const char *const subdirs[] = { "tmp", "new", "cur" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (dir, subdirs[i], NULL);

      if (g_mkdir_with_parents (path, 0700) != 0)
        return _postage_store_set_errno (error, errno, path);
    }
  return TRUE;
}

/* The entry's lock, held by whoever sends it. A lock file may be unlinked by
 * a remover between our open() and flock(): then it is not the lock any
 * more, so check that the path still names what we locked. */
static int
lock_entry (PostageOutbox  *outbox,
            const char     *id,
            GError        **error)
{
  g_autofree char *path = lock_path (outbox, id);

  for (;;)
    {
      struct stat held, named;
      int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

      if (fd < 0)
        {
          _postage_store_set_errno (error, errno, path);
          return -1;
        }
      if (flock (fd, LOCK_EX | LOCK_NB) != 0)
        {
          int saved = errno;

          close (fd);
          if (saved == EWOULDBLOCK)
            g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_BUSY,
                         _("This message is being sent right now."));
          else
            _postage_store_set_errno (error, saved, path);
          return -1;
        }
      if (fstat (fd, &held) == 0 && g_stat (path, (GStatBuf *) &named) == 0 &&
          held.st_ino == named.st_ino && held.st_dev == named.st_dev)
        return fd;
      close (fd);
    }
}

/* lock_entry() for an entry that should exist already: a well-formed ID
 * that names nothing must not leave a lock file behind. */
static int
lock_existing_entry (PostageOutbox  *outbox,
                     const char     *id,
                     GError        **error)
{
  g_autofree char *sidecar = envelope_path (outbox, outbox->outbox_dir, id);
  g_autofree char *message = message_path (outbox, id);

  if (!g_file_test (sidecar, G_FILE_TEST_EXISTS) && !g_file_test (message, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND,
                   _("There is no message %s in the outbox."), id);
      return -1;
    }
  return lock_entry (outbox, id, error);
}

static gboolean
is_locked (PostageOutbox *outbox,
           const char    *id)
{
  g_autofree char *path = lock_path (outbox, id);
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  gboolean locked;

  if (fd < 0)
    return FALSE;
  locked = flock (fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close (fd);
  return locked;
}

/* Entries */

static void
envelope_to_keyfile (GKeyFile              *keyfile,
                     const char            *account_id,
                     const char            *subject,
                     const PostageOutgoing *outgoing,
                     gint64                 created)
{
  if (account_id != NULL)
    g_key_file_set_string (keyfile, G_ENVELOPE, "account", account_id);
  if (subject != NULL)
    g_key_file_set_string (keyfile, G_ENVELOPE, "subject", subject);
  g_key_file_set_string (keyfile, G_ENVELOPE, "sender", outgoing->sender);
  g_key_file_set_string_list (keyfile, G_ENVELOPE, "recipients",
                              (const char * const *) outgoing->recipients->pdata,
                              outgoing->recipients->len);
  if (outgoing->message_id != NULL)
    g_key_file_set_string (keyfile, G_ENVELOPE, "message-id", outgoing->message_id);
  g_key_file_set_uint64 (keyfile, G_ENVELOPE, "size", outgoing->size);
  g_key_file_set_boolean (keyfile, G_ENVELOPE, "eight-bit", outgoing->eight_bit);
  g_key_file_set_int64 (keyfile, G_ENVELOPE, "created", created);
}

static void
status_to_keyfile (GKeyFile                 *keyfile,
                   const PostageOutboxEntry *entry)
{
  g_key_file_set_string (keyfile, G_STATUS, "state", postage_outbox_state_to_string (entry->state));
  g_key_file_set_integer (keyfile, G_STATUS, "attempts", entry->attempts);
  g_key_file_set_int64 (keyfile, G_STATUS, "next-try", entry->next_try);
  g_key_file_set_int64 (keyfile, G_STATUS, "last-attempt", entry->last_attempt);
  if (entry->last_error != NULL)
    g_key_file_set_string (keyfile, G_STATUS, "last-error", entry->last_error);
  else
    g_key_file_remove_key (keyfile, G_STATUS, "last-error", NULL);
  g_key_file_set_integer (keyfile, G_STATUS, "last-code", entry->last_code);
  g_key_file_set_boolean (keyfile, G_STATUS, "reported", entry->reported);
}

/* A missing optional key reads as its zero; a malformed one is corruption. */
static gboolean
read_optional (GError  **local_error,
               GError  **error)
{
  if (*local_error == NULL ||
      g_error_matches (*local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
    {
      g_clear_error (local_error);
      return TRUE;
    }
  g_propagate_error (error, g_steal_pointer (local_error));
  return FALSE;
}

static PostageOutboxEntry *
entry_from_keyfile (PostageOutbox  *outbox,
                    const char     *id,
                    GKeyFile       *keyfile,
                    GError        **error)
{
  g_autoptr(PostageOutboxEntry) entry = g_new0 (PostageOutboxEntry, 1);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *state = NULL;
  g_auto(GStrv) recipients = NULL;
  PostageOutgoing *outgoing;

  entry->id = g_strdup (id);
  state = g_key_file_get_string (keyfile, G_STATUS, "state", error);
  if (state == NULL)
    return NULL;
  if (!state_from_string (state, &entry->state))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   _("unknown state “%s”"), state);
      return NULL;
    }
  entry->account_id = g_key_file_get_string (keyfile, G_ENVELOPE, "account", NULL);
  entry->subject = g_key_file_get_string (keyfile, G_ENVELOPE, "subject", NULL);
  entry->last_error = g_key_file_get_string (keyfile, G_STATUS, "last-error", NULL);
  entry->created = g_key_file_get_int64 (keyfile, G_ENVELOPE, "created", &local_error);
  if (!read_optional (&local_error, error))
    return NULL;
  /* A hand-edited negative count is no count at all. */
  entry->attempts = MAX (0, g_key_file_get_integer (keyfile, G_STATUS, "attempts", &local_error));
  if (!read_optional (&local_error, error))
    return NULL;
  entry->next_try = g_key_file_get_int64 (keyfile, G_STATUS, "next-try", &local_error);
  if (!read_optional (&local_error, error))
    return NULL;
  entry->last_attempt = g_key_file_get_int64 (keyfile, G_STATUS, "last-attempt", &local_error);
  if (!read_optional (&local_error, error))
    return NULL;
  entry->last_code = g_key_file_get_integer (keyfile, G_STATUS, "last-code", &local_error);
  if (!read_optional (&local_error, error))
    return NULL;
  entry->reported = g_key_file_get_boolean (keyfile, G_STATUS, "reported", &local_error);
  if (!read_optional (&local_error, error))
    return NULL;
  if (entry->state == POSTAGE_OUTBOX_STATE_BROKEN)
    return g_steal_pointer (&entry);

  outgoing = entry->outgoing = g_new0 (PostageOutgoing, 1);
  outgoing->recipients = g_ptr_array_new_with_free_func (g_free);
  outgoing->sender = g_key_file_get_string (keyfile, G_ENVELOPE, "sender", error);
  if (outgoing->sender == NULL)
    return NULL;
  recipients = g_key_file_get_string_list (keyfile, G_ENVELOPE, "recipients", NULL, error);
  if (recipients == NULL || recipients[0] == NULL)
    {
      if (recipients != NULL)
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, _("no recipients"));
      return NULL;
    }
  /* They go into MAIL FROM and RCPT TO as they are: a hand-edited
   * sidecar must not be able to add SMTP commands or parameters. */
  if (!postage_address_is_valid (outgoing->sender))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   _("the sender is not a valid address"));
      return NULL;
    }
  for (guint i = 0; recipients[i] != NULL; i++)
    {
      if (!postage_address_is_valid (recipients[i]))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       _("recipient %u is not a valid address"), i + 1);
          return NULL;
        }
      g_ptr_array_add (outgoing->recipients, g_strdup (recipients[i]));
    }
  outgoing->message_id = g_key_file_get_string (keyfile, G_ENVELOPE, "message-id", NULL);
  outgoing->size = g_key_file_get_uint64 (keyfile, G_ENVELOPE, "size", error);
  if (outgoing->size == 0)
    {
      if (error == NULL || *error == NULL)
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, _("no size"));
      return NULL;
    }
  outgoing->eight_bit = g_key_file_get_boolean (keyfile, G_ENVELOPE, "eight-bit", &local_error);
  if (!read_optional (&local_error, error))
    return NULL;
  outgoing->path = message_path (outbox, id);
  return g_steal_pointer (&entry);
}


/* A sidecar that cannot be read, or a message without a sidecar, becomes a
 * BROKEN entry with a fresh sidecar of its own, so that it is listed and
 * reported once like any other; the unreadable original is kept aside. */
static PostageOutboxEntry *
make_broken (PostageOutbox *outbox,
             const char    *id,
             const char    *reason)
{
  g_autofree char *path = envelope_path (outbox, outbox->outbox_dir, id);
  g_autofree char *aside = g_strconcat (path, CORRUPT_SUFFIX, NULL);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  PostageOutboxEntry *entry = g_new0 (PostageOutboxEntry, 1);

  entry->id = g_strdup (id);
  entry->state = POSTAGE_OUTBOX_STATE_BROKEN;
  entry->last_error = g_strdup (reason);
  entry->created = g_get_real_time () / G_USEC_PER_SEC;
  if (g_file_test (path, G_FILE_TEST_EXISTS) && g_rename (path, aside) != 0)
    g_message ("Could not keep %s aside: %s", path, g_strerror (errno));
  g_key_file_set_int64 (keyfile, G_ENVELOPE, "created", entry->created);
  status_to_keyfile (keyfile, entry);
  if (!_postage_store_write_keyfile (keyfile, path, &error))
    g_message ("Could not mark %s as broken: %s", id, error->message);
  return entry;
}

/* NULL (and no error) when @id turns out to have been sent: a crash between
 * moving it to sent/ and deleting its sidecar leaves just that sidecar.
 * @locked_here: the caller holds @id's lock itself, so a held lock says
 * nothing about anyone else sending or adding it. */
static PostageOutboxEntry *
load_entry (PostageOutbox  *outbox,
            const char     *id,
            gboolean        locked_here,
            GError        **error)
{
  g_autofree char *path = envelope_path (outbox, outbox->outbox_dir, id);
  g_autofree char *message = message_path (outbox, id);
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GError) local_error = NULL;
  PostageOutboxEntry *entry;
  GStatBuf info;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (!g_file_test (message, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND,
                       _("There is no message %s in the outbox."), id);
          return NULL;
        }
      return make_broken (outbox, id, _("Its envelope (who it goes to) is missing, so it "
                                        "cannot be sent."));
    }
  if ((keyfile = _postage_store_load_keyfile (path, &local_error)) == NULL ||
      (entry = entry_from_keyfile (outbox, id, keyfile, &local_error)) == NULL)
    {
      g_autofree char *reason = g_strdup_printf (_("Its envelope could not be read (%s), so it "
                                                   "cannot be sent."), local_error->message);

      return make_broken (outbox, id, reason);
    }
  entry->busy = !locked_here && is_locked (outbox, id);
  if (entry->state == POSTAGE_OUTBOX_STATE_BROKEN)
    return entry;
  /* Postage only ever writes a regular file there: a link was put in its
   * place by someone else, and sending would mail whatever it points at. */
  if (g_lstat (message, &info) == 0 && S_ISLNK (info.st_mode))
    {
      postage_outbox_entry_free (entry);
      return make_broken (outbox, id, _("Its message file was replaced by a link to another "
                                        "file, so it is not sent."));
    }
  if (!g_file_test (message, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *sent = envelope_path (outbox, outbox->sent_dir, id);

      /* Moved to sent/: what is left is a crash's leftover, or the
       * sender's own work in progress while it still holds the lock. */
      if (g_file_test (sent, G_FILE_TEST_EXISTS))
        {
          if (!entry->busy)
            {
              g_autofree char *lock = lock_path (outbox, id);

              g_unlink (path);
              g_unlink (lock);
            }
          postage_outbox_entry_free (entry);
          return NULL;
        }
      /* Being added or removed by someone else right now. */
      if (entry->busy)
        return entry;
      postage_outbox_entry_free (entry);
      return make_broken (outbox, id, _("Its message file is missing, so it cannot be sent."));
    }
  /* Left SENDING by a process that died before the final "." (its lock is
   * gone with it): the server kept nothing, so it simply waits again. */
  if (entry->state == POSTAGE_OUTBOX_STATE_SENDING && !entry->busy)
    entry->state = POSTAGE_OUTBOX_STATE_QUEUED;
  return entry;
}

PostageOutboxEntry *
postage_outbox_add_with (PostageOutbox          *outbox,
                         const char             *wanted_id,
                         const char             *account_id,
                         const char             *subject,
                         const PostageDraft     *draft,
                         PostageOutboxWriteFunc  write,
                         gpointer                user_data,
                         GError                **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(PostageOutgoing) outgoing = NULL;
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autofree char *id = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *sidecar = NULL;
  g_autofree char *final = NULL;
  g_autofree char *new_dir = NULL;
  g_autoptr(GError) sync_error = NULL;
  int fd = -1;
  int lock;

  g_return_val_if_fail (outbox != NULL, NULL);
  g_return_val_if_fail (write != NULL, NULL);

  if (!make_maildir (outbox->outbox_dir, error))
    return NULL;
  if (wanted_id != NULL)
    {
      g_autofree char *taken = envelope_path (outbox, outbox->outbox_dir, wanted_id);
      g_autofree char *sent = envelope_path (outbox, outbox->sent_dir, wanted_id);

      if (!postage_outbox_id_is_valid (wanted_id))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
                       _("“%s” is not an outbox ID."), wanted_id);
          return NULL;
        }
      if (g_file_test (taken, G_FILE_TEST_EXISTS) || g_file_test (sent, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                       _("The outbox already has a message %s."), wanted_id);
          return NULL;
        }
    }
  while (fd < 0)
    {
      g_free (id);
      g_free (tmp);
      id = wanted_id != NULL ? g_strdup (wanted_id) : _postage_store_new_id ();
      tmp = g_build_filename (outbox->outbox_dir, "tmp", id, NULL);
      fd = g_open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0 && (errno != EEXIST || wanted_id != NULL))
        {
          if (errno == EEXIST)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                         _("The outbox already has a message %s."), wanted_id);
          else
            _postage_store_set_errno (error, errno, tmp);
          return NULL;
        }
    }
  outgoing = write (fd, user_data, error);
  if (outgoing == NULL || fsync (fd) != 0)
    {
      if (outgoing != NULL)
        _postage_store_set_errno (error, errno, tmp);
      close (fd);
      g_unlink (tmp);
      return NULL;
    }
  if (close (fd) != 0)
    {
      _postage_store_set_errno (error, errno, tmp);
      g_unlink (tmp);
      return NULL;
    }

  entry = g_new0 (PostageOutboxEntry, 1);
  entry->id = g_strdup (id);
  entry->account_id = g_strdup (account_id);
  entry->subject = g_strdup (subject);
  entry->state = POSTAGE_OUTBOX_STATE_QUEUED;
  entry->created = g_get_real_time () / G_USEC_PER_SEC;
  envelope_to_keyfile (keyfile, account_id, subject, outgoing, entry->created);
  status_to_keyfile (keyfile, entry);
  if (draft != NULL)
    postage_draft_to_keyfile (draft, keyfile, G_DRAFT);

  /* The sidecar before the message enters new/: a message in new/ always
   * has its envelope, and a crash before the rename leaves only tmp/. */
  sidecar = envelope_path (outbox, outbox->outbox_dir, id);
  final = message_path (outbox, id);
  new_dir = g_build_filename (outbox->outbox_dir, "new", NULL);
  /* Held until the message is in new/, so that a list() meanwhile sees an
   * entry being added rather than one whose message is missing. */
  if ((lock = lock_entry (outbox, id, error)) < 0)
    {
      g_unlink (tmp);
      return NULL;
    }
  if (!_postage_store_write_keyfile (keyfile, sidecar, error) ||
      (g_rename (tmp, final) != 0 && !_postage_store_set_errno (error, errno, final)))
    {
      g_unlink (tmp);
      g_unlink (sidecar);
      close (lock);
      return NULL;
    }
  close (lock);
  /* The entry exists now: failing here would invite a second add of the
   * same message, so a folder that cannot be synced is only logged. */
  if (!_postage_store_sync_dir (new_dir, &sync_error))
    g_message ("Could not sync %s: %s", new_dir, sync_error->message);
  outgoing->path = g_steal_pointer (&final);
  entry->outgoing = g_steal_pointer (&outgoing);
  return g_steal_pointer (&entry);
}

static PostageOutgoing *
write_draft (int        fd,
             gpointer   user_data,
             GError   **error)
{
  return postage_message_write (user_data, fd, error);
}

PostageOutboxEntry *
postage_outbox_add (PostageOutbox       *outbox,
                    const PostageDraft  *draft,
                    GError             **error)
{
  g_return_val_if_fail (outbox != NULL, NULL);
  g_return_val_if_fail (draft != NULL, NULL);

  return postage_outbox_add_with (outbox, NULL, draft->account_id, draft->subject, draft,
                                  write_draft, (gpointer) draft, error);
}

char *
postage_outbox_new_id (void)
{
  return _postage_store_new_id ();
}

PostageOutboxEntry *
postage_outbox_add_as (PostageOutbox       *outbox,
                       const char          *id,
                       const PostageDraft  *draft,
                       GError             **error)
{
  g_return_val_if_fail (outbox != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (draft != NULL, NULL);

  return postage_outbox_add_with (outbox, id, draft->account_id, draft->subject, draft,
                                  write_draft, (gpointer) draft, error);
}

static gint
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const PostageOutboxEntry *x = *(PostageOutboxEntry **) a;
  const PostageOutboxEntry *y = *(PostageOutboxEntry **) b;

  if (x->created != y->created)
    return x->created < y->created ? -1 : 1;
  return strcmp (x->id, y->id);
}

GPtrArray *
postage_outbox_list (PostageOutbox  *outbox,
                     GError        **error)
{
  g_autoptr(GPtrArray) entries =
    g_ptr_array_new_with_free_func ((GDestroyNotify) postage_outbox_entry_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *new_dir = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_return_val_if_fail (outbox != NULL, NULL);

  dir = g_dir_open (outbox->outbox_dir, 0, &local_error);
  if (dir == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&entries);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *id = NULL;
      PostageOutboxEntry *entry;

      if (!g_str_has_suffix (name, ENVELOPE_SUFFIX))
        continue;
      id = g_strndup (name, strlen (name) - strlen (ENVELOPE_SUFFIX));
      if (!postage_outbox_id_is_valid (id))
        continue;
      if ((entry = load_entry (outbox, id, FALSE, NULL)) != NULL)
        g_ptr_array_add (entries, entry);
      g_hash_table_add (seen, g_steal_pointer (&id));
    }
  /* Messages that lost their sidecar. */
  new_dir = g_build_filename (outbox->outbox_dir, "new", NULL);
  g_clear_pointer (&dir, g_dir_close);
  if ((dir = g_dir_open (new_dir, 0, NULL)) != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        PostageOutboxEntry *entry;

        if (g_hash_table_contains (seen, name) || !postage_outbox_id_is_valid (name))
          continue;
        if ((entry = load_entry (outbox, name, FALSE, NULL)) != NULL)
          g_ptr_array_add (entries, entry);
      }
  g_ptr_array_sort (entries, compare_entries);
  return g_steal_pointer (&entries);
}

static gboolean
check_id (const char  *id,
          GError     **error)
{
  if (postage_outbox_id_is_valid (id))
    return TRUE;
  g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND,
               _("There is no message %s in the outbox."), id);
  return FALSE;
}

PostageOutboxEntry *
postage_outbox_get (PostageOutbox  *outbox,
                    const char     *id,
                    GError        **error)
{
  PostageOutboxEntry *entry;

  g_return_val_if_fail (outbox != NULL, NULL);

  if (!check_id (id, error))
    return NULL;
  entry = load_entry (outbox, id, FALSE, error);
  if (entry == NULL && error != NULL && *error == NULL)
    g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND,
                 _("The message %s has been sent already."), id);
  return entry;
}

PostageDraft *
postage_outbox_load_draft (PostageOutbox  *outbox,
                           const char     *id,
                           GError        **error)
{
  g_autofree char *path = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autoptr(GError) local_error = NULL;
  PostageDraft *draft;

  g_return_val_if_fail (outbox != NULL, NULL);

  if (!check_id (id, error))
    return NULL;
  path = envelope_path (outbox, outbox->outbox_dir, id);
  if ((keyfile = _postage_store_load_keyfile (path, error)) == NULL)
    return NULL;
  if ((draft = postage_draft_from_keyfile (keyfile, G_DRAFT, &local_error)) == NULL)
    g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_CORRUPT,
                 _("What was written for %s is not kept in the outbox (it came from a "
                   "program, not the composer)."), id);
  return draft;
}

/* Changes @id's sidecar under its lock; @change returns FALSE with @error
 * set to refuse. */
typedef gboolean (*ChangeFunc) (PostageOutboxEntry *entry,
                                GError            **error);

static gboolean
change_entry (PostageOutbox  *outbox,
              const char     *id,
              ChangeFunc      change,
              GError        **error)
{
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autoptr(GKeyFile) keyfile = NULL;
  g_autofree char *path = NULL;
  gboolean ok;
  int fd;

  if (!check_id (id, error) || (fd = lock_existing_entry (outbox, id, error)) < 0)
    return FALSE;
  path = envelope_path (outbox, outbox->outbox_dir, id);
  ok = (entry = load_entry (outbox, id, TRUE, error)) != NULL &&
       (keyfile = _postage_store_load_keyfile (path, error)) != NULL &&
       change (entry, error);
  if (ok)
    {
      status_to_keyfile (keyfile, entry);
      ok = _postage_store_write_keyfile (keyfile, path, error);
    }
  close (fd);
  return ok;
}

static gboolean
requeue_change (PostageOutboxEntry  *entry,
                GError             **error)
{
  if (entry->state == POSTAGE_OUTBOX_STATE_BROKEN)
    {
      g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_STATE,
                   _("This message is damaged and cannot be sent; remove it."));
      return FALSE;
    }
  entry->state = POSTAGE_OUTBOX_STATE_QUEUED;
  entry->next_try = 0;
  entry->reported = FALSE;
  return TRUE;
}

gboolean
postage_outbox_requeue (PostageOutbox  *outbox,
                        const char     *id,
                        GError        **error)
{
  g_return_val_if_fail (outbox != NULL, FALSE);
  return change_entry (outbox, id, requeue_change, error);
}

static gboolean
reported_change (PostageOutboxEntry  *entry,
                 GError             **error)
{
  entry->reported = TRUE;
  return TRUE;
}

gboolean
postage_outbox_mark_reported (PostageOutbox  *outbox,
                              const char     *id,
                              GError        **error)
{
  g_return_val_if_fail (outbox != NULL, FALSE);
  return change_entry (outbox, id, reported_change, error);
}

static gboolean
unlink_if_there (const char  *path,
                 GError     **error)
{
  if (g_unlink (path) != 0 && errno != ENOENT)
    return _postage_store_set_errno (error, errno, path);
  return TRUE;
}

gboolean
postage_outbox_remove (PostageOutbox  *outbox,
                       const char     *id,
                       GError        **error)
{
  g_autofree char *message = NULL;
  g_autofree char *sidecar = NULL;
  g_autofree char *corrupt = NULL;
  g_autofree char *lock = NULL;
  gboolean ok;
  int fd;

  g_return_val_if_fail (outbox != NULL, FALSE);

  if (!check_id (id, error))
    return FALSE;
  message = message_path (outbox, id);
  sidecar = envelope_path (outbox, outbox->outbox_dir, id);
  if ((fd = lock_existing_entry (outbox, id, error)) < 0)
    return FALSE;
  corrupt = g_strconcat (sidecar, CORRUPT_SUFFIX, NULL);
  lock = lock_path (outbox, id);
  /* The message first: a sidecar left alone by a crash here lists as
   * BROKEN ("its message file is missing") and can be removed again. */
  ok = unlink_if_there (message, error) && unlink_if_there (sidecar, error) &&
       unlink_if_there (corrupt, error) && unlink_if_there (lock, error);
  close (fd);
  return ok;
}

/* Claims */

PostageOutboxClaim *
postage_outbox_claim (PostageOutbox  *outbox,
                      const char     *id,
                      gint64          now,
                      GError        **error)
{
  g_autoptr(PostageOutboxClaim) claim = NULL;
  g_autofree char *path = NULL;
  int fd;

  g_return_val_if_fail (outbox != NULL, NULL);

  if (!check_id (id, error) || (fd = lock_existing_entry (outbox, id, error)) < 0)
    return NULL;
  claim = g_new0 (PostageOutboxClaim, 1);
  claim->outbox = postage_outbox_ref (outbox);
  claim->id = g_strdup (id);
  claim->lock_fd = fd;
  path = envelope_path (outbox, outbox->outbox_dir, id);
  if ((claim->entry = load_entry (outbox, id, TRUE, error)) == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND,
                     _("The message %s has been sent already."), id);
      return NULL;
    }
  if (claim->entry->state == POSTAGE_OUTBOX_STATE_BROKEN)
    {
      g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_CORRUPT, "%s",
                   claim->entry->last_error != NULL ? claim->entry->last_error : "");
      return NULL;
    }
  if (claim->entry->state != POSTAGE_OUTBOX_STATE_QUEUED)
    {
      g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_STATE,
                   _("This message is not waiting to be sent (it is %s)."),
                   postage_outbox_state_to_string (claim->entry->state));
      return NULL;
    }
  if ((claim->keyfile = _postage_store_load_keyfile (path, error)) == NULL)
    return NULL;
  claim->entry->state = POSTAGE_OUTBOX_STATE_SENDING;
  claim->entry->attempts++;
  claim->entry->last_attempt = now;
  claim->entry->busy = TRUE;
  status_to_keyfile (claim->keyfile, claim->entry);
  if (!_postage_store_write_keyfile (claim->keyfile, path, error))
    return NULL;
  return g_steal_pointer (&claim);
}

const PostageOutboxEntry *
postage_outbox_claim_get_entry (PostageOutboxClaim *claim)
{
  g_return_val_if_fail (claim != NULL, NULL);
  return claim->entry;
}

static gboolean
claim_write (PostageOutboxClaim  *claim,
             GError             **error)
{
  g_autofree char *path = envelope_path (claim->outbox, claim->outbox->outbox_dir, claim->id);

  status_to_keyfile (claim->keyfile, claim->entry);
  return _postage_store_write_keyfile (claim->keyfile, path, error);
}

static gboolean
claim_check (PostageOutboxClaim  *claim,
             GError             **error)
{
  if (claim->keyfile != NULL)
    return TRUE;
  g_set_error (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_STATE,
               _("The message %s has been sent already."), claim->id);
  return FALSE;
}

gboolean
postage_outbox_claim_commit (PostageOutboxClaim  *claim,
                             GError             **error)
{
  g_return_val_if_fail (claim != NULL, FALSE);

  if (!claim_check (claim, error))
    return FALSE;
  claim->entry->state = POSTAGE_OUTBOX_STATE_UNCERTAIN;
  /* What it says if this process dies before the verdict arrives. */
  g_free (claim->entry->last_error);
  claim->entry->last_error =
    g_strdup (_("Postage stopped while the server was confirming this message. It may or may "
                "not have been delivered: check with a recipient before sending it again."));
  claim->entry->last_code = 0;
  claim->entry->reported = FALSE;
  return claim_write (claim, error);
}

gboolean
postage_outbox_claim_sent (PostageOutboxClaim  *claim,
                           const char          *reply,
                           GError             **error)
{
  PostageOutbox *outbox;
  g_autoptr(GKeyFile) record = g_key_file_new ();
  g_autofree char *sent_sidecar = NULL;
  g_autofree char *sent_message = NULL;
  g_autofree char *sent_cur = NULL;
  g_autofree char *message = NULL;
  g_autofree char *sidecar = NULL;
  g_autofree char *lock = NULL;
  g_auto(GStrv) keys = NULL;

  g_return_val_if_fail (claim != NULL, FALSE);

  if (!claim_check (claim, error))
    return FALSE;
  outbox = claim->outbox;
  if (!make_maildir (outbox->sent_dir, error))
    return FALSE;
  /* The record first, then the message: a crash in between leaves the
   * message in the outbox, UNCERTAIN ("may have been sent"), never QUEUED. */
  keys = g_key_file_get_keys (claim->keyfile, G_ENVELOPE, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autofree char *value = g_key_file_get_value (claim->keyfile, G_ENVELOPE, keys[i], NULL);

      g_key_file_set_value (record, G_ENVELOPE, keys[i], value);
    }
  g_key_file_set_string (record, G_SENT, "reply", reply != NULL ? reply : "");
  g_key_file_set_int64 (record, G_SENT, "time", g_get_real_time () / G_USEC_PER_SEC);
  g_key_file_set_integer (record, G_SENT, "attempts", claim->entry->attempts);
  sent_sidecar = envelope_path (outbox, outbox->sent_dir, claim->id);
  if (!_postage_store_write_keyfile (record, sent_sidecar, error))
    return FALSE;
  message = message_path (outbox, claim->id);
  sent_message = postage_outbox_dup_sent_path (outbox, claim->id);
  if (g_rename (message, sent_message) != 0)
    return _postage_store_set_errno (error, errno, sent_message);
  sent_cur = g_build_filename (outbox->sent_dir, "cur", NULL);
  if (!_postage_store_sync_dir (sent_cur, error))
    return FALSE;
  sidecar = envelope_path (outbox, outbox->outbox_dir, claim->id);
  lock = lock_path (outbox, claim->id);
  g_unlink (sidecar);
  g_unlink (lock);
  g_clear_pointer (&claim->keyfile, g_key_file_unref);
  return TRUE;
}

gboolean
postage_outbox_claim_failed (PostageOutboxClaim  *claim,
                             gboolean             transient,
                             gint64               next_try,
                             guint                code,
                             const char          *message,
                             GError             **error)
{
  g_return_val_if_fail (claim != NULL, FALSE);

  if (!claim_check (claim, error))
    return FALSE;
  claim->entry->state = transient ? POSTAGE_OUTBOX_STATE_QUEUED : POSTAGE_OUTBOX_STATE_FAILED;
  claim->entry->next_try = transient ? next_try : 0;
  g_free (claim->entry->last_error);
  claim->entry->last_error = g_strdup (message);
  claim->entry->last_code = code;
  claim->entry->reported = FALSE;
  return claim_write (claim, error);
}

gboolean
postage_outbox_claim_unknown (PostageOutboxClaim  *claim,
                              const char          *message,
                              GError             **error)
{
  g_return_val_if_fail (claim != NULL, FALSE);

  if (!claim_check (claim, error))
    return FALSE;
  claim->entry->state = POSTAGE_OUTBOX_STATE_UNCERTAIN;
  g_free (claim->entry->last_error);
  claim->entry->last_error = g_strdup (message);
  claim->entry->last_code = 0;
  claim->entry->reported = FALSE;
  return claim_write (claim, error);
}

void
postage_outbox_claim_release (PostageOutboxClaim *claim)
{
  if (claim == NULL)
    return;
  if (claim->lock_fd >= 0)
    close (claim->lock_fd);
  g_clear_pointer (&claim->keyfile, g_key_file_unref);
  g_clear_pointer (&claim->entry, postage_outbox_entry_free);
  postage_outbox_unref (claim->outbox);
  g_free (claim->id);
  g_free (claim);
}

/* Sent copies */

guint
postage_outbox_prune_sent (PostageOutbox  *outbox,
                           gint64          now,
                           gint64          max_age,
                           GError        **error)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *name;
  guint pruned = 0;

  g_return_val_if_fail (outbox != NULL, 0);

  if ((dir = g_dir_open (outbox->sent_dir, 0, &local_error)) == NULL)
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_propagate_error (error, g_steal_pointer (&local_error));
      return 0;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *id = NULL;
      g_autofree char *sidecar = NULL;
      g_autofree char *message = NULL;
      g_autoptr(GKeyFile) keyfile = NULL;
      gint64 time;

      if (!g_str_has_suffix (name, ENVELOPE_SUFFIX))
        continue;
      id = g_strndup (name, strlen (name) - strlen (ENVELOPE_SUFFIX));
      sidecar = envelope_path (outbox, outbox->sent_dir, id);
      if ((keyfile = _postage_store_load_keyfile (sidecar, NULL)) == NULL)
        continue;
      time = g_key_file_get_int64 (keyfile, G_SENT, "time", NULL);
      if (time <= 0 || now - time <= max_age)
        continue;
      message = postage_outbox_dup_sent_path (outbox, id);
      if (unlink_if_there (message, error) && unlink_if_there (sidecar, error))
        pruned++;
    }
  return pruned;
}

GKeyFile *
postage_outbox_load_sent (PostageOutbox  *outbox,
                          const char     *id,
                          GError        **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (outbox != NULL, NULL);

  if (!check_id (id, error))
    return NULL;
  path = envelope_path (outbox, outbox->sent_dir, id);
  return _postage_store_load_keyfile (path, error);
}
