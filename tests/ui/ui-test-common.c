/* ui-test-common.c — helpers shared by the in-process UI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "accounts/postage-account-store.h"
#include "ui-test-common.h"

static guint wait_seconds = 60;
static guint settle_frames = 10;

void
ui_test_set_limits (guint seconds,
                    guint frames)
{
  wait_seconds = seconds;
  settle_frames = frames;
}

gpointer
ui_test_child (gpointer    widget,
               const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (widget),
                                                   G_OBJECT_TYPE (widget), name);

  g_assert_nonnull (object);
  return object;
}

static gboolean
timeout_cb (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
ui_test_spin_until (gboolean (*done) (gpointer data),
                    gpointer  data)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (wait_seconds, timeout_cb, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (id);
  g_assert_false (timed_out);
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

void
ui_test_poll_until (gboolean (*done) (gpointer data),
                    gpointer  data)
{
  guint tick = g_timeout_add (20, tick_cb, NULL);

  ui_test_spin_until (done, data);
  g_source_remove (tick);
}

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

static void
count_frame_cb (GdkFrameClock *clock,
                gpointer       data)
{
  (*(guint *) data)++;
}

static gboolean
frames_drawn (gpointer data)
{
  return *(guint *) data >= 1;
}

void
ui_test_wait_for_frames (GtkWindow *window)
{
  GdkFrameClock *clock;
  guint frames = 0;
  gulong id;

  gtk_window_present (window);
  ui_test_spin_until (is_mapped, window);

  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (count_frame_cb), &frames);
  for (guint i = 0; i < settle_frames; i++)
    {
      frames = 0;
      gtk_widget_queue_draw (GTK_WIDGET (window));
      ui_test_spin_until (frames_drawn, &frames);
    }
  g_signal_handler_disconnect (clock, id);
}

void
ui_test_save_screenshot (GtkWindow  *window,
                         const char *name)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  GskRenderer *renderer;
  int width, height;

  ui_test_wait_for_frames (window);

  width = gtk_widget_get_width (GTK_WIDGET (window));
  height = gtk_widget_get_height (GTK_WIDGET (window));
  paintable = gtk_widget_paintable_new (GTK_WIDGET (window));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);

  renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));

  path = g_test_build_filename (G_TEST_BUILT, "ui", name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

char *
ui_test_text_view_dup_text (GtkTextView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

void
ui_test_type (GtkEditable *editable,
              const char  *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      int position = -1;

      gtk_editable_set_position (editable, -1);
      position = gtk_editable_get_position (editable);
      gtk_editable_insert_text (editable, p, (int) (g_utf8_next_char (p) - p), &position);
    }
}

void
ui_test_type_in_view (GtkTextView *view,
                      const char  *text)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      GtkTextIter end;

      gtk_text_buffer_get_end_iter (buffer, &end);
      gtk_text_buffer_insert (buffer, &end, p, (int) (g_utf8_next_char (p) - p));
    }
}

gboolean
ui_test_shows_text (GtkWidget  *widget,
                    const char *text)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget) &&
      strstr (gtk_label_get_text (GTK_LABEL (widget)), text) != NULL)
    return TRUE;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    if (ui_test_shows_text (c, text))
      return TRUE;

  return FALSE;
}

GtkWidget *
ui_test_find_button (GtkWidget  *widget,
                     const char *label)
{
  if (GTK_IS_BUTTON (widget) && gtk_widget_get_visible (widget) &&
      g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = ui_test_find_button (c, label);

      if (found != NULL)
        return found;
    }

  return NULL;
}

GtkWidget *
ui_test_find_action_button (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *target)
{
  g_autoptr(GVariant) owned = target != NULL ? g_variant_ref_sink (target) : NULL;

  if (GTK_IS_BUTTON (widget) && gtk_widget_get_visible (widget) &&
      g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action_name) == 0 &&
      (owned == NULL ||
       (gtk_actionable_get_action_target_value (GTK_ACTIONABLE (widget)) != NULL &&
        g_variant_equal (gtk_actionable_get_action_target_value (GTK_ACTIONABLE (widget)),
                         owned))))
    return widget;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = ui_test_find_action_button (c, action_name, owned);

      if (found != NULL)
        return found;
    }

  return NULL;
}

void
ui_test_click (GtkWidget *button)
{
  g_assert_true (GTK_IS_BUTTON (button));
  g_assert_true (gtk_widget_is_visible (button));
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

/* A label with text inside @widget: what GTK names a button by when nothing
 * else names it. */
