/* fuzz-raw-message.c — libFuzzer target for `postage sendmail`'s input
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is whatever a script pipes into postage sendmail -t. The parser
 * must not crash, must accept or say why not, and what it writes must be
 * safe on the wire: CRLF line ends only (no bare CR or LF, the SMTP
 * smuggling class), no line over 998 octets (or a clear error before
 * anything is queued), no Bcc header left, and only valid addresses in the
 * envelope.
 */
#include "config.h"

#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "postage-address.h"
#include "postage-mail-error.h"
#include "postage-raw-message.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_glib ();
  postage_mail_init ();
  return 0;
}

static void
check_output (const char *out,
              gsize       length,
              const char *input,
              gsize       input_length)
{
  gsize line = 0;
  gboolean in_headers = TRUE;

  for (gsize i = 0; i < length; i++)
    {
      if (out[i] == '\r' || out[i] == '\n')
        {
          FUZZ_CHECK (out[i] == '\r' && i + 1 < length && out[i + 1] == '\n',
                      "bare %s at %zu for %s", out[i] == '\r' ? "CR" : "LF", i,
                      fuzz_escape (input, input_length));
          if (in_headers && line == 0)
            in_headers = FALSE;
          if (in_headers && i + 5 < length && g_ascii_strncasecmp (out + i + 2, "bcc:", 4) == 0)
            FUZZ_CHECK (FALSE, "a Bcc header was written for %s",
                        fuzz_escape (input, input_length));
          line = 0;
          i++;
          continue;
        }
      line++;
      FUZZ_CHECK (line <= 998, "a line over 998 octets for %s", fuzz_escape (input, input_length));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const PostageRawOptions options = {
    .sender = "fuzz@example.org",
    .from_address = "fuzz@example.org",
    .use_headers = TRUE,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageRawMessage) message = NULL;
  g_autoptr(PostageOutgoing) outgoing = NULL;
  g_autofree char *out = NULL;
  gsize length;
  int fd;

  message = postage_raw_message_parse ((const char *) data, size, &options, &error);
  if (message == NULL)
    {
      FUZZ_CHECK (error != NULL && error->domain == POSTAGE_MAIL_ERROR,
                  "refused %s without a mail error", fuzz_escape ((const char *) data, size));
      fuzz_check_shown_text ("the error message", error->message);
      return 0;
    }
  fd = memfd_create ("fuzz-raw-message", MFD_CLOEXEC);
  g_assert (fd >= 0);
  outgoing = postage_raw_message_write (message, fd, &error);
  if (outgoing == NULL)
    {
      /* Only an address header GMime cannot fold may fail this late, and
       * it fails before anything is queued or sent. */
      FUZZ_CHECK (g_error_matches (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER),
                  "accepted %s but could not write it: %s",
                  fuzz_escape ((const char *) data, size), error->message);
      fuzz_check_shown_text ("the error message", error->message);
      close (fd);
      return 0;
    }
  length = lseek (fd, 0, SEEK_END);
  FUZZ_CHECK (length == outgoing->size, "size %" G_GUINT64_FORMAT " but %zu bytes written",
              outgoing->size, length);
  out = g_malloc (length + 1);
  FUZZ_CHECK (pread (fd, out, length, 0) == (ssize_t) length, "could not read back");
  close (fd);
  check_output (out, length, (const char *) data, size);
  FUZZ_CHECK (outgoing->recipients->len > 0, "accepted without recipients");
  for (guint i = 0; i < outgoing->recipients->len; i++)
    FUZZ_CHECK (postage_address_is_valid (g_ptr_array_index (outgoing->recipients, i)),
                "invalid envelope recipient %s",
                fuzz_escape (g_ptr_array_index (outgoing->recipients, i), -1));
  return 0;
}
