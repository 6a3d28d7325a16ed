/* postage-cli-send.c — `postage send` and `postage sendmail`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only. Both build the message into the outbox first, then
 * send it through the same queue as the window.
 */
#define G_LOG_DOMAIN "postage-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "mail/postage-mail-error.h"
#include "mail/postage-message-writer.h"
#include "postage-cli.h"
#include "postage-cli-private.h"
#include "smtp/postage-smtp-reply.h"
#include "store/postage-outbox.h"

static char *
read_body_file (const char  *path,
                GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (strcmp (path, "-") == 0)
    {
      GString *in = g_string_new (NULL);
      char chunk[4096];
      size_t got;

      while ((got = fread (chunk, 1, sizeof chunk, stdin)) > 0)
        g_string_append_len (in, chunk, got);
      length = in->len;
      contents = g_string_free (in, FALSE);
    }
  else if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      /* /dev/zero or a FIFO would grow memory or block forever. */
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("%s is not a regular file."), path);
      return NULL;
    }
  else if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;

  if (memchr (contents, '\0', length) != NULL || !g_utf8_validate (contents, length, NULL))
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                   _("The message text in %s is not UTF-8 text. Convert it (for example with "
                     "iconv) or attach the file instead."), path);
      return NULL;
    }
  return g_steal_pointer (&contents);
}

int
_postage_cli_send_command (int    argc,
                           char **argv)
{
  g_autofree char *account_id = NULL;
  g_auto(GStrv) to = NULL;
  g_auto(GStrv) cc = NULL;
  g_auto(GStrv) bcc = NULL;
  g_auto(GStrv) attach = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *body = NULL;
  g_autofree char *body_file = NULL;
  g_autofree char *reply_to = NULL;
  gboolean verbose = FALSE;
  gboolean no_queue = FALSE;
  gint timeout = 0;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_id, N_("Send with this account"),
      N_("NAME") },
    { "to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &to, N_("A recipient (repeat for more)"),
      N_("ADDRESS") },
    { "cc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cc, N_("A copy recipient"), N_("ADDRESS") },
    { "bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &bcc, N_("A hidden recipient"), N_("ADDRESS") },
    { "subject", 0, 0, G_OPTION_ARG_STRING, &subject, N_("The subject"), N_("TEXT") },
    { "body", 0, 0, G_OPTION_ARG_STRING, &body, N_("The message text"), N_("TEXT") },
    { "body-file", 0, 0, G_OPTION_ARG_FILENAME, &body_file,
      N_("Read the message text from FILE (- for standard input)"), N_("FILE") },
    { "attach", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &attach, N_("Attach a file (repeatable)"),
      N_("FILE") },
    { "reply-to", 0, 0, G_OPTION_ARG_STRING, &reply_to,
      N_("Where replies should go, when not to the sender"), N_("ADDRESS") },
    { "no-queue", 0, 0, G_OPTION_ARG_NONE, &no_queue,
      N_("Keep nothing in the outbox when the message is not sent (the script retries)"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Show progress in detail"), NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      N_("Seconds to wait for the server at each step"), N_("SECONDS") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("— send a message"));
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageAccountStore) store = NULL;
  g_autoptr(PostageDraft) draft = postage_draft_new ();
  g_autoptr(PostageOutbox) outbox = NULL;
  g_autoptr(PostageOutboxEntry) entry = NULL;
  PostageAccount *account;
  PostageCliState state = { 0 };
  const char *ids[2] = { NULL, NULL };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return _postage_cli_usage_error (context, error->message);
  if (argc != 1)
    return _postage_cli_usage_error (context, _("Unexpected argument; put recipients after --to."));
  if (body != NULL && body_file != NULL)
    return _postage_cli_usage_error (context, _("Use either --body or --body-file, not both."));
  if (timeout < 0 || timeout > POSTAGE_SMTP_MAX_TIMEOUT)
    return _postage_cli_usage_error (context, _("--timeout must be a number of seconds from 1 to 600."));

  if ((store = _postage_cli_load_store (&error)) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);
  account = account_id != NULL ? postage_account_store_lookup (store, account_id)
                               : postage_account_store_get_default (store);
  if (account == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, account_id != NULL
                 ? _("There is no account named “%s”. See postage account list.")
                 : _("There is no account yet%s. Add one with postage account add."),
                 account_id != NULL ? account_id : "");
  if (!postage_account_validate (account, &error))
    return _postage_cli_fail (POSTAGE_EXIT_DATAERR, "%s", error->message);

  if (body_file != NULL && (body = read_body_file (body_file, &error)) == NULL)
    return _postage_cli_fail (error->domain == POSTAGE_MAIL_ERROR ? POSTAGE_EXIT_DATAERR
                                                     : POSTAGE_EXIT_USAGE, "%s", error->message);
  draft->account_id = g_strdup (postage_account_get_id (account));
  draft->from_name = g_strdup (postage_account_get_display_name (account));
  draft->from_address = g_strdup (postage_account_get_email (account));
  draft->to = to != NULL ? g_strjoinv (", ", to) : NULL;
  draft->cc = cc != NULL ? g_strjoinv (", ", cc) : NULL;
  draft->bcc = bcc != NULL ? g_strjoinv (", ", bcc) : NULL;
  draft->reply_to = g_strdup (reply_to);
  draft->subject = g_strdup (subject);
  draft->body = g_strdup (body);
  for (guint i = 0; attach != NULL && attach[i] != NULL; i++)
    g_ptr_array_add (draft->attachments, g_strdup (attach[i]));

  /* The outbox first, before any network I/O: from here on the message
   * is on disk, whatever happens to this process. */
  outbox = postage_outbox_new (NULL);
  if ((entry = postage_outbox_add (outbox, draft, &error)) == NULL)
    return _postage_cli_fail (error->domain == G_IO_ERROR ? POSTAGE_EXIT_IOERR
                                                          : POSTAGE_EXIT_DATAERR,
                              "%s", error->message);

  state.verbose = verbose;
  /* Translators: host, port, account name, then the outbox id */
  g_printerr (_("postage: sending to %s port %u as %s (outbox %s)\n"),
              postage_account_get_host (account), postage_account_get_port (account),
              postage_account_get_id (account), entry->id);
  ids[0] = entry->id;
  return _postage_cli_deliver (outbox, store, ids, &state, timeout, no_queue);
}

int
_postage_cli_sendmail_command (int    argc,
                               char **argv)
{
  /* FIXME: issue 6's `postage sendmail`; until then, say so. */
  g_printerr ("%s\n", _("postage sendmail is not available yet."));
  return POSTAGE_EXIT_USAGE;
}
