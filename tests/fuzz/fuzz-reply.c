/* fuzz-reply.c — libFuzzer target for the SMTP reply parser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is what a hostile server sends: it is cut into lines the way
 * postage-smtp-stream.c does (at LF, one CR before it dropped) and fed to
 * postage_smtp_reply_add_line() reply after reply, a new reply starting after
 * each complete one or each error. Complete 250 replies also go through
 * postage_smtp_caps_parse(), as after EHLO.
 */
#include "config.h"

#include "fuzz-common.h"
#include "postage-smtp-error.h"
#include "postage-smtp-reply.h"

#define ALL_CAP_FLAGS (POSTAGE_SMTP_CAP_STARTTLS | POSTAGE_SMTP_CAP_PIPELINING |        \
                       POSTAGE_SMTP_CAP_8BITMIME | POSTAGE_SMTP_CAP_SMTPUTF8 |          \
                       POSTAGE_SMTP_CAP_ENHANCEDSTATUSCODES | POSTAGE_SMTP_CAP_SIZE |   \
                       POSTAGE_SMTP_CAP_AUTH)
#define ALL_AUTH_MECHS (POSTAGE_SMTP_AUTH_PLAIN | POSTAGE_SMTP_AUTH_LOGIN)

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

/* RFC 3463 §2: class "." subject "." detail; class 2, 4 or 5 and equal to
 * the reply's first digit, subject and detail 1–3 digits. */
static void
check_enhanced (const PostageSmtpReply *reply)
{
  const char *p = reply->enhanced;

  if (p == NULL)
    return;
  FUZZ_CHECK (p[0] - '0' == (int) (reply->code / 100) && p[1] == '.',
              "enhanced code %s does not match reply code %u", fuzz_escape (p, -1), reply->code);
  p += 2;
  for (int part = 0; part < 2; part++)
    {
      int digits = 0;

      while (g_ascii_isdigit (*p))
        p++, digits++;
      FUZZ_CHECK (digits >= 1 && digits <= 3, "enhanced code %s: part of %d digits",
                  fuzz_escape (reply->enhanced, -1), digits);
      if (part == 0)
        {
          FUZZ_CHECK (*p == '.', "enhanced code %s", fuzz_escape (reply->enhanced, -1));
          p++;
        }
    }
  FUZZ_CHECK (*p == '\0', "enhanced code %s has trailing bytes", fuzz_escape (reply->enhanced, -1));
}

static void
check_reply (const PostageSmtpReply *reply)
{
  FUZZ_CHECK (reply->code >= 200 && reply->code <= 599, "code %u", reply->code);
  FUZZ_CHECK (reply->lines->len >= 1 && reply->lines->len <= POSTAGE_SMTP_MAX_REPLY_LINES,
              "%u lines", reply->lines->len);
  for (guint i = 0; i < reply->lines->len; i++)
    {
      const char *line = g_ptr_array_index (reply->lines, i);

      fuzz_check_shown_text ("a reply line", line);
      /* The documented bound of postage_smtp_sanitize_text(). */
      FUZZ_CHECK (strlen (line) <= POSTAGE_SMTP_MAX_SHOWN_TEXT,
                  "a reply line of %zu bytes, over POSTAGE_SMTP_MAX_SHOWN_TEXT (%d): %s",
                  strlen (line), POSTAGE_SMTP_MAX_SHOWN_TEXT, fuzz_escape (line, -1));
    }
  check_enhanced (reply);
  if (reply->enhanced != NULL)
    fuzz_check_shown_text ("the enhanced code", reply->enhanced);
}

static void
check_complete_reply (const PostageSmtpReply *reply)
{
  g_autofree char *summary = NULL;
  g_autofree char *expected_start = NULL;
  GString *joined = g_string_new (NULL);
  const char *rest;

  check_reply (reply);
  FUZZ_CHECK (reply->text != NULL, "a complete reply without text");
  fuzz_check_shown_text ("the reply text", reply->text);

  /* text = the non-empty lines joined by one space */
  for (guint i = 0; i < reply->lines->len; i++)
    {
      const char *part = g_ptr_array_index (reply->lines, i);

      if (*part == '\0')
        continue;
      if (joined->len > 0)
        g_string_append_c (joined, ' ');
      g_string_append (joined, part);
    }
  FUZZ_CHECK (strcmp (joined->str, reply->text) == 0, "text %s is not the lines joined %s",
              fuzz_escape (reply->text, -1), fuzz_escape (joined->str, -1));
  g_string_free (joined, TRUE);

  /* summary = code [SP enhanced] [SP text], one line */
  summary = postage_smtp_reply_dup_summary (reply);
  fuzz_check_shown_text ("the summary", summary);
  expected_start = g_strdup_printf ("%u", reply->code);
  FUZZ_CHECK (g_str_has_prefix (summary, expected_start), "summary %s", fuzz_escape (summary, -1));
  rest = summary + 3;
  if (reply->enhanced != NULL)
    {
      FUZZ_CHECK (rest[0] == ' ' && g_str_has_prefix (rest + 1, reply->enhanced),
                  "summary %s lacks the enhanced code", fuzz_escape (summary, -1));
      rest += 1 + strlen (reply->enhanced);
    }
  if (*reply->text != '\0')
    FUZZ_CHECK (rest[0] == ' ' && strcmp (rest + 1, reply->text) == 0,
                "summary %s does not end with the text", fuzz_escape (summary, -1));
  else
    FUZZ_CHECK (*rest == '\0', "summary %s has extra bytes", fuzz_escape (summary, -1));
}

