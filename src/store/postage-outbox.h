/* postage-outbox.h — messages on their way, and the copies of those that went
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The disk is the source of truth. Layout under ROOT (default
 * $XDG_DATA_HOME/postage):
 *
 *   outbox/{tmp,new,cur}/ID       the finished message (a Maildir any mail
 *                                 program can read); it lives in new/
 *   outbox/ID.envelope            sidecar keyfile: [Envelope] account, sender,
 *                                 recipients, size, …; [Status] state,
 *                                 attempts, next-try, last-error, …; [Draft]
 *                                 what the person wrote, for Edit
 *   outbox/ID.lock                flock()ed while a process sends ID; the
 *                                 kernel drops it when that process dies
 *   sent/{tmp,new,cur}/ID:2,S     the exact bytes that went out (no Bcc)
 *   sent/ID.envelope              sidecar with the server's final reply
 *
 * Every sidecar write is atomic (write, fsync, rename, fsync the folder). A
 * message enters new/ only after its sidecar exists, so a crash at any point
 * leaves either nothing or a complete entry.
 *
 * States and who moves them:
 *
 *   QUEUED ──claim──▶ SENDING ──before the final "."──▶ UNCERTAIN ──2xx──▶ (sent/)
 *      ▲                 │  4xx, network, timeout           │ no reply / killed
 *      └─────────────────┘  (next try set)                  ▼
 *   FAILED  ◀── 5xx, bad address, no account            stays UNCERTAIN: "may have
 *   BROKEN  ◀── message file missing or sidecar corrupt  been sent"; never retried
 *                                                        by itself
 *
 * A SENDING entry whose lock nobody holds was interrupted before its "." and
 * is reported (and claimed) as QUEUED. Blocking I/O: any thread, never the
 * UI thread for add (it writes the whole message).
 */
#pragma once

#include <gio/gio.h>

#include "mail/postage-draft.h"
#include "mail/postage-message-writer.h"

G_BEGIN_DECLS

#define POSTAGE_OUTBOX_ERROR (postage_outbox_error_quark ())

typedef enum {
  POSTAGE_OUTBOX_ERROR_NOT_FOUND, /* no such ID */
  POSTAGE_OUTBOX_ERROR_BUSY,      /* another process is sending it right now */
  POSTAGE_OUTBOX_ERROR_STATE,     /* not in a state that allows this (e.g. claim of FAILED) */
  POSTAGE_OUTBOX_ERROR_CORRUPT,   /* sidecar unreadable or message file missing */
} PostageOutboxError;

GQuark postage_outbox_error_quark (void);

typedef enum {
  POSTAGE_OUTBOX_STATE_QUEUED,
  POSTAGE_OUTBOX_STATE_SENDING,
  POSTAGE_OUTBOX_STATE_UNCERTAIN,
  POSTAGE_OUTBOX_STATE_FAILED,
  POSTAGE_OUTBOX_STATE_BROKEN,
} PostageOutboxState;

const char *postage_outbox_state_to_string (PostageOutboxState state); /* "queued", … */

typedef struct {
  char               *id;
  char               *account_id;
  PostageOutboxState  state;
  PostageOutgoing    *outgoing;     /* envelope, path, size; NULL when BROKEN */
  char               *subject;      /* for lists; may be NULL */
  gint64              created;      /* unix seconds */
  guint               attempts;     /* tries that reached the network */
  gint64              next_try;     /* unix seconds; 0 = as soon as possible */
  gint64              last_attempt; /* unix seconds; 0 = never */
  char               *last_error;   /* sentence for people; NULL when none */
  guint               last_code;    /* the server's reply code, 0 when none */
  gboolean            reported;     /* BROKEN/UNCERTAIN already told to the person once */
  gboolean            busy;         /* a process is sending it right now (its lock is held) */
} PostageOutboxEntry;

PostageOutboxEntry *postage_outbox_entry_copy (const PostageOutboxEntry *entry);
void                postage_outbox_entry_free (PostageOutboxEntry       *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageOutboxEntry, postage_outbox_entry_free)

/* Retry back-off after @attempts failed tries: 1, 5, 15, then 60 minutes. */
gint64 postage_outbox_retry_delay (guint attempts);

typedef struct _PostageOutbox PostageOutbox;

/* @root NULL = $XDG_DATA_HOME/postage. Folders are made on first write. */
PostageOutbox      *postage_outbox_new            (const char          *root);
PostageOutbox      *postage_outbox_ref            (PostageOutbox       *outbox);
void                postage_outbox_unref          (PostageOutbox       *outbox);
const char         *postage_outbox_get_root       (PostageOutbox       *outbox);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageOutbox, postage_outbox_unref)

/* Validates @draft, writes the message to outbox/tmp, syncs it, writes the
 * sidecar (QUEUED, next try now), then moves the message into new/. On any
 * error nothing is left behind. Errors: POSTAGE_MAIL_ERROR_* (bad input),
 * G_IO_ERROR_* (a full disk: G_IO_ERROR_NO_SPACE). */
PostageOutboxEntry *postage_outbox_add            (PostageOutbox       *outbox,
                                                   const PostageDraft  *draft,
                                                   GError             **error);

/* A fresh ID, for a caller that must record it first (a draft's link to
 * its outbox entry) and then store the message under it with
 * postage_outbox_add_as(): a crash in between leaves a link to nothing,
 * never a message whose draft does not know it was handed on. */
