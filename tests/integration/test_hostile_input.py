#!/usr/bin/python3
"""Input that real callers produce by accident, and an outbox someone tampered
with: what reached a real aiosmtpd server, what was refused, what was kept.

- sendmail input whose last header line has no line end (printf 'To: …\\nSubject: x'):
  the header Postage adds must not be glued onto it;
- empty Cc: and Bcc: headers (mail(1), scripts with an empty variable): no
  recipients, not an error;
- a sidecar that is a FIFO: `outbox list` and `outbox flush` must not hang on
  it, and the other entries still go;
- a message file that is a symbolic link to a file elsewhere: never sent;
- a sidecar whose envelope holds a line break ("\\r\\n" in the keyfile): no
  SMTP command of its own must reach the server.
"""

import email
import email.policy
import os
import re
import subprocess

from harness import (EX_TEMPFAIL, TOP, Server, add_account, check, check_eq, closed_port, main,
                     postage)

USER = "hostile@postage.test"
PASSWORD = "hostile-input-pass-7"
DATA_HOME = os.environ["XDG_DATA_HOME"]
OUTBOX = os.path.join(DATA_HOME, "postage", "outbox")


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def outbox_id(p):
    m = re.search(r"\(outbox (\S+)\)", p.err)
    if m is None:
        raise AssertionError("no outbox id in %r" % p.err)
    return m.group(1)


def sendmail_input(server):
    # The last header line ends without "\n" and there is no body.
    p = postage("sendmail", "-t", stdin=b"To: a@example.test\nSubject: only headers")
    check_eq(p.returncode, 0, "headers without a final line end are sent")
    raw = server.messages()[-1][0]
    msg = parse(raw)
    check_eq(msg["Subject"], "only headers", "the Subject is what was written")
    check_eq(str(msg["From"]), "Hostile Test <%s>" % USER, "a From header was added on its own line")

    p = postage("sendmail", "-t", stdin=b"To: b@example.test\nSubject: x\n\nno final line end")
    check_eq(p.returncode, 0, "a body without a final line end is sent")
    check_eq(parse(server.messages()[-1][0]).get_content().rstrip("\r\n"), "no final line end",
             "the text arrived whole")

    p = postage("sendmail", "-t", stdin=b"To: c@example.test\nCc:\nBcc: \nSubject: empty\n\nx\n")
    check_eq(p.returncode, 0, "empty Cc: and Bcc: headers are no recipients, not an error")
    raw, env = server.messages()[-1]
    check_eq(env["rcpt_tos"], ["c@example.test"], "the envelope has the To recipient only")
    check(b"\nbcc:" not in raw.lower(), "the empty Bcc header was removed too")


def damaged_outbox(server, down_port):
    add_account("Down", USER, down_port, PASSWORD)
    ids = []
    for subject in ("fifo", "symlink", "inject", "fine"):
        p = postage("send", "--account", "Down", "--to", "z@example.test", "--subject", subject,
                    "--body", "x")
        check_eq(p.returncode, EX_TEMPFAIL, "queued while the server is down")
        ids.append(outbox_id(p))
    fifo, link, inject, fine = ids
    # Point those entries at the working server.
    for msg_id in ids:
        path = os.path.join(OUTBOX, msg_id + ".envelope")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("account=Down", "account=Work"))

    sidecar = os.path.join(OUTBOX, fifo + ".envelope")
    os.unlink(sidecar)
    os.mkfifo(sidecar)
    secret = os.path.join(TOP, "not-for-mail.txt")
    with open(secret, "w") as f:
        f.write("Subject: private\n\nTHIS FILE IS PRIVATE\n")
    message = os.path.join(OUTBOX, "new", link)
    os.unlink(message)
    os.symlink(secret, message)

    path = os.path.join(OUTBOX, inject + ".envelope")
    with open(path) as f:
        text = f.read()
    text = re.sub(r"recipients=.*\n", lambda m: "recipients=y@example.test>\\r\\nRCPT TO:<evil@"
                  "example.test;\n", text)
    with open(path, "w") as f:
        f.write(text)

    try:
        p = postage("outbox", "list", timeout=20)
    except subprocess.TimeoutExpired:
        check(False, "outbox list returns with a FIFO as a sidecar")
    check(fifo in p.out and "broken" in p.out.split(fifo, 1)[1].split("\n", 1)[0],
          "the FIFO entry lists as broken")
    check(link in p.out and "broken" in p.out.split(link, 1)[1].split("\n", 1)[0],
          "the symlinked message lists as broken")
    check(inject in p.out and "broken" in p.out.split(inject, 1)[1].split("\n", 1)[0],
          "the entry with a line break in its envelope lists as broken")
    before = len(server.messages())
    try:
        p = postage("outbox", "flush", timeout=30)
    except subprocess.TimeoutExpired:
        check(False, "outbox flush returns with a FIFO as a sidecar")
    got = server.messages()[before:]
    check_eq([env["rcpt_tos"] for _, env in got], [["z@example.test"]],
             "only the intact entry was sent")
    check(all(b"PRIVATE" not in raw for raw, _ in server.messages()),
          "the file behind the symlink never reached the server")
    check(os.path.exists(secret), "the file behind the symlink is untouched")
    check(all("evil@example.test" not in env["rcpt_tos"] for _, env in server.messages()),
          "no recipient smuggled in through the sidecar reached the server")


def test():
    with Server(USER, PASSWORD) as server:
        add_account("Work", USER, server.port, PASSWORD, display_name="Hostile Test")
        sendmail_input(server)
        sock, port = closed_port()
        with sock:
            damaged_outbox(server, port)


if __name__ == "__main__":
    main(test)
