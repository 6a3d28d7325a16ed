/* postage-outbox-queue.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Threads: everything here runs on the thread whose main context was the
 * thread-default one when the queue was made, except the two job hooks
 * (commit_cb, accepted_cb) and the submit worker, which run on GTask
 * worker threads and touch only their Attempt or their own copy of the
 * draft. An Attempt's claim passes from this thread to the worker (while
 * the job runs) and back (when its result arrives); never both at once.
 */
#define G_LOG_DOMAIN "postage-queue"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "accounts/postage-account.h"
#include "smtp/postage-smtp-error.h"
#include "postage-outbox-queue.h"

/* RFC 5321 §4.5.4.1: give up on a temporary failure after 4–5 days. */
#define GIVE_UP_AFTER (5 * 24 * 3600)

typedef struct {
  PostageOutboxClaim *claim;
  /* Set by accepted_cb on the worker once sent/ has the message. */
  gint                recorded;
  /* Set by commit_cb (atomically: the queue's thread reads it while the
   * job runs): the "." may have gone out, so no cancel counts. */
  gint                committed;
  /* A cancel asked for after the "." (atomic): it waits for the verdict,
   * then only cuts the polite QUIT short. */
  gint                cancel_wanted;
  GCancellable       *cancellable;
} Attempt;

struct _PostageOutboxQueue
{
  GObject              parent_instance;

  /* owned */
  GMainContext        *context;      /* where every source of ours runs */
  PostageOutbox       *outbox;
  PostageAccountStore *accounts;
  GNetworkMonitor     *monitor;
  GFileMonitor        *folder_monitor;
  GQueue               line;         /* of char *: ids asked for, in order */
  GHashTable          *held;         /* ids cancelled here: not sent unless asked */
  GCancellable        *cancellable;  /* of the job in flight */
  char                *current;      /* its id */
  Attempt             *attempt;      /* its try; borrowed, valid while current is set */

  /* borrowed (the clock is for tests) */
  PostageClockFunc     clock;
  gpointer             clock_data;
  PostagePasswordFunc  password_func;
  gpointer             password_data;
  GDestroyNotify       password_data_free;

  /* state */
  guint                timeout;
  gboolean             automatic;
  gboolean             network_available;
  guint                wakeup_id;
  gint64               next_wakeup;
  guint                dispatch_id;
  guint                folder_id;
  gulong               network_handler;
  gboolean             was_busy;
  guint                storing;      /* submissions still being written */
};

/* What a job's completion needs. */
typedef struct {
  PostageOutboxQueue *self;
  Attempt            *attempt;
} Done;

