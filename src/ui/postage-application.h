/* postage-application.h — the application: accounts, actions, accelerators
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "accounts/postage-account-store.h"
#include "postage-session-passwords.h"

G_BEGIN_DECLS

#define POSTAGE_TYPE_APPLICATION (postage_application_get_type ())
G_DECLARE_FINAL_TYPE (PostageApplication, postage_application, POSTAGE, APPLICATION, AdwApplication)

PostageApplication  *postage_application_new               (void);
PostageAccountStore *postage_application_get_account_store (PostageApplication *self);
/* Passwords typed for this session only; wiped when the application quits. */
PostageSessionPasswords *postage_application_get_session_passwords (PostageApplication *self);

G_END_DECLS
