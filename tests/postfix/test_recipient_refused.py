#!/usr/bin/python3
"""Postfix refuses one of several recipients (check_recipient_access): exit 69,
the refused address and Postfix's reason on stderr, and nothing delivered to the
others: the client must not send the message to the accepted ones silently.

"Nothing delivered" is proven, not waited for: a second message to a marker
address is then sent; once it is delivered and Postfix's queue is empty, any
message Postfix had accepted in the first session has been delivered too."""

from pfharness import Postfix
from harness import add_account, check, check_eq, main, postage

EX_UNAVAILABLE = 69
USER = "me@postage.test"
PASSWORD = "pass word"
BAD = "bad@example.test"
GOOD = ["good1@example.test", "good2@example.test", "good3@example.test"]
REASON = "550 5.1.1 No such mailbox here (Postage test)"


def test():
    with Postfix({USER: PASSWORD}, reject_rcpts={BAD: REASON}) as pf:
        add_account("Me", USER, pf.port, PASSWORD)
        p = postage("send", "--account", "Me", "--to", GOOD[0], "--to", BAD,
                    "--cc", GOOD[1], "--bcc", GOOD[2],
                    "--subject", "hello", "--body", "This should not arrive.")
        check_eq(p.returncode, EX_UNAVAILABLE, "exit code for a refused recipient")
        error = p.err.split("postage: not sent:", 1)[-1]
        check(BAD in error, "the refused address is named in the error")
        check("550 5.1.1" in error, "the 550 5.1.1 reply is in the error")
        check("No such mailbox here (Postage test)" in error, "Postfix's reason is in the error")
        for ok in GOOD:
            check("C: RCPT TO:<%s>" % ok in p.err, "RCPT TO %s was sent" % ok)
            check(ok not in error, "the accepted %s is not named as refused" % ok)

        p2 = postage("send", "--account", "Me", "--to", "marker@example.test",
                     "--subject", "marker", "--body", "The marker.")
        check_eq(p2.returncode, 0, "the marker message is sent")
        msgs = pf.wait_for_delivery(1)
        check_eq([env["rcpt_to"] for _, env in msgs], ["marker@example.test"],
                 "only the marker was delivered")
        check(b"This should not arrive." not in msgs[0][0], "the refused message is not there")
        check_eq(pf.queued(), [], "nothing is queued")
        check("queued as" not in p.err, "Postfix accepted no message in the first session")


if __name__ == "__main__":
    main(test)
