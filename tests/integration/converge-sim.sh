#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The max-downtime policy between two relocd-sim daemons: a guest that
# dirties memory faster than the (bandwidth-limited) link can send it
# converges only when auto-converge slows it down; with downtime-abort
# alone the migration is given up and the guest runs on at the source.
# Either way the guest ends with the cpu cap it had before.  Checked
# from the simulated hosts, not from relocd's word.
set -u
PORT_SALT=3
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT

start a "$PA"
start b "$PB"

# The link: 8 MiB/s, about 2048 pages/s.  The guest: 16 MiB (4096
# pages) dirtying 1800 pages/s under its own cap of 90%, so every round
# leaves more than a second of pages (the limit is 300 ms) until the
# cap is cut; at 45% it dirties less than half of what a round sends.
guest() {	# HOST NAME [MiB [TYPE]]
	"$SIMCTL" -d "$T/$1/host" create "$2" --mem-mib "${3:-16}" \
	    --type "${4:-pv}" --dirty-rate 2000 >/dev/null &&
	"$SIMCTL" -d "$T/$1/host" set-cap "$2" 90
}
mig() {		# NAME FLAGS...: A -> B, JSON events in $T/out
	n=$1; shift
	X a migrate --plain --port "$PB" --localhost --bandwidth 8M \
	    --max-downtime 300 --json "$@" "$n" 127.0.0.1 > "$T/out" 2>&1
}

# 1. Auto-converge (and downtime-abort, which it makes unnecessary): the
#    guest is throttled, lands running at B with its own cap back.
guest a conv
mig conv --auto-converge --downtime-abort; rc=$?
if [ "$rc" -eq 0 ] && [ "$(names a)" = "" ] && [ "$(names b)" = "conv " ] &&
    [ "$(info b conv state)" = running ] && [ "$(info b conv cap)" = 90 ] &&
    grep -q '"text":"guest throttled to 45% cpu' "$T/out" &&
    grep -q 'conv: cpu cap restored to 90' "$T/a/log"; then
	ok "auto-converge: throttled, converged, cap 90 at the target"
else bad "auto-converge: rc $rc cap $(info b conv cap) $(tail -2 "$T/out")"; fi

# 2. downtime-abort without auto-converge: given up after N rounds over,
#    exit 4 (failed, the domain runs where it was) naming both figures;
#    the guest runs at A, never throttled, and B has nothing.
guest a noconv
mig noconv --downtime-abort; rc=$?
if [ "$rc" -eq 4 ] && [ "$(names a)" = "noconv " ] && [ "$(names b)" = "conv " ] &&
    [ "$(info a noconv state)" = running ] && [ "$(info a noconv cap)" = 90 ] &&
    grep -q '"event":"result".*noconv does not converge: expected downtime [0-9]* ms, allowed 300 ms' "$T/out" &&
    ! grep -q throttled "$T/out"; then
	ok "downtime-abort: source runs on with its cap"
else bad "downtime-abort: rc $rc cap $(info a noconv cap) $(tail -1 "$T/out")"; fi

# 3. Both, but a guest no cap can slow (never_converge: every page dirty
#    every round): throttled as far as the rounds allow, then given up; the cap
#    is put back at the source.  (A small guest: every round is whole.)
guest a stuck 4
"$SIMCTL" -d "$T/a/host" fault never_converge 1 >/dev/null
mig stuck --auto-converge --downtime-abort; rc=$?
"$SIMCTL" -d "$T/a/host" fault never_converge off >/dev/null
if [ "$rc" -eq 4 ] && [ "$(names a)" = "noconv stuck " ] && [ "$(names b)" = "conv " ] &&
    [ "$(info a stuck state)" = running ] && [ "$(info a stuck cap)" = 90 ] &&
    grep -q '"text":"guest throttled to 45% cpu' "$T/out" &&
    grep -q 'does not converge.*even throttled' "$T/out"; then
	ok "auto-converge that fails, then abort: cap restored at the source"
else bad "auto-converge then abort: rc $rc cap $(info a stuck cap) $(tail -1 "$T/out")"; fi

# 4. Neither: a limit alone changes nothing but the figures; it migrates.
mig noconv; rc=$?
if [ "$rc" -eq 0 ] && [ "$(names b)" = "conv noconv " ] &&
    [ "$(info b noconv cap)" = 90 ] && ! grep -q throttled "$T/out"; then
	ok "a limit without a policy still migrates"
else bad "a limit without a policy: rc $rc $(tail -1 "$T/out")"; fi

# 5. A PVH and an HVM guest: the cap is the credit scheduler's on its
#    vcpus whatever the type, and so are the throttling and its undoing.
for ty in pvh hvm; do
	guest a "conv$ty" 16 "$ty"
	mig "conv$ty" --auto-converge --downtime-abort; rc=$?
	if [ "$rc" -eq 0 ] && [ "$(info b "conv$ty" state)" = running ] &&
	    [ "$(info b "conv$ty" type)" = "$ty" ] &&
	    [ "$(info b "conv$ty" cap)" = 90 ] &&
	    grep -q '"text":"guest throttled to 45% cpu' "$T/out" &&
	    grep -q "conv$ty: cpu cap restored to 90" "$T/a/log"; then
		ok "auto-converge, $ty guest: throttled, converged, cap 90 at the target"
	else bad "auto-converge, $ty guest: rc $rc cap $(info b "conv$ty" cap) $(tail -2 "$T/out")"; fi
done

# 6. Nothing is left half-way.
if no_leftovers a b; then
	ok "no --incoming or --migratedaway left"
else bad "leftovers: $(names a) / $(names b)"; fi

finish
