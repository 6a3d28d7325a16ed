/* test-mailto.c — pre-filled composers: mailto: links and app.compose
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs inside tests/lib/with-session.sh --x11. The real PostageApplication is
 * registered on the test session bus and driven in-process: "open" with a
 * mailto: link (what a second `postage mailto:…` or the desktop sends it) and
 * the app.compose action (what `postage --compose …` sends it). A screenshot
 * of the link's composer is kept in the build folder as mailto.png.
 */
#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "accounts/postage-account-store.h"
#include "mail/postage-message-writer.h"
#include "ui/postage-application.h"
#include "ui/postage-composer-window.h"

#include "ui-test-common.h"

#define TEST_FROM    "sender@example.test"
#define WAIT_SECONDS 30
#define ATTACH_NOTICE "This link asked to attach a file; Postage never does that for links"

static PostageApplication *app;

/* Helpers */

static const char *
entry_text (gpointer    window,
            const char *name)
{
  return gtk_editable_get_text (GTK_EDITABLE (ui_test_child (window, name)));
}

static char *
body_text (gpointer window)
{
  return ui_test_text_view_dup_text (ui_test_child (window, "body_view"));
}

/* Is there a label whose text holds @text anywhere under @widget (toasts included)? */
static gboolean
shows_text (GtkWidget  *widget,
            const char *text)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget) &&
      strstr (gtk_label_get_text (GTK_LABEL (widget)), text) != NULL)
    return TRUE;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    if (shows_text (c, text))
      return TRUE;

  return FALSE;
}

static PostageComposerWindow *
open_link (const char *uri)
{
  g_autoptr(GList) before = ui_test_list_windows (GTK_APPLICATION (app), POSTAGE_TYPE_COMPOSER_WINDOW);
  g_autoptr(GFile) file = g_file_new_for_uri (uri);
  g_autofree char *again = g_file_get_uri (file);

  /* What reaches "open" is the link itself, untouched by GIO. */
  g_assert_cmpstr (again, ==, uri);
  g_application_open (G_APPLICATION (app), &file, 1, "");

  return ui_test_new_window_since (GTK_APPLICATION (app), POSTAGE_TYPE_COMPOSER_WINDOW, before);
}

/* Tests */

static void
test_open_link (void)
{
  PostageComposerWindow *composer =
    open_link ("mailto:ann@example.test,bob@example.test?cc=carol@example.test"
               "&Subject=Caf%C3%A9%20meeting&body=Line%201%0D%0ALine%202"
               "&attach=/etc/passwd&ATTACHMENT=file:///etc/shadow&from=boss@example.test");
  g_autofree char *body = body_text (composer);

  g_assert_cmpstr (entry_text (composer, "to_entry"), ==, "ann@example.test,bob@example.test");
  g_assert_cmpstr (entry_text (composer, "cc_entry"), ==, "carol@example.test");
  g_assert_cmpstr (entry_text (composer, "bcc_entry"), ==, "");
  g_assert_cmpstr (entry_text (composer, "subject_entry"), ==, "Café meeting");
  g_assert_cmpstr (body, ==, "Line 1\nLine 2");
  /* Cc has an address, so it is shown. */
  g_assert_true (gtk_widget_get_visible (ui_test_child (composer, "cc_entry")));
  /* The link asked for two files: none is attached, and the window says so. */
  g_assert_cmpuint (g_list_model_get_n_items (postage_composer_window_get_attachments (composer)),
                    ==, 0);

  ui_test_save_screenshot (GTK_WINDOW (composer), "mailto.png");
  g_assert_true (shows_text (GTK_WIDGET (composer), ATTACH_NOTICE));

  gtk_window_destroy (GTK_WINDOW (composer));
}

static void
test_ignored_fields (void)
{
  PostageComposerWindow *composer =
    open_link ("mailto:ann@example.test?from=boss@example.test&X-Mailer=evil");

  ui_test_wait_for_frames (GTK_WINDOW (composer));
  g_assert_false (shows_text (GTK_WIDGET (composer), ATTACH_NOTICE));
  g_assert_true (shows_text (GTK_WIDGET (composer), "from, x-mailer"));
  gtk_window_destroy (GTK_WINDOW (composer));
}