enum {
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

enum {
  SIGNAL_CHANGED,
  SIGNAL_EVENT,
  SIGNAL_FINISHED,
  SIGNAL_IDLE,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (PostageOutboxQueue, postage_outbox_queue, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void schedule_dispatch (PostageOutboxQueue *self);
static void schedule_wakeup   (PostageOutboxQueue *self);

static gint64
now (PostageOutboxQueue *self)
{
  if (self->clock != NULL)
    return self->clock (self->clock_data);
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
attempt_free (gpointer data)
{
  Attempt *attempt = data;

  g_clear_pointer (&attempt->claim, postage_outbox_claim_release);
  g_clear_object (&attempt->cancellable);
  g_free (attempt);
}

PostageOutboxOutcome
postage_outbox_queue_classify (const GError *error,
                               gint64        created,
                               gint64        now_time)
{
  if (error == NULL)
    return POSTAGE_OUTBOX_OUTCOME_SENT;
  if (g_error_matches (error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_DELIVERY_UNKNOWN))
    return POSTAGE_OUTBOX_OUTCOME_UNCERTAIN;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return POSTAGE_OUTBOX_OUTCOME_CANCELLED;
  /* The stored message could not be opened: nothing can ever send it. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return POSTAGE_OUTBOX_OUTCOME_BROKEN;
  if (postage_smtp_error_is_transient (error) ||
      /* Our own disk (a full one, say) failed while recording the try:
       * nothing was delivered, and later it may well work. */
      (error->domain == G_IO_ERROR && error->code != G_IO_ERROR_PERMISSION_DENIED))
    return created > 0 && now_time - created > GIVE_UP_AFTER ? POSTAGE_OUTBOX_OUTCOME_FAILED
                                                             : POSTAGE_OUTBOX_OUTCOME_QUEUED;
  return POSTAGE_OUTBOX_OUTCOME_FAILED;
}

/* Worker thread: the whole message is out, only the "." is left. */
static gboolean
commit_cb (const char  *reply,
           gpointer     user_data,
           GError     **error)
{
  Attempt *attempt = user_data;

  if (!postage_outbox_claim_commit (attempt->claim, error))
    {
      g_prefix_error (error, _("Postage could not record that the message is going out, so it "
                               "stopped before the end: "));
      return FALSE;
    }
  g_atomic_int_set (&attempt->committed, TRUE);
  return TRUE;
}

/* Worker thread: the server said 2xx to the data. Before QUIT, before any
 * event reaches anyone, the message leaves the outbox for sent/. */
static gboolean
accepted_cb (const char  *reply,
             gpointer     user_data,
             GError     **error)
{
  Attempt *attempt = user_data;

  gboolean recorded = postage_outbox_claim_sent (attempt->claim, reply, error);

  g_atomic_int_set (&attempt->recorded, recorded);
  /* The verdict is in: a cancel that waited for it may stop the rest. */
  if (g_atomic_int_get (&attempt->cancel_wanted))
    g_cancellable_cancel (attempt->cancellable);
  return recorded;
}

/* A queue with work keeps itself alive until the work is done, like a
 * GTask: whoever started a send may drop the queue, and the message still
 * goes out (or stays queued on disk). Callers must not touch @self after
 * this, unless they hold a reference of their own. */
static void
notify_busy (PostageOutboxQueue *self)
{
  gboolean busy = postage_outbox_queue_is_busy (self);

  if (busy == self->was_busy)
    return;
  self->was_busy = busy;
  if (busy)
    g_object_ref (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
  if (!busy)
    {
      g_signal_emit (self, signals[SIGNAL_IDLE], 0);
      g_object_unref (self);
    }
}

static void
set_current (PostageOutboxQueue *self,
             const char         *id,
             GCancellable       *cancellable)
{
  g_free (self->current);
  self->current = g_strdup (id);
  g_set_object (&self->cancellable, cancellable);
  if (id == NULL)
    self->attempt = NULL;
}

/* Not g_idle_add() and friends: they target the global default context,
 * and the queue belongs to the context it was made on. */
static guint
add_source (PostageOutboxQueue *self,
            GSource            *source,
            GSourceFunc         func,
            const char         *name)
{
  guint id;

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, self, NULL);
  g_source_set_static_name (source, name);
  id = g_source_attach (source, self->context);
  g_source_unref (source);
  return id;
}

static void
remove_source (PostageOutboxQueue *self,
               guint              *id)
{
  GSource *source;

  if (*id == 0)
    return;
  if ((source = g_main_context_find_source_by_id (self->context, *id)) != NULL)
    g_source_destroy (source);
  *id = 0;
}

/* Events may outlive the queue: the worker reports through a weak ref. */
typedef struct {
  GWeakRef  ref;
  char     *id;
} EventTarget;

static void
event_target_free (gpointer data)
{
  EventTarget *target = data;

  g_weak_ref_clear (&target->ref);
  g_free (target->id);
  g_free (target);
}

static void
event_cb (const PostageSmtpEvent *event,
          gpointer                user_data)
{
  EventTarget *target = user_data;
  g_autoptr(PostageOutboxQueue) self = g_weak_ref_get (&target->ref);

  if (self != NULL)
    g_signal_emit (self, signals[SIGNAL_EVENT], 0, target->id, event);
}

static void
finish_try (PostageOutboxQueue   *self,
            const char           *id,
            PostageOutboxOutcome  outcome,
            const char           *reply,
            const GError         *error)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, id, (int) outcome, reply, error);
}

/* What the job taught about the server: its SIZE limit, for the composer's
 * warning before the next message is even written. */
static void
learn_size_limit (PostageOutboxQueue *self,
                  const char         *account_id,
                  guint64             limit)
{
  g_autoptr(GError) error = NULL;

  if (limit == 0 || account_id == NULL || self->accounts == NULL)
    return;
  if (!postage_account_store_remember_size_limit (self->accounts, account_id, limit, &error))
    g_message ("Could not remember the size limit of %s: %s", account_id, error->message);
}

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Done *done = user_data;
  g_autoptr(PostageOutboxQueue) self = done->self;
  Attempt *attempt = done->attempt;
  PostageSmtpJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) record_error = NULL;
  g_autofree char *reply = postage_smtp_job_run_finish (result, &error);
  g_autofree char *id = g_strdup (self->current);
  const PostageOutboxEntry *entry = postage_outbox_claim_get_entry (attempt->claim);
  PostageOutboxOutcome outcome;
  gint64 t = now (self);

  learn_size_limit (self, entry->account_id, postage_smtp_job_get_size_limit (job));
  outcome = postage_outbox_queue_classify (error, entry->created, t);
  /* A cancel that came after the "." changes nothing: the verdict stands. */
  if (outcome == POSTAGE_OUTBOX_OUTCOME_CANCELLED && g_atomic_int_get (&attempt->committed))
    outcome = POSTAGE_OUTBOX_OUTCOME_UNCERTAIN;

  switch (outcome)
    {
    case POSTAGE_OUTBOX_OUTCOME_SENT:
      /* Normally done on the worker already; a failure there (a full disk)
       * gets one more try here, and otherwise the entry stays UNCERTAIN,
       * which never sends it again by itself. */
      if (!g_atomic_int_get (&attempt->recorded) &&
          !postage_outbox_claim_sent (attempt->claim, reply, &record_error))
        {
          g_autofree char *text =
            g_strdup_printf (_("The server accepted this message (%s), but Postage could not "
                               "move it to Sent: %s. Do not send it again."),
                             reply, record_error->message);

          postage_outbox_claim_unknown (attempt->claim, text, NULL);
        }
      break;
    case POSTAGE_OUTBOX_OUTCOME_UNCERTAIN:
      postage_outbox_claim_unknown (attempt->claim, error->message, &record_error);
      break;
    case POSTAGE_OUTBOX_OUTCOME_CANCELLED:
      g_hash_table_add (self->held, g_strdup (id));
      /* GIO's "Operation was cancelled" is no sentence for the outbox list. */
      postage_outbox_claim_failed (attempt->claim, TRUE, 0, 0,
                                   _("Sending was stopped before the message went out; it "
                                     "waits to be sent."), &record_error);
      break;
    case POSTAGE_OUTBOX_OUTCOME_QUEUED:
      postage_outbox_claim_failed (attempt->claim, TRUE,
                                   t + postage_outbox_retry_delay (entry->attempts),
                                   postage_smtp_error_get_reply_code (error), error->message,
                                   &record_error);
      break;
    case POSTAGE_OUTBOX_OUTCOME_BROKEN:
    case POSTAGE_OUTBOX_OUTCOME_FAILED:
    default:
      postage_outbox_claim_failed (attempt->claim, FALSE, 0,
                                   postage_smtp_error_get_reply_code (error), error->message,
                                   &record_error);
      break;
    }
  if (record_error != NULL)
    g_message ("Could not record the outcome for %s: %s", id, record_error->message);
  /* The lock goes now, before anyone is told. */
  self->attempt = NULL;
  attempt_free (attempt);
  g_free (done);

  set_current (self, NULL, NULL);
  finish_try (self, id, outcome, reply, error);
  /* The next one, or ::idle, from the main loop. */
  schedule_dispatch (self);
}

