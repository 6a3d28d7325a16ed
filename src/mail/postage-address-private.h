/* postage-address-private.h — shared by the mail/ files only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (InternetAddressList, g_object_unref)

/* The strict parse behind postage_address_list_parse(), keeping display
 * names; @field (or NULL) names the field in error messages. */
InternetAddressList *_postage_address_list_parse_mailboxes (const char  *field,
                                                            const char  *text,
                                                            GError     **error);

G_END_DECLS
