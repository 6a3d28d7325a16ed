#!/usr/bin/python3
"""SIGKILL to `postage send` at each point of a submission, then `outbox flush`.

Whatever moment the process dies at, the message must still be in the outbox
with a state that tells the truth, and a later flush must deliver it exactly
once. A server on 127.0.0.1 (below, in this file: STARTTLS, AUTH PLAIN,
counting across connections) stalls at one stage and says when the client got
there; only then does the test kill the client. The stages:

  connect   the TCP connect is pending (the listen queue is full, so the SYN
            goes unanswered: the socket is seen in SYN_SENT)
  greeting  connected, the server has not said 220 yet
  tls       the ClientHello arrived after STARTTLS, no ServerHello yet
  auth      the AUTH line arrived, no verdict yet
  data      part of the message arrived, the server stopped reading
  dot       the final "." arrived, the reply is withheld

Before the "." nothing was delivered, so the entry is QUEUED (an interrupted
SENDING, whose lock died with the process, lists as queued) and flush sends
it once. After the "." it may have been delivered: the entry is UNCERTAIN,
flush leaves it alone (exit non-zero, and says it may have been sent), and
only `outbox retry ID` sends it again.

Then, through flush: a 4xx twice (queued, exit 75, the server's words kept),
a 5xx (failed, exit 69, never retried by itself), retry; and damaged entries
(message file deleted, sidecar corrupted) that must not stop the others and
are reported once each.
"""

import base64
import os
import signal
import socket
import ssl
import subprocess
import threading
import time

from harness import (EX_TEMPFAIL, POSTAGE, TOP, TestFailed, certs, check, check_eq,
                     files_under, main, postage)

EX_UNAVAILABLE = 69
USER = "kill@postage.test"
PASSWORD = "kill-point-pass-42"
DATA_HOME = os.environ["XDG_DATA_HOME"]
OUTBOX = os.path.join(DATA_HOME, "postage", "outbox")
SENT = os.path.join(DATA_HOME, "postage", "sent")
BOUND = 30          # seconds: the most any wait here may take
DATA_LINES_BEFORE_STALL = 2000


