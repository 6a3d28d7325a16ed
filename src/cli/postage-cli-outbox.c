/* postage-cli-outbox.c — `postage outbox …`, and sending through the queue
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only; a GMainLoop spins while the queue's jobs run on their
 * workers.
 */
#define G_LOG_DOMAIN "postage-cli"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <unistd.h>
#include <string.h>

#include "postage-cli.h"
#include "postage-cli-private.h"
#include "smtp/postage-smtp-reply.h"
#include "smtp/postage-smtp-error.h"
#include "store/postage-outbox-queue.h"

typedef struct {
  PostageOutboxQueue *queue;
  PostageCliState    *state;
  GMainLoop          *loop;
  GHashTable         *pending;  /* ids still to hear from */
  gboolean            no_queue;
  gboolean            stopping;
  int                 code;     /* the worst outcome so far */
} Delivery;

/* Higher is worse, for "the worst outcome" of several. */
static int
severity (int code)
{
  switch (code)
    {
    case POSTAGE_EXIT_OK: return 0;
    case POSTAGE_EXIT_TEMPFAIL: return 1;
    default: return 2;
    }
}

static char *
format_time (gint64 unix_time)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (unix_time);

  return time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M") : g_strdup ("?");
}

static void
report_outcome (Delivery             *delivery,
                const char           *id,
                PostageOutboxOutcome  outcome,
                const char           *reply,
                const GError         *error)
{
  g_autoptr(PostageOutboxEntry) entry = NULL;
  g_autofree char *when = NULL;

  switch (outcome)
    {
    case POSTAGE_OUTBOX_OUTCOME_SENT:
      g_print ("%s\n", reply);
      return;
    case POSTAGE_OUTBOX_OUTCOME_QUEUED:
    case POSTAGE_OUTBOX_OUTCOME_CANCELLED:
      /* Translators: follows "postage: " and comes before the reason */
      g_printerr ("postage: %s: %s\n", _("not sent yet"), error->message);
      if (delivery->no_queue)
        break;
      entry = postage_outbox_get (postage_outbox_queue_get_outbox (delivery->queue), id, NULL);
      when = entry != NULL && entry->next_try > 0 ? format_time (entry->next_try) : NULL;
      if (when != NULL)
        /* Translators: an outbox id, a time, then the same id */
        g_printerr (_("postage: kept in the outbox as %s; Postage tries again after %s while "
                      "it runs, or now with: postage outbox flush\n"), id, when);
      else
        g_printerr (_("postage: kept in the outbox as %s; send it with: postage outbox "
                      "flush\n"), id);
      return;
    case POSTAGE_OUTBOX_OUTCOME_UNCERTAIN:
      g_printerr ("postage: %s\n", error->message);
      if (!delivery->no_queue)
        g_printerr (_("postage: kept in the outbox as %s; postage outbox retry %s sends it "
                      "again (it may arrive twice), postage outbox remove %s forgets it\n"),
                    id, id, id);
      return;
    case POSTAGE_OUTBOX_OUTCOME_BROKEN:
      /* Translators: follows "postage: " and comes before the reason */
      g_printerr ("postage: %s: %s\n", _("not sent"), error->message);
      g_printerr (_("postage: %s is damaged and cannot be sent; postage outbox remove %s "
                    "deletes it\n"), id, id);
      return;
    case POSTAGE_OUTBOX_OUTCOME_FAILED:
    default:
      /* Translators: follows "postage: " and comes before the reason */
      g_printerr ("postage: %s: %s\n", _("not sent"), error->message);
      if (!delivery->no_queue)
        g_printerr (_("postage: kept in the outbox as %s, marked failed; postage outbox retry "
                      "%s sends it again, postage outbox remove %s deletes it\n"), id, id, id);
      return;
    }
}

