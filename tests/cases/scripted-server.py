#!/usr/bin/python3
"""Plays one SMTP dialogue case (see README.md beside this file) as the server.

As a program it listens on 127.0.0.1, prints the port, plays one connection and
prints the log and the verdict:

    scripted-server.py CASE.smtp [--certs DIR] [--port-file FILE]

run-case.py imports it as a module (load_case, Server) to run the same server
in a thread next to the real client.

Standard library only: this runs with Debian's /usr/bin/python3.
"""

import argparse
import base64
import binascii
import email
import email.header
import email.policy
import os
import re
import select
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import traceback

READ_TIMEOUT = 10.0     # seconds the client gets for each line (README: 10 s)
MAX_LINE = 1 << 20      # a "line" longer than this is a runaway client, not SMTP

DEFAULT_ACCOUNT = {
    'security': 'starttls',
    'email': b'you@example.test',
    'name': b'You',
    'user': b'you@example.test',
    'password': b'app-specific-pass-1234',
    'verbose': b'',
    'timeout': b'',         # run-case.py: `postage send --timeout N` (default: its own)
    'fingerprint': b'',     # run-case.py: `--fingerprint` (@NAME: that test certificate's)
}
DEFAULT_MESSAGE = {
    'to': b'Friend <friend@example.test>',
    'subject': b'Hello',
    'body': b'This is an extremely important message.',
}
ACCOUNT_KEYS = ('security', 'email', 'name', 'user', 'verbose', 'timeout', 'fingerprint')
MESSAGE_KEYS = ('to', 'cc', 'bcc', 'subject', 'body-file', 'body', 'attach')

# Dialogue steps that read from the client: where a C? line that did not
# match hands its line on to.
READING_STEPS = ('C:', 'C?', 'AUTH', 'EOF')


class CaseError(Exception):
    """The case file itself is malformed."""


class Fail(Exception):
    """The client did something the script does not allow."""


# --------------------------------------------------------------------------
# The case file

def unescape(text):
    """The escapes of `S~` and of header values: \\r \\n \\t \\\\ \\xNN. Returns bytes."""
    out = bytearray()
    raw = text.encode('utf-8')
    i = 0
    while i < len(raw):
        c = raw[i:i + 1]
        if c != b'\\' or i + 1 == len(raw):
            out += c
            i += 1
            continue
        nxt = raw[i + 1:i + 2]
        simple = {b'r': b'\r', b'n': b'\n', b't': b'\t', b'\\': b'\\'}
        if nxt in simple:
            out += simple[nxt]
            i += 2
        elif nxt == b'x' and re.fullmatch(rb'[0-9A-Fa-f]{2}', raw[i + 2:i + 4]):
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            raise CaseError('unknown escape in %r' % text)
    return bytes(out)


def parse_pairs(text, keys):
    """`key=value key=value …`: a value runs to the next ` key=` of a known key."""
    alternatives = '|'.join(re.escape(k) for k in keys)
    marker = re.compile(r'(?:^| )(%s)=' % alternatives)
    found = list(marker.finditer(text))
    if not found or found[0].start() != 0:
        raise CaseError('cannot read %r (known keys: %s)' % (text, ', '.join(keys)))
    pairs = {}
    for m, nxt in zip(found, found[1:] + [None]):
        end = nxt.start() if nxt else len(text)
        pairs[m.group(1)] = unescape(text[m.end():end])
    return pairs


class Case:
    """A parsed *.smtp file: its headers and its dialogue steps."""

    def __init__(self, path):
        self.path = path
        self.dir = os.path.dirname(os.path.abspath(path))
        self.name = os.path.basename(path)
        self.title = ''
        self.expect = None
        self.server_cert = 'good'
        self.shows = []
        self.never = []
        self.never_shown = []
        self.account = dict(DEFAULT_ACCOUNT)
        self.message = dict(DEFAULT_MESSAGE)
        self.steps = []          # (keyword, argument, line number)

    @property
    def noconnect(self):
        return [s[0] for s in self.steps] == ['NOCONNECT']


