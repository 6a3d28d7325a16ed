/* postage-account-wizard.h — from an email address to a verified, saved account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "accounts/postage-account-store.h"
#include "postage-session-passwords.h"

G_BEGIN_DECLS

#define POSTAGE_TYPE_ACCOUNT_WIZARD (postage_account_wizard_get_type ())
G_DECLARE_FINAL_TYPE (PostageAccountWizard, postage_account_wizard, POSTAGE, ACCOUNT_WIZARD,
                      AdwWindow)

/* Each emits "account-saved" (PostageAccount *) once the server accepted the
 * sign-in and the settings and password are kept, then closes. Nothing is
 * saved before a verification succeeded. Main thread only. */

/* A new account: address → settings → password → verify. When an msmtp
 * configuration has accounts the store lacks, the first page also offers to
 * import them (settings only; passwords come from the keyring or are entered
 * and verified through the password page). Such a password emits
 * "account-saved" from this wizard too, which stays open until Done. */
PostageAccountWizard *postage_account_wizard_new              (GtkWindow               *parent,
                                                               PostageAccountStore     *store,
                                                               PostageSessionPasswords *passwords);
/* Edit @account of @store; verifies again when the server, port, user name,
 * security, certificate or password change. */
PostageAccountWizard *postage_account_wizard_new_for_edit     (GtkWindow               *parent,
                                                               PostageAccountStore     *store,
                                                               PostageSessionPasswords *passwords,
                                                               PostageAccount          *account);
/* Only a new password for @account: password → verify. */
PostageAccountWizard *postage_account_wizard_new_for_password (GtkWindow               *parent,
                                                               PostageAccountStore     *store,
                                                               PostageSessionPasswords *passwords,
                                                               PostageAccount          *account);

G_END_DECLS
