/* test-reply.c — reply and EHLO parsing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "smtp/postage-smtp-error.h"
#include "smtp/postage-smtp-reply.h"

static PostageSmtpReply *
parse (const char * const *lines,
       GError            **error)
{
  g_autoptr(PostageSmtpReply) reply = postage_smtp_reply_new ();

  for (guint i = 0; lines[i] != NULL; i++)
    if (!postage_smtp_reply_add_line (reply, lines[i], strlen (lines[i]), error))
      return NULL;
  return g_steal_pointer (&reply);
}

static void
test_single (void)
{
  const char *lines[] = { "535 5.7.8 Authentication failed", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageSmtpReply) reply = parse (lines, &error);
  g_autofree char *summary = NULL;

  g_assert_no_error (error);
  g_assert_true (reply->complete);
  g_assert_cmpuint (reply->code, ==, 535);
  g_assert_cmpstr (reply->enhanced, ==, "5.7.8");
  g_assert_cmpstr (reply->text, ==, "Authentication failed");
  summary = postage_smtp_reply_dup_summary (reply);
  g_assert_cmpstr (summary, ==, "535 5.7.8 Authentication failed");
}

static void
test_multiline (void)
{
  const char *lines[] = {
    "534-5.7.9 Application-specific password required. Learn more at",
    "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor x - gsmtp",
    NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageSmtpReply) reply = parse (lines, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (reply->code, ==, 534);
  g_assert_cmpstr (reply->enhanced, ==, "5.7.9");
  g_assert_cmpuint (reply->lines->len, ==, 2);
  g_assert_cmpstr (reply->text, ==,
                   "Application-specific password required. Learn more at "
                   "https://support.google.com/mail/?p=InvalidSecondFactor x - gsmtp");
}

static void
test_incomplete (void)
{
  g_autoptr(PostageSmtpReply) reply = postage_smtp_reply_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_smtp_reply_add_line (reply, "220-first", 9, &error));
  g_assert_false (reply->complete);
  g_assert_true (postage_smtp_reply_add_line (reply, "220 last", 8, &error));
  g_assert_true (reply->complete);
  g_assert_cmpstr (reply->text, ==, "first last");
}

static void
test_code_only (void)
{
  const char *bare[] = { "334", NULL };
  const char *space[] = { "334 ", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageSmtpReply) a = parse (bare, &error);
  g_autoptr(PostageSmtpReply) b = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (a->code, ==, 334);
  g_assert_true (a->complete);
  g_assert_cmpstr (a->text, ==, "");
  b = parse (space, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (b->code, ==, 334);
  g_assert_null (b->enhanced);
}

static void
test_text_with_digits (void)
{
  const char *lines[] = { "250-mx.test", "250-234 Text beginning with numbers", "250 8BITMIME",
                          NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageSmtpReply) reply = parse (lines, &error);

  g_assert_no_error (error);
  g_assert_null (reply->enhanced);
  g_assert_cmpstr (g_ptr_array_index (reply->lines, 1), ==, "234 Text beginning with numbers");
}

static void
test_malformed (void)
{
  const char *cases[] = { "", "hello", "25", "2500 x", "250x", "650 nope", "abc def", "1xx",
                          "250\tTab" };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PostageSmtpReply) reply = postage_smtp_reply_new ();
      g_autoptr(GError) error = NULL;

      g_assert_false (postage_smtp_reply_add_line (reply, cases[i], strlen (cases[i]), &error));
      g_assert_error (error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_PROTOCOL);
    }
}

static void
test_nul_byte (void)
{
  g_autoptr(PostageSmtpReply) reply = postage_smtp_reply_new ();
  g_autoptr(GError) error = NULL;

  /* "250" NUL junk must not pass for a plain 250 */
  g_assert_false (postage_smtp_reply_add_line (reply, "250\0\xff junk", 9, &error));
  g_assert_error (error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_PROTOCOL);
}

static void
test_code_change (void)
{
  const char *lines[] = { "250-mx.test", "251 other", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageSmtpReply) reply = parse (lines, &error);

  g_assert_null (reply);
  g_assert_error (error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_PROTOCOL);
}

static void
test_bounded (void)
{
  g_autoptr(PostageSmtpReply) reply = postage_smtp_reply_new ();
  g_autoptr(GError) error = NULL;
  guint i;

  for (i = 0; i < 10 * POSTAGE_SMTP_MAX_REPLY_LINES; i++)
    if (!postage_smtp_reply_add_line (reply, "250-again", 9, &error))
      break;
  g_assert_cmpuint (i, ==, POSTAGE_SMTP_MAX_REPLY_LINES);
  g_assert_error (error, POSTAGE_SMTP_ERROR, POSTAGE_SMTP_ERROR_PROTOCOL);
}

