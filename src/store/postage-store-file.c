/* postage-store-file.c — atomic files for the drafts and the outbox
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "postage-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postage-store-private.h"

char *
_postage_store_new_id (void)
{
  gint64 now = g_get_real_time ();

  /* Seconds, then microseconds, so that entries made in the same second
   * still list in the order they were made; the random part keeps two
   * processes apart. */
  return g_strdup_printf ("%" G_GINT64_FORMAT ".%06d_%08x", now / G_USEC_PER_SEC,
                          (int) (now % G_USEC_PER_SEC), g_random_int ());
}

gboolean
_postage_store_set_errno (GError     **error,
                          int          code,
                          const char  *path)
{
  if (code == ENOSPC || code == EDQUOT)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (code),
                 /* Translators: a file or folder, then the system's reason */
                 _("%s: %s. Free some disk space and try again; nothing saved before was "
                   "changed."), path, g_strerror (code));
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (code),
                 /* Translators: a file or folder, then the system's reason */
                 _("%s: %s"), path, g_strerror (code));
  return FALSE;
}

gboolean
_postage_store_sync_dir (const char  *dir,
                         GError     **error)
{
  int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  int saved;

  if (fd < 0)
    return _postage_store_set_errno (error, errno, dir);
  /* EINVAL: a file system that cannot sync folders (some FUSE ones). */
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      saved = errno;
      close (fd);
      return _postage_store_set_errno (error, saved, dir);
    }
  close (fd);
  return TRUE;
}

gboolean
_postage_store_write_keyfile (GKeyFile    *keyfile,
                              const char  *path,
                              GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *data = NULL;
  gsize length;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    return _postage_store_set_errno (error, errno, dir);
  data = g_key_file_to_data (keyfile, &length, NULL);
  if (!g_file_set_contents_full (path, data, length,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local_error))
    {
      /* GFileError → GIOError, so callers check one domain for a full disk. */
      if (local_error->code == G_FILE_ERROR_NOSPC)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                     _("%s. Free some disk space and try again; nothing saved before was "
                       "changed."), local_error->message);
      else
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, local_error->message);
      return FALSE;
    }
  return _postage_store_sync_dir (dir, error);
}

GKeyFile *
_postage_store_load_keyfile (const char  *path,
                             GError     **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GString) data = g_string_new (NULL);
  struct stat info;
  char buffer[8192];
  ssize_t got;
  int fd;

  /* Opened here rather than by g_key_file_load_from_file(), which would
   * block for ever on a FIFO put in a sidecar's place (and so hang every
   * list, flush and the window's queue) or read /dev/zero until memory
   * runs out: only a regular file is a sidecar. */
  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &info) != 0 || !S_ISREG (info.st_mode))
    {
      close (fd);
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, _("Not a regular file"));
      return NULL;
    }
  while ((got = read (fd, buffer, sizeof buffer)) != 0)
    {
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          int saved = errno;

          close (fd);
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                       g_strerror (saved));
          return NULL;
        }
      g_string_append_len (data, buffer, got);
    }
  close (fd);
  if (!g_key_file_load_from_data (keyfile, data->str, data->len, G_KEY_FILE_KEEP_TRANSLATIONS,
                                  error))
    return NULL;
  return g_steal_pointer (&keyfile);
}
