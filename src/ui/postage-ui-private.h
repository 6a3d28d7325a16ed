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

/* What an async callback needs to find its widget again and to tell whether
 * the step or job it was started for is still the current one: a weak
 * reference to the widget, and a reference to the cancellable that the widget
 * held, when the guard was made, in the GCancellable * member at
 * @cancellable_offset (G_STRUCT_OFFSET) of its instance struct. That member
 * must not be NULL then. */
typedef struct _PostageUiGuard PostageUiGuard;

PostageUiGuard *_postage_ui_guard_new  (gpointer        widget,
                                        glong           cancellable_offset);
/* A GDestroyNotify. */
void            _postage_ui_guard_free (gpointer        guard);
/* A new reference to the widget when it is alive and its member still holds
 * the very cancellable the guard took (compared by identity); else NULL. */
gpointer        _postage_ui_guard_dup  (PostageUiGuard *guard);

G_END_DECLS
