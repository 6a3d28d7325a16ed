/* postage-address.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GMime's address parser is forgiving by design (it repairs what it can), which
 * is right for reading mail and wrong for sending it: "bob@" must be pointed
 * out, not guessed at. So each comma-separated entry is parsed on its own and
 * must give exactly one mailbox whose address passes our own strict check.
 */
#define G_LOG_DOMAIN "postage-address"

#include "config.h"

#include <glib/gi18n.h>
#include <gmime/gmime.h>
#include <string.h>

#include "postage-address.h"
#include "postage-address-private.h"
#include "postage-mail-error.h"

/* RFC 5321 §4.5.3.1.1/§4.5.3.1.2: local part ≤ 64, domain ≤ 255 octets. */
#define MAX_LOCAL_PART 64
#define MAX_DOMAIN     255

static gboolean
is_atext (guchar c)
{
  /* RFC 5322 §3.2.3 atext, plus '.' handled by the caller; bytes ≥ 0x80 are
   * UTF-8 (RFC 6531), accepted here and checked against SMTPUTF8 when sending. */
  return g_ascii_isalnum (c) || c >= 0x80 || strchr ("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static gboolean
dot_atom_ok (const char *start,
             gsize       length,
             gboolean    domain)
{
  gboolean last_dot = TRUE;

  if (length == 0)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      guchar c = start[i];

      if (c == '.')
        {
          if (last_dot)
            return FALSE;
          last_dot = TRUE;
          continue;
        }
      last_dot = FALSE;
      if (domain ? !(g_ascii_isalnum (c) || c == '-' || c >= 0x80) : !is_atext (c))
        return FALSE;
    }
  return !last_dot;
}

gboolean
postage_address_is_valid (const char *address)
{
  const char *at;
  gsize local_length;
  gsize domain_length;

  if (address == NULL || !g_utf8_validate (address, -1, NULL))
    return FALSE;
  /* Beyond ASCII, dot_atom_ok() lets any byte through (RFC 6531); control
   * characters (C1 included: NEL, CSI) are never part of an address. */
  for (const char *p = address; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  at = strrchr (address, '@');
  if (at == NULL)
    return FALSE;
  local_length = at - address;
  domain_length = strlen (at + 1);
  if (local_length > MAX_LOCAL_PART || domain_length > MAX_DOMAIN)
    return FALSE;
  if (!dot_atom_ok (address, local_length, FALSE))
    return FALSE;
  /* An address literal such as [192.0.2.1] is legal but never what a person
   * means in a composer; refuse it rather than send to a bare IP. */
  return dot_atom_ok (at + 1, domain_length, TRUE);
}

gboolean
postage_header_value_check (const char  *field,
                            const char  *value,
                            GError     **error)
{
  if (value == NULL)
    return TRUE;
  if (!g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                   /* Translators: %s is a field name such as Subject */
                   _("The %s is not valid UTF-8 text."), field);
      return FALSE;
    }
  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      /* CR or LF would start a new header line or SMTP command (header
       * injection); other controls (C1 included) have no business in a
       * header either. */
      if (c != '\t' && g_unichar_iscntrl (c))
        {
          g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER,
                       /* Translators: %s is a field name such as Subject */
                       _("The %s contains a line break or another control character. "
                         "Remove it and try again."), field);
          return FALSE;
        }
    }
  return TRUE;
}

/* Splits at commas that are outside quotes, angle brackets and comments. */
static GPtrArray *
split_entries (const char *text)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func (g_free);
  const char *start = text;
  gboolean quoted = FALSE;
  int angle = 0;
  int comment = 0;

  for (const char *p = text;; p++)
    {
      if (*p == '\0' || (*p == ',' && !quoted && angle == 0 && comment == 0))
        {
          g_autofree char *entry = g_strstrip (g_strndup (start, p - start));

          if (*entry != '\0')
            g_ptr_array_add (entries, g_steal_pointer (&entry));
          if (*p == '\0')
            break;
          start = p + 1;
          continue;
        }
      if (*p == '\\' && p[1] != '\0')
        p++;
      else if (*p == '"' && comment == 0)
        quoted = !quoted;
      else if (!quoted && *p == '(')
        comment++;
      else if (!quoted && *p == ')' && comment > 0)
        comment--;
      else if (!quoted && comment == 0 && *p == '<')
        angle++;
      else if (!quoted && comment == 0 && *p == '>' && angle > 0)
        angle--;
    }
  return entries;
}

InternetAddressList *
_postage_address_list_parse_mailboxes (const char  *field,
                                       const char  *text,
                                       GError     **error)
{
  g_autoptr(InternetAddressList) result = internet_address_list_new ();
  g_autoptr(GPtrArray) entries = NULL;

  if (!postage_header_value_check (field != NULL ? field : _("address list"), text, error))
    return NULL;
  if (text == NULL)
    return g_steal_pointer (&result);

  entries = split_entries (text);
  for (guint i = 0; i < entries->len; i++)
    {
      const char *entry = g_ptr_array_index (entries, i);
      g_autoptr(InternetAddressList) parsed = internet_address_list_parse (NULL, entry);
      InternetAddress *address = NULL;

      if (parsed != NULL && internet_address_list_length (parsed) == 1)
        address = internet_address_list_get_address (parsed, 0);
      /* Both forms must be valid: the envelope takes the A-label one, and a
       * broken xn-- label decodes (or re-encodes) to garbage. */
      if (address == NULL || !INTERNET_ADDRESS_IS_MAILBOX (address) ||
          !postage_address_is_valid (
            internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address))) ||
          !postage_address_is_valid (
            internet_address_mailbox_get_idn_addr (INTERNET_ADDRESS_MAILBOX (address))) ||
          /* a bare entry must be only the address: "bob example.com" is not
           * (GMime shows xn-- domains decoded, so either form may match) */
          (strchr (entry, '<') == NULL &&
           strcmp (entry, internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address))) != 0 &&
           strcmp (entry, internet_address_mailbox_get_idn_addr (INTERNET_ADDRESS_MAILBOX (address))) != 0))
        {
          if (field == NULL)
            g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_ADDRESS,
                         /* Translators: %s is what the person typed */
                         _("“%s” is not a valid email address. Write it as "
                           "name@example.com, and separate several addresses with commas."),
                         entry);
          else
            g_set_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_ADDRESS,
                         /* Translators: the first %s is what the person typed, the second
                          * a field name such as To */
                         _("“%s” in %s is not a valid email address. Write it as "
                           "name@example.com, and separate several addresses with commas."),
                         entry, field);
          return NULL;
        }
      internet_address_list_add (result, address);
    }
  return g_steal_pointer (&result);
}

GPtrArray *
postage_address_list_parse (const char  *text,
                            GError     **error)
{
  g_autoptr(InternetAddressList) list = NULL;
  GPtrArray *addresses;

  list = _postage_address_list_parse_mailboxes (NULL, text, error);
  if (list == NULL)
    return NULL;
  addresses = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      g_ptr_array_add (addresses,
                       g_strdup (internet_address_mailbox_get_idn_addr (
                         INTERNET_ADDRESS_MAILBOX (address))));
    }
  return addresses;
}
