/* postage-application.h — the application: accounts, actions, accelerators
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "accounts/postage-account-store.h"
#include "store/postage-draft-store.h"
#include "store/postage-outbox-queue.h"
#include "postage-session-passwords.h"

G_BEGIN_DECLS

#define POSTAGE_TYPE_APPLICATION (postage_application_get_type ())
G_DECLARE_FINAL_TYPE (PostageApplication, postage_application, POSTAGE, APPLICATION, AdwApplication)

PostageApplication  *postage_application_new               (void);
PostageAccountStore *postage_application_get_account_store (PostageApplication *self);
/* Passwords typed for this session only; wiped when the application quits. */
PostageSessionPasswords *postage_application_get_session_passwords (PostageApplication *self);
/* The one outbox queue of the program, sending by itself (retries, the
 * network coming back); made at startup. */
PostageOutboxQueue  *postage_application_get_outbox_queue  (PostageApplication *self);
PostageDraftStore   *postage_application_get_draft_store   (PostageApplication *self);

G_END_DECLS
