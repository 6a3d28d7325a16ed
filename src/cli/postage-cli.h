/* postage-cli.h — `postage send`, `postage account …`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs on the main thread with its own GMainLoop; needs no display.
 * `postage send`, `postage sendmail` and `postage outbox flush` send through
 * the same outbox as the window: see src/store/postage-outbox.h.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* sendmail-style exit codes (sysexits.h) */
#define POSTAGE_EXIT_OK          0
#define POSTAGE_EXIT_USAGE       64 /* EX_USAGE: bad command line */
#define POSTAGE_EXIT_DATAERR     65 /* EX_DATAERR: bad input (address, header) */
#define POSTAGE_EXIT_UNAVAILABLE 69 /* EX_UNAVAILABLE: permanent failure */
#define POSTAGE_EXIT_SOFTWARE    70 /* EX_SOFTWARE */
#define POSTAGE_EXIT_IOERR       74 /* EX_IOERR: the message could not be stored (a full disk) */
#define POSTAGE_EXIT_TEMPFAIL    75 /* EX_TEMPFAIL: try again later; kept in the outbox */
#define POSTAGE_EXIT_NOPERM      77 /* EX_NOPERM: authentication failed */
#define POSTAGE_EXIT_CONFIG      78 /* EX_CONFIG: account missing or broken */

/* TRUE when argv names a command-line verb (send, account, outbox, sendmail). */
gboolean postage_cli_handles (int    argc,
                              char **argv);
int      postage_cli_run     (int    argc,
                              char **argv);

G_END_DECLS
