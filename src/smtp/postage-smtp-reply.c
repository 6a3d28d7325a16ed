/* postage-smtp-reply.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions, any thread.
 */
#define G_LOG_DOMAIN "postage-smtp"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "postage-smtp-error.h"
#include "postage-smtp-reply.h"

PostageSmtpReply *
postage_smtp_reply_new (void)
{
  PostageSmtpReply *reply = g_new0 (PostageSmtpReply, 1);

  reply->lines = g_ptr_array_new_with_free_func (g_free);
  return reply;
}

void
postage_smtp_reply_free (PostageSmtpReply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->enhanced);
  g_ptr_array_unref (reply->lines);
  g_free (reply->text);
  g_free (reply);
}

char *
postage_smtp_sanitize_text (const char *text,
                            gssize      length)
{
  g_autofree char *valid = NULL;
  GString *out;

  if (length < 0)
    length = strlen (text);
  /* Valid UTF-8 first (an invalid byte becomes a 3-byte U+FFFD), then cut on
   * a character boundary, so the result never exceeds the cap. The input is
   * capped too: nothing past the cap could be shown anyway. */
  valid = g_utf8_make_valid (text, MIN ((gsize) length, POSTAGE_SMTP_MAX_SHOWN_TEXT));
  out = g_string_sized_new (MIN (strlen (valid), POSTAGE_SMTP_MAX_SHOWN_TEXT));
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      gsize size = g_utf8_next_char (p) - p;

      if (out->len + size > POSTAGE_SMTP_MAX_SHOWN_TEXT)
        break;
      /* C0, DEL and C1 (U+0080–U+009F, which a terminal reads as escape
       * sequences: CSI is U+009B) never reach a person's screen, nor do
       * format characters such as U+202E, which reverses the text shown. */
      if (g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT)
        g_string_append_c (out, ' ');
      else
        g_string_append_len (out, p, size);
    }
  return g_string_free (out, FALSE);
}

/* RFC 3463 §2: class "." subject "." detail, class 2, 4 or 5, subject and
 * detail 1-3 digits. Returns the length of the code, 0 when there is none. */
static gsize
enhanced_code_length (const char *text,
                      gsize       length)
{
  gsize i = 0;

  if (length < 5 || strchr ("245", text[0]) == NULL || text[1] != '.')
    return 0;
  i = 2;
  for (int part = 0; part < 2; part++)
    {
      gsize digits = 0;

      while (i < length && g_ascii_isdigit (text[i]) && digits < 4)
        i++, digits++;
      if (digits == 0 || digits > 3)
        return 0;
      if (part == 0)
        {
          if (i >= length || text[i] != '.')
            return 0;
          i++;
        }
    }
  return (i == length || text[i] == ' ') ? i : 0;
}

static gboolean
protocol_error (GError    **error,
                const char *line,
                gsize       length,
                const char *why)
{
  g_autofree char *shown = postage_smtp_sanitize_text (line, MIN (length, 80));

  postage_smtp_set_error (error, POSTAGE_SMTP_ERROR_PROTOCOL, 0, NULL, shown,
                          _("The server sent a malformed reply (%s): “%s”"), why, shown);
  return FALSE;
}

