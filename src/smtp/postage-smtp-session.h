/* postage-smtp-session.h — one SMTP conversation, top to bottom
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Plain blocking code for the worker thread (never the main thread):
 * connect → greeting → EHLO → STARTTLS → EHLO → AUTH → MAIL/RCPT/DATA → QUIT.
 * Each wait honours the cancellable and the job's timeout.
 */
#pragma once

#include "postage-smtp-job.h"

G_BEGIN_DECLS

/* Called on the worker thread; the job marshals events to the main context. */
typedef void (*PostageSmtpEmitFunc) (const PostageSmtpEvent *event,
                                     gpointer                user_data);

/* Returns the server's final reply ("250 2.0.0 Ok: queued as …").
 * Errors: see postage_smtp_job_run_finish(). */
char *postage_smtp_session_run (PostageSmtpJob      *job,
                                GCancellable        *cancellable,
                                PostageSmtpEmitFunc  emit,
                                gpointer             emit_data,
                                GError             **error);

G_END_DECLS
