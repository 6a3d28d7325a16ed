/* postage-smtp-codec.h — what goes on the wire: DATA encoding, SASL strings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions, any thread; unit-tested and fuzzed without sockets.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Streams message bytes into DATA form (RFC 5321 §4.5.2): every line end
 * becomes CRLF (a bare CR or LF never reaches the wire: SMTP smuggling,
 * CVE-2023-51764) and a line starting with "." gets another. A CRLF split
 * across two calls is handled. */
typedef struct {
  gboolean line_start;
  gboolean pending_cr;
} PostageSmtpDataEncoder;

void   postage_smtp_data_encoder_init   (PostageSmtpDataEncoder *encoder);
void   postage_smtp_data_encoder_feed   (PostageSmtpDataEncoder *encoder,
                                         const guchar           *data,
                                         gsize                   length,
                                         GByteArray             *out);
/* Ends the last line if needed, then appends the lone "." line. */
void   postage_smtp_data_encoder_finish (PostageSmtpDataEncoder *encoder,
                                         GByteArray             *out);

/* RFC 4616: base64 of "\0user\0password". Wipe the result after use. */
char  *postage_smtp_sasl_plain          (const char             *user,
                                         const char             *password);

G_END_DECLS
