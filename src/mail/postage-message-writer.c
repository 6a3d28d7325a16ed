/* postage-message-writer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Any thread (GMime is initialised once, from main()). Blocking: it reads
 * attachments and writes the message to a file descriptor.
 */
#define G_LOG_DOMAIN "postage-message"

#include "config.h"

#include <glib/gi18n.h>
#include <gio/gio.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postage-address.h"
#include "postage-address-private.h"
#include "postage-mail-error.h"
#include "postage-message-private.h"
#include "postage-message-writer.h"

/* RFC 5322 §2.1.1: lines SHOULD stay within 78 characters; longer text lines
 * go out quoted-printable so that what the recipient decodes is what was typed. */
#define MAX_7BIT_LINE 78
/* RFC 5321 §4.5.3.1.6: at most 998 octets before the CRLF. */
#define MAX_LINE 998

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeTextPart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMultipart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFormatOptions, g_mime_format_options_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFilter, g_object_unref)

void
postage_mail_init (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      g_mime_init ();
      g_once_init_leave (&initialised, 1);
    }
}

/* CRLF and lone CR become LF: GMime writes LF as CRLF, and a lone CR must never
 * reach the wire (SMTP smuggling, CVE-2023-51764). */
char *
_postage_normalise_newlines (const char *text)
{
  GString *out = g_string_sized_new (strlen (text) + 1);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\r')
        {
          g_string_append_c (out, '\n');
          if (p[1] == '\n')
            p++;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static gboolean
needs_encoding (const char *text)
{
  gsize line = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      if ((guchar) *p >= 0x80)
        return TRUE;
      line = *p == '\n' ? 0 : line + 1;
      if (line > MAX_7BIT_LINE)
        return TRUE;
    }
  return FALSE;
}

void
_postage_add_unique_address (GPtrArray  *recipients,
                             const char *address)
{
  for (guint i = 0; i < recipients->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (recipients, i), address) == 0)
      return;
  g_ptr_array_add (recipients, g_strdup (address));
}

static gboolean
add_field (GMimeMessage  *message,
           GMimeAddressType type,
           const char    *field,
           const char    *text,
           GPtrArray     *recipients,
           GError       **error)
{
  g_autoptr(InternetAddressList) list = _postage_address_list_parse_mailboxes (field, text, error);

  if (list == NULL)
    return FALSE;
  for (int i = 0; i < internet_address_list_length (list); i++)
    /* The envelope takes the domain as A-labels (xn--…, RFC 5890), which
     * every server accepts; only a non-ASCII local part needs SMTPUTF8. */
    _postage_add_unique_address (recipients, internet_address_mailbox_get_idn_addr (
                  INTERNET_ADDRESS_MAILBOX (internet_address_list_get_address (list, i))));
  /* UTF-8 rather than GMime's "smallest charset" for encoded names. */
  for (int i = 0; i < internet_address_list_length (list); i++)
    internet_address_set_charset (internet_address_list_get_address (list, i), "utf-8");
  /* Bcc goes in the envelope only, never in the headers. */
  if (message != NULL && internet_address_list_length (list) > 0)
    internet_address_list_append (g_mime_message_get_addresses (message, type), list);
  return TRUE;
}

/* RFC 2231 file names in UTF-8 (filename*=utf-8''…) rather than GMime's
 * "smallest charset that fits", which picks ISO-8859-1 for "März". ASCII
 * names stay plain quoted strings. */
static void
label_filename_utf8 (GMimeParamList *params,
                     const char     *name)
{
  GMimeParam *param = params != NULL ? g_mime_param_list_get_parameter (params, name) : NULL;

  if (param == NULL)
    return;
  g_mime_param_set_charset (param, "utf-8");
  g_mime_param_set_encoding_method (param, GMIME_PARAM_ENCODING_METHOD_RFC2231);
}

/* An attachment opened and checked before anything is written, so that a
 * file that cannot be read fails the whole message up front. GMime reads it
 * through @stream, in blocks, while the message is written: memory use does
 * not grow with its size. */
