#!/usr/bin/python3
"""account add without --host: the provider list decides, explicit options win.

Only addresses of listed providers are used, so no DNS query is made.
"""

import configparser
import os

from harness import TOP, check, check_eq, main, postage

EX_CONFIG = 78


def stored(name):
    path = os.path.join(TOP, "config", "postage", "accounts", name + ".account")
    kf = configparser.RawConfigParser()
    kf.read(path)
    return kf["Account"]


def test():
    p = postage("account", "add", "Apple", "--email", "x@icloud.com")
    check_eq(p.returncode, 0, "account add with only --email exits 0")
    a = stored("Apple")
    check_eq((a["host"], a["port"], a["security"]), ("smtp.mail.me.com", "587", "starttls"),
             "iCloud's settings stored")
    check("iCloud" in p.err and "provider list" in p.err, "says it came from the provider list")
    check("app-specific password" in p.err, "says an app-specific password is needed")
    check("https://account.apple.com" in p.err, "says where to create it")

    p = postage("account", "add", "Google", "--email", "y@gmail.com", "--security", "starttls",
                "--user", "someone-else@gmail.com")
    check_eq(p.returncode, 0, "account add with overrides exits 0")
    a = stored("Google")
    check_eq((a["host"], a["port"], a["security"], a["user"]),
             ("smtp.gmail.com", "587", "starttls", "someone-else@gmail.com"),
             "explicit --security and --user win; the port follows the security")

    p = postage("account", "add", "Hot", "--email", "z@hotmail.com")
    check_eq(p.returncode, EX_CONFIG, "a provider without password sign-in is refused")
    check("no longer" in p.err and "OAuth" in p.err, "and says so plainly")
    check(not os.path.exists(os.path.join(TOP, "config", "postage", "accounts", "Hot.account")),
          "nothing was saved")

    p = postage("account", "add", "Proton", "--email", "p@proton.me")
    check_eq(p.returncode, 0, "Proton Mail Bridge account added")
    a = stored("Proton")
    check_eq((a["host"], a["port"]), ("127.0.0.1", "1025"), "the Bridge on loopback")
    check("--fingerprint" in p.err, "told how to pin the Bridge's own certificate")

    p = postage("account", "add", "Bad", "--email", "not-an-address")
    check(p.returncode != 0, "an address without a domain is refused")


if __name__ == "__main__":
    main(test)