static void
check_caps (const PostageSmtpReply *reply)
{
  PostageSmtpCaps caps;
  PostageSmtpCaps again;

  memset (&caps, 0xa5, sizeof caps);
  postage_smtp_caps_parse (reply, &caps);
  FUZZ_CHECK ((caps.flags & ~ALL_CAP_FLAGS) == 0, "unknown flags 0x%x", caps.flags);
  FUZZ_CHECK ((caps.auth & ~ALL_AUTH_MECHS) == 0, "unknown mechanisms 0x%x", caps.auth);
  FUZZ_CHECK (caps.auth == 0 || (caps.flags & POSTAGE_SMTP_CAP_AUTH),
              "mechanisms without the AUTH flag");
  FUZZ_CHECK (caps.size == 0 || (caps.flags & POSTAGE_SMTP_CAP_SIZE),
              "a SIZE limit without the SIZE flag");
  if (reply->lines->len <= 1)
    FUZZ_CHECK (caps.flags == 0 && caps.auth == 0 && caps.size == 0,
                "capabilities from a reply with only the greeting line");

  memset (&again, 0, sizeof again);
  postage_smtp_caps_parse (reply, &again);
  FUZZ_CHECK (memcmp (&caps, &again, sizeof caps) == 0, "caps_parse is not deterministic");
}

static void
check_error (const GError *error,
             const char   *line,
             gsize         length)
{
  FUZZ_CHECK (error != NULL, "add_line returned FALSE without an error for %s",
              fuzz_escape (line, length));
  FUZZ_CHECK (error->domain == POSTAGE_SMTP_ERROR && error->code == POSTAGE_SMTP_ERROR_PROTOCOL,
              "error %s:%d for %s", g_quark_to_string (error->domain), error->code,
              fuzz_escape (line, length));
  fuzz_check_shown_text ("the error message", error->message);
  if (postage_smtp_error_get_server_text (error) != NULL)
    fuzz_check_shown_text ("the error's server text", postage_smtp_error_get_server_text (error));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  PostageSmtpReply *reply = NULL;
  gsize start = 0;

  /* The sanitiser alone, on the whole input: length given and NUL-terminated. */
  {
    char *exact = fuzz_exact_copy (data, size);
    g_autofree char *terminated = g_strndup ((const char *) data, size);
    g_autofree char *shown = postage_smtp_sanitize_text (exact, size);
    g_autofree char *shown_terminated = postage_smtp_sanitize_text (terminated, -1);

    fuzz_check_shown_text ("sanitize_text()", shown);
    fuzz_check_shown_text ("sanitize_text(-1)", shown_terminated);
    FUZZ_CHECK (strlen (shown) <= POSTAGE_SMTP_MAX_SHOWN_TEXT,
                "sanitize_text() gave %zu bytes, over POSTAGE_SMTP_MAX_SHOWN_TEXT (%d)",
                strlen (shown), POSTAGE_SMTP_MAX_SHOWN_TEXT);
    free (exact);
  }

  while (start < size)
    {
      const uint8_t *newline = memchr (data + start, '\n', size - start);
      gsize end = newline != NULL ? (gsize) (newline - data) : size;
      gsize length = end - start;
      g_autoptr(GError) error = NULL;
      char *line;
      gboolean ok;

      if (length > 0 && data[start + length - 1] == '\r')
        length--;
      line = fuzz_exact_copy (data + start, length);
      start = end + 1;

      if (reply == NULL)
        reply = postage_smtp_reply_new ();
      ok = postage_smtp_reply_add_line (reply, line, length, &error);
      if (!ok)
        {
          check_error (error, line, length);
          postage_smtp_reply_free (g_steal_pointer (&reply));
        }
      else
        {
          FUZZ_CHECK (error == NULL, "add_line returned TRUE with an error");
          check_reply (reply);
          if (reply->complete)
            {
              check_complete_reply (reply);
              if (reply->code == 250)
                check_caps (reply);
              postage_smtp_reply_free (g_steal_pointer (&reply));
            }
          else
            FUZZ_CHECK (length > 3 && line[3] == '-', "incomplete after %s",
                        fuzz_escape (line, length));
        }
      free (line);
    }

  if (reply != NULL)
    {
      /* The server went away mid-reply: the summary must still be safe. */
      g_autofree char *summary = postage_smtp_reply_dup_summary (reply);

      fuzz_check_shown_text ("the summary of an incomplete reply", summary);
      postage_smtp_reply_free (reply);
    }
  return 0;
}
