/* postage-raw-message.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Any thread. The whole message is held in memory (one copy, which GMime's
 * parts point into): it comes from a pipe, and sendmail's callers — cron,
 * scripts, git — send text, not archives.
 */
#define G_LOG_DOMAIN "postage-message"

#include "config.h"

#include <glib/gi18n.h>
#include <gio/gio.h>
#include <string.h>

#include "postage-address.h"
#include "postage-address-private.h"
#include "postage-mail-error.h"
#include "postage-message-private.h"
#include "postage-raw-message.h"

/* RFC 5321 §4.5.3.1.6: a line is at most 998 octets before its CRLF. */
#define MAX_LINE 998

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)

struct _PostageRawMessage
{
  GMimeMessage    *message;
  PostageOutgoing *envelope; /* sender, recipients, message_id; no path or size yet */
  char            *subject;
};

/* LF line ends for GMime, which writes them as CRLF. A lone CR becomes a line
 * end too, never a CR on the wire (SMTP smuggling, CVE-2023-51764). */
static GByteArray *
normalise (const char  *data,
           gsize        length,
           GError     **error)
{
  GByteArray *out = g_byte_array_sized_new (length + 1);

  for (gsize i = 0; i < length; i++)
    {
      guint8 c = data[i];

      if (c == '\0')
        {
          g_byte_array_unref (out);
          g_set_error_literal (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                               _("The message contains NUL bytes, which mail cannot carry. "
                                 "Send binary data as an attachment (postage send --attach)."));
          return NULL;
        }
      if (c == '\r')
        {
          c = '\n';
          if (i + 1 < length && data[i + 1] == '\n')
            i++;
        }
      g_byte_array_append (out, &c, 1);
    }
  /* printf 'To: …\nSubject: x' ends without one: GMime would keep the
   * last header open and glue the next header written onto its value. */
  if (out->len > 0 && out->data[out->len - 1] != '\n')
    g_byte_array_append (out, (const guint8 *) "\n", 1);
  return out;
}

/* "Name:" with a field name of printable ASCII (RFC 5322 §2.2); the space
 * some programs put before the colon is allowed, as GMime allows it. */
static gboolean
is_header_line (const guint8 *line,
                gsize         length)
{
  gsize i = 0;

  while (i < length && line[i] > ' ' && line[i] < 0x7f && line[i] != ':')
    i++;
  if (i == 0)
    return FALSE;
  while (i < length && (line[i] == ' ' || line[i] == '\t'))
    i++;
  return i < length && line[i] == ':';
}

/* The header block ends at its empty line or, as in Postfix, at the first
 * line that is neither a header nor a folded continuation: that line is
 * text. An empty line goes in there, so that GMime reads it as text too
 * rather than dropping it, and `echo text | postage sendmail bob@…` is a
 * message with no headers of its own. A leading mbox "From " line goes. */
static void
end_header_block (GByteArray *text)
{
  gsize start = 0;

  while (start < text->len)
    {
      const guint8 *line = text->data + start;
      const guint8 *nl = memchr (line, '\n', text->len - start);
      gsize length = nl - line; /* normalise() ends the text with LF */

      if (length == 0)
        return;
      /* An mbox "From sender date" line (mail(1), procmail) is no header
       * and no text: it goes, as sendmail and Postfix drop it. */
      if (start == 0 && length >= 5 && memcmp (line, "From ", 5) == 0)
        {
          g_byte_array_remove_range (text, 0, length + 1);
          continue;
        }
      if (!(start > 0 && (line[0] == ' ' || line[0] == '\t')) && !is_header_line (line, length))
        {
          gsize old_length = text->len;

          g_byte_array_set_size (text, old_length + 1);
          memmove (text->data + start + 1, text->data + start, old_length - start);
          text->data[start] = '\n';
          return;
        }
      start += length + 1;
    }
}

/* Longest line of @text (LF-separated). */
static guint64
longest_line (const char *text,
              gsize       length)
{
  guint64 line = 0, longest = 0;

  _postage_track_lines (text, length, &line, &longest);
  return longest;
}

