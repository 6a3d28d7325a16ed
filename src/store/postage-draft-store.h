/* postage-draft-store.h — what is being written, kept safe on disk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ROOT/drafts/ID.draft (ROOT default $XDG_DATA_HOME/postage): one keyfile per
 * draft, every field exactly as typed and the attachments as paths (a draft
 * points at files; only the outbox copies them into a message). A keyfile,
 * not a Maildir message, because a message cannot hold attachment paths
 * nor text not yet valid as headers.
 *
 * Writes are atomic: write to a temporary file, fsync, rename, fsync the
 * folder; a failed write (full disk) leaves the previous version intact.
 * Discarding moves the file to ROOT/drafts/discarded/, so that undo is a
 * rename back; discarded drafts are purged at the next start.
 *
 * Blocking but small I/O (one keyfile, fsync'ed): fine on the UI thread at
 * human pace, a second after the person stops typing.
 */
#pragma once

#include <gio/gio.h>

#include "mail/postage-draft.h"

G_BEGIN_DECLS

#define POSTAGE_TYPE_DRAFT_STORE (postage_draft_store_get_type ())
G_DECLARE_FINAL_TYPE (PostageDraftStore, postage_draft_store, POSTAGE, DRAFT_STORE, GObject)

/* @root NULL = $XDG_DATA_HOME/postage. */
PostageDraftStore *postage_draft_store_new     (const char         *root);

/* A new unique ID for a draft not saved yet. */
char              *postage_draft_store_new_id  (PostageDraftStore  *store);
/* Errors: G_IO_ERROR_* / G_FILE_ERROR_* (full disk: G_IO_ERROR_NO_SPACE or
 * G_FILE_ERROR_NOSPC); the saved version, if any, is then unchanged. */
gboolean           postage_draft_store_save    (PostageDraftStore  *store,
                                                const char         *id,
                                                const PostageDraft *draft,
                                                GError            **error);
PostageDraft      *postage_draft_store_load    (PostageDraftStore  *store,
                                                const char         *id,
                                                GError            **error);
/* A draft being sent records the outbox entry it became, so that after a
 * crash it is not offered back (and sent twice) while the outbox has it.
 * NULL clears the link. */
gboolean           postage_draft_store_link    (PostageDraftStore  *store,
                                                const char         *id,
                                                const char         *outbox_id,
                                                GError            **error);
char              *postage_draft_store_dup_link (PostageDraftStore *store,
                                                 const char        *id);
/* Deletes every draft linked to @outbox_id: the outbox owns that message now. */
void               postage_draft_store_forget_outbox (PostageDraftStore *store,
                                                      const char        *outbox_id);
/* IDs of saved drafts, most recently saved first. */
GStrv              postage_draft_store_list    (PostageDraftStore  *store);
/* Into discarded/ (undoable) … */
gboolean           postage_draft_store_discard (PostageDraftStore  *store,
                                                const char         *id,
                                                GError            **error);
/* … and back. */
gboolean           postage_draft_store_restore (PostageDraftStore  *store,
                                                const char         *id,
                                                GError            **error);
/* Gone for good: after a successful send, and for discarded/ at start. */
gboolean           postage_draft_store_delete  (PostageDraftStore  *store,
                                                const char         *id,
                                                GError            **error);
void               postage_draft_store_purge_discarded (PostageDraftStore *store);

G_END_DECLS
