/* postage-account-dialog.h — add an SMTP account: settings to a keyfile, password to the keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "accounts/postage-account-store.h"

G_BEGIN_DECLS

#define POSTAGE_TYPE_ACCOUNT_DIALOG (postage_account_dialog_get_type ())
G_DECLARE_FINAL_TYPE (PostageAccountDialog, postage_account_dialog, POSTAGE, ACCOUNT_DIALOG,
                      AdwWindow)

/* Emits "account-saved" (PostageAccount *) once the password is in the keyring
 * and the account in @store, then closes. */
PostageAccountDialog *postage_account_dialog_new (GtkWindow           *parent,
                                                  PostageAccountStore *store);

G_END_DECLS