def load_case(path):
    case = Case(path)
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    in_headers = True
    for number, line in enumerate(lines, 1):
        if in_headers and line.startswith('#'):
            read_header(case, line)
            continue
        in_headers = False
        if line.strip() == '':
            continue
        case.steps.append(parse_step(line, number))
    if case.expect not in ('sent', 'retry', 'failed'):
        raise CaseError('%s: no valid "# expect:" header' % path)
    if 'NOCONNECT' in [s[0] for s in case.steps] and not case.noconnect:
        raise CaseError('%s: NOCONNECT must be the only dialogue line' % path)
    return case


def read_header(case, line):
    m = re.match(r'#\s*([a-z-]+):\s?(.*)$', line)
    if not m:
        return                          # a plain comment
    key, value = m.group(1), m.group(2)
    if key == 'title':
        case.title = value
    elif key == 'expect':
        case.expect = value.strip()
    elif key == 'server-cert':
        case.server_cert = value.strip()
    elif key == 'shows':
        case.shows.append(value)
    elif key == 'never':
        case.never.append(value)
    elif key == 'never-shown':
        case.never_shown.append(value)
    elif key == 'account':
        pairs = parse_pairs(value, ACCOUNT_KEYS)
        if 'security' in pairs:
            pairs['security'] = pairs['security'].decode()
        case.account.update(pairs)
    elif key == 'message':
        case.message.update(parse_pairs(value, MESSAGE_KEYS))
    # source:, note: and unknown keys only inform the reader


def parse_step(line, number):
    """One dialogue line as (keyword, argument, line number)."""
    for prefix in ('S:', 'S~', 'C:', 'C?', 'BODY-HAS:', 'BODY-LACKS:', 'DECODED-HAS:'):
        if line == prefix or line.startswith(prefix + ' '):
            return (prefix, line[len(prefix) + 1:], number)
    word, _, arg = line.partition(' ')
    if word in ('SLEEP', 'QUIET'):
        if not arg.isdigit():
            raise CaseError('line %d: %s needs milliseconds' % (number, word))
        return (word, int(arg), number)
    if word in ('DATA', 'AUTH', 'TLS', 'CLOSE', 'RESET', 'EOF', 'NOCONNECT') and not arg:
        return (word, None, number)
    raise CaseError('line %d: unknown dialogue line %r' % (number, line))


# --------------------------------------------------------------------------
# Matching and showing