static void
test_sanitize (void)
{
  g_autofree char *clean = postage_smtp_sanitize_text ("a\x1b[31mred\x7f\xff!", -1);
  g_autofree char *long_text = g_strnfill (10 * POSTAGE_SMTP_MAX_SHOWN_TEXT, 'x');
  g_autofree char *capped = postage_smtp_sanitize_text (long_text, -1);

  g_assert_null (strchr (clean, '\x1b'));
  g_assert_null (strchr (clean, '\x7f'));
  g_assert_true (g_utf8_validate (clean, -1, NULL));
  g_assert_cmpuint (strlen (capped), ==, POSTAGE_SMTP_MAX_SHOWN_TEXT);
}

static void
test_sanitize_c1_and_cap (void)
{
  g_autofree char *csi = postage_smtp_sanitize_text ("550 \xc2\x9b" "31m c1", -1);
  g_autofree char *invalid = g_strnfill (1020, '\xff');
  g_autofree char *shown = postage_smtp_sanitize_text (invalid, -1);
  GString *many = g_string_new (NULL);
  g_autofree char *cut = NULL;

  g_assert_null (strstr (csi, "\xc2\x9b"));
  g_assert_cmpuint (strlen (shown), <=, POSTAGE_SMTP_MAX_SHOWN_TEXT);
  g_assert_true (g_utf8_validate (shown, -1, NULL));
  for (int i = 0; i < 400; i++)
    g_string_append (many, "€");   /* 3 bytes each: 1024 falls inside one */
  cut = postage_smtp_sanitize_text (many->str, many->len);
  g_assert_cmpuint (strlen (cut), <=, POSTAGE_SMTP_MAX_SHOWN_TEXT);
  g_assert_true (g_utf8_validate (cut, -1, NULL));
  g_string_free (many, TRUE);
}

static void
test_caps (void)
{
  const char *lines[] = {
    "250-smtp.test at your service",
    "250-SIZE 35882577",
    "250-8BITMIME",
    "250-starttls",
    "250-AUTH LOGIN PLAIN XOAUTH2",
    "250-ENHANCEDSTATUSCODES",
    "250-PIPELINING",
    "250 SMTPUTF8",
    NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageSmtpReply) reply = parse (lines, &error);
  PostageSmtpCaps caps;

  g_assert_no_error (error);
  postage_smtp_caps_parse (reply, &caps);
  g_assert_cmpuint (caps.flags & POSTAGE_SMTP_CAP_STARTTLS, !=, 0);
  g_assert_cmpuint (caps.flags & POSTAGE_SMTP_CAP_PIPELINING, !=, 0);
  g_assert_cmpuint (caps.flags & POSTAGE_SMTP_CAP_8BITMIME, !=, 0);
  g_assert_cmpuint (caps.flags & POSTAGE_SMTP_CAP_SMTPUTF8, !=, 0);
  g_assert_cmpuint (caps.size, ==, 35882577);
  g_assert_cmpuint (caps.auth, ==, POSTAGE_SMTP_AUTH_PLAIN | POSTAGE_SMTP_AUTH_LOGIN);
}

static void
test_caps_greeting_line_ignored (void)
{
  /* A server named "STARTTLS" does not offer STARTTLS. */
  const char *lines[] = { "250-STARTTLS", "250 AUTH=LOGIN", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageSmtpReply) reply = parse (lines, &error);
  PostageSmtpCaps caps;

  postage_smtp_caps_parse (reply, &caps);
  g_assert_cmpuint (caps.flags & POSTAGE_SMTP_CAP_STARTTLS, ==, 0);
  g_assert_cmpuint (caps.auth, ==, POSTAGE_SMTP_AUTH_LOGIN);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/postage/reply/single", test_single);
  g_test_add_func ("/postage/reply/multiline", test_multiline);
  g_test_add_func ("/postage/reply/incomplete", test_incomplete);
  g_test_add_func ("/postage/reply/code-only", test_code_only);
  g_test_add_func ("/postage/reply/text-with-digits", test_text_with_digits);
  g_test_add_func ("/postage/reply/malformed", test_malformed);
  g_test_add_func ("/postage/reply/code-change", test_code_change);
  g_test_add_func ("/postage/reply/nul-byte", test_nul_byte);
  g_test_add_func ("/postage/reply/bounded", test_bounded);
  g_test_add_func ("/postage/reply/sanitize", test_sanitize);
  g_test_add_func ("/postage/reply/sanitize-c1-and-cap", test_sanitize_c1_and_cap);
  g_test_add_func ("/postage/reply/caps", test_caps);
  g_test_add_func ("/postage/reply/caps-greeting-line", test_caps_greeting_line_ignored);
  return g_test_run ();
}
