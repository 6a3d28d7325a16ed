/* postage-smtp-session.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Worker thread only: this file blocks. It touches nothing but its own
 * Session and the job's read-only snapshot.
 */
#define G_LOG_DOMAIN "postage-smtp"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "accounts/postage-secret-store.h"
#include "postage-smtp-codec.h"
#include "postage-smtp-error.h"
#include "postage-smtp-job-private.h"
#include "postage-smtp-reply.h"
#include "postage-smtp-session.h"
#include "postage-smtp-stream.h"

/* DATA goes out in pieces this large; progress is reported per piece. */
#define DATA_CHUNK (64 * 1024)
/* RFC 5321 §4.5.3.2.6 allows the server 10 minutes after the final dot; a
 * desktop waits a multiple of its command timeout instead, up to that. */
#define FINAL_REPLY_TIMEOUT_FACTOR 3
#define FINAL_REPLY_TIMEOUT_MAX    600
/* A server that says nothing this long and then hangs up is waiting for a
 * TLS ClientHello (an implicit-TLS port), not one that dropped us. */
#define SILENT_PORT_USEC (3 * G_USEC_PER_SEC)
/* QUIT is a courtesy (RFC 5321 §4.1.1.10): never wait long for its 221. */
#define QUIT_TIMEOUT 5

typedef struct {
  PostageSmtpJob      *job;
  GCancellable        *cancellable;
  PostageSmtpEmitFunc  emit;
  gpointer             emit_data;
  PostageSmtpStream   *stream;
  PostageSmtpCaps      caps;
  char                *helo_name;
  /* Strings that must never be shown, even if a server echoes them. */
  GPtrArray           *secrets;
  /* FALSE once the server closed or said 421: no QUIT then. */
  gboolean             can_quit;
  /* Between DATA's 354 and the final dot: no command can be sent. */
  gboolean             in_data;
  /* What the next reply answers, for "timed out at which stage". */
  char                *awaiting;
} Session;

static void
emit_phase (Session         *s,
            PostageSmtpPhase phase)
{
  PostageSmtpEvent event = { .kind = POSTAGE_SMTP_EVENT_PHASE, .phase = phase };

  s->emit (&event, s->emit_data);
}

static void
emit_progress (Session *s,
               guint64  sent,
               guint64  total)
{
  PostageSmtpEvent event = {
    .kind = POSTAGE_SMTP_EVENT_PROGRESS, .phase = POSTAGE_SMTP_PHASE_SENDING,
    .bytes_sent = sent, .bytes_total = total,
  };

  s->emit (&event, s->emit_data);
}

static gboolean
holds_secret (Session    *s,
              const char *text,
              gssize      length)
{
  for (guint i = 0; i < s->secrets->len; i++)
    if (g_strstr_len (text, length, g_ptr_array_index (s->secrets, i)) != NULL)
      return TRUE;
  return FALSE;
}

/* The last guard before the transcript: whatever the caller passed, a line
 * holding a credential is never shown. */
static void
emit_line (Session    *s,
           char        direction,
           const char *line)
{
  PostageSmtpEvent event = { .kind = POSTAGE_SMTP_EVENT_TRANSCRIPT, .direction = direction };
  g_autofree char *shown = postage_smtp_sanitize_text (line, -1);

  event.line = holds_secret (s, shown, -1) ? "****" : shown;
  s->emit (&event, s->emit_data);
}

