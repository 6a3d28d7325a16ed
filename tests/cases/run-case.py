#!/usr/bin/python3
"""Runs one dialogue case end to end against the real `postage` binary.

    POSTAGE=_build/src/postage tests/lib/with-session.sh \\
        /usr/bin/python3 tests/cases/run-case.py tests/cases/C07-….smtp

Plays the case with scripted-server.py in a thread, sets the account up with
`postage account add`, sends with `postage send`, then checks the outcome
(exit code), `# shows:`, `# never:` and `# never-shown:`. Exits 0 on a pass, 1
on a failure; either way it prints the client's output and the server's log.
"""

import hashlib
import importlib.util
import os
import ssl
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_TIMEOUT = 60      # seconds: no client run may hang the suite
SEND_TIMEOUT = 30        # the client's own --timeout: longer than the server's 10 s

# The exit codes of `postage send` (sysexits.h, src/cli/postage-cli.h).
EXIT_SENT = 0
EXIT_RETRY = 75
# Refusing input before connecting: EX_USAGE, EX_DATAERR, EX_CONFIG.
EXIT_REFUSED = {64: 'usage', 65: 'bad input', 78: 'account'}


def load_server_module():
    """scripted-server.py has a hyphen in its name, so it is loaded by path."""
    spec = importlib.util.spec_from_file_location(
        'scripted_server', os.path.join(HERE, 'scripted-server.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ss = load_server_module()


class Run:
    """One run of the client: its command, exit code and output."""

    def __init__(self, label, argv, env, stdin=b''):
        self.label = label
        self.argv = argv
        self.hung = False
        try:
            done = subprocess.run(argv, input=stdin, env=env, capture_output=True,
                                  timeout=CLIENT_TIMEOUT)
            self.code, self.stdout, self.stderr = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as e:
            self.hung = True
            self.code, self.stdout, self.stderr = None, e.stdout or b'', e.stderr or b''

    def describe(self):
        if self.hung:
            return 'hung (killed after %d s)' % CLIENT_TIMEOUT
        if self.code < 0:
            return 'crashed (signal %d)' % -self.code
        return 'exit %d' % self.code

    def crashed(self):
        return self.hung or self.code < 0


def split_list(value):
    return [v for v in value.split(b',') if v]


def certificate_fingerprint(path):
    """The SHA-256 fingerprint of a PEM certificate, as `openssl x509
    -fingerprint -sha256` writes it (AB:CD:…)."""
    with open(path, encoding='ascii') as f:
        text = f.read()
    # the first certificate of the file (a tool may write text around it)
    begin = text.index(ssl.PEM_HEADER)
    end = text.index(ssl.PEM_FOOTER, begin) + len(ssl.PEM_FOOTER)
    der = ssl.PEM_cert_to_DER_cert(text[begin:end])
    digest = hashlib.sha256(der).hexdigest().upper()
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def trust_argv(case, cert_dir):
    """`--ca-file` the test CA; or, with `# account: fingerprint=…`, a pin and
    no CA at all: `@NAME` pins that test certificate, anything else goes as is."""
    pin = case.account['fingerprint']
    if not pin:
        return ['--ca-file', os.path.join(cert_dir, 'ca.pem')]
    if pin.startswith(b'@'):
        pem = os.path.join(cert_dir, os.fsdecode(pin[1:]) + '.pem')
        if not os.path.isfile(pem):
            raise ss.CaseError('fingerprint=%s: there is no test certificate %s'
                               % (os.fsdecode(pin), os.path.basename(pem)))
        pin = certificate_fingerprint(pem)
    return ['--fingerprint', pin]


def account_add_argv(postage, case, port, cert_dir):
    a = case.account
    return [postage, 'account', 'add', 'case',
            '--email', a['email'], '--display-name', a['name'],
            '--host', 'localhost', '--port', str(port),
            '--security', a['security'], '--user', a['user']] + \
        trust_argv(case, cert_dir) + ['--password-stdin']


def send_argv(postage, case):
    m = case.message
    argv = [postage, 'send', '--account', 'case']
    for key in ('to', 'cc', 'bcc'):
        for address in split_list(m.get(key, b'')):
            argv += ['--' + key, address]
    argv += ['--subject', m['subject']]
    if 'body-file' in m:
        argv += ['--body-file', os.path.join(case.dir, os.fsdecode(m['body-file']))]
    else:
        argv += ['--body', m['body']]
    for name in split_list(m.get('attach', b'')):
        argv += ['--attach', os.path.join(case.dir, os.fsdecode(name))]
    if case.account['verbose'] == b'on':
        argv.append('--verbose')
    timeout = case.account['timeout'] or str(SEND_TIMEOUT).encode()
    if not timeout.isdigit() or int(timeout) == 0:
        raise ss.CaseError('timeout=%s: give whole seconds' % os.fsdecode(timeout))
    argv += ['--timeout', timeout]
    return argv


def profile_files():
    """Every file the client may have written to its throw-away profile, but
    the keyring (where the password belongs)."""
    keyrings = os.path.join(os.environ['XDG_DATA_HOME'], 'keyrings')
    roots = {os.environ[v] for v in ('HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME')}
    for root in sorted(roots):
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if os.path.join(folder, d) != keyrings]
            for name in files:
                path = os.path.join(folder, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, 'rb') as f:
                        yield path, f.read()


def check_outcome(case, runs, refused_at_add):
    """The exit code against `# expect:`."""
    last = runs[-1]
    if last.crashed():
        return ['`%s` %s' % (last.label, last.describe())]
    if case.noconnect:
        # Refused as bad input, not just any failure (a client that cannot
        # run at all, /bin/false, must not pass).
        if last.code not in EXIT_REFUSED:
            return ['`%s` %s: refusing the input must exit %s' % (
                last.label, last.describe(),
                ', '.join('%d (%s)' % item for item in sorted(EXIT_REFUSED.items())))]
        return []
    if refused_at_add:
        return ['`postage account add` failed (%s)' % last.describe()]
    wanted = {'sent': 'exit 0', 'retry': 'exit 75 (retry)',
              'failed': 'a non-zero exit other than 75'}[case.expect]
    got = {EXIT_SENT: 'sent', EXIT_RETRY: 'retry'}.get(last.code, 'failed')
    if got != case.expect:
        return ['expected %s, `postage send` gave %s' % (wanted, last.describe())]
    return []


def check_texts(case, runs, server):
    problems = []
    stderr = b''.join(r.stderr for r in runs)
    for text in case.shows:
        if text.encode() not in stderr:
            problems.append('stderr does not show %r' % text)
    secret = [(t, True) for t in case.never] + [(t, False) for t in case.never_shown]
    if not secret:
        return problems
    places = [('what it sent on the wire', server.received, True)]
    for r in runs:
        places.append(('stdout of `%s`' % r.label, r.stdout, False))
        places.append(('stderr of `%s`' % r.label, r.stderr, False))
    places += [('the file %s' % path, data, False) for path, data in profile_files()]
    for text, wire_too in secret:
        for where, data, is_wire in places:
            if (wire_too or not is_wire) and text.encode() in data:
                problems.append('%r appears in %s' % (text, where))
    return problems


def run_case(path):
    case = ss.load_case(path)
    postage = os.environ['POSTAGE']
    cert_dir = os.path.join(os.environ['POSTAGE_TEST_HOME'], 'certs')
    ss.make_certs(cert_dir)

    env = dict(os.environ)
    if case.account['verbose'] == b'on':
        env['G_MESSAGES_DEBUG'] = 'all'

    server = ss.Server(case, cert_dir)
    # Both command lines first: a malformed header stops the case here.
    add_argv = account_add_argv(postage, case, server.port, cert_dir)
    send = send_argv(postage, case)
    client_gone_r, client_gone_w = os.pipe()
    thread = threading.Thread(target=server.serve, args=(client_gone_r,), daemon=True)
    thread.start()

    runs = [Run('postage account add', add_argv, env, stdin=case.account['password'])]
    refused_at_add = runs[0].code != 0
    if not refused_at_add:
        runs.append(Run('postage send', send, env))

    # The server wakes from waiting for a connection; a dialogue in progress
    # ends on its own, since every read now meets the client's close.
    os.write(client_gone_w, b'x')
    thread.join(CLIENT_TIMEOUT)

    problems = []
    if thread.is_alive():
        problems.append('the scripted server did not finish')
    elif server.failure:
        problems.append('server: ' + server.failure)
    elif not server.finished:
        problems.append('the scripted server stopped before the end of the script')
    extra = server.extra_connections()
    if extra:
        problems.append('the client connected %d more time(s)' % extra)
    problems += check_outcome(case, runs, refused_at_add)
    problems += check_texts(case, runs, server)
    report(case, runs, server, problems)
    return not problems


def show_output(data):
    text = data.decode('utf-8', 'replace').rstrip('\n')
    return '\n'.join('  | ' + line for line in text.split('\n')) if text else '  | (nothing)'


def report(case, runs, server, problems):
    print('%s: %s' % (case.name, case.title))
    print('expect: %s; %s' % (case.expect,
                              '; '.join('%s %s' % (r.label, r.describe()) for r in runs)))
    print('PASS' if not problems else 'FAIL')
    for p in problems:
        print('  - ' + p)
    for r in runs:
        print('\n--- `%s` (%s)' % (r.label, r.describe()))
        print('argv: %r' % [os.fsdecode(a) if isinstance(a, bytes) else a for a in r.argv])
        print('stderr:\n' + show_output(r.stderr))
        if r.stdout:
            print('stdout:\n' + show_output(r.stdout))
    print('\n--- scripted server (port %d)' % server.port)
    print('\n'.join(server.lines) or '(no connection)')


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for var in ('POSTAGE', 'POSTAGE_TEST_HOME'):
        if var not in os.environ:
            print('%s is not set: run inside tests/lib/with-session.sh with POSTAGE '
                  'pointing at the built binary (see README.md)' % var, file=sys.stderr)
            return 2
    return 0 if run_case(sys.argv[1]) else 1


if __name__ == '__main__':
    sys.exit(main())
