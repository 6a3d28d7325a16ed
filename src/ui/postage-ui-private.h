/* postage-ui-private.h — helpers shared by the window side
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Registers the compiled resources and remembers the calling thread as the UI
 * thread. The first call wins; call it from the main thread before any window. */
void     _postage_ui_init              (void);
gboolean _postage_ui_is_main_thread    (void);

/* GTK is only ever touched on the thread that started the UI (STYLE.md §5).
 * Not g_main_context_is_owner(): that is FALSE outside a running loop. */
#define POSTAGE_ASSERT_UI_THREAD() g_assert (_postage_ui_is_main_thread ())

G_END_DECLS
