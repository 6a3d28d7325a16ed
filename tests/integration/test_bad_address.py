#!/usr/bin/python3
"""A malformed address: exit 65 before any connection is made."""

import socket

from harness import EX_DATAERR, add_account, check, check_eq, main, postage


def test():
    # A listening socket that nobody serves: any connection attempt would queue.
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    port = lsock.getsockname()[1]
    add_account("Bad", "me@postage.test", port, "pw")

    for bad in ("not an address", "a@b@c", "foo@", "<@example.test>",
                "x@example.test\r\nBcc: victim@example.test"):
        p = postage("send", "--account", "Bad", "--to", bad, "--subject", "s",
                    "--body", "b", timeout=30)
        check_eq(p.returncode, EX_DATAERR, "exit code for --to %r" % bad)
        check(p.err.strip() != "", "an explanation on stderr")

    p = postage("send", "--account", "Bad", "--to", "ok@example.test",
                "--subject", "line\nbreak", "--body", "b", timeout=30)
    check_eq(p.returncode, EX_DATAERR, "exit code for a Subject with a line break")

    lsock.setblocking(False)
    try:
        conn, _ = lsock.accept()
        conn.close()
        connected = True
    except BlockingIOError:
        connected = False
    check(not connected, "postage never connected to the server")
    lsock.close()


if __name__ == "__main__":
    main(test)
