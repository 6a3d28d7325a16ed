/* postage-cli-private.h — shared by the command line's files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main thread only.
 */
#pragma once

#include <gio/gio.h>

#include "accounts/postage-account-store.h"
#include "smtp/postage-smtp-job.h"
#include "store/postage-outbox.h"

G_BEGIN_DECLS

typedef struct {
  gboolean verbose;
  gboolean verifying;  /* no message: "done" means signed in */
} PostageCliState;

/* Prints @message and the help; returns POSTAGE_EXIT_USAGE. */
int                  _postage_cli_usage_error   (GOptionContext *context,
                                                 const char     *message);
/* Prints "postage: …" on stderr; returns @code. */
int                  _postage_cli_fail          (int             code,
                                                 const char     *format,
                                                 ...) G_GNUC_PRINTF (2, 3);
PostageAccountStore *_postage_cli_load_store    (GError        **error);
/* Progress and transcript on stderr; @user_data is a PostageCliState. */
void                 _postage_cli_event_cb      (const PostageSmtpEvent *event,
                                                 gpointer                user_data);
/* sysexits.h code for a failed send or sign-in. */
int                  _postage_cli_exit_code_for (const GError   *error);

/* Sends @ids (NULL: every queued entry) through the outbox queue, one after
 * another, reporting each outcome on stderr and each server's final reply
 * on stdout. With @no_queue, what was not sent is removed again. Ctrl-C or
 * SIGTERM stop cleanly (QUIT sent; the entry stays queued). Returns the
 * exit code of the worst outcome (0 when every one was sent). */
int                  _postage_cli_deliver       (PostageOutbox       *outbox,
                                                 PostageAccountStore *accounts,
                                                 const char * const  *ids,
                                                 PostageCliState     *state,
                                                 guint                timeout,
                                                 gboolean             no_queue);

int                  _postage_cli_send_command     (int    argc,
                                                    char **argv);
int                  _postage_cli_sendmail_command (int    argc,
                                                    char **argv);
int                  _postage_cli_outbox_command   (int    argc,
                                                    char **argv);

G_END_DECLS