static void
wipe_string (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

/* Remembers what the next reply answers: the verb only, from the shown
 * form, since an argument may be a credential; a bare credential line
 * (AUTH LOGIN's steps) is still AUTH. */
static void
set_awaiting (Session    *s,
              const char *shown)
{
  g_free (s->awaiting);
  s->awaiting = shown[0] == '*' ? g_strdup ("AUTH") : g_strndup (shown, strcspn (shown, " "));
}

/* For a stage that is no command: the phrase is shown whole. */
static void
set_awaiting_phrase (Session    *s,
                     const char *phrase)
{
  g_free (s->awaiting);
  s->awaiting = g_strdup (phrase);
}

/* @shown replaces the command in the transcript (for credentials). */
static gboolean
send_command (Session     *s,
              const char  *command,
              const char  *shown,
              GError     **error)
{
  g_autofree char *line = g_strconcat (command, "\r\n", NULL);
  gboolean ok;

  emit_line (s, 'C', shown != NULL ? shown : command);
  set_awaiting (s, shown != NULL ? shown : command);
  ok = postage_smtp_stream_write_all (s->stream, line, strlen (line), error);
  explicit_bzero (line, strlen (line));
  return ok;
}

static gboolean read_reply_lines (Session           *s,
                                  PostageSmtpReply  *reply,
                                  GError           **error);

static PostageSmtpReply *
read_reply (Session  *s,
            GError  **error)
{
  g_autoptr(PostageSmtpReply) reply = postage_smtp_reply_new ();
  PostageSmtpReply *complete;

  postage_smtp_stream_start_deadline (s->stream);
  complete = read_reply_lines (s, reply, error) ? g_steal_pointer (&reply) : NULL;
  postage_smtp_stream_clear_deadline (s->stream);
  if (complete != NULL && complete->code == 421)
    s->can_quit = FALSE; /* RFC 5321 §3.8: the server is closing the channel */
  return complete;
}

/* A server may echo what it was sent (a broken or hostile one): a line that
 * holds a credential is cut to its code before anyone sees or parses it. */
static char *
redact_line (Session    *s,
             char       *line,
             gsize      *length)
{
  char *redacted;

  if (!holds_secret (s, line, *length))
    return line;
  redacted = g_strdup_printf ("%.4s****", line);
  explicit_bzero (line, *length);
  g_free (line);
  *length = strlen (redacted);
  return redacted;
}

static gboolean
read_reply_lines (Session           *s,
                  PostageSmtpReply  *reply,
                  GError           **error)
{
  while (!reply->complete)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *line = NULL;
      gsize length;

      line = postage_smtp_stream_read_line (s->stream, &length, &local_error);
      if (line == NULL)
        {
          /* A closed, broken or silent connection takes no QUIT; a
           * cancelled one still may (see quit()). */
          if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            s->can_quit = FALSE;
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                         /* Translators: %s is an SMTP command such as EHLO */
                         _("%s (It was answering %s.) Try again later."),
                         local_error->message,
                         s->awaiting != NULL ? s->awaiting : "?");
          else if (local_error != NULL)
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_CLOSED, 0, NULL, NULL,
                                    _("The server closed the connection unexpectedly. "
                                      "Try again later."));
          return FALSE;
        }
      line = redact_line (s, g_steal_pointer (&line), &length);
      emit_line (s, 'S', line);
      if (!postage_smtp_reply_add_line (reply, line, length, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
command (Session            *s,
         const char         *line,
         PostageSmtpReply  **out_reply,
         GError            **error)
{
  if (!send_command (s, line, NULL, error))
    return FALSE;
  *out_reply = read_reply (s, error);
  return *out_reply != NULL;
}

/* Turns a refusal into an error that keeps the server's words. A 4xx is a
 * temporary failure whatever the stage; so is 421, after which the server
 * hangs up. */
static gboolean
fail_with_reply (GError                 **error,
                 const PostageSmtpReply  *reply,
                 PostageSmtpErrorCode     code,
                 const char              *sentence)
{
  g_autofree char *summary = postage_smtp_reply_dup_summary (reply);

  /* A 4xx says "not now" whatever the step: advice about fixing the
   * password or the address would be wrong. The code stays, so the outcome
   * (retry) and the step are still known to callers. */
  if (reply->code / 100 == 4)
    {
      if (code != POSTAGE_SMTP_ERROR_SENDER_REJECTED)
        code = POSTAGE_SMTP_ERROR_TRANSIENT;
      sentence = reply->code == 421
                 ? _("The server is closing the connection for now. Try again later.")
                 : _("The server could not do this right now (a temporary problem). "
                     "Try again later.");
    }
  postage_smtp_set_error (error, code, reply->code, reply->enhanced, reply->text,
                          /* Translators: a sentence, then the server's reply */
                          _("%s The server said: %s"), sentence, summary);
  return FALSE;
}

static char *
make_helo_name (void)
{
  const char *name = g_get_host_name ();

  /* RFC 5321 §4.1.4 wants the client's FQDN; a bare host name is refused by
   * some servers, so anything that does not look like one says localhost. */
  if (name != NULL && strchr (name, '.') != NULL && g_hostname_is_ascii_encoded (name) &&
      strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
      strlen (name))
    return g_strdup (name);
  return g_strdup ("localhost");
}

static gboolean
greeting (Session  *s,
          GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(PostageSmtpReply) reply = NULL;
  gint64 start = g_get_monotonic_time ();

  set_awaiting_phrase (s, _("the connection (no greeting)"));
  reply = read_reply (s, &local_error);
  if (reply == NULL)
    {
      /* A port that speaks TLS from the first byte waits in silence for a
       * ClientHello, then gives up (C35b); a server that hangs up at once is
       * just busy or restarting: a temporary failure like any other drop. */
      if (!postage_smtp_stream_is_tls (s->stream) &&
          postage_smtp_stream_get_received (s->stream) == 0 &&
          (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
           (g_error_matches (local_error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_CLOSED) &&
            g_get_monotonic_time () - start >= SILENT_PORT_USEC)))
        {
          postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_PROTOCOL, 0, NULL, NULL,
                                  _("The server on port %u never greeted Postage. It may "
                                    "expect TLS from the first byte (implicit TLS, usually "
                                    "port 465): choose TLS instead of STARTTLS in the account "
                                    "settings."), s->job->port);
          return FALSE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (reply->code != 220)
    return fail_with_reply (error, reply, POSTAGE_SMTP_ERROR_PERMANENT,
                            _("The server refused the connection."));
  return TRUE;
}

static gboolean
ehlo (Session  *s,
      GError  **error)
{
  g_autofree char *line = g_strconcat ("EHLO ", s->helo_name, NULL);
  g_autoptr(PostageSmtpReply) reply = NULL;

  memset (&s->caps, 0, sizeof s->caps);
  if (!command (s, line, &reply, error))
    return FALSE;
  if (reply->code == 250)
    {
      postage_smtp_caps_parse (reply, &s->caps);
      /* The last EHLO wins: after STARTTLS it is the one that counts. */
      s->job->size_limit = s->caps.size;
      return TRUE;
    }
  /* RFC 5321 §4.1.4: fall back to HELO only when EHLO is not understood,
   * never after a 421 or a 4xx. */
  if (reply->code == 500 || reply->code == 502)
    {
      g_autofree char *helo = g_strconcat ("HELO ", s->helo_name, NULL);
      g_autoptr(PostageSmtpReply) helo_reply = NULL;

      if (!command (s, helo, &helo_reply, error))
        return FALSE;
      if (helo_reply->code == 250)
        return TRUE;
      return fail_with_reply (error, helo_reply, POSTAGE_SMTP_ERROR_PERMANENT,
                              _("The server did not accept Postage's greeting (HELO)."));
    }
  return fail_with_reply (error, reply, POSTAGE_SMTP_ERROR_PERMANENT,
                          _("The server did not accept Postage's greeting (EHLO)."));
}

static gboolean
start_tls (Session  *s,
           GError  **error)
{
  g_autoptr(GError) local_error = NULL;

  emit_phase (s, POSTAGE_SMTP_PHASE_TLS);
  if (postage_smtp_stream_start_tls (s->stream, s->job->host, s->job->ca_file,
                                     s->job->fingerprint, &local_error))
    return TRUE;

  s->can_quit = FALSE;
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   _("%s (It was in the TLS handshake.) Try again later."), local_error->message);
      return FALSE;
    }
  if (s->job->security == POSTAGE_SECURITY_TLS &&
      g_error_matches (local_error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_TLS_HANDSHAKE))
    {
      /* Implicit TLS against a plain port: the server's "220" is not TLS (C35). */
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_TLS_HANDSHAKE, 0, NULL, NULL,
                              _("%s The server on port %u may not speak TLS from the first "
                                "byte: if it expects STARTTLS (usually port 587), choose "
                                "STARTTLS in the account settings."),
                              local_error->message, s->job->port);
      return FALSE;
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gboolean
starttls (Session  *s,
          GError  **error)
{
  g_autoptr(PostageSmtpReply) reply = NULL;

  /* RFC 3207 §4: required by the account, so never carry on in cleartext. */
  if (!(s->caps.flags & POSTAGE_SMTP_CAP_STARTTLS))
    {
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_NO_STARTTLS, 0, NULL, NULL,
                              _("The server does not offer STARTTLS, so the connection cannot "
                                "be encrypted. Postage stopped before sending your password or "
                                "message. Check the port (587 for STARTTLS, 465 for TLS), or "
                                "ask your provider."));
      return FALSE;
    }
  if (!command (s, "STARTTLS", &reply, error))
    return FALSE;
  if (reply->code != 220)
    return fail_with_reply (error, reply, POSTAGE_SMTP_ERROR_NO_STARTTLS,
                            _("The server refused to start encryption (STARTTLS), so Postage "
                              "stopped before sending your password or message."));
  /* RFC 3207 §4.2 and CVE-2021-22947: anything sent after the 220 and before
   * the handshake was injected by someone on the path. Never parse it. */
  if (postage_smtp_stream_has_unread (s->stream))
    {
      s->can_quit = FALSE;
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_STARTTLS_INJECTION, 0, NULL, NULL,
                              _("The server sent unexpected data right before encryption "
                                "started, which is a sign of an attack on the connection "
                                "(STARTTLS injection). Postage stopped; nothing was sent."));
      return FALSE;
    }
  if (!start_tls (s, error))
    return FALSE;
  /* RFC 3207 §4.2: forget everything learnt before TLS and ask again. */
  return ehlo (s, error);
}

