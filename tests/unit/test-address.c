/* test-address.c — what a person types in To/Cc/Bcc
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "mail/postage-address.h"
#include "mail/postage-mail-error.h"
#include "mail/postage-message-writer.h"

static void
test_valid (void)
{
  const char *good[] = { "a@b.test", "first.last+tag@sub.example.com", "x_y-z@xn--bcher-kva.ch",
                         "jörg@bücher.example" };
  const char *bad[] = { "", "@x.test", "a@", "a", "a@@b", "a b@c.test", "a@b..test", ".a@b.test",
                        "a.@b.test", "a@b.test>", "<a@b.test>", "a@b.test\r\nRCPT TO:<x@y>",
                        "a@[192.0.2.1]", "a\"b@c.test", "ann\xc2\x85@x.test",
                        "a@x\xc2\x9b.test" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (postage_address_is_valid (good[i]));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (postage_address_is_valid (bad[i]));
}

static void
test_list (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list =
    postage_address_list_parse ("Ann <ann@x.test>, bob@y.test,\"Doe, Jane\" <jane@z.test> , ",
                                &error);

  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (list, 0), ==, "ann@x.test");
  g_assert_cmpstr (g_ptr_array_index (list, 1), ==, "bob@y.test");
  g_assert_cmpstr (g_ptr_array_index (list, 2), ==, "jane@z.test");
}

static void
test_idn (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list =
    postage_address_list_parse ("a@xn--bcher-kva.de, X <b@bücher.de>, <c@xn--bcher-kva.de>",
                                &error);

  g_assert_no_error (error);
  /* the envelope takes A-labels, whatever was typed */
  g_assert_cmpstr (g_ptr_array_index (list, 0), ==, "a@xn--bcher-kva.de");
  g_assert_cmpstr (g_ptr_array_index (list, 1), ==, "b@xn--bcher-kva.de");
  g_assert_cmpstr (g_ptr_array_index (list, 2), ==, "c@xn--bcher-kva.de");
}

static void
test_broken_idn (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = postage_address_list_parse ("g <z@xn--bshech", &error);

  /* found by fuzz-address: an invalid xn-- label must not become garbage */
  g_assert_null (list);
  g_assert_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_ADDRESS);
}

static void
test_empty (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = postage_address_list_parse ("  ", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
}

static void
test_malformed_named (void)
{
  const char *bad[] = { "bob@", "ann@x.test, bob", "bob example.com", "Ann <ann@>",
                        "ann@x.test;bob@y.test" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) list = postage_address_list_parse (bad[i], &error);

      g_assert_null (list);
      g_assert_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_ADDRESS);
      g_assert_nonnull (strstr (error->message, "not a valid email address"));
    }
}

static void
test_injection (void)
{
  const char *bad[] = { "victim@example.net>\r\nRCPT TO:<attacker@evil.test",
                        "a@b.test\nBcc: x@y.test", "a@b.test\x01" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) list = postage_address_list_parse (bad[i], &error);

      g_assert_null (list);
      g_assert_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER);
    }
}

static void
test_header_value (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (postage_header_value_check ("Subject", "Tab\tis fine, ümlauts too", &error));
  g_assert_no_error (error);
  g_assert_false (postage_header_value_check ("Subject", "Hi\r\nBcc: a@b.test", &error));
  g_assert_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (postage_header_value_check ("Subject", "bad \xff utf8", &error));
  g_assert_error (error, POSTAGE_MAIL_ERROR, POSTAGE_MAIL_ERROR_INVALID_HEADER);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  postage_mail_init ();
  g_test_add_func ("/postage/address/valid", test_valid);
  g_test_add_func ("/postage/address/list", test_list);
  g_test_add_func ("/postage/address/empty", test_empty);
  g_test_add_func ("/postage/address/idn", test_idn);
  g_test_add_func ("/postage/address/broken-idn", test_broken_idn);
  g_test_add_func ("/postage/address/malformed-named", test_malformed_named);
  g_test_add_func ("/postage/address/injection", test_injection);
  g_test_add_func ("/postage/address/header-value", test_header_value);
  return g_test_run ();
}
