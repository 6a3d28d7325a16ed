"""Shared helpers for the end-to-end tests (run inside tests/lib/with-session.sh).

Real parts only: the `postage` binary from the build ($POSTAGE), Debian's aiosmtpd
(tests/lib/aiosmtpd-server.py) on loopback with a test CA made by make-certs.sh,
and the gnome-keyring-daemon that with-session.sh started.
"""

import json
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.environ["POSTAGE_TEST_HOME"]          # the throw-away profile
POSTAGE = os.environ["POSTAGE"]
SRC = os.environ["POSTAGE_SOURCE_ROOT"]
LIB = os.path.join(SRC, "tests", "lib")

EX_DATAERR = 65
EX_TEMPFAIL = 75
EX_NOPERM = 77


class TestFailed(Exception):
    pass


def read_spool(spool):
    """[(message bytes, envelope dict)] from NNNN.eml + NNNN.json pairs, in order."""
    if not os.path.isdir(spool):
        return []
    out = []
    for name in sorted(os.listdir(spool)):
        if name.endswith(".json"):
            stem = os.path.join(spool, name[:-5])
            with open(stem + ".eml", "rb") as f:
                eml = f.read()
            with open(stem + ".json") as f:
                out.append((eml, json.load(f)))
    return out


def check(cond, what):
    if not cond:
        raise TestFailed(what)
    print("ok -", what)


def check_eq(got, want, what):
    if got != want:
        raise TestFailed("%s: got %r, want %r" % (what, got, want))
    print("ok - %s (%r)" % (what, got))


def main(test):
    """Runs test(); exit 0 on success, 1 with a reason otherwise."""
    try:
        test()
    except TestFailed as e:
        print("FAIL -", e)
        sys.exit(1)
    print("PASS")
    sys.exit(0)


_certs = None


def certs():
    """The test PKI (ca.pem for --ca-file, good.pem for the server)."""
    global _certs
    if _certs is None:
        _certs = os.path.join(TOP, "certs")
        subprocess.run(["sh", os.path.join(LIB, "make-certs.sh"), _certs], check=True)
    return _certs


def ca_file():
    return os.path.join(certs(), "ca.pem")


class Server:
    """aiosmtpd on 127.0.0.1: STARTTLS (or implicit TLS), AUTH required."""

    def __init__(self, user, password, implicit_tls=False, name="spool",
                 data_size_limit=None, stderr=None):
        self.user = user
        self.password = password
        self.spool = os.path.join(TOP, name)
        args = [sys.executable, os.path.join(LIB, "aiosmtpd-server.py"),
                "--cert-dir", certs(), "--user", user, "--password", password,
                "--spool", self.spool, "--host", "127.0.0.1", "--port", "0"]
        if implicit_tls:
            args.append("--implicit-tls")
        if data_size_limit is not None:
            args += ["--data-size-limit", str(data_size_limit)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr)
        self.port = self._read_port(deadline=time.monotonic() + 20)
        print("server listening on 127.0.0.1:%d (%s)"
              % (self.port, "implicit TLS" if implicit_tls else "STARTTLS"))

    def _read_port(self, deadline):
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise TestFailed("aiosmtpd-server did not print its port in time")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 64)
                if not chunk:
                    self.stop()
                    raise TestFailed("aiosmtpd-server exited before listening")
                line += chunk
        words = line.decode().split()
        if len(words) != 2 or words[0] != "PORT":
            raise TestFailed("unexpected server output %r" % line)
        return int(words[1])

    def messages(self):
        """[(eml bytes, envelope dict)] in arrival order."""
        return read_spool(self.spool)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# GNU time (Debian package `time`) forks the measured command from its own
# ~1 MiB process. Not wait4() on a child of this one: a child's ru_maxrss
# counts the memory of the Python process it was forked from (Linux records
# the old address space's high-water mark at exec), so /bin/true would show
# whatever this process holds.
GNU_TIME = "/usr/bin/time"


def run_measured(argv, stdin=None, stdin_path=None, timeout=90):
    """subprocess.run(argv, capture_output=True) that also returns the
    command's own peak resident set size as .maxrss_kib and its CPU time
    (user + system) as .cpu_seconds (both from GNU time), and the wall time
    of the whole run as .seconds. Standard input is @stdin
    (bytes), the file @stdin_path, or empty. Killed after @timeout seconds
    (TimeoutExpired)."""
    if not os.access(GNU_TIME, os.X_OK):
        raise TestFailed("%s is missing (Debian package time)" % GNU_TIME)
    with tempfile.NamedTemporaryFile(mode="r") as report, \
            open(stdin_path or os.devnull, "rb") as infile:
        cmd = [GNU_TIME, "-f", "%M %U %S", "-o", report.name, "--"] + list(argv)
        start = time.monotonic()
        # Its own process group, so that a timeout stops the command too.
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin is not None else infile,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
            seconds = time.monotonic() - start
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        # "Command exited with non-zero status N" may come first.
        fields = report.read().split()[-3:]
    p = subprocess.CompletedProcess(argv, proc.returncode, out, err)
    p.maxrss_kib = int(fields[0])
    p.cpu_seconds = float(fields[1]) + float(fields[2])
    p.seconds = seconds
    return p


def postage(*args, stdin=None, timeout=90, measure=False):
    """Runs the real binary; echoes what it did into the test log. With
    measure=True the result also has .maxrss_kib and .seconds (run_measured)."""
    print("$ postage " + shlex.join(args))
    if measure:
        p = run_measured([POSTAGE] + list(args), stdin=stdin, timeout=timeout)
    else:
        p = subprocess.run([POSTAGE] + list(args), input=stdin, capture_output=True,
                           timeout=timeout)
    p.out = p.stdout.decode("utf-8", "replace")
    p.err = p.stderr.decode("utf-8", "replace")
    for line in p.out.splitlines():
        print("  out| " + line)
    for line in p.err.splitlines():
        print("  err| " + line)
    print("  exit %d" % p.returncode)
    if measure:
        print("  %.1f s, peak RSS %.1f MiB" % (p.seconds, p.maxrss_kib / 1024))
    return p


def add_account(name, email, port, password, security="starttls", user=None,
                display_name=None, host="localhost", ca=True):
    args = ["account", "add", name, "--email", email, "--host", host,
            "--port", str(port), "--security", security, "--password-stdin"]
    if display_name is not None:
        args += ["--display-name", display_name]
    if user is not None:
        args += ["--user", user]
    if ca:
        args += ["--ca-file", ca_file()]
    p = postage(*args, stdin=(password + "\n").encode())
    check_eq(p.returncode, 0, "postage account add %s exits 0" % name)
    return p


def secret_lookup(*attrs):
    """secret-tool lookup ATTR VALUE …: (exit code, secret)."""
    p = subprocess.run(["secret-tool", "lookup"] + list(attrs), capture_output=True,
                       timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def closed_port():
    """A loopback port that refuses connections: bound, never listening.

    Returns the socket too; keep it open so that no one else takes the port.
    """
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def files_under(top, skip=()):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames
                       if os.path.join(dirpath, d) not in skip]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                yield path
