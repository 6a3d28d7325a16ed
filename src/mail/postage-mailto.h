/* postage-mailto.h — reading a mailto: link (RFC 6068) into a draft, safely
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions, any thread. A link comes from a web page or another program,
 * so only the fields a link may set are taken: To, Cc, Bcc, Subject, body and
 * In-Reply-To. Everything else — above all attach/attachment, which would let
 * a page attach a local file — is dropped and its name reported.
 */
#pragma once

#include <glib.h>

#include "postage-draft.h"

G_BEGIN_DECLS

/* Whole link, before decoding. */
#define POSTAGE_MAILTO_MAX_LENGTH (1024 * 1024)
/* One decoded value, and each of To/Cc/Bcc once joined. */
#define POSTAGE_MAILTO_MAX_VALUE  (64 * 1024)

typedef struct {
  char      *to;          /* comma-separated, as the composer's field takes it; NULL if none */
  char      *cc;
  char      *bcc;
  char      *subject;     /* no control characters */
  char      *body;        /* LF line ends; tabs kept; no other control character */
  char      *in_reply_to;
  GPtrArray *ignored;     /* lower-cased names of the fields dropped, each once, printable */
} PostageMailto;

/* Parses @uri ("mailto:…", scheme in any case). Header values are
 * percent-decoded UTF-8 (RFC 6068 §2, §5; '+' stays '+'); a fragment is not
 * part of the link and is dropped.
 * Errors: POSTAGE_MAIL_ERROR_INVALID_HEADER for a link that is not mailto:,
 * too long, a broken %-escape, invalid UTF-8, or a control character (CR/LF
 * included) in a header value. */
PostageMailto *postage_mailto_parse             (const char          *uri,
                                                 GError             **error);
void           postage_mailto_free              (PostageMailto       *mailto);

/* TRUE when the link asked for an attachment (attach=, attachment=, …),
 * which was ignored: the UI tells the person so. */
gboolean       postage_mailto_asked_to_attach   (const PostageMailto *mailto);

/* A new draft with To/Cc/Bcc/Subject/body; never an attachment. */
PostageDraft  *postage_mailto_to_draft          (const PostageMailto *mailto);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageMailto, postage_mailto_free)

G_END_DECLS
