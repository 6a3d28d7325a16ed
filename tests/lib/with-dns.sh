#!/bin/sh
# Usage: with-dns.sh ZONE.conf COMMAND [ARG…]
#
# Runs COMMAND (a TAP test) with a real DNS server: dnsmasq on 127.0.0.1:53
# serving ZONE.conf, inside a private network namespace (only its own
# loopback, so no query can leave the machine and no port can clash with
# another test) and a private mount namespace whose /etc/resolv.conf says
# "nameserver 127.0.0.1". The system's resolver configuration is never
# touched. Sets POSTAGE_TEST_DNS=1. Needs root, unshare(1), ip(8) and dnsmasq
# (Debian: dnsmasq-base); without them it reports a TAP skip.
set -eu
skip () {
  echo "1..0 # SKIP $1"
  exit 0
}
if [ "${1:-}" != --inside ]; then
  [ "$(id -u)" = 0 ] || skip "needs root for a private network namespace"
  for tool in unshare ip dnsmasq; do
    PATH="$PATH:/usr/sbin:/sbin" command -v $tool >/dev/null 2>&1 || skip "needs $tool"
  done
  # A container may forbid namespaces even to root: skip rather than fail.
  unshare --mount --net true 2>/dev/null || skip "unshare --mount --net is not permitted here"
  exec unshare --mount --net sh "$0" --inside "$@"
fi
shift
PATH="$PATH:/usr/sbin:/sbin"
zone=$1
shift
top=$(mktemp -d "${TMPDIR:-/tmp}/postage-dns.XXXXXX")
cleanup () {
  [ -f "$top/pid" ] && kill "$(cat "$top/pid")" 2>/dev/null
  rm -rf "$top"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link set lo up
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n' > "$top/resolv.conf"
mount --bind "$top/resolv.conf" /etc/resolv.conf
# --conf-file=ZONE only: no /etc/dnsmasq.conf. dnsmasq returns once it is
# listening (its parent waits for the daemon's start-up), so no polling.
dnsmasq --conf-file="$zone" --listen-address=127.0.0.1 --bind-interfaces --port=53 \
  --user=root --pid-file="$top/pid" --log-facility="$top/dnsmasq.log"

status=0
POSTAGE_TEST_DNS=1 "$@" || status=$?
if [ $status -ne 0 ] && [ -f "$top/dnsmasq.log" ]; then
  sed 's/^/# dnsmasq: /' "$top/dnsmasq.log"
fi
exit $status
