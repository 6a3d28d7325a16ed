/* postage-smtp-stream.h — a line stream over TCP, plain or TLS
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Worker thread only. Blocking from the caller's point of view, but every wait
 * polls the socket together with the GCancellable and a timeout, so a silent
 * server or a cancel never leaves the worker stuck.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _PostageSmtpStream PostageSmtpStream;

/* Tries every address of @host (IPv6 and IPv4). Errors:
 * POSTAGE_SMTP_ERROR_CONNECT, G_IO_ERROR_CANCELLED, G_IO_ERROR_TIMED_OUT. */
PostageSmtpStream *postage_smtp_stream_connect    (const char         *host,
                                                   guint16             port,
                                                   guint               timeout_seconds,
                                                   GCancellable       *cancellable,
                                                   GError            **error);
void               postage_smtp_stream_free       (PostageSmtpStream  *stream);
/* A server that trickles a byte now and then must not stretch a wait
 * forever: between start and clear, every wait shares one deadline. */
void               postage_smtp_stream_start_deadline (PostageSmtpStream *stream);
void               postage_smtp_stream_clear_deadline (PostageSmtpStream *stream);
/* NULL lets a last QUIT out after the job was cancelled. */
void               postage_smtp_stream_set_cancellable (PostageSmtpStream *stream,
                                                        GCancellable      *cancellable);
void               postage_smtp_stream_set_timeout (PostageSmtpStream *stream,
                                                   guint               timeout_seconds);

/* Errors: as postage_smtp_tls_handshake(), plus cancellation and timeout. */
gboolean           postage_smtp_stream_start_tls  (PostageSmtpStream  *stream,
                                                   const char         *host,
                                                   const char         *ca_file,
                                                   const char         *fingerprint,
                                                   GError            **error);
/* Bytes received so far (after decryption). */
guint64            postage_smtp_stream_get_received (PostageSmtpStream *stream);
gboolean           postage_smtp_stream_is_tls     (PostageSmtpStream  *stream);

/* TRUE when bytes have arrived that nobody has read yet: after the 220 to
 * STARTTLS that is an injection attack (RFC 3207 §4.2). */
gboolean           postage_smtp_stream_has_unread (PostageSmtpStream  *stream);

/* One line without its CRLF (a lone LF is accepted as an end of line too).
 * A last line the server left unterminated before closing is returned as is.
 * Returns NULL at the end of the stream (with no error) or on error.
 * Errors: POSTAGE_SMTP_ERROR_PROTOCOL (line too long), _CLOSED,
 * G_IO_ERROR_CANCELLED, G_IO_ERROR_TIMED_OUT. */
char              *postage_smtp_stream_read_line  (PostageSmtpStream  *stream,
                                                   gsize              *length,
                                                   GError            **error);
gboolean           postage_smtp_stream_write_all  (PostageSmtpStream  *stream,
                                                   const char         *data,
                                                   gsize               length,
                                                   GError            **error);
/* Sends a TLS close_notify when secure, then closes the socket. */
void               postage_smtp_stream_close      (PostageSmtpStream  *stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageSmtpStream, postage_smtp_stream_free)

G_END_DECLS