static void
fail_unclaimed (PostageOutboxQueue  *self,
                PostageOutboxClaim  *claim,
                const char          *id,
                GError              *error)
{
  g_autoptr(GError) record_error = NULL;

  if (!postage_outbox_claim_failed (claim, FALSE, 0, 0, error->message, &record_error))
    g_message ("Could not record the outcome for %s: %s", id, record_error->message);
  postage_outbox_claim_release (claim);
  finish_try (self, id, POSTAGE_OUTBOX_OUTCOME_FAILED, NULL, error);
}

/* Claims @id and starts its job. FALSE when nothing was started (the entry
 * was busy elsewhere, gone, or could not be sent at all). */
static gboolean
start (PostageOutboxQueue *self,
       const char         *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageSmtpJob) job = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  PostageOutboxClaim *claim;
  const PostageOutboxEntry *entry;
  PostageAccount *account = NULL;
  EventTarget *target;
  Attempt *attempt;
  Done *done;
  char *password = NULL;

  claim = postage_outbox_claim (self->outbox, id, now (self), &error);
  if (claim == NULL)
    {
      /* A damaged entry is now marked BROKEN on disk; say so once. */
      if (g_error_matches (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_CORRUPT))
        finish_try (self, id, POSTAGE_OUTBOX_OUTCOME_BROKEN, NULL, error);
      else if (!g_error_matches (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_BUSY))
        g_debug ("Not sending %s: %s", id, error->message);
      return FALSE;
    }
  entry = postage_outbox_claim_get_entry (claim);
  if (entry->account_id != NULL && self->accounts != NULL)
    account = postage_account_store_lookup (self->accounts, entry->account_id);
  if (account == NULL)
    {
      g_set_error (&error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_NOT_FOUND,
                   /* Translators: %s is an account name */
                   _("The account “%s” that should send this message does not exist any more. "
                     "Edit the message and choose another account."),
                   entry->account_id != NULL ? entry->account_id : "");
      fail_unclaimed (self, claim, id, error);
      return FALSE;
    }

  job = postage_smtp_job_new (account);
  postage_smtp_job_set_message (job, entry->outgoing);
  if (self->timeout > 0)
    postage_smtp_job_set_timeout (job, self->timeout);
  if (self->password_func != NULL &&
      (password = self->password_func (entry->account_id, self->password_data)) != NULL)
    {
      postage_smtp_job_set_password (job, password);
      explicit_bzero (password, strlen (password));
      g_free (password);
    }
  attempt = g_new0 (Attempt, 1);
  attempt->claim = claim;
  postage_smtp_job_set_hooks (job, commit_cb, accepted_cb, attempt, NULL);

  cancellable = g_cancellable_new ();
  set_current (self, id, cancellable);
  attempt->cancellable = g_object_ref (cancellable);
  self->attempt = attempt;
  target = g_new0 (EventTarget, 1);
  g_weak_ref_init (&target->ref, self);
  target->id = g_strdup (id);
  /* job_done_cb always runs, and frees the attempt; the hooks only run
   * before it. */
  done = g_new0 (Done, 1);
  done->self = g_object_ref (self);
  done->attempt = attempt;
  postage_smtp_job_run_async (job, cancellable, event_cb, target, event_target_free,
                              job_done_cb, done);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}

