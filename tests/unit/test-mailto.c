/* test-mailto.c — mailto: links (RFC 6068), the friendly and the hostile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "mail/postage-address.h"
#include "mail/postage-mail-error.h"
#include "mail/postage-mailto.h"
#include "mail/postage-message-writer.h"

static PostageMailto *
parse_ok (const char *uri)
{
  g_autoptr(GError) error = NULL;
  PostageMailto *mailto = postage_mailto_parse (uri, &error);

  g_assert_no_error (error);
  g_assert_nonnull (mailto);
  return mailto;
}

static void
assert_refused (const char *uri)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageMailto) mailto = postage_mailto_parse (uri, &error);

  g_assert_null (mailto);
  g_assert_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
assert_ignored (const PostageMailto *mailto,
                const char          *name)
{
  for (guint i = 0; i < mailto->ignored->len; i++)
    if (strcmp (g_ptr_array_index (mailto->ignored, i), name) == 0)
      return;
  g_error ("%s is not in the ignored list", name);
}

/* RFC 6068 §6.1 and §6.2, one by one. */
static void
test_rfc_examples (void)
{
  PostageMailto *m;

  m = parse_ok ("mailto:chris@example.com");
  g_assert_cmpstr (m->to, ==, "chris@example.com");
  g_assert_null (m->cc);
  g_assert_null (m->subject);
  g_assert_null (m->body);
  g_assert_cmpuint (m->ignored->len, ==, 0);
  postage_mailto_free (m);

  m = parse_ok ("mailto:infobot@example.com?subject=current-issue");
  g_assert_cmpstr (m->to, ==, "infobot@example.com");
  g_assert_cmpstr (m->subject, ==, "current-issue");
  postage_mailto_free (m);

  m = parse_ok ("mailto:infobot@example.com?body=send%20current-issue%0D%0Asend%20index");
  g_assert_cmpstr (m->body, ==, "send current-issue\nsend index");
  postage_mailto_free (m);

  m = parse_ok ("mailto:list@example.org?In-Reply-To=%3C3469A91.D10AF4C@example.com%3E");
  g_assert_cmpstr (m->to, ==, "list@example.org");
  g_assert_cmpstr (m->in_reply_to, ==, "<3469A91.D10AF4C@example.com>");
  g_assert_cmpuint (m->ignored->len, ==, 0);
  {
    /* The link's answer-to reaches the composer's draft, and so the message. */
    g_autoptr(PostageDraft) draft = postage_mailto_to_draft (m);

    g_assert_cmpstr (draft->in_reply_to, ==, "<3469A91.D10AF4C@example.com>");
  }
  postage_mailto_free (m);

  m = parse_ok ("mailto:majordomo@example.com?body=subscribe%20bamboo-l");
  g_assert_cmpstr (m->body, ==, "subscribe bamboo-l");
  postage_mailto_free (m);

  m = parse_ok ("mailto:joe@example.com?cc=bob@example.com&body=hello");
  g_assert_cmpstr (m->to, ==, "joe@example.com");
  g_assert_cmpstr (m->cc, ==, "bob@example.com");
  g_assert_cmpstr (m->body, ==, "hello");
  postage_mailto_free (m);

  m = parse_ok ("mailto:gorby%25kremvax@example.com");
  g_assert_cmpstr (m->to, ==, "gorby%kremvax@example.com");
  postage_mailto_free (m);

  m = parse_ok ("mailto:unlikely%3Faddress@example.com?blat=foop");
  g_assert_cmpstr (m->to, ==, "unlikely?address@example.com");
  g_assert_cmpuint (m->ignored->len, ==, 1);
  assert_ignored (m, "blat");
  g_assert_false (postage_mailto_asked_to_attach (m));
  postage_mailto_free (m);

  m = parse_ok ("mailto:Mike%26family@example.org");
  g_assert_cmpstr (m->to, ==, "Mike&family@example.org");
  postage_mailto_free (m);

  m = parse_ok ("mailto:%22not%40me%22@example.org");
  g_assert_cmpstr (m->to, ==, "\"not@me\"@example.org");
  postage_mailto_free (m);

  m = parse_ok ("mailto:user@example.org?subject=caf%C3%A9");
  g_assert_cmpstr (m->subject, ==, "café");
  postage_mailto_free (m);

  m = parse_ok ("mailto:user@%E7%B4%8D%E8%B1%86.example.org?subject=Test&body=NATTO");
  g_assert_cmpstr (m->to, ==, "user@納豆.example.org");
  g_assert_cmpstr (m->subject, ==, "Test");
  g_assert_cmpstr (m->body, ==, "NATTO");
  g_assert_true (postage_address_is_valid (m->to));
  postage_mailto_free (m);
}

