/* postage-ui-private.h — helpers shared by the window side
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "accounts/postage-account.h"

G_BEGIN_DECLS

/* Registers the compiled resources and remembers the calling thread as the UI
 * thread. The first call wins; call it from the main thread before any window. */
void     _postage_ui_init              (void);
gboolean _postage_ui_is_main_thread    (void);

/* The application's settings (io.github.postage.Postage), or NULL with a
 * warning when the schema is not installed. */
GSettings *_postage_settings_new       (void);

/* Removes @account's keyring entry without blocking the main thread: the
 * blocking libsecret call runs on a worker, on a private copy. @callback may
 * be NULL; failures then only go to the debug log. */
void     _postage_secret_clear_async   (PostageAccount      *account,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean _postage_secret_clear_finish  (GAsyncResult        *result,
                                        GError             **error);
#define _postage_secret_clear_in_background(account) \
  _postage_secret_clear_async ((account), NULL, NULL)

/* GTK is only ever touched on the thread that started the UI (STYLE.md §5).
 * Not g_main_context_is_owner(): that is FALSE outside a running loop. */
#define POSTAGE_ASSERT_UI_THREAD() g_assert (_postage_ui_is_main_thread ())

G_END_DECLS