static gboolean
authenticate_plain (Session            *s,
                    const char         *user,
                    const char         *password,
                    PostageSmtpReply  **out_reply,
                    GError            **error)
{
  char *encoded = postage_smtp_sasl_plain (user, password);
  char *line;
  gboolean ok;

  /* RFC 4954 §4: the initial response saves a round trip. */
  g_ptr_array_add (s->secrets, g_strdup (encoded));
  line = g_strconcat ("AUTH PLAIN ", encoded, NULL);
  ok = send_command (s, line, "AUTH PLAIN ****", error);
  wipe_string (line);
  wipe_string (encoded);
  if (!ok)
    return FALSE;
  *out_reply = read_reply (s, error);
  return *out_reply != NULL;
}

static gboolean
authenticate_login (Session            *s,
                    const char         *user,
                    const char         *password,
                    PostageSmtpReply  **out_reply,
                    GError            **error)
{
  const char *steps[] = { user, password };

  if (!command (s, "AUTH LOGIN", out_reply, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      char *encoded;
      gboolean ok;

      /* 334 with or without text (Yandex sends a bare "334"). */
      if ((*out_reply)->code != 334)
        return TRUE;
      g_clear_pointer (out_reply, postage_smtp_reply_free);
      encoded = g_base64_encode ((const guchar *) steps[i], strlen (steps[i]));
      g_ptr_array_add (s->secrets, g_strdup (encoded));
      ok = send_command (s, encoded, "****", error);
      wipe_string (encoded);
      if (!ok || (*out_reply = read_reply (s, error)) == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
authenticate (Session  *s,
              char    **out_summary,
              GError  **error)
{
  PostageSmtpJob *job = s->job;
  g_autoptr(PostageSmtpReply) reply = NULL;
  char *password = NULL;
  gboolean ok;

  if (job->user == NULL || *job->user == '\0')
    return TRUE;

  /* Never credentials in cleartext; the one exception is an explicit
   * security=none account on this machine (checked when it was saved). */
  if (!postage_smtp_stream_is_tls (s->stream) &&
      !(job->security == POSTAGE_SECURITY_NONE && postage_host_is_loopback (job->host)))
    {
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_INSECURE_AUTH, 0, NULL, NULL,
                              _("Postage will not send your password over an unencrypted "
                                "connection."));
      return FALSE;
    }
  if (!(s->caps.auth & (POSTAGE_SMTP_AUTH_PLAIN | POSTAGE_SMTP_AUTH_LOGIN)))
    {
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_AUTH_UNSUPPORTED, 0, NULL, NULL,
                              (s->caps.flags & POSTAGE_SMTP_CAP_AUTH)
                              ? _("The server offers no sign-in method Postage supports "
                                  "(PLAIN or LOGIN).")
                              : _("The server does not offer sign-in (AUTH) on this "
                                  "connection. Check the server name and port."));
      return FALSE;
    }

  emit_phase (s, POSTAGE_SMTP_PHASE_AUTH);
  if (job->password != NULL)
    password = g_strdup (job->password);
  else
    {
      char *stored = postage_secret_store_lookup_sync (job->host, job->port, job->user,
                                                       s->cancellable, error);

      if (stored == NULL)
        return FALSE;
      password = g_strdup (stored);
      postage_secret_free (stored);
    }
  g_ptr_array_add (s->secrets, g_strdup (password));

  if (s->caps.auth & POSTAGE_SMTP_AUTH_PLAIN)
    ok = authenticate_plain (s, job->user, password, &reply, error);
  else
    ok = authenticate_login (s, job->user, password, &reply, error);
  wipe_string (password);
  if (!ok)
    return FALSE;

  /* RFC 4954 §6: 535 is bad credentials; 534 (Gmail's "Application-specific
   * password required") asks for a stronger mechanism or password. Either
   * way, do not retry other mechanisms with the same password. */
  if (reply->code == 235)
    {
      *out_summary = postage_smtp_reply_dup_summary (reply);
      return TRUE;
    }
  if (reply->code == 334)
    {
      /* A challenge after our last answer: cancel the exchange (RFC 4954 §4). */
      g_autoptr(PostageSmtpReply) cancelled = NULL;

      if (command (s, "*", &cancelled, NULL))
        g_clear_pointer (&cancelled, postage_smtp_reply_free);
    }
  /* 534 5.7.9 (Gmail) and its kin: the password is right but the wrong kind. */
  if (reply->code == 534 || g_strcmp0 (reply->enhanced, "5.7.9") == 0)
    return fail_with_reply (error, reply, POSTAGE_SMTP_ERROR_AUTH_FAILED,
                            _("Signing in failed: this provider requires an app-specific "
                              "password. Create one in your account’s security settings (the "
                              "server’s message below may link to the page), then enter it "
                              "instead of your usual password."));
  return fail_with_reply (error, reply, POSTAGE_SMTP_ERROR_AUTH_FAILED,
                          _("Signing in failed: the server did not accept the user name or "
                            "password. Check them; many providers (iCloud, Gmail, Yahoo…) "
                            "require an app-specific password."));
}

static gboolean
is_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p >= 0x80)
      return FALSE;
  return TRUE;
}

