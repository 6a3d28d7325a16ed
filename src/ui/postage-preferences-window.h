/* postage-preferences-window.h — the accounts: add, edit, remove, the default
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "accounts/postage-account-store.h"
#include "postage-session-passwords.h"

G_BEGIN_DECLS

#define POSTAGE_TYPE_PREFERENCES_WINDOW (postage_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (PostagePreferencesWindow, postage_preferences_window, POSTAGE,
                      PREFERENCES_WINDOW, AdwPreferencesWindow)

/* Main thread only. @passwords may be NULL (a private, empty set). */
PostagePreferencesWindow *postage_preferences_window_new (GtkWindow               *parent,
                                                          PostageAccountStore     *store,
                                                          PostageSessionPasswords *passwords);

G_END_DECLS
