/* postage-account-store.h — the accounts, one keyfile each
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Lives in $XDG_CONFIG_HOME/postage/accounts/<id>.account, written atomically.
 * Main thread only. Never holds a password: see postage-secret-store.h.
 */
#pragma once

#include "postage-account.h"

G_BEGIN_DECLS

#define POSTAGE_TYPE_ACCOUNT_STORE (postage_account_store_get_type ())
G_DECLARE_FINAL_TYPE (PostageAccountStore, postage_account_store, POSTAGE, ACCOUNT_STORE, GObject)

/* A store on the default folder; call _load() to read it. */
PostageAccountStore *postage_account_store_new        (void);
/* Errors: POSTAGE_ACCOUNT_ERROR_IO. Unreadable files are skipped with a g_warning. */
gboolean             postage_account_store_load       (PostageAccountStore  *self,
                                                       GError              **error);
/* A GListModel of PostageAccount, sorted by id. */
GListModel          *postage_account_store_get_model  (PostageAccountStore  *self);
PostageAccount      *postage_account_store_lookup     (PostageAccountStore  *self,
                                                       const char           *id);
/* The account the GUI and `postage send` use when none is named: the only
 * one, or the first by id. NULL when there is none. */
PostageAccount      *postage_account_store_get_default (PostageAccountStore *self);
/* Validates, then adds or replaces. Errors: POSTAGE_ACCOUNT_ERROR_INVALID, _IO. */
gboolean             postage_account_store_save       (PostageAccountStore  *self,
                                                       PostageAccount       *account,
                                                       GError              **error);
/* Records what a session learnt of the server (EHLO SIZE) on the account
 * itself, without replacing it in the model. Errors: _IO. */
gboolean             postage_account_store_remember_size_limit (PostageAccountStore *self,
                                                                const char          *id,
                                                                guint64              limit,
                                                                GError             **error);
/* TRUE when an account other than @except_id signs in as the same user on
 * the same server and port, and so shares @account's keyring entry. */
gboolean             postage_account_store_shares_secret (PostageAccountStore *self,
                                                          PostageAccount      *account,
                                                          const char          *except_id);
/* Errors: POSTAGE_ACCOUNT_ERROR_NOT_FOUND, _IO. Does not touch the keyring. */
gboolean             postage_account_store_remove     (PostageAccountStore  *self,
                                                       const char           *id,
                                                       GError              **error);

G_END_DECLS
