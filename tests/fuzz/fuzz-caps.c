/* fuzz-caps.c — libFuzzer target for the EHLO capability parser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fuzz-reply spends most of its time finding reply codes; this target gives
 * every input line the "250-" prefix (the last one "250 ") so that the effort
 * goes into the keywords. The input is the text of an EHLO answer, one line
 * per capability, the first line being the server's name. The result is
 * compared with a small independent reading of RFC 5321 §4.1.1.1 and RFC 4954
 * over the same parsed lines.
 */
#include "config.h"

#include "fuzz-common.h"
#include "postage-smtp-reply.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

/* Is @word (up to a space or the end) equal to @keyword, ignoring ASCII case? */
static gboolean
word_is (const char *word,
         gsize       length,
         const char *keyword)
{
  return length == strlen (keyword) && g_ascii_strncasecmp (word, keyword, length) == 0;
}

/* The word of @line that starts at @word: its length up to a space or the end. */
static gsize
word_length (const char *word)
{
  const char *end = strchr (word, ' ');

  return end != NULL ? (gsize) (end - word) : strlen (word);
}

/* Sets the mechanisms named among the space-separated words of @words. */
static void
expected_mechs (PostageSmtpCaps *caps,
                const char      *words)
{
  caps->flags |= POSTAGE_SMTP_CAP_AUTH;
  for (const char *word = words;; )
    {
      gsize length = word_length (word);

      if (word_is (word, length, "PLAIN"))
        caps->auth |= POSTAGE_SMTP_AUTH_PLAIN;
      else if (word_is (word, length, "LOGIN"))
        caps->auth |= POSTAGE_SMTP_AUTH_LOGIN;
      if (word[length] == '\0')
        break;
      word += length + 1;
    }
}

/* The reference: each line after the greeting is a keyword, then parameters
 * separated by single spaces. */
static void
expected_caps (const PostageSmtpReply *reply,
               PostageSmtpCaps        *caps)
{
  static const struct { const char *keyword; PostageSmtpCapFlags flag; } simple[] = {
    { "STARTTLS", POSTAGE_SMTP_CAP_STARTTLS },
    { "PIPELINING", POSTAGE_SMTP_CAP_PIPELINING },
    { "8BITMIME", POSTAGE_SMTP_CAP_8BITMIME },
    { "SMTPUTF8", POSTAGE_SMTP_CAP_SMTPUTF8 },
    { "ENHANCEDSTATUSCODES", POSTAGE_SMTP_CAP_ENHANCEDSTATUSCODES },
  };

  memset (caps, 0, sizeof *caps);
  for (guint i = 1; i < reply->lines->len; i++)
    {
      const char *line = g_ptr_array_index (reply->lines, i);
      gsize length = word_length (line);
      const char *params = line[length] == ' ' ? line + length + 1 : NULL;

      for (guint j = 0; j < G_N_ELEMENTS (simple); j++)
        if (word_is (line, length, simple[j].keyword))
          caps->flags |= simple[j].flag;
      if (word_is (line, length, "SIZE"))
        {
          g_autofree char *number = params != NULL ? g_strndup (params, word_length (params)) : NULL;

          caps->flags |= POSTAGE_SMTP_CAP_SIZE;
          if (number != NULL)
            caps->size = g_ascii_strtoull (number, NULL, 10);
        }
      else if (word_is (line, length, "AUTH"))
        {
          if (params != NULL)
            expected_mechs (caps, params);
          else
            caps->flags |= POSTAGE_SMTP_CAP_AUTH;
        }
      else if (length >= 5 && g_ascii_strncasecmp (line, "AUTH=", 5) == 0)
        expected_mechs (caps, line + 5); /* old "AUTH=LOGIN PLAIN" */
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(PostageSmtpReply) reply = postage_smtp_reply_new ();
  g_auto(GStrv) lines = NULL;
  g_autofree char *text = g_strndup ((const char *) data, size);
  PostageSmtpCaps caps;
  PostageSmtpCaps expected;
  guint n;

  lines = g_strsplit (text, "\n", POSTAGE_SMTP_MAX_REPLY_LINES);
  n = g_strv_length (lines);
  /* "a\n" is one line, not a line and an empty one */
  if (n > 1 && lines[n - 1][0] == '\0')
    n--;
  if (n == 0)
    return 0;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *line = NULL;
      char *exact;
      gsize length;

      /* a multi-line final piece (over the line limit) is cut at its first LF */
      if (strchr (lines[i], '\n') != NULL)
        *strchr (lines[i], '\n') = '\0';
      if (g_str_has_suffix (lines[i], "\r"))
        lines[i][strlen (lines[i]) - 1] = '\0';
      line = g_strconcat (i + 1 < n ? "250-" : "250 ", lines[i], NULL);
      length = strlen (line);
      exact = fuzz_exact_copy (line, length);
      FUZZ_CHECK (postage_smtp_reply_add_line (reply, exact, length, &error),
                  "line %u refused: %s: %s", i, fuzz_escape (line, -1), error->message);
      free (exact);
    }
  FUZZ_CHECK (reply->complete && reply->code == 250 && reply->lines->len == n,
              "complete %d, code %u, %u lines of %u", reply->complete, reply->code,
              reply->lines->len, n);

  memset (&caps, 0x5a, sizeof caps);
  postage_smtp_caps_parse (reply, &caps);
  expected_caps (reply, &expected);
  FUZZ_CHECK (caps.flags == expected.flags && caps.auth == expected.auth &&
              caps.size == expected.size,
              "parsed flags 0x%x auth 0x%x size %" G_GUINT64_FORMAT
              ", expected flags 0x%x auth 0x%x size %" G_GUINT64_FORMAT,
              caps.flags, caps.auth, caps.size, expected.flags, expected.auth, expected.size);
  return 0;
}
