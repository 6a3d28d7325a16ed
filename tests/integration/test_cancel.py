#!/usr/bin/python3
"""SIGINT to `postage send` while the server sits on a reply: it stops at once
(exit 75, the message is not sent) and still says QUIT, since the session can
talk; a cancel in the middle of DATA hangs up instead, because "QUIT" there
would only be another line of the message. A cancel that comes after the
server accepted the message changes nothing: exit 0, or a script would send
it again. After the final dot a Ctrl-C waits for the verdict; a second one
stops without it, the message marked "may have been sent" (exit 69)."""

import os
import signal
import socket
import subprocess
import threading
import time

from harness import EX_TEMPFAIL, POSTAGE, check, check_eq, main, postage

# A cleartext server is fine here: security=none is allowed to loopback only,
# and no AUTH is involved (--user '').


def serve(sock, stall_at, seen, ready, stopped):
    conn, _ = sock.accept()
    conn.settimeout(20)
    f = conn.makefile("rwb", buffering=0)
    f.write(b"220 cancel.test ESMTP\r\n")
    for line in f:
        text = line.decode().rstrip("\r\n")
        seen.append(text)
        if stall_at == "[data]" and seen[-2:-1] == ["DATA"]:
            # Stop reading mid-message, so the client is stuck writing it;
            # once it was cancelled, read what it sent to the end.
            ready.set()
            stopped.wait(30)
            seen.extend(l.decode("ascii", "replace").rstrip("\r\n") for l in f)
            break
        if text.startswith(stall_at):
            ready.set()
            continue   # never answer: the client must be cancelled
        if text.startswith("EHLO"):
            f.write(b"250-cancel.test\r\n250 8BITMIME\r\n")
        elif text.startswith(("MAIL", "RCPT")):
            f.write(b"250 OK\r\n")
        elif text == "DATA":
            f.write(b"354 go on\r\n")
        elif text == ".":
            f.write(b"250 2.0.0 queued as CANCEL1\r\n")
        elif text == "QUIT":
            f.write(b"221 bye\r\n")
            break
    conn.close()


def run(stall_at, want=EX_TEMPFAIL, twice=False):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]
    seen, ready, stopped = [], threading.Event(), threading.Event()
    server = threading.Thread(target=serve, args=(sock, stall_at, seen, ready, stopped),
                              daemon=True)
    server.start()
    body = os.path.join(os.environ["POSTAGE_TEST_HOME"], "body.txt")
    with open(body, "w") as out:
        # mid-DATA: more than the socket buffers hold, so the client blocks
        out.write(("x" * 70 + "\n") * (150000 if stall_at == "[data]" else 1))
    p = postage("account", "add", "plain", "--email", "me@postage.test", "--host", "127.0.0.1",
                "--port", str(port), "--security", "none", "--user", "")
    check_eq(p.returncode, 0, "account add")
    proc = subprocess.Popen([POSTAGE, "send", "--account", "plain", "--to", "a@example.test",
                             "--subject", "s", "--body-file", body, "--timeout", "60"],
                            stderr=subprocess.PIPE)
    if not ready.wait(20):
        proc.kill()
        print("  server saw (last 5):", seen[-5:])
        print("  client said:", proc.communicate()[1].decode()[-2000:])
    check(ready.is_set(), "the client reached %s" % stall_at)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    early = ""
    if twice:
        # After the final dot the first Ctrl-C waits for the verdict and
        # says so; the second one stops without it.
        for line in proc.stderr:
            early += line.decode()
            if "Ctrl-C again" in early:
                break
        check("waiting for the server's answer" in early, "the first Ctrl-C says it waits")
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
    err = early + proc.communicate(timeout=20)[1].decode()
    took = time.monotonic() - start
    stopped.set()
    print("  err| " + err.replace("\n", "\n  err| "))
    check_eq(proc.returncode, want, "exit code after SIGINT at %s" % stall_at)
    check(took < 5, "stopped within 5 s of SIGINT (took %.1f s)" % took)
    server.join(10)
    sock.close()
    return seen


def test():
    seen = run("MAIL")
    check("QUIT" in seen, "QUIT after a cancel while waiting for a reply")
    p = postage("outbox", "list")
    check("waits to be sent" in p.out + p.err and "Operation was cancelled" not in p.out + p.err,
          "the outbox says in a sentence that the cancelled message waits")
    seen = run("[data]")
    check("QUIT" not in seen, "no QUIT line inside the message after a cancel mid-DATA")
    run("QUIT", want=0)
    run(".", want=69, twice=True)
    p = postage("outbox", "list")
    check("uncertain" in p.out + p.err, "stopped after the dot: listed as may have been sent")


if __name__ == "__main__":
    main(test)
