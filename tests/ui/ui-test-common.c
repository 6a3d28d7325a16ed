/* ui-test-common.c — helpers shared by the in-process UI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <sys/prctl.h>

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

gboolean
ui_test_start_server (UiTestServer *server,
                      const char   *cert_dir,
                      const char   *cert_name,
                      const char   *user,
                      const char   *password,
                      const char   *spool)
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
