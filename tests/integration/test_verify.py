#!/usr/bin/python3
"""account verify: sign in and QUIT, nothing sent; 0 only when accepted."""

from harness import EX_NOPERM, Server, add_account, check, check_eq, main, postage

USER = "me@postage.test"


def test():
    with Server(USER, "the-right-one") as server:
        add_account("Good", USER, server.port, "the-right-one")

        p = postage("account", "verify", "Good", "--timeout", "30")
        check_eq(p.returncode, 0, "verify with the right password exits 0")
        check("STARTTLS" in p.err and "AUTH PLAIN ****" in p.err,
              "the transcript is shown, AUTH redacted")
        check(p.out.strip().startswith("235"), "the server's 235 reply on stdout")
        check("the-right-one" not in p.err + p.out, "the password is not shown")
        check("MAIL FROM" not in p.err, "no message was started")
        check_eq(server.messages(), [], "nothing was delivered")

    with Server(USER, "the-right-one", name="spool2") as server:
        add_account("Wrong", USER, server.port, "not-the-right-one")
        p = postage("account", "verify", "Wrong")
        check_eq(p.returncode, EX_NOPERM, "verify with a wrong password exits 77")
        check("535" in p.err, "the 535 reply code is on stderr")
        check("Authentication credentials invalid" in p.err,
              "the server's own words are on stderr")
        check_eq(server.messages(), [], "nothing was delivered")

    p = postage("account", "verify", "Nobody")
    check_eq(p.returncode, 78, "verify of an unknown account exits 78")


if __name__ == "__main__":
    main(test)
