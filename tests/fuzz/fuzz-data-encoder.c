/* fuzz-data-encoder.c — libFuzzer target for the DATA encoder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is a message body as the message layer might hand it over. It is
 * encoded in one call, byte by byte, and in pieces whose sizes come from a
 * hash of the input; the three results must be the same, must be valid DATA
 * (RFC 5321 §4.5.2: CRLF line ends only, never a lone "." line before the
 * end — no SMTP smuggling, CVE-2023-51764) and must decode back to the input
 * with every CRLF, lone CR and lone LF read as one line end.
 */
#include "config.h"

#include "fuzz-common.h"
#include "postage-smtp-codec.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

typedef enum { WHOLE, BYTES, PIECES } Split;

static gboolean
bytes_equal (const GByteArray *a,
             const GByteArray *b)
{
  return a->len == b->len && (a->len == 0 || memcmp (a->data, b->data, a->len) == 0);
}

static GByteArray *
encode (const uint8_t *data,
        size_t         size,
        Split          split)
{
  GByteArray *out = g_byte_array_new ();
  PostageSmtpDataEncoder encoder;
  guint32 state = 2166136261u;
  size_t at = 0;

  /* FNV-1a of the input seeds the piece sizes: the same input always splits
   * the same way, so a crash reproduces. */
  for (size_t i = 0; i < size; i++)
    state = (state ^ data[i]) * 16777619u;
  if (state == 0)
    state = 1; /* xorshift would stay at 0 */

  postage_smtp_data_encoder_init (&encoder);
  while (at < size)
    {
      size_t piece = size - at;
      char *exact;

      if (split == BYTES)
        piece = 1;
      else if (split == PIECES)
        {
          state ^= state << 13, state ^= state >> 17, state ^= state << 5;
          /* mostly short pieces, so that CR and LF land on the edges */
          piece = MIN (piece, (state & 3) == 0 ? state % 97 : state % 5);
        }
      /* an empty feed is legal and must change nothing */
      exact = fuzz_exact_copy (data + at, piece);
      postage_smtp_data_encoder_feed (&encoder, (const guchar *) exact, piece, out);
      free (exact);
      at += piece;
    }
  postage_smtp_data_encoder_finish (&encoder, out);
  return out;
}

/* What the input means as text lines: CRLF, lone CR and lone LF each end a
 * line; an unterminated last line is ended. */
static GByteArray *
normalise (const uint8_t *data,
           size_t         size)
{
  GByteArray *out = g_byte_array_new ();

  for (size_t i = 0; i < size; i++)
    {
      if (data[i] == '\r' || data[i] == '\n')
        {
          g_byte_array_append (out, (const guint8 *) "\n", 1);
          if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
            i++;
        }
      else
        g_byte_array_append (out, &data[i], 1);
    }
  if (out->len > 0 && out->data[out->len - 1] != '\n')
    g_byte_array_append (out, (const guint8 *) "\n", 1);
  return out;
}

/* Checks @wire is well-formed DATA and returns it decoded as a server would:
 * lines split at CRLF, the final "." line dropped, one leading dot removed,
 * each line ended by LF. */
static GByteArray *
check_and_decode (const GByteArray *wire)
{
  GByteArray *decoded = g_byte_array_new ();
  gsize start = 0;
  gboolean ended = FALSE;

  FUZZ_CHECK (wire->len >= 3 && memcmp (wire->data + wire->len - 3, ".\r\n", 3) == 0,
              "the data does not end with \".\\r\\n\"");
  for (gsize i = 0; i < wire->len; i++)
    {
      if (wire->data[i] == '\r')
        FUZZ_CHECK (i + 1 < wire->len && wire->data[i + 1] == '\n',
                    "a bare CR at byte %zu of the output", i);
      if (wire->data[i] != '\n')
        continue;
      FUZZ_CHECK (i > 0 && wire->data[i - 1] == '\r', "a bare LF at byte %zu of the output", i);

      {
        const guint8 *line = wire->data + start;
        gsize length = i - 1 - start;

        FUZZ_CHECK (!ended, "data after the end-of-data line, at byte %zu", start);
        if (length == 1 && line[0] == '.')
          {
            FUZZ_CHECK (i + 1 == wire->len,
                        "a lone \".\" line at byte %zu of %u: the server would end the "
                        "message there (SMTP smuggling)", start, wire->len);
            ended = TRUE;
          }
        else
          {
            if (length > 0 && line[0] == '.')
              line++, length--;
            g_byte_array_append (decoded, line, length);
            g_byte_array_append (decoded, (const guint8 *) "\n", 1);
          }
      }
      start = i + 1;
    }
  FUZZ_CHECK (ended && start == wire->len, "the output does not end with its \".\" line");
  return decoded;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  GByteArray *whole = encode (data, size, WHOLE);
  GByteArray *bytes = encode (data, size, BYTES);
  GByteArray *pieces = encode (data, size, PIECES);
  GByteArray *decoded = NULL;
  GByteArray *expected = NULL;

  FUZZ_CHECK (bytes_equal (whole, bytes),
              "byte-by-byte feeding gives different output than one call");
  FUZZ_CHECK (bytes_equal (whole, pieces),
              "feeding in pieces gives different output than one call");

  decoded = check_and_decode (whole);
  expected = normalise (data, size);
  FUZZ_CHECK (bytes_equal (decoded, expected),
              "un-stuffing gives %s, expected %s",
              fuzz_escape ((const char *) decoded->data, decoded->len),
              fuzz_escape ((const char *) expected->data, expected->len));

  g_byte_array_unref (whole);
  g_byte_array_unref (bytes);
  g_byte_array_unref (pieces);
  g_byte_array_unref (decoded);
  g_byte_array_unref (expected);
  return 0;
}
