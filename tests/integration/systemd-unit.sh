#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2015
#
# The systemd unit and what relocd tells systemd (Type=notify), without
# systemd running relocd:
#   - the unit as installed (conf/relocd.service, relocd's path made this
#     build's) passes systemd-analyze verify without a word;
#   - it names no unit it Requires= (Debian 12's Xen ships none of
#     upstream's units, only xen.service from /etc/init.d/xen);
#   - relocd (on a simulated host) with $NOTIFY_SOCKET sends READY=1 once
#     it accepts control connections, STATUS= with its job count, and
#     STOPPING=1 on SIGTERM.
# Without systemd-analyze the rest runs and the test ends as skipped.
set -u
PORT_SALT=21
# shellcheck source=tests/integration/sim-lib.sh
. "${srcdir:-.}/tests/integration/sim-lib.sh"
RECV=""
cleanup() { [ -n "$RECV" ] && kill "$RECV" 2>/dev/null; sim_cleanup; }
trap cleanup EXIT
need_tools socat socat

unit=$B/conf/relocd.service
[ -f "$unit" ] || make -s -C "$B" conf/relocd.service >/dev/null
if command -v systemd-analyze >/dev/null; then
	sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/relocd|\1$(cd "$B" && pwd)/relocd/relocd|" \
	    "$unit" > "$T/relocd.service"
	if out=$(systemd-analyze verify --man=no "$T/relocd.service" 2>&1) &&
	    [ -z "$out" ]; then
		ok "systemd-analyze verify: clean"
	else
		bad "systemd-analyze verify: $out"
	fi
else
	partial="systemd-analyze missing, the unit not verified (apt-get install systemd)"
fi
grep -q '^Requires=' "$unit" && bad "the unit Requires= units a Debian dom0 may not have" ||
    ok "no Requires= on units a Debian dom0 may not have"
grep -q '^Type=notify$' "$unit" && grep -q '^ExecReload=.*relocd -n$' "$unit" &&
    ok "Type=notify, and a reload checks the configuration first" ||
    bad "Type=notify, and a reload checks the configuration first"

# What relocd says on the notification socket (socat writes the datagrams
# one after the other).
socat -u UNIX-RECV:"$T/notify" - > "$T/notes" 2>&1 &
RECV=$!
for _ in $(seq 50); do [ -S "$T/notify" ] && break; sleep 0.1; done
said() {	# PATTERN
	for _ in $(seq 100); do
		grep -q "$1" "$T/notes" && return 0
		sleep 0.1
	done
	return 1
}
NOTIFY_SOCKET=$T/notify start a "$PA"
said 'READY=1' && [ -S "$T/a/relocd.sock" ] &&
    ok "READY=1 once the control socket is up" || bad "no READY=1: $(cat "$T/notes")"
"$SIMCTL" -d "$T/a/host" create d1 --mem-mib 16 >/dev/null
X a save d1 "$T/d1.xl" > "$T/out" 2>&1
said 'STATUS=1 job running' && said 'running.*STATUS=ready, no jobs' &&
    ok "STATUS= follows the jobs" || bad "STATUS=: $(cat "$T/notes")"
kill "$(cat "$T/a/relocd.pid")"
said 'STOPPING=1' && ok "STOPPING=1 on SIGTERM" || bad "no STOPPING=1: $(cat "$T/notes")"
finish
[ -z "${partial:-}" ] || skip_test "$partial"