static char *
mail_from_line (Session  *s,
                GError  **error)
{
  PostageSmtpJob *job = s->job;
  GString *line = g_string_new (NULL);
  gboolean utf8_envelope = !is_ascii (job->sender);

  for (guint i = 0; i < job->recipients->len; i++)
    utf8_envelope |= !is_ascii (g_ptr_array_index (job->recipients, i));

  g_string_printf (line, "MAIL FROM:<%s>", job->sender);
  /* RFC 1870: declare the size so an oversized message is refused up front. */
  if (s->caps.flags & POSTAGE_SMTP_CAP_SIZE)
    g_string_append_printf (line, " SIZE=%" G_GUINT64_FORMAT, job->size);
  if (job->eight_bit)
    {
      if (!(s->caps.flags & POSTAGE_SMTP_CAP_8BITMIME))
        {
          postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_PERMANENT, 0, NULL, NULL,
                                  _("The message contains 8-bit data, which this server does "
                                    "not accept (no 8BITMIME)."));
          return g_string_free (line, TRUE), NULL;
        }
      g_string_append (line, " BODY=8BITMIME");
    }
  if (utf8_envelope)
    {
      /* RFC 6531: a non-ASCII address needs SMTPUTF8; never send one without. */
      if (!(s->caps.flags & POSTAGE_SMTP_CAP_SMTPUTF8))
        {
          postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_PERMANENT, 0, NULL, NULL,
                                  _("An address contains non-ASCII characters, which this "
                                    "server does not accept (no SMTPUTF8). Nothing was sent."));
          return g_string_free (line, TRUE), NULL;
        }
      g_string_append (line, " SMTPUTF8");
    }
  return g_string_free (line, FALSE);
}

