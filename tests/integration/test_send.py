#!/usr/bin/python3
"""postage send over STARTTLS (argv[1] = starttls) or implicit TLS (tls): the
exact message and envelope that reached a real aiosmtpd server."""

import base64
import email
import email.policy
import email.utils
import sys

from harness import Server, add_account, check, check_eq, main, postage

MODE = sys.argv[1] if len(sys.argv) > 1 else "starttls"
USER = "sender@postage.test"
PASSWORD = "S3cret pass+/=:%"
SUBJECT = "Grüße aus Köln — ünïcödé ✉"
BODY = ("Hello from the Postage integration test.\n"
        ".a line that starts with a dot\n"
        "..and one with two\n"
        "Non-ASCII: Grüße, naïve, 日本語.\n"
        "\n"
        "Last line.\n")


def test():
    with Server(USER, PASSWORD, implicit_tls=(MODE == "tls")) as server:
        add_account("Work", USER, server.port, PASSWORD, security=MODE,
                    display_name="Ada Lövelace")
        p = postage("send", "--account", "Work",
                    "--to", "to1@example.test", "--to", "Bob <to2@example.test>",
                    "--cc", "cc@example.test", "--bcc", "hidden@example.test",
                    "--subject", SUBJECT, "--body-file", "-",
                    stdin=BODY.encode("utf-8"))
        check_eq(p.returncode, 0, "postage send exits 0")

        # The transcript is on stderr, with the credentials redacted.
        check("C: EHLO" in p.err, "transcript shows the client's EHLO")
        if MODE == "starttls":
            check("C: STARTTLS" in p.err, "transcript shows STARTTLS")
            check(p.err.count("C: EHLO") >= 2, "EHLO sent again after STARTTLS")
        else:
            check("C: STARTTLS" not in p.err, "no STARTTLS on an implicit TLS connection")
        check("AUTH PLAIN ****" in p.err, "AUTH shown as AUTH PLAIN ****")
        plain = base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode()).decode()
        check(PASSWORD not in p.err and plain not in p.err,
              "neither the password nor its base64 form is on stderr")
        check("S: 250" in p.err and "queued as" in p.err,
              "the server's final reply is shown")

        msgs = server.messages()
        check_eq(len(msgs), 1, "messages received")
        raw, env = msgs[0]

    # The envelope: every recipient, Bcc included.
    check_eq(env["mail_from"], USER, "envelope sender")
    check_eq(sorted(env["rcpt_tos"]),
             sorted(["to1@example.test", "to2@example.test", "cc@example.test",
                     "hidden@example.test"]), "envelope recipients")
    check_eq(env["size"], len(raw), "size")

    # The bytes on the wire.
    check(b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""),
          "every line ends in CRLF (no bare LF)")
    check(b"\r" not in raw.replace(b"\r\n", b""), "no bare CR")
    check(all(len(l) <= 998 for l in raw.split(b"\r\n")), "no line over 998 octets")
    head = raw.split(b"\r\n\r\n", 1)[0]
    check(all(b < 0x80 for b in head), "headers are 7-bit (RFC 2047 for non-ASCII)")
    check(b"hidden@example.test" not in raw, "the Bcc address is nowhere in the message")

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    check("Bcc" not in msg, "no Bcc header")
    for h in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "MIME-Version"):
        check_eq(len(msg.get_all(h) or []), 1, "one %s header" % h)
    check_eq(str(msg["From"]), "Ada Lövelace <%s>" % USER, "From")
    check_eq([a.addr_spec for a in msg["To"].addresses],
             ["to1@example.test", "to2@example.test"], "To addresses")
    check_eq([a.addr_spec for a in msg["Cc"].addresses], ["cc@example.test"], "Cc addresses")
    check_eq(str(msg["Subject"]), SUBJECT, "Subject decodes back to the text")
    check("=?" in head.decode("ascii", "replace").split("Subject:", 1)[1].split("\r\n")[0],
          "Subject is RFC 2047-encoded on the wire")
    check(email.utils.parsedate_to_datetime(str(msg["Date"])) is not None, "Date parses")
    check(email.utils.parsedate_to_datetime(str(msg["Date"])).tzinfo is not None,
          "Date has a time zone")
    mid = str(msg["Message-ID"]).strip()
    check(mid.startswith("<") and mid.endswith(">") and "@" in mid,
          "Message-ID looks like <left@right>: %s" % mid)
    check_eq(str(msg["MIME-Version"]).strip(), "1.0", "MIME-Version")
    check_eq(msg.get_content_type(), "text/plain", "content type")
    check_eq((msg.get_content_charset() or "").lower(), "utf-8", "charset")
    text = msg.get_content().replace("\r\n", "\n")
    check_eq(text.rstrip("\n"), BODY.rstrip("\n"), "body text")


if __name__ == "__main__":
    main(test)
