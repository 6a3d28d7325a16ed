#!/usr/bin/python3
"""Nobody listening on the port: a temporary failure, exit 75, and the message
waits in the outbox; with --no-queue nothing is left behind."""

import os

from harness import EX_TEMPFAIL, TOP, add_account, check, check_eq, closed_port, main, postage

OUTBOX = os.path.join(TOP, "data", "postage", "outbox")


def outbox_messages():
    new = os.path.join(OUTBOX, "new")
    return sorted(os.listdir(new)) if os.path.isdir(new) else []


def test():
    sock, port = closed_port()
    add_account("Nowhere", "me@postage.test", port, "pw")
    p = postage("send", "--account", "Nowhere", "--to", "friend@example.test",
                "--subject", "kept", "--body", "b", timeout=60)
    check_eq(p.returncode, EX_TEMPFAIL, "exit code when the connection is refused")
    check(p.err.strip() != "", "an explanation on stderr")
    kept = outbox_messages()
    check_eq(len(kept), 1, "the message waits in the outbox")
    p = postage("outbox", "list")
    check("kept" in p.out + p.err and "queued" in p.out + p.err, "outbox list shows it queued")

    # --no-queue: the script retries itself, so the outbox gets nothing new.
    p = postage("send", "--no-queue", "--account", "Nowhere", "--to", "friend@example.test",
                "--subject", "not kept", "--body", "b", timeout=60)
    check_eq(p.returncode, EX_TEMPFAIL, "--no-queue still exits 75")
    check_eq(outbox_messages(), kept, "--no-queue left nothing in the outbox")
    leftovers = [n for n in os.listdir(OUTBOX) if n.endswith(".envelope")]
    check_eq(len(leftovers), 1, "and no sidecar of its own")
    sock.close()


if __name__ == "__main__":
    main(test)
