/* fuzz-address.c — libFuzzer target for the address list parser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is what a person (or a paste, or a mailto: link) puts in To/Cc/Bcc.
 * postage_address_list_parse() must not crash, must either accept or say why
 * not, and everything it accepts goes into RCPT TO: so it must pass
 * postage_address_is_valid(), hold no control character (no CR/LF command
 * injection), and be accepted again on its own as that same address.
 */
#include "config.h"

#include "fuzz-common.h"
#include "postage-address.h"
#include "postage-mail-error.h"
#include "postage-message-writer.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_glib ();
  postage_mail_init ();
  return 0;
}

static void
check_address (const char *address,
               const char *input)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) again = NULL;

  FUZZ_CHECK (address != NULL, "a NULL address from %s", fuzz_escape (input, -1));
  FUZZ_CHECK (postage_address_is_valid (address), "accepted %s from %s, which is not valid",
              fuzz_escape (address, -1), fuzz_escape (input, -1));
  fuzz_check_shown_text ("an accepted address", address);
  for (const char *p = address; *p != '\0'; p++)
    FUZZ_CHECK ((guchar) *p > 0x20 && *p != 0x7f && strchr ("<>\"\\,;:()[]", *p) == NULL,
                "accepted %s holds byte 0x%02x, which breaks the RCPT TO:<…> line",
                fuzz_escape (address, -1), (guchar) *p);

  again = postage_address_list_parse (address, &error);
  FUZZ_CHECK (again != NULL, "accepted %s from %s, but not on its own: %s",
              fuzz_escape (address, -1), fuzz_escape (input, -1), error->message);
  FUZZ_CHECK (again->len == 1 && strcmp (g_ptr_array_index (again, 0), address) == 0,
              "%s on its own gives %u addresses, the first %s", fuzz_escape (address, -1),
              again->len,
              again->len > 0 ? fuzz_escape (g_ptr_array_index (again, 0), -1) : "none");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* The text arrives NUL-terminated from a GtkEntry: an embedded NUL ends it. */
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) addresses = NULL;
  g_autofree char *escaped = NULL;

  addresses = postage_address_list_parse (text, &error);
  if (addresses == NULL)
    {
      escaped = fuzz_escape (text, -1);
      FUZZ_CHECK (error != NULL, "refused %s without an error", escaped);
      FUZZ_CHECK (error->domain == POSTAGE_MAIL_ERROR &&
                  (error->code == POSTAGE_MAIL_ERROR_INVALID_ADDRESS ||
                   error->code == POSTAGE_MAIL_ERROR_INVALID_HEADER),
                  "refused %s with error %s:%d", escaped, g_quark_to_string (error->domain),
                  error->code);
      FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL),
                  "the error for %s is not valid UTF-8", escaped);
      return 0;
    }
  FUZZ_CHECK (error == NULL, "accepted with an error: %s", error->message);
  for (guint i = 0; i < addresses->len; i++)
    check_address (g_ptr_array_index (addresses, i), text);

  /* postage_header_value_check() ran first: accepted text had no controls */
  FUZZ_CHECK (postage_header_value_check ("To", text, NULL),
              "accepted %s, which fails the header check", fuzz_escape (text, -1));
  return 0;
}