/* Streams the message file through the DATA encoder. @fd is the message,
 * opened before MAIL so that a missing file never starts a transaction. */
static gboolean
send_data (Session  *s,
           int       fd,
           GError  **error)
{
  guint64 total = s->job->size;
  guint64 done = 0;
  g_autofree guchar *buffer = g_malloc (DATA_CHUNK);
  g_autoptr(GByteArray) out = g_byte_array_sized_new (DATA_CHUNK * 2 + 8);
  PostageSmtpDataEncoder encoder;

  postage_smtp_data_encoder_init (&encoder);
  s->in_data = TRUE;
  emit_line (s, 'C', "[message]");
  emit_progress (s, 0, total);
  for (;;)
    {
      gssize got = read (fd, buffer, DATA_CHUNK);

      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          int saved = errno;

          /* Mid-DATA: hanging up (no ".") is what makes the server drop it. */
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("The stored message could not be read: %s. Nothing was delivered."),
                       g_strerror (saved));
          return FALSE;
        }
      if (got == 0)
        break;
      if (g_cancellable_set_error_if_cancelled (s->cancellable, error))
        return FALSE;
      g_byte_array_set_size (out, 0);
      postage_smtp_data_encoder_feed (&encoder, buffer, got, out);
      if (!postage_smtp_stream_write_all (s->stream, (char *) out->data, out->len, error))
        return FALSE;
      done += got;
      emit_progress (s, MIN (done, total), total);
    }
  g_byte_array_set_size (out, 0);
  postage_smtp_data_encoder_finish (&encoder, out);
  /* The last chance to stop: until the "." the server keeps nothing. The
   * caller makes "it may have gone" durable here, so that a crash while
   * the verdict is awaited can never lead to sending it twice. */
  if (s->job->before_final_dot != NULL &&
      !s->job->before_final_dot (NULL, s->job->hook_data, error))
    return FALSE;
  emit_line (s, 'C', ".");
  set_awaiting_phrase (s, _("the end of the message"));
  if (!postage_smtp_stream_write_all (s->stream, (char *) out->data, out->len, error))
    return FALSE;
  s->in_data = FALSE;
  return TRUE;
}