static void
test_hostile_link (void)
{
  /* Header injection: refused as a whole; the composer opens empty and says why. */
  PostageComposerWindow *composer =
    open_link ("mailto:ann@example.test?subject=hi%0D%0ABcc:%20spy@evil.test");

  g_assert_cmpstr (entry_text (composer, "to_entry"), ==, "");
  g_assert_cmpstr (entry_text (composer, "subject_entry"), ==, "");
  g_assert_cmpstr (entry_text (composer, "bcc_entry"), ==, "");
  ui_test_wait_for_frames (GTK_WINDOW (composer));
  g_assert_true (shows_text (GTK_WIDGET (composer), "control character"));
  gtk_window_destroy (GTK_WINDOW (composer));
}

/* app.compose, as `postage --compose --to … --attach FILE` sends it: a local
 * person chose the file, so it is attached. */
static void
test_compose_action (void)
{
  g_autoptr(GList) before = ui_test_list_windows (GTK_APPLICATION (app), POSTAGE_TYPE_COMPOSER_WINDOW);
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "ui", "compose-attachment.txt",
                                                 NULL);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const char *paths[] = { path, NULL };
  PostageComposerWindow *composer;
  g_autofree char *body = NULL;
  g_autoptr(GFileInfo) info = NULL;

  g_assert_true (g_file_set_contents (path, "attached by the person\n", -1, NULL));
  g_variant_builder_add (&builder, "{sv}", "to", g_variant_new_string ("dave@example.test"));
  g_variant_builder_add (&builder, "{sv}", "bcc", g_variant_new_string ("eve@example.test"));
  g_variant_builder_add (&builder, "{sv}", "subject", g_variant_new_string ("Report"));
  g_variant_builder_add (&builder, "{sv}", "body", g_variant_new_string ("See attached."));
  g_variant_builder_add (&builder, "{sv}", "attach", g_variant_new_bytestring_array (paths, -1));
  g_action_group_activate_action (G_ACTION_GROUP (app), "compose",
                                  g_variant_builder_end (&builder));

  composer = ui_test_new_window_since (GTK_APPLICATION (app), POSTAGE_TYPE_COMPOSER_WINDOW, before);
  body = body_text (composer);
  g_assert_cmpstr (entry_text (composer, "to_entry"), ==, "dave@example.test");
  g_assert_cmpstr (entry_text (composer, "bcc_entry"), ==, "eve@example.test");
  g_assert_cmpstr (entry_text (composer, "subject_entry"), ==, "Report");
  g_assert_cmpstr (body, ==, "See attached.");
  g_assert_cmpuint (g_list_model_get_n_items (postage_composer_window_get_attachments (composer)),
                    ==, 1);
  info = g_list_model_get_item (postage_composer_window_get_attachments (composer), 0);
  g_assert_cmpstr (g_file_info_get_display_name (info), ==, "compose-attachment.txt");

  gtk_window_destroy (GTK_WINDOW (composer));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_setenv ("GTK_A11Y", "none", FALSE);
  gtk_test_init (&argc, &argv, NULL);
  postage_mail_init ();
  ui_test_set_limits (WAIT_SECONDS, 10);

  /* An account first, so the application does not start with the wizard. */
  /* Nothing is sent here: no server listens. */
  ui_test_save_account (TEST_FROM, 587, "sam", NULL);

  /* The real application on the test session bus: startup (adw_init, the
   * account store, style.css) runs as for `postage`. */
  app = postage_application_new ();
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_application_get_is_remote (G_APPLICATION (app)));

  g_test_add_func ("/postage/ui/mailto/open-link", test_open_link);
  g_test_add_func ("/postage/ui/mailto/ignored-fields", test_ignored_fields);
  g_test_add_func ("/postage/ui/mailto/hostile-link", test_hostile_link);
  g_test_add_func ("/postage/ui/mailto/compose-action", test_compose_action);
  ret = g_test_run ();

  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  g_clear_object (&app);
  return ret;
}
