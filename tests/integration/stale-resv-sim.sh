#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A target restarted between a reservation and its stream (relocd-sim on
# a simulated host, driven by rawpeer, a hand-made source): the ids its
# ledger gives after the restart are not those it gave before, and a
# STREAM_START on an id from before is refused with ERROR(not-found),
# nothing received, nothing left behind, the job journaled ABORTED.
set -u
PORT_SALT=15
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT
RAWPEER=$B/tests/integration/rawpeer

# reserved FILE: the id rawpeer printed
reserved() { awk '$1 == "reserved" { print $2 }' "$1"; }
# closed HOST DOM: every journal record of DOM is DONE or ABORTED, and
# there is one (waits a little: the worker journals after it answers)
closed() {
	for _ in $(seq 50); do
		awk -v d="$2" '$6 == d { s[$1] = $4 } END { for (k in s) {
		    n++; if (s[k] != "DONE" && s[k] != "ABORTED") exit 1 }
		    exit n == 0 }' "$T/$1/state/journal" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

start b "$PB"

# 1. A source reserves; then it goes, as it would if the target died.
if "$RAWPEER" "$PB" web > "$T/out" 2>&1 && old=$(reserved "$T/out") &&
    [ -n "$old" ] && closed b web; then
	ok "a reservation, given up by its source"
else
	bad "a reservation, given up by its source"
	old=1
fi

# 2. The target restarts: its ledger is new.
kill "$(cat "$T/b/relocd.pid")"
for _ in $(seq 50); do
	[ -f "$T/b/relocd.pid" ] || break
	sleep 0.1
done
daemon_start b

# 3. A source presents the id from before the restart.
if "$RAWPEER" "$PB" web "$old" > "$T/out" 2>&1; then rc=0; else rc=$?; fi
new=$(reserved "$T/out")
if [ -n "$new" ] && [ "$new" != "$old" ]; then
	ok "ids after a restart are new ($old, then $new)"
else
	bad "ids after a restart are new ($old, then ${new:-none})"
fi
if [ "$rc" -eq 0 ] && grep -q "^error not-found: .*no such reservation for that domain" "$T/out" &&
    closed b web && no_leftovers b && [ "$(names b)" = "" ]; then
	ok "a stale reservation id is refused, nothing received"
else
	bad "a stale reservation id is refused, nothing received (rc $rc)"
fi

finish
