/* fuzz-common.h — shared checks for the libFuzzer targets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A failed check prints what broke and aborts, so libFuzzer keeps the input
 * as a crash artifact. g_assert() is not used: G_DISABLE_ASSERT would hide it.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                  \
  G_STMT_START {                                                               \
    if (G_UNLIKELY (!(cond)))                                                  \
      {                                                                        \
        fprintf (stderr, "\nINVARIANT VIOLATED at %s:%d: %s\n  ", __FILE__,    \
                 __LINE__, #cond);                                             \
        fprintf (stderr, __VA_ARGS__);                                         \
        fprintf (stderr, "\n");                                                \
        abort ();                                                              \
      }                                                                        \
  } G_STMT_END

/* A g_critical() (a g_return_if_fail() tripped) or g_warning() is a bug too. */
static inline void
fuzz_init_glib (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

/* Returns a human-readable, escaped copy of @text for failure messages. */
static inline char *
fuzz_escape (const char *text,
             gssize      length)
{
  GString *out = g_string_new ("\"");

  if (length < 0)
    length = strlen (text);
  for (gssize i = 0; i < length && i < 300; i++)
    {
      guchar c = text[i];

      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
        g_string_append_c (out, c);
      else
        g_string_append_printf (out, "\\x%02x", c);
    }
  g_string_append (out, length > 300 ? "\"…" : "\"");
  return g_string_free (out, FALSE);
}

/* Text that reaches a person (labels, the transcript, a terminal): valid
 * UTF-8 with no control character — C0, DEL, nor the C1 range U+0080–U+009F,
 * whose CSI (U+009B) a terminal in UTF-8 mode may still act on. */
static inline void
fuzz_check_shown_text (const char *what,
                       const char *text)
{
  const char *p;

  FUZZ_CHECK (text != NULL, "%s is NULL", what);
  FUZZ_CHECK (g_utf8_validate (text, -1, NULL), "%s is not valid UTF-8: %s", what,
              fuzz_escape (text, -1));
  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      FUZZ_CHECK (!g_unichar_iscntrl (c), "%s holds control character U+%04X at byte %d: %s",
                  what, c, (int) (p - text), fuzz_escape (text, -1));
    }
}

/* An exact-size heap copy, not NUL-terminated, so ASan sees any read past
 * the length the parser was given. */
static inline char *
fuzz_exact_copy (const void *data,
                 gsize       length)
{
  char *copy = malloc (length > 0 ? length : 1);

  if (length > 0)
    memcpy (copy, data, length);
  return copy;
}
