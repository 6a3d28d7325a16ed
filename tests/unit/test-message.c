/* test-message.c — drafts become RFC 5322 messages and envelopes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE /* memfd_create */
#include "config.h"

#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mail/postage-mail-error.h"
#include "mail/postage-message-writer.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)

static PostageDraft *
make_draft (void)
{
  PostageDraft *draft = postage_draft_new ();

  draft->from_name = g_strdup ("You");
  draft->from_address = g_strdup ("you@example.test");
  draft->to = g_strdup ("Friend <friend@example.test>");
  draft->subject = g_strdup ("Hello");
  draft->body = g_strdup ("This is an extremely important message.");
  return draft;
}

/* The writer streams into a file descriptor; an anonymous in-memory file
 * stands in for the outbox, and its /proc path for the message's path. The
 * descriptor stays open for the rest of the (short-lived) test program. */
static PostageOutgoing *
build_message (const PostageDraft  *draft,
               GError             **error)
{
  int fd = memfd_create ("postage-test-message", MFD_CLOEXEC);
  PostageOutgoing *outgoing;

  g_assert_cmpint (fd, >=, 0);
  outgoing = postage_message_write (draft, fd, error);
  if (outgoing == NULL)
    {
      close (fd);
      return NULL;
    }
  outgoing->path = g_strdup_printf ("/proc/self/fd/%d", fd);
  return outgoing;
}

static char *
message_text (PostageOutgoing *outgoing)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;
  gsize length;

  g_assert_true (g_file_get_contents (outgoing->path, &text, &length, &error));
  g_assert_no_error (error);
  /* What the writer counted is what it wrote: SIZE= depends on it. */
  g_assert_cmpuint (length, ==, outgoing->size);
  return text;
}

/* Every line ends in CRLF, none is over 998 octets, all 7-bit. */
static void
assert_wire_safe (const char *text)
{
  gsize line = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      g_assert_cmpuint ((guchar) *p, <, 0x80);
      if (*p == '\r')
        g_assert_cmpint (p[1], ==, '\n');
      if (*p == '\n')
        {
          g_assert_true (p > text && p[-1] == '\r');
          line = 0;
        }
      else if (*p != '\r')
        g_assert_cmpuint (++line, <=, 998);
    }
}

static GMimeMessage *
parse_back (const char *text)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer (text, strlen (text));
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream (stream);

  return g_mime_parser_construct_message (parser, NULL);
}


static void
test_basic (void)
{
  g_autoptr(PostageDraft) draft = make_draft ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageOutgoing) outgoing = build_message (draft, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (outgoing->sender, ==, "you@example.test");
  g_assert_cmpuint (outgoing->recipients->len, ==, 1);
  g_assert_false (outgoing->eight_bit);
  text = message_text (outgoing);
  assert_wire_safe (text);
  g_assert_nonnull (strstr (text, "From: You <you@example.test>\r\n"));
  g_assert_nonnull (strstr (text, "To: Friend <friend@example.test>\r\n"));
  g_assert_nonnull (strstr (text, "Subject: Hello\r\n"));
  g_assert_nonnull (strstr (text, "MIME-Version: 1.0\r\n"));
  g_assert_nonnull (strstr (text, "Content-Type: text/plain; charset=utf-8\r\n"));
  g_assert_nonnull (strstr (text, "@example.test>\r\n"));   /* Message-ID's domain */
  g_assert_true (g_regex_match_simple ("^Date: \\w{3}, \\d{2} \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d "
                                       "[+-]\\d{4}\r$", text, G_REGEX_MULTILINE, 0));
  g_assert_true (g_str_has_suffix (text, "\r\n\r\nThis is an extremely important message.\r\n"));
  g_assert_null (strstr (text, "Cc:"));
}

/* Reply-To when given, and a reply (mailto:'s in-reply-to) threads under its
 * parent: In-Reply-To and References both name it. A bad id is refused. */
static void
test_reply_headers (void)
{
  g_autoptr(PostageDraft) draft = make_draft ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageOutgoing) outgoing = NULL;
  g_autofree char *text = NULL;

  draft->reply_to = g_strdup ("Desk <desk@example.test>, other@example.test");
  draft->in_reply_to = g_strdup ("<3469A91.D10AF4C@example.com>");
  outgoing = build_message (draft, &error);
  g_assert_no_error (error);
  text = message_text (outgoing);
  assert_wire_safe (text);
  g_assert_nonnull (strstr (text, "\r\nReply-To: Desk <desk@example.test>, other@example.test\r\n"));
  g_assert_nonnull (strstr (text, "\r\nIn-Reply-To: <3469A91.D10AF4C@example.com>\r\n"));
  g_assert_nonnull (strstr (text, "\r\nReferences: <3469A91.D10AF4C@example.com>\r\n"));
  /* Reply-To is not an envelope recipient. */
  g_assert_cmpuint (outgoing->recipients->len, ==, 1);
  g_clear_pointer (&outgoing, postage_outgoing_free);

  g_free (draft->in_reply_to);
  draft->in_reply_to = g_strdup ("<x@y>\r\nBcc: evil@example.test");
  outgoing = build_message (draft, &error);
  g_assert_null (outgoing);
  g_assert_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER);
  g_clear_error (&error);

  g_clear_pointer (&draft->in_reply_to, g_free);
  g_free (draft->reply_to);
  draft->reply_to = g_strdup ("desk@example.test\r\nBcc: evil@example.test");
  outgoing = build_message (draft, &error);
  g_assert_null (outgoing);
  g_assert_nonnull (error);
}

