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
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mail/postage-mail-error.h"
#include "mail/postage-message-writer.h"
#include "mail/postage-raw-message.h"
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

/* The account to send with: @id's, or the default one. NULL after telling
 * why, with the exit code in @code. */
static PostageAccount *
pick_account (PostageAccountStore *store,
              const char          *id,
              int                 *code)
{
  g_autoptr(GError) error = NULL;
  PostageAccount *account = id != NULL ? postage_account_store_lookup (store, id)
                                       : postage_account_store_get_default (store);

  if (account == NULL)
    {
      *code = _postage_cli_fail (POSTAGE_EXIT_CONFIG, id != NULL
                 ? _("There is no account named “%s”. See postage account list.")
                 : _("There is no account yet%s. Add one with postage account add."),
                 id != NULL ? id : "");
      return NULL;
    }
  if (!postage_account_validate (account, &error))
    {
      *code = _postage_cli_fail (POSTAGE_EXIT_DATAERR, "%s", error->message);
      return NULL;
    }
  return account;
}

/* Exit code for a message that could not be stored in the outbox. */
static int
store_error_code (const GError *error)
{
  return error->domain == G_IO_ERROR ? POSTAGE_EXIT_IOERR : POSTAGE_EXIT_DATAERR;
}

/* Sends the entry just added, reporting as the command line does. */
static int
deliver_new (PostageOutbox       *outbox,
             PostageAccountStore *store,
             PostageAccount      *account,
             PostageOutboxEntry  *entry,
             gboolean             verbose,
             guint                timeout,
             gboolean             no_queue)
{
  PostageCliState state = { .verbose = verbose };
  const char *ids[2] = { entry->id, NULL };

  /* Translators: host, port, account name, then the outbox id */
  g_printerr (_("postage: sending to %s port %u as %s (outbox %s)\n"),
              postage_account_get_host (account), postage_account_get_port (account),
              postage_account_get_id (account), entry->id);
  return _postage_cli_deliver (outbox, store, ids, &state, timeout, no_queue);
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
  int code;

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
  if ((account = pick_account (store, account_id, &code)) == NULL)
    return code;

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
    return _postage_cli_fail (store_error_code (error), "%s", error->message);

  return deliver_new (outbox, store, account, entry, verbose, timeout, no_queue);
}

/* sendmail's input ends at EOF, or (without -i) at a line holding only
 * "." — the convention of mail(1) and of scripts that print one. */
#define SENDMAIL_MAX_INPUT (256 * 1024 * 1024)

static GByteArray *
read_message (FILE     *in,
              gboolean  dot_ends,
              GError  **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autofree char *line = NULL;
  size_t capacity = 0;
  ssize_t got;

  while ((got = getline (&line, &capacity, in)) > 0)
    {
      if (dot_ends && (strcmp (line, ".\n") == 0 || strcmp (line, ".\r\n") == 0 ||
                       (got == 1 && line[0] == '.')))
        break;
      if (data->len + (gsize) got > SENDMAIL_MAX_INPUT)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                       _("The message is larger than %d MB. Send large files with postage send "
                         "--attach, which streams them."), SENDMAIL_MAX_INPUT / (1024 * 1024));
          return NULL;
        }
      g_byte_array_append (data, (const guint8 *) line, got);
    }
  if (ferror (in))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The message could not be read from standard input: %s"), g_strerror (errno));
      return NULL;
    }
  return g_steal_pointer (&data);
}

static PostageOutgoing *
write_raw_cb (int       fd,
              gpointer  user_data,
              GError  **error)
{
  return postage_raw_message_write (user_data, fd, error);
}

typedef struct {
  gboolean   use_headers;
  gboolean   dot_ends;
  gboolean   verbose;
  char      *sender;
  char      *from_name;
  char      *account_id;
  guint      timeout;
  GPtrArray *recipients;
} SendmailArgs;

