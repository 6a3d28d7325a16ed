#!/usr/bin/python3
"""A wrong password against Postfix + Cyrus sasldb: exit 77, Postfix's 535 words
on stderr, the password nowhere, nothing delivered or queued."""

import base64

from pfharness import Postfix
from harness import EX_NOPERM, add_account, check, check_eq, main, postage

USER = "me@postage.test"
WRONG = "not-the-right-one"


def test():
    with Postfix({USER: "the-right-one"}) as pf:
        add_account("Wrong", USER, pf.port, WRONG)
        p = postage("send", "--account", "Wrong", "--to", "friend@example.test",
                    "--subject", "hello", "--body", "This should not arrive.")
        check_eq(p.returncode, EX_NOPERM, "exit code for failed authentication")
        check("535" in p.err, "the 535 reply code is on stderr")
        check("authentication failed" in p.err,
              "Postfix's own words (authentication failed) are on stderr")
        check("AUTH PLAIN ****" in p.err, "AUTH shown redacted")
        check(p.err.count("C: AUTH") == 1, "no other mechanism tried with the same password")
        check("C: MAIL FROM" not in p.err, "no MAIL FROM after a failed login")
        plain = base64.b64encode(b"\0" + USER.encode() + b"\0" + WRONG.encode()).decode()
        check(WRONG not in p.err and plain not in p.err,
              "the password is not on stderr, plain or base64")
        check_eq(pf.messages(), [], "nothing was delivered")
        check_eq(pf.queued(), [], "nothing is queued")
        log = pf.read_log()
        check("SASL PLAIN authentication failed" in log, "Postfix logged the failed login")


if __name__ == "__main__":
    main(test)
