/* main.c — picks the window or the command line; nothing else
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "cli/postage-cli.h"
#include "mail/postage-message-writer.h"
#include "ui/postage-application.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(PostageApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  postage_mail_init ();

  if (postage_cli_handles (argc, argv))
    return postage_cli_run (argc, argv);

  app = postage_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
