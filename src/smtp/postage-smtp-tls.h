/* postage-smtp-tls.h — a GnuTLS client session over a non-blocking socket
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The only part of Postage that sees GnuTLS. Worker thread only. Every call is
 * non-blocking: POSTAGE_SMTP_TLS_AGAIN means "poll the socket and call again";
 * postage_smtp_tls_wants_write() tells which way to poll.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define POSTAGE_SMTP_TLS_AGAIN (-2)

typedef struct _PostageSmtpTls PostageSmtpTls;

/* Verifies against @ca_file when set, else the system trust store, and
 * checks that the certificate names @host; or, with @fingerprint (SHA-256,
 * "AB:CD:…"), trusts exactly that certificate and nothing else.
 * Errors: POSTAGE_SMTP_ERROR_TLS_HANDSHAKE. */
PostageSmtpTls *postage_smtp_tls_new        (int              fd,
                                             const char      *host,
                                             const char      *ca_file,
                                             const char      *fingerprint,
                                             GError         **error);
void            postage_smtp_tls_free       (PostageSmtpTls  *tls);

/* TRUE when done, FALSE with @error set, or FALSE with *again = TRUE.
 * Errors: POSTAGE_SMTP_ERROR_CERTIFICATE_UNTRUSTED (with the fingerprint),
 * POSTAGE_SMTP_ERROR_TLS_HANDSHAKE. */
gboolean        postage_smtp_tls_handshake  (PostageSmtpTls  *tls,
                                             gboolean        *again,
                                             GError         **error);
/* Bytes read, 0 at end of stream, -1 with @error, or POSTAGE_SMTP_TLS_AGAIN. */
gssize          postage_smtp_tls_recv       (PostageSmtpTls  *tls,
                                             char            *buffer,
                                             gsize            size,
                                             GError         **error);
gssize          postage_smtp_tls_send       (PostageSmtpTls  *tls,
                                             const char      *data,
                                             gsize            size,
                                             GError         **error);
gboolean        postage_smtp_tls_wants_write (PostageSmtpTls *tls);
/* Bytes already decrypted and waiting, which a poll() would not see. */
gsize           postage_smtp_tls_pending    (PostageSmtpTls  *tls);
/* Sends close_notify without waiting for the peer's. */
void            postage_smtp_tls_bye        (PostageSmtpTls  *tls);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageSmtpTls, postage_smtp_tls_free)

G_END_DECLS
