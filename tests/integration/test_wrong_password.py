#!/usr/bin/python3
"""A wrong password: exit 77, the server's 535 words on stderr, nothing sent."""

import base64

from harness import EX_NOPERM, Server, add_account, check, check_eq, main, postage

USER = "me@postage.test"


def test():
    with Server(USER, "the-right-one") as server:
        add_account("Wrong", USER, server.port, "not-the-right-one")
        p = postage("send", "--account", "Wrong", "--to", "friend@example.test",
                    "--subject", "hello", "--body", "This should not arrive.")
        check_eq(p.returncode, EX_NOPERM, "exit code for failed authentication")
        check("535" in p.err, "the 535 reply code is on stderr")
        check("Authentication credentials invalid" in p.err,
              "the server's own words are on stderr")
        check("AUTH PLAIN ****" in p.err, "AUTH shown redacted")
        plain = base64.b64encode(b"\0" + USER.encode() + b"\0not-the-right-one").decode()
        check("not-the-right-one" not in p.err and plain not in p.err,
              "the password is not on stderr, plain or base64")
        check_eq(server.messages(), [], "nothing was delivered")


if __name__ == "__main__":
    main(test)
