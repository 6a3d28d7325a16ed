#!/usr/bin/python3
"""postage send through a real Postfix submission service, over STARTTLS
(argv[1] = starttls) or implicit TLS (tls), optionally with only AUTH LOGIN
offered (argv[2] = login): the exact message and envelope Postfix delivered
to every recipient, Bcc included."""

import base64
import email
import email.policy
import email.utils
import sys

from pfharness import Postfix, strip_received
from harness import add_account, check, check_eq, main, postage

MODE = sys.argv[1] if len(sys.argv) > 1 else "starttls"
MECHS = sys.argv[2] if len(sys.argv) > 2 else "plain"
USER = "sender@postage.test"
PASSWORD = "S3cret pass+/=:%"
SUBJECT = "Grüße aus Köln — ünïcödé ✉"
BODY = ("Hello from the Postage Postfix interop test.\n"
        ".a line that starts with a dot\n"
        "..and one with two\n"
        ".\n"
        "Non-ASCII: Grüße, naïve, 日本語.\n"
        "\n"
        "Last line.\n")
RCPTS = ["to1@example.test", "to2@example.test", "cc@example.test", "hidden@example.test"]


def test():
    mechs = "LOGIN" if MECHS == "login" else "PLAIN LOGIN"
    with Postfix({USER: PASSWORD}, mechs=mechs, broken_sasl=(MECHS == "login")) as pf:
        port = pf.tls_port if MODE == "tls" else pf.port
        add_account("Work", USER, port, PASSWORD, security=MODE, display_name="Ada Lövelace")
        p = postage("send", "--account", "Work",
                    "--to", "to1@example.test", "--to", "Bob <to2@example.test>",
                    "--cc", "cc@example.test", "--bcc", "hidden@example.test",
                    "--subject", SUBJECT, "--body-file", "-",
                    stdin=BODY.encode("utf-8"))
        check_eq(p.returncode, 0, "postage send exits 0")

        check("ESMTP Postfix (Postage test instance)" in p.err, "it spoke to Postfix")
        if MODE == "starttls":
            check("C: STARTTLS" in p.err, "transcript shows STARTTLS")
            before_tls = p.err.split("C: STARTTLS", 1)[0]
            check("C: AUTH" not in before_tls, "no AUTH before STARTTLS")
            check(p.err.count("C: EHLO") >= 2, "EHLO sent again after STARTTLS")
        else:
            check("C: STARTTLS" not in p.err, "no STARTTLS on an implicit TLS connection")
        if MECHS == "login":
            check("C: AUTH LOGIN" in p.err, "AUTH LOGIN when PLAIN is not offered")
            check("C: AUTH PLAIN" not in p.err, "no AUTH PLAIN when it is not offered")
            b64_user = base64.b64encode(USER.encode()).decode()
            b64_pass = base64.b64encode(PASSWORD.encode()).decode()
            check(b64_user not in p.err and b64_pass not in p.err,
                  "the AUTH LOGIN base64 lines are not on stderr")
        else:
            check("AUTH PLAIN ****" in p.err, "AUTH shown as AUTH PLAIN ****")
        check("235" in p.err, "Postfix accepted the login (235)")
        plain = base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode()).decode()
        check(PASSWORD not in p.err and plain not in p.err,
              "neither the password nor its base64 form is on stderr")
        check("queued as" in p.out, "Postfix's final reply is on stdout: %r" % p.out.strip())
        queue_id = p.out.strip().rsplit(" ", 1)[-1]

        msgs = pf.wait_for_delivery(len(RCPTS))
        log = pf.read_log()

    # The envelope: every recipient once, Bcc included, from the account's address.
    check_eq(sorted(env["rcpt_to"] for _, env in msgs), sorted(RCPTS), "envelope recipients")
    for raw, env in msgs:
        check_eq(env["mail_from"], USER, "envelope sender for %s" % env["rcpt_to"])
        check_eq(env["queue_id"], queue_id, "queue id for %s" % env["rcpt_to"])
    check_eq(len({raw for raw, _ in msgs}), 1, "every recipient got the same bytes")
    check("sasl_method=%s, sasl_username=%s" % ("LOGIN" if MECHS == "login" else "PLAIN", USER)
          in log, "Postfix logged the SASL login")
    check(("TLS connection established from" in log), "Postfix logged a TLS connection")

    raw = strip_received(msgs[0][0])
    # pipe(8) hands the message over with LF line ends, dot-unstuffed.
    check(b"\r" not in raw, "no stray CR survived Postfix (no bare CR on the wire)")
    check(all(len(l) <= 998 for l in raw.split(b"\n")), "no line over 998 octets")
    head = raw.split(b"\n\n", 1)[0]
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
    date = email.utils.parsedate_to_datetime(str(msg["Date"]))
    check(date is not None and date.tzinfo is not None, "Date parses, with a time zone")
    mid = str(msg["Message-ID"]).strip()
    check(mid.startswith("<") and mid.endswith(">") and "@" in mid,
          "Message-ID looks like <left@right>: %s" % mid)
    check("@mail.postage.test" not in mid, "Message-ID is the client's, not Postfix's")
    check_eq(str(msg["MIME-Version"]).strip(), "1.0", "MIME-Version")
    check_eq(msg.get_content_type(), "text/plain", "content type")
    check_eq((msg.get_content_charset() or "").lower(), "utf-8", "charset")
    check_eq(msg.get_content().rstrip("\n"), BODY.rstrip("\n"),
             "body text (dot-stuffing undone exactly)")


if __name__ == "__main__":
    main(test)