char               *postage_outbox_new_id         (void);
/* postage_outbox_add() under @id. Errors as add, and G_IO_ERROR_EXISTS when
 * @id is taken (in the outbox or sent/), G_IO_ERROR_INVALID_FILENAME when it
 * is no ID. */
PostageOutboxEntry *postage_outbox_add_as         (PostageOutbox       *outbox,
                                                   const char          *id,
                                                   const PostageDraft  *draft,
                                                   GError             **error);

/* The general form of add, for messages that do not come from a draft
 * (`postage sendmail`): @write writes the message to @fd and returns its
 * envelope. @id NULL makes a new one. @draft, when not NULL, is kept for
 * Edit. */
typedef PostageOutgoing *(*PostageOutboxWriteFunc) (int        fd,
                                                    gpointer   user_data,
                                                    GError   **error);
PostageOutboxEntry *postage_outbox_add_with       (PostageOutbox          *outbox,
                                                   const char             *id,
                                                   const char             *account_id,
                                                   const char             *subject,
                                                   const PostageDraft     *draft,
                                                   PostageOutboxWriteFunc  write,
                                                   gpointer                user_data,
                                                   GError                **error);

/* Every entry, oldest first. Unreadable ones come back as BROKEN rather
 * than as an error, so one bad file never hides the others. */
GPtrArray          *postage_outbox_list           (PostageOutbox       *outbox,
                                                   GError             **error);
PostageOutboxEntry *postage_outbox_get            (PostageOutbox       *outbox,
                                                   const char          *id,
                                                   GError             **error);
/* What the person wrote, for Edit. */
PostageDraft       *postage_outbox_load_draft     (PostageOutbox       *outbox,
                                                   const char          *id,
                                                   GError             **error);
/* TRUE when @id is a well-formed outbox ID (what `outbox remove` accepts). */
gboolean            postage_outbox_id_is_valid    (const char          *id);
/* Deletes message, sidecar and lock. Error BUSY while it is being sent. */
gboolean            postage_outbox_remove         (PostageOutbox       *outbox,
                                                   const char          *id,
                                                   GError             **error);
/* FAILED, UNCERTAIN or a waiting QUEUED → QUEUED with next try now: the
 * person's "Retry now" / "Send anyway". */
gboolean            postage_outbox_requeue        (PostageOutbox       *outbox,
                                                   const char          *id,
                                                   GError             **error);
/* Records that BROKEN/UNCERTAIN was shown to the person, so it is told once. */
gboolean            postage_outbox_mark_reported  (PostageOutbox       *outbox,
                                                   const char          *id,
                                                   GError             **error);

/* Sending one entry. A claim holds the entry's lock for its whole life. */
typedef struct _PostageOutboxClaim PostageOutboxClaim;

/* QUEUED (or interrupted SENDING) → SENDING, attempts + 1, last attempt @now.
 * Errors: BUSY, STATE, NOT_FOUND, CORRUPT (then the entry is made BROKEN). */
PostageOutboxClaim *postage_outbox_claim          (PostageOutbox       *outbox,
                                                   const char          *id,
                                                   gint64               now,
                                                   GError             **error);
const PostageOutboxEntry *postage_outbox_claim_get_entry (PostageOutboxClaim *claim);
/* SENDING → UNCERTAIN, durably; call right before the final ".". */
gboolean            postage_outbox_claim_commit   (PostageOutboxClaim  *claim,
                                                   GError             **error);
/* → sent/: the message moves to sent/cur/ID:2,S and the sidecar records
 * @reply and the time; the outbox entry is gone. */
gboolean            postage_outbox_claim_sent     (PostageOutboxClaim  *claim,
                                                   const char          *reply,
                                                   GError             **error);
/* → QUEUED with @next_try (transient) or FAILED (permanent), keeping the
 * server's words. Also after commit, when the server clearly refused the
 * data (a 4xx/5xx reply to the "."): then nothing was delivered. */
gboolean            postage_outbox_claim_failed   (PostageOutboxClaim  *claim,
                                                   gboolean             transient,
                                                   gint64               next_try,
                                                   guint                code,
                                                   const char          *message,
                                                   GError             **error);
/* Stays UNCERTAIN with @message: the "." went out but no verdict came back
 * (POSTAGE_SMTP_ERROR_DELIVERY_UNKNOWN). Never retried by itself. */
gboolean            postage_outbox_claim_unknown  (PostageOutboxClaim  *claim,
                                                   const char          *message,
                                                   GError             **error);
/* Drops the lock. A claim released while still SENDING leaves an
 * interrupted entry, which counts as QUEUED. */
void                postage_outbox_claim_release  (PostageOutboxClaim  *claim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageOutboxClaim, postage_outbox_claim_release)

/* sent/: copies older than @max_age seconds are deleted (with sidecars). */
guint               postage_outbox_prune_sent     (PostageOutbox       *outbox,
                                                   gint64               now,
                                                   gint64               max_age,
                                                   GError             **error);
/* Where the sent copy of @id is (it may not exist). */
char               *postage_outbox_dup_sent_path  (PostageOutbox       *outbox,
                                                   const char          *id);
/* The sidecar of a sent copy, by outbox ID, for tests and "show details". */
GKeyFile           *postage_outbox_load_sent      (PostageOutbox       *outbox,
                                                   const char          *id,
                                                   GError             **error);

G_END_DECLS
