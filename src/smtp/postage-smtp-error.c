/* postage-smtp-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Any thread.
 */
#include "config.h"

#include <gio/gio.h>

#include "postage-smtp-error.h"

typedef struct {
  guint  reply_code;
  char  *enhanced;
  char  *server_text;
  char  *fingerprint;
  char  *certificate;
} PostageSmtpErrorPrivate;

static void
postage_smtp_error_private_init (PostageSmtpErrorPrivate *priv)
{
}

static void
postage_smtp_error_private_copy (const PostageSmtpErrorPrivate *src,
                                 PostageSmtpErrorPrivate       *dest)
{
  dest->reply_code = src->reply_code;
  dest->enhanced = g_strdup (src->enhanced);
  dest->server_text = g_strdup (src->server_text);
  dest->fingerprint = g_strdup (src->fingerprint);
  dest->certificate = g_strdup (src->certificate);
}

static void
postage_smtp_error_private_clear (PostageSmtpErrorPrivate *priv)
{
  g_clear_pointer (&priv->enhanced, g_free);
  g_clear_pointer (&priv->server_text, g_free);
  g_clear_pointer (&priv->fingerprint, g_free);
  g_clear_pointer (&priv->certificate, g_free);
}

G_DEFINE_EXTENDED_ERROR (PostageSmtpError, postage_smtp_error)

void
postage_smtp_set_error (GError             **error,
                        PostageSmtpErrorCode code,
                        guint                reply_code,
                        const char          *enhanced,
                        const char          *server_text,
                        const char          *format,
                        ...)
{
  PostageSmtpErrorPrivate *priv;
  g_autofree char *message = NULL;
  GError *new_error;
  va_list args;

  if (error == NULL)
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  new_error = g_error_new_literal (POSTAGE_SMTP_ERROR, code, message);
  priv = postage_smtp_error_get_private (new_error);
  priv->reply_code = reply_code;
  priv->enhanced = g_strdup (enhanced);
  priv->server_text = g_strdup (server_text);
  g_propagate_error (error, new_error);
}

static PostageSmtpErrorPrivate *
get_private (const GError *error)
{
  if (error == NULL || error->domain != POSTAGE_SMTP_ERROR)
    return NULL;
  return postage_smtp_error_get_private (error);
}

guint
postage_smtp_error_get_reply_code (const GError *error)
{
  PostageSmtpErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->reply_code : 0;
}

const char *
postage_smtp_error_get_enhanced_status (const GError *error)
{
  PostageSmtpErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->enhanced : NULL;
}

const char *
postage_smtp_error_get_server_text (const GError *error)
{
  PostageSmtpErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->server_text : NULL;
}

const char *
postage_smtp_error_get_fingerprint (const GError *error)
{
  PostageSmtpErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->fingerprint : NULL;
}

void
postage_smtp_error_set_fingerprint (GError     *error,
                                    const char *fingerprint)
{
  PostageSmtpErrorPrivate *priv = get_private (error);

  g_return_if_fail (priv != NULL);
  g_free (priv->fingerprint);
  priv->fingerprint = g_strdup (fingerprint);
}

const char *
postage_smtp_error_get_certificate (const GError *error)
{
  PostageSmtpErrorPrivate *priv = get_private (error);

  return priv != NULL ? priv->certificate : NULL;
}

void
postage_smtp_error_set_certificate (GError     *error,
                                    const char *description)
{
  PostageSmtpErrorPrivate *priv = get_private (error);

  g_return_if_fail (priv != NULL);
  g_free (priv->certificate);
  priv->certificate = g_strdup (description);
}

gboolean
postage_smtp_error_is_transient (const GError *error)
{
  if (error == NULL)
    return FALSE;
  if (error->domain == G_IO_ERROR)
    return error->code == G_IO_ERROR_TIMED_OUT;
  if (error->domain != POSTAGE_SMTP_ERROR)
    return FALSE;
  switch ((PostageSmtpErrorCode) error->code)
    {
    case POSTAGE_SMTP_ERROR_CONNECT:
    case POSTAGE_SMTP_ERROR_TRANSIENT:
    case POSTAGE_SMTP_ERROR_CLOSED:
      return TRUE;
    case POSTAGE_SMTP_ERROR_RECIPIENT_REJECTED:
    case POSTAGE_SMTP_ERROR_SENDER_REJECTED:
    case POSTAGE_SMTP_ERROR_MESSAGE_TOO_LARGE:
    case POSTAGE_SMTP_ERROR_MESSAGE_REJECTED:
      /* the reply code decides: 4xx is "not now", 5xx is "not ever" */
      return postage_smtp_error_get_reply_code (error) / 100 == 4;
    default:
      return FALSE;
    }
}
