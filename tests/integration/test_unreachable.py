#!/usr/bin/python3
"""Nobody listening on the port: a temporary failure, exit 75."""

from harness import EX_TEMPFAIL, add_account, check, check_eq, closed_port, main, postage


def test():
    sock, port = closed_port()
    add_account("Nowhere", "me@postage.test", port, "pw")
    p = postage("send", "--account", "Nowhere", "--to", "friend@example.test",
                "--subject", "s", "--body", "b", timeout=60)
    check_eq(p.returncode, EX_TEMPFAIL, "exit code when the connection is refused")
    check(p.err.strip() != "", "an explanation on stderr")
    sock.close()


if __name__ == "__main__":
    main(test)
