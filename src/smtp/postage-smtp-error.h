/* postage-smtp-error.h — the error domain of the SMTP engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An extended GError (GLib 2.68): besides the sentence for the person it keeps
 * the server's reply code, enhanced status code and text, and for certificate
 * problems the certificate's SHA-256 fingerprint.
 * Cancellation and timeouts are reported as G_IO_ERROR_CANCELLED and
 * G_IO_ERROR_TIMED_OUT instead.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define POSTAGE_SMTP_ERROR (postage_smtp_error_quark ())

typedef enum {
  POSTAGE_SMTP_ERROR_CONNECT,               /* could not reach the server */
  POSTAGE_SMTP_ERROR_TLS_HANDSHAKE,         /* TLS could not be set up */
  POSTAGE_SMTP_ERROR_CERTIFICATE_UNTRUSTED, /* the certificate failed verification */
  POSTAGE_SMTP_ERROR_NO_STARTTLS,           /* STARTTLS not offered or refused */
  POSTAGE_SMTP_ERROR_STARTTLS_INJECTION,    /* bytes after the 220 to STARTTLS */
  POSTAGE_SMTP_ERROR_INSECURE_AUTH,         /* would send credentials in cleartext */
  POSTAGE_SMTP_ERROR_AUTH_UNSUPPORTED,      /* no mechanism we can use */
  POSTAGE_SMTP_ERROR_AUTH_FAILED,           /* 534/535: the credentials */
  POSTAGE_SMTP_ERROR_SENDER_REJECTED,       /* MAIL FROM refused */
  POSTAGE_SMTP_ERROR_RECIPIENT_REJECTED,    /* one or more RCPT TO refused */
  POSTAGE_SMTP_ERROR_MESSAGE_TOO_LARGE,     /* SIZE limit, or 552 */
  POSTAGE_SMTP_ERROR_MESSAGE_REJECTED,      /* 5xx after the data */
  POSTAGE_SMTP_ERROR_TRANSIENT,             /* 4xx: try again later */
  POSTAGE_SMTP_ERROR_PERMANENT,             /* another 5xx */
  POSTAGE_SMTP_ERROR_PROTOCOL,              /* a malformed or unexpected reply */
  POSTAGE_SMTP_ERROR_CLOSED,                /* the server closed the connection */
  POSTAGE_SMTP_ERROR_DELIVERY_UNKNOWN,      /* lost after the final dot: may have been sent */
} PostageSmtpErrorCode;

GQuark      postage_smtp_error_quark               (void);

/* Raises an error in the domain; @reply_code/@enhanced/@server_text describe
 * the server's reply (0/NULL when there was none). */
void        postage_smtp_set_error                 (GError     **error,
                                                    PostageSmtpErrorCode code,
                                                    guint        reply_code,
                                                    const char  *enhanced,
                                                    const char  *server_text,
                                                    const char  *format,
                                                    ...) G_GNUC_PRINTF (6, 7);

/* The server reply behind @error, or 0/NULL. */
guint       postage_smtp_error_get_reply_code      (const GError *error);
const char *postage_smtp_error_get_enhanced_status (const GError *error);
const char *postage_smtp_error_get_server_text     (const GError *error);
const char *postage_smtp_error_get_fingerprint     (const GError *error);
void        postage_smtp_error_set_fingerprint     (GError      *error,
                                                    const char  *fingerprint);
/* For a certificate problem: the certificate for a person to judge, one
 * "Label: value" a line (subject, issuer, validity, SHA-256), or NULL. */
const char *postage_smtp_error_get_certificate     (const GError *error);
void        postage_smtp_error_set_certificate     (GError      *error,
                                                    const char  *description);

/* TRUE when trying again later may work (4xx, network, timeout): the
 * "temporary failure" of sendmail's exit code 75. */
gboolean    postage_smtp_error_is_transient        (const GError *error);

G_END_DECLS
