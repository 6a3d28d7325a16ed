#!/usr/bin/python3
"""Validates the merged provider list (run by `meson test`, suite data).

  check-providers.py BUILD/data/providers.ini

Independent of the C loader on purpose: a second reading of the format
documented at the top of data/providers.desktop.in. Fails when a provider
lacks Name, Host, Port, Security or Domains, has a value out of range, or when
a domain or MX suffix is claimed by two providers.
"""
import configparser
import ipaddress
import re
import sys

HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
DOMAIN = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
KNOWN = {"name", "domains", "mxsuffixes", "host", "port", "security", "user", "apppassword",
         "apppasswordurl", "steps", "nopasswordlogin", "pincertificate"}


def items(value):
    return [v.strip() for v in value.split(";") if v.strip()]


def is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main(path):
    # strict: a repeated group or key is an error, as it is ambiguous.
    parser = configparser.RawConfigParser(delimiters=("=",), comment_prefixes=("#",),
                                          strict=True, interpolation=None)
    with open(path, encoding="utf-8") as f:
        parser.read_file(f)
    problems = []
    domains = {}
    suffixes = {}
    for group in parser.sections():
        p = parser[group]

        def bad(what):
            problems.append("[%s] %s" % (group, what))

        if not re.match(r"^[a-z0-9-]+$", group):
            bad("group name must be a-z, 0-9 and -")
        for key in p:
            base = key.split("[")[0]
            if base not in KNOWN:
                bad("unknown key " + key)
        for key in ("name", "host", "port", "security", "domains"):
            if not p.get(key, "").strip():
                bad("missing " + key)
        host = p.get("host", "")
        if host and not HOST.match(host):
            bad("host %r is not a host name" % host)
        port = p.get("port", "0")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            bad("port %r out of range" % port)
        security = p.get("security", "")
        if security not in ("starttls", "tls", "none"):
            bad("security must be starttls, tls or none")
        if security == "none" and not is_loopback(host):
            bad("security none is only for a loopback host")
        if (security, port) in (("tls", "587"), ("starttls", "465")):
            bad("port %s does not go with %s" % (port, security))
        if p.get("user", "email") not in ("email", "local-part"):
            bad("user must be email or local-part")
        for key in ("apppassword", "pincertificate"):
            if p.get(key, "false") not in ("true", "false"):
                bad(key + " must be true or false")
        url = p.get("apppasswordurl", "")
        if url and not url.startswith("https://"):
            bad("apppasswordurl must be an https:// address")
        if p.get("apppassword", "false") == "true" and not url:
            bad("an app-specific password needs apppasswordurl")
        steps = items(p.get("steps", ""))
        if len(steps) > 3:
            bad("at most 3 steps")
        if p.get("apppassword", "false") == "true" and len(steps) < 2:
            bad("an app-specific password needs 2-3 steps")
        for d in items(p.get("domains", "")):
            if d != d.lower() or not DOMAIN.match(d):
                bad("domain %r is not a lower-case domain name" % d)
            if d in domains:
                bad("domain %s is claimed by [%s] too" % (d, domains[d]))
            domains[d] = group
        for s in items(p.get("mxsuffixes", "")):
            if s != s.lower() or not DOMAIN.match(s) or s.startswith("*"):
                bad("MX suffix %r is not a lower-case domain name" % s)
            if s in suffixes:
                bad("MX suffix %s is claimed by [%s] too" % (s, suffixes[s]))
            suffixes[s] = group
    for line in problems:
        print(line)
    print("%d providers, %d domains, %d MX suffixes; %s"
          % (len(parser.sections()), len(domains), len(suffixes),
             "FAIL" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
