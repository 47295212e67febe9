#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lists of pids are split into words on purpose.
# shellcheck disable=SC2046,SC2086
#
# What a crash must not lose beyond the phase (relocd(8), FAILURES): two
# relocd-sim daemons on loopback, a job stopped at a hold point of the
# simulated host, its relocd killed (kill -9, with its workers, or the
# worker alone), restarted, and the outcome checked from the simulated
# hosts and the image directory, never from relocd's word:
#
#   1. a migration asked --paused, killed at the target after COMMITTED
#      (before and after the rename): the domain ends paused at B;
#   2. a migration whose guest auto-converge throttled, killed at the
#      source once suspended: the guest runs at A with its own cap;
#   3. a save killed mid-way (the worker alone, and the whole relocd):
#      no temporary file is left beside the image, the guest runs;
#   4. a target that cannot activate after COMMITTED (the unpause fails)
#      gives the domain back to the source, and killed before it has
#      destroyed its own copy, still ends with the one copy at A;
#   5. a target whose COMMITTED record went in but whose fdatasync
#      failed keeps the domain: it is committed (QUERY reads the file).
#
# Every case also checks that the job's journal records are closed.
set -u
PORT_SALT=15
# shellcheck source=tests/integration/sim-lib.sh
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT
F_PAUSED=0x8 F_TLS=0x1
TA=$((PA + 3)) TB=$((PA + 4))	# TLS: an in-doubt source asks over it

pki
start a "$PA" "$(tls_on a "$TA")"
start b "$PB" "$(tls_on b "$TB")"
mkdir -p "$T/img"

held() {	# HOST: a process stands at the hold point
	for _ in $(seq 100); do
		[ -f "$T/$1/host/held" ] && return 0
		sleep 0.1
	done
	return 1
}
release() {	# HOST
	"$SIMCTL" -d "$T/$1/host" fault hold off >/dev/null
	rm -f "$T/$1/host/held"
}
crash() {	# HOST: kill -9 relocd and its workers, release, restart
	_pids=$(pids_of "$1")
	kill -9 $_pids
	# the held worker must be gone before its hold is released
	for _p in $_pids; do
		for _ in $(seq 200); do pid_alive "$_p" || break; sleep 0.1; done
	done
	release "$1"
	daemon_start "$1"
}
# Nonzero if a record of DOM on HOST is not DONE or ABORTED.
closed() {	# HOST DOM
	awk -v d="$2" '$6 == d { k = $1 " " $3; s[k] = $4 }
	    END { for (k in s) if (s[k] != "DONE" && s[k] != "ABORTED")
	    open = 1; exit open }' "$T/$1/state/journal"
}
# Waits (up to 40 s) until PID has ended and COND holds.
until_() {	# PID COND...
	p=$1; shift
	for _ in $(seq 200); do
		! kill -0 "$p" 2>/dev/null && "$@" && return 0
		sleep 0.2
	done
	kill "$p" 2>/dev/null
	return 1
}
where_ok() {	# DOM HOST STATE: only there, in that state, no leftovers
	[ "$(info "$2" "$1" state)" = "$3" ] && no_leftovers a b &&
	    closed a "$1" && closed b "$1"
}

# 1. --paused, the target killed after its COMMITTED record: before the
#    rename (hold "rename") and after it (hold "renamed").
for point in rename renamed; do
	dom=p$point
	"$SIMCTL" -d "$T/a/host" create "$dom" --mem-mib 8 >/dev/null
	"$SIMCTL" -d "$T/b/host" fault hold "$point" >/dev/null
	"$CTLC" "$T/a/relocd.sock" migrate "$dom" 127.0.0.1 "$TB" \
	    $((F_LIVE | F_LOCALHOST | F_PAUSED | F_TLS)) > "$T/out" 2>&1 &
	mpid=$!
	if ! held b; then
		release b
		bad "--paused, target killed at $point: never reached $point"
		continue
	fi
	rec=$(grep "dst COMMITTED [0-9-]* $dom " "$T/b/state/journal")
	crash b
	if until_ "$mpid" where_ok "$dom" b paused &&
	    [ "$(names a)" = "" ] && echo "$rec" | grep -q ' paused=1' &&
	    grep -q "$dom (domain [0-9]*) left paused: it was asked to start paused" "$T/b/log"; then
		ok "--paused, target killed at $point: paused at B"
	else bad "--paused, target killed at $point: a [$(names a)] b [$(names b)] $dom $(info b "$dom" state) rec [$rec]"; fi
	"$SIMCTL" -d "$T/b/host" destroy "$dom" >/dev/null 2>&1
