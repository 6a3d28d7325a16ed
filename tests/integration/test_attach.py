#!/usr/bin/python3
"""postage send --attach: the files arrive intact, named, beside the body text."""

import email
import email.policy
import os

from harness import TOP, Server, add_account, check, check_eq, main, postage

USER = "files@postage.test"
PASSWORD = "attach-pw"


def test():
    blob = bytes(range(256)) * 300 + b"\r\n.\r\nend"      # binary, with an SMTP end marker
    files = {"data.bin": blob, "notes é.txt": "Grüße\n.\nlines\n".encode()}
    paths = []
    for name, data in files.items():
        path = os.path.join(TOP, name)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)

    with Server(USER, PASSWORD) as server:
        add_account("Files", USER, server.port, PASSWORD)
        args = ["send", "--account", "Files", "--to", "friend@example.test",
                "--subject", "two files", "--body", "See the attachments."]
        for p in paths:
            args += ["--attach", p]
        p = postage(*args)
        check_eq(p.returncode, 0, "postage send --attach exits 0")
        msgs = server.messages()
        check_eq(len(msgs), 1, "messages received")
        raw = msgs[0][0]

    check(all(len(l) <= 998 for l in raw.split(b"\r\n")), "no line over 998 octets")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    check_eq(msg.get_content_type(), "multipart/mixed", "content type")
    body = msg.get_body(preferencelist=("plain",))
    check(body is not None, "a text/plain body part")
    check_eq(body.get_content().strip(), "See the attachments.", "body text")
    got = {part.get_filename(): part.get_payload(decode=True)
           for part in msg.iter_attachments()}
    check_eq(sorted(got), sorted(files), "attachment file names")
    for name, data in files.items():
        check(got[name] == data, "%s arrived byte for byte (%d bytes)" % (name, len(data)))


if __name__ == "__main__":
    main(test)