/* The next entry to send: what was asked for first; then, when automatic,
 * the oldest QUEUED entry that is due and not held. */
static char *
pick_next (PostageOutboxQueue *self,
           gint64             *earliest)
{
  g_autoptr(GPtrArray) entries = NULL;
  gint64 t = now (self);

  *earliest = 0;
  if (!g_queue_is_empty (&self->line))
    return g_queue_pop_head (&self->line);
  if (!self->automatic || !self->network_available)
    return NULL;
  if ((entries = postage_outbox_list (self->outbox, NULL)) == NULL)
    return NULL;
  for (guint i = 0; i < entries->len; i++)
    {
      PostageOutboxEntry *entry = g_ptr_array_index (entries, i);

      if (entry->state != POSTAGE_OUTBOX_STATE_QUEUED || entry->busy ||
          g_hash_table_contains (self->held, entry->id))
        continue;
      if (entry->next_try <= t)
        return g_strdup (entry->id);
      if (*earliest == 0 || entry->next_try < *earliest)
        *earliest = entry->next_try;
    }
  return NULL;
}

static gboolean
dispatch_cb (gpointer user_data)
{
  PostageOutboxQueue *self = user_data;
  gint64 earliest = 0;

  self->dispatch_id = 0;
  while (self->current == NULL)
    {
      g_autofree char *id = pick_next (self, &earliest);

      if (id == NULL)
        break;
      start (self, id);
    }
  self->next_wakeup = earliest;
  schedule_wakeup (self);
  /* Last: it may drop the queue's hold on itself. */
  notify_busy (self);
  return G_SOURCE_REMOVE;
}

/* Always from the main loop, never from inside a caller's call or a signal
 * handler: one send at a time, started from a clean stack. */
static void
schedule_dispatch (PostageOutboxQueue *self)
{
  if (self->dispatch_id == 0)
    self->dispatch_id = add_source (self, g_idle_source_new (), dispatch_cb,
                                    "[postage] outbox dispatch");
}

