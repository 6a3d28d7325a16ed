#!/usr/bin/python3
"""A server that trickles its greeting a byte at a time must not stretch the
wait: --timeout bounds the whole reply, not the gap between two bytes."""

import socket
import subprocess
import threading
import time

from harness import EX_TEMPFAIL, POSTAGE, check, check_eq, main, postage


def trickle(sock, stop):
    conn, _ = sock.accept()
    text = b"220 " + b"x" * 4000
    for byte in text:
        if stop.is_set():
            break
        try:
            conn.send(bytes([byte]))
        except OSError:
            break
        time.sleep(0.2)
    conn.close()


def test():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]
    stop = threading.Event()
    server = threading.Thread(target=trickle, args=(sock, stop), daemon=True)
    server.start()
    p = postage("account", "add", "slow", "--email", "me@postage.test", "--host", "127.0.0.1",
                "--port", str(port), "--security", "none", "--user", "")
    check_eq(p.returncode, 0, "account add")
    start = time.monotonic()
    p = postage("send", "--account", "slow", "--to", "a@example.test", "--subject", "s",
                "--body", "b", "--timeout", "2", timeout=60)
    took = time.monotonic() - start
    stop.set()
    check_eq(p.returncode, EX_TEMPFAIL, "exit code when the greeting never ends")
    check(took < 8, "gave up within a few seconds of --timeout 2 (took %.1f s)" % took)
    sock.close()


if __name__ == "__main__":
    main(test)