static void
test_recipients (void)
{
  g_autoptr(PostageMailto) m =
    parse_ok ("MAILTO:a@x.test,b@x.test?TO=c@x.test&to=&Cc=d@x.test&cC=e@x.test"
              "&BCC=f@x.test&bcc=g%40x.test");
  g_autoptr(PostageDraft) draft = postage_mailto_to_draft (m);
  g_autoptr(GPtrArray) to = NULL;

  g_assert_cmpstr (m->to, ==, "a@x.test,b@x.test, c@x.test");
  g_assert_cmpstr (m->cc, ==, "d@x.test, e@x.test");
  g_assert_cmpstr (m->bcc, ==, "f@x.test, g@x.test");
  g_assert_cmpuint (m->ignored->len, ==, 0);

  to = postage_address_list_parse (draft->to, NULL);
  g_assert_nonnull (to);
  g_assert_cmpuint (to->len, ==, 3);
  g_assert_cmpstr (draft->cc, ==, m->cc);
  g_assert_cmpstr (draft->bcc, ==, m->bcc);
  g_assert_cmpuint (draft->attachments->len, ==, 0);
}

static void
test_details (void)
{
  PostageMailto *m;

  /* '+' is not a space in mailto: (RFC 6068 §5); the first subject wins;
   * empty fields and a fragment are dropped. */
  m = parse_ok ("mailto:a+tag@x.test?&subject=1+1&subject=second&#frag?cc=z@x.test");
  g_assert_cmpstr (m->to, ==, "a+tag@x.test");
  g_assert_cmpstr (m->subject, ==, "1+1");
  g_assert_null (m->cc);
  postage_mailto_free (m);

  m = parse_ok ("mailto:");
  g_assert_null (m->to);
  postage_mailto_free (m);

  m = parse_ok ("mailto:?subject=");
  g_assert_null (m->to);
  g_assert_cmpstr (m->subject, ==, "");
  postage_mailto_free (m);

  /* Lone CR and LF in the body become LF; tabs stay. */
  m = parse_ok ("mailto:a@x.test?body=1%0D2%0A3%0D%0A%0D%0A4%095");
  g_assert_cmpstr (m->body, ==, "1\n2\n3\n\n4\t5");
  postage_mailto_free (m);

  /* A name without '=' still counts as a field. */
  m = parse_ok ("mailto:a@x.test?attach");
  g_assert_true (postage_mailto_asked_to_attach (m));
  postage_mailto_free (m);

  assert_refused ("http://example.com/");
  assert_refused ("mailto");
  assert_refused ("");
}

