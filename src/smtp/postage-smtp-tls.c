/* postage-smtp-tls.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Worker thread only. Every GnuTLS code becomes a GError here, once.
 */
#define G_LOG_DOMAIN "postage-smtp"

#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <sys/socket.h>

#include "postage-smtp-error.h"
#include "postage-smtp-tls.h"

/* TLS 1.2 is the floor (RFC 8996 deprecates 1.0 and 1.1; RFC 8314 §4.1). */
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct _PostageSmtpTls
{
  gnutls_session_t                 session;
  gnutls_certificate_credentials_t credentials;
  int                              fd;
  char                            *host;
  char                            *pinned;      /* trusted fingerprint, or NULL */
  char                            *seen;        /* the peer's, when pinning failed */
  char                            *seen_description;
};

/* MSG_NOSIGNAL: a server that resets the connection must not kill us with
 * SIGPIPE (the C25b case). */
static ssize_t
push_cb (gnutls_transport_ptr_t ptr,
         const void            *data,
         size_t                 size)
{
  PostageSmtpTls *tls = ptr;
  ssize_t sent = send (tls->fd, data, size, MSG_NOSIGNAL);

  if (sent < 0)
    gnutls_transport_set_errno (tls->session, errno);
  return sent;
}

static ssize_t
pull_cb (gnutls_transport_ptr_t ptr,
         void                  *data,
         size_t                 size)
{
  PostageSmtpTls *tls = ptr;
  ssize_t received = recv (tls->fd, data, size, 0);

  if (received < 0)
    gnutls_transport_set_errno (tls->session, errno);
  return received;
}

static gboolean
handshake_failed (GError    **error,
                  const char *host,
                  int         code)
{
  postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_TLS_HANDSHAKE, 0, NULL, NULL,
                          _("Could not set up an encrypted connection with %s: %s"),
                          host, gnutls_strerror (code));
  return FALSE;
}

static char *dup_fingerprint (gnutls_x509_crt_t crt);
static char *dup_certificate_names (gnutls_x509_crt_t crt);
static char *describe_certificate (gnutls_x509_crt_t crt, const char *names,
                                   const char *fingerprint);

/* With a pinned fingerprint, exactly that certificate is trusted: chain and
 * name do not matter, a different certificate always fails (never a silent
 * accept of a changed one). */
static int
verify_pinned_cb (gnutls_session_t session)
{
  PostageSmtpTls *tls = gnutls_session_get_ptr (session);
  const gnutls_datum_t *peers;
  unsigned int n_peers = 0;
  gnutls_x509_crt_t crt;
  gboolean match = FALSE;

  peers = gnutls_certificate_get_peers (session, &n_peers);
  if (peers == NULL || n_peers == 0 || gnutls_x509_crt_init (&crt) < 0)
    return -1;
  if (gnutls_x509_crt_import (crt, &peers[0], GNUTLS_X509_FMT_DER) == 0)
    {
      g_autofree char *names = dup_certificate_names (crt);

      g_free (tls->seen);
      tls->seen = dup_fingerprint (crt);
      g_free (tls->seen_description);
      tls->seen_description = describe_certificate (crt, names, tls->seen);
      match = tls->seen != NULL && g_ascii_strcasecmp (tls->seen, tls->pinned) == 0;
    }
  gnutls_x509_crt_deinit (crt);
  return match ? 0 : -1;
}

