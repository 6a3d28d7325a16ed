#!/usr/bin/python3
"""Postfix pipe(8) delivery agent for the private test instance.

Postfix runs it once per recipient (destination_recipient_limit = 1) as an
unprivileged user:  deliver.py SPOOL QUEUE_ID SENDER RECIPIENT
It keeps the message exactly as Postfix hands it over (stdin) in
SPOOL/<name>.eml and the envelope in SPOOL/<name>.json; the .json is renamed
into place last, so a reader that sees it also sees the whole .eml.
"""

import json
import os
import sys
import tempfile


def main():
    spool, queue_id, sender, recipient = sys.argv[1:5]
    data = sys.stdin.buffer.read()
    fd, tmp = tempfile.mkstemp(dir=spool, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    stem = os.path.join(spool, os.path.basename(tmp)[len(".tmp-"):] + "-" + queue_id)
    os.rename(tmp, stem + ".eml")
    envelope = {"mail_from": sender, "rcpt_to": recipient, "queue_id": queue_id,
                "size": len(data)}
    with open(stem + ".json.tmp", "w") as f:
        json.dump(envelope, f)
    os.rename(stem + ".json.tmp", stem + ".json")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # EX_TEMPFAIL: Postfix keeps the message and logs why
        print("deliver.py: %s" % e, file=sys.stderr)
        sys.exit(75)
