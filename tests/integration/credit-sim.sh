#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Credit (doc/protocol.md, STREAM_ACK): with compression the target
# acknowledges the stream bytes it has handed to libxl, and the source
# keeps what it sent and was not acknowledged within its window (4 MiB),
# so the guest's pause never waits for a backlog at the target.  Without
# compression nothing changes on the wire.  The assertions are on the
# counters each relocd logs at the end of the stream, never on time.
set -u
PORT_SALT=27
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT

start a "$PA"
start b "$PB"
WINDOW=4194304

mig() {		# NAME [FLAGS...]: A -> B; JSON events in $T/out
	n=$1; shift
	X a migrate --plain --port "$PB" --localhost --json "$@" "$n" 127.0.0.1 > "$T/out" 2>&1
}
# credit HOST NAME FIELD: from "NAME: credit: A STREAM_ACKs, at most M
# stream bytes in flight, W waits": acks, max or waits
credit() {
	sed -n "s/.* $2: credit: \([0-9]*\) STREAM_ACKs, at most \([0-9]*\) stream bytes in flight, \([0-9]*\) waits.*/\1 \2 \3/p" \
	    "$T/$1/log" | tail -1 | awk -v f="$3" '{ print f == "acks" ? $1 : f == "max" ? $2 : $3 }'
}

# 1. Compressed, 96 MiB of mostly zeros (a few KiB on the wire): the
#    source never had more than the window unacknowledged, the target
#    acknowledged at least every 2 MiB of it, and the domain arrived.
"$SIMCTL" -d "$T/a/host" create zc --mem-mib 96 >/dev/null
before=$(sum a zc)
mig zc --non-live --compress; rc=$?
zs=$(json "$T/out" bytes_stream)
sa=$(credit a zc acks) sm=$(credit a zc max) ta=$(credit b zc acks)
if [ "$rc" -eq 0 ] && [ "$(sum b zc)" = "$before" ] && [ -n "$sm" ] &&
    [ "$sm" -gt 0 ] && [ "$sm" -le "$WINDOW" ] && [ "${sa:-0}" -gt 0 ] &&
    [ "${ta:-0}" -ge "$sa" ] && [ $((ta * 2097152)) -ge "$((zs - 2097152))" ]; then
	ok "--compress: $zs stream bytes, at most $sm unacknowledged, $ta STREAM_ACKs sent, $sa read"
else bad "--compress: rc $rc stream $zs source acks $sa max $sm target acks $ta"; fi

# 2. Live and compressed, a dirtying guest: more rounds, the same bound.
"$SIMCTL" -d "$T/a/host" create zl --mem-mib 32 --dirty-rate 2000 >/dev/null
mig zl --compress; rc=$?
lm=$(credit a zl max) la=$(credit b zl acks)
if [ "$rc" -eq 0 ] && [ "$(info b zl state)" = running ] && [ -n "$lm" ] &&
    [ "$lm" -le "$WINDOW" ] && [ "${la:-0}" -gt 0 ]; then
	ok "--compress, live: at most $lm unacknowledged, $la STREAM_ACKs"
else bad "--compress, live: rc $rc max $lm target acks $la"; fi

# 3. Plain: no credit asked, none used (TCP's window is the bound).
"$SIMCTL" -d "$T/a/host" create pl --mem-mib 16 >/dev/null
mig pl --non-live; rc=$?
if [ "$rc" -eq 0 ] && [ -z "$(credit a pl acks)" ] && [ -z "$(credit b pl acks)" ]; then
	ok "plain: no STREAM_ACK either way"
else bad "plain: rc $rc, credit lines: $(grep 'pl: credit' "$T"/*/log)"; fi

if no_leftovers a b; then ok "no --incoming or --migratedaway left"
else bad "leftovers: $(names a) / $(names b)"; fi

finish
