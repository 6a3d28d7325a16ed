"""A private Postfix submission service on loopback, for the `postfix` suite.

Debian's real Postfix (`postfix`, `sasl2-bin`, `libsasl2-modules`), started by the
test as root in an instance of its own: config_directory, queue_directory,
data_directory, the Cyrus sasldb, the TLS certificates, the log and the delivered
mail all live in $POSTAGE_TEST_HOME/postfix (the throw-away profile that
tests/lib/with-session.sh removes). /etc/postfix is only read (Postfix's own
postfix-files list); no system instance is started or touched.

  - STARTTLS port: smtpd_tls_security_level=encrypt, AUTH only after TLS
    (smtpd_tls_auth_only), Cyrus sasldb with PLAIN and LOGIN;
  - implicit TLS port: the same with smtpd_tls_wrappermode=yes;
  - smtpd_sender_login_maps + reject_sender_login_mismatch: a login may only use
    the From addresses listed for it;
  - check_recipient_access: chosen addresses are refused at RCPT;
  - every recipient is delivered by pipe(8) to deliver.py, one copy each, which
    keeps the message as Postfix received it and its envelope.

Both ports are picked free at run time; if one is taken between the pick and
Postfix's bind, new ones are picked. Nothing waits on a fixed clock: delivery
is polled for with a bound.

Lifecycle: `postfix -c DIR start` (it returns once master has bound its ports),
`postfix -c DIR stop` when the `with` block ends, however it ends (SIGTERM, SIGINT
and SIGHUP unwind it too), and then a wait until no process of this instance is
left. If the test is killed outright, reaper.py (a watchdog in a session of its
own) stops the instance when the test's end of a pipe closes.

The profile ($POSTAGE_TEST_HOME) is made 0711 so that Postfix's unprivileged
processes can reach the paths they are given inside it (the sasldb for smtpd,
deliver.py and the spool for pipe running as nobody).
"""

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["POSTAGE_SOURCE_ROOT"], "tests", "integration"))

from harness import TOP, TestFailed, certs, check, read_spool  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = "postfix sasl2-bin libsasl2-modules"
POSTFIX = "/usr/sbin/postfix"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
DAEMON_DIR = "/usr/lib/postfix/sbin"
DOMAIN = "postage.test"
# What pipe(8) runs deliver.py as: never root, never the mail_owner.
DELIVERY_USER = "nobody"


def _terminate(signum, frame):
    # meson's timeout (SIGTERM) or ^C: unwind, so that Postfix is stopped.
    raise SystemExit("killed by signal %d" % signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _terminate)


def _become_subreaper():
    """Postfix's master daemonizes; as a child subreaper this process inherits it
    and can reap it after `postfix stop`, leaving no zombie behind where PID 1
    does not reap (containers). Best effort: Linux only."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def require_postfix():
    """The suite needs Debian's Postfix and Cyrus SASL: fail loudly without them."""
    missing = [p for p in (POSTFIX, SASLPASSWD2, os.path.join(DAEMON_DIR, "smtpd"),
                           os.path.join(DAEMON_DIR, "pipe"))
               if not os.access(p, os.X_OK)]
    plugins = {name: glob.glob("/usr/lib/*/sasl2/lib%s.so*" % name) + glob.glob(
        "/usr/lib/sasl2/lib%s.so*" % name) for name in ("sasldb", "plain", "login")}
    missing += ["Cyrus SASL plugin %s" % n for n, found in plugins.items() if not found]
    if missing:
        raise TestFailed("Postfix interop needs Debian's %s (missing: %s). Install them with:"
                         " echo 'postfix postfix/main_mailer_type select No configuration'"
                         " | debconf-set-selections; DEBIAN_FRONTEND=noninteractive"
                         " apt-get install -y %s" % (PACKAGES, ", ".join(missing), PACKAGES))
    if os.geteuid() != 0:
        raise TestFailed("the postfix suite starts a private Postfix instance, which needs root")
    for user in ("postfix", DELIVERY_USER):
        try:
            pwd.getpwnam(user)
        except KeyError:
            raise TestFailed("there is no '%s' user (the postfix package creates it)" % user)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, what, stdin=None, check_rc=True):
    p = subprocess.run(args, input=stdin if stdin is not None else b"", capture_output=True,
                       timeout=60)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    if check_rc and p.returncode != 0:
        raise TestFailed("%s failed (exit %d): %s" % (what, p.returncode, out.strip()))
    return p.returncode, out