static gboolean
wakeup_cb (gpointer user_data)
{
  PostageOutboxQueue *self = user_data;

  self->wakeup_id = 0;
  schedule_dispatch (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_wakeup (PostageOutboxQueue *self)
{
  gint64 delay;

  remove_source (self, &self->wakeup_id);
  if (!self->automatic || self->next_wakeup == 0)
    return;
  /* Clamped: an injected clock may jump, and a late wake-up only costs a
   * little time while an early one costs nothing but a look at the list. */
  delay = CLAMP (self->next_wakeup - now (self), 1, 3600);
  self->wakeup_id = add_source (self, g_timeout_source_new_seconds ((guint) delay), wakeup_cb,
                                "[postage] outbox retry");
}

static void
network_changed_cb (GNetworkMonitor    *monitor,
                    gboolean            available,
                    PostageOutboxQueue *self)
{
  gboolean was = self->network_available;

  self->network_available = available;
  if (!available || was || !self->automatic)
    return;
  /* Back online: whatever waits gets a try now, not at its next-try time. */
  postage_outbox_queue_run_due (self, TRUE);
}

static gboolean
folder_settled_cb (gpointer user_data)
{
  PostageOutboxQueue *self = user_data;

  self->folder_id = 0;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  schedule_dispatch (self);
  return G_SOURCE_REMOVE;
}

/* Another process (`postage send`, `sendmail`) may have changed the outbox;
 * one look once the burst of writes has settled. */
static void
folder_changed_cb (GFileMonitor       *monitor,
                   GFile              *file,
                   GFile              *other,
                   GFileMonitorEvent   event,
                   PostageOutboxQueue *self)
{
  if (self->folder_id == 0)
    self->folder_id = add_source (self, g_timeout_source_new (250), folder_settled_cb,
                                  "[postage] outbox folder changed");
}

static void
postage_outbox_queue_dispose (GObject *object)
{
  PostageOutboxQueue *self = POSTAGE_OUTBOX_QUEUE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  remove_source (self, &self->wakeup_id);
  remove_source (self, &self->dispatch_id);
  remove_source (self, &self->folder_id);
  if (self->monitor != NULL)
    g_clear_signal_handler (&self->network_handler, self->monitor);
  g_clear_object (&self->monitor);
  g_clear_object (&self->folder_monitor);
  g_clear_object (&self->accounts);
  postage_outbox_queue_set_password_func (self, NULL, NULL, NULL);

  G_OBJECT_CLASS (postage_outbox_queue_parent_class)->dispose (object);
}

static void
postage_outbox_queue_finalize (GObject *object)
{
  PostageOutboxQueue *self = POSTAGE_OUTBOX_QUEUE (object);

  g_queue_clear_full (&self->line, g_free);
  g_clear_pointer (&self->held, g_hash_table_unref);
  g_clear_pointer (&self->outbox, postage_outbox_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->current);

  G_OBJECT_CLASS (postage_outbox_queue_parent_class)->finalize (object);
}

static void
postage_outbox_queue_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  PostageOutboxQueue *self = POSTAGE_OUTBOX_QUEUE (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, postage_outbox_queue_is_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_outbox_queue_class_init (PostageOutboxQueueClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = postage_outbox_queue_dispose;
  object_class->finalize = postage_outbox_queue_finalize;
  object_class->get_property = postage_outbox_queue_get_property;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  signals[SIGNAL_EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_POINTER);
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_INT, G_TYPE_STRING, G_TYPE_ERROR);
  signals[SIGNAL_IDLE] =
    g_signal_new ("idle", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
postage_outbox_queue_init (PostageOutboxQueue *self)
{
  g_queue_init (&self->line);
  self->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->network_available = TRUE;
  self->context = g_main_context_ref_thread_default ();
}

PostageOutboxQueue *
postage_outbox_queue_new (PostageOutbox       *outbox,
                          PostageAccountStore *accounts)
{
  PostageOutboxQueue *self;

  g_return_val_if_fail (outbox != NULL, NULL);
  g_return_val_if_fail (accounts == NULL || POSTAGE_IS_ACCOUNT_STORE (accounts), NULL);

  self = g_object_new (POSTAGE_TYPE_OUTBOX_QUEUE, NULL);
  self->outbox = postage_outbox_ref (outbox);
  self->accounts = accounts != NULL ? g_object_ref (accounts) : NULL;
  return self;
}

PostageOutbox *
postage_outbox_queue_get_outbox (PostageOutboxQueue *self)
{
  g_return_val_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self), NULL);
  return self->outbox;
}

void
postage_outbox_queue_set_clock (PostageOutboxQueue *self,
                                PostageClockFunc    func,
                                gpointer            user_data)
{
  g_return_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self));
  self->clock = func;
  self->clock_data = user_data;
}

