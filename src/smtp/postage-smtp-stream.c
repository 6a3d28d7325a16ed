/* postage-smtp-stream.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Worker thread only.
 */
#define G_LOG_DOMAIN "postage-smtp"

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <glib/gi18n.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "postage-smtp-error.h"
#include "postage-smtp-reply.h"
#include "postage-smtp-stream.h"
#include "postage-smtp-tls.h"

#define READ_CHUNK 4096

struct _PostageSmtpStream
{
  GSocketConnection *connection;
  GCancellable      *cancellable;
  PostageSmtpTls    *tls;
  int                fd;
  guint              timeout_ms;
  gint64             deadline;  /* monotonic µs; 0 = timeout_ms per wait */
  GByteArray        *buffer;  /* received, not yet returned as lines */
  guint64            received;
  gboolean           eof;
};

PostageSmtpStream *
postage_smtp_stream_connect (const char    *host,
                             guint16        port,
                             guint          timeout_seconds,
                             GCancellable  *cancellable,
                             GError       **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) local_error = NULL;
  PostageSmtpStream *stream;
  GSocketConnection *connection;

  g_socket_client_set_timeout (client, timeout_seconds);
  connection = g_socket_client_connect_to_host (client, host, port, cancellable, &local_error);
  if (connection == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
          g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_CONNECT, 0, NULL, NULL,
                                /* Translators: host, port, then the system's reason */
                                _("Could not connect to %s port %u: %s. Check the server name "
                                  "and port, and your network connection."),
                                host, port, local_error->message);
      return NULL;
    }

  stream = g_new0 (PostageSmtpStream, 1);
  stream->connection = connection;
  stream->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  stream->timeout_ms = MIN (timeout_seconds, POSTAGE_SMTP_MAX_TIMEOUT) * 1000;
  stream->buffer = g_byte_array_new ();
  g_socket_set_blocking (g_socket_connection_get_socket (connection), FALSE);
  /* Each command is written whole, then we wait for its reply: Nagle would
   * hold a short write (EHLO after the handshake, the final ".") until the
   * server's delayed ACK, 40 ms each on Linux. */
  g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY, 1,
                       NULL);
  stream->fd = g_socket_get_fd (g_socket_connection_get_socket (connection));
  return stream;
}

void
postage_smtp_stream_free (PostageSmtpStream *stream)
{
  if (stream == NULL)
    return;
  g_clear_pointer (&stream->tls, postage_smtp_tls_free);
  g_clear_object (&stream->connection);
  g_clear_object (&stream->cancellable);
  g_byte_array_unref (stream->buffer);
  g_free (stream);
}

void
postage_smtp_stream_set_cancellable (PostageSmtpStream *stream,
                                     GCancellable      *cancellable)
{
  g_set_object (&stream->cancellable, cancellable);
}

void
postage_smtp_stream_set_timeout (PostageSmtpStream *stream,
                                 guint              timeout_seconds)
{
  stream->timeout_ms = MIN (timeout_seconds, POSTAGE_SMTP_MAX_TIMEOUT) * 1000;
}

void
postage_smtp_stream_start_deadline (PostageSmtpStream *stream)
{
  stream->deadline = g_get_monotonic_time () + (gint64) stream->timeout_ms * 1000;
}

void
postage_smtp_stream_clear_deadline (PostageSmtpStream *stream)
{
  stream->deadline = 0;
}

/* Waits until the socket is readable (or writable), the job is cancelled, or
 * the timeout passes. */
static gboolean
wait_for (PostageSmtpStream *stream,
          gboolean           for_write,
          GError           **error)
{
  struct pollfd fds[2] = {
    { .fd = stream->fd, .events = for_write ? POLLOUT : POLLIN },
    { .fd = -1, .events = POLLIN },
  };
  gint64 deadline = stream->deadline != 0
                    ? stream->deadline
                    : g_get_monotonic_time () + (gint64) stream->timeout_ms * 1000;
  gboolean have_cancel_fd = FALSE;
  gboolean ready = FALSE;
  GPollFD cancel_fd;

  if (stream->cancellable != NULL &&
      g_cancellable_make_pollfd (stream->cancellable, &cancel_fd))
    {
      have_cancel_fd = TRUE;
      fds[1].fd = cancel_fd.fd;
    }

  while (!ready)
    {
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      int ret;

      if (g_cancellable_set_error_if_cancelled (stream->cancellable, error))
        break;
      if (left <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       /* Translators: %u is a number of seconds */
                       _("The server did not answer within %u seconds."),
                       stream->timeout_ms / 1000);
          break;
        }
      ret = poll (fds, have_cancel_fd ? 2 : 1, (int) MIN (left, G_MAXINT));
      if (ret < 0 && errno != EINTR)
        {
          int saved_errno = errno;

          postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_CLOSED, 0, NULL, NULL,
                                  "poll: %s", g_strerror (saved_errno));
          break;
        }
      ready = ret > 0 && fds[0].revents != 0;
    }

  if (have_cancel_fd)
    g_cancellable_release_fd (stream->cancellable);
  return ready;
}

gboolean
postage_smtp_stream_start_tls (PostageSmtpStream  *stream,
                               const char         *host,
                               const char         *ca_file,
                               const char         *fingerprint,
                               GError            **error)
{
  g_return_val_if_fail (stream->tls == NULL, FALSE);

  stream->tls = postage_smtp_tls_new (stream->fd, host, ca_file, fingerprint, error);
  if (stream->tls == NULL)
    return FALSE;
  for (;;)
    {
      gboolean again;

      if (postage_smtp_tls_handshake (stream->tls, &again, error))
        return TRUE;
      if (!again || !wait_for (stream, postage_smtp_tls_wants_write (stream->tls), error))
        {
          /* No close_notify for a session that never started. */
          g_clear_pointer (&stream->tls, postage_smtp_tls_free);
          return FALSE;
        }
    }
}

