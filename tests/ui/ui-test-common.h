/* ui-test-common.h — helpers shared by the in-process UI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * For tests/ui/test-*.c, which run inside tests/lib/with-session.sh --x11.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* @app's windows of @type (free the list, not the windows). */
GList          *ui_test_list_windows          (GtkApplication *app,
                                               GType           type);
/* The one window of @type that @app has now and did not have in @before. */
gpointer        ui_test_new_window_since      (GtkApplication *app,
                                               GType           type,
                                               GList          *before);
/* Saves the account "Sam Sender <@email>": STARTTLS on 127.0.0.1:@port as
 * @user, trusting @ca_file (or NULL). No password. */
void            ui_test_save_account          (const char     *email,
                                               guint           port,
                                               const char     *user,
                                               const char     *ca_file);

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

/* As ui_test_spin_until(), for a condition no event of this process signals
 * (a file another process writes): checks it every 20 ms, within the bound. */
void            ui_test_poll_until            (gboolean     (*done) (gpointer data),
                                               gpointer       data);

/* Waits until @window has been mapped and painted a few times, so that the
 * layout (and any revealer or stack transition) has settled. */
void            ui_test_wait_for_frames       (GtkWindow     *window);

/* Renders @window, once settled, to the build folder's ui/@name (a PNG). */
void            ui_test_save_screenshot       (GtkWindow     *window,
                                               const char    *name);

char           *ui_test_text_view_dup_text    (GtkTextView   *view);

/* Types @text at the end of @editable (or of @view's buffer) one character at
 * a time, each a separate change, as keystrokes would make it. */
void            ui_test_type                  (GtkEditable   *editable,
                                               const char    *text);
void            ui_test_type_in_view          (GtkTextView   *view,
                                               const char    *text);

/* Is there a visible label under @widget (toasts included) whose text holds @text? */
gboolean        ui_test_shows_text            (GtkWidget     *widget,
                                               const char    *text);

/* The first visible button under @widget whose label is @label (mnemonic
 * underscores included, as in the .ui file), or NULL. */
GtkWidget      *ui_test_find_button           (GtkWidget     *widget,
                                               const char    *label);

/* The first visible button under @widget that activates @action_name
 * (with @target, or any target when NULL), or NULL. */
GtkWidget      *ui_test_find_action_button    (GtkWidget     *widget,
                                               const char    *action_name,
                                               GVariant      *target);

/* A click on @button: its "clicked", at once (gtk_widget_activate() would
 * wait for the press animation). Asserts it is visible and sensitive. */
void            ui_test_click                 (GtkWidget     *button);

/* The controls under @widget (buttons, entries, text views, drop-downs,
 * switches) that a screen reader could not name: no accessible label, no
 * labelled-by relation and no label inside. One line each, for messages;
 * an empty array when every control has a name. */
GPtrArray      *ui_test_list_unlabelled       (GtkWidget     *widget);

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
/* The same, refusing the recipients listed in @refuse_file (the server's
 * --refuse-file: "ADDRESS REPLY" lines, read again at every RCPT TO). */
gboolean        ui_test_start_server_refusing (UiTestServer  *server,
                                               const char    *cert_dir,
                                               const char    *user,
                                               const char    *password,
                                               const char    *spool,
                                               const char    *refuse_file);
/* The same, and holding the reply to a message's final "." while
 * @stall_file exists (the server's --stall-while; it creates
 * @stall_file.held while it holds one). */
gboolean        ui_test_start_server_stalling (UiTestServer  *server,
                                               const char    *cert_dir,
                                               const char    *user,
                                               const char    *password,
                                               const char    *spool,
                                               const char    *refuse_file,
                                               const char    *stall_file);
void            ui_test_stop_server           (UiTestServer  *server);

/* What AdwApplication does for the real program, so screenshots look right:
 * style.css on the default display. Keep the provider until the end. */
GtkCssProvider *ui_test_add_app_style         (void);

G_END_DECLS
