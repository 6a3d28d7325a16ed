#!/bin/sh
# Usage: with-session.sh [--x11] COMMAND [ARG…]
#
# Runs COMMAND in a throw-away profile: a fresh HOME and XDG folders, its own
# D-Bus session bus with a real gnome-keyring-daemon unlocked (an empty login
# password), and with --x11 its own Xvfb display. Nothing the command writes
# survives it, and nothing of the person's own profile is read.
set -eu
x11=no
if [ "${1:-}" = --x11 ]; then x11=yes; shift; fi

top=$(mktemp -d "${TMPDIR:-/tmp}/postage-test.XXXXXX")
trap 'rm -rf "$top"' EXIT INT TERM
mkdir -p "$top/home" "$top/config" "$top/data" "$top/cache" "$top/runtime"
chmod 700 "$top/runtime"
export HOME="$top/home" XDG_CONFIG_HOME="$top/config" XDG_DATA_HOME="$top/data"
export XDG_CACHE_HOME="$top/cache" XDG_RUNTIME_DIR="$top/runtime"
export POSTAGE_TEST_HOME="$top"
unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY

inner='printf "\n" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
# the unlock returns before the collection is announced on the bus
i=0; while [ $i -lt 50 ] && ! secret-tool search --all nothing nothing >/dev/null 2>&1; do sleep 0.1; i=$((i+1)); done
exec "$@"'

status=0
if [ "$x11" = yes ]; then
  GDK_BACKEND=x11 xvfb-run -a -s "-screen 0 1280x800x24" \
    dbus-run-session -- sh -c "$inner" sh "$@" || status=$?
else
  dbus-run-session -- sh -c "$inner" sh "$@" || status=$?
fi
exit $status
