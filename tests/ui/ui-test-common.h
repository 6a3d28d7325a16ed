/* ui-test-common.h — helpers shared by the in-process UI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * For tests/ui/test-*.c, which run inside tests/lib/with-session.sh --x11.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* An aiosmtpd server (tests/lib/aiosmtpd-server.py) and the port it listens on. */
typedef struct {
  GSubprocess *process;
  guint16      port;
} UiTestServer;

/* How long ui_test_spin_until() may spin (default 60 s), and how many frames
 * ui_test_wait_for_frames() waits for (default 10). Call before the cases run. */
void            ui_test_set_limits            (guint          wait_seconds,
                                               guint          settle_frames);

/* The template child @name of @widget, whose own (final) type declared the
 * template; asserts there is one. */
gpointer        ui_test_child                 (gpointer       widget,
                                               const char    *name);

/* Spins the default context until @done(@data) or the wait bound passes (an
 * assertion failure); no sleeps. */
void            ui_test_spin_until            (gboolean     (*done) (gpointer data),
                                               gpointer       data);

/* Waits until @window has been mapped and painted a few times, so that the
 * layout (and any revealer or stack transition) has settled. */
void            ui_test_wait_for_frames       (GtkWindow     *window);

/* Renders @window, once settled, to the build folder's ui/@name (a PNG). */
void            ui_test_save_screenshot       (GtkWindow     *window,
                                               const char    *name);

char           *ui_test_text_view_dup_text    (GtkTextView   *view);

/* How many messages (.eml) the server has written to @spool. */
guint           ui_test_count_spooled         (const char    *spool);

/* FALSE, and the case skipped, when @skip_reason is set. */
gboolean        ui_test_require               (const char    *skip_reason);

/* A child setup function: a child process must not outlive a test that aborts. */
void            ui_test_die_with_parent       (gpointer       data);

/* Makes the test CA and certificates in @cert_dir (tests/lib/make-certs.sh of
 * $POSTAGE_SOURCE_ROOT). */
void            ui_test_make_certs            (const char    *cert_dir);

/* Starts the aiosmtpd server of $POSTAGE_SOURCE_ROOT on the certificates in
 * @cert_dir (@cert_name: its --cert-name, or NULL for its default), requiring
 * @user and @password and spooling to @spool. FALSE when it did not start
 * listening; @server->process is set either way, for ui_test_stop_server(). */
gboolean        ui_test_start_server          (UiTestServer  *server,
                                               const char    *cert_dir,
                                               const char    *cert_name,
                                               const char    *user,
                                               const char    *password,
                                               const char    *spool);
void            ui_test_stop_server           (UiTestServer  *server);

/* What AdwApplication does for the real program, so screenshots look right:
 * style.css on the default display. Keep the provider until the end. */
GtkCssProvider *ui_test_add_app_style         (void);

G_END_DECLS