static gboolean
recipients_refused (GPtrArray              *refused,  /* "address (reply)" */
                    const PostageSmtpReply *worst,
                    GError                **error)
{
  g_autofree char *list = NULL;
  guint n = refused->len;

  g_ptr_array_add (refused, NULL);
  list = g_strjoinv ("; ", (char **) refused->pdata);
  if (worst->code / 100 == 4)
    {
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_RECIPIENT_REJECTED,
                              worst->code, worst->enhanced, list,
                              _("The server cannot take the message for every recipient right "
                                "now (a temporary refusal, such as greylisting): %s. Nothing "
                                "was sent; try again later."), list);
      return FALSE;
    }
  postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_RECIPIENT_REJECTED,
                          worst->code, worst->enhanced, list,
                          g_dngettext (GETTEXT_PACKAGE,
                                       "The server refused a recipient, so the message was sent "
                                       "to nobody: %s. Fix the address and send again.",
                                       "The server refused some recipients, so the message was "
                                       "sent to nobody: %s. Fix the addresses and send again.",
                                       n),
                          list);
  return FALSE;
}

/* Postfix refuses a sender the login does not own at RCPT, not MAIL, as
 * "<sender>: Sender address rejected: …": that is about the From address,
 * not the recipient, and the advice must say so. */
static gboolean
refuses_sender (const PostageSmtpReply *reply,
                const char             *sender)
{
  g_autofree char *quoted = g_strdup_printf ("<%s>", sender);

  return reply->text != NULL &&
         (g_str_has_prefix (reply->text, quoted) ||
          strstr (reply->text, "Sender address rejected") != NULL);
}

/* MAIL and every RCPT, then DATA only when all of them were accepted. Every
 * recipient is tried so that every refused address is named at once; the
 * message goes to all of them or to none.
 *
 * With PIPELINING (RFC 2920), MAIL and the RCPTs go in one write. DATA is
 * deliberately not part of that batch: a server may answer 354 although a
 * RCPT failed, and then the only way on is a lone "." — which Postfix
 * delivers, as an empty message, to the recipients it accepted. One more
 * round trip is the price of never sending half a message. */