def glob_matches(pattern, text):
    """`*` any run, `?` one character, everything else literal, case-sensitive."""
    regex = ''.join('.*' if c == '*' else '.' if c == '?' else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def as_text(data):
    return data.decode('utf-8', 'surrogateescape')


def show(data, limit=300):
    """Bytes as a readable one-line string for the log."""
    text = repr(bytes(data[:limit]))[2:-1]
    return text + ('…(%d bytes)' % len(data) if len(data) > limit else '')


# --------------------------------------------------------------------------
# The message as a reader sees it

def decode_rfc2047(value):
    """Header text with its encoded words decoded (for when email's parser gives up)."""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception:                   # a broken word stays as it is
        return value


def decoded_lines(content):
    """Every header unfolded and decoded, then each part's content with its
    transfer encoding undone, as UTF-8 text lines."""
    msg = email.message_from_bytes(content, policy=email.policy.default)
    lines = []
    for part in msg.walk():
        for name, raw in part.raw_items():
            try:
                value = str(part.policy.header_fetch_parse(name, raw))
            except Exception:
                value = decode_rfc2047(re.sub(r'\r?\n(?=[ \t])', '', raw))
            lines.append('%s: %s' % (name, value))
        if not part.is_multipart():
            payload = part.get_payload(decode=True) or b''
            lines.extend(re.split(r'\r\n|\r|\n', payload.decode('utf-8', 'replace')))
    return lines


# --------------------------------------------------------------------------
# The connection

class Connection:
    """One accepted client: a line reader over a plain or TLS socket that
    records every byte the client sent (decrypted, for TLS)."""

    def __init__(self, sock, log):
        self.sock = sock
        self.log = log
        self.buf = bytearray()
        self.received = bytearray()
        self.tls = False
        self.peer_closed = False
        self.write_shut = False      # we sent our FIN (CLOSE)
        self.gone = False            # reset, or closed for good

    def _recv(self, timeout, record=True):
        """One read into the buffer; False at EOF. Raises TimeoutError."""
        if self.peer_closed:
            return False
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except (ConnectionError, ssl.SSLError) as e:
            # a reset, or a TLS alert: both end the conversation
            self.log('   (connection ended: %s)' % e)
            data = b''
        if not data:
            self.peer_closed = True
            return False
        if record:
            self.buf += data
            self.received += data
        return True

    def read_line(self, what):
        """The client's next line, LF included; b'' at EOF; a partial line if
        the client closed in the middle of one."""
        deadline = time.monotonic() + READ_TIMEOUT
        while b'\n' not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise Fail('client sent %d bytes without a line end' % len(self.buf))
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError()
                more = self._recv(left)
            except TimeoutError:
                raise Fail('client sent no line for %d s while the script waited for %s%s'
                           % (READ_TIMEOUT, what,
                              ' (it had sent %s)' % show(self.buf) if self.buf else ''))
            if not more:
                line, self.buf = bytes(self.buf), bytearray()
                return line
        end = self.buf.index(b'\n') + 1
        line = bytes(self.buf[:end])
        del self.buf[:end]
        return line

    def write(self, data):
        try:
            self.sock.settimeout(READ_TIMEOUT)   # the last read may have left a short one
            self.sock.sendall(data)
        except (ConnectionError, ssl.SSLError, TimeoutError) as e:
            # the client went away first; the next read reports it (after
            # whatever it sent before going)
            self.log('   (could not send: %s)' % e)

    def quiet(self, ms):
        """Fails if the client sends anything or closes within ms."""
        if self.buf:
            raise Fail('client sent %s where the script wants silence' % show(self.buf))
        deadline = time.monotonic() + ms / 1000
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                more = self._recv(left)
            except TimeoutError:
                return
            if more:
                raise Fail('client sent %s during a QUIET %d ms' % (show(self.buf), ms))
            raise Fail('client closed the connection during a QUIET %d ms' % ms)

    def start_tls(self, context):
        if self.buf:
            raise Fail('client sent %s before the TLS handshake' % show(self.buf))
        self.sock = context.wrap_socket(self.sock, server_side=True,
                                        do_handshake_on_connect=False)
        self.sock.settimeout(READ_TIMEOUT)
        self.sock.do_handshake()
        self.tls = True

    def close_fin(self):
        """A TCP FIN, with no TLS close_notify (a dup'd descriptor keeps the TLS
        object usable for reading what the client still says)."""
        if self.write_shut or self.gone:
            return
        dup = socket.fromfd(self.sock.fileno(), socket.AF_INET, socket.SOCK_STREAM)
        try:
            dup.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            dup.close()
        self.write_shut = True

    def reset(self):
        # SO_LINGER on, 0 s: close() sends RST instead of FIN
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.sock.close()
        self.gone = True

    def finish(self):
        """The end of the script: a polite close (close_notify under TLS, then
        FIN), and the client must close its side too within the timeout."""
        if self.gone:
            return
        # raw TLS records after close_notify are not the client's words
        record = True
        if self.tls and not self.write_shut and not self.peer_closed and not self.buf:
            try:
                self.sock.settimeout(READ_TIMEOUT)
                self.sock = self.sock.unwrap()
                record = False
            except (OSError, ValueError):
                pass                    # the client closed first, or sent more: seen below
        self.close_fin()
        deadline = time.monotonic() + READ_TIMEOUT
        try:
            while self._recv(deadline - time.monotonic(), record):
                if time.monotonic() > deadline:
                    raise TimeoutError()
        except TimeoutError:
            raise Fail('client kept the connection open %d s after the script ended'
                       % READ_TIMEOUT)
        finally:
            self.sock.close()
            self.gone = True
        if self.buf:
            self.log('   (client sent %s after the end of the script)' % show(self.buf))

    def close(self):
        if not self.gone:
            try:
                self.sock.close()
            except OSError:
                pass
            self.gone = True


# --------------------------------------------------------------------------
# The player

class Server:
    """Listens on 127.0.0.1 and plays one case to the first connection."""

    def __init__(self, case, cert_dir):
        self.case = case
        self.cert_dir = cert_dir
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.lines = []                 # the log
        self.failure = None             # why the case failed, or None
        self.received = b''             # every byte the client sent
        self.finished = False           # the script ran to its end
        self.conn = None
        self.eight_bit = False          # MAIL FROM carried BODY=8BITMIME or SMTPUTF8
        self.content = None             # the last DATA, unstuffed

    def log(self, text):
        self.lines.append(text)

    # -- accepting

    def serve(self, stop_fd=None):
        """Waits for the client (until stop_fd is readable: the client is gone)
        and plays the script. Sets self.failure on a mismatch."""
        waiting = [self.listener] + ([stop_fd] if stop_fd is not None else [])
        readable, _, _ = select.select(waiting, [], [])
        if self.listener not in readable:
            if not self.case.noconnect:
                self.failure = 'the client never connected'
            else:
                self.finished = True
            return
        sock, peer = self.listener.accept()
        self.log('-- connection from %s:%d' % peer)
        if self.case.noconnect:
            sock.close()
            self.failure = 'the client connected although it should have refused the input'
            return
        self.conn = Connection(sock, self.log)
        try:
            self.play()
            self.conn.finish()
            self.finished = True
            self.log('-- end of script')
        except Fail as e:
            self.failure = str(e)
            self.log('!! FAIL: %s' % e)
        except CaseError as e:
            self.failure = 'bad case file: %s' % e
        except Exception:
            # a bug of this server, never a pass
            self.failure = 'the scripted server broke:\n' + traceback.format_exc()
        finally:
            self.conn.close()
            self.received = bytes(self.conn.received)

    def extra_connections(self):
        """Connections made after the first one (the listener queues them)."""
        self.listener.setblocking(False)
        count = 0
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, OSError):
                return count
            count += 1
            sock.setblocking(True)
            sock.settimeout(0.5)
            try:
                self.received += sock.recv(65536)   # recorded for the `never:` checks
            except OSError:
                pass
            sock.close()

    # -- the dialogue

    def play(self):
        steps = self.case.steps
        pending = None                  # a client line a C? did not take
        i = 0
        while i < len(steps):
            kind, arg, number = steps[i]
            if pending is not None and kind not in READING_STEPS:
                i += 1                  # skipping to the step that gets the line
                continue
            if kind in ('S:', 'S~'):
                i = self.send_lines(i)
                continue
            if kind == 'C?':
                line = pending if pending is not None else self.read_line(arg)
                pending = None
                if line and self.line_matches(line, arg):
                    self.expect_line(line, arg)
                else:
                    self.log('   (optional %r not sent)' % arg)
                    pending = line
            elif kind == 'C:':
                line = pending if pending is not None else self.read_line(arg)
                pending = None
                self.expect_line(line, arg)
            elif kind == 'AUTH':
                self.authenticate(pending)
                pending = None
            elif kind == 'EOF':
                self.expect_eof(pending)
                pending = None
            elif kind == 'TLS':
                if self.start_tls(i):
                    i += 1              # the handshake was broken off: that was the EOF
            elif kind == 'DATA':
                self.read_data()
            elif kind in ('BODY-HAS:', 'BODY-LACKS:', 'DECODED-HAS:'):
                self.check_content(kind, arg)
            elif kind == 'SLEEP':
                time.sleep(arg / 1000)
            elif kind == 'QUIET':
                self.conn.quiet(arg)
                self.log('   (quiet for %d ms)' % arg)
            elif kind == 'CLOSE':
                self.conn.close_fin()
                self.log('-- server closes (FIN)')
            elif kind == 'RESET':
                self.conn.reset()
                self.log('-- server resets the connection (RST)')
            i += 1
        if pending is not None:
            raise Fail('client sent %s after the last line the script reads'
                       % (show(pending) if pending else 'EOF'))

    def send_lines(self, i):
        """Consecutive S:/S~ lines go out in one write. Returns the next index."""
        out = bytearray()
        steps = self.case.steps
        while i < len(steps) and steps[i][0] in ('S:', 'S~'):
            kind, arg, _ = steps[i]
            data = arg.encode('utf-8') + b'\r\n' if kind == 'S:' else unescape(arg)
            self.log('S: %s' % show(data))
            out += data
            i += 1
        if self.conn.gone or self.conn.write_shut:
            raise CaseError('the script sends after closing the connection')
        self.conn.write(bytes(out))
        return i

    def read_line(self, what):
        if self.conn.gone:
            raise CaseError('the script reads after a RESET')
        return self.conn.read_line(repr(what))

    def line_matches(self, line, pattern):
        return line.endswith(b'\r\n') and glob_matches(pattern, as_text(line[:-2]))

    def expect_line(self, line, pattern):
        """A C: line: the client's line must end in CRLF and match the glob."""
        if not line:
            raise Fail('client closed the connection; the script expected %r' % pattern)
        self.log('C: %s' % show(line))
        if not line.endswith(b'\n'):
            raise Fail('client closed in the middle of a line %s; the script expected %r'
                       % (show(line), pattern))
        if not line.endswith(b'\r\n'):
            raise Fail('client line %s ends in a bare LF, not CRLF' % show(line))
        if not glob_matches(pattern, as_text(line[:-2])):
            raise Fail('client sent %s; the script expected %r' % (show(line[:-2]), pattern))
        self.note_mail_from(line[:-2])

    def note_mail_from(self, text):
        """Remembers whether MAIL FROM allowed 8-bit content."""
        if text[:10].upper() != b'MAIL FROM:':
            return
        params = text.rpartition(b'>')[2].upper().split()
        self.eight_bit = b'BODY=8BITMIME' in params or b'SMTPUTF8' in params

    def expect_eof(self, pending):
        """The client must close without sending more (within the timeout)."""
        if self.conn.gone:
            return
        line = pending if pending is not None else self.read_line('the client to close')
        if line:
            raise Fail('client sent %s; the script expected it to close' % show(line))
        self.log('-- client closed')

    # -- TLS

    def start_tls(self, i):
        """The server side of a handshake. Returns True when the client broke
        it off and the script's next line is EOF, which that close satisfies."""
        name = self.case.server_cert
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(self.cert_dir, name + '.pem'),
                                os.path.join(self.cert_dir, name + '.key'))
        next_is_eof = i + 1 < len(self.case.steps) and self.case.steps[i + 1][0] == 'EOF'
        try:
            self.conn.start_tls(context)
        except TimeoutError:
            raise Fail('TLS handshake: the client sent nothing for %d s' % READ_TIMEOUT)
        except (ssl.SSLError, ConnectionError, OSError) as e:
            if next_is_eof:
                self.log('-- TLS handshake (%s cert) broken off by the client: %s' % (name, e))
                self.conn.peer_closed = True
                return True
            raise Fail('TLS handshake with the %s certificate failed: %s' % (name, e))
        self.log('-- TLS handshake done (%s, %s cert)' % (self.conn.sock.version(), name))
        return False

    # -- AUTH

    def authenticate(self, pending):
        """Any form of AUTH PLAIN or LOGIN; checks the account's user and password."""
        line = pending if pending is not None else self.read_line('AUTH')
        self.expect_line(line, 'AUTH *')
        words = as_text(line[:-2]).split(' ')
        mechanism = words[1].upper()
        initial = words[2] if len(words) > 2 else None
        if len(words) > 3:
            raise Fail('AUTH line has extra words: %s' % show(line))
        if mechanism == 'PLAIN':
            if initial is None:
                self.conn.write(b'334 \r\n')
                self.log('S: 334 ')
                initial = self.read_auth_response('the AUTH PLAIN response')
            parts = self.b64(initial, 'AUTH PLAIN').split(b'\0')
            if len(parts) != 3:
                raise Fail('AUTH PLAIN response is not authzid NUL user NUL password')
            user, password = parts[1], parts[2]
        elif mechanism == 'LOGIN':
            if initial is None:
                self.conn.write(b'334 VXNlcm5hbWU6\r\n')
                self.log('S: 334 VXNlcm5hbWU6')
                initial = self.read_auth_response('the AUTH LOGIN user name')
            user = self.b64(initial, 'AUTH LOGIN user name')
            self.conn.write(b'334 UGFzc3dvcmQ6\r\n')
            self.log('S: 334 UGFzc3dvcmQ6')
            password = self.b64(self.read_auth_response('the AUTH LOGIN password'),
                                'AUTH LOGIN password')
        else:
            raise Fail('client chose AUTH %s; the script plays PLAIN and LOGIN' % mechanism)
        if user != self.case.account['user']:
            raise Fail('AUTH %s user name is %r, the account says %r'
                       % (mechanism, user, self.case.account['user']))
        if password != self.case.account['password']:
            raise Fail('AUTH %s password is not the account\'s' % mechanism)
        self.log('   (AUTH %s: user and password are right)' % mechanism)

    def read_auth_response(self, what):
        line = self.read_line(what)
        if not line:
            raise Fail('client closed the connection; the script expected %s' % what)
        self.log('C: %s' % show(line))
        if not line.endswith(b'\r\n'):
            raise Fail('%s does not end in CRLF: %s' % (what, show(line)))
        if line == b'*\r\n':
            raise Fail('client cancelled the AUTH exchange')
        return as_text(line[:-2])

    @staticmethod
    def b64(text, what):
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise Fail('%s is not valid base64: %r' % (what, text))

    # -- DATA

    def read_data(self):
        """Reads to the lone dot, checks every line, undoes dot-stuffing."""
        problems = []
        content = []
        count = 0
        while True:
            line = self.read_line('the message content')
            if not line:
                raise Fail('client closed the connection in the middle of DATA')
            if not line.endswith(b'\n'):
                raise Fail('client closed in the middle of a DATA line %s' % show(line))
            count += 1
            body = line[:-2] if line.endswith(b'\r\n') else line[:-1]
            if not line.endswith(b'\r\n'):
                problems.append('line %d ends in a bare LF: %s' % (count, show(line)))
            if b'\r' in body:
                problems.append('line %d holds a bare CR: %s' % (count, show(line)))
            if len(body) > 998:
                problems.append('line %d is %d octets long (over 998)' % (count, len(body)))
            if not self.eight_bit and any(b > 0x7F for b in body):
                problems.append('line %d has 8-bit bytes but MAIL FROM had neither '
                                'BODY=8BITMIME nor SMTPUTF8: %s' % (count, show(body)))
            if body == b'.' and line.endswith(b'\r\n'):
                break
            content.append(body[1:] if body.startswith(b'.') else body)
        self.content = b'\r\n'.join(content) + (b'\r\n' if content else b'')
        self.log('C: (%d lines of content, %d octets after unstuffing)'
                 % (count - 1, len(self.content)))
        if problems:
            raise Fail('the message content breaks SMTP: ' + '; '.join(problems[:5])
                       + (' (and %d more)' % (len(problems) - 5) if len(problems) > 5 else ''))

    def check_content(self, kind, pattern):
        if self.content is None:
            raise CaseError('%s before any DATA' % kind)
        if kind == 'DECODED-HAS:':
            lines = decoded_lines(self.content)
        else:
            lines = [as_text(l) for l in self.content.split(b'\r\n')[:-1]]
        hits = [l for l in lines if glob_matches(pattern, l)]
        if kind == 'BODY-LACKS:' and hits:
            raise Fail('the message has a line %r matching BODY-LACKS %r' % (hits[0], pattern))
        if kind != 'BODY-LACKS:' and not hits:
            shown = '\n      '.join(l[:200] for l in lines[:80])
            raise Fail('no line of the message%s matches %r; the lines are:\n      %s'
                       % (' (decoded)' if kind == 'DECODED-HAS:' else '', pattern, shown))
        self.log('   (%s %r: ok)' % (kind[:-1], pattern))


# --------------------------------------------------------------------------
# By hand

def make_certs(directory):
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, '..', 'lib', 'make-certs.sh')
    subprocess.run(['sh', script, directory], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('case')
    parser.add_argument('--certs', help='folder made by tests/lib/make-certs.sh '
                        '(default: made afresh in a temporary folder)')
    parser.add_argument('--port-file', help='also write the port to this file')
    args = parser.parse_args()
    case = load_case(args.case)
    with tempfile.TemporaryDirectory(prefix='postage-certs.') as tmp:
        certs = args.certs or tmp
        make_certs(certs)
        server = Server(case, certs)
        print(server.port, flush=True)
        if args.port_file:
            with open(args.port_file + '.tmp', 'w') as f:
                f.write('%d\n' % server.port)
            os.rename(args.port_file + '.tmp', args.port_file)
        server.serve()
        print('\n'.join(server.lines), file=sys.stderr)
        if server.failure:
            print('FAIL: %s' % server.failure)
            return 1
        print('PASS: the client followed the script')
        return 0


if __name__ == '__main__':
    sys.exit(main())