static int
outcome_code (PostageOutboxOutcome  outcome,
              const GError         *error)
{
  switch (outcome)
    {
    case POSTAGE_OUTBOX_OUTCOME_SENT: return POSTAGE_EXIT_OK;
    case POSTAGE_OUTBOX_OUTCOME_QUEUED:
    case POSTAGE_OUTBOX_OUTCOME_CANCELLED: return POSTAGE_EXIT_TEMPFAIL;
    case POSTAGE_OUTBOX_OUTCOME_BROKEN: return POSTAGE_EXIT_IOERR;
    case POSTAGE_OUTBOX_OUTCOME_UNCERTAIN:
    case POSTAGE_OUTBOX_OUTCOME_FAILED:
    default:
      return error != NULL ? _postage_cli_exit_code_for (error) : POSTAGE_EXIT_UNAVAILABLE;
    }
}

static void
finished_cb (PostageOutboxQueue *queue,
             const char         *id,
             int                 outcome,
             const char         *reply,
             const GError       *error,
             Delivery           *delivery)
{
  int code = outcome_code (outcome, error);

  report_outcome (delivery, id, outcome, reply, error);
  if (delivery->no_queue && outcome != POSTAGE_OUTBOX_OUTCOME_SENT)
    {
      g_autoptr(GError) remove_error = NULL;

      if (!postage_outbox_remove (postage_outbox_queue_get_outbox (queue), id, &remove_error))
        g_printerr (_("postage: warning: %s\n"), remove_error->message);
    }
  else if (outcome == POSTAGE_OUTBOX_OUTCOME_UNCERTAIN || outcome == POSTAGE_OUTBOX_OUTCOME_BROKEN)
    /* Told just now: a later flush need not say it again. */
    postage_outbox_mark_reported (postage_outbox_queue_get_outbox (queue), id, NULL);
  if (severity (code) > severity (delivery->code))
    delivery->code = code;
  g_hash_table_remove (delivery->pending, id);
}

static void
event_cb (PostageOutboxQueue     *queue,
          const char             *id,
          const PostageSmtpEvent *event,
          Delivery               *delivery)
{
  _postage_cli_event_cb (event, delivery->state);
}

static void
idle_cb (PostageOutboxQueue *queue,
         Delivery           *delivery)
{
  g_main_loop_quit (delivery->loop);
}

/* Ctrl-C, SIGTERM: stop what is in flight (QUIT still goes out), send
 * nothing more. Whatever was not sent stays in the outbox, queued. After
 * the final "." the server's verdict is waited for; a second Ctrl-C stops
 * without it, and the disk already says "may have been sent". */
static gboolean
interrupt_cb (gpointer user_data)
{
  Delivery *delivery = user_data;
  const char *current = postage_outbox_queue_get_current (delivery->queue);
  g_autoptr(PostageOutboxEntry) entry = NULL;
  GHashTableIter iter;
  gpointer id;

  if (current != NULL)
    entry = postage_outbox_get (postage_outbox_queue_get_outbox (delivery->queue), current, NULL);
  if (delivery->stopping && entry != NULL)
    {
      if (entry->state == POSTAGE_OUTBOX_STATE_UNCERTAIN)
        {
          g_printerr (_("postage: stopped without the server's answer: %s may have been sent "
                        "(postage outbox list)\n"), current);
          _exit (POSTAGE_EXIT_UNAVAILABLE);
        }
      g_printerr (_("postage: stopped; %s waits in the outbox\n"), current);
      _exit (POSTAGE_EXIT_TEMPFAIL);
    }
  if (!delivery->stopping)
    g_printerr ("%s\n", entry != NULL && entry->state == POSTAGE_OUTBOX_STATE_UNCERTAIN
                         ? _("postage: the message is out; waiting for the server's answer "
                             "(Ctrl-C again to stop without it)…")
                         : _("postage: cancelling…"));
  delivery->stopping = TRUE;
  g_hash_table_iter_init (&iter, delivery->pending);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    postage_outbox_queue_cancel (delivery->queue, id);
  if (postage_outbox_queue_get_current (delivery->queue) == NULL)
    g_main_loop_quit (delivery->loop);
  return G_SOURCE_CONTINUE;
}

