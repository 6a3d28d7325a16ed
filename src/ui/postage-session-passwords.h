/* postage-session-passwords.h — passwords kept for this session only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * When no Secret Service is running, or the keyring stays locked, the person
 * may type a password that lives in this process only: one per account id,
 * never written anywhere, wiped when the application quits. Main thread only.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define POSTAGE_TYPE_SESSION_PASSWORDS (postage_session_passwords_get_type ())
G_DECLARE_FINAL_TYPE (PostageSessionPasswords, postage_session_passwords, POSTAGE,
                      SESSION_PASSWORDS, GObject)

PostageSessionPasswords *postage_session_passwords_new    (void);
/* @password NULL forgets the account's password. */
void                     postage_session_passwords_set    (PostageSessionPasswords *self,
                                                           const char              *account_id,
                                                           const char              *password);
/* Borrowed; valid until the next change. NULL when there is none. */
const char              *postage_session_passwords_lookup (PostageSessionPasswords *self,
                                                           const char              *account_id);
/* A PostagePasswordFunc for the outbox queue: a copy of the account's
 * password (the queue wipes it), or NULL; @user_data is the set. */
char                    *postage_session_passwords_dup_for_queue (const char *account_id,
                                                                  gpointer    user_data);
/* Wipes every password. */
void                     postage_session_passwords_clear  (PostageSessionPasswords *self);

G_END_DECLS