MAIN_CF = """\
# Private Postfix instance for Postage's `postfix` test suite (TEST ONLY).
compatibility_level = 3.6
config_directory = {etc}
queue_directory = {base}/queue
data_directory = {base}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {base}
maillog_file = {base}/maillog
myhostname = mail.{domain}
mydomain = {domain}
myorigin = $mydomain
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_peername_lookup = no
biff = no
# Headers stay as the client wrote them (no rewriting for local clients).
local_header_rewrite_clients =
# Every recipient, in any domain, goes to deliver.py, one delivery each.
default_transport = postagesave
postagesave_destination_recipient_limit = 1
smtputf8_enable = yes
message_size_limit = 10240000

smtpd_banner = $myhostname ESMTP Postfix (Postage test instance)
smtpd_tls_chain_files = {certs}/good.key, {certs}/good.pem
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_protocols = >=TLSv1.2

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {etc}/sasl
smtpd_sasl_security_options = noanonymous
broken_sasl_auth_clients = {broken_sasl}
smtpd_delay_reject = {delay_reject}
smtpd_sender_login_maps = texthash:{etc}/sender_logins

smtpd_sender_restrictions = reject_sender_login_mismatch, permit_sasl_authenticated, reject
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = check_recipient_access texthash:{etc}/recipient_access,
    permit_sasl_authenticated, reject
"""

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:{submission} inet n   -       n       -       -       smtpd
  -o syslog_name=postfix/submission
127.0.0.1:{submissions} inet n  -       n       -       -       smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
postagesave unix -      n       n       -       -       pipe
  user={delivery_user} argv=/usr/bin/python3 {base}/deliver.py {spool} ${{queue_id}} ${{sender}} ${{recipient}}
"""

SMTPD_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: {mechs}
sasldb_path: {sasldb}
"""

QUEUES = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt")