static GMimeObject *
make_attachment (const char  *path,
                 GError     **error)
{
  g_autofree char *content_type = NULL;
  g_autofree char *mime_type = NULL;
  g_autofree char *basename = g_path_get_basename (path);
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeDataWrapper) wrapper = NULL;
  g_autoptr(GMimeContentType) type = NULL;
  guchar head[4096];
  GStatBuf info;
  GMimePart *part;
  gssize got;
  gboolean uncertain;
  int fd;

  /* The name goes into two MIME headers: a line break in it would start
   * headers (or a body) of its own. */
  if (!postage_header_value_check (_("attachment’s file name"), basename, error))
    return NULL;
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_ATTACHMENT,
                   _("The attachment %s could not be read: %s"), path, g_strerror (saved));
      return NULL;
    }
  /* /dev/zero or a FIFO would grow the message or block forever. */
  if (fstat (fd, &info) != 0 || !S_ISREG (info.st_mode))
    {
      close (fd);
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_ATTACHMENT,
                   _("The attachment %s is not a regular file."), path);
      return NULL;
    }
  got = pread (fd, head, sizeof head, 0);
  if (got < 0)
    {
      int saved = errno;

      close (fd);
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_ATTACHMENT,
                   _("The attachment %s could not be read: %s"), path, g_strerror (saved));
      return NULL;
    }
  content_type = g_content_type_guess (basename, head, got, &uncertain);
  mime_type = g_content_type_get_mime_type (content_type);
  if (mime_type == NULL)
    mime_type = g_strdup ("application/octet-stream");

  part = g_mime_part_new_with_type ("application", "octet-stream");
  type = g_mime_content_type_parse (NULL, mime_type);
  g_mime_object_set_content_type (GMIME_OBJECT (part), type);
  stream = g_mime_stream_fs_new (fd); /* owns fd */
  wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (part, wrapper);
  g_mime_part_set_filename (part, basename);
  label_filename_utf8 (g_mime_content_disposition_get_parameters (
                         g_mime_object_get_content_disposition (GMIME_OBJECT (part))), "filename");
  label_filename_utf8 (g_mime_content_type_get_parameters (
                         g_mime_object_get_content_type (GMIME_OBJECT (part))), "name");
  /* Set, not left to GMime: choosing the "best" encoding would read the
   * whole file first. */
  g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
  return GMIME_OBJECT (part);
}

void
_postage_track_lines (const char *text,
                      gsize       length,
                      guint64    *line,
                      guint64    *longest)
{
  for (const char *p = text, *end = text + length; p < end;)
    {
      const char *nl = memchr (p, '\n', end - p);

      *line += (nl != NULL ? nl : end) - p;
      *longest = MAX (*longest, *line);
      if (nl == NULL)
        break;
      *line = 0;
      p = nl + 1;
    }
}

char *
_postage_message_make_id (const char *sender)
{
  const char *domain = strrchr (sender, '@');

  return g_mime_utils_generate_message_id (domain != NULL ? domain + 1 : "localhost");
}

/* "<id@host>" (RFC 5322 §3.6.4 msg-id), as a link's in-reply-to gives it;
 * the brackets may be missing. Returns the id without them, or NULL. */
static char *
parse_msg_id (const char *text)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text));
  gsize length = strlen (trimmed);
  const char *start = trimmed;
  const char *at;

  if (length >= 2 && trimmed[0] == '<' && trimmed[length - 1] == '>')
    {
      start = trimmed + 1;
      trimmed[length - 1] = '\0';
    }
  at = strchr (start, '@');
  if (at == NULL || at == start || at[1] == '\0' || strlen (start) > 900)
    return NULL;
  /* Printable ASCII, no space, no brackets: nothing that could end the
   * header or smuggle a second one. */
  for (const char *p = start; *p != '\0'; p++)
    if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>')
      return NULL;
  return g_strdup (start);
}

/* A GMime sink over a file descriptor that counts what goes through it and
 * notes any octet over 0x7F, so the size for SIZE= and the need for
 * SMTPUTF8 are known without reading the message back. */
