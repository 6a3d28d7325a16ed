#!/usr/bin/python3
"""account import-msmtp end to end: settings imported, msmtp's keyring entry
found and used by a real sign-in, passwordeval never run, password never copied."""

import os
import subprocess

from harness import (TOP, Server, ca_file, check, check_eq, files_under, main, postage,
                     secret_lookup)

USER = "msmtp-user@postage.test"
PASSWORD = "from-msmtps-keyring-entry"
FILE_PASSWORD = "plaintext-in-the-msmtprc"


def write_config(port):
    ran = os.path.join(TOP, "passwordeval-ran")
    path = os.path.join(TOP, "msmtprc")
    with open(path, "w") as f:
        f.write("""# TEST ONLY
defaults
tls on
tls_trust_file %(ca)s

account work
host localhost
port %(port)d
from "%(user)s"
user %(user)s
passwordeval "touch %(ran)s; echo nope"

account other : work
from other@postage.test
user other@postage.test
password %(file_password)s

account cleartext
host mail.example.test
tls off
from clear@postage.test
""" % {"ca": ca_file(), "port": port, "user": USER, "ran": ran,
       "file_password": FILE_PASSWORD})
    return path, ran


def test():
    with Server(USER, PASSWORD) as server:
        path, ran = write_config(server.port)
        # msmtp's documented secret-tool entry (msmtp(1), "Authentication").
        subprocess.run(["secret-tool", "store", "--label=msmtp", "host", "localhost",
                        "service", "smtp", "user", USER], input=PASSWORD.encode(),
                       check=True, timeout=30)

        p = postage("account", "import-msmtp", "--file", path, "--dry-run")
        check_eq(p.returncode, 0, "a dry run exits 0")
        check("would be imported" in p.err, "a dry run says what it would do")
        check("work" not in postage("account", "list").out, "and changes nothing")

        p = postage("account", "import-msmtp", "--file", path)
        check_eq(p.returncode, 0, "import-msmtp exits 0")
        check("“work” imported" in p.err and "“other” imported" in p.err,
              "both usable accounts imported")
        check("“cleartext” not imported" in p.err, "the cleartext one refused, with a reason")
        check("passwordeval command was NOT run" in p.err, "passwordeval reported as not run")
        check("password line was NOT used" in p.err, "the password line reported as not used")
        check(not os.path.exists(ran), "the passwordeval command never ran")
        check("its password is in the keyring" in p.err, "msmtp's keyring entry found")
        check("no password in the keyring yet" in p.err and "secret-tool store" in p.err,
              "the account without an entry is told how to add one")

        listing = postage("account", "list").out
        check("work\t" in listing and "other\t" in listing, "the accounts are listed")
        check(FILE_PASSWORD not in "".join(
            open(f, errors="replace").read() for f in files_under(os.environ["XDG_CONFIG_HOME"])),
            "the plaintext password was copied nowhere")

        p = postage("account", "verify", "work")
        check_eq(p.returncode, 0, "the imported account signs in with msmtp's keyring entry")

        p = postage("account", "import-msmtp", "--file", path)
        check("an account with that name exists" in p.err, "a second import skips existing ones")
        p = postage("account", "import-msmtp", "--file", path, "--replace")
        check("“work” imported" in p.err, "--replace imports again")

    code, secret = secret_lookup("host", "localhost", "service", "smtp", "user", USER)
    check_eq((code, secret), (0, PASSWORD), "msmtp's entry is left as it was")


if __name__ == "__main__":
    main(test)