static void
test_attach_never (void)
{
  const char *links[] = {
    "mailto:a@x.test?attach=/etc/passwd",
    "mailto:a@x.test?attachment=",
    "mailto:a@x.test?Attach=file:///home/me/.ssh/id_rsa",
    "mailto:a@x.test?ATTACHMENT=%2Fetc%2Fshadow&subject=hi",
    "mailto:a@x.test?aTtAcH=~/.gnupg/secring.gpg",
    "mailto:a@x.test?%61ttach=/etc/passwd",
    "mailto:a@x.test?attachments=/etc/passwd",
    "mailto:a@x.test?subject=hi&attach=%0D%0A",
  };

  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    {
      g_autoptr(PostageMailto) m = parse_ok (links[i]);
      g_autoptr(PostageDraft) draft = postage_mailto_to_draft (m);

      g_test_message ("%s", links[i]);
      g_assert_true (postage_mailto_asked_to_attach (m));
      g_assert_cmpuint (draft->attachments->len, ==, 0);
      g_assert_cmpstr (m->to, ==, "a@x.test");
      g_assert_null (m->body);
      for (guint j = 0; j < m->ignored->len; j++)
        g_assert_true (g_str_has_prefix (g_ptr_array_index (m->ignored, j), "attach"));
    }
}

static void
test_unknown_headers (void)
{
  g_autoptr(PostageMailto) m =
    parse_ok ("mailto:a@x.test?from=boss@x.test&Reply-To=evil@x.test&bcc=ok@x.test"
              "&FROM=again@x.test&X-Mailer=x&Received=x&Sender=x&%00x=1");

  g_assert_cmpstr (m->bcc, ==, "ok@x.test");
  assert_ignored (m, "from");
  assert_ignored (m, "reply-to");
  assert_ignored (m, "x-mailer");
  assert_ignored (m, "received");
  assert_ignored (m, "sender");
  assert_ignored (m, "\xef\xbf\xbdx"); /* U+FFFD for the NUL: printable */
  /* Each name once. */
  g_assert_cmpuint (m->ignored->len, ==, 6);
  g_assert_false (postage_mailto_asked_to_attach (m));
}

static void
test_injection (void)
{
  const char *links[] = {
    "mailto:a@x.test?subject=a%0D%0ABcc:%20x@evil.test",
    "mailto:a@x.test?subject=a%0ABcc:%20x@evil.test",
    "mailto:a@x.test?subject=a%0D",
    "mailto:a@x.test?subject=a%00b",
    "mailto:a@x.test?subject=a%09b",
    "mailto:a@x.test?subject=a%C2%85b",    /* NEL, a C1 control */
    "mailto:a@x.test?subject=a%7Fb",
    "mailto:a@x.test%0D%0ARCPT%20TO:%3Cx@evil.test%3E",
    "mailto:a@x.test?to=b@x.test%0D%0ABcc:x@evil.test",
    "mailto:a@x.test?cc=b@x.test%0A",
    "mailto:a@x.test?bcc=%0Db@x.test",
    "mailto:a@x.test?in-reply-to=%3Cx@y%3E%0D%0AFrom:%20boss@x.test",
    "mailto:a@x.test?body=hello%00world",
    "mailto:a@x.test?body=bell%07",
    "mailto:a@x.test?body=esc%1B[2J",
    "mailto:a@x.test?body=csi%C2%9B2J",
    "mailto:a@x.test?subject=raw\r\nBcc: x@evil.test",
  };

  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    {
      g_test_message ("%s", links[i]);
      assert_refused (links[i]);
    }
}

static void
test_escapes_and_utf8 (void)
{
  const char *links[] = {
    "mailto:a@x.test?subject=%",
    "mailto:a@x.test?subject=%4",
    "mailto:a@x.test?subject=%zz",
    "mailto:a@x.test?subject=%4g",
    "mailto:a%@x.test",
    "mailto:a@x.test?sub%ject=x",
    "mailto:a@x.test?subject=%C3",           /* truncated sequence */
    "mailto:a@x.test?subject=%C3%28",        /* bad continuation */
    "mailto:a@x.test?subject=%ED%A0%80",     /* a surrogate */
    "mailto:a@x.test?subject=%F8%88%80%80%80",
    "mailto:a@x.test?body=%FF",
    "mailto:a%FF@x.test",
    "mailto:a@x.test?subject=\xff",          /* raw, not escaped */
  };

  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    {
      /* Escaped: a raw 0xFF in the TAP output upsets meson's reader. */
      g_autofree char *shown = g_strescape (links[i], NULL);

      g_test_message ("%s", shown);
      assert_refused (links[i]);
    }

  /* An ignored field's value is never read, even when it is not UTF-8. */
  {
    g_autoptr(PostageMailto) m = parse_ok ("mailto:a@x.test?x-junk=%FF%00&attach=%C3");

    g_assert_true (postage_mailto_asked_to_attach (m));
  }
  /* Lower-case hex digits are escapes too. */
  {
    g_autoptr(PostageMailto) m = parse_ok ("mailto:a@x.test?subject=caf%c3%a9");

    g_assert_cmpstr (m->subject, ==, "café");
  }
}