int
_postage_cli_deliver (PostageOutbox       *outbox,
                      PostageAccountStore *accounts,
                      const char * const  *ids,
                      PostageCliState     *state,
                      guint                timeout,
                      gboolean             no_queue)
{
  g_autoptr(PostageOutboxQueue) queue = postage_outbox_queue_new (outbox, accounts);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GHashTable) pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) all = NULL;
  Delivery delivery = {
    .queue = queue, .state = state, .loop = loop, .pending = pending, .no_queue = no_queue,
    .code = POSTAGE_EXIT_OK,
  };
  guint sigint_id, sigterm_id;

  postage_outbox_queue_set_timeout (queue, timeout);
  g_signal_connect (queue, "finished", G_CALLBACK (finished_cb), &delivery);
  g_signal_connect (queue, "event", G_CALLBACK (event_cb), &delivery);
  g_signal_connect (queue, "idle", G_CALLBACK (idle_cb), &delivery);

  if (ids == NULL)
    {
      /* Every entry waiting now, whatever its next-try time. */
      all = postage_outbox_list (outbox, NULL);
      for (guint i = 0; all != NULL && i < all->len; i++)
        {
          PostageOutboxEntry *entry = g_ptr_array_index (all, i);

          if (entry->state == POSTAGE_OUTBOX_STATE_QUEUED && !entry->busy)
            g_hash_table_add (pending, g_strdup (entry->id));
        }
    }
  for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
    g_hash_table_add (pending, g_strdup (ids[i]));
  if (g_hash_table_size (pending) == 0)
    return POSTAGE_EXIT_OK;

  /* Oldest first, as they were queued. */
  if (ids == NULL)
    for (guint i = 0; i < all->len; i++)
      {
        PostageOutboxEntry *entry = g_ptr_array_index (all, i);

        if (g_hash_table_contains (pending, entry->id))
          postage_outbox_queue_send (queue, entry->id);
      }
  else
    for (guint i = 0; ids[i] != NULL; i++)
      postage_outbox_queue_send (queue, ids[i]);

  sigint_id = g_unix_signal_add (SIGINT, interrupt_cb, &delivery);
  sigterm_id = g_unix_signal_add (SIGTERM, interrupt_cb, &delivery);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  /* Events queued before a result are dispatched already; drain the rest
   * so that none outlives this frame. */
  while (g_main_context_iteration (NULL, FALSE))
    ;

  /* Not heard from: busy in another process, or gone meanwhile. */
  if (g_hash_table_size (pending) > 0)
    {
      GHashTableIter iter;
      gpointer id;

      g_hash_table_iter_init (&iter, pending);
      while (g_hash_table_iter_next (&iter, &id, NULL))
        {
          g_autoptr(PostageOutboxEntry) entry = postage_outbox_get (outbox, id, NULL);

          /* Sent or removed by another Postage meanwhile (two flushes from
           * cron): nothing is left to do, so it is no temporary failure. */
          if (entry == NULL && !delivery.stopping)
            continue;
          if (!delivery.stopping)
            g_printerr (_("postage: %s was not sent now: another Postage is sending it\n"),
                        (const char *) id);
          if (severity (POSTAGE_EXIT_TEMPFAIL) > severity (delivery.code))
            delivery.code = POSTAGE_EXIT_TEMPFAIL;
        }
    }
  g_signal_handlers_disconnect_by_data (queue, &delivery);
  return delivery.code;
}

static const char *
state_text (const PostageOutboxEntry *entry)
{
  if (entry->busy)
    return "sending";
  return postage_outbox_state_to_string (entry->state);
}

