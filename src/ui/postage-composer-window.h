/* postage-composer-window.h — write a message and watch it being sent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "accounts/postage-account-store.h"
#include "mail/postage-draft.h"
#include "mail/postage-mailto.h"
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
/* TRUE from Send until the outcome is known (property "sending"). */
gboolean               postage_composer_window_get_sending    (PostageComposerWindow *self);
/* Picks the From account by id; FALSE when the store has no such account. */
gboolean               postage_composer_window_select_account (PostageComposerWindow *self,
                                                               const char            *account_id);
/* Attaches local files (what the Attach button, a drop and a paste of files do);
 * returns how many were added. Nothing while sending. */
guint                  postage_composer_window_attach_files   (PostageComposerWindow *self,
                                                               GSList                *files);
/* The attachments as GFileInfo (display name, size, symbolic icon), in order. */
GListModel            *postage_composer_window_get_attachments (PostageComposerWindow *self);
/* Fills To/Cc/Bcc/Subject/text and attaches the draft's files (a local person
 * asked: `postage --compose --attach`). From stays. Nothing while sending. */
void                   postage_composer_window_set_draft      (PostageComposerWindow *self,
                                                               const PostageDraft    *draft);
/* Fills the window from a link, never attaching anything, and says which of the
 * link's fields were ignored (a lasting notice when it asked to attach a file). */
void                   postage_composer_window_set_mailto     (PostageComposerWindow *self,
                                                               const PostageMailto   *mailto);
/* Opens the saved draft @id (of the draft store) in the window, replacing
 * what it held, and selects its account. Nothing while sending. */
void                   postage_composer_window_load_draft     (PostageComposerWindow *self,
                                                               const char            *id,
                                                               const PostageDraft    *draft);
/* The window's saved draft, or NULL when nothing is written yet. */
const char            *postage_composer_window_get_draft_id   (PostageComposerWindow *self);
/* The outbox entry being sent from this window, or NULL. */
const char            *postage_composer_window_get_outbox_id  (PostageComposerWindow *self);
/* Opened by another program (a link, --compose): the outcome is always
 * told with a desktop notification, focused or not. */
gboolean               postage_composer_window_get_notify_always (PostageComposerWindow *self);
void                   postage_composer_window_set_notify_always (PostageComposerWindow *self,
                                                                  gboolean               notify_always);
/* Shows @toast (taking it) over the window. */
void                   postage_composer_window_add_toast      (PostageComposerWindow *self,
                                                               AdwToast              *toast);
/* A short notice over the window (a toast); @text is plain text. */
void                   postage_composer_window_show_notice    (PostageComposerWindow *self,
                                                               const char            *text);

G_END_DECLS