static gboolean
has_label_inside (GtkWidget *widget)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    if ((GTK_IS_LABEL (c) && gtk_widget_get_visible (c) &&
         *gtk_label_get_text (GTK_LABEL (c)) != '\0') || has_label_inside (c))
      return TRUE;

  return FALSE;
}

static gboolean
is_control (GtkWidget *widget)
{
  /* A GtkText is the inside of an entry, which is what gets the name. */
  return GTK_IS_BUTTON (widget) || GTK_IS_MENU_BUTTON (widget) || GTK_IS_ENTRY (widget) ||
         GTK_IS_PASSWORD_ENTRY (widget) || GTK_IS_SEARCH_ENTRY (widget) ||
         GTK_IS_TEXT_VIEW (widget) || GTK_IS_DROP_DOWN (widget) || GTK_IS_SWITCH (widget) ||
         GTK_IS_SPIN_BUTTON (widget) || GTK_IS_SCALE (widget);
}

static void
collect_unlabelled (GtkWidget *widget,
                    GPtrArray *found)
{
  if (!gtk_widget_get_visible (widget))
    return;

  if (is_control (widget) &&
      !gtk_test_accessible_has_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL) &&
      !gtk_test_accessible_has_relation (GTK_ACCESSIBLE (widget),
                                         GTK_ACCESSIBLE_RELATION_LABELLED_BY) &&
      !((GTK_IS_BUTTON (widget) || GTK_IS_MENU_BUTTON (widget)) && has_label_inside (widget)))
    {
      const char *tooltip = gtk_widget_get_tooltip_text (widget);
      const char *name = gtk_widget_get_name (widget);

      g_ptr_array_add (found, g_strdup_printf ("%s (name “%s”, tooltip “%s”)",
                                               G_OBJECT_TYPE_NAME (widget), name,
                                               tooltip != NULL ? tooltip : ""));
    }

  /* An entry's own text and icons are parts of it, not controls of their own. */
  if (GTK_IS_ENTRY (widget) || GTK_IS_PASSWORD_ENTRY (widget) || GTK_IS_SPIN_BUTTON (widget))
    return;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    collect_unlabelled (c, found);
}

GPtrArray *
ui_test_list_unlabelled (GtkWidget *widget)
{
  GPtrArray *found = g_ptr_array_new_with_free_func (g_free);

  collect_unlabelled (widget, found);
  return found;
}

guint
ui_test_count_spooled (const char *spool)
{
  g_autoptr(GDir) dir = g_dir_open (spool, 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".eml"))
      n++;

  return n;
}

gboolean
ui_test_require (const char *skip_reason)
{
  if (skip_reason != NULL)
    {
      g_test_skip (skip_reason);
      return FALSE;
    }
  return TRUE;
}

void
ui_test_die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

