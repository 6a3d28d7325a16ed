/* postage-msmtp-import.h — accounts from an msmtp configuration
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads ~/.msmtprc or $XDG_CONFIG_HOME/msmtp/config: host, port, tls,
 * tls_starttls, user, from, tls_trust_file, tls_fingerprint, with `defaults`
 * and `account NAME : PARENT` inheritance. Never runs a passwordeval command
 * and never copies a plaintext `password` (the person is told instead): the
 * password is found in the keyring where msmtp's documented secret-tool
 * entry exists (postage_secret_store_lookup_sync already looks there).
 * Pure parsing, any thread.
 */
#pragma once

#include "postage-account.h"

G_BEGIN_DECLS

typedef struct {
  PostageAccount *account;       /* id = msmtp's account name */
  gboolean        had_password;  /* a plaintext `password` line was skipped */
  gboolean        had_passwordeval; /* a `passwordeval` line was skipped */
  char           *problem;       /* only from _read_full(): NULL, or why this account
                                  * cannot be imported (translated); @account then
                                  * holds what was read and does not validate */
} PostageMsmtpAccount;

/* The first of $XDG_CONFIG_HOME/msmtp/config and ~/.msmtprc that exists, or NULL. */
char      *postage_msmtp_find_config   (void);
/* An array of PostageMsmtpAccount* (free with g_ptr_array_unref), in file
 * order; accounts that would not validate are skipped with a g_message.
 * Errors: G_FILE_ERROR; POSTAGE_ACCOUNT_ERROR_INVALID for a malformed line
 * (the message names the file and line). */
GPtrArray *postage_msmtp_import_read   (const char  *path,
                                        GError     **error);
/* The same, but every account is returned, those that cannot be imported
 * with ->problem set, so a person can be told why. An `account default :
 * OTHER` line that only names the default is not an account. */
GPtrArray *postage_msmtp_import_read_full (const char  *path,
                                           GError     **error);

G_END_DECLS
