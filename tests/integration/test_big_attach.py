#!/usr/bin/python3
"""postage send --attach with a 100 MiB file (suite `slow`): the bytes that
arrive are the bytes on disk, and Postage's own peak memory stays far below
the file's size, since it streams the attachment into the outbox file and the
outbox file into DATA.

argv[1] (optional) is the size in MiB, for trying other sizes by hand.
"""

import email
import email.parser
import email.policy
import hashlib
import json
import os
import sys

from harness import TOP, Server, add_account, check, check_eq, main, postage

USER = "big@postage.test"
PASSWORD = "big-attach-pw"
MIB = 1024 * 1024
SIZE = int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 100 * MIB
# Postage's peak RSS is ~21 MiB, whether the attachment has 1 or 100 MiB;
# anything that held the file or the message (137 MiB in base64) in memory
# would be far above this.
RSS_LIMIT_MIB = 40


def make_random_file(path, size):
    """A file of @size random bytes; returns its sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left > 0:
            block = os.urandom(min(left, MIB))
            digest.update(block)
            f.write(block)
            left -= len(block)
    return digest.hexdigest()


def sanitized():
    return os.environ.get("POSTAGE_SANITIZE", "none") not in ("", "none")


def test():
    path = os.path.join(TOP, "big.bin")
    want = make_random_file(path, SIZE)
    print("made %s: %d bytes, sha256 %s" % (path, SIZE, want))

    # base64 makes 100 MiB into ~137 MiB: above aiosmtpd's default 32 MiB SIZE.
    with Server(USER, PASSWORD, data_size_limit=2 * SIZE + MIB) as server:
        add_account("Big", USER, server.port, PASSWORD)
        p = postage("send", "--account", "Big", "--to", "friend@example.test",
                    "--subject", "a big file", "--body", "One large attachment.",
                    "--attach", path, timeout=600, measure=True)
        check_eq(p.returncode, 0, "postage send --attach exits 0")
        # Read from the spool file, not into memory first: the email
        # package alone needs ~800 MiB for this message.
        names = sorted(n for n in os.listdir(server.spool) if n.endswith(".eml"))
        check_eq(len(names), 1, "messages received")
        eml = os.path.join(server.spool, names[0])
        with open(eml[:-4] + ".json") as f:
            env = json.load(f)
        check_eq(env["size"], os.path.getsize(eml), "the envelope's size is the message's")
    os.unlink(path)

    rss_mib = p.maxrss_kib / 1024
    if sanitized():
        # ASan keeps freed memory out of reuse (its quarantine, 256 MiB by
        # default), so RSS grows with everything ever freed: ~225 MiB here,
        # ~32 MiB with quarantine_size_mb=1. The plain build checks the bound.
        print("# peak RSS %.1f MiB, not checked: ASan's quarantine holds up to "
              "256 MiB of freed memory" % rss_mib)
    else:
        check(rss_mib < RSS_LIMIT_MIB,
              "postage's peak RSS %.1f MiB stays under %d MiB for a %d MiB attachment"
              % (rss_mib, RSS_LIMIT_MIB, SIZE // MIB))

    with open(eml, "rb") as f:
        check(max(len(line) for line in f) <= 998 + 2, "no line over 998 octets")
        f.seek(0)
        msg = email.parser.BytesParser(policy=email.policy.default).parse(f)
    check_eq(msg.get_content_type(), "multipart/mixed", "content type")
    parts = list(msg.iter_attachments())
    check_eq([part.get_filename() for part in parts], ["big.bin"], "attachment file names")
    check_eq(parts[0]["Content-Transfer-Encoding"], "base64", "transfer encoding")
    data = parts[0].get_payload(decode=True)
    check_eq(len(data), SIZE, "attachment length")
    check_eq(hashlib.sha256(data).hexdigest(), want, "attachment sha256")


if __name__ == "__main__":
    main(test)