done

# 2. Auto-converge throttled the guest (own cap 90), then the source
#    relocd was killed with the guest suspended: it runs again at A with
#    cap 90.  (As converge-sim.sh: a link of 8 MiB/s, a guest no cap can
#    slow, so that it is throttled and still goes to stop-and-copy.)
"$SIMCTL" -d "$T/a/host" create cap --mem-mib 4 --dirty-rate 2000 >/dev/null
"$SIMCTL" -d "$T/a/host" set-cap cap 90
"$SIMCTL" -d "$T/a/host" fault never_converge 1 >/dev/null
"$SIMCTL" -d "$T/a/host" fault hold suspended >/dev/null
X a migrate --plain --port "$PB" --localhost --bandwidth 8M \
    --max-downtime 300 --auto-converge cap 127.0.0.1 > "$T/out" 2>&1 &
mpid=$!
if held a; then
	for _ in $(seq 50); do
		grep -q "src SUSPENDED [0-9-]* cap " "$T/a/state/journal" && break
		sleep 0.1
	done
	lowered=$(info a cap cap)
	rec=$(grep "src SUSPENDED [0-9-]* cap " "$T/a/state/journal")
	"$SIMCTL" -d "$T/a/host" fault never_converge off >/dev/null
	crash a
	if [ "$lowered" -lt 90 ] && echo "$rec" | grep -q ' cap=90' &&
	    until_ "$mpid" where_ok cap a running &&
	    [ "$(info a cap cap)" = 90 ] && [ "$(names b)" = "" ] &&
	    grep -q "cap: cpu cap restored to 90" "$T/a/log"; then
		ok "throttled to $lowered, source killed: cap 90 again at A"
	else bad "throttled, source killed: cap $lowered then $(info a cap cap), $(info a cap state), rec [$rec]"; fi
else
	release a
	"$SIMCTL" -d "$T/a/host" fault never_converge off >/dev/null
	bad "throttled, source killed: never suspended"
fi
"$SIMCTL" -d "$T/a/host" destroy cap >/dev/null 2>&1

# 3. A save killed mid-way: its worker alone (the simulated save kills
#    its process after 64 KiB), and then the whole relocd (held before
#    the first byte).  The temporary file is there while it runs.
temps() {	# DOM: the names of its image's temporary files
	for f in "$T/img/.$1.xl."*; do [ -e "$f" ] && echo "${f##*/}"; done
}
"$SIMCTL" -d "$T/a/host" create s1 --mem-mib 8 >/dev/null
"$SIMCTL" -d "$T/a/host" fault die_after 65536 >/dev/null
X a save s1 "$T/img/s1.xl" > "$T/out" 2>&1 &
mpid=$!
# (the worker's death is reconciled by the running relocd)
if until_ "$mpid" where_ok s1 a running && [ -z "$(temps s1)" ] &&
    [ ! -e "$T/img/s1.xl" ] && grep -q "tmp=$T/img/.s1.xl." "$T/a/state/journal" &&
    grep -q "removed $T/img/.s1.xl.[A-Za-z0-9]*, the temporary file" "$T/a/log"; then
	ok "save, worker killed: no temporary file left, guest runs"
