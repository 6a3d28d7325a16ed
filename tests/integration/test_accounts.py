#!/usr/bin/python3
"""account add / list / remove; remove also forgets the password."""

from harness import add_account, check, check_eq, main, postage, secret_lookup


def lookup(user):
    return secret_lookup("user", user, "server", "localhost", "protocol", "smtp")


def test():
    p = postage("account", "list")
    check_eq(p.returncode, 0, "account list with no accounts exits 0")
    check("First" not in p.out and "Second" not in p.out, "no accounts listed yet")

    add_account("First", "first@postage.test", 587, "pw-first")
    add_account("Second", "second@postage.test", 465, "pw-second", security="tls",
                display_name="Second Person")
    p = postage("account", "list")
    check_eq(p.returncode, 0, "account list exits 0")
    check("First" in p.out and "Second" in p.out, "both accounts listed")
    check("first@postage.test" in p.out and "second@postage.test" in p.out,
          "their addresses listed")
    check("pw-first" not in p.out + p.err and "pw-second" not in p.out + p.err,
          "no password in the listing")

    check_eq(lookup("first@postage.test"), (0, "pw-first"), "First's password in the keyring")
    p = postage("account", "remove", "First")
    check_eq(p.returncode, 0, "account remove exits 0")
    p = postage("account", "list")
    check("First" not in p.out and "Second" in p.out, "only Second is left")
    code, secret = lookup("first@postage.test")
    check(code != 0 and secret == "", "First's password left the keyring")
    check_eq(lookup("second@postage.test"), (0, "pw-second"), "Second's password stays")

    p = postage("account", "remove", "First")
    check(p.returncode != 0, "removing an account that does not exist fails")
    check(p.err.strip() != "", "and says why")


if __name__ == "__main__":
    main(test)