static void
sendmail_args_clear (SendmailArgs *args)
{
  g_free (args->sender);
  g_free (args->from_name);
  g_free (args->account_id);
  g_clear_pointer (&args->recipients, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SendmailArgs, sendmail_args_clear)

/* g_set_str() is GLib 2.76; Debian 12 has 2.74. */
static void
replace_str (char       **slot,
             const char  *value)
{
  g_free (*slot);
  *slot = g_strdup (value);
}

static int
sendmail_usage (const char *problem)
{
  if (problem != NULL)
    g_printerr ("postage sendmail: %s\n", problem);
  g_printerr ("%s\n", _("Usage: postage sendmail [-t] [-i] [-f SENDER] [-F NAME] [-a ACCOUNT] "
                        "[-v] [--timeout SECONDS] [--] [RECIPIENT…] < message"));
  return POSTAGE_EXIT_USAGE;
}

/* sendmail's own option syntax (getopt-like: "-ti", "-fbob@x" or "-f bob@x",
 * "-oi"), which GOption does not speak. Options that only tune the classic
 * sendmail's delivery (-od…, -oe…, -om, -B, -N, -R, -V, -U, -bm) are
 * accepted and ignored, so existing callers keep working. Returns -1 when
 * the arguments are good, an exit code otherwise. */
static int
parse_sendmail_args (int           argc,
                     char        **argv,
                     SendmailArgs *args)
{
  int i;

  args->dot_ends = TRUE;
  args->recipients = g_ptr_array_new ();
  for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++)
    {
      const char *arg = argv[i];

      if (strcmp (arg, "--") == 0)
        {
          i++;
          break;
        }
      if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0)
        return sendmail_usage (NULL), POSTAGE_EXIT_OK;
      if (g_str_has_prefix (arg, "--account=") || g_str_has_prefix (arg, "--timeout=") ||
          strcmp (arg, "--account") == 0 || strcmp (arg, "--timeout") == 0)
        {
          const char *value = strchr (arg, '=');
          gboolean is_account = g_str_has_prefix (arg, "--account");
          guint64 seconds;

          if (value != NULL)
            value++;
          else if (++i < argc)
            value = argv[i];
          else
            return sendmail_usage (_("An option needs a value."));
          if (is_account)
            replace_str (&args->account_id, value);
          else if (!g_ascii_string_to_unsigned (value, 10, 1, POSTAGE_SMTP_MAX_TIMEOUT, &seconds,
                                                NULL))
            return sendmail_usage (_("--timeout must be a number of seconds from 1 to 600."));
          else
            args->timeout = seconds;
          continue;
        }
      if (arg[1] == '-')
        return sendmail_usage (_("Unknown option."));
      for (const char *p = arg + 1; *p != '\0'; p++)
        {
          const char *value;

          switch (*p)
            {
            case 't': args->use_headers = TRUE; continue;
            case 'i': args->dot_ends = FALSE; continue;
            case 'v': args->verbose = TRUE; continue;
            case 'U': continue;
            case 'o':
              /* -oi is -i; -oem, -odi, … only tune delivery. */
              if (strcmp (p + 1, "i") == 0)
                args->dot_ends = FALSE;
              break;
            case 'b':
              if (strcmp (p + 1, "m") != 0)
                return sendmail_usage (_("Only -bm (send a message) is supported."));
              break;
            case 'f': case 'r': case 'F': case 'a': case 'B': case 'N': case 'R': case 'V':
              if (p[1] != '\0')
                value = p + 1;
              else if (++i < argc)
                value = argv[i];
              else
                return sendmail_usage (_("An option needs a value."));
              if (*p == 'f' || *p == 'r')
                replace_str (&args->sender, value);
              else if (*p == 'F')
                replace_str (&args->from_name, value);
              else if (*p == 'a')
                replace_str (&args->account_id, value);
              break;
            default:
              return sendmail_usage (_("Unknown option."));
            }
          break; /* the rest of this argument was the option's value */
        }
    }
  for (; i < argc; i++)
    g_ptr_array_add (args->recipients, argv[i]);
  g_ptr_array_add (args->recipients, NULL);
  return -1;
}

int
_postage_cli_sendmail_command (int    argc,
                               char **argv)
{
  g_auto(SendmailArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageAccountStore) store = NULL;
  g_autoptr(GByteArray) input = NULL;
  g_autoptr(PostageRawMessage) message = NULL;
  g_autoptr(PostageOutbox) outbox = NULL;
  g_autoptr(PostageOutboxEntry) entry = NULL;
  PostageRawOptions options = { 0 };
  PostageAccount *account;
  int code;

  if ((code = parse_sendmail_args (argc, argv, &args)) >= 0)
    return code;
  if ((store = _postage_cli_load_store (&error)) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_CONFIG, "%s", error->message);
  if ((account = pick_account (store, args.account_id, &code)) == NULL)
    return code;
  if ((input = read_message (stdin, args.dot_ends, &error)) == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_IOERR, "%s", error->message);

  /* The submission server decides which senders this account may use;
   * by default the account's own address, which every server accepts. */
  options.sender = args.sender != NULL ? args.sender : postage_account_get_email (account);
  options.from_name = args.from_name != NULL ? args.from_name
                                             : postage_account_get_display_name (account);
  options.from_address = postage_account_get_email (account);
  options.recipients = (const char * const *) args.recipients->pdata;
  options.use_headers = args.use_headers;
  message = postage_raw_message_parse ((const char *) input->data, input->len, &options, &error);
  if (message == NULL)
    return _postage_cli_fail (POSTAGE_EXIT_DATAERR, "%s", error->message);
  g_clear_pointer (&input, g_byte_array_unref);

  outbox = postage_outbox_new (NULL);
  entry = postage_outbox_add_with (outbox, NULL, postage_account_get_id (account),
                                   postage_raw_message_get_subject (message), NULL,
                                   write_raw_cb, message, &error);
  if (entry == NULL)
    return _postage_cli_fail (store_error_code (error), "%s", error->message);
  return deliver_new (outbox, store, account, entry, args.verbose, args.timeout, FALSE);
}
