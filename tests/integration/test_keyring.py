#!/usr/bin/python3
"""account add puts the password in the real keyring, and in no file."""

import os

from harness import (TOP, add_account, check, check_eq, files_under, main, postage,
                     secret_lookup)

PASSWORD = "kEyRiNg-only-4711-ünï"


def test():
    add_account("Keyring", "someone@postage.test", 587, PASSWORD, user="someone-login")
    code, secret = secret_lookup("user", "someone-login", "server", "localhost",
                                 "protocol", "smtp")
    check_eq(code, 0, "secret-tool lookup exit code")
    check_eq(secret.rstrip("\n"), PASSWORD, "the keyring holds the password")

    config = os.environ["XDG_CONFIG_HOME"]
    check(any(files_under(config)), "account settings were written under XDG_CONFIG_HOME")

    keyrings = os.path.join(os.environ["XDG_DATA_HOME"], "keyrings")
    needles = [PASSWORD.encode("utf-8"), PASSWORD.encode("utf-16-le")]
    leaks, seen = [], 0
    for path in files_under(TOP, skip={keyrings}):
        seen += 1
        with open(path, "rb") as f:
            data = f.read()
        if any(n in data for n in needles):
            leaks.append(path)
    check(seen > 0, "looked at %d files under the test home" % seen)
    check_eq(leaks, [], "files under the test home holding the password")

    # An empty stdin (a broken pipe) must not replace the password.
    p = postage("account", "add", "Keyring", "--email", "someone@postage.test", "--host",
                "localhost", "--port", "587", "--user", "someone-login", "--password-stdin",
                stdin=b"")
    check(p.returncode != 0, "account add refuses an empty password")
    code, secret = secret_lookup("user", "someone-login", "server", "localhost",
                                 "protocol", "smtp")
    check_eq(secret.rstrip("\n"), PASSWORD, "the keyring still holds the old password")

    # Two accounts signing in the same way share one entry: removing one
    # must leave it for the other.
    add_account("Twin", "someone@postage.test", 587, PASSWORD, user="someone-login")
    p = postage("account", "remove", "Twin")
    check_eq(p.returncode, 0, "account remove Twin")
    code, secret = secret_lookup("user", "someone-login", "server", "localhost",
                                 "protocol", "smtp")
    check_eq(secret.rstrip("\n"), PASSWORD, "the shared password survives removing the twin")
    p = postage("account", "remove", "Keyring")
    code, secret = secret_lookup("user", "someone-login", "server", "localhost",
                                 "protocol", "smtp")
    check(code != 0, "removing the last account that used it clears the password")


if __name__ == "__main__":
    main(test)
