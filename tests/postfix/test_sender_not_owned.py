#!/usr/bin/python3
"""A From address the login does not own (reject_sender_login_mismatch): the send
fails (exit 69) with Postfix's "not owned by user" words; nothing delivered.

The account signs in as one sasldb user but sends From another user's address.
argv[1] = rcpt: Postfix's default smtpd_delay_reject=yes, so the 553 answers the
RCPT (and DATA gets 554 "no valid recipients"); mail: smtpd_delay_reject=no, so
the 553 answers MAIL FROM (and the pipelined RCPT and DATA get 503)."""

import sys

from pfharness import Postfix
from harness import add_account, check, check_eq, main, postage

EX_UNAVAILABLE = 69
STAGE = sys.argv[1] if len(sys.argv) > 1 else "rcpt"
LOGIN = "owner@postage.test"
PASSWORD = "owner's password"
OTHER = "boss@postage.test"


def test():
    with Postfix({LOGIN: PASSWORD, OTHER: "boss's own password"},
                 delay_reject=(STAGE == "rcpt")) as pf:
        add_account("Spoof", OTHER, pf.port, PASSWORD, user=LOGIN)
        p = postage("send", "--account", "Spoof", "--to", "friend@example.test",
                    "--subject", "hello", "--body", "This should not arrive.")
        check_eq(p.returncode, EX_UNAVAILABLE, "exit code for a refused sender")
        check("S: 235" in p.err, "the login itself succeeded (235)")
        check("C: MAIL FROM:<%s>" % OTHER in p.err, "MAIL FROM carries the account's address")
        reply = "553 5.7.1 <%s>: Sender address rejected: not owned by user %s" % (OTHER, LOGIN)
        check(("S: " + reply) in p.err, "Postfix refused the sender: %s" % reply)
        error = p.err.split("postage: not sent:", 1)[-1]
        check("not owned by user %s" % LOGIN in error,
              "Postfix's own words (not owned by user) are in the error")
        check("553" in error, "the 553 reply code is in the error")
        check("S: 354" not in p.err and "queued as" not in p.err, "no message was accepted")
        check_eq(pf.messages(), [], "nothing was delivered")
        check_eq(pf.queued(), [], "nothing is queued")


if __name__ == "__main__":
    main(test)
