/* postage-smtp-job.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Threads: the job is built and started on the caller's thread; the session
 * runs on a GTask worker thread; events and the result come back through the
 * caller's thread-default GMainContext (g_task_get_context) as idle sources
 * attached to that context, never through g_idle_add(), which would target
 * the global default context whatever the caller's.
 */
#define G_LOG_DOMAIN "postage-smtp"

#include "config.h"

#include <string.h>

#include "postage-smtp-job-private.h"
#include "postage-smtp-reply.h"
#include "postage-smtp-session.h"

/* Who receives events; shared by every queued event, so that it outlives
 * the ones still in flight when the task completes. */
typedef struct {
  gatomicrefcount       ref_count;
  PostageSmtpEventFunc  func;
  gpointer              data;
  GDestroyNotify        destroy;
  GMainContext         *context;
  GCancellable         *cancellable;
  /* worker side: the last percentage posted, to post only on change */
  int                   last_percent;
} Listener;

typedef struct {
  Listener         *listener;
  PostageSmtpEvent  event;
  char             *line;
} QueuedEvent;

static Listener *
listener_ref (Listener *listener)
{
  g_atomic_ref_count_inc (&listener->ref_count);
  return listener;
}

static void
listener_unref (Listener *listener)
{
  if (!g_atomic_ref_count_dec (&listener->ref_count))
    return;
  if (listener->destroy != NULL)
    listener->destroy (listener->data);
  g_main_context_unref (listener->context);
  g_clear_object (&listener->cancellable);
  g_free (listener);
}

static void
queued_event_free (gpointer data)
{
  QueuedEvent *queued = data;

  listener_unref (queued->listener);
  g_free (queued->line);
  g_free (queued);
}

static gboolean
dispatch_event_cb (gpointer data)
{
  QueuedEvent *queued = data;

  /* A cancelled job's late events are of no interest to anyone. */
  if (!g_cancellable_is_cancelled (queued->listener->cancellable))
    {
      queued->event.line = queued->line;
      queued->listener->func (&queued->event, queued->listener->data);
    }
  return G_SOURCE_REMOVE;
}

static void
emit_cb (const PostageSmtpEvent *event,
         gpointer                user_data)
{
  Listener *listener = user_data;
  QueuedEvent *queued;
  GSource *source;

  if (listener->func == NULL)
    return;
  if (event->kind == POSTAGE_SMTP_EVENT_PROGRESS && event->bytes_total > 0)
    {
      int percent = (int) (event->bytes_sent * 100 / event->bytes_total);

      if (percent == listener->last_percent)
        return;
      listener->last_percent = percent;
    }
  queued = g_new0 (QueuedEvent, 1);
  queued->listener = listener_ref (listener);
  queued->event = *event;
  queued->line = g_strdup (event->line);
  queued->event.line = NULL;
  /* Not g_main_context_invoke_full(): from a worker whose thread-default
   * context is the global one, it runs the callback right here, on the
   * worker, whenever it can acquire that context (between two iterations
   * of the main loop). An idle source always dispatches on the owner. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, dispatch_event_cb, queued, queued_event_free);
  g_source_set_static_name (source, "[postage] SMTP event");
  g_source_attach (source, listener->context);
  g_source_unref (source);
}

static void
run_in_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  PostageSmtpJob *job = task_data;
  Listener *listener = g_object_get_data (G_OBJECT (task), "postage-listener");
  GError *error = NULL;
  char *result;

  result = postage_smtp_session_run (job, cancellable, emit_cb, listener, &error);
  /* The password is not needed any more: wipe it now, not when the last
   * reference to the job goes. */
  if (job->password != NULL)
    {
      explicit_bzero (job->password, strlen (job->password));
      g_clear_pointer (&job->password, g_free);
    }
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, g_free);
}

PostageSmtpJob *
postage_smtp_job_new (PostageAccount *account)
{
  PostageSmtpJob *job;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (account), NULL);

  job = g_new0 (PostageSmtpJob, 1);
  job->ref_count = 1;
  job->host = g_strdup (postage_account_get_host (account));
  job->port = postage_account_get_port (account);
  job->security = postage_account_get_security (account);
  job->user = g_strdup (postage_account_get_user (account));
  job->ca_file = g_strdup (postage_account_get_ca_file (account));
  job->fingerprint = g_strdup (postage_account_get_fingerprint (account));
  job->timeout = POSTAGE_SMTP_DEFAULT_TIMEOUT;
  job->recipients = g_ptr_array_new_with_free_func (g_free);
  return job;
}