PostageSmtpTls *
postage_smtp_tls_new (int          fd,
                      const char  *host,
                      const char  *ca_file,
                      const char  *fingerprint,
                      GError     **error)
{
  g_autoptr(PostageSmtpTls) tls = g_new0 (PostageSmtpTls, 1);
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);
  int ret;

  tls->fd = fd;
  tls->host = g_strdup (host);
  tls->pinned = g_strdup (fingerprint);

  if ((ret = gnutls_certificate_allocate_credentials (&tls->credentials)) < 0)
    return handshake_failed (error, host, ret), NULL;
  /* GnuTLS would block forever opening a FIFO: only regular files. */
  if (ca_file != NULL && !g_file_test (ca_file, G_FILE_TEST_IS_REGULAR))
    ret = 0;
  else if (ca_file != NULL)
    ret = gnutls_certificate_set_x509_trust_file (tls->credentials, ca_file, GNUTLS_X509_FMT_PEM);
  else
    ret = gnutls_certificate_set_x509_system_trust (tls->credentials);
  /* A pinned certificate needs no authority; an empty trust list is fine. */
  if (ret <= 0 && fingerprint == NULL)
    {
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_TLS_HANDSHAKE, 0, NULL, NULL,
                              ca_file != NULL
                              ? _("No trusted certificate could be read from the CA file %s.")
                              : _("No trusted certificate authorities were found on this "
                                  "system%s. Install the ca-certificates package."),
                              ca_file != NULL ? ca_file : "");
      return NULL;
    }

  if ((ret = gnutls_init (&tls->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK)) < 0 ||
      (ret = gnutls_priority_set_direct (tls->session, PRIORITY, NULL)) < 0 ||
      (ret = gnutls_credentials_set (tls->session, GNUTLS_CRD_CERTIFICATE, tls->credentials)) < 0)
    return handshake_failed (error, host, ret), NULL;

  /* SNI carries host names only, never address literals (RFC 6066 §3). */
  if (address == NULL &&
      (ret = gnutls_server_name_set (tls->session, GNUTLS_NAME_DNS, host, strlen (host))) < 0)
    return handshake_failed (error, host, ret), NULL;
  /* The handshake itself checks the chain and that the certificate names
   * @host, and fails (with an alert to the server) when either is wrong. */
  if (tls->pinned == NULL)
    gnutls_session_set_verify_cert (tls->session, host, 0);
  else
    {
      gnutls_session_set_ptr (tls->session, tls);
      gnutls_session_set_verify_function (tls->session, verify_pinned_cb);
    }

  gnutls_transport_set_ptr (tls->session, tls);
  gnutls_transport_set_push_function (tls->session, push_cb);
  gnutls_transport_set_pull_function (tls->session, pull_cb);
  return g_steal_pointer (&tls);
}

void
postage_smtp_tls_free (PostageSmtpTls *tls)
{
  if (tls == NULL)
    return;
  if (tls->session != NULL)
    gnutls_deinit (tls->session);
  if (tls->credentials != NULL)
    gnutls_certificate_free_credentials (tls->credentials);
  g_free (tls->host);
  g_free (tls->pinned);
  g_free (tls->seen);
  g_free (tls->seen_description);
  g_free (tls);
}

/* The names a certificate is for, for the person to compare with the host. */
static char *
dup_certificate_names (gnutls_x509_crt_t crt)
{
  GString *names = g_string_new (NULL);

  for (unsigned int i = 0;; i++)
    {
      char name[256];
      size_t size = sizeof name;
      unsigned int type;
      int ret = gnutls_x509_crt_get_subject_alt_name2 (crt, i, name, &size, &type, NULL);

      if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        break;
      if (ret < 0)
        continue;
      if (type == GNUTLS_SAN_DNSNAME)
        g_string_append_printf (names, "%s%.*s", names->len ? ", " : "", (int) size, name);
      else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16))
        {
          g_autoptr(GInetAddress) ip =
            g_inet_address_new_from_bytes ((guint8 *) name, size == 4 ? G_SOCKET_FAMILY_IPV4
                                                                      : G_SOCKET_FAMILY_IPV6);
          g_autofree char *text = g_inet_address_to_string (ip);

          g_string_append_printf (names, "%s%s", names->len ? ", " : "", text);
        }
    }
  if (names->len == 0)
    {
      char cn[256];
      size_t size = sizeof cn;

      if (gnutls_x509_crt_get_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &size) == 0)
        g_string_append_printf (names, "%.*s", (int) size, cn);
    }
  return g_string_free (names, FALSE);
}

static char *
dup_fingerprint (gnutls_x509_crt_t crt)
{
  guchar digest[32];
  size_t size = sizeof digest;
  GString *out;

  if (gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256, digest, &size) < 0)
    return NULL;
  out = g_string_new (NULL);
  for (size_t i = 0; i < size; i++)
    g_string_append_printf (out, "%s%02X", i ? ":" : "", digest[i]);
  return g_string_free (out, FALSE);
}

