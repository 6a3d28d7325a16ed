/* postage-message-writer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Any thread (GMime is initialised once, from main()).
 */
#define G_LOG_DOMAIN "postage-message"

#include "config.h"

#include <glib/gi18n.h>
#include <gio/gio.h>
#include <gmime/gmime.h>
#include <string.h>

#include "postage-address.h"
#include "postage-address-private.h"
#include "postage-mail-error.h"
#include "postage-message-writer.h"

/* RFC 5322 §2.1.1: lines SHOULD stay within 78 characters; longer text lines
 * go out quoted-printable so that what the recipient decodes is what was typed. */
#define MAX_7BIT_LINE 78

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeTextPart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMultipart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFormatOptions, g_mime_format_options_free)

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
static char *
normalise_newlines (const char *text)
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

static void
add_unique (GPtrArray  *recipients,
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
    add_unique (recipients, internet_address_mailbox_get_idn_addr (
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

/* FIXME: the attachment is read whole into the message; issue 5 streams it. */
static GMimeObject *
make_attachment (const char  *path,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *content_type = NULL;
  g_autofree char *mime_type = NULL;
  g_autofree char *basename = g_path_get_basename (path);
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeDataWrapper) wrapper = NULL;
  g_autoptr(GMimeContentType) type = NULL;
  GMimePart *part;
  gsize length;
  gboolean uncertain;

  /* The name goes into two MIME headers: a line break in it would start
   * headers (or a body) of its own. */
  if (!postage_header_value_check (_("attachment’s file name"), basename, error))
    return NULL;
  /* /dev/zero or a FIFO would grow memory or block forever. */
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_ATTACHMENT,
                   _("The attachment %s is not a regular file."), path);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_ATTACHMENT,
                   _("The attachment %s could not be read: %s"), path, local_error->message);
      return NULL;
    }
  content_type = g_content_type_guess (basename, (const guchar *) contents, MIN (length, 4096),
                                       &uncertain);
  mime_type = g_content_type_get_mime_type (content_type);
  if (mime_type == NULL)
    mime_type = g_strdup ("application/octet-stream");

  part = g_mime_part_new_with_type ("application", "octet-stream");
  type = g_mime_content_type_parse (NULL, mime_type);
  g_mime_object_set_content_type (GMIME_OBJECT (part), type);
  stream = g_mime_stream_mem_new_with_buffer (contents, length);
  wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (part, wrapper);
  g_mime_part_set_filename (part, basename);
  label_filename_utf8 (g_mime_content_disposition_get_parameters (
                         g_mime_object_get_content_disposition (GMIME_OBJECT (part))), "filename");
  label_filename_utf8 (g_mime_content_type_get_parameters (
                         g_mime_object_get_content_type (GMIME_OBJECT (part))), "name");
  g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
  return GMIME_OBJECT (part);
}

static char *
make_message_id (const char *sender)
{
  const char *domain = strrchr (sender, '@');

  return g_mime_utils_generate_message_id (domain != NULL ? domain + 1 : "localhost");
}

PostageOutgoing *
postage_message_build (const PostageDraft  *draft,
                       GError             **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeTextPart) part = NULL;
  g_autoptr(GMimeStream) body_stream = NULL;
  g_autoptr(GMimeDataWrapper) body_wrapper = NULL;
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeFormatOptions) options = NULL;
  g_autoptr(GPtrArray) recipients = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *message_id = NULL;
  g_autofree char *body = NULL;
  InternetAddress *from;
  GByteArray *bytes;
  PostageOutgoing *outgoing;

  g_return_val_if_fail (draft != NULL, NULL);

  postage_mail_init ();

  if (draft->from_address == NULL || !postage_address_is_valid (draft->from_address))
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_ADDRESS,
                   _("The sender address “%s” is not a valid email address. Fix it in the "
                     "account settings."), draft->from_address != NULL ? draft->from_address : "");
      return NULL;
    }
  if (!postage_header_value_check (_("sender name"), draft->from_name, error) ||
      !postage_header_value_check (_("subject"), draft->subject, error))
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

  g_mime_message_set_subject (message, draft->subject != NULL ? draft->subject : "", "utf-8");
  g_mime_message_set_date (message, now);
  message_id = make_message_id (draft->from_address);
  g_mime_message_set_message_id (message, message_id);
  g_mime_object_set_header (GMIME_OBJECT (message), "MIME-Version", "1.0", NULL);
  g_mime_object_set_header (GMIME_OBJECT (message), "User-Agent", "Postage/" PACKAGE_VERSION,
                            NULL);

  body = normalise_newlines (draft->body != NULL ? draft->body : "");
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

  options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  stream = g_mime_stream_mem_new ();
  if (g_mime_object_write_to_stream (GMIME_OBJECT (message), options, stream) < 0)
    {
      g_set_error_literal (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                           _("The message could not be written."));
      return NULL;
    }
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));

  outgoing = g_new0 (PostageOutgoing, 1);
  outgoing->sender = g_strdup (draft->from_address);
  outgoing->recipients = g_steal_pointer (&recipients);
  outgoing->data = g_bytes_new (bytes->data, bytes->len);
  for (guint i = 0; i < bytes->len && !outgoing->eight_bit; i++)
    outgoing->eight_bit = bytes->data[i] >= 0x80;
  return outgoing;
}

void
postage_outgoing_free (PostageOutgoing *outgoing)
{
  if (outgoing == NULL)
    return;
  g_free (outgoing->sender);
  g_clear_pointer (&outgoing->recipients, g_ptr_array_unref);
  g_clear_pointer (&outgoing->data, g_bytes_unref);
  g_free (outgoing);
}
