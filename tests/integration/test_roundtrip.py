#!/usr/bin/python3
"""Round trip (issue 5): what `postage send` puts on the wire, read back by a
different parser (Python's email package, policy.default), is exactly the input.

Non-ASCII subject, sender and recipient names; a body with a line over 998
octets, lines starting with dots, bare LF and bare CR (read with --body-file);
text, binary and non-ASCII-named attachments. Also: every line on the wire is
at most 998 octets and ends in CRLF, with no bare CR or LF anywhere.

Body line ends: Postage turns CRLF and lone CR into LF before sending (a lone
CR must never reach the wire: SMTP smuggling, CVE-2023-51764), and the wire
carries CRLF. So the text read back, with CRLF read as LF, equals the input
with CRLF and CR read as LF. Attachments are base64 and come back byte for byte.
"""

import email
import email.policy
import email.utils
import os
import random
import re

from harness import TOP, Server, add_account, check, check_eq, main, postage

USER = "roundtrip@postage.test"
PASSWORD = "round-trip-pw"
FROM_NAME = "Zoë Ångström-Łukasiewicz"
TO = [("Jürgen Müller", "juergen@example.test"),
      ("山田 太郎", "taro@example.test"),
      ("O'Brien, Siobhán", "siobhan@example.test")]
SUBJECT = "Bericht für März — 日本語の件名, long enough to fold: " + "Überschrift " * 6 + "(Ende)"
LONG_LINE = ("Sehr lange Zeile äöü " * 80).rstrip()            # > 998 octets, no break
BODY = ("Grüße aus Köln,\r\n"
        ".a line that starts with a dot\n"
        ".\n"
        "..two dots\r\n"
        "bare CR here\rand after it\n"
        + LONG_LINE + "\n"
        "\n"
        "— Zoë\n")
ATTACHMENTS = {
    "notes.txt": "Grüße\r\n.\r\nlines\nbare LF\rbare CR\n.. and no final newline".encode(),
    "random.bin": random.Random(5).randbytes(70000) + b"\r\n.\r\n" + bytes(range(256)),
    "Bericht für März.pdf": b"%PDF-1.4\n% fake\n" + random.Random(7).randbytes(3000),
}


def crlf_to_lf(text):
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test():
    check(len(LONG_LINE.encode()) > 998, "the long line is over 998 octets")
    body_file = os.path.join(TOP, "body.txt")
    with open(body_file, "wb") as f:
        f.write(BODY.encode("utf-8"))
    paths = []
    for name, data in ATTACHMENTS.items():
        path = os.path.join(TOP, name)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)

    with Server(USER, PASSWORD) as server:
        add_account("Trip", USER, server.port, PASSWORD, display_name=FROM_NAME)
        args = ["send", "--account", "Trip", "--subject", SUBJECT, "--body-file", body_file]
        for name, addr in TO:
            args += ["--to", email.utils.formataddr((name, addr))]
        for path in paths:
            args += ["--attach", path]
        p = postage(*args)
        check_eq(p.returncode, 0, "postage send exits 0")
        msgs = server.messages()
        check_eq(len(msgs), 1, "messages received")
        raw, env = msgs[0]

    # The wire.
    lines = raw.split(b"\r\n")
    check(all(b"\r" not in l and b"\n" not in l for l in lines), "no bare CR or LF on the wire")
    check(max(len(l) for l in lines) <= 998, "every line ≤ 998 octets")
    check(raw.endswith(b"\r\n"), "the message ends in CRLF")
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    check(all(b < 0x80 for b in header_block), "headers are 7-bit (RFC 2047 / 2231 encoded)")
    check(re.search(rb"filename\*=utf-8''Bericht%20f%C3%BCr%20M%C3%A4rz\.pdf", raw, re.I),
          "non-ASCII file name as RFC 2231 filename*=utf-8''…")
    check_eq(env["mail_from"], USER, "envelope sender")
    check_eq(sorted(env["rcpt_tos"]), sorted(a for _, a in TO), "envelope recipients")

    # What a different parser reads back.
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    check_eq(msg.defects, [], "no defects in the message")
    check_eq(str(msg["Subject"]), SUBJECT, "subject")
    sender = msg["From"].addresses
    check_eq([(a.display_name, a.addr_spec) for a in sender], [(FROM_NAME, USER)], "From")
    check_eq([(a.display_name, a.addr_spec) for a in msg["To"].addresses], TO,
             "To names and addresses")
    check_eq(msg.get_content_type(), "multipart/mixed", "multipart/mixed")

    body = msg.get_body(preferencelist=("plain",))
    check(body is not None, "a text/plain body part")
    check_eq(body.get_content_charset(), "utf-8", "body charset")
    check_eq(crlf_to_lf(body.get_content()), crlf_to_lf(BODY), "body text")

    got = [(part.get_filename(), part.get_payload(decode=True))
           for part in msg.iter_attachments()]
    check_eq([n for n, _ in got], list(ATTACHMENTS), "attachment file names, in order")
    for (name, data), part in zip(got, msg.iter_attachments()):
        check_eq(part["Content-Transfer-Encoding"], "base64", "%s is base64" % name)
        check(data == ATTACHMENTS[name],
              "%s arrived byte for byte (%d bytes)" % (name, len(data)))
        check_eq(part.defects, [], "%s has no defects" % name)

    print("# sample of what arrived:")
    for line in header_block.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") or line.split(b":")[0] in (b"From", b"To", b"Subject"):
            print("#   " + line.decode("ascii"))


if __name__ == "__main__":
    main(test)
