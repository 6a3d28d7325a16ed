#!/bin/sh
# Usage: with-session.sh [--x11] COMMAND [ARG…]
#
# Runs COMMAND in a throw-away profile: a fresh HOME and XDG folders, its own
# D-Bus session bus with a real gnome-keyring-daemon unlocked (an empty login
# password), and with --x11 its own Xvfb display. Nothing the command writes
# survives it, and nothing of the person's own profile is read.
set -eu
if [ "${1:-}" = --x11 ]; then
  shift
  export GDK_BACKEND=x11
  exec xvfb-run -a -s "-screen 0 1280x800x24" sh "$0" "$@"
fi

top=$(mktemp -d "${TMPDIR:-/tmp}/postage-test.XXXXXX")
bus_pid=
cleanup () {
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
  # gnome-keyring-daemon leaves when the bus goes, but not at once: it may
  # still write its socket into $top/runtime while rm walks the tree. The
  # test's own status is what counts, never the clean-up's (set -e).
  i=0
  while ! rm -rf "$top" 2>/dev/null && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$top/home" "$top/config" "$top/data" "$top/cache" "$top/runtime"
chmod 700 "$top/runtime"
export HOME="$top/home" XDG_CONFIG_HOME="$top/config" XDG_DATA_HOME="$top/data"
export XDG_CACHE_HOME="$top/cache" XDG_RUNTIME_DIR="$top/runtime"
export POSTAGE_TEST_HOME="$top"
unset DBUS_SESSION_BUS_ADDRESS WAYLAND_DISPLAY

# Our own bus rather than dbus-run-session: a forked dbus-daemon points its
# services' stdout at /dev/null, so daemon chatter (gnome-keyring's
# "discover_other_daemon") never lands in a test's stdout, where TAP lives.
# The daemons are the system's, not code under test: they must not inherit
# the suite's G_DEBUG=fatal-warnings (a harmless warning in gnome-keyring
# would kill it mid-call) or its malloc checking.
daemon_env="env -u G_DEBUG -u G_ENABLE_DIAGNOSTIC -u MALLOC_CHECK_ -u MALLOC_PERTURB_ -u LD_PRELOAD"
bus=$($daemon_env dbus-daemon --session --fork --print-address=1 --print-pid=1 2>/dev/null)
DBUS_SESSION_BUS_ADDRESS=$(printf '%s\n' "$bus" | sed -n 1p)
bus_pid=$(printf '%s\n' "$bus" | sed -n 2p)
export DBUS_SESSION_BUS_ADDRESS

printf '\n' | $daemon_env gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
# the unlock returns before the collection is announced on the bus
i=0
while [ $i -lt 50 ] && ! secret-tool search --all nothing nothing >/dev/null 2>&1; do
  sleep 0.1
  i=$((i + 1))
done

status=0
"$@" || status=$?
exit $status
