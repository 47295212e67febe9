#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lists of pids are split into words on purpose.
# shellcheck disable=SC2046,SC2086,SC2015,SC2034
#
# Whose error a failed stream reports, whatever the order in which its
# two failures arrive (issue #17).  The target relocd dies in pre-copy;
# the source's relay loses its peer and shuts the socketpair, and the
# save (libxl's helper, here the simulated host's writer) fails on EPIPE
# as a consequence.  The user must be told that the target went away,
# and the source's log must carry the save's failure below it as what
# followed:
#   - relay first: the simulated save reports its EPIPE 700 ms late
#     (fault echo_delay_ms), a helper slow to die;
#   - helper first: the source's relay is held 700 ms inside its
#     shutdown (TEST_SLOW_SHUTDOWN_MS, tests/common/slow_shutdown.c), so
#     the save's failure is seen before the relay runs again.
# And on the receiving side: the source dies mid-stream; the target's
# restore fails on the early EOF, and the target names the source.
set -u
PORT_SALT=17
# shellcheck source=tests/integration/sim-lib.sh
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT
n=0

# Waits until B's journal shows the stream of DOM under way, and then a
# little of it on the wire.
streaming() {	# DOM
	for _ in $(seq 100); do
		grep -q "dst STREAMING [0-9-]* $1 " "$T/b/state/journal" 2>/dev/null &&
		    { sleep 0.5; return 0; }
		sleep 0.1
	done
	return 1
}

# Restarts HOST's daemon with the environment given before the call.
restart() {	# HOST
	kill $(pids_of "$1") 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$(cat "$T/$1/relocd.pid" 2>/dev/null)" 2>/dev/null || break
		sleep 0.1
	done
	daemon_start "$1"
}

# One case: DOM migrates A -> B, B dies with its workers in pre-copy.
target_dies() {	# NAME
	n=$((n + 1))
	dom=c$n why=""
	"$SIMCTL" -d "$T/a/host" create "$dom" --mem-mib 16 >/dev/null
	X a migrate --plain --port "$PB" --localhost --bandwidth 2M "$dom" \
	    127.0.0.1 > "$T/out" 2>&1 &
	mpid=$!
	if ! streaming "$dom"; then
		why="the stream never started"
		kill "$mpid"
	else
		kill9 b
	fi
	wait "$mpid"
	rc=$?
	if [ -n "$why" ]; then :
	elif [ "$rc" -ne 4 ]; then why="xl-reloc exited $rc, want 4"
	elif ! grep -q "127.0.0.1:$PB" "$T/out"; then why="the user is not told the target went away"
	elif grep -q "stream write" "$T/out"; then why="the user is told the save's echo"
	elif ! grep -A1 "127.0.0.1:$PB" "$T/a/log" | grep -q "what followed: .*stream write"; then
		why="the source's log does not show the save's failure below the cause"
	elif [ "$(info a "$dom" state)" != running ]; then why="$dom is not running on A"
	fi
	[ -z "$why" ] && ok "$1: the user is told the target went away" ||
	    bad "$1: $why"
	rm -f "$T/b/relocd.pid"
	daemon_start b
	"$SIMCTL" -d "$T/a/host" destroy "$dom" >/dev/null 2>&1
}

start a "$PA"
start b "$PB"

"$SIMCTL" -d "$T/a/host" fault echo_delay_ms 700 >/dev/null
target_dies "relay first"
"$SIMCTL" -d "$T/a/host" fault echo_delay_ms off >/dev/null

TEST_SLOW_SHUTDOWN_MS=700 restart a
target_dies "helper first"

# The source dies in pre-copy: B's relay sees the EOF and holds in its
# shutdown; its restore then fails on the early end, as what followed.
TEST_SLOW_SHUTDOWN_MS=700 restart b
dom=src-dies why=""
"$SIMCTL" -d "$T/a/host" create "$dom" --mem-mib 16 >/dev/null
X a migrate --plain --port "$PB" --localhost --bandwidth 2M "$dom" \
    127.0.0.1 > "$T/out" 2>&1 &
mpid=$!
if streaming "$dom"; then
	kill9 a
	wait "$mpid"
	for _ in $(seq 100); do
		grep -q "what followed:" "$T/b/log" && break
		sleep 0.1
	done
	if ! grep -B1 "what followed: .*stream ended" "$T/b/log" | grep -q "closed the connection"; then
		why="the target's log does not name the source's end first"
	elif [ -n "$(names b)" ]; then why="left on B: $(names b)"
	fi
else
	why="the stream never started"
	kill "$mpid"
fi
[ -z "$why" ] && ok "source dies: the target names the source, then the restore" ||
    bad "source dies: $why"
# A disk that fills: the image's write fails (EFBIG past RLIMIT_FSIZE,
# as ENOSPC would), libxl's stream then breaks as a consequence.  The
# user is told about the file, the guest runs, no temporary file stays.
# Compressed, so that the save is not refused before it starts
# (save_check.c: a compressed image's size is unknown); the 16 MiB guest
# makes some 20 KiB of image, past the limit of 8 KiB.
XLRELOC_SIM=$B/tests/sim/xl-reloc-sim
disk_full() {	# NAME HOST COMMAND...
	what=$1 h=$2 why=""
	shift 2
	"$SIMCTL" -d "$T/$h/host" create full --mem-mib 16 >/dev/null
	mkdir -p "$T/img"
	if (ulimit -f 8; "$@" > "$T/out" 2>&1); then rc=0; else rc=$?; fi
	if [ "$rc" -ne 4 ]; then why="exit $rc, want 4"
	elif ! grep -q "image $T/img/full.xl: write failed on [a-z].*: File too large" "$T/out"; then
		why="the user is not told the image's write failed"
	elif grep "^xl-reloc: save" "$T/out" | grep -q "stream write"; then
		why="the user is told the save's echo"
	elif [ "$(info "$h" full state)" != running ]; then why="full is not running"
	elif [ -n "$(ls -A "$T/img")" ]; then why="left in the directory: $(ls -A "$T/img")"
	fi
	[ -z "$why" ] && ok "$what: a full disk is named, the guest runs" ||
	    bad "$what: $why"
	"$SIMCTL" -d "$T/$h/host" destroy full >/dev/null
}
disk_full "save --direct" a env RELOCD_SIM_DIR="$T/a/host" "$XLRELOC_SIM" \
    -c "$T/a/relocd.conf" save --compress --direct full "$T/img/full.xl"
# relocd's own worker writes the image: it runs under the limit, with a
# new log that stays below it.
mv "$T/a/log" "$T/a/log.0"
(ulimit -f 8; restart a)
disk_full "save through relocd" a X a save --compress full "$T/img/full.xl"
grep -A1 "write failed on [a-z].*: File too large" "$T/a/log" | grep -q "what followed: .*stream write" &&
    ok "relocd logs the save's failure below the image's" ||
    bad "relocd does not log the save's failure below the image's"
finish