#define POSTAGE_TYPE_FD_SINK (postage_fd_sink_get_type ())
G_DECLARE_FINAL_TYPE (PostageFdSink, postage_fd_sink, POSTAGE, FD_SINK, GMimeStream)

struct _PostageFdSink
{
  GMimeStream parent_instance;
  int         fd;         /* borrowed */
  guint64     written;
  gboolean    eight_bit;
  guint64     line;       /* octets in the current line so far, CR included */
  guint64     longest;    /* the longest line, CR included */
  int         error_code; /* errno of the first failed write, 0 if none */
};

G_DEFINE_FINAL_TYPE (PostageFdSink, postage_fd_sink, GMIME_TYPE_STREAM)

static ssize_t
postage_fd_sink_write (GMimeStream *stream,
                       const char  *buf,
                       size_t       len)
{
  PostageFdSink *self = POSTAGE_FD_SINK (stream);
  size_t done = 0;

  if (self->error_code != 0)
    return -1;
  for (size_t i = 0; i < len && !self->eight_bit; i++)
    self->eight_bit = (guchar) buf[i] >= 0x80;
  _postage_track_lines (buf, len, &self->line, &self->longest);
  while (done < len)
    {
      ssize_t n = write (self->fd, buf + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          self->error_code = n < 0 ? errno : ENOSPC;
          errno = self->error_code;
          return -1;
        }
      done += n;
    }
  self->written += len;
  stream->position += len;
  return len;
}

static int
postage_fd_sink_flush (GMimeStream *stream)
{
  return 0;
}

static int
postage_fd_sink_close (GMimeStream *stream)
{
  return 0;
}

static gboolean
postage_fd_sink_eos (GMimeStream *stream)
{
  return FALSE;
}

static gint64
postage_fd_sink_tell (GMimeStream *stream)
{
  return stream->position;
}

/* Written once, front to back: nothing can be re-read or rewound. */
static int
postage_fd_sink_reset (GMimeStream *stream)
{
  return -1;
}

static gint64
postage_fd_sink_length (GMimeStream *stream)
{
  return -1;
}

static void
postage_fd_sink_class_init (PostageFdSinkClass *klass)
{
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS (klass);

  stream_class->write = postage_fd_sink_write;
  stream_class->flush = postage_fd_sink_flush;
  stream_class->close = postage_fd_sink_close;
  stream_class->eos = postage_fd_sink_eos;
  stream_class->tell = postage_fd_sink_tell;
  stream_class->length = postage_fd_sink_length;
  stream_class->reset = postage_fd_sink_reset;
}

static void
postage_fd_sink_init (PostageFdSink *self)
{
}

static PostageFdSink *
postage_fd_sink_new (int fd)
{
  PostageFdSink *self = g_object_new (POSTAGE_TYPE_FD_SINK, NULL);

  g_mime_stream_construct (GMIME_STREAM (self), 0, -1);
  self->fd = fd;
  return self;
}

gboolean
_postage_message_write_object (GMimeObject      *object,
                               int               fd,
                               PostageOutgoing  *outgoing,
                               GError          **error)
{
  g_autoptr(GMimeFormatOptions) options = g_mime_format_options_new ();
  g_autoptr(PostageFdSink) sink = postage_fd_sink_new (fd);
  g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new (GMIME_STREAM (sink));
  g_autoptr(GMimeFilter) crlf = g_mime_filter_unix2dos_new (FALSE);

  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  /* GMime writes a multipart's preamble and epilogue as they came, with
   * their LF line ends; every other line already ends in CRLF, which this
   * leaves alone. */
  g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), crlf);
  if (g_mime_object_write_to_stream (object, options, filtered) < 0 ||
      g_mime_stream_flush (filtered) < 0)
    {
      if (sink->error_code == ENOSPC || sink->error_code == EDQUOT)
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (sink->error_code),
                     _("The message could not be stored: %s. Free some disk space and send "
                       "again."), g_strerror (sink->error_code));
      else if (sink->error_code != 0)
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (sink->error_code),
                     _("The message could not be stored: %s"), g_strerror (sink->error_code));
      else
        /* The sink took everything, so it was a read: an attachment that
         * went away or became unreadable while it was copied. */
        g_set_error_literal (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_ATTACHMENT,
                             _("An attachment could not be read while the message was being "
                               "written. Check the attached files and send again."));
      return FALSE;
    }
  /* RFC 5321 §4.5.3.1.6: 998 octets and CRLF. Text and names are folded
   * or encoded long before this; only a header with one unbreakable word
   * (an address of 990 characters) gets here, and no server takes it. */
  if (sink->longest > MAX_LINE + 1)
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                   _("A header line would be longer than %d characters, which mail servers "
                     "refuse. Shorten the addresses or names in it."), MAX_LINE);
      return FALSE;
    }
  outgoing->size = sink->written;
  outgoing->eight_bit = sink->eight_bit;
  return TRUE;
}