gboolean
postage_smtp_reply_add_line (PostageSmtpReply *reply,
                             const char       *line,
                             gsize             length,
                             GError          **error)
{
  const char *text;
  gsize text_length;
  gsize enhanced_length;
  guint code;

  g_return_val_if_fail (reply != NULL && !reply->complete, FALSE);

  /* RFC 5321 §4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
   *                              Reply-code [ SP textstring ] CRLF
   * A bare code ("334", "250") is legal and used by real servers. */
  if (length < 3 || !g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1]) ||
      !g_ascii_isdigit (line[2]) || line[0] < '2' || line[0] > '5')
    return protocol_error (error, line, length, _("no reply code"));
  if (memchr (line, '\0', length) != NULL)
    return protocol_error (error, line, length, _("a NUL byte"));
  if (length > 3 && line[3] != ' ' && line[3] != '-')
    return protocol_error (error, line, length, _("no space or dash after the code"));
  code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (reply->lines->len > 0 && code != reply->code)
    return protocol_error (error, line, length, _("the code changed inside a multi-line reply"));
  if (reply->lines->len >= POSTAGE_SMTP_MAX_REPLY_LINES)
    return protocol_error (error, line, length, _("too many lines"));

  reply->code = code;
  reply->complete = length == 3 || line[3] == ' ';

  text = length > 4 ? line + 4 : "";
  text_length = length > 4 ? length - 4 : 0;
  /* The enhanced code's class must match the reply's (RFC 3463 §2);
   * otherwise the digits are just text, like "250-234 Text …". */
  enhanced_length = enhanced_code_length (text, text_length);
  if (enhanced_length > 0 && text[0] == line[0])
    {
      if (reply->enhanced == NULL)
        reply->enhanced = g_strndup (text, enhanced_length);
      text += enhanced_length;
      text_length -= enhanced_length;
    }
  while (text_length > 0 && *text == ' ')
    text++, text_length--;
  g_ptr_array_add (reply->lines, postage_smtp_sanitize_text (text, text_length));

  if (reply->complete)
    {
      GString *joined = g_string_new (NULL);

      for (guint i = 0; i < reply->lines->len; i++)
        {
          const char *part = g_ptr_array_index (reply->lines, i);

          if (*part == '\0')
            continue;
          if (joined->len > 0)
            g_string_append_c (joined, ' ');
          g_string_append (joined, part);
        }
      g_free (reply->text);
      reply->text = g_string_free (joined, FALSE);
    }
  return TRUE;
}

char *
postage_smtp_reply_dup_summary (const PostageSmtpReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  return g_strdup_printf ("%u%s%s%s%s", reply->code,
                          reply->enhanced != NULL ? " " : "",
                          reply->enhanced != NULL ? reply->enhanced : "",
                          reply->text != NULL && *reply->text != '\0' ? " " : "",
                          reply->text != NULL ? reply->text : "");
}

static void
parse_auth_mechs (PostageSmtpCaps  *caps,
                  char            **words)
{
  caps->flags |= POSTAGE_SMTP_CAP_AUTH;
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (g_ascii_strcasecmp (words[i], "PLAIN") == 0)
        caps->auth |= POSTAGE_SMTP_AUTH_PLAIN;
      else if (g_ascii_strcasecmp (words[i], "LOGIN") == 0)
        caps->auth |= POSTAGE_SMTP_AUTH_LOGIN;
    }
}

void
postage_smtp_caps_parse (const PostageSmtpReply *reply,
                         PostageSmtpCaps        *caps)
{
  static const struct { const char *keyword; PostageSmtpCapFlags flag; } simple[] = {
    { "STARTTLS", POSTAGE_SMTP_CAP_STARTTLS },
    { "PIPELINING", POSTAGE_SMTP_CAP_PIPELINING },
    { "8BITMIME", POSTAGE_SMTP_CAP_8BITMIME },
    { "SMTPUTF8", POSTAGE_SMTP_CAP_SMTPUTF8 },
    { "ENHANCEDSTATUSCODES", POSTAGE_SMTP_CAP_ENHANCEDSTATUSCODES },
  };

  g_return_if_fail (reply != NULL && caps != NULL);

  memset (caps, 0, sizeof *caps);
  /* The first line greets; capabilities follow, one per line (RFC 5321 §4.1.1.1). */
  for (guint i = 1; i < reply->lines->len; i++)
    {
      g_auto(GStrv) words = g_strsplit_set (g_ptr_array_index (reply->lines, i), " ", -1);

      if (words[0] == NULL || words[0][0] == '\0')
        continue;
      for (guint j = 0; j < G_N_ELEMENTS (simple); j++)
        if (g_ascii_strcasecmp (words[0], simple[j].keyword) == 0)
          caps->flags |= simple[j].flag;
      if (g_ascii_strcasecmp (words[0], "SIZE") == 0)
        {
          caps->flags |= POSTAGE_SMTP_CAP_SIZE;
          if (words[1] != NULL)
            caps->size = g_ascii_strtoull (words[1], NULL, 10);
        }
      else if (g_ascii_strcasecmp (words[0], "AUTH") == 0)
        parse_auth_mechs (caps, words + 1);
      else if (g_ascii_strncasecmp (words[0], "AUTH=", 5) == 0)
        {
          /* Pre-RFC 4954 servers (old Exchange) say "AUTH=LOGIN PLAIN". */
          g_auto(GStrv) first = g_strsplit (words[0] + 5, " ", 2);

          parse_auth_mechs (caps, first);
          parse_auth_mechs (caps, words + 1);
        }
    }
}