static char *
dup_dn (gnutls_x509_crt_t crt,
        gboolean          issuer)
{
  gnutls_datum_t dn = { NULL, 0 };
  char *text;

  if ((issuer ? gnutls_x509_crt_get_issuer_dn3 (crt, &dn, 0)
              : gnutls_x509_crt_get_dn3 (crt, &dn, 0)) < 0)
    return g_strdup ("?");
  text = g_utf8_make_valid ((const char *) dn.data, dn.size);
  gnutls_free (dn.data);
  return text;
}

static char *
dup_time (time_t when)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (when);

  return time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M UTC") : g_strdup ("?");
}

/* What a person needs to decide whether to trust a certificate. */
static char *
describe_certificate (gnutls_x509_crt_t crt,
                      const char       *names,
                      const char       *fingerprint)
{
  g_autofree char *subject = dup_dn (crt, FALSE);
  g_autofree char *issuer = dup_dn (crt, TRUE);
  g_autofree char *from = dup_time (gnutls_x509_crt_get_activation_time (crt));
  g_autofree char *until = dup_time (gnutls_x509_crt_get_expiration_time (crt));

  return g_strdup_printf (_("Subject: %s\nNames: %s\nIssuer: %s\nValid from: %s\n"
                            "Valid until: %s\nSHA-256: %s"),
                          subject, names != NULL ? names : "", issuer, from, until,
                          fingerprint != NULL ? fingerprint : "?");
}

static gboolean
is_self_signed (gnutls_x509_crt_t crt)
{
  return gnutls_x509_crt_check_issuer (crt, crt) != 0;
}

static gboolean
certificate_failed (PostageSmtpTls *tls,
                    GError        **error)
{
  unsigned int status = gnutls_session_get_verify_cert_status (tls->session);
  const gnutls_datum_t *peers;
  unsigned int n_peers = 0;
  gnutls_x509_crt_t crt = NULL;
  g_autofree char *names = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *description = NULL;
  gboolean name_reason = FALSE;

  peers = gnutls_certificate_get_peers (tls->session, &n_peers);
  if (peers != NULL && n_peers > 0 && gnutls_x509_crt_init (&crt) == 0 &&
      gnutls_x509_crt_import (crt, &peers[0], GNUTLS_X509_FMT_DER) == 0)
    {
      names = dup_certificate_names (crt);
      fingerprint = dup_fingerprint (crt);
      description = describe_certificate (crt, names, fingerprint);
    }

  if (status & GNUTLS_CERT_EXPIRED)
    reason = g_strdup (_("it has expired"));
  else if (status & GNUTLS_CERT_NOT_ACTIVATED)
    reason = g_strdup (_("it is not valid yet (check this computer’s clock)"));
  else if (status & GNUTLS_CERT_REVOKED)
    reason = g_strdup (_("it has been revoked"));
  else if ((status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA)) &&
           crt != NULL && is_self_signed (crt))
    reason = g_strdup (_("it is self-signed, so nobody vouches for it"));
  else if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
    reason = g_strdup (_("it was issued by an unknown certificate authority"));
  else if ((name_reason = (status & GNUTLS_CERT_UNEXPECTED_OWNER) != 0))
    reason = g_strdup_printf (_("it is for %s, not for %s"), names != NULL ? names : _("another name"),
                              tls->host);
  else if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
    reason = g_strdup (_("it uses an insecure algorithm"));
  else
    {
      gnutls_datum_t text = { NULL, 0 };

      gnutls_certificate_verification_status_print (status, GNUTLS_CRT_X509, &text, 0);
      reason = g_strdup (text.data != NULL ? (const char *) text.data : "verification failed");
      gnutls_free (text.data);
    }
  /* A name mismatch on top of another problem is worth saying too. */
  if ((status & GNUTLS_CERT_UNEXPECTED_OWNER) && !name_reason)
    {
      char *both = g_strdup_printf (_("%s, and it is for %s, not for %s"), reason,
                                    names != NULL ? names : _("another name"), tls->host);

      g_free (reason);
      reason = both;
    }

  postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_CERTIFICATE_UNTRUSTED, 0, NULL, NULL,
                          /* Translators: a reason, then a SHA-256 fingerprint */
                          _("The server’s certificate is not trusted: %s. Nothing was sent. "
                            "If you expected this certificate, check its fingerprint "
                            "(SHA-256 %s) with the server’s administrator."),
                          reason, fingerprint != NULL ? fingerprint : "?");
  if (error != NULL && *error != NULL && fingerprint != NULL)
    postage_smtp_error_set_fingerprint (*error, fingerprint);
  if (error != NULL && *error != NULL && description != NULL)
    postage_smtp_error_set_certificate (*error, description);
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  return FALSE;
}