class LineReader:
    """Lines (CRLF kept) from a socket, without reading ahead of a STARTTLS."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = bytearray()

    def readline(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                line, self.buffer = bytes(self.buffer), bytearray()
                return line
            self.buffer += chunk
        end = self.buffer.index(b"\n") + 1
        line = bytes(self.buffer[:end])
        del self.buffer[:end]
        return line


def wait_for_close(sock):
    """Reads and drops everything until the peer is gone (bounded by BOUND)."""
    try:
        while sock.recv(65536):
            pass
    except (OSError, ssl.SSLError):
        pass


class KillServer:
    """STARTTLS + AUTH PLAIN submission server that counts across connections.

    arm(stage) makes the next session stall at that stage and set .reached;
    script(step, reply) makes the next transaction answer `reply` at "rcpt" or
    "dot" instead of 250. Every 250 to a "." is a completed transaction, kept
    in .accepted; .dots counts every final "." received, answered or not.
    """

    def __init__(self, accept=True):
        self.lock = threading.Lock()
        self.stall = None
        self.reached = threading.Event()
        self.release = threading.Event()
        self.replies = {"rcpt": [], "dot": []}
        self.connections = 0
        self.dots = 0
        self.accepted = []          # (mail from, [rcpt to], message bytes)
        self.drained_dot = None     # after a mid-DATA stall: did a "." follow?
        self.errors = []
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(os.path.join(certs(), "good.pem"),
                                     os.path.join(certs(), "good.key"))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small window, so that a client in the middle of DATA really waits
        # on this server rather than on its own kernel's buffers.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(0)
        if accept:
            self.start()

    def start(self):
        self.sock.listen(16)
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def arm(self, stage):
        with self.lock:
            self.stall = stage
            self.reached.clear()
            self.release.clear()

    def script(self, step, reply):
        with self.lock:
            self.replies[step].append(reply)

    def _hit(self, stage):
        with self.lock:
            if self.stall != stage:
                return False
            self.stall = None
        self.reached.set()
        return True

    def _scripted(self, step):
        with self.lock:
            return self.replies[step].pop(0) if self.replies[step] else None

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(BOUND)
        with self.lock:
            self.connections += 1
        try:
            self._session(conn)
        except (OSError, ssl.SSLError) as e:
            self.errors.append(repr(e))
        finally:
            conn.close()

    def _session(self, conn):
        if self._hit("greeting"):
            wait_for_close(conn)
            return
        reader = LineReader(conn)
        tls = authed = False
        sender, recipients = None, []

        def say(*lines):
            conn.sendall(b"".join(l.encode() + b"\r\n" for l in lines))

        say("220 kill.test ESMTP")
        while True:
            line = reader.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = text.split(" ", 1)[0].upper()
            if verb == "EHLO":
                say("250-kill.test", "250-8BITMIME", "250-SIZE 104857600",
                    "250 AUTH PLAIN" if tls else "250 STARTTLS")
            elif verb == "STARTTLS" and not tls:
                if reader.buffer:
                    self.errors.append("the client sent more after STARTTLS before 220")
                    return
                say("220 2.0.0 go ahead")
                if self.stall == "tls":
                    # The ClientHello is here (a handshake record, 0x16),
                    # and no ServerHello will come.
                    first = conn.recv(1, socket.MSG_PEEK)
                    if first == b"\x16" and self._hit("tls"):
                        wait_for_close(conn)
                        return
                conn = self.context.wrap_socket(conn, server_side=True)
                reader = LineReader(conn)
                tls = True
            elif verb == "AUTH" and tls:
                if self._hit("auth"):
                    wait_for_close(conn)
                    return
                words = text.split()
                if len(words) == 2 and words[1].upper() == "PLAIN":
                    say("334 ")
                    words.append(reader.readline().decode().strip())
                want = "\0%s\0%s" % (USER, PASSWORD)
                try:
                    got = base64.b64decode(words[2]).decode()
                except (ValueError, IndexError, UnicodeDecodeError):
                    got = None
                if got is not None and (got == want or got == USER + want):
                    authed = True
                    say("235 2.7.0 welcome")
                else:
                    say("535 5.7.8 wrong password")
            elif verb == "MAIL" and authed:
                sender, recipients = text[len("MAIL FROM:"):].split(" ")[0], []
                say("250 2.1.0 sender ok")
            elif verb == "RCPT" and sender is not None:
                reply = self._scripted("rcpt")
                if reply is None:
                    recipients.append(text[len("RCPT TO:"):])
                    reply = "250 2.1.5 recipient ok"
                say(reply)
            elif verb == "DATA" and recipients:
                say("354 go on")
                message = self._read_data(reader, conn)
                if message is None:
                    return
                with self.lock:
                    self.dots += 1
                if self._hit("dot"):
                    wait_for_close(conn)
                    return
                reply = self._scripted("dot")
                if reply is None:
                    with self.lock:
                        self.accepted.append((sender, recipients, message))
                        n = len(self.accepted)
                    reply = "250 2.0.0 Ok: queued as KILL%04d" % n
                say(reply)
                sender, recipients = None, []
            elif verb == "RSET":
                sender, recipients = None, []
                say("250 2.0.0 reset")
            elif verb == "QUIT":
                say("221 2.0.0 bye")
                return
            else:
                say("503 5.5.1 not now")

    def _read_data(self, reader, conn):
        """The message up to the final ".", or None when the client went away."""
        lines = []
        while True:
            line = reader.readline()
            if not line.endswith(b"\r\n"):
                return None
            if line == b".\r\n":
                return b"".join(l[1:] if l.startswith(b".") else l for l in lines)
            lines.append(line)
            if len(lines) == DATA_LINES_BEFORE_STALL and self._hit("data"):
                # Stop reading: the client is stuck writing the rest. Once it
                # was killed, read what it had sent and see whether a "."
                # ever came (it must not have: the client was mid-message).
                self.release.wait(BOUND)
                saw_dot = False
                try:
                    while True:
                        line = reader.readline()
                        if not line:
                            break
                        saw_dot |= line == b".\r\n"
                except (OSError, ssl.SSLError):
                    pass
                self.drained_dot = saw_dot
                return None

    def stop(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def poll(cond, what, bound=BOUND):
    """Polls cond() until it holds, for at most `bound` seconds."""
    deadline = time.monotonic() + bound
    while not cond():
        if time.monotonic() > deadline:
            raise TestFailed("timed out waiting for " + what)
        time.sleep(0.02)


def syn_sent_to(port):
    """TRUE when a socket here is in SYN_SENT towards 127.0.0.1:port."""
    want = ":%04X" % port
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            words = row.split()
            if len(words) > 3 and words[2].endswith(want) and words[3] == "02":
                return True
    return False


def read_sidecar(msg_id):
    """{section: {key: value}} of outbox/ID.envelope (a GKeyFile)."""
    out, section = {}, None
    with open(os.path.join(OUTBOX, msg_id + ".envelope"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("[") and line.endswith("]"):
                section = out.setdefault(line[1:-1], {})
            elif "=" in line and section is not None:
                key, value = line.split("=", 1)
                section[key] = value
    return out


def outbox_list():
    """[(id, state, attempts, next, recipients, subject, last error)]."""
    p = postage("outbox", "list")
    check_eq(p.returncode, 0, "outbox list exits 0")
    return [tuple(line.split("\t")) for line in p.out.splitlines()]


def only_entry(subject):
    rows = outbox_list()
    check_eq([r[5] for r in rows], [subject], "the outbox holds just the message " + subject)
    return rows[0]


def add_account(name, port):
    p = postage("account", "add", name, "--email", USER, "--host", "127.0.0.1",
                "--port", str(port), "--security", "starttls", "--ca-file",
                os.path.join(certs(), "ca.pem"), "--password-stdin",
                stdin=(PASSWORD + "\n").encode())
    check_eq(p.returncode, 0, "account add " + name)


def start_send(account, subject, body_file=None):
    args = [POSTAGE, "send", "--account", account, "--to", "friend@example.test",
            "--subject", subject, "--timeout", "120"]
    args += ["--body-file", body_file] if body_file else ["--body", "kill point " + subject]
    print("$ " + " ".join(args[1:]) + " &")
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=BOUND)
    for line in err.decode("utf-8", "replace").splitlines():
        print("  err| " + line)
    check_eq(proc.returncode, -signal.SIGKILL, "postage send died of SIGKILL")


def big_body():
    path = os.path.join(TOP, "big-body.txt")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(("y" * 70 + "\n") * 150000)   # 10 MB: more than any buffer holds
    return path


def kill_at(stage):
    print("\n# kill point: %s" % stage)
    server = KillServer(accept=stage != "connect")
    account = "kill-" + stage
    subject = "kill at " + stage
    add_account(account, server.port)
    filler = None
    if stage == "connect":
        # The listen queue (backlog 0: one connection) is full and nobody
        # accepts, so the client's SYN is dropped and its connect waits.
        filler = socket.create_connection(("127.0.0.1", server.port))
    else:
        server.arm(stage)
    proc = start_send(account, subject, big_body() if stage == "data" else None)
    try:
        if stage == "connect":
            poll(lambda: syn_sent_to(server.port) or proc.poll() is not None,
                 "the client's connect to be pending")
            check(proc.poll() is None and syn_sent_to(server.port),
                  "connect: the client waits in SYN_SENT")
        else:
            if not server.reached.wait(BOUND):
                raise TestFailed("the client never reached %s (server: %s)"
                                 % (stage, server.errors))
            check(proc.poll() is None, "%s: the server saw the client get there" % stage)
        # The moment of the kill, as the disk has it: still being sent (its
        # lock held); past the "." it is already durably "may have been sent".
        row = only_entry(subject)
        msg_id = row[0]
        check_eq(row[1], "sending", "%s: listed as sending while the client runs" % stage)
        check_eq(read_sidecar(msg_id)["Status"]["state"],
                 "uncertain" if stage == "dot" else "sending",
                 "%s: the sidecar's state when the client is killed" % stage)
        kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    server.release.set()
    if filler is not None:
        filler.close()
        server.start()
    if stage == "data":
        poll(lambda: server.drained_dot is not None, "the server to read what was sent")
        check_eq(server.drained_dot, False, "data: the client was killed before its final '.'")

    # After the kill: still there, and what it says is true.
    row = only_entry(subject)
    check_eq(row[0], msg_id, "%s: the same outbox id" % stage)
    check(os.path.isfile(os.path.join(OUTBOX, "new", msg_id)),
          "%s: the message file is still in outbox/new" % stage)
    check_eq(server.accepted, [], "%s: the server has accepted nothing" % stage)
    connections = server.connections
    if stage != "dot":
        check_eq(row[1], "queued", "%s: an interrupted send lists as queued" % stage)
        check(read_sidecar(msg_id)["Status"]["state"] in ("queued", "sending"),
              "%s: the sidecar says queued or (interrupted) sending" % stage)
        check_eq(server.dots, 0, "%s: no final '.' reached the server" % stage)
        p = postage("outbox", "flush", "--timeout", "60")
        check_eq(p.returncode, 0, "%s: flush delivers it and exits 0" % stage)
        check("queued as KILL0001" in p.out, "%s: flush prints the server's reply" % stage)
    else:
        check_eq(row[1], "uncertain", "dot: a kill after the '.' leaves it uncertain")
        check("may or may not have been delivered" in row[6],
              "dot: its last error says it may have been delivered")
        check_eq(server.dots, 1, "dot: the server got the '.' once")
        p = postage("outbox", "flush", "--timeout", "60")
        check(p.returncode not in (0, EX_TEMPFAIL),
              "dot: flush does not call it done or queued (exit %d)" % p.returncode)
        check(msg_id in p.err and "may" in p.err,
              "dot: flush tells the person %s may have been sent" % msg_id)
        check_eq(server.connections, connections, "dot: flush did not connect at all")
        check_eq(server.dots, 1, "dot: flush did not send it again")
        check_eq(only_entry(subject)[1], "uncertain", "dot: still uncertain after flush")
        p = postage("outbox", "flush", "--timeout", "60")
        check_eq(p.returncode, EX_UNAVAILABLE, "dot: a second flush still exits 69")
        check(msg_id not in p.err, "dot: ... and does not tell it all over again")
        check_eq(server.dots, 1, "dot: the second flush did not send it either")
        p = postage("outbox", "retry", msg_id, "--timeout", "60")
        check_eq(p.returncode, 0, "dot: outbox retry sends it, exit 0")
        check_eq(server.dots, 2, "dot: retry sent it once more")
    check_eq(len(server.accepted), 1, "%s: exactly one completed transaction" % stage)
    check(("Subject: " + subject).encode() in server.accepted[0][2],
          "%s: the transaction carried the message" % stage)
    check(os.path.isfile(os.path.join(SENT, "cur", msg_id + ":2,S")),
          "%s: its copy is in sent/" % stage)
    check_eq(outbox_list(), [], "%s: the outbox is empty" % stage)
    check_eq(list(files_under(OUTBOX)), [], "%s: nothing is left in the outbox folder" % stage)
    connections = server.connections
    p = postage("outbox", "flush")
    check_eq(p.returncode, 0, "%s: a second flush exits 0" % stage)
    check_eq(server.connections, connections, "%s: a second flush does not connect" % stage)
    check_eq(len(server.accepted), 1, "%s: still one transaction in total" % stage)
    server.stop()


def send(account, subject):
    return postage("send", "--account", account, "--to", "friend@example.test",
                   "--subject", subject, "--body", "body of " + subject, "--timeout", "60")


def temporary_then_permanent():
    """4xx, 4xx, 5xx through flush; then only retry sends it."""
    print("\n# a temporary failure twice, then a permanent one")
    server = KillServer()
    add_account("kill-fail", server.port)
    subject = "temporary then permanent"

    server.script("dot", "451 4.7.1 Greylisted by kill.test, come back in 5 minutes")
    p = send("kill-fail", subject)
    check_eq(p.returncode, EX_TEMPFAIL, "451 to the data: send exits 75")
    check("Greylisted by kill.test" in p.err, "send shows the server's words")
    msg_id, state, attempts, next_try, _, _, error = only_entry(subject)
    check_eq((state, attempts), ("queued", "1"), "after a 451: queued, one attempt")
    check(next_try != "-", "after a 451: a next try time is set (%s)" % next_try)
    check("Greylisted by kill.test" in error, "after a 451: the last error has the server's words")
    check_eq(read_sidecar(msg_id)["Status"]["last-code"], "451", "the sidecar keeps the code 451")

    server.script("rcpt", "452 4.2.2 Mailbox of friend is full at kill.test, try later")
    p = postage("outbox", "flush", "--timeout", "60")
    check_eq(p.returncode, EX_TEMPFAIL, "452 to RCPT: flush exits 75")
    check("Mailbox of friend is full at kill.test" in p.err, "flush shows the server's words")
    _, state, attempts, _, _, _, error = only_entry(subject)
    check_eq((state, attempts), ("queued", "2"), "after a 452: queued, two attempts")
    check("Mailbox of friend is full at kill.test" in error and "Greylisted" not in error,
          "after a 452: the last error is the newest one")

    server.script("dot", "554 5.7.1 Message refused by kill.test policy")
    p = postage("outbox", "flush", "--timeout", "60")
    check_eq(p.returncode, EX_UNAVAILABLE, "554 to the data: flush exits 69")
    check("Message refused by kill.test policy" in p.err, "flush shows the server's words")
    _, state, attempts, _, _, _, error = only_entry(subject)
    check_eq((state, attempts), ("failed", "3"), "after a 554: failed, three attempts")
    check("Message refused by kill.test policy" in error, "after a 554: the server's words kept")
    check_eq(read_sidecar(msg_id)["Status"]["last-code"], "554", "the sidecar keeps the code 554")

    connections = server.connections
    p = postage("outbox", "flush", "--timeout", "60")
    check(p.returncode not in (0, EX_TEMPFAIL), "a failed message left: flush exits %d, not 0 "
          "or 75" % p.returncode)
    check_eq(server.connections, connections, "flush does not retry a failed message by itself")
    check_eq(only_entry(subject)[1], "failed", "still failed")

    p = postage("outbox", "retry", msg_id, "--timeout", "60")
    check_eq(p.returncode, 0, "outbox retry sends it: exit 0")
    check_eq(server.dots, 3, "three final dots in all: 451, 554, then accepted")
    check_eq(len(server.accepted), 1, "exactly one completed transaction")
    p = postage("outbox", "flush")
    check_eq(p.returncode, 0, "flush of an empty outbox exits 0")
    check_eq(len(server.accepted), 1, "still one transaction")
    check_eq(list(files_under(OUTBOX)), [], "nothing is left in the outbox folder")
    server.stop()


def damaged_entries():
    """A deleted message file and a corrupted sidecar do not stop the others."""
    print("\n# damaged entries")
    server = KillServer()
    add_account("kill-bad", server.port)
    for n in range(3):
        server.script("rcpt", "421 4.3.2 kill.test is not taking mail yet")
        p = send("kill-bad", "message %d" % n)
        check_eq(p.returncode, EX_TEMPFAIL, "message %d: queued while the server refuses" % n)
    # Flush goes oldest first: the damaged ones are first in line.
    rows = outbox_list()
    check_eq(len(rows), 3, "three messages queued")
    ids = {"lost": rows[0][0], "corrupt": rows[1][0], "good": rows[2][0]}
    good_subject = rows[2][5]
    os.unlink(os.path.join(OUTBOX, "new", ids["lost"]))
    with open(os.path.join(OUTBOX, ids["corrupt"] + ".envelope"), "wb") as f:
        f.write(b"[Status\nstate=\xff\x00 not a key file\n")

    p = postage("outbox", "flush", "--timeout", "60")
    check(p.returncode not in (0, EX_TEMPFAIL),
          "damaged entries left: flush exits %d, not 0 or 75" % p.returncode)
    check_eq(len(server.accepted), 1, "the good message went out anyway")
    check(("Subject: " + good_subject).encode() in server.accepted[0][2],
          "... and it is the good one, last in line")
    for name in ("lost", "corrupt"):
        check_eq(p.err.count(ids[name] + " is damaged"), 1, "%s: reported once" % name)
    check_eq(p.err.count(ids["good"]), 0, "nothing said about the good one but its reply")
    rows = {r[0]: r for r in outbox_list()}
    check_eq(sorted(rows), sorted([ids["lost"], ids["corrupt"]]),
             "the damaged two stay in the outbox")
    lost, corrupt = rows[ids["lost"]], rows[ids["corrupt"]]
    check_eq(lost[1], "broken", "lost: marked broken")
    check("message file is missing" in lost[6], "lost: says its message file is missing")
    check_eq(corrupt[1], "broken", "corrupt: marked broken")
    check("could not be read" in corrupt[6], "corrupt: says its envelope is unreadable")

    connections = server.connections
    p = postage("outbox", "flush", "--timeout", "60")
    check(p.returncode not in (0, EX_TEMPFAIL), "again: flush exits %d" % p.returncode)
    check("is damaged" not in p.err, "a second flush does not report them again")
    check_eq(server.connections, connections, "nothing to send, no connection")
    p = postage("outbox", "remove", ids["lost"], ids["corrupt"])
    check_eq(p.returncode, 0, "outbox remove deletes both")
    p = postage("outbox", "flush")
    check_eq(p.returncode, 0, "flush exits 0 once the outbox is empty")
    check_eq(list(files_under(OUTBOX)), [], "nothing is left in the outbox folder")
    check_eq(len(server.accepted), 1, "one transaction in all")
    server.stop()


def test():
    for stage in ("connect", "greeting", "tls", "auth", "data", "dot"):
        kill_at(stage)
    temporary_then_permanent()
    damaged_entries()


if __name__ == "__main__":
    main(test)