static gboolean
add_reply_headers (GMimeMessage        *message,
                   const PostageDraft  *draft,
                   GError             **error)
{
  g_autofree char *id = NULL;
  g_autofree char *bracketed = NULL;

  if (draft->reply_to != NULL && *draft->reply_to != '\0')
    {
      g_autoptr(InternetAddressList) list =
        _postage_address_list_parse_mailboxes (_("Reply-To"), draft->reply_to, error);

      if (list == NULL)
        return FALSE;
      for (int i = 0; i < internet_address_list_length (list); i++)
        internet_address_set_charset (internet_address_list_get_address (list, i), "utf-8");
      internet_address_list_append (g_mime_message_get_reply_to (message), list);
    }
  if (draft->in_reply_to == NULL || *draft->in_reply_to == '\0')
    return TRUE;
  if ((id = parse_msg_id (draft->in_reply_to)) == NULL)
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                   _("“%s” is not a message ID (it looks like <id@example.com>), so the "
                     "message cannot say which one it answers."), draft->in_reply_to);
      return FALSE;
    }
  /* RFC 5322 §3.6.4: a reply names its parent in both; without the
   * parent's own References, the parent alone starts the thread. */
  bracketed = g_strdup_printf ("<%s>", id);
  g_mime_object_set_header (GMIME_OBJECT (message), "In-Reply-To", bracketed, NULL);
  g_mime_object_set_header (GMIME_OBJECT (message), "References", bracketed, NULL);
  return TRUE;
}

/* Everything the person typed, checked before a byte is written. */
static gboolean
check_draft (const PostageDraft  *draft,
             GError             **error)
{
  if (draft->from_address == NULL || !postage_address_is_valid (draft->from_address))
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_ADDRESS,
                   _("The sender address “%s” is not a valid email address. Fix it in the "
                     "account settings."), draft->from_address != NULL ? draft->from_address : "");
      return FALSE;
    }
  return postage_header_value_check (_("sender name"), draft->from_name, error) &&
         postage_header_value_check (_("subject"), draft->subject, error);
}