PostageSmtpJob *
postage_smtp_job_ref (PostageSmtpJob *job)
{
  g_return_val_if_fail (job != NULL, NULL);
  g_atomic_int_inc (&job->ref_count);
  return job;
}

void
postage_smtp_job_unref (PostageSmtpJob *job)
{
  if (job == NULL || !g_atomic_int_dec_and_test (&job->ref_count))
    return;
  g_free (job->host);
  g_free (job->user);
  g_free (job->ca_file);
  g_free (job->fingerprint);
  if (job->password != NULL)
    explicit_bzero (job->password, strlen (job->password));
  g_free (job->password);
  g_free (job->sender);
  g_ptr_array_unref (job->recipients);
  g_free (job->path);
  if (job->hook_data_free != NULL)
    job->hook_data_free (job->hook_data);
  g_free (job);
}

void
postage_smtp_job_set_password (PostageSmtpJob *job,
                               const char     *password)
{
  g_return_if_fail (job != NULL);

  if (job->password != NULL)
    explicit_bzero (job->password, strlen (job->password));
  g_free (job->password);
  job->password = g_strdup (password);
}

void
postage_smtp_job_set_message (PostageSmtpJob        *job,
                              const PostageOutgoing *outgoing)
{
  g_return_if_fail (job != NULL);
  g_return_if_fail (outgoing != NULL);
  g_return_if_fail (outgoing->path != NULL);

  g_free (job->sender);
  job->sender = g_strdup (outgoing->sender);
  g_ptr_array_set_size (job->recipients, 0);
  for (guint i = 0; i < outgoing->recipients->len; i++)
    g_ptr_array_add (job->recipients, g_strdup (g_ptr_array_index (outgoing->recipients, i)));
  g_free (job->path);
  job->path = g_strdup (outgoing->path);
  job->size = outgoing->size;
  job->eight_bit = outgoing->eight_bit;
}

void
postage_smtp_job_set_hooks (PostageSmtpJob      *job,
                            PostageSmtpHookFunc  before_final_dot,
                            PostageSmtpHookFunc  accepted,
                            gpointer             user_data,
                            GDestroyNotify       user_data_free)
{
  g_return_if_fail (job != NULL);

  if (job->hook_data_free != NULL)
    job->hook_data_free (job->hook_data);
  job->before_final_dot = before_final_dot;
  job->accepted = accepted;
  job->hook_data = user_data;
  job->hook_data_free = user_data_free;
}

guint64
postage_smtp_job_get_size_limit (PostageSmtpJob *job)
{
  g_return_val_if_fail (job != NULL, 0);

  return job->size_limit;
}

void
postage_smtp_job_set_timeout (PostageSmtpJob *job,
                              guint           seconds)
{
  g_return_if_fail (job != NULL);
  job->timeout = seconds > 0 ? MIN (seconds, POSTAGE_SMTP_MAX_TIMEOUT)
                             : POSTAGE_SMTP_DEFAULT_TIMEOUT;
}

void
postage_smtp_job_run_async (PostageSmtpJob       *job,
                            GCancellable         *cancellable,
                            PostageSmtpEventFunc  event_func,
                            gpointer              event_data,
                            GDestroyNotify        event_data_free,
                            GAsyncReadyCallback   callback,
                            gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;
  Listener *listener;

  g_return_if_fail (job != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, postage_smtp_job_run_async);
  g_task_set_task_data (task, postage_smtp_job_ref (job), (GDestroyNotify) postage_smtp_job_unref);
  /* Off: the worker itself notices the cancel, closes the socket and
   * returns, so no session is ever left running behind the caller's back. */
  g_task_set_return_on_cancel (task, FALSE);
  /* What the worker returns is the truth: a message the server accepted
   * just before the cancel was sent, and saying "cancelled, try again"
   * would make scripts send it twice. */
  g_task_set_check_cancellable (task, FALSE);

  listener = g_new0 (Listener, 1);
  g_atomic_ref_count_init (&listener->ref_count);
  listener->func = event_func;
  listener->data = event_data;
  listener->destroy = event_data_free;
  listener->context = g_main_context_ref (g_task_get_context (task));
  listener->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  listener->last_percent = -1;
  g_object_set_data_full (G_OBJECT (task), "postage-listener", listener,
                          (GDestroyNotify) listener_unref);

  g_task_run_in_thread (task, run_in_thread);
}

char *
postage_smtp_job_run_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
