#!/bin/sh
# Usage: with-small-disk.sh SIZE COMMAND [ARG…]
#
# Runs COMMAND (a TAP test) with a small real file system that it can fill
# up: a tmpfs of SIZE (mount(8) syntax, e.g. 512k) mounted in a private
# mount namespace (unshare --mount), so nobody else sees it and it goes
# with the namespace. Its path is in POSTAGE_TEST_SMALL_DISK. Needs root
# (or the right to make a mount namespace and mount tmpfs in it); without
# it, reports a TAP skip saying why.
set -eu
skip () {
  echo "1..0 # SKIP $1"
  exit 0
}
if [ "${1:-}" != --inside ]; then
  [ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs in a private mount namespace"
  PATH="$PATH:/usr/sbin:/sbin" command -v unshare >/dev/null 2>&1 || skip "needs unshare(1)"
  # A container may forbid namespaces or mounts even to root: skip, not fail.
  unshare --mount sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" &&
    umount "$d" && rmdir "$d"' 2>/dev/null ||
    skip "mounting a tmpfs in a private mount namespace is not permitted here"
  exec unshare --mount --propagation private sh "$0" --inside "$@"
fi
shift
PATH="$PATH:/usr/sbin:/sbin"
size=$1
shift
top=$(mktemp -d "${TMPDIR:-/tmp}/postage-small-disk.XXXXXX")
cleanup () {
  umount "$top" 2>/dev/null || true
  rmdir "$top" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mount -t tmpfs -o "size=$size,mode=0700" tmpfs "$top"

status=0
POSTAGE_TEST_SMALL_DISK="$top" "$@" || status=$?
exit $status
