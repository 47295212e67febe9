#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# zstd through relocd: asked for with --compress, or by compression = 1
# in the source's relocd.conf, it is agreed with the target and the
# bytes on the wire drop for a compressible guest (the simulated guest's
# pages are mostly zeros), while the domain arrives identical.  The
# assertions are on the byte counters of xl-reloc's result, never on time.
set -u
PORT_SALT=5
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT

start a "$PA"
start b "$PB"

mig() {		# NAME [FLAGS...]: A -> B, stop-and-copy so the memory that
		# left is the memory at the start; JSON events in $T/out
	n=$1; shift
	X a migrate --plain --port "$PB" --localhost --json "$@" "$n" 127.0.0.1 > "$T/out" 2>&1
}
# arrived NAME SUM: at B, running, the same memory, gone from A
arrived() {
	[ "$(sum b "$1")" = "$2" ] && [ "$(info b "$1" state)" = running ] &&
	    ! "$SIMCTL" -d "$T/a/host" list | grep -q " $1 "
}

# 1. Plain, the reference: the wire carries the stream and a little
#    framing.
"$SIMCTL" -d "$T/a/host" create plain --mem-mib 32 >/dev/null
before=$(sum a plain)
mig plain --non-live; rc=$?
pw=$(json "$T/out" bytes_wire) ps=$(json "$T/out" bytes_stream)
if [ "$rc" -eq 0 ] && arrived plain "$before" && [ "${ps:-0}" -gt 33554432 ] &&
    [ "$pw" -ge "$ps" ] && ! grep -q "agreed to zstd" "$T/a/log"; then
	ok "plain: $pw bytes on the wire for $ps of stream"
else bad "plain: rc $rc wire $pw stream $ps $(tail -1 "$T/out")"; fi

# 2. --compress: agreed, under a tenth of the bytes, the same memory.
"$SIMCTL" -d "$T/a/host" create zc --mem-mib 32 >/dev/null
before=$(sum a zc)
mig zc --non-live --compress; rc=$?
zw=$(json "$T/out" bytes_wire) zs=$(json "$T/out" bytes_stream)
if [ "$rc" -eq 0 ] && arrived zc "$before" && [ "${zs:-0}" -eq "$ps" ] &&
    [ $((zw * 10)) -lt "$zs" ] && grep -q "zc: 127.0.0.1 agreed to zstd" "$T/a/log"; then
	ok "--compress: $zw bytes on the wire for $zs of stream"
else bad "--compress: rc $rc wire $zw stream $zs $(tail -1 "$T/out")"; fi

# 3. Live and compressed: a dirtying guest's rounds go through zstd too
#    (more stream than one pass) and it arrives running.  A running
#    guest's memory has no fixed point to compare: cases 2 and 4 do that.
"$SIMCTL" -d "$T/a/host" create zl --mem-mib 32 --dirty-rate 2000 >/dev/null
mig zl --compress; rc=$?
lw=$(json "$T/out" bytes_wire) ls=$(json "$T/out" bytes_stream)
if [ "$rc" -eq 0 ] && [ "$(info b zl state)" = running ] &&
    [ "${ls:-0}" -gt "$ps" ] && [ $((lw * 10)) -lt "$ls" ]; then
	ok "--compress, live: $lw bytes on the wire for $ls of stream"
else bad "--compress, live: rc $rc wire $lw stream $ls $(tail -1 "$T/out")"; fi

# 4. compression = 1 in the source's relocd.conf, no flag: the same.
kill "$(cat "$T/a/relocd.pid")"; sleep 0.5
start a "$PA" "compression = 1"
"$SIMCTL" -d "$T/a/host" create zconf --mem-mib 32 >/dev/null
before=$(sum a zconf)
mig zconf --non-live; rc=$?
cw=$(json "$T/out" bytes_wire) cs=$(json "$T/out" bytes_stream)
if [ "$rc" -eq 0 ] && arrived zconf "$before" && [ "${cs:-0}" -eq "$ps" ] &&
    [ $((cw * 10)) -lt "$cs" ] && grep -q "zconf: 127.0.0.1 agreed to zstd" "$T/a/log"; then
	ok "compression = 1: $cw bytes on the wire for $cs of stream"
else bad "compression = 1: rc $rc wire $cw stream $cs $(tail -1 "$T/out")"; fi

# 5. And back from B (no compression configured there), plain again:
#    the config of one daemon does not leak into the other's jobs.
before=$(sum b zconf)
X b migrate --plain --port "$PA" --localhost --non-live --json zconf 127.0.0.1 > "$T/out" 2>&1; rc=$?
bw=$(json "$T/out" bytes_wire)
if [ "$rc" -eq 0 ] && [ "$(sum a zconf)" = "$before" ] && [ "${bw:-0}" -ge "$ps" ]; then
	ok "back uncompressed: $bw bytes on the wire"
else bad "back uncompressed: rc $rc wire $bw $(tail -1 "$T/out")"; fi

if no_leftovers a b; then ok "no --incoming or --migratedaway left"
else bad "leftovers: $(names a) / $(names b)"; fi

finish
