/* postage-smtp-reply.h — SMTP reply and EHLO parsing, no I/O
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions, any thread; the fuzz and unit tests call them directly.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 5321 §4.5.3.1.5 caps a reply line at 512 octets; real servers exceed it
 * (long URLs in Gmail's texts), so we allow more but stay bounded. */
#define POSTAGE_SMTP_MAX_LINE        4096
/* RFC 5321 sets no limit on the lines of a multi-line reply; EHLO answers run
 * to a few dozen. A bound keeps a hostile server from growing memory. */
#define POSTAGE_SMTP_MAX_REPLY_LINES 128
/* RFC 5321 §4.5.3.2: no wait is ever longer than 10 minutes. */
#define POSTAGE_SMTP_MAX_TIMEOUT     600
/* Server text shown to a person is cut here (it is untrusted input). */
#define POSTAGE_SMTP_MAX_SHOWN_TEXT  1024

typedef struct {
  guint      code;     /* 200..599 */
  char      *enhanced; /* RFC 3463 "5.7.8", or NULL */
  GPtrArray *lines;    /* each line's text, enhanced code removed, sanitised */
  char      *text;     /* the lines joined by spaces, for people */
  gboolean   complete; /* the last line (code + space) has been seen */
} PostageSmtpReply;

PostageSmtpReply *postage_smtp_reply_new      (void);
void              postage_smtp_reply_free     (PostageSmtpReply *reply);
/* Adds one line (without its CRLF). Returns FALSE with @error set
 * (POSTAGE_SMTP_ERROR_PROTOCOL) for a malformed line, a code that changes
 * inside the reply, or too many lines. */
gboolean          postage_smtp_reply_add_line (PostageSmtpReply *reply,
                                               const char       *line,
                                               gsize             length,
                                               GError          **error);
/* "535 5.7.8 Authentication failed", for messages and the transcript. */
char             *postage_smtp_reply_dup_summary (const PostageSmtpReply *reply);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageSmtpReply, postage_smtp_reply_free)

typedef enum {
  POSTAGE_SMTP_CAP_STARTTLS            = 1 << 0,
  POSTAGE_SMTP_CAP_PIPELINING          = 1 << 1,
  POSTAGE_SMTP_CAP_8BITMIME            = 1 << 2,
  POSTAGE_SMTP_CAP_SMTPUTF8            = 1 << 3,
  POSTAGE_SMTP_CAP_ENHANCEDSTATUSCODES = 1 << 4,
  POSTAGE_SMTP_CAP_SIZE                = 1 << 5,
  POSTAGE_SMTP_CAP_AUTH                = 1 << 6,
} PostageSmtpCapFlags;

typedef enum {
  POSTAGE_SMTP_AUTH_PLAIN = 1 << 0,
  POSTAGE_SMTP_AUTH_LOGIN = 1 << 1,
} PostageSmtpAuthMechs;

typedef struct {
  PostageSmtpCapFlags  flags;
  guint64              size;  /* SIZE limit, 0 = none given */
  PostageSmtpAuthMechs auth;
} PostageSmtpCaps;

/* Reads the capabilities of a 250 reply to EHLO (the first line is the
 * server's name and is skipped). Keywords are case-insensitive (RFC 5321
 * §4.1.1.1); the old "AUTH=PLAIN" form is understood. */
void postage_smtp_caps_parse (const PostageSmtpReply *reply,
                              PostageSmtpCaps        *caps);

/* Makes untrusted server text safe to show: valid UTF-8, controls replaced,
 * at most POSTAGE_SMTP_MAX_SHOWN_TEXT bytes. */
char *postage_smtp_sanitize_text (const char *text,
                                  gssize      length);

G_END_DECLS
