#!/usr/bin/python3
"""Stops a private test Postfix when the test that started it is gone.

  reaper.py CONFIG_DIR MASTER_PID    (stdin: the read end of a pipe)

Postfix's master daemonizes into a session of its own, so a test that is
killed outright (meson's timeout ends with SIGKILL to the test's process
group) could leave it running. The test keeps the pipe's write end open for
its whole life; this process, started in a session of its own, waits for
end-of-file on stdin (the test exited, however it exited) and then stops that
master if it is still running: `postfix -c CONFIG_DIR stop`, then SIGKILL to
the master's process group. It acts only on the master whose environment says
MAIL_CONFIG=CONFIG_DIR, never on a reused process id.
"""

import os
import signal
import subprocess
import sys
import time


def is_our_master(pid, config_dir):
    try:
        exe = os.readlink("/proc/%d/exe" % pid)
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = f.read().split(b"\0")
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return (os.path.basename(exe) == "master" and state != "Z"
            and ("MAIL_CONFIG=" + config_dir).encode() in env)


def main():
    config_dir, pid = sys.argv[1], int(sys.argv[2])
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while os.read(0, 4096):
        pass
    if not is_our_master(pid, config_dir):
        return 0
    if os.path.isfile(os.path.join(config_dir, "main.cf")):
        subprocess.run(["/usr/sbin/postfix", "-c", config_dir, "stop"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60, check=False)
    deadline = time.monotonic() + 15
    while is_our_master(pid, config_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_our_master(pid, config_dir):
        os.killpg(pid, signal.SIGKILL)  # master is its session's and group's leader
    return 0


if __name__ == "__main__":
    sys.exit(main())