static gboolean
envelope (Session  *s,
          GError  **error)
{
  PostageSmtpJob *job = s->job;
  gboolean pipelining = (s->caps.flags & POSTAGE_SMTP_CAP_PIPELINING) != 0;
  g_autofree char *mail_from = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) refused = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(PostageSmtpReply) mail_reply = NULL;
  g_autoptr(PostageSmtpReply) worst = NULL;
  g_autoptr(PostageSmtpReply) sender_refusal = NULL;
  g_autoptr(PostageSmtpReply) data_reply = NULL;

  /* RFC 1870 §6: refuse up front what the server already said it won't take. */
  if (s->caps.size > 0 && job->size > s->caps.size)
    {
      g_autofree char *size = g_format_size (job->size);
      g_autofree char *limit = g_format_size (s->caps.size);

      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_MESSAGE_TOO_LARGE, 0, NULL, NULL,
                              /* Translators: two sizes, such as "3.1 MB" */
                              _("The message is %s, but the server accepts at most %s. Make "
                                "it smaller (fewer or smaller attachments) and send again."),
                              size, limit);
      return FALSE;
    }
  if ((mail_from = mail_from_line (s, error)) == NULL)
    return FALSE;

  g_ptr_array_add (lines, g_steal_pointer (&mail_from));
  for (guint i = 0; i < job->recipients->len; i++)
    g_ptr_array_add (lines, g_strdup_printf ("RCPT TO:<%s>",
                                             (char *) g_ptr_array_index (job->recipients, i)));

  if (pipelining)
    {
      g_autoptr(GString) batch = g_string_new (NULL);

      for (guint i = 0; i < lines->len; i++)
        {
          emit_line (s, 'C', g_ptr_array_index (lines, i));
          g_string_append_printf (batch, "%s\r\n", (char *) g_ptr_array_index (lines, i));
        }
      if (!postage_smtp_stream_write_all (s->stream, batch->str, batch->len, error))
        return FALSE;
    }

  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr(PostageSmtpReply) reply = NULL;

      if (!pipelining && !send_command (s, g_ptr_array_index (lines, i), NULL, error))
        return FALSE;
      set_awaiting (s, g_ptr_array_index (lines, i));
      if ((reply = read_reply (s, error)) == NULL)
        return FALSE;
      /* 221 is a 2xx, but it means "closing", not "accepted". */
      if (reply->code == 421 || reply->code == 221)
        {
          s->can_quit = FALSE;
          return fail_with_reply (error, reply, POSTAGE_SMTP_ERROR_TRANSIENT,
                                  _("The server is closing the connection. Try again later."));
        }
      if (i == 0)
        {
          mail_reply = g_steal_pointer (&reply);
          /* In lock step a refused MAIL ends the envelope; pipelined RCPT
           * replies are already on their way and must still be read. */
          if (mail_reply->code / 100 != 2 && !pipelining)
            break;
          continue;
        }
      if (reply->code / 100 == 2)
        continue;
      if (sender_refusal == NULL && refuses_sender (reply, job->sender))
        {
          sender_refusal = g_steal_pointer (&reply);
          continue;
        }
      {
        g_autofree char *summary = postage_smtp_reply_dup_summary (reply);

        g_ptr_array_add (refused, g_strdup_printf ("%s (%s)",
                                                   (char *) g_ptr_array_index (job->recipients,
                                                                               i - 1),
                                                   summary));
      }
      /* A permanent refusal outweighs a temporary one. */
      if (worst == NULL || (worst->code / 100 == 4 && reply->code / 100 == 5))
        {
          g_clear_pointer (&worst, postage_smtp_reply_free);
          worst = g_steal_pointer (&reply);
        }
    }

  if (mail_reply->code / 100 != 2 || sender_refusal != NULL)
    return fail_with_reply (error, sender_refusal != NULL ? sender_refusal : mail_reply,
                            POSTAGE_SMTP_ERROR_SENDER_REJECTED,
                            _("The server refused the sender address: this account may not "
                              "send as it. Check the email address of the account: it must be "
                              "one your provider lets you send from."));
  if (refused->len > 0)
    return recipients_refused (refused, worst, error);

  if (!command (s, "DATA", &data_reply, error))
    return FALSE;
  if (data_reply->code != 354)
    return fail_with_reply (error, data_reply, POSTAGE_SMTP_ERROR_PERMANENT,
                            _("The server refused to take the message (DATA)."));
  return TRUE;
}

