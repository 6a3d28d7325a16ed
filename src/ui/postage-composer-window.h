/* postage-composer-window.h — write a message and watch it being sent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "accounts/postage-account-store.h"
#include "postage-session-passwords.h"

G_BEGIN_DECLS

#define POSTAGE_TYPE_COMPOSER_WINDOW (postage_composer_window_get_type ())
G_DECLARE_FINAL_TYPE (PostageComposerWindow, postage_composer_window, POSTAGE, COMPOSER_WINDOW,
                      AdwApplicationWindow)

/* @application may be NULL (tests); @passwords NULL means a private, empty set. */
PostageComposerWindow *postage_composer_window_new            (GtkApplication          *application,
                                                               PostageAccountStore     *store,
                                                               PostageSessionPasswords *passwords);
PostageAccountStore   *postage_composer_window_get_store      (PostageComposerWindow *self);
/* TRUE from Send until the job has finished (property "sending"). */
gboolean               postage_composer_window_get_sending    (PostageComposerWindow *self);
/* Picks the From account by id; FALSE when the store has no such account. */
gboolean               postage_composer_window_select_account (PostageComposerWindow *self,
                                                               const char            *account_id);

G_END_DECLS