PostageOutgoing *
postage_message_write (const PostageDraft  *draft,
                       int                  fd,
                       GError             **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeTextPart) part = NULL;
  g_autoptr(GMimeStream) body_stream = NULL;
  g_autoptr(GMimeDataWrapper) body_wrapper = NULL;
  g_autoptr(GPtrArray) recipients = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *message_id = NULL;
  g_autofree char *body = NULL;
  InternetAddress *from;
  PostageOutgoing *outgoing;

  g_return_val_if_fail (draft != NULL, NULL);
  g_return_val_if_fail (fd >= 0, NULL);

  postage_mail_init ();

  if (!check_draft (draft, error))
    return NULL;

  message = g_mime_message_new (TRUE);
  from = internet_address_mailbox_new (draft->from_name, draft->from_address);
  internet_address_set_charset (from, "utf-8");
  internet_address_list_add (g_mime_message_get_from (message), from);
  g_object_unref (from);
  if (!add_field (message, GMIME_ADDRESS_TYPE_TO, _("To"), draft->to, recipients, error) ||
      !add_field (message, GMIME_ADDRESS_TYPE_CC, _("Cc"), draft->cc, recipients, error) ||
      !add_field (NULL, GMIME_ADDRESS_TYPE_BCC, _("Bcc"), draft->bcc, recipients, error))
    return NULL;
  if (recipients->len == 0)
    {
      g_set_error_literal (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_NO_RECIPIENTS,
                           _("Add at least one recipient in To, Cc or Bcc."));
      return NULL;
    }
  if (!add_reply_headers (message, draft, error))
    return NULL;

  g_mime_message_set_subject (message, draft->subject != NULL ? draft->subject : "", "utf-8");
  g_mime_message_set_date (message, now);
  message_id = _postage_message_make_id (draft->from_address);
  g_mime_message_set_message_id (message, message_id);
  g_mime_object_set_header (GMIME_OBJECT (message), "MIME-Version", "1.0", NULL);
  g_mime_object_set_header (GMIME_OBJECT (message), "User-Agent", "Postage/" PACKAGE_VERSION,
                            NULL);

  body = _postage_normalise_newlines (draft->body != NULL ? draft->body : "");
  part = g_mime_text_part_new_with_subtype ("plain");
  /* Not g_mime_text_part_set_text(): it converts to the smallest charset
   * that fits (often ISO-8859-1). The text is UTF-8 and is labelled so. */
  body_stream = g_mime_stream_mem_new_with_buffer (body, strlen (body));
  body_wrapper = g_mime_data_wrapper_new_with_stream (body_stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (GMIME_PART (part), body_wrapper);
  g_mime_text_part_set_charset (part, "utf-8");
  g_mime_part_set_content_encoding (GMIME_PART (part),
                                    needs_encoding (body) ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
                                                          : GMIME_CONTENT_ENCODING_7BIT);
  if (draft->attachments == NULL || draft->attachments->len == 0)
    g_mime_message_set_mime_part (message, GMIME_OBJECT (part));
  else
    {
      g_autoptr(GMimeMultipart) mixed = g_mime_multipart_new_with_subtype ("mixed");

      g_mime_multipart_add (mixed, GMIME_OBJECT (part));
      for (guint i = 0; i < draft->attachments->len; i++)
        {
          GMimeObject *attachment = make_attachment (g_ptr_array_index (draft->attachments, i),
                                                     error);

          if (attachment == NULL)
            return NULL;
          g_mime_multipart_add (mixed, attachment);
          g_object_unref (attachment);
        }
      g_mime_message_set_mime_part (message, GMIME_OBJECT (mixed));
    }

  outgoing = g_new0 (PostageOutgoing, 1);
  if (!_postage_message_write_object (GMIME_OBJECT (message), fd, outgoing, error))
    {
      postage_outgoing_free (outgoing);
      return NULL;
    }
  outgoing->sender = g_strdup (draft->from_address);
  outgoing->recipients = g_steal_pointer (&recipients);
  outgoing->message_id = g_steal_pointer (&message_id);
  return outgoing;
}

PostageOutgoing *
postage_outgoing_copy (const PostageOutgoing *outgoing)
{
  PostageOutgoing *copy;

  g_return_val_if_fail (outgoing != NULL, NULL);

  copy = g_new0 (PostageOutgoing, 1);
  copy->sender = g_strdup (outgoing->sender);
  copy->recipients = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < outgoing->recipients->len; i++)
    g_ptr_array_add (copy->recipients, g_strdup (g_ptr_array_index (outgoing->recipients, i)));
  copy->message_id = g_strdup (outgoing->message_id);
  copy->path = g_strdup (outgoing->path);
  copy->size = outgoing->size;
  copy->eight_bit = outgoing->eight_bit;
  return copy;
}

void
postage_outgoing_free (PostageOutgoing *outgoing)
{
  if (outgoing == NULL)
    return;
  g_free (outgoing->sender);
  g_clear_pointer (&outgoing->recipients, g_ptr_array_unref);
  g_free (outgoing->message_id);
  g_free (outgoing->path);
  g_free (outgoing);
}
