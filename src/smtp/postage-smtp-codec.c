/* postage-smtp-codec.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions, any thread.
 */
#include "config.h"

#include <string.h>

#include "postage-smtp-codec.h"

void
postage_smtp_data_encoder_init (PostageSmtpDataEncoder *encoder)
{
  encoder->line_start = TRUE;
  encoder->pending_cr = FALSE;
}

static void
end_line (PostageSmtpDataEncoder *encoder,
          GByteArray             *out)
{
  g_byte_array_append (out, (const guint8 *) "\r\n", 2);
  encoder->line_start = TRUE;
}

void
postage_smtp_data_encoder_feed (PostageSmtpDataEncoder *encoder,
                                const guchar           *data,
                                gsize                   length,
                                GByteArray             *out)
{
  for (gsize i = 0; i < length; i++)
    {
      guchar c = data[i];

      if (encoder->pending_cr)
        {
          /* CR then LF is one line end; CR then anything else was a bare CR,
           * which also ends the line. */
          encoder->pending_cr = FALSE;
          end_line (encoder, out);
          if (c == '\n')
            continue;
        }
      if (c == '\r')
        encoder->pending_cr = TRUE;
      else if (c == '\n')
        end_line (encoder, out);
      else
        {
          if (encoder->line_start && c == '.')
            g_byte_array_append (out, (const guint8 *) ".", 1);
          g_byte_array_append (out, &c, 1);
          encoder->line_start = FALSE;
        }
    }
}

void
postage_smtp_data_encoder_finish (PostageSmtpDataEncoder *encoder,
                                  GByteArray             *out)
{
  if (encoder->pending_cr)
    {
      encoder->pending_cr = FALSE;
      end_line (encoder, out);
    }
  /* RFC 5321 §4.1.1.4: the data ends with CRLF "." CRLF. */
  if (!encoder->line_start)
    end_line (encoder, out);
  g_byte_array_append (out, (const guint8 *) ".\r\n", 3);
}

char *
postage_smtp_sasl_plain (const char *user,
                         const char *password)
{
  gsize user_length = strlen (user);
  gsize password_length = strlen (password);
  gsize length = 2 + user_length + password_length;
  guchar *raw = g_malloc0 (length);
  char *encoded;

  /* authzid (empty) NUL authcid NUL passwd */
  memcpy (raw + 1, user, user_length);
  memcpy (raw + 2 + user_length, password, password_length);
  encoded = g_base64_encode (raw, length);
  explicit_bzero (raw, length);
  g_free (raw);
  return encoded;
}
