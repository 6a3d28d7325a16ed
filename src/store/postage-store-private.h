/* postage-store-private.h — what the drafts and the outbox share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Any thread; blocking.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* "<unix seconds>.<microseconds>_<8 hex digits>": unique enough for one
 * person's folders, sortable, and short enough to type
 * (`postage outbox remove ID`). */
char     *_postage_store_new_id        (void);

/* Write a temporary file, fsync, rename, fsync the folder (made if
 * missing): a crash or a full disk leaves the old version or the new one,
 * never half of either. Errors: G_IO_ERROR_* (a full disk:
 * G_IO_ERROR_NO_SPACE). */
gboolean  _postage_store_write_keyfile (GKeyFile    *keyfile,
                                        const char  *path,
                                        GError     **error);
/* Reads a keyfile only when @path is a regular file: a FIFO or a device
 * put in its place must never hang or exhaust the reader. */
GKeyFile *_postage_store_load_keyfile  (const char  *path,
                                        GError     **error);
/* A rename or a new file is durable only once its folder is synced. */
gboolean  _postage_store_sync_dir      (const char  *dir,
                                        GError     **error);
/* G_IO_ERROR from errno, with the path and the system's reason. */
gboolean  _postage_store_set_errno     (GError     **error,
                                        int          code,
                                        const char  *path);

G_END_DECLS