/* @text as it may be quoted in an error message: valid UTF-8, controls as
 * U+FFFD, at most 60 characters. */
static char *
shown (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  GString *out = g_string_new (NULL);
  guint count = 0;

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p), count++)
    {
      gunichar c = g_utf8_get_char (p);

      if (count == 60)
        {
          g_string_append (out, "…");
          break;
        }
      g_string_append_unichar (out, g_unichar_iscntrl (c) ? 0xFFFD : c);
    }
  return g_string_free (out, FALSE);
}

/* A header name fit to quote in a message (RFC 5322 §2.2: printable ASCII). */
static gboolean
is_printable_name (const char *name)
{
  gsize length = strlen (name);

  if (length == 0 || length > 40)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (*p < 33 || *p > 126)
      return FALSE;
  return TRUE;
}

static gboolean
check_headers (GMimeObject  *object,
               GError      **error)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list (object);

  for (int i = 0; i < g_mime_header_list_get_count (headers); i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);
      const char *name = g_mime_header_get_name (header);
      const char *raw = g_mime_header_get_raw_value (header);

      /* "Name:" plus the value; its folded lines count one by one. */
      if (raw != NULL &&
          MAX (strlen (name) + 1 + strcspn (raw, "\n"), longest_line (raw, strlen (raw))) > MAX_LINE)
        {
          if (is_printable_name (name))
            g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                         _("The %s header has a line longer than %d characters, which mail "
                           "servers refuse. Fold it over several lines."), name, MAX_LINE);
          else
            g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                         _("A header line is longer than %d characters, which mail servers "
                           "refuse. Fold it over several lines."), MAX_LINE);
          return FALSE;
        }
    }
  return TRUE;
}

typedef struct {
  gboolean  reencoded;
  GError   *error;
} FixState;

/* Every part's header lines within the limit; parts sent as they are (7bit,
 * 8bit, binary) keep every line within it too — quoted-printable decodes to
 * exactly the same bytes. A multipart's preamble and epilogue, which no mail
 * program shows, are dropped when a line in them is too long. */
static void
fix_part_cb (GMimeObject *parent,
             GMimeObject *object,
             gpointer     user_data)
{
  FixState *state = user_data;
  GMimeContentEncoding encoding;
  GMimeDataWrapper *content;
  GMimeStream *stream;
  guint64 line = 0, longest = 0;
  char buffer[4096];
  gssize got;

  if (state->error != NULL || !check_headers (object, &state->error))
    return;
  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      const char *prologue = g_mime_multipart_get_prologue (multipart);
      const char *epilogue = g_mime_multipart_get_epilogue (multipart);

      if (prologue != NULL && longest_line (prologue, strlen (prologue)) > MAX_LINE)
        g_mime_multipart_set_prologue (multipart, NULL);
      if (epilogue != NULL && longest_line (epilogue, strlen (epilogue)) > MAX_LINE)
        g_mime_multipart_set_epilogue (multipart, NULL);
      return;
    }
  if (!GMIME_IS_PART (object))
    return;
  encoding = g_mime_part_get_content_encoding (GMIME_PART (object));
  if (encoding != GMIME_CONTENT_ENCODING_DEFAULT && encoding != GMIME_CONTENT_ENCODING_7BIT &&
      encoding != GMIME_CONTENT_ENCODING_8BIT && encoding != GMIME_CONTENT_ENCODING_BINARY)
    return;
  if ((content = g_mime_part_get_content (GMIME_PART (object))) == NULL ||
      (stream = g_mime_data_wrapper_get_stream (content)) == NULL)
    return;
  g_mime_stream_reset (stream);
  while ((got = g_mime_stream_read (stream, buffer, sizeof buffer)) > 0)
    _postage_track_lines (buffer, got, &line, &longest);
  g_mime_stream_reset (stream);
  if (longest <= MAX_LINE)
    return;
  g_mime_part_set_content_encoding (GMIME_PART (object), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  state->reencoded = TRUE;
}