static void
test_sizes (void)
{
  g_autoptr(GString) uri = g_string_new ("mailto:a@x.test?subject=");
  g_autoptr(GError) error = NULL;
  PostageMailto *m;

  /* Exactly the cap is fine … */
  for (guint i = 0; i < POSTAGE_MAILTO_MAX_VALUE; i++)
    g_string_append_c (uri, 'a');
  m = parse_ok (uri->str);
  g_assert_cmpuint (strlen (m->subject), ==, POSTAGE_MAILTO_MAX_VALUE);
  postage_mailto_free (m);

  /* … one more byte is not, encoded or not. */
  g_string_append_c (uri, 'a');
  assert_refused (uri->str);
  g_string_truncate (uri, strlen ("mailto:a@x.test?subject="));
  for (guint i = 0; i < POSTAGE_MAILTO_MAX_VALUE / 2 + 1; i++)
    g_string_append (uri, "%C3%A9");
  assert_refused (uri->str);

  /* Many short Cc= adding up past the cap. */
  g_string_assign (uri, "mailto:a@x.test?");
  for (guint i = 0; i < POSTAGE_MAILTO_MAX_VALUE / 10 + 1; i++)
    g_string_append (uri, "&cc=b@x.test");
  assert_refused (uri->str);

  /* The whole link. */
  g_string_assign (uri, "mailto:a@x.test?");
  while (uri->len <= POSTAGE_MAILTO_MAX_LENGTH)
    g_string_append (uri, "&x=yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
  m = postage_mailto_parse (uri->str, &error);
  g_assert_null (m);
  g_assert_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "KiB"));
}

static void
test_ignored_name_shown (void)
{
  g_autoptr(GString) uri = g_string_new ("mailto:a@x.test?");
  g_autoptr(PostageMailto) m = NULL;
  const char *name;

  for (guint i = 0; i < 500; i++)
    g_string_append_c (uri, 'n');
  g_string_append (uri, "=1&%1B%5B31m=1&%FFx=1");
  m = parse_ok (uri->str);

  g_assert_cmpuint (m->ignored->len, ==, 3);
  for (guint i = 0; i < m->ignored->len; i++)
    {
      name = g_ptr_array_index (m->ignored, i);
      g_assert_true (g_utf8_validate (name, -1, NULL));
      g_assert_cmpuint (g_utf8_strlen (name, -1), <=, 41);
      for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
        g_assert_false (g_unichar_iscntrl (g_utf8_get_char (p)));
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  postage_mail_init ();
  g_test_add_func ("/postage/mailto/rfc6068-examples", test_rfc_examples);
  g_test_add_func ("/postage/mailto/recipients", test_recipients);
  g_test_add_func ("/postage/mailto/details", test_details);
  g_test_add_func ("/postage/mailto/attach-never", test_attach_never);
  g_test_add_func ("/postage/mailto/unknown-headers", test_unknown_headers);
  g_test_add_func ("/postage/mailto/injection", test_injection);
  g_test_add_func ("/postage/mailto/escapes-and-utf8", test_escapes_and_utf8);
  g_test_add_func ("/postage/mailto/sizes", test_sizes);
  g_test_add_func ("/postage/mailto/ignored-name-shown", test_ignored_name_shown);
  return g_test_run ();
}
