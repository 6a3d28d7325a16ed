/* postage-outbox-queue.h — sends what is in the outbox, and retries
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one place where outbox entries meet SMTP jobs, used by the window and
 * the command line alike. Main thread (or the thread whose main context it
 * was made on): it runs one PostageSmtpJob at a time and moves the entry
 * through the outbox states from the job's worker hooks, so "sent" and
 * "may have been sent" are on disk before anything else happens.
 *
 * Outcome of one try:
 *   2xx to the data                      → sent/ (OUTCOME_SENT)
 *   4xx, network down, timeout, 421/221  → QUEUED, next try after back-off
 *                                          (OUTCOME_QUEUED)
 *   5xx, bad address, no such account,
 *   missing password, bad certificate    → FAILED with the server's words
 *                                          (OUTCOME_FAILED)
 *   no verdict after the "."             → UNCERTAIN (OUTCOME_UNCERTAIN)
 *   message file gone / sidecar corrupt  → BROKEN (OUTCOME_BROKEN)
 *   cancelled before the "."             → FAILED "cancelled" (OUTCOME_CANCELLED)
 *
 * Time comes from a clock the caller may replace, so back-off is tested
 * without sleeping; the network from a GNetworkMonitor the caller may replace.
 */
#pragma once

#include <gio/gio.h>

#include "accounts/postage-account-store.h"
#include "mail/postage-draft.h"
#include "smtp/postage-smtp-job.h"
#include "store/postage-outbox.h"

G_BEGIN_DECLS

typedef enum {
  POSTAGE_OUTBOX_OUTCOME_SENT,
  POSTAGE_OUTBOX_OUTCOME_QUEUED,
  POSTAGE_OUTBOX_OUTCOME_FAILED,
  POSTAGE_OUTBOX_OUTCOME_UNCERTAIN,
  POSTAGE_OUTBOX_OUTCOME_BROKEN,
  POSTAGE_OUTBOX_OUTCOME_CANCELLED,
} PostageOutboxOutcome;

/* Unix seconds. */
typedef gint64 (*PostageClockFunc)    (gpointer    user_data);
/* A password the keyring does not hold (the window's session passwords);
 * NULL lets the job read the keyring. Main thread; the result is wiped. */
typedef char  *(*PostagePasswordFunc) (const char *account_id,
                                       gpointer    user_data);

#define POSTAGE_TYPE_OUTBOX_QUEUE (postage_outbox_queue_get_type ())
G_DECLARE_FINAL_TYPE (PostageOutboxQueue, postage_outbox_queue, POSTAGE, OUTBOX_QUEUE, GObject)

PostageOutboxQueue *postage_outbox_queue_new         (PostageOutbox        *outbox,
                                                      PostageAccountStore  *accounts);
PostageOutbox      *postage_outbox_queue_get_outbox  (PostageOutboxQueue   *self);

void    postage_outbox_queue_set_clock           (PostageOutboxQueue  *self,
                                                  PostageClockFunc     func,
                                                  gpointer             user_data);
/* Default g_network_monitor_get_default(). */
void    postage_outbox_queue_set_network_monitor (PostageOutboxQueue  *self,
                                                  GNetworkMonitor     *monitor);
/* @user_data is the queue's until replaced or the queue goes (then
 * @user_data_free), since sends may outlive whoever started them. */
void    postage_outbox_queue_set_password_func   (PostageOutboxQueue  *self,
                                                  PostagePasswordFunc  func,
                                                  gpointer             user_data,
                                                  GDestroyNotify       user_data_free);
/* Per-wait SMTP timeout; 0 = the job's default. */
void    postage_outbox_queue_set_timeout         (PostageOutboxQueue  *self,
                                                  guint                seconds);

/* Automatic (the window): sends whatever is due, sleeps until the next try
 * time, and tries every queued entry at once when the network comes back.
 * Off (the default, the command line): only the calls below send. */
void    postage_outbox_queue_set_automatic       (PostageOutboxQueue  *self,
                                                  gboolean             automatic);

/* Stores @draft in the outbox on a worker thread (it writes the whole
 * message), under @id (see postage_outbox_new_id()) or a new one when NULL,
 * then puts it first in line. The result is the new QUEUED entry; the send's
 * outcome follows in ::finished with its id. The queue counts as busy from
 * the start of the write. */
void                postage_outbox_queue_submit_async  (PostageOutboxQueue  *self,
                                                        const PostageDraft  *draft,
                                                        const char          *id,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
PostageOutboxEntry *postage_outbox_queue_submit_finish (PostageOutboxQueue  *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

/* The person's "Retry Now" / "Send Again": postage_outbox_requeue(), then
 * postage_outbox_queue_send(). Errors: those of requeue. */
gboolean postage_outbox_queue_retry      (PostageOutboxQueue *self,
                                          const char         *id,
                                          GError            **error);
/* Puts an existing QUEUED (or interrupted) entry first in line. */
void     postage_outbox_queue_send       (PostageOutboxQueue *self,
                                          const char         *id);
/* Sends every entry that is QUEUED and due at the clock's now (every QUEUED
 * one when @all), one after another. */
void     postage_outbox_queue_run_due    (PostageOutboxQueue *self,
                                          gboolean            all);
/* Cancels @id's send if it is in flight (before the final "." only: after
 * it, the outcome is the server's), and drops it from the line. The entry
 * stays QUEUED on disk but this queue no longer sends it by itself, only
 * when asked again with postage_outbox_queue_send(). */
void     postage_outbox_queue_cancel     (PostageOutboxQueue *self,
                                          const char         *id);
/* TRUE while a message is being stored, or a send is in flight or waiting
 * in line. */
gboolean postage_outbox_queue_is_busy    (PostageOutboxQueue *self);
/* When automatic mode would wake next (unix seconds), 0 for never. */
gint64   postage_outbox_queue_get_next_wakeup (PostageOutboxQueue *self);

/* The id of the entry in flight, or NULL. */
const char *postage_outbox_queue_get_current (PostageOutboxQueue *self);

/* The outcome of one try, from the job's result: pure, for tests too.
 * @created is when the entry was queued; @now the clock's time. */
PostageOutboxOutcome postage_outbox_queue_classify (const GError *error,
                                                    gint64        created,
                                                    gint64        now);

/* Signals (main context):
 *   ::changed ()                       the outbox's contents changed
 *   ::event (id, PostageSmtpEvent *)   the send in flight progressed
 *   ::finished (id, PostageOutboxOutcome, reply, GError *)
 *       one try ended and is on disk; reply is the server's final reply
 *       when SENT, the error (NULL when SENT) says why otherwise
 *   ::idle ()                          nothing in flight or in line any more
 * Property "busy" follows postage_outbox_queue_is_busy(). */

G_END_DECLS
