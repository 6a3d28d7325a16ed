/* postage-secret-store.h — account passwords in the Secret Service (libsecret)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Passwords are kept in the common network-password form (user, server,
 * protocol = "smtp", port) so `secret-tool lookup user U server S protocol smtp`
 * finds them and entries made by secret-tool are found here.
 *
 * The *_sync calls block on D-Bus: call them from a worker thread or the command
 * line, never from the GTK main thread. The *_async calls are for the main thread.
 * Errors: POSTAGE_ACCOUNT_ERROR_NO_KEYRING, POSTAGE_ACCOUNT_ERROR_NO_PASSWORD,
 * G_IO_ERROR_CANCELLED.
 */
#pragma once

#include "postage-account.h"

G_BEGIN_DECLS

gboolean  postage_secret_store_save_sync   (PostageAccount       *account,
                                            const char           *password,
                                            GCancellable         *cancellable,
                                            GError              **error);
void      postage_secret_store_save_async  (PostageAccount       *account,
                                            const char           *password,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
gboolean  postage_secret_store_save_finish (GAsyncResult         *result,
                                            GError              **error);

/* The returned password must be released with postage_secret_free(). */
char     *postage_secret_store_lookup_sync (const char           *host,
                                            guint16               port,
                                            const char           *user,
                                            GCancellable         *cancellable,
                                            GError              **error);

gboolean  postage_secret_store_clear_sync  (PostageAccount       *account,
                                            GCancellable         *cancellable,
                                            GError              **error);

/* Wipes, then frees. NULL is fine. */
void      postage_secret_free              (char                 *secret);

G_END_DECLS