void
ui_test_make_certs (const char *cert_dir)
{
  g_autofree char *make_certs = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  make_certs = g_build_filename (g_getenv ("POSTAGE_SOURCE_ROOT"), "tests", "lib",
                                 "make-certs.sh", NULL);

  {
    const char *argv[] = { "sh", make_certs, cert_dir, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                  &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
}

static gboolean
start_server (UiTestServer *server,
              const char   *cert_dir,
              const char   *cert_name,
              const char   *user,
              const char   *password,
              const char   *spool,
              const char   *refuse_file,
              const char   *stall_file)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *server_py = NULL;
  g_autofree char *line = NULL;

  server_py = g_build_filename (g_getenv ("POSTAGE_SOURCE_ROOT"), "tests", "lib",
                                "aiosmtpd-server.py", NULL);
  g_ptr_array_add (argv, (gpointer) "/usr/bin/python3");
  g_ptr_array_add (argv, server_py);
  g_ptr_array_add (argv, (gpointer) "--cert-dir");
  g_ptr_array_add (argv, (gpointer) cert_dir);
  if (cert_name != NULL)
    {
      g_ptr_array_add (argv, (gpointer) "--cert-name");
      g_ptr_array_add (argv, (gpointer) cert_name);
    }
  g_ptr_array_add (argv, (gpointer) "--user");
  g_ptr_array_add (argv, (gpointer) user);
  g_ptr_array_add (argv, (gpointer) "--password");
  g_ptr_array_add (argv, (gpointer) password);
  g_ptr_array_add (argv, (gpointer) "--spool");
  g_ptr_array_add (argv, (gpointer) spool);
  if (refuse_file != NULL)
    {
      g_ptr_array_add (argv, (gpointer) "--refuse-file");
      g_ptr_array_add (argv, (gpointer) refuse_file);
    }
  if (stall_file != NULL)
    {
      g_ptr_array_add (argv, (gpointer) "--stall-while");
      g_ptr_array_add (argv, (gpointer) stall_file);
    }
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, ui_test_die_with_parent, NULL, NULL);
  server->process = g_subprocess_launcher_spawnv (launcher,
                                                  (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  /* The server prints "PORT <n>" once it listens; EOF means it died. */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL || !g_str_has_prefix (line, "PORT "))
    return FALSE;

  server->port = (guint16) g_ascii_strtoull (line + 5, NULL, 10);
  g_assert_cmpuint (server->port, >, 0);
  return TRUE;
}

gboolean
ui_test_start_server (UiTestServer *server,
                      const char   *cert_dir,
                      const char   *cert_name,
                      const char   *user,
                      const char   *password,
                      const char   *spool)
{
  return start_server (server, cert_dir, cert_name, user, password, spool, NULL, NULL);
}

gboolean
ui_test_start_server_refusing (UiTestServer *server,
                               const char   *cert_dir,
                               const char   *user,
                               const char   *password,
                               const char   *spool,
                               const char   *refuse_file)
{
  return start_server (server, cert_dir, NULL, user, password, spool, refuse_file, NULL);
}

gboolean
ui_test_start_server_stalling (UiTestServer *server,
                               const char   *cert_dir,
                               const char   *user,
                               const char   *password,
                               const char   *spool,
                               const char   *refuse_file,
                               const char   *stall_file)
{
  return start_server (server, cert_dir, NULL, user, password, spool, refuse_file, stall_file);
}

void
ui_test_stop_server (UiTestServer *server)
{
  if (server->process != NULL)
    {
      g_subprocess_send_signal (server->process, SIGTERM);
      g_subprocess_wait (server->process, NULL, NULL);
      g_clear_object (&server->process);
    }
}

GtkCssProvider *
ui_test_add_app_style (void)
{
  GtkCssProvider *provider = gtk_css_provider_new ();

  gtk_css_provider_load_from_resource (provider, "/io/github/postage/Postage/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  return provider;
}

GList *
ui_test_list_windows (GtkApplication *app,
                      GType           type)
{
  GList *found = NULL;

  for (GList *l = gtk_application_get_windows (app); l != NULL; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type))
      found = g_list_prepend (found, l->data);
  return found;
}

gpointer
ui_test_new_window_since (GtkApplication *app,
                          GType           type,
                          GList          *before)
{
  g_autoptr(GList) now = ui_test_list_windows (app, type);
  gpointer found = NULL;

  for (GList *l = now; l != NULL; l = l->next)
    if (g_list_find (before, l->data) == NULL)
      {
        g_assert_null (found);
        found = l->data;
      }
  g_assert_nonnull (found);
  return found;
}

void
ui_test_save_account (const char *email,
                      guint       port,
                      const char *user,
                      const char *ca_file)
{
  g_autoptr(PostageAccountStore) store = postage_account_store_new ();
  g_autoptr(PostageAccount) account = postage_account_new (email);
  g_autoptr(GError) error = NULL;

  postage_account_store_load (store, NULL);
  postage_account_set_display_name (account, "Sam Sender");
  postage_account_set_email (account, email);
  postage_account_set_host (account, "127.0.0.1");
  postage_account_set_port (account, port);
  if (ca_file != NULL)
    postage_account_set_ca_file (account, ca_file);
  postage_account_set_security (account, POSTAGE_SECURITY_STARTTLS);
  postage_account_set_user (account, user);
  postage_account_store_save (store, account, &error);
  g_assert_no_error (error);
}
