/* store-test-util.h — what the store tests share: throw-away folders, files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "mail/postage-draft.h"

G_BEGIN_DECLS

/* A new empty folder under $TMPDIR (or @parent when not NULL). */
char         *store_test_make_dir     (const char *parent);
/* rm -rf @path; TRUE when nothing is left. */
gboolean      store_test_rm_rf        (const char *path);
/* The whole file, asserting it can be read; @length may be NULL. */
char         *store_test_read         (const char *path,
                                       gsize      *length);
void          store_test_write        (const char *path,
                                       const char *contents,
                                       gssize      length);
/* The names in @dir, sorted, NULL-terminated (empty when @dir is missing). */
GStrv         store_test_list_dir     (const char *dir);
guint         store_test_count_dir    (const char *dir);
/* A draft the message writer accepts. */
PostageDraft *store_test_make_draft   (const char *account_id,
                                       const char *subject);

G_END_DECLS
