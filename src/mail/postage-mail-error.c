/* postage-mail-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "postage-mail-error.h"

G_DEFINE_QUARK (postage-mail-error-quark, postage_mail_error)