gboolean
postage_smtp_tls_handshake (PostageSmtpTls  *tls,
                            gboolean        *again,
                            GError         **error)
{
  int ret;

  *again = FALSE;
  do
    ret = gnutls_handshake (tls->session);
  while (ret < 0 && !gnutls_error_is_fatal (ret) && ret != GNUTLS_E_AGAIN);

  if (ret == GNUTLS_E_AGAIN)
    {
      *again = TRUE;
      return FALSE;
    }
  if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
    return certificate_failed (tls, error);
  if (ret == GNUTLS_E_CERTIFICATE_ERROR && tls->pinned != NULL)
    {
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_CERTIFICATE_UNTRUSTED, 0, NULL, NULL,
                              /* Translators: two SHA-256 fingerprints */
                              _("The server’s certificate is not the one you chose to trust "
                                "(SHA-256 %s). It now presents SHA-256 %s. Nothing was sent. "
                                "Check with the server’s administrator before trusting it."),
                              tls->pinned, tls->seen != NULL ? tls->seen : "?");
      if (error != NULL && *error != NULL && tls->seen != NULL)
        postage_smtp_error_set_fingerprint (*error, tls->seen);
      if (error != NULL && *error != NULL && tls->seen_description != NULL)
        postage_smtp_error_set_certificate (*error, tls->seen_description);
      return FALSE;
    }
  /* A peer that hangs up mid-handshake dropped the connection; that is the
   * network's kind of failure (try later), not a TLS misconfiguration. */
  if (ret == GNUTLS_E_PREMATURE_TERMINATION || ret == GNUTLS_E_PULL_ERROR ||
      ret == GNUTLS_E_PUSH_ERROR)
    {
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_CLOSED, 0, NULL, NULL,
                              _("The server %s closed the connection during the TLS handshake. "
                                "Try again later."), tls->host);
      return FALSE;
    }
  if (ret < 0)
    return handshake_failed (error, tls->host, ret);
  return TRUE;
}

gssize
postage_smtp_tls_recv (PostageSmtpTls *tls,
                       char           *buffer,
                       gsize           size,
                       GError        **error)
{
  gssize ret;

  do
    ret = gnutls_record_recv (tls->session, buffer, size);
  while (ret == GNUTLS_E_INTERRUPTED);

  if (ret == GNUTLS_E_AGAIN)
    return POSTAGE_SMTP_TLS_AGAIN;
  /* A server that drops TCP without close_notify is common (RFC 8446 §6.1
   * allows nothing else, real servers do it anyway after 221): treat it as
   * the end of the stream; the session decides whether that was too early. */
  if (ret == GNUTLS_E_PREMATURE_TERMINATION)
    return 0;
  if (ret < 0)
    {
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_CLOSED, 0, NULL, NULL,
                              _("The encrypted connection broke: %s"), gnutls_strerror (ret));
      return -1;
    }
  return ret;
}

gssize
postage_smtp_tls_send (PostageSmtpTls *tls,
                       const char     *data,
                       gsize           size,
                       GError        **error)
{
  gssize ret;

  do
    ret = gnutls_record_send (tls->session, data, size);
  while (ret == GNUTLS_E_INTERRUPTED);

  if (ret == GNUTLS_E_AGAIN)
    return POSTAGE_SMTP_TLS_AGAIN;
  if (ret < 0)
    {
      postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_CLOSED, 0, NULL, NULL,
                              _("The encrypted connection broke: %s"), gnutls_strerror (ret));
      return -1;
    }
  return ret;
}

gboolean
postage_smtp_tls_wants_write (PostageSmtpTls *tls)
{
  return gnutls_record_get_direction (tls->session) == 1;
}

gsize
postage_smtp_tls_pending (PostageSmtpTls *tls)
{
  return gnutls_record_check_pending (tls->session);
}

void
postage_smtp_tls_bye (PostageSmtpTls *tls)
{
  /* One try, non-blocking: a peer that is gone must not stall us. */
  gnutls_bye (tls->session, GNUTLS_SHUT_WR);
}
