/* fuzz-mailto.c — libFuzzer target for the mailto: link parser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is a link a web page wrote. postage_mailto_parse() must not
 * crash, must accept or say why not, and what it accepts goes into the
 * composer and from there into headers: To/Cc/Bcc/Subject/In-Reply-To hold no
 * control character at all (no CR/LF header injection), the body none but LF
 * and tab, every value is valid UTF-8 within the size cap, the ignored names
 * are printable, and a draft made from it never has an attachment.
 */
#include "config.h"

#include "fuzz-common.h"
#include "postage-mail-error.h"
#include "postage-mailto.h"
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
check_value (const char *what,
             const char *value,
             gboolean    is_body,
             const char *input)
{
  if (value == NULL)
    return;

  FUZZ_CHECK (strlen (value) <= POSTAGE_MAILTO_MAX_VALUE, "%s of %zu bytes accepted from %s",
              what, strlen (value), fuzz_escape (input, -1));
  FUZZ_CHECK (g_utf8_validate (value, -1, NULL), "%s is not valid UTF-8: %s from %s", what,
              fuzz_escape (value, -1), fuzz_escape (input, -1));
  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_body && (c == '\n' || c == '\t'))
        continue;
      FUZZ_CHECK (!g_unichar_iscntrl (c), "%s holds control character U+%04X: %s from %s",
                  what, c, fuzz_escape (value, -1), fuzz_escape (input, -1));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* The link arrives as a C string (argv, D-Bus): an embedded NUL ends it. */
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageMailto) mailto = NULL;
  g_autoptr(PostageDraft) draft = NULL;
  g_autofree char *escaped = NULL;
  gboolean attach_named = FALSE;

  mailto = postage_mailto_parse (text, &error);
  if (mailto == NULL)
    {
      escaped = fuzz_escape (text, -1);
      FUZZ_CHECK (error != NULL, "refused %s without an error", escaped);
      FUZZ_CHECK (error->domain == POSTAGE_MAIL_ERROR &&
                  error->code == POSTAGE_MAIL_ERROR_INVALID_HEADER,
                  "refused %s with error %s:%d", escaped, g_quark_to_string (error->domain),
                  error->code);
      fuzz_check_shown_text ("the error message", error->message);
      return 0;
    }
  FUZZ_CHECK (error == NULL, "accepted with an error: %s", error->message);
  FUZZ_CHECK (g_ascii_strncasecmp (text, "mailto:", 7) == 0, "accepted %s, not a mailto: link",
              fuzz_escape (text, -1));

  check_value ("To", mailto->to, FALSE, text);
  check_value ("Cc", mailto->cc, FALSE, text);
  check_value ("Bcc", mailto->bcc, FALSE, text);
  check_value ("Subject", mailto->subject, FALSE, text);
  check_value ("In-Reply-To", mailto->in_reply_to, FALSE, text);
  check_value ("the body", mailto->body, TRUE, text);
  for (guint i = 0; i < mailto->ignored->len; i++)
    {
      const char *name = g_ptr_array_index (mailto->ignored, i);

      fuzz_check_shown_text ("an ignored name", name);
      FUZZ_CHECK (g_utf8_strlen (name, -1) <= 41, "ignored name %s is too long to show",
                  fuzz_escape (name, -1));
      if (g_str_has_prefix (name, "attach"))
        attach_named = TRUE;
    }
  FUZZ_CHECK (postage_mailto_asked_to_attach (mailto) == attach_named,
              "asked_to_attach disagrees with the ignored names for %s", fuzz_escape (text, -1));

  /* Whatever the link said, the draft has no attachment. */
  draft = postage_mailto_to_draft (mailto);
  FUZZ_CHECK (draft->attachments->len == 0, "a draft from %s has %u attachments",
              fuzz_escape (text, -1), draft->attachments->len);
  return 0;
}
