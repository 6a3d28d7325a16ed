#!/bin/sh
# test-single-instance.sh — a second `postage` hands its link to the first
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   with-session.sh --x11 sh test-single-instance.sh APP_ID
#
# Starts the real program ($POSTAGE) as the first instance, then runs
# `postage mailto:…` and `postage --compose …` again: each must return at once
# with status 0 and open one more window in the first instance. The windows are
# counted from outside, on the bus: GtkApplication exports each window's
# actions at <object path>/window/<id>. TAP on stdout.
set -eu
app_id=$1
path=/$(printf '%s' "$app_id" | tr . /)
log=${POSTAGE_TEST_HOME:-${TMPDIR:-/tmp}}/first-instance.log
n=0
failed=0

ok () { n=$((n + 1)); printf 'ok %d - %s\n' "$n" "$1"; }
not_ok () { n=$((n + 1)); failed=1; printf 'not ok %d - %s\n' "$n" "$1"; }
check () { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

windows () {
  gdbus introspect --session --dest "$app_id" --object-path "$path/window" 2>/dev/null |
    grep -c '^ *node ' || true
}

# Waits (up to 20 s) for the first instance to show more than $1 windows.
wait_windows_over () {
  i=0
  while [ "$(windows)" -le "$1" ] && [ $i -lt 200 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  [ "$(windows)" -gt "$1" ]
}

now_ms () { date +%s%3N; }

echo "1..9"

"$POSTAGE" >"$log" 2>&1 &
first=$!
check "the first instance owns $app_id" "gdbus wait --session --timeout 20 '$app_id'"
check "the first instance shows a window" "wait_windows_over 0"
before=$(windows)

start=$(now_ms)
status=0
timeout 20 "$POSTAGE" 'mailto:ann@example.test?subject=From%20a%20link&attach=/etc/passwd' ||
  status=$?
elapsed=$(($(now_ms) - start))
check "a second postage mailto: exits 0 (got $status)" "[ $status -eq 0 ]"
check "… within 5 s (${elapsed} ms)" "[ $elapsed -lt 5000 ]"
check "… and the first instance opened a composer ($before windows before)" \
  "wait_windows_over $before"
before=$(windows)

start=$(now_ms)
status=0
timeout 20 "$POSTAGE" --compose --to bob@example.test --subject 'From the command line' ||
  status=$?
elapsed=$(($(now_ms) - start))
check "a second postage --compose exits 0 (got $status)" "[ $status -eq 0 ]"
check "… within 5 s (${elapsed} ms)" "[ $elapsed -lt 5000 ]"
check "… and the first instance opened a composer ($before windows before)" \
  "wait_windows_over $before"

gdbus call --session --dest "$app_id" --object-path "$path" \
  --method org.gtk.Actions.Activate quit '[]' '{}' >/dev/null
status=0
wait $first || status=$?
check "the first instance quits with status 0 (got $status)" "[ $status -eq 0 ]"
if [ $failed -ne 0 ]; then
  sed 's/^/# /' "$log"
fi
exit $failed