void
postage_outbox_queue_set_network_monitor (PostageOutboxQueue *self,
                                          GNetworkMonitor    *monitor)
{
  g_return_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self));
  g_return_if_fail (monitor == NULL || G_IS_NETWORK_MONITOR (monitor));

  if (self->monitor != NULL)
    g_clear_signal_handler (&self->network_handler, self->monitor);
  g_set_object (&self->monitor, monitor);
  self->network_available = TRUE;
  if (monitor != NULL)
    {
      self->network_available = g_network_monitor_get_network_available (monitor);
      self->network_handler = g_signal_connect (monitor, "network-changed",
                                                G_CALLBACK (network_changed_cb), self);
    }
}

void
postage_outbox_queue_set_password_func (PostageOutboxQueue  *self,
                                        PostagePasswordFunc  func,
                                        gpointer             user_data,
                                        GDestroyNotify       user_data_free)
{
  g_return_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self));

  if (self->password_data_free != NULL)
    self->password_data_free (self->password_data);
  self->password_func = func;
  self->password_data = user_data;
  self->password_data_free = user_data_free;
}

void
postage_outbox_queue_set_timeout (PostageOutboxQueue *self,
                                  guint               seconds)
{
  g_return_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self));
  self->timeout = seconds;
}

void
postage_outbox_queue_set_automatic (PostageOutboxQueue *self,
                                    gboolean            automatic)
{
  g_return_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self));

  if (self->automatic == automatic)
    return;
  self->automatic = automatic;
  if (automatic)
    {
      g_autoptr(GFile) folder = g_file_new_build_filename (
                                  postage_outbox_get_root (self->outbox), "outbox", NULL);

      if (self->monitor == NULL)
        postage_outbox_queue_set_network_monitor (self, g_network_monitor_get_default ());
      g_mkdir_with_parents (g_file_peek_path (folder), 0700);
      self->folder_monitor = g_file_monitor_directory (folder, G_FILE_MONITOR_NONE, NULL, NULL);
      if (self->folder_monitor != NULL)
        g_signal_connect_object (self->folder_monitor, "changed", G_CALLBACK (folder_changed_cb),
                                 self, 0);
      schedule_dispatch (self);
    }
  else
    {
      g_clear_object (&self->folder_monitor);
      remove_source (self, &self->wakeup_id);
    }
}

typedef struct {
  PostageDraft *draft;
  char         *id;
} Submission;

static void
submission_free (Submission *submission)
{
  postage_draft_free (submission->draft);
  g_free (submission->id);
  g_free (submission);
}

static void
submit_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  PostageOutboxQueue *self = source_object;
  Submission *submission = task_data;
  GError *error = NULL;
  PostageOutboxEntry *entry =
    submission->id != NULL
    ? postage_outbox_add_as (self->outbox, submission->id, submission->draft, &error)
    : postage_outbox_add (self->outbox, submission->draft, &error);

  if (entry == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, entry, (GDestroyNotify) postage_outbox_entry_free);
}

static void
submit_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  PostageOutboxQueue *self = POSTAGE_OUTBOX_QUEUE (source);
  g_autoptr(GTask) outer = user_data;
  GError *error = NULL;
  PostageOutboxEntry *entry = g_task_propagate_pointer (G_TASK (result), &error);

  self->storing--;
  if (entry == NULL)
    {
      g_task_return_error (outer, error);
      notify_busy (self); /* last: it may drop the queue's own reference */
      return;
    }
  /* First in line: the person is watching this one. */
  g_queue_push_head (&self->line, g_strdup (entry->id));
  notify_busy (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  schedule_dispatch (self);
  g_task_return_pointer (outer, entry, (GDestroyNotify) postage_outbox_entry_free);
}