static gboolean
add_addresses (GPtrArray            *recipients,
               InternetAddressList  *list,
               const char           *field,
               GError              **error)
{
  for (int i = 0; list != NULL && i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);
      InternetAddressMailbox *mailbox;

      if (INTERNET_ADDRESS_IS_GROUP (address))
        {
          /* "undisclosed-recipients:;" is a group with no members. */
          if (!add_addresses (recipients,
                              internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)),
                              field, error))
            return FALSE;
          continue;
        }
      mailbox = INTERNET_ADDRESS_MAILBOX (address);
      if (!postage_address_is_valid (internet_address_mailbox_get_addr (mailbox)) ||
          !postage_address_is_valid (internet_address_mailbox_get_idn_addr (mailbox)))
        {
          g_autofree char *quoted = shown (internet_address_mailbox_get_addr (mailbox));

          g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_ADDRESS,
                       /* Translators: an address, then a field name such as To */
                       _("“%s” in %s is not a valid email address."), quoted, field);
          return FALSE;
        }
      _postage_add_unique_address (recipients, internet_address_mailbox_get_idn_addr (mailbox));
    }
  return TRUE;
}

/* sendmail -t: every To, Cc and Bcc header, parsed strictly so that a
 * word GMime would otherwise skip is an error, never a silent drop. */
static gboolean
add_header_recipients (GPtrArray        *recipients,
                       GMimeHeaderList  *headers,
                       GError          **error)
{
  static const char *const fields[] = { "To", "Cc", "Bcc" };
  GMimeParserOptions *strict = g_mime_parser_options_new ();
  gboolean ok = TRUE;

  g_mime_parser_options_set_address_compliance_mode (strict, GMIME_RFC_COMPLIANCE_STRICT);
  for (int i = 0; ok && i < g_mime_header_list_get_count (headers); i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);

      for (guint f = 0; ok && f < G_N_ELEMENTS (fields); f++)
        {
          g_autoptr(InternetAddressList) list = NULL;
          const char *value = g_mime_header_get_raw_value (header);

          if (g_ascii_strcasecmp (g_mime_header_get_name (header), fields[f]) != 0)
            continue;
          /* "Cc:" with nothing after it (mail(1), a script's empty
           * variable) names nobody; sendmail and Postfix accept it. */
          if (value == NULL || value[strspn (value, " \t\r\n")] == '\0')
            continue;
          list = internet_address_list_parse (strict, value);
          if (list == NULL)
            {
              g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_ADDRESS,
                           /* Translators: %s is a header name such as To */
                           _("The %s header is not a list of valid email addresses."),
                           fields[f]);
              ok = FALSE;
            }
          else
            ok = add_addresses (recipients, list, fields[f], error);
        }
    }
  g_mime_parser_options_free (strict);
  return ok;
}

static char *
parse_sender (const char  *text,
              GError     **error)
{
  g_autoptr(InternetAddressList) list = NULL;

  list = _postage_address_list_parse_mailboxes (_("sender"), text, NULL);
  if (list == NULL || internet_address_list_length (list) != 1)
    {
      g_autofree char *quoted = shown (text);

      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_ADDRESS,
                   _("The sender address “%s” is not a valid email address."), quoted);
      return NULL;
    }
  return g_strdup (internet_address_mailbox_get_idn_addr (
                     INTERNET_ADDRESS_MAILBOX (internet_address_list_get_address (list, 0))));
}

