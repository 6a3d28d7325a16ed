/* postage-address.h — parsing and checking what a person types in To/Cc/Bcc
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions, any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE for a bare addr-spec we are willing to put in MAIL FROM/RCPT TO:
 * printable ASCII or UTF-8, one '@', non-empty local part and domain, no
 * spaces, controls, or <>()[],;:\" outside the local part. */
gboolean   postage_address_is_valid       (const char  *address);

/* Parses a comma-separated list ("Ann <ann@x.test>, bob@y.test") into the bare
 * addresses, in order. An empty or blank text gives an empty array.
 * Errors: POSTAGE_MAIL_ERROR_INVALID_ADDRESS, naming the offending entry;
 * POSTAGE_MAIL_ERROR_INVALID_HEADER for CR/LF/control characters. */
GPtrArray *postage_address_list_parse     (const char  *text,
                                           GError     **error);

/* Errors: POSTAGE_MAIL_ERROR_INVALID_HEADER when @value holds CR, LF or another
 * control character (tab excepted); @field names the field in the message. */
gboolean   postage_header_value_check     (const char  *field,
                                           const char  *value,
                                           GError     **error);

G_END_DECLS
