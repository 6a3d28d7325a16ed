#!/usr/bin/python3
"""postage sendmail: a finished message on stdin, sendmail's options, through
the outbox — what reached a real aiosmtpd server, and what was refused."""

import email
import email.policy
import os
import subprocess

from harness import (EX_DATAERR, EX_TEMPFAIL, POSTAGE, TOP, Server, add_account, check, check_eq,
                     closed_port, main, postage)

USER = "sender@postage.test"
PASSWORD = "sendmail pass"
EX_USAGE = 64

CRON = (b"From: Cron Daemon <root@host.example>\n"
        b"To: ops@example.test, \"Second, Person\" <second@example.test>\n"
        b"Cc: cc@example.test\n"
        b"Bcc: hidden@example.test\n"
        b"BCC: hidden2@example.test\n"
        b"Subject: Cron <root@host> /usr/local/bin/backup\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n"
        b"\n"
        b"backup finished: 42 files, Gr\xc3\xbc\xc3\x9fe\n"
        b".leading dot stays\n"
        + b"x" * 1500 + b"\n"
        b"last line\n")


def outbox_files():
    top = os.path.join(TOP, "data", "postage", "outbox", "new")
    return sorted(os.listdir(top)) if os.path.isdir(top) else []


def body_of(raw):
    """The message and its text, with the wire's CRLF line ends as LF."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg, msg.get_content().replace("\r\n", "\n")


def test():
    with Server(USER, PASSWORD) as server:
        add_account("Work", USER, server.port, PASSWORD, display_name="Ada Lovelace")

        # -t with -oi: recipients from To, Cc and Bcc; Bcc gone from the message.
        p = postage("sendmail", "-t", "-oi", stdin=CRON)
        check_eq(p.returncode, 0, "sendmail -t exits 0")
        msgs = server.messages()
        check_eq(len(msgs), 1, "one message arrived")
        raw, env = msgs[0]
        check_eq(env["mail_from"], USER, "envelope sender is the account's address")
        check_eq(sorted(env["rcpt_tos"]),
                 sorted(["ops@example.test", "second@example.test", "cc@example.test",
                         "hidden@example.test", "hidden2@example.test"]),
                 "envelope recipients from the headers")
        check(b"hidden" not in raw and b"\nbcc:" not in raw.lower(),
              "no Bcc header or address in what arrived")
        msg, text = body_of(raw)
        check_eq(str(msg["From"]), "Cron Daemon <root@host.example>", "From kept as written")
        check_eq(msg["Subject"], "Cron <root@host> /usr/local/bin/backup", "subject kept")
        check(msg["Date"] is not None and msg["Message-ID"] is not None,
              "Date and Message-ID added")
        want = CRON.split(b"\n\n", 1)[1].decode("utf-8")
        check_eq(text, want, "the text decodes to exactly what was written")
        check(all(len(line) <= 998 for line in raw.split(b"\r\n")),
              "no line over 998 octets (the long line was re-encoded)")
        check(b"\n" not in raw.replace(b"\r\n", b""), "no bare LF")
        check_eq(outbox_files(), [], "the outbox is empty after a send")
        sent = os.path.join(TOP, "data", "postage", "sent", "cur")
        copies = os.listdir(sent)
        check_eq(len(copies), 1, "one copy in sent/")
        with open(os.path.join(sent, copies[0]), "rb") as f:
            check_eq(f.read(), raw, "the sent copy holds exactly the bytes that went out")

        # Explicit recipients, -f for the envelope, a bare body: From, Date and
        # Message-ID are made up, and without -i a lone "." ends the input.
        bare = b"Subject: disk\n\nalmost full\n.\nnot part of the message\n"
        p = postage("sendmail", "-f", USER, "-F", "Disk Watch", "root@example.test",
                    "admin@example.test", stdin=bare)
        check_eq(p.returncode, 0, "sendmail with recipients exits 0")
        raw, env = server.messages()[1]
        check_eq(sorted(env["rcpt_tos"]), ["admin@example.test", "root@example.test"],
                 "envelope recipients from the arguments")
        msg, text = body_of(raw)
        check_eq(str(msg["From"]), "Disk Watch <%s>" % USER, "From made from -F and the account")
        check("postage.test" in msg["Message-ID"], "Message-ID in the sender's domain")
        check_eq(text, "almost full\n", "a line with only '.' ended the input")

        # -i: the dot line is text.
        p = postage("sendmail", "-i", "root@example.test", stdin=bare)
        check_eq(p.returncode, 0, "sendmail -i exits 0")
        _, text = body_of(server.messages()[2][0])
        check_eq(text, "almost full\n.\nnot part of the message\n", "-i keeps the dot line")

        # A link named sendmail is postage sendmail.
        link = os.path.join(TOP, "sendmail")
        os.symlink(POSTAGE, link)
        p = subprocess.run([link, "-oi", "-t"], input=b"To: link@example.test\n\nvia link\n",
                           capture_output=True, timeout=60)
        print(p.stderr.decode("utf-8", "replace"))
        check_eq(p.returncode, 0, "a link named sendmail sends")
        check_eq(server.messages()[-1][1]["rcpt_tos"], ["link@example.test"],
                 "the link's message arrived")

        # As in Postfix, the header block ends at the first line that is no
        # header: that line is text, never dropped. A bare text is a body,
        # and a leading mbox "From " line goes.
        p = postage("sendmail", "-t", stdin=b"From someone Fri Dec  4 10:00:00 2026\n"
                    b"To: a@example.test\nThis is not a header\nSubject: s\n\nbody\n")
        check_eq(p.returncode, 0, "a header block cut short is still sent")
        raw = server.messages()[-1][0]
        msg, text = body_of(raw)
        check_eq(msg["Subject"], None, "what followed the cut is not a header")
        check_eq(text, "This is not a header\nSubject: s\n\nbody\n", "it is the text, whole")
        check(b"From someone" not in raw, "the mbox From line is gone")
        p = postage("sendmail", "root@example.test", stdin=b"disk almost full\n")
        check_eq(p.returncode, 0, "a text with no headers is sent")
        raw, env = server.messages()[-1]
        msg, text = body_of(raw)
        check_eq(env["rcpt_tos"], ["root@example.test"], "to the recipient given")
        check_eq(text, "disk almost full\n", "the text is the body")
        check(msg["From"] is not None and msg["Date"] is not None, "From and Date added")

        # "undisclosed-recipients:;" plus Bcc only.
        p = postage("sendmail", "-t", stdin=b"To: undisclosed-recipients:;\n"
                    b"Bcc: a@example.test\nSubject: s\n\nx\n")
        check_eq(p.returncode, 0, "an empty group with a Bcc is fine")
        check_eq(server.messages()[-1][1]["rcpt_tos"], ["a@example.test"], "Bcc-only envelope")

        count = len(server.messages())
        # Refused before anything is stored or sent.
        for args, data, code, words in [
                (["-t"], b"Subject: none\n\nno recipients\n", EX_DATAERR, "no To, Cc or Bcc"),
                ([], b"Subject: none\n\nx\n", EX_DATAERR, "No recipient"),
                (["-t"], b"To: not an address\n\nx\n", EX_DATAERR, "not a list of valid"),
                (["-t"], b"To: a@example.test, garbage\n\nx\n", EX_DATAERR, "garbage"),
                (["bob@example.test\r\nRCPT TO:<evil@example.test>"], b"Subject: x\n\nx\n",
                 EX_DATAERR, "line break"),
                (["-t"], b"To: a@example.test\nSubject: " + b"s" * 1200 + b"\n\nx\n",
                 EX_DATAERR, "longer than 998"),
                (["-t"], b"To: a@example.test\n\nnul\0byte\n", EX_DATAERR, "NUL"),
                (["-f", "not-an-address", "a@example.test"], b"Subject: x\n\nx\n",
                 EX_DATAERR, "not-an-address"),
                (["-bs"], b"", EX_USAGE, "-bm"),
                (["-Z"], b"", EX_USAGE, "Unknown option")]:
            p = postage("sendmail", *args, stdin=data)
            check_eq(p.returncode, code, "refused: %r" % (args,))
            check(words in p.err, "the error says %r" % words)
        check_eq(len(server.messages()), count, "nothing refused reached the server")
        check_eq(outbox_files(), [], "nothing refused was left in the outbox")

        # A lone CR in the input never reaches the wire as a CR.
        p = postage("sendmail", "-t", stdin=b"To: a@example.test\nSubject: cr\n\n"
                    b"one\rtwo\r\n.\rthree\n")
        check_eq(p.returncode, 0, "a message with stray CRs is sent")
        raw = server.messages()[-1][0]
        check(b"\r" not in raw.replace(b"\r\n", b""), "no bare CR on the wire")
        check_eq(body_of(raw)[1], "one\ntwo\n.\nthree\n", "stray CRs became line ends")

    # A server that is down: exit 75 and the message waits in the outbox.
    sock, port = closed_port()
    with sock:
        add_account("Down", USER, port, PASSWORD)
        p = postage("sendmail", "-a", "Down", "-t", stdin=b"To: a@example.test\n"
                    b"Subject: later\n\nwaits\n")
        check_eq(p.returncode, EX_TEMPFAIL, "an unreachable server exits 75")
        check_eq(len(outbox_files()), 1, "the message waits in the outbox")
        p = postage("outbox", "list")
        check("later" in p.out + p.err and "queued" in p.out + p.err,
              "outbox list shows it, queued")


if __name__ == "__main__":
    main(test)
