/* store-test-util.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE /* nftw flags */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <string.h>

#include "store-test-util.h"

char *
store_test_make_dir (const char *parent)
{
  g_autoptr(GError) error = NULL;
  char *dir;

  if (parent == NULL)
    {
      dir = g_dir_make_tmp ("postage-store-test-XXXXXX", &error);
      g_assert_no_error (error);
      return dir;
    }
  dir = g_build_filename (parent, "store-test-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (dir));
  return dir;
}

static int
remove_cb (const char        *path,
           const struct stat *info,
           int                flag,
           struct FTW        *ftw)
{
  return remove (path) == 0 || errno == ENOENT ? 0 : -1;
}

gboolean
store_test_rm_rf (const char *path)
{
  if (path == NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  return nftw (path, remove_cb, 16, FTW_DEPTH | FTW_PHYS) == 0 &&
         !g_file_test (path, G_FILE_TEST_EXISTS);
}

char *
store_test_read (const char *path,
                 gsize      *length)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, length, &error);
  g_assert_no_error (error);
  return contents;
}

void
store_test_write (const char *path,
                  const char *contents,
                  gssize      length)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

GStrv
store_test_list_dir (const char *dir)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

guint
store_test_count_dir (const char *dir)
{
  g_auto(GStrv) names = store_test_list_dir (dir);

  return g_strv_length (names);
}

PostageDraft *
store_test_make_draft (const char *account_id,
                       const char *subject)
{
  PostageDraft *draft = postage_draft_new ();

  draft->account_id = g_strdup (account_id);
  draft->from_name = g_strdup ("Sam Sender");
  draft->from_address = g_strdup ("sam@example.test");
  draft->to = g_strdup ("Friend <friend@example.test>");
  draft->bcc = g_strdup ("hidden@example.test");
  draft->subject = g_strdup (subject);
  draft->body = g_strdup ("This is an extremely important message.\n");
  return draft;
}
