/* postage-mailto.c — reading a mailto: link (RFC 6068) into a draft, safely
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Any thread. The link is untrusted: a web page writes it and the desktop
 * hands it to us. Three rules keep it harmless:
 *  - only the fields of an ordinary new message are taken (an allow-list, not
 *    a deny-list): a link that could attach a file would let any page steal
 *    ~/.ssh/id_rsa the moment the person presses Send without looking;
 *  - a decoded header value with CR, LF or any other control character is
 *    refused as a whole, as it would become a new header (RFC 6068 §7);
 *  - sizes are capped before anything is allocated from them.
 */
#define G_LOG_DOMAIN "postage-mailto"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "postage-mail-error.h"
#include "postage-mailto.h"

#define SCHEME "mailto:"
/* An ignored field name is shown to the person: this much of it. */
#define MAX_SHOWN_NAME 40

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* RFC 3986 §2.1 percent-decoding of @length bytes. '+' is not a space in
 * mailto: (RFC 6068 §5), unlike in HTML forms. */
static GString *
percent_decode (const char  *text,
                gsize        length,
                GError     **error)
{
  g_autoptr(GString) out = g_string_sized_new (length);

  for (gsize i = 0; i < length; i++)
    {
      if (text[i] != '%')
        {
          g_string_append_c (out, text[i]);
          continue;
        }
      if (i + 2 >= length || hex_value (text[i + 1]) < 0 || hex_value (text[i + 2]) < 0)
        {
          g_set_error_literal (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                               _("The link is broken: a “%” is not followed by two hexadecimal "
                                 "digits."));
          return NULL;
        }
      g_string_append_c (out, (char) (hex_value (text[i + 1]) * 16 + hex_value (text[i + 2])));
      i += 2;
    }

  return g_steal_pointer (&out);
}

/* CRLF and lone CR become LF: the composer's text view and the message
 * writer both work in LF. */
static void
normalise_line_ends (GString *text)
{
  gsize j = 0;

  for (gsize i = 0; i < text->len; i++)
    {
      if (text->str[i] == '\r')
        {
          text->str[j++] = '\n';
          if (i + 1 < text->len && text->str[i + 1] == '\n')
            i++;
        }
      else
        {
          text->str[j++] = text->str[i];
        }
    }
  g_string_truncate (text, j);
}

/* @field is the header's name as shown to the person. */
static gboolean
check_value (const char     *field,
             const GString  *value,
             gboolean        is_body,
             GError        **error)
{
  if (value->len > POSTAGE_MAILTO_MAX_VALUE)
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                   /* Translators: %s is a field name such as Subject; %d a size in KiB */
                   _("The %s in this link is longer than %d KiB."), field,
                   POSTAGE_MAILTO_MAX_VALUE / 1024);
      return FALSE;
    }
  /* With an explicit length, an embedded NUL (%00) fails this too. */
  if (!g_utf8_validate (value->str, value->len, NULL))
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                   /* Translators: %s is a field name such as Subject */
                   _("The %s in this link is not valid UTF-8 text."), field);
      return FALSE;
    }
  for (const char *p = value->str; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_body && (c == '\n' || c == '\t'))
        continue;
      /* CR or LF would start a new header (RFC 6068 §7); C1 controls are
       * refused too, as in postage_header_value_check(). */
      if (g_unichar_iscntrl (c))
        {
          g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                       /* Translators: %s is a field name such as Subject */
                       _("The %s in this link contains a line break or another control "
                         "character."), field);
          return FALSE;
        }
    }
  return TRUE;
}

/* Appends to a comma-separated recipient list, capped like one value. */
static gboolean
add_recipients (char          **list,
                const char     *field,
                const GString  *value,
                GError        **error)
{
  g_autofree char *old = NULL;
  gsize old_length = *list != NULL ? strlen (*list) : 0;

  if (!check_value (field, value, FALSE, error))
    return FALSE;
  if (value->len == 0)
    return TRUE;
  if (old_length + 2 + value->len > POSTAGE_MAILTO_MAX_VALUE)
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                   /* Translators: %s is a field name such as Cc; %d a size in KiB */
                   _("The %s in this link is longer than %d KiB."), field,
                   POSTAGE_MAILTO_MAX_VALUE / 1024);
      return FALSE;
    }

  old = g_steal_pointer (list);
  *list = old != NULL ? g_strconcat (old, ", ", value->str, NULL) : g_strdup (value->str);
  return TRUE;
}

/* A printable, lower-cased, short form of a field name for the ignored list. */
static char *
shown_name (const GString *name)
{
  g_autofree char *valid = g_utf8_make_valid (name->str, name->len);
  GString *out = g_string_new (NULL);
  guint n = 0;

  for (const char *p = valid; *p != '\0' && n < MAX_SHOWN_NAME; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        c = 0xfffd;
      g_string_append_unichar (out, c < 0x80 ? (gunichar) g_ascii_tolower (c) : c);
    }
  if (*valid != '\0' && g_utf8_strlen (valid, -1) > MAX_SHOWN_NAME)
    g_string_append (out, "…");
  return g_string_free (out, FALSE);
}

static void
add_ignored (PostageMailto *mailto,
             const GString *name)
{
  g_autofree char *shown = shown_name (name);

  for (guint i = 0; i < mailto->ignored->len; i++)
    if (strcmp (g_ptr_array_index (mailto->ignored, i), shown) == 0)
      return;
  g_ptr_array_add (mailto->ignored, g_steal_pointer (&shown));
}

/* Sets a single-valued field; the first occurrence wins, later ones are
 * dropped silently (RFC 6068 leaves repeated fields to the client). */