static char *
join_recipients (const PostageOutboxEntry *entry)
{
  if (entry->outgoing == NULL)
    return g_strdup ("");
  g_ptr_array_add (entry->outgoing->recipients, NULL);
  {
    char *joined = g_strjoinv (",", (char **) entry->outgoing->recipients->pdata);

    g_ptr_array_remove_index (entry->outgoing->recipients, entry->outgoing->recipients->len - 1);
    return joined;
  }
}

/* One line per entry, tab-separated for scripts: id, state, attempts, next
 * try, recipients, subject, last error. */
static int
outbox_list (PostageOutbox *outbox)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = postage_outbox_list (outbox, &error);

  if (entries == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_IOERR, "%s", error->message);
  for (guint i = 0; i < entries->len; i++)
    {
      PostageOutboxEntry *entry = g_ptr_array_index (entries, i);
      g_autofree char *recipients = join_recipients (entry);
      g_autofree char *next = entry->state == POSTAGE_OUTBOX_STATE_QUEUED && entry->next_try > 0
                              ? format_time (entry->next_try) : g_strdup ("-");
      g_autofree char *error_text = g_strdup (entry->last_error != NULL ? entry->last_error : "");

      /* One line each, whatever the texts hold. */
      g_strdelimit (error_text, "\t\r\n", ' ');
      g_print ("%s\t%s\t%u\t%s\t%s\t%s\t%s\n", entry->id, state_text (entry), entry->attempts,
               next, recipients, entry->subject != NULL ? entry->subject : "", error_text);
    }
  if (entries->len == 0)
    g_printerr ("%s\n", _("postage: the outbox is empty"));
  return POSTAGE_EXIT_OK;
}

static int
entry_error_code (const GError *error)
{
  if (g_error_matches (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_BUSY))
    return POSTAGE_EXIT_TEMPFAIL;
  if (g_error_matches (error, POSTAGE_OUTBOX_ERROR, POSTAGE_OUTBOX_ERROR_NOT_FOUND))
    return POSTAGE_EXIT_USAGE;
  if (error->domain == POSTAGE_OUTBOX_ERROR)
    return POSTAGE_EXIT_DATAERR;
  return POSTAGE_EXIT_IOERR;
}

/* What flush leaves behind that a person must decide about: a message that
 * may have been sent (a crash after its "."), or a damaged one. Each is told
 * once, here or by whoever saw it first, not at every flush. */
static void
report_left (PostageOutbox *outbox,
             GPtrArray     *left)
{
  for (guint i = 0; i < left->len; i++)
    {
      PostageOutboxEntry *entry = g_ptr_array_index (left, i);
      const char *reason = entry->last_error != NULL ? entry->last_error : "";
      g_autoptr(GError) error = NULL;

      if (entry->busy || entry->reported)
        continue;
      if (entry->state == POSTAGE_OUTBOX_STATE_UNCERTAIN)
        /* Translators: an outbox id, the reason, then the same id twice */
        g_printerr (_("postage: %s may have been sent already: %s\npostage: postage outbox "
                      "retry %s sends it again (it may arrive twice), postage outbox remove %s "
                      "forgets it\n"), entry->id, reason, entry->id, entry->id);
      else if (entry->state == POSTAGE_OUTBOX_STATE_BROKEN)
        /* Translators: an outbox id, the reason, then the same id */
        g_printerr (_("postage: %s is damaged and cannot be sent: %s\npostage: postage outbox "
                      "remove %s deletes it\n"), entry->id, reason, entry->id);
      else
        continue;
      if (!postage_outbox_mark_reported (outbox, entry->id, &error))
        g_message ("Could not record that %s was reported: %s", entry->id, error->message);
    }
}

