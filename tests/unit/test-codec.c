/* test-codec.c — DATA encoding (dot-stuffing, CRLF only) and SASL strings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "smtp/postage-smtp-codec.h"

/* Encodes @input fed in pieces of @step bytes, so splits land everywhere. */
static char *
encode (const char *input,
        gsize       step)
{
  GByteArray *out = g_byte_array_new ();
  PostageSmtpDataEncoder encoder;
  gsize length = strlen (input);

  postage_smtp_data_encoder_init (&encoder);
  for (gsize i = 0; i < length; i += step)
    postage_smtp_data_encoder_feed (&encoder, (const guchar *) input + i, MIN (step, length - i),
                                    out);
  postage_smtp_data_encoder_finish (&encoder, out);
  g_byte_array_append (out, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (out, FALSE);
}

static void
assert_encodes (const char *input,
                const char *expected)
{
  for (gsize step = 1; step <= strlen (input) + 1; step++)
    {
      g_autofree char *got = encode (input, step);

      g_assert_cmpstr (got, ==, expected);
    }
}

static void
test_dot_stuffing (void)
{
  assert_encodes (".starts\r\n.\r\n..two\r\nlast:\r\n.",
                  "..starts\r\n..\r\n...two\r\nlast:\r\n..\r\n.\r\n");
  assert_encodes ("a.b\r\n", "a.b\r\n.\r\n");
}

static void
test_line_ends (void)
{
  assert_encodes ("lf\nonly\n", "lf\r\nonly\r\n.\r\n");
  assert_encodes ("cr\ronly", "cr\r\nonly\r\n.\r\n");
  assert_encodes ("mixed\r\n\n\r", "mixed\r\n\r\n\r\n.\r\n");
  assert_encodes ("", ".\r\n");
}

static void
test_smuggling (void)
{
  /* No "\n.\r\n", "\n.\n" or "\r.\r" may survive as an end of data. */
  const char *attacks[] = { "hello\n.\r\nMAIL FROM:<x>", "hello\n.\nMAIL FROM:<x>",
                            "hello\r.\rMAIL FROM:<x>" };

  for (guint i = 0; i < G_N_ELEMENTS (attacks); i++)
    {
      g_autofree char *got = encode (attacks[i], 3);
      const char *end = strstr (got, "\r\n.\r\n");

      g_assert_nonnull (end);
      g_assert_cmpstr (end, ==, "\r\n.\r\n");
      for (const char *p = got; *p != '\0'; p++)
        {
          if (*p == '\r')
            g_assert_cmpint (p[1], ==, '\n');
          if (*p == '\n')
            g_assert_true (p > got && p[-1] == '\r');
        }
    }
}

static void
test_sasl_plain (void)
{
  g_autofree char *encoded = postage_smtp_sasl_plain ("you@example.test", "app-specific-pass-1234");

  /* The value given in the cases' README. */
  g_assert_cmpstr (encoded, ==, "AHlvdUBleGFtcGxlLnRlc3QAYXBwLXNwZWNpZmljLXBhc3MtMTIzNA==");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/postage/codec/dot-stuffing", test_dot_stuffing);
  g_test_add_func ("/postage/codec/line-ends", test_line_ends);
  g_test_add_func ("/postage/codec/smuggling", test_smuggling);
  g_test_add_func ("/postage/codec/sasl-plain", test_sasl_plain);
  return g_test_run ();
}
