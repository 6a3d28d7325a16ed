/* postage-message-private.h — shared by the mail/ files that write messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gmime/gmime.h>

#include "postage-message-writer.h"

G_BEGIN_DECLS

/* CRLF and lone CR become LF (GMime writes LF as CRLF). */
char     *_postage_normalise_newlines   (const char       *text);
/* Appends a copy of @address unless it is there already (any case). */
void      _postage_add_unique_address   (GPtrArray        *recipients,
                                         const char       *address);
/* Line lengths across a text that comes in pieces: @line is the length of
 * the line still open (0 at the start), @longest the longest seen (line
 * ends themselves not counted), both carried from one piece to the next. */
void      _postage_track_lines          (const char       *text,
                                         gsize             length,
                                         guint64          *line,
                                         guint64          *longest);
/* A fresh Message-ID (no <>) in @sender's domain. */
char     *_postage_message_make_id      (const char       *sender);
/* Writes @object to @fd with CRLF line ends and fills @outgoing's size and
 * eight_bit. Errors: G_IO_ERROR_* (a full disk: NO_SPACE), or
 * POSTAGE_MAIL_ERROR_ATTACHMENT when a streamed part could not be read. */
gboolean  _postage_message_write_object (GMimeObject      *object,
                                         int               fd,
                                         PostageOutgoing  *outgoing,
                                         GError          **error);

G_END_DECLS