static int
outbox_send (int       argc,
             char    **argv,
             gboolean  flush)
{
  gboolean verbose = FALSE;
  gint timeout = 0;
  const GOptionEntry entries[] = {
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Show progress in detail"), NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      N_("Seconds to wait for the server at each step"), N_("SECONDS") },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new (flush ? N_("— send every queued message now")
                                : N_("ID… — send these messages again, whatever their state"));
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageAccountStore) store = NULL;
  g_autoptr(PostageOutbox) outbox = postage_outbox_new (NULL);
  g_autoptr(GPtrArray) left = NULL;
  PostageCliState state = { 0 };
  int code;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return _postage_cli_usage_error (context, error->message);
  if (flush ? argc != 1 : argc < 2)
    return _postage_cli_usage_error (context, flush ? _("Unexpected argument.")
                                                    : _("Name the messages to send again."));
  if (timeout < 0 || timeout > POSTAGE_SMTP_MAX_TIMEOUT)
    return _postage_cli_usage_error (context,
                                     _("--timeout must be a number of seconds from 1 to 600."));
  if ((store = _postage_cli_load_store (&error)) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);
  state.verbose = verbose;

  if (!flush)
    {
      /* "Send again": a failed or uncertain message is the person's call. */
      for (int i = 1; i < argc; i++)
        if (!postage_outbox_requeue (outbox, argv[i], &error))
          return _postage_cli_fail (entry_error_code (error), "%s", error->message);
      return _postage_cli_deliver (outbox, store, (const char * const *) argv + 1, &state,
                                   timeout, FALSE);
    }

  code = _postage_cli_deliver (outbox, store, NULL, &state, timeout, FALSE);
  /* Exit 0 only for an empty outbox: a cron job should hear of anything
   * that still waits or needs a person. */
  if ((left = postage_outbox_list (outbox, &error)) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_IOERR, "%s", error->message);
  if (left->len > 0)
    {
      gboolean waiting = FALSE;

      for (guint i = 0; i < left->len; i++)
        waiting |= ((PostageOutboxEntry *) g_ptr_array_index (left, i))->state ==
                   POSTAGE_OUTBOX_STATE_QUEUED;
      report_left (outbox, left);
      g_printerr (g_dngettext (GETTEXT_PACKAGE, "postage: %u message is still in the outbox "
                               "(postage outbox list)\n",
                               "postage: %u messages are still in the outbox (postage outbox "
                               "list)\n", left->len), left->len);
      if (code == POSTAGE_EXIT_OK)
        code = waiting ? POSTAGE_EXIT_TEMPFAIL : POSTAGE_EXIT_UNAVAILABLE;
    }
  return code;
}

static int
outbox_remove (int    argc,
               char **argv)
{
  g_autoptr(PostageOutbox) outbox = postage_outbox_new (NULL);
  g_autoptr(GError) error = NULL;

  for (int i = 1; i < argc; i++)
    {
      if (!postage_outbox_remove (outbox, argv[i], &error))
        return _postage_cli_fail (entry_error_code (error), "%s", error->message);
      g_printerr (_("postage: %s removed from the outbox\n"), argv[i]);
    }
  return POSTAGE_EXIT_OK;
}

int
_postage_cli_outbox_command (int    argc,
                             char **argv)
{
  g_autoptr(PostageOutbox) outbox = postage_outbox_new (NULL);

  if (argc == 2 && strcmp (argv[1], "list") == 0)
    return outbox_list (outbox);
  if (argc >= 2 && strcmp (argv[1], "flush") == 0)
    return outbox_send (argc - 1, argv + 1, TRUE);
  if (argc >= 3 && strcmp (argv[1], "retry") == 0)
    return outbox_send (argc - 1, argv + 1, FALSE);
  if (argc >= 3 && strcmp (argv[1], "remove") == 0)
    return outbox_remove (argc - 1, argv + 1);
  g_printerr ("%s\n", _("Usage: postage outbox list\n"
                        "       postage outbox flush [--timeout SECONDS] [--verbose]\n"
                        "       postage outbox retry ID…\n"
                        "       postage outbox remove ID…"));
  return POSTAGE_EXIT_USAGE;
}