static char *
transfer (Session  *s,
          GError  **error)
{
  g_autoptr(PostageSmtpReply) reply = NULL;
  g_autoptr(GError) local_error = NULL;
  guint timeout = MIN (s->job->timeout * FINAL_REPLY_TIMEOUT_FACTOR, FINAL_REPLY_TIMEOUT_MAX);
  gboolean sent;
  int fd;

  emit_phase (s, POSTAGE_SMTP_PHASE_SENDING);
  fd = g_open (s->job->path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("The stored message %s could not be opened: %s"), s->job->path,
                   g_strerror (saved));
      return NULL;
    }
  sent = envelope (s, error) && send_data (s, fd, error);
  close (fd);
  if (!sent)
    return NULL;

  postage_smtp_stream_set_timeout (s->stream, MAX (timeout, s->job->timeout));
  reply = read_reply (s, &local_error);
  postage_smtp_stream_set_timeout (s->stream, s->job->timeout);
  if (reply == NULL)
    {
      g_autofree char *what = NULL;

      /* The whole message went out; only the verdict is missing or
       * unreadable. Sending it again could deliver it twice, so say so
       * rather than retry (C23c). Even a cancel comes too late now. */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        what = g_strdup (_("the server did not confirm it in time"));
      else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        what = g_strdup (_("sending was cancelled while the server was confirming it"));
      else if (g_error_matches (local_error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_PROTOCOL))
        /* Translators: %s is the parser's sentence about the bad reply */
        what = g_strdup_printf (_("the server’s confirmation could not be read (%s)"),
                                local_error->message);
      else
        what = g_strdup (_("the connection was lost before the server confirmed it"));
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_DELIVERY_UNKNOWN, 0, NULL,
                              postage_smtp_error_get_server_text (local_error),
                              /* Translators: %s says what went wrong */
                              _("The whole message was sent, but %s. It may or may not have "
                                "been delivered: check with a recipient before sending it "
                                "again."), what);
      return NULL;
    }
  if (reply->code / 100 == 2)
    {
      g_autofree char *summary = postage_smtp_reply_dup_summary (reply);
      g_autoptr(GError) hook_error = NULL;

      /* Accepted: recorded now, before QUIT or anything else can fail. */
      if (s->job->accepted != NULL &&
          !s->job->accepted (summary, s->job->hook_data, &hook_error))
        g_message ("The accepted message could not be recorded: %s", hook_error->message);
      return g_steal_pointer (&summary);
    }
  if (reply->code == 552)
    fail_with_reply (error, reply, POSTAGE_SMTP_ERROR_MESSAGE_TOO_LARGE,
                     _("The message is too large for the server."));
  else
    fail_with_reply (error, reply, POSTAGE_SMTP_ERROR_MESSAGE_REJECTED,
                     _("The server refused the message."));
  return NULL;
}

/* Polite and best effort: by now the outcome is decided, so nothing that
 * goes wrong here (no 221, a reset, no close_notify: C25*) changes it. */
static void
quit (Session *s)
{
  g_autoptr(PostageSmtpReply) reply = NULL;

  if (s->stream == NULL)
    return;
  /* After a cancel the conversation may be mid-reply, which is fine: the
   * server answers what it was answering, then QUIT. Not mid-DATA, though,
   * where "QUIT" would just be a line of the message: there, hanging up is
   * what tells the server to drop it. */
  if (s->in_data)
    s->can_quit = FALSE;
  if (g_cancellable_is_cancelled (s->cancellable))
    postage_smtp_stream_set_cancellable (s->stream, NULL);
  if (s->can_quit)
    {
      postage_smtp_stream_set_timeout (s->stream, MIN (s->job->timeout, QUIT_TIMEOUT));
      if (send_command (s, "QUIT", NULL, NULL))
        reply = read_reply (s, NULL);
    }
  postage_smtp_stream_close (s->stream);
}

static char *
run (Session  *s,
     GError  **error)
{
  PostageSmtpJob *job = s->job;
  g_autofree char *auth_summary = NULL;

  emit_phase (s, POSTAGE_SMTP_PHASE_CONNECTING);
  s->stream = postage_smtp_stream_connect (job->host, job->port, job->timeout, s->cancellable,
                                           error);
  if (s->stream == NULL)
    return NULL;
  s->can_quit = TRUE;

  if (job->security == POSTAGE_SECURITY_TLS && !start_tls (s, error))
    return NULL;
  if (!greeting (s, error) || !ehlo (s, error))
    return NULL;
  if (job->security == POSTAGE_SECURITY_STARTTLS && !starttls (s, error))
    return NULL;
  if (!authenticate (s, &auth_summary, error))
    return NULL;
  if (job->sender == NULL)
    return auth_summary != NULL ? g_steal_pointer (&auth_summary)
                                : g_strdup (_("Connected; this account needs no sign-in."));
  return transfer (s, error);
}

char *
postage_smtp_session_run (PostageSmtpJob      *job,
                          GCancellable        *cancellable,
                          PostageSmtpEmitFunc  emit,
                          gpointer             emit_data,
                          GError             **error)
{
  Session s = {
    .job = job,
    .cancellable = cancellable,
    .emit = emit,
    .emit_data = emit_data,
    .helo_name = make_helo_name (),
    .secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) wipe_string),
  };
  char *result;

  g_return_val_if_fail (job != NULL, NULL);

  result = run (&s, error);
  quit (&s);
  if (result != NULL)
    emit_phase (&s, POSTAGE_SMTP_PHASE_DONE);

  g_clear_pointer (&s.stream, postage_smtp_stream_free);
  g_ptr_array_unref (s.secrets);
  g_free (s.helo_name);
  g_free (s.awaiting);
  return result;
}
