/* postage-outbox-window.h — what waits to be sent, and what could not be
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "store/postage-outbox-queue.h"

G_BEGIN_DECLS

#define POSTAGE_TYPE_OUTBOX_WINDOW (postage_outbox_window_get_type ())
G_DECLARE_FINAL_TYPE (PostageOutboxWindow, postage_outbox_window, POSTAGE, OUTBOX_WINDOW, AdwWindow)

/* Each entry of @queue's outbox with its state, last error and next try;
 * Retry Now, Edit (through the application's app.edit-outbox) and Delete. */
PostageOutboxWindow *postage_outbox_window_new    (GtkApplication     *application,
                                                   PostageOutboxQueue *queue);
/* Reads the outbox again (it also does whenever the queue says it changed). */
void                 postage_outbox_window_reload (PostageOutboxWindow *self);

G_END_DECLS