guint64
postage_smtp_stream_get_received (PostageSmtpStream *stream)
{
  return stream->received;
}

gboolean
postage_smtp_stream_is_tls (PostageSmtpStream *stream)
{
  return stream->tls != NULL;
}

gboolean
postage_smtp_stream_has_unread (PostageSmtpStream *stream)
{
  struct pollfd fd = { .fd = stream->fd, .events = POLLIN };

  if (stream->buffer->len > 0 || (stream->tls != NULL && postage_smtp_tls_pending (stream->tls)))
    return TRUE;
  /* Also bytes in the kernel that arrived with or right after the reply.
   * A connection the server already closed counts as nothing unread. */
  if (poll (&fd, 1, 0) == 1 && (fd.revents & POLLIN))
    {
      char byte;

      return recv (stream->fd, &byte, 1, MSG_PEEK) == 1;
    }
  return FALSE;
}

/* Reads what is available into the buffer; FALSE on error or end of stream. */
static gboolean
fill_buffer (PostageSmtpStream *stream,
             GError           **error)
{
  char chunk[READ_CHUNK];

  for (;;)
    {
      gssize got;

      if (stream->tls != NULL)
        {
          got = postage_smtp_tls_recv (stream->tls, chunk, sizeof chunk, error);
          if (got == POSTAGE_SMTP_TLS_AGAIN)
            {
              if (!wait_for (stream, postage_smtp_tls_wants_write (stream->tls), error))
                return FALSE;
              continue;
            }
        }
      else
        {
          got = recv (stream->fd, chunk, sizeof chunk, 0);
          if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            {
              if (!wait_for (stream, FALSE, error))
                return FALSE;
              continue;
            }
          if (got < 0)
            {
              int saved_errno = errno;

              postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_CLOSED, 0, NULL, NULL,
                                      _("The connection to the server broke: %s"),
                                      g_strerror (saved_errno));
              return FALSE;
            }
        }
      if (got < 0)
        return FALSE;
      if (got == 0)
        {
          stream->eof = TRUE;
          return FALSE;
        }
      g_byte_array_append (stream->buffer, (guint8 *) chunk, got);
      stream->received += got;
      return TRUE;
    }
}

char *
postage_smtp_stream_read_line (PostageSmtpStream  *stream,
                               gsize              *length,
                               GError            **error)
{
  for (;;)
    {
      guint8 *newline = stream->buffer->len > 0
                        ? memchr (stream->buffer->data, '\n', stream->buffer->len) : NULL;
      gsize line_length;
      char *line;

      if (newline != NULL || (stream->eof && stream->buffer->len > 0))
        {
          gsize consumed = newline != NULL ? (gsize) (newline - stream->buffer->data) + 1
                                           : stream->buffer->len;

          line_length = newline != NULL ? consumed - 1 : consumed;
          if (line_length > 0 && stream->buffer->data[line_length - 1] == '\r')
            line_length--;
          /* NUL-terminated for convenience, but NULs inside are kept and
           * counted: the parser must see them to refuse them. */
          line = g_malloc (line_length + 1);
          memcpy (line, stream->buffer->data, line_length);
          line[line_length] = '\0';
          g_byte_array_remove_range (stream->buffer, 0, consumed);
          *length = line_length;
          return line;
        }
      if (stream->eof)
        return NULL;
      if (stream->buffer->len > POSTAGE_SMTP_MAX_LINE)
        {
          postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_PROTOCOL, 0, NULL, NULL,
                                  _("The server sent a reply line longer than %d bytes."),
                                  POSTAGE_SMTP_MAX_LINE);
          return NULL;
        }
      if (!fill_buffer (stream, error) && !stream->eof)
        return NULL;
    }
}

gboolean
postage_smtp_stream_write_all (PostageSmtpStream  *stream,
                               const char         *data,
                               gsize               length,
                               GError            **error)
{
  while (length > 0)
    {
      gssize sent;

      if (g_cancellable_set_error_if_cancelled (stream->cancellable, error))
        return FALSE;
      if (stream->tls != NULL)
        {
          sent = postage_smtp_tls_send (stream->tls, data, length, error);
          if (sent == POSTAGE_SMTP_TLS_AGAIN)
            {
              if (!wait_for (stream, TRUE, error))
                return FALSE;
              continue;
            }
          if (sent < 0)
            return FALSE;
        }
      else
        {
          sent = send (stream->fd, data, length, MSG_NOSIGNAL);
          if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            {
              if (!wait_for (stream, TRUE, error))
                return FALSE;
              continue;
            }
          if (sent < 0)
            {
              int saved_errno = errno;

              postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_CLOSED, 0, NULL, NULL,
                                      _("The connection to the server broke: %s"),
                                      g_strerror (saved_errno));
              return FALSE;
            }
        }
      data += sent;
      length -= sent;
    }
  return TRUE;
}

void
postage_smtp_stream_close (PostageSmtpStream *stream)
{
  if (stream->connection == NULL)
    return;
  if (stream->tls != NULL)
    postage_smtp_tls_bye (stream->tls);
  g_io_stream_close (G_IO_STREAM (stream->connection), NULL, NULL);
  g_clear_object (&stream->connection);
}
