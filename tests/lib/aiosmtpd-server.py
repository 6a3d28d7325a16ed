#!/usr/bin/python3
"""A real submission server on loopback, for the tests and the sandbox (TEST ONLY).

  /usr/bin/python3 tests/lib/aiosmtpd-server.py --cert-dir DIR --user USER \
      --password PASS --spool DIR [--host 127.0.0.1] [--port 0] [--implicit-tls]
      [--cert-name good] [--refuse-while FILE] [--refuse-file FILE]
      [--data-size-limit BYTES] [--stall-while FILE]

Debian's aiosmtpd with a certificate made by `make-certs.sh DIR`: NAME.pem and
NAME.key, by default good.pem/good.key (--cert-name unknown-ca serves one from
an authority the client does not trust). Without --implicit-tls the session starts in cleartext and STARTTLS
is required before anything else; with --implicit-tls TLS starts at the first
byte. AUTH PLAIN and LOGIN are required, and only offered over TLS. The EHLO reply
offers SIZE --data-size-limit (aiosmtpd's 32 MiB unless told; 0 = no limit).

With --refuse-file, FILE is read again at every RCPT TO: each line is an
address, a space and the reply that refuses it (`temp@example.test 451 4.7.1
Try again later`). A test lifts a refusal by rewriting the file; a missing
file refuses nothing.

Once listening it prints exactly `PORT <n>` on stdout. Every accepted message
is kept as SPOOL/NNNN.eml (the bytes received, after dot-unstuffing) and
SPOOL/NNNN.json ({"mail_from", "rcpt_tos", "size"}), both written before the
250 reply goes out. With --refuse-while FILE, every MAIL FROM gets a temporary
"451 4.3.2" while FILE exists (a test's switch for "the server is not
accepting right now"). With --stall-while FILE, a message whose final "."
arrives while FILE exists gets no reply (and is not kept) until FILE is
removed; FILE.held is created meanwhile, so a test knows the "." is in.
SIGTERM or SIGINT stop it.
"""

import argparse
import asyncio
import ipaddress
import json
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import DATA_SIZE_DEFAULT, SMTP, AuthResult, LoginPassword

log = logging.getLogger("postage-test-server")


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Spool:
    """Writes accepted messages into a folder, numbered from 0001."""

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        taken = [int(n[:-4]) for n in os.listdir(folder)
                 if n.endswith(".eml") and n[:-4].isdigit()]
        self.next = max(taken, default=0) + 1

    def _write(self, name, data):
        path = os.path.join(self.folder, name)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
        return path

    def keep(self, mail_from, rcpt_tos, content):
        stem = "%04d" % self.next
        self.next += 1
        path = self._write(stem + ".eml", content)
        meta = {"mail_from": mail_from, "rcpt_tos": list(rcpt_tos), "size": len(content)}
        self._write(stem + ".json", (json.dumps(meta, indent=2) + "\n").encode())
        return stem, path


def read_refusals(path):
    refusals = {}
    if path is None:
        return refusals
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                address, _, reply = line.strip().partition(" ")
                if address and reply:
                    refusals[address.lower()] = reply
    except FileNotFoundError:
        pass
    return refusals


class Handler:
    def __init__(self, spool, refuse_while=None, refuse_file=None, stall_while=None):
        self.spool = spool
        self.refuse_while = refuse_while
        self.refuse_file = refuse_file
        self.stall_while = stall_while

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_while and os.path.exists(self.refuse_while):
            print("refused MAIL FROM <%s>: %s exists" % (address, self.refuse_while),
                  file=sys.stderr, flush=True)
            return "451 4.3.2 Not accepting messages right now (test switch)"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = read_refusals(self.refuse_file).get(address.lower())
        if reply is not None:
            print("refused <%s>: %s" % (address, reply), file=sys.stderr, flush=True)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stall_while and os.path.exists(self.stall_while):
            held = self.stall_while + ".held"
            open(held, "w").close()
            print("stalling after the final dot while %s exists" % self.stall_while,
                  file=sys.stderr, flush=True)
            while os.path.exists(self.stall_while):
                await asyncio.sleep(0.02)
            os.unlink(held)
        content = envelope.original_content
        if content is None:
            content = envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        stem, path = self.spool.keep(envelope.mail_from, envelope.rcpt_tos, content)
        print("received %s from <%s> to %s (%d bytes)"
              % (path, envelope.mail_from,
                 ", ".join("<%s>" % r for r in envelope.rcpt_tos), len(content)),
              file=sys.stderr, flush=True)
        return "250 2.0.0 OK queued as %s" % stem


def make_authenticator(user, password):
    user_b = user.encode()
    password_b = password.encode()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (mechanism in ("PLAIN", "LOGIN")
              and isinstance(auth_data, LoginPassword)
              and auth_data.login == user_b
              and auth_data.password == password_b)
        return AuthResult(success=ok, handled=False)

    return authenticator


def tls_context(cert_dir, cert_name="good"):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(cert_dir, cert_name + ".pem"),
                        os.path.join(cert_dir, cert_name + ".key"))
    return ctx


async def serve(args):
    ctx = tls_context(args.cert_dir, args.cert_name)
    handler = Handler(Spool(args.spool), args.refuse_while, args.refuse_file,
                      args.stall_while)
    authenticator = make_authenticator(args.user, args.password)

    def factory():
        common = dict(loop=loop, hostname="localhost", ident="Postage test server (aiosmtpd)",
                      authenticator=authenticator, auth_required=True,
                      auth_exclude_mechanism=[],
                      data_size_limit=args.data_size_limit or None)
        if args.implicit_tls:
            # The whole connection is TLS, so nothing to upgrade: aiosmtpd
            # cannot see that, hence auth_require_tls=False here.
            return SMTP(handler, auth_require_tls=False, **common)
        return SMTP(handler, tls_context=ctx, require_starttls=True,
                    auth_require_tls=True, **common)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host=args.host, port=args.port,
                                      ssl=ctx if args.implicit_tls else None,
                                      reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write("PORT %d\n" % port)
    sys.stdout.flush()
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cert-dir", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--spool", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--cert-name", default="good",
                   help="serve CERT_DIR/NAME.pem with NAME.key (default: good)")
    p.add_argument("--refuse-while", metavar="FILE",
                   help="answer MAIL FROM with 451 while FILE exists")
    p.add_argument("--data-size-limit", type=int, default=DATA_SIZE_DEFAULT,
                   help="largest message taken, in bytes, offered as SIZE (default: "
                        "aiosmtpd's %d; 0 = no limit)" % DATA_SIZE_DEFAULT)
    p.add_argument("--stall-while", metavar="FILE",
                   help="hold the reply to a message's final dot while FILE exists")
    p.add_argument("--refuse-file",
                   help="refuse the recipients listed in this file (re-read at every RCPT)")
    args = p.parse_args()
    if os.path.basename(args.cert_name) != args.cert_name:
        p.error("--cert-name is a file name in --cert-dir, without .pem")
    if not is_loopback(args.host):
        p.error("--host must be a loopback address (this server is for tests only)")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="aiosmtpd-server: %(message)s")
    # aiosmtpd warns that auth_require_tls=False is unsafe: with implicit TLS it is not.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