void
postage_outbox_queue_submit_async (PostageOutboxQueue  *self,
                                   const PostageDraft  *draft,
                                   const char          *id,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) inner = NULL;
  Submission *submission;
  GTask *outer;

  g_return_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self));
  g_return_if_fail (draft != NULL);

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, postage_outbox_queue_submit_async);
  /* Once begun, the write completes: a cancel must not leave half a message. */
  inner = g_task_new (self, NULL, submit_done_cb, outer);
  submission = g_new0 (Submission, 1);
  submission->draft = postage_draft_copy (draft);
  submission->id = g_strdup (id);
  g_task_set_task_data (inner, submission, (GDestroyNotify) submission_free);
  /* Busy from now: quitting waits for the message to be on disk. */
  self->storing++;
  notify_busy (self);
  g_task_run_in_thread (inner, submit_thread);
}

PostageOutboxEntry *
postage_outbox_queue_submit_finish (PostageOutboxQueue  *self,
                                    GAsyncResult        *result,
                                    GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
postage_outbox_queue_send (PostageOutboxQueue *self,
                           const char         *id)
{
  g_return_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self));
  g_return_if_fail (id != NULL);

  g_hash_table_remove (self->held, id);
  if (g_strcmp0 (self->current, id) != 0 &&
      g_queue_find_custom (&self->line, id, (GCompareFunc) g_strcmp0) == NULL)
    g_queue_push_tail (&self->line, g_strdup (id));
  notify_busy (self);
  schedule_dispatch (self);
}

gboolean
postage_outbox_queue_retry (PostageOutboxQueue  *self,
                            const char          *id,
                            GError             **error)
{
  g_return_val_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if (!postage_outbox_requeue (self->outbox, id, error))
    return FALSE;
  postage_outbox_queue_send (self, id);
  return TRUE;
}

void
postage_outbox_queue_run_due (PostageOutboxQueue *self,
                              gboolean            all)
{
  g_autoptr(GPtrArray) entries = NULL;
  gint64 t;

  g_return_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self));

  if ((entries = postage_outbox_list (self->outbox, NULL)) == NULL)
    return;
  t = now (self);
  for (guint i = 0; i < entries->len; i++)
    {
      PostageOutboxEntry *entry = g_ptr_array_index (entries, i);

      if (entry->state == POSTAGE_OUTBOX_STATE_QUEUED && !entry->busy &&
          !g_hash_table_contains (self->held, entry->id) && (all || entry->next_try <= t) &&
          g_strcmp0 (self->current, entry->id) != 0 &&
          g_queue_find_custom (&self->line, entry->id, (GCompareFunc) g_strcmp0) == NULL)
        g_queue_push_tail (&self->line, g_strdup (entry->id));
    }
  notify_busy (self);
  schedule_dispatch (self);
}

void
postage_outbox_queue_cancel (PostageOutboxQueue *self,
                             const char         *id)
{
  GList *link;

  g_return_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self));
  g_return_if_fail (id != NULL);

  g_hash_table_add (self->held, g_strdup (id));
  if ((link = g_queue_find_custom (&self->line, id, (GCompareFunc) g_strcmp0)) != NULL)
    {
      g_free (link->data);
      g_queue_delete_link (&self->line, link);
    }
  /* Once the "." may be out, stopping would only turn the server's
   * verdict into "may have been sent": it is waited for instead (Quit,
   * the composer's Cancel). */
  if (g_strcmp0 (self->current, id) == 0 && self->cancellable != NULL)
    {
      Attempt *attempt = self->attempt;

      if (attempt != NULL && g_atomic_int_get (&attempt->committed))
        {
          g_atomic_int_set (&attempt->cancel_wanted, TRUE);
          if (g_atomic_int_get (&attempt->recorded))
            g_cancellable_cancel (self->cancellable);
        }
      else
        g_cancellable_cancel (self->cancellable);
    }
  schedule_dispatch (self);
}

gboolean
postage_outbox_queue_is_busy (PostageOutboxQueue *self)
{
  g_return_val_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self), FALSE);
  return self->storing > 0 || self->current != NULL || !g_queue_is_empty (&self->line);
}

const char *
postage_outbox_queue_get_current (PostageOutboxQueue *self)
{
  g_return_val_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self), NULL);
  return self->current;
}

gint64
postage_outbox_queue_get_next_wakeup (PostageOutboxQueue *self)
{
  g_return_val_if_fail (POSTAGE_IS_OUTBOX_QUEUE (self), 0);
  return self->automatic ? self->next_wakeup : 0;
}
