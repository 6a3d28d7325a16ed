#!/usr/bin/python3
"""Postage, msmtp and curl side by side: the same messages through the same
aiosmtpd on loopback (STARTTLS + AUTH PLAIN, the test CA): wall time, CPU time
and peak RSS (GNU time) of each sending process. A benchmark, not a test: it
fails only when a message does not arrive intact.

Run it with `build-aux/postage-dev bench [-- OPTIONS]`, which builds Postage
and runs this inside tests/lib/with-session.sh (a throw-away home and
keyring); see tests/README.md. OPTIONS:

  --runs N        timed runs per tool and message (default 3; the median is shown)
  --sizes LIST    attachment sizes in MiB, comma-separated (default 10,100);
                  a small text message without an attachment always comes first
  --tools LIST    postage,msmtp,curl (default: all three)

What each tool does in the timed run:
  postage  `postage send --attach FILE`: reads the account and asks the keyring
           (D-Bus) for the password, builds the MIME message (base64 of the
           file), writes it into the outbox and fsyncs it, streams it through
           DATA, then moves it to sent/.
  msmtp    `msmtp -C RC -a bench RCPT < MESSAGE`: the message Postage built,
           read from stdin; password in the rc file.
  curl     `curl smtp://… --upload-file MESSAGE`: the same prebuilt message;
           password on the command line. curl and Postage set TCP_NODELAY;
           msmtp does not, which costs it two ~40 ms Nagle/delayed-ACK stalls
           per message (EHLO right after the TLS Finished, the final "."
           right after the body).
All three start from the same message bytes (what Postage sent, as the server
received it), and the bench checks that each tool's copy arrived identical.
"""

import argparse
import hashlib
import os
import shutil
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from harness import POSTAGE, TOP, Server, add_account, ca_file, run_measured  # noqa: E402

USER = "bench@postage.test"
PASSWORD = "bench-password"
RCPT = "friend@example.test"
MIB = 1024 * 1024
TOOLS = ("postage", "msmtp", "curl")


class BenchFailed(Exception):
    pass


def make_random_file(path, size):
    with open(path, "wb") as f:
        left = size
        while left > 0:
            block = os.urandom(min(left, MIB))
            f.write(block)
            left -= len(block)


def postage_argv(label, attachment):
    argv = [POSTAGE, "send", "--account", "Bench", "--to", RCPT,
            "--subject", "bench: " + label, "--body", "A message from the benchmark.\n"]
    if attachment is not None:
        argv += ["--attach", attachment]
    return argv


def msmtp_rc(port):
    path = os.path.join(TOP, "msmtprc")
    with open(path, "w") as f:
        f.write("account bench\n"
                "host 127.0.0.1\n"
                "port %d\n"
                "from %s\n"
                "auth plain\n"
                "user %s\n"
                "password %s\n"
                "tls on\n"
                "tls_starttls on\n"
                "tls_trust_file %s\n"
                "logfile\n"
                "syslog off\n" % (port, USER, USER, PASSWORD, ca_file()))
    os.chmod(path, 0o600)   # msmtp refuses an rc file with a password others can read
    return path


def curl_argv(port, message):
    return ["curl", "--silent", "--show-error", "--url", "smtp://127.0.0.1:%d" % port,
            "--ssl-reqd", "--cacert", ca_file(), "--user", "%s:%s" % (USER, PASSWORD),
            "--mail-from", USER, "--mail-rcpt", RCPT, "--upload-file", message]