static void
test_bcc_only_in_envelope (void)
{
  g_autoptr(PostageDraft) draft = make_draft ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageOutgoing) outgoing = NULL;
  g_autofree char *text = NULL;

  draft->cc = g_strdup ("b@y.test, FRIEND@example.test");
  draft->bcc = g_strdup ("Secret <c@z.test>, d@w.test");
  outgoing = build_message (draft, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outgoing->recipients->len, ==, 4); /* FRIEND@ is a duplicate */
  g_assert_cmpstr (g_ptr_array_index (outgoing->recipients, 0), ==, "friend@example.test");
  g_assert_cmpstr (g_ptr_array_index (outgoing->recipients, 1), ==, "b@y.test");
  g_assert_cmpstr (g_ptr_array_index (outgoing->recipients, 2), ==, "c@z.test");
  g_assert_cmpstr (g_ptr_array_index (outgoing->recipients, 3), ==, "d@w.test");
  text = message_text (outgoing);
  g_assert_null (strstr (text, "c@z.test"));
  g_assert_null (strstr (text, "d@w.test"));
  g_assert_null (strstr (text, "Secret"));
  g_assert_null (g_strstr_len (text, -1, "Bcc"));
}

static void
test_non_ascii_round_trip (void)
{
  g_autoptr(PostageDraft) draft = make_draft ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageOutgoing) outgoing = NULL;
  g_autoptr(GMimeMessage) parsed = NULL;
  g_autofree char *text = NULL;
  g_autofree char *body = NULL;
  g_autofree char *long_line = g_strnfill (3000, 'x');
  GMimeObject *part;

  g_free (draft->from_name);
  draft->from_name = g_strdup ("Jürgen Müller");
  g_free (draft->subject);
  draft->subject = g_strdup ("Plan Überschritten — 日本語");
  g_free (draft->body);
  draft->body = g_strdup_printf ("Grüße\r\n.dot\rlone CR\n%s\nend", long_line);
  outgoing = build_message (draft, &error);
  g_assert_no_error (error);
  text = message_text (outgoing);
  assert_wire_safe (text);

  parsed = parse_back (text);
  g_assert_cmpstr (g_mime_message_get_subject (parsed), ==, "Plan Überschritten — 日本語");
  g_assert_cmpstr (internet_address_get_name (
                     internet_address_list_get_address (g_mime_message_get_from (parsed), 0)),
                   ==, "Jürgen Müller");
  part = g_mime_message_get_mime_part (parsed);
  g_assert_true (GMIME_IS_TEXT_PART (part));
  body = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
  /* GMime gives the text back with the CRLFs as they were on the wire */
  g_assert_true (g_str_has_prefix (body, "Grüße\r\n.dot\r\nlone CR\r\nxxx"));
  g_assert_nonnull (strstr (body, long_line));
}

static void
test_ascii_subject_unchanged (void)
{
  g_autoptr(PostageDraft) draft = make_draft ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageOutgoing) outgoing = NULL;
  g_autofree char *text = NULL;

  g_free (draft->subject);
  draft->subject = g_strdup ("Quiz: 2+2 =? 4 (answer inside)");
  outgoing = build_message (draft, &error);
  g_assert_no_error (error);
  text = message_text (outgoing);
  g_assert_nonnull (strstr (text, "\r\nSubject: Quiz: 2+2 =? 4 (answer inside)\r\n"));
}

