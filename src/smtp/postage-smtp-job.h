/* postage-smtp-job.h — one SMTP session, run on a worker thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Threads: build the job and call postage_smtp_job_run_async() on the thread
 * whose GMainContext should receive events (the GTK main thread, or the
 * command line's loop). The session runs on a GTask worker thread, which only
 * touches the job's immutable snapshot. Events and the result are delivered on
 * the calling thread's thread-default main context.
 */
#pragma once

#include <gio/gio.h>

#include "accounts/postage-account.h"
#include "mail/postage-message-writer.h"

G_BEGIN_DECLS

typedef enum {
  POSTAGE_SMTP_PHASE_CONNECTING,
  POSTAGE_SMTP_PHASE_TLS,
  POSTAGE_SMTP_PHASE_AUTH,
  POSTAGE_SMTP_PHASE_SENDING,
  POSTAGE_SMTP_PHASE_DONE,
} PostageSmtpPhase;

typedef enum {
  POSTAGE_SMTP_EVENT_PHASE,      /* phase changed */
  POSTAGE_SMTP_EVENT_PROGRESS,   /* bytes_sent of bytes_total of the message */
  POSTAGE_SMTP_EVENT_TRANSCRIPT, /* one line, 'C' sent or 'S' received; secrets redacted */
} PostageSmtpEventKind;

typedef struct {
  PostageSmtpEventKind kind;
  PostageSmtpPhase     phase;
  guint64              bytes_sent;
  guint64              bytes_total;
  char                 direction;
  const char          *line;
} PostageSmtpEvent;

typedef void (*PostageSmtpEventFunc) (const PostageSmtpEvent *event,
                                      gpointer                user_data);

typedef struct _PostageSmtpJob PostageSmtpJob;

/* Snapshots host, port, security, user and CA file of @account. */
PostageSmtpJob *postage_smtp_job_new            (PostageAccount       *account);
PostageSmtpJob *postage_smtp_job_ref            (PostageSmtpJob       *job);
void            postage_smtp_job_unref          (PostageSmtpJob       *job);

/* The password to use; when never set, the worker reads it from the keyring
 * just before AUTH. The job's copy is wiped when the session ends. */
void            postage_smtp_job_set_password   (PostageSmtpJob       *job,
                                                 const char           *password);
/* Without a message the job only verifies: connect, TLS, EHLO, AUTH, QUIT.
 * The worker streams the message from outgoing->path, which must stay in
 * place until the job ends; outgoing->size is what SIZE= declares. */
void            postage_smtp_job_set_message    (PostageSmtpJob       *job,
                                                 const PostageOutgoing *outgoing);

/* Hooks that make "sent" durable. Both run on the worker thread, in the
 * session, synchronously:
 *  - before_final_dot: the whole message has gone out, only the "." that
 *    commits it is left. Return FALSE (with @error set) to hang up instead:
 *    the server then discards the transaction, nothing is delivered, and
 *    the job fails with that error. @reply is NULL.
 *  - accepted: the server answered 2xx to the data; @reply is its summary.
 *    Runs before QUIT. Its return value and error are logged, not
 *    propagated: the message *was* accepted, and the job says so. */
typedef gboolean (*PostageSmtpHookFunc) (const char  *reply,
                                         gpointer     user_data,
                                         GError     **error);
void            postage_smtp_job_set_hooks      (PostageSmtpJob       *job,
                                                 PostageSmtpHookFunc   before_final_dot,
                                                 PostageSmtpHookFunc   accepted,
                                                 gpointer              user_data,
                                                 GDestroyNotify        user_data_free);
/* Per-wait timeout in seconds (default POSTAGE_SMTP_DEFAULT_TIMEOUT). */
void            postage_smtp_job_set_timeout    (PostageSmtpJob       *job,
                                                 guint                 seconds);

#define POSTAGE_SMTP_DEFAULT_TIMEOUT 60

void            postage_smtp_job_run_async      (PostageSmtpJob       *job,
                                                 GCancellable         *cancellable,
                                                 PostageSmtpEventFunc  event_func,
                                                 gpointer              event_data,
                                                 GDestroyNotify        event_data_free,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
/* Returns the server's final reply to the message (or to AUTH when only
 * verifying), e.g. "250 2.0.0 Ok: queued as 343FD5003CE".
 * Errors: POSTAGE_SMTP_ERROR_*, POSTAGE_ACCOUNT_ERROR_NO_KEYRING/_NO_PASSWORD,
 * G_IO_ERROR_CANCELLED, G_IO_ERROR_TIMED_OUT. */
char           *postage_smtp_job_run_finish     (GAsyncResult         *result,
                                                 GError              **error);

/* After the job ended: the largest message the server said it takes
 * (EHLO SIZE, RFC 1870), 0 when it named no limit or was never reached. */
guint64         postage_smtp_job_get_size_limit (PostageSmtpJob       *job);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageSmtpJob, postage_smtp_job_unref)

G_END_DECLS