class Bench:
    def __init__(self, server, tools):
        self.server = server
        self.tools = tools
        self.rc = msmtp_rc(server.port)

    def _received(self):
        msgs = self.server.messages()
        if len(msgs) != 1:
            raise BenchFailed("expected one new message in the spool, found %d" % len(msgs))
        # Emptied after every send: the disk use stays flat.
        for name in os.listdir(self.server.spool):
            os.unlink(os.path.join(self.server.spool, name))
        return msgs[0]

    def run(self, tool, label, attachment, message):
        """One send; returns (wall s, CPU s, peak RSS KiB, bytes received)."""
        if tool == "postage":
            p = run_measured(postage_argv(label, attachment), timeout=900)
        elif tool == "msmtp":
            p = run_measured(["msmtp", "-C", self.rc, "-a", "bench", RCPT],
                             stdin_path=message, timeout=900)
        else:
            p = run_measured(curl_argv(self.server.port, message), timeout=900)
        if p.returncode != 0:
            sys.stderr.write(p.stderr.decode("utf-8", "replace"))
            raise BenchFailed("%s exited %d sending %s" % (tool, p.returncode, label))
        raw, env = self._received()
        if env["mail_from"] != USER or env["rcpt_tos"] != [RCPT]:
            raise BenchFailed("%s: wrong envelope %r" % (tool, env))
        if message is not None:
            with open(message, "rb") as f:
                if hashlib.sha256(f.read()).digest() != hashlib.sha256(raw).digest():
                    raise BenchFailed("%s: the message that arrived differs from %s"
                                      % (tool, message))
        return p.seconds, p.cpu_seconds, p.maxrss_kib, raw


def fmt_size(n):
    return "%.1f MiB" % (n / MIB) if n >= MIB else "%.1f KiB" % (n / 1024)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="10,100")
    ap.add_argument("--tools", default=",".join(TOOLS))
    args = ap.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    for t in tools:
        if t not in TOOLS:
            ap.error("unknown tool %s (choose from %s)" % (t, ", ".join(TOOLS)))
    for t in tools:
        if t != "postage" and shutil.which(t) is None:
            ap.error("%s is not installed (Debian package %s)" % (t, t))
    sizes = [int(s) for s in args.sizes.split(",") if s]

    cases = [("small text", None)]
    for mib in sizes:
        path = os.path.join(TOP, "random-%dmib.bin" % mib)
        make_random_file(path, mib * MIB)
        cases.append(("%d MiB attachment" % mib, path))

    rows = []
    # base64 makes N MiB into 1.37 N MiB: lift aiosmtpd's 32 MiB SIZE limit.
    limit = 2 * max(sizes, default=1) * MIB + MIB
    server_log = open(os.path.join(TOP, "server.log"), "wb")
    with Server(USER, PASSWORD, data_size_limit=limit, stderr=server_log) as server:
        add_account("Bench", USER, server.port, PASSWORD, host="127.0.0.1")
        bench = Bench(server, tools)
        for label, attachment in cases:
            # Postage builds the message the others send: one untimed run
            # keeps it (and warms the page cache and the keyring).
            message = os.path.join(TOP, "message-%s.eml" % label.replace(" ", "-"))
            raw = bench.run("postage", label, attachment, None)[-1]
            with open(message, "wb") as f:
                f.write(raw)
            results = {t: [] for t in tools}
            for i in range(args.runs):
                for tool in tools:
                    r = bench.run(tool, label, attachment,
                                  None if tool == "postage" else message)[:3]
                    results[tool].append(r)
                    print("%-20s %-8s run %d: wall %6.2f s  CPU %6.2f s  %6.1f MiB"
                          % (label, tool, i + 1, r[0], r[1], r[2] / 1024), file=sys.stderr)
            for tool in tools:
                rows.append((label, fmt_size(len(raw)), tool,
                             statistics.median(r[0] for r in results[tool]),
                             min(r[0] for r in results[tool]),
                             statistics.median(r[1] for r in results[tool]),
                             max(r[2] for r in results[tool]) / 1024))

    print()
    print("%d runs each: median and fastest wall time, median CPU time (user + system) "
          "and largest peak RSS of the sending process. The server is single-threaded "
          "Python on the same machine: wall time includes waiting for it." % args.runs)
    print()
    print("| message | on the wire | tool | wall (median) | wall (fastest) | CPU (median) "
          "| peak RSS |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for label, wire, tool, med, fast, cpu, rss in rows:
        print("| %s | %s | %s | %.2f s | %.2f s | %.2f s | %.1f MiB |"
              % (label, wire, tool, med, fast, cpu, rss))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchFailed as e:
        print("bench: FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