else bad "save, worker killed: left [$(ls -A "$T/img")] s1 $(info a s1 state)"; fi
"$SIMCTL" -d "$T/a/host" fault die_after off >/dev/null

"$SIMCTL" -d "$T/a/host" create s2 --mem-mib 8 >/dev/null
"$SIMCTL" -d "$T/a/host" fault hold save >/dev/null
X a save s2 "$T/img/s2.xl" > "$T/out" 2>&1 &
mpid=$!
if held a; then
	during=$(temps s2)
	crash a
	if [ -n "$during" ] && until_ "$mpid" where_ok s2 a running &&
	    [ -z "$(temps s2)" ] && [ ! -e "$T/img/s2.xl" ]; then
		ok "save, relocd killed: its temporary file $during removed"
	else bad "save, relocd killed: during [$during] after [$(ls -A "$T/img")] s2 $(info a s2 state)"; fi
else
	release a
	bad "save, relocd killed: never reached the save"
fi

# 4. After COMMITTED the target's unpause fails: it answers ACTIVATED
#    with a failure, the source resumes its copy, and the target is
#    killed as it is about to destroy its own (hold "destroy").  Its
#    restart must not activate that copy: one domain, running at A.
"$SIMCTL" -d "$T/a/host" create act --mem-mib 8 >/dev/null
"$SIMCTL" -d "$T/b/host" fault fail_unpause 1 >/dev/null
"$SIMCTL" -d "$T/b/host" fault hold destroy >/dev/null
"$CTLC" "$T/a/relocd.sock" migrate act 127.0.0.1 "$PB" \
    $((F_LIVE | F_LOCALHOST)) > "$T/out" 2>&1 &
mpid=$!
if held b; then
	"$SIMCTL" -d "$T/b/host" fault fail_unpause 0 >/dev/null
	crash b
	if until_ "$mpid" where_ok act a running &&
	    [ -z "$(info b act state 2>/dev/null)" ] &&
	    grep -q "destroyed act (domain [0-9]*): it was given back to the source" "$T/b/log"; then
		ok "activation failed after COMMITTED, target killed: runs at A only"
	else bad "activation failed, target killed: a [$(names a)] b [$(names b)] act at B: $(info b act state 2>/dev/null)"; fi
else
	release b
	"$SIMCTL" -d "$T/b/host" fault fail_unpause 0 >/dev/null
	bad "activation failed after COMMITTED: the target never destroyed"
fi

# 5. The target's fdatasync of its COMMITTED record fails (EIO) after
#    the write went in: the record is what QUERY and reconciliation
#    read, so the domain is committed there, and runs at B only.
"$SIMCTL" -d "$T/a/host" create sync --mem-mib 8 >/dev/null
"$SIMCTL" -d "$T/b/host" fault fail_sync COMMITTED >/dev/null
"$CTLC" "$T/a/relocd.sock" migrate sync 127.0.0.1 "$PB" \
    $((F_LIVE | F_LOCALHOST)) > "$T/out" 2>&1 &
mpid=$!
if until_ "$mpid" where_ok sync b running &&
    [ -z "$(info a sync state 2>/dev/null)" ] &&
    grep -q "fdatasync.*may not be on disk; sync is committed here" "$T/b/log"; then
	ok "COMMITTED written, its fdatasync failed: committed, runs at B"
else bad "COMMITTED's fdatasync failed: a [$(names a)] b [$(names b)] sync at B: $(info b sync state 2>/dev/null)"; fi
"$SIMCTL" -d "$T/b/host" fault fail_sync off >/dev/null
"$SIMCTL" -d "$T/b/host" destroy sync >/dev/null 2>&1

# Both daemons still work afterwards.
if X a save s2 "$T/img/s2.xl" > "$T/out" 2>&1 && [ -s "$T/img/s2.xl" ] &&
    [ -z "$(temps s2)" ]; then
	ok "a save afterwards"
else bad "a save afterwards"; fi

finish