class Postfix:
    """A running private Postfix; use as a context manager (stopped on exit).

    logins:       {address: password}: Cyrus sasldb users (address = user@realm);
                  each may send From its own address only.
    reject_rcpts: {address: "5NN x.y.z text"}: refused at RCPT by check_recipient_access.
    mechs:        the SASL mechanisms offered (Cyrus mech_list).
    broken_sasl:  also advertise the old `AUTH=` form (broken_sasl_auth_clients).
    delay_reject: Postfix's default (yes): sender restrictions answer at RCPT
                  time; no: a refused sender is answered at MAIL FROM.
    """

    def __init__(self, logins, reject_rcpts=None, mechs="PLAIN LOGIN", broken_sasl=False,
                 delay_reject=True):
        require_postfix()
        self.base = os.path.join(TOP, "postfix")
        if os.path.exists(self.base):
            raise TestFailed("one Postfix instance per test: %s exists" % self.base)
        self.etc = os.path.join(self.base, "etc")
        self.spool = os.path.join(self.base, "spool")
        self.log = os.path.join(self.base, "maillog")
        self.started = False
        self.pid = None
        self._reaper = None
        self._reaper_pipe = None
        nobody = pwd.getpwnam(DELIVERY_USER)
        postfix = pwd.getpwnam("postfix")

        # The profile is root's and 0700; Postfix's unprivileged processes (smtpd
        # reading the sasldb, pipe running deliver.py as nobody) must get through
        # it. 0711 lets them reach only the paths they are given.
        os.chmod(TOP, 0o711)
        os.mkdir(self.base, 0o755)
        os.mkdir(self.etc, 0o755)
        os.mkdir(os.path.join(self.base, "queue"), 0o755)  # post-install fills it
        os.mkdir(self.spool, 0o755)
        os.chown(self.spool, nobody.pw_uid, nobody.pw_gid)
        shutil.copy(os.path.join(HERE, "deliver.py"), os.path.join(self.base, "deliver.py"))
        os.chmod(os.path.join(self.base, "deliver.py"), 0o644)

        # TLS: good.pem is for localhost / 127.0.0.1, signed by the test CA.
        self.certs = os.path.join(self.base, "certs")
        shutil.copytree(certs(), self.certs)

        # Cyrus SASL: smtpd (as postfix) reads smtpd.conf and the sasldb.
        # (Debian's Postfix reads $config_directory/sasl/smtpd.conf whatever
        # cyrus_sasl_config_path says; both point there.)
        sasl = os.path.join(self.etc, "sasl")
        os.mkdir(sasl, 0o750)
        os.chown(sasl, 0, postfix.pw_gid)
        sasldb = os.path.join(sasl, "sasldb2")
        for address, password in logins.items():
            user, realm = address.rsplit("@", 1)
            run([SASLPASSWD2, "-p", "-c", "-f", sasldb, "-u", realm, user],
                "saslpasswd2 for %s" % address, stdin=password.encode() + b"\n")
        os.chown(sasldb, 0, postfix.pw_gid)
        os.chmod(sasldb, 0o640)
        with open(os.path.join(sasl, "smtpd.conf"), "w") as f:
            f.write(SMTPD_CONF.format(mechs=mechs, sasldb=sasldb))
        _, users = run(["/usr/sbin/sasldblistusers2", "-f", sasldb], "sasldblistusers2")
        print("sasldb users: " + ", ".join(users.split()))

        with open(os.path.join(self.etc, "sender_logins"), "w") as f:
            for address in logins:
                f.write("%s %s\n" % (address, address))
        with open(os.path.join(self.etc, "recipient_access"), "w") as f:
            for address, reply in (reject_rcpts or {}).items():
                f.write("%s %s\n" % (address, reply))
            f.write("# nothing else is refused\n")

        self.main_cf = MAIN_CF.format(etc=self.etc, base=self.base, domain=DOMAIN,
                                      certs=self.certs,
                                      broken_sasl="yes" if broken_sasl else "no",
                                      delay_reject="yes" if delay_reject else "no")
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(self.main_cf)
        _become_subreaper()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        for attempt in range(5):
            self.port = free_port()
            self.tls_port = free_port()
            if self.port == self.tls_port:
                continue
            with open(os.path.join(self.etc, "master.cf"), "w") as f:
                f.write(MASTER_CF.format(submission=self.port, submissions=self.tls_port,
                                         delivery_user=DELIVERY_USER, base=self.base,
                                         spool=self.spool))
            # `postfix start` runs master -w: it returns once master has bound the
            # listeners (exit 0), or failed to (exit 1, the reason in the log).
            logged = len(self.read_log())
            rc, out = run([POSTFIX, "-c", self.etc, "start"], "postfix start", check_rc=False)
            self.started = True
            if rc == 0:
                self.pid = self._read_pid()
                self._start_reaper()
                print("postfix: private instance (master pid %d) on 127.0.0.1:%d (STARTTLS)"
                      " and 127.0.0.1:%d (implicit TLS), in %s"
                      % (self.pid, self.port, self.tls_port, self.base))
                self._wait_for_greeting()
                return
            if "Address already in use" in out + self.read_log()[logged:]:
                print("postfix: a picked port was taken meanwhile; picking others")
                continue
            # Errors found before the log file is set up go to syslog only;
            # postconf names configuration mistakes on stderr.
            _, conf = run(["/usr/sbin/postconf", "-c", self.etc, "-n"], "postconf",
                          check_rc=False)
            warnings = "\n".join(l for l in conf.splitlines() if "warning" in l or "fatal" in l)
            raise TestFailed("postfix start failed (exit %d): %s\n%s--- maillog ---\n%s"
                             % (rc, out.strip(), warnings + "\n" if warnings else "",
                                self.read_log()))
        raise TestFailed("postfix could not bind free loopback ports after 5 attempts")

    def _start_reaper(self):
        """reaper.py stops this master if the test dies without stopping it."""
        r, self._reaper_pipe = os.pipe()
        self._reaper = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "reaper.py"), self.etc, str(self.pid)],
            stdin=r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        os.close(r)

    def _read_pid(self):
        with open(os.path.join(self.base, "queue", "pid", "master.pid")) as f:
            return int(f.read().split()[0])

    def _wait_for_greeting(self, bound=30):
        """The STARTTLS port's 220 greeting, polled for with a bound."""
        deadline = time.monotonic() + bound
        last = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    greeting = s.recv(512)
                    s.sendall(b"QUIT\r\n")
                if greeting.startswith(b"220 "):
                    print("postfix: greeting %r" % greeting.decode().strip())
                    return
                last = greeting
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise TestFailed("no 220 greeting from Postfix within %ds (last: %r)\n--- maillog ---\n%s"
                         % (bound, last, self.read_log()))

    def processes(self):
        """Live processes of this instance: Postfix programs whose environment
        says MAIL_CONFIG=<our config_directory>."""
        marker = ("MAIL_CONFIG=" + self.etc).encode()
        out = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                exe = os.readlink("/proc/%s/exe" % name)
                with open("/proc/%s/environ" % name, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if exe.startswith(DAEMON_DIR + "/") and marker in env and _alive(int(name)):
                out.append(int(name))
        return out

    def _reap_orphans(self):
        """Reaps our zombie children that no Popen waits for: master and its
        daemons, which come to us as their subreaper (see _become_subreaper)."""
        me = str(os.getpid())
        keep = {self._reaper.pid} if self._reaper is not None else set()
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) in keep:
                continue
            try:
                with open("/proc/%s/stat" % name) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z" and fields[1] == me:
                try:
                    os.waitpid(int(name), os.WNOHANG)
                except ChildProcessError:
                    pass

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def queued(self):
        """Paths of the messages still in Postfix's queue."""
        out = []
        for q in QUEUES:
            for dirpath, _, filenames in os.walk(os.path.join(self.base, "queue", q)):
                out += [os.path.join(dirpath, n) for n in filenames]
        return out

    def messages(self):
        """[(message bytes, envelope dict)], one per delivered recipient."""
        return read_spool(self.spool)

    def wait_for_delivery(self, count, bound=60):
        """Polls (with a bound) until `count` deliveries exist and the queue is empty."""
        deadline = time.monotonic() + bound
        while True:
            msgs = self.messages()
            queued = self.queued()
            if len(msgs) >= count and not queued:
                break
            if time.monotonic() > deadline:
                raise TestFailed("after %ds: %d of %d deliveries, %d message(s) still queued"
                                 "\n--- maillog ---\n%s"
                                 % (bound, len(msgs), count, len(queued), self.read_log()))
            time.sleep(0.05)
        check(len(msgs) == count, "Postfix delivered exactly %d copies (got %d: %s)"
              % (count, len(msgs), ", ".join(sorted(env["rcpt_to"] for _, env in msgs))))
        return msgs

    def stop(self):
        if not self.started:
            return
        self.started = False
        rc, out = run([POSTFIX, "-c", self.etc, "stop"], "postfix stop", check_rc=False)
        if self.pid is not None:
            deadline = time.monotonic() + 30
            while _alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(self.pid):
                print("postfix: master %d still running after stop; aborting it" % self.pid)
                run([POSTFIX, "-c", self.etc, "abort"], "postfix abort", check_rc=False)
                try:
                    os.killpg(self.pid, signal.SIGKILL)  # master leads its own group
                except ProcessLookupError:
                    pass
        # master's daemons (smtpd, qmgr, …) finish just after it: wait for the
        # last process of this instance, reaping those that were handed to us.
        deadline = time.monotonic() + 15
        while True:
            pids = self.processes()
            self._reap_orphans()
            if not pids:
                break
            if time.monotonic() > deadline:
                print("postfix: processes %s outlived master; killing them" % pids)
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                deadline += 15
            time.sleep(0.05)
        if self._reaper is not None:
            os.close(self._reaper_pipe)
            try:
                self._reaper.wait(timeout=60)
            except subprocess.TimeoutExpired:
                print("postfix: reaper %d did not finish" % self._reaper.pid)
            self._reaper = None
        print("postfix: stopped%s" % (" (%s)" % out.strip() if out.strip() else ""))
        print("--- Postfix maillog ---")
        print(self.read_log().rstrip())
        print("--- end of maillog ---")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes (master is not our child anyway).
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def strip_received(raw):
    """The message minus the Received: header Postfix put on top (LF line ends)."""
    head, sep, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    check(lines[0].startswith(b"Received: from "), "Postfix prepended its Received: header")
    i = 1
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        i += 1
    return b"\n".join(lines[i:]) + sep + body