static void
test_refusals (void)
{
  struct { const char *field; const char *value; int code; } cases[] = {
    { "subject", "Hi\r\nBcc: attacker@evil.test", POSTAGE_MAIL_ERROR_INVALID_HEADER },
    { "subject", "TEST\nFrom: admin@google.com", POSTAGE_MAIL_ERROR_INVALID_HEADER },
    { "from_name", "Eve\r\n\r\nbody", POSTAGE_MAIL_ERROR_INVALID_HEADER },
    { "to", "victim@example.net>\r\nRCPT TO:<attacker@evil.test",
      POSTAGE_MAIL_ERROR_INVALID_HEADER },
    { "to", "bob@", POSTAGE_MAIL_ERROR_INVALID_ADDRESS },
    { "to", "", POSTAGE_MAIL_ERROR_NO_RECIPIENTS },
    { "from_address", "you@example.test\nRCPT TO:<attacker@evil.test>",
      POSTAGE_MAIL_ERROR_INVALID_ADDRESS },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PostageDraft) draft = make_draft ();
      g_autoptr(GError) error = NULL;
      g_autoptr(PostageOutgoing) outgoing = NULL;
      char **slot = g_str_equal (cases[i].field, "subject") ? &draft->subject
                  : g_str_equal (cases[i].field, "from_name") ? &draft->from_name
                  : g_str_equal (cases[i].field, "to") ? &draft->to
                  : &draft->from_address;

      g_free (*slot);
      *slot = g_strdup (cases[i].value);
      outgoing = build_message (draft, &error);
      g_assert_null (outgoing);
      g_assert_error (error, POSTAGE_MAIL_ERROR, cases[i].code);
    }
}

static void
test_attachment_refusals (void)
{
  g_autofree char *dir = g_dir_make_tmp ("postage-test-XXXXXX", NULL);
  g_autofree char *evil = g_build_filename (dir, "b\rX-Injected: 1\r\r\n--fake.txt", NULL);
  const char *paths[] = { evil, "/dev/zero", dir };

  g_assert_true (g_file_set_contents (evil, "x", 1, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(PostageDraft) draft = make_draft ();
      g_autoptr(GError) error = NULL;
      g_autoptr(PostageOutgoing) outgoing = NULL;

      g_ptr_array_add (draft->attachments, g_strdup (paths[i]));
      outgoing = build_message (draft, &error);
      g_assert_null (outgoing);
      g_assert_true (error->domain == POSTAGE_MAIL_ERROR);
    }
  g_unlink (evil);
  g_rmdir (dir);
}

/* RFC 2231: a non-ASCII file name goes out as filename*=utf-8''…, and a text
 * attachment travels base64 so that its bytes (bare CR, lone dots, no final
 * newline) come back exactly. */
static void
test_attachment_name_and_bytes (void)
{
  static const char contents[] = "Gr\xc3\xbc\xc3\x9f" "e\r\n.\nbare CR\rno final newline";
  g_autofree char *dir = g_dir_make_tmp ("postage-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Bericht für März.txt", NULL);
  g_autoptr(PostageDraft) draft = make_draft ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PostageOutgoing) outgoing = NULL;
  g_autoptr(GMimeMessage) parsed = NULL;
  g_autoptr(GMimeStream) decoded = g_mime_stream_mem_new ();
  g_autofree char *text = NULL;
  GMimeObject *part;
  GByteArray *bytes;

  g_assert_true (g_file_set_contents (path, contents, sizeof contents - 1, NULL));
  g_ptr_array_add (draft->attachments, g_strdup (path));
  outgoing = build_message (draft, &error);
  g_assert_no_error (error);
  text = message_text (outgoing);
  assert_wire_safe (text);
  /* The charset name is case-insensitive (RFC 2231 §4); GMime writes it upper-case. */
  g_assert_true (g_regex_match_simple ("filename\\*=utf-8''Bericht%20f%C3%BCr%20M%C3%A4rz\\.txt",
                                       text, G_REGEX_CASELESS, 0));
  g_assert_null (strstr (text, "filename=\"=?"));
  g_assert_nonnull (strstr (text, "Content-Transfer-Encoding: base64\r\n"));

  parsed = parse_back (text);
  part = g_mime_multipart_get_part (GMIME_MULTIPART (g_mime_message_get_mime_part (parsed)), 1);
  g_assert_cmpstr (g_mime_part_get_filename (GMIME_PART (part)), ==, "Bericht für März.txt");
  g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (GMIME_PART (part)), decoded);
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (decoded));
  g_assert_cmpmem (bytes->data, bytes->len, contents, sizeof contents - 1);

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  postage_mail_init ();
  g_test_add_func ("/postage/message/basic", test_basic);
  g_test_add_func ("/postage/message/bcc-only-in-envelope", test_bcc_only_in_envelope);
  g_test_add_func ("/postage/message/reply-headers", test_reply_headers);
  g_test_add_func ("/postage/message/non-ascii-round-trip", test_non_ascii_round_trip);
  g_test_add_func ("/postage/message/ascii-subject-unchanged", test_ascii_subject_unchanged);
  g_test_add_func ("/postage/message/refusals", test_refusals);
  g_test_add_func ("/postage/message/attachment-refusals", test_attachment_refusals);
  g_test_add_func ("/postage/message/attachment-name-and-bytes", test_attachment_name_and_bytes);
  return g_test_run ();
}