static gboolean
set_single (char          **slot,
            const char     *field,
            GString        *value,
            gboolean        is_body,
            GError        **error)
{
  if (*slot != NULL)
    return TRUE;
  if (is_body)
    normalise_line_ends (value);
  if (!check_value (field, value, is_body, error))
    return FALSE;
  *slot = g_strndup (value->str, value->len);
  return TRUE;
}

static gboolean
parse_field (PostageMailto  *mailto,
             const char     *field,
             gsize           length,
             GError        **error)
{
  const char *equals = memchr (field, '=', length);
  gsize name_length = equals != NULL ? (gsize) (equals - field) : length;
  g_autoptr(GString) name = NULL;
  g_autoptr(GString) value = NULL;

  /* hfnames may be percent-encoded too ("%61ttach"): decode before comparing. */
  if ((name = percent_decode (field, name_length, error)) == NULL)
    return FALSE;
  if (equals != NULL)
    value = percent_decode (equals + 1, length - name_length - 1, error);
  else
    value = g_string_new (NULL);
  if (value == NULL)
    return FALSE;

  /* Names are case-insensitive (RFC 6068 §2); strlen() stops at a decoded
   * NUL, so compare the lengths as well. */
#define IS(n) (name->len == strlen (n) && g_ascii_strcasecmp (name->str, n) == 0)
  if (IS ("to"))
    return add_recipients (&mailto->to, "To", value, error);
  if (IS ("cc"))
    return add_recipients (&mailto->cc, "Cc", value, error);
  if (IS ("bcc"))
    return add_recipients (&mailto->bcc, "Bcc", value, error);
  if (IS ("subject"))
    return set_single (&mailto->subject, "Subject", value, FALSE, error);
  if (IS ("in-reply-to"))
    return set_single (&mailto->in_reply_to, "In-Reply-To", value, FALSE, error);
  if (IS ("body"))
    return set_single (&mailto->body, _("message text"), value, TRUE, error);
#undef IS

  /* Everything else, attach and attachment first among them, From, Sender,
   * Reply-To, Received and so on: a link has no business setting it. */
  add_ignored (mailto, name);
  return TRUE;
}

PostageMailto *
postage_mailto_parse (const char  *uri,
                      GError     **error)
{
  g_autoptr(PostageMailto) mailto = NULL;
  g_autoptr(GString) path = NULL;
  const char *rest, *end, *query;
  gsize length;

  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  length = strnlen (uri, POSTAGE_MAILTO_MAX_LENGTH + 1);
  if (length > POSTAGE_MAILTO_MAX_LENGTH)
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                   /* Translators: %d is a size in KiB */
                   _("The link is longer than %d KiB."), POSTAGE_MAILTO_MAX_LENGTH / 1024);
      return NULL;
    }
  if (g_ascii_strncasecmp (uri, SCHEME, strlen (SCHEME)) != 0)
    {
      g_set_error_literal (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                           _("This is not a mailto: link."));
      return NULL;
    }

  mailto = g_new0 (PostageMailto, 1);
  mailto->ignored = g_ptr_array_new_with_free_func (g_free);

  rest = uri + strlen (SCHEME);
  /* A fragment is not part of what the link identifies (RFC 3986 §3.5). */
  end = strchr (rest, '#');
  if (end == NULL)
    end = uri + length;
  query = memchr (rest, '?', end - rest);

  /* The path is a comma-separated list of addresses, like to= (RFC 6068 §2). */
  if ((path = percent_decode (rest, (query != NULL ? query : end) - rest, error)) == NULL)
    return NULL;
  if (!add_recipients (&mailto->to, "To", path, error))
    return NULL;

  if (query != NULL)
    {
      const char *field = query + 1;

      while (field <= end)
        {
          const char *amp = memchr (field, '&', end - field);
          const char *field_end = amp != NULL ? amp : end;

          /* "?&subject=x" and a trailing '&' are harmless: skip empty fields. */
          if (field_end > field && !parse_field (mailto, field, field_end - field, error))
            return NULL;
          field = field_end + 1;
        }
    }

  return g_steal_pointer (&mailto);
}

void
postage_mailto_free (PostageMailto *mailto)
{
  if (mailto == NULL)
    return;
  g_free (mailto->to);
  g_free (mailto->cc);
  g_free (mailto->bcc);
  g_free (mailto->subject);
  g_free (mailto->body);
  g_free (mailto->in_reply_to);
  g_ptr_array_unref (mailto->ignored);
  g_free (mailto);
}

gboolean
postage_mailto_asked_to_attach (const PostageMailto *mailto)
{
  g_return_val_if_fail (mailto != NULL, FALSE);

  /* attach (Outlook, old Thunderbird), attachment (Evolution, KMail) and
   * any spelling that starts the same way. */
  for (guint i = 0; i < mailto->ignored->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (mailto->ignored, i), "attach"))
      return TRUE;
  return FALSE;
}

PostageDraft *
postage_mailto_to_draft (const PostageMailto *mailto)
{
  PostageDraft *draft;

  g_return_val_if_fail (mailto != NULL, NULL);

  draft = postage_draft_new ();
  draft->to = g_strdup (mailto->to);
  draft->cc = g_strdup (mailto->cc);
  draft->bcc = g_strdup (mailto->bcc);
  draft->subject = g_strdup (mailto->subject);
  draft->body = g_strdup (mailto->body);
  draft->in_reply_to = g_strdup (mailto->in_reply_to);
  /* draft->attachments stays empty: a link never attaches anything. */
  return draft;
}