PostageRawMessage *
postage_raw_message_parse (const char               *data,
                           gsize                     length,
                           const PostageRawOptions  *options,
                           GError                  **error)
{
  g_autoptr(PostageRawMessage) self = g_new0 (PostageRawMessage, 1);
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  GByteArray *text;
  GMimeHeaderList *headers;
  FixState fix = { 0 };
  const char *id;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (options != NULL && options->sender != NULL, NULL);
  g_return_val_if_fail (options->from_address != NULL, NULL);

  postage_mail_init ();

  if ((text = normalise (data, length, error)) == NULL)
    return NULL;
  end_header_block (text);
  stream = g_mime_stream_mem_new_with_byte_array (text); /* owns text */
  parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  self->message = g_mime_parser_construct_message (parser, NULL);
  if (self->message == NULL)
    {
      g_set_error_literal (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                           _("The input is not a mail message: it should start with header "
                             "lines such as “Subject: …”, then an empty line, then the text."));
      return NULL;
    }
  headers = g_mime_object_get_header_list (GMIME_OBJECT (self->message));
  if (!check_headers (GMIME_OBJECT (self->message), error))
    return NULL;
  g_mime_message_foreach (self->message, fix_part_cb, &fix);
  if (fix.error != NULL)
    {
      g_propagate_error (error, fix.error);
      return NULL;
    }

  self->envelope = g_new0 (PostageOutgoing, 1);
  if ((self->envelope->sender = parse_sender (options->sender, error)) == NULL)
    return NULL;
  self->envelope->recipients = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; options->recipients != NULL && options->recipients[i] != NULL; i++)
    {
      g_autoptr(InternetAddressList) list =
        _postage_address_list_parse_mailboxes (_("recipient"), options->recipients[i], error);

      if (list == NULL || !add_addresses (self->envelope->recipients, list, _("the recipients"), error))
        return NULL;
    }
  if (options->use_headers && !add_header_recipients (self->envelope->recipients, headers, error))
    return NULL;
  if (self->envelope->recipients->len == 0)
    {
      g_set_error_literal (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_NO_RECIPIENTS,
                           options->use_headers
                           ? _("The message has no To, Cc or Bcc recipient.")
                           : _("No recipient: give the addresses after the options, or use -t "
                               "to take them from the To, Cc and Bcc headers."));
      return NULL;
    }

  /* Bcc is for the envelope only (RFC 5322 §3.6.3), whoever wrote it. */
  while (g_mime_header_list_remove (headers, "Bcc"))
    ;
  while (g_mime_header_list_remove (headers, "Resent-Bcc"))
    ;

  if (!g_mime_header_list_contains (headers, "From"))
    {
      InternetAddress *from = internet_address_mailbox_new (options->from_name,
                                                            options->from_address);

      internet_address_set_charset (from, "utf-8");
      internet_address_list_add (g_mime_message_get_from (self->message), from);
      g_object_unref (from);
    }
  if (!g_mime_header_list_contains (headers, "Date"))
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();

      g_mime_message_set_date (self->message, now);
    }
  if ((id = g_mime_message_get_message_id (self->message)) != NULL)
    self->envelope->message_id = g_strdup (id);
  else
    {
      self->envelope->message_id = _postage_message_make_id (self->envelope->sender);
      g_mime_message_set_message_id (self->message, self->envelope->message_id);
    }

  if (fix.reencoded && !g_mime_header_list_contains (headers, "MIME-Version"))
    g_mime_object_set_header (GMIME_OBJECT (self->message), "MIME-Version", "1.0", NULL);

  self->subject = g_strdup (g_mime_message_get_subject (self->message));
  return g_steal_pointer (&self);
}

const char *
postage_raw_message_get_subject (PostageRawMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);

  return message->subject;
}

PostageOutgoing *
postage_raw_message_write (PostageRawMessage  *message,
                           int                 fd,
                           GError            **error)
{
  g_autoptr(PostageOutgoing) outgoing = NULL;

  g_return_val_if_fail (message != NULL, NULL);
  g_return_val_if_fail (fd >= 0, NULL);

  outgoing = postage_outgoing_copy (message->envelope);
  if (!_postage_message_write_object (GMIME_OBJECT (message->message), fd, outgoing, error))
    return NULL;
  return g_steal_pointer (&outgoing);
}

void
postage_raw_message_free (PostageRawMessage *message)
{
  if (message == NULL)
    return;
  g_clear_object (&message->message);
  g_clear_pointer (&message->envelope, postage_outgoing_free);
  g_free (message->subject);
  g_free (message);
}
