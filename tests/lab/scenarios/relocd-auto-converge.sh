# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=300 default=yes
# xlab-desc: the max-downtime policy on real Xen: auto-converge by cpu cap, downtime-abort, the cap restored
# A witness that dirties faster than a 16 MiB/s link sends.  With
# --downtime-abort alone the migration is given up and the guest runs on
# at A with its cap (80); with --auto-converge relocd caps its cpu (credit
# or credit2) step by step, and the copy at B runs with the cap the guest
# had.  The witness needs little cpu to dirty its pages, so a cap need not
# slow it here: this checks the mechanism on real Xen (the cap set, put
# back, carried to the target), the sim's tests check convergence.
# Localhost: relocd A and B share the hypervisor.
[ -x /usr/local/sbin/relocd ] && [ -x /usr/local/sbin/xl-reloc ] ||
	fail "no relocd/xl-reloc in dom0 (lab build --bindir DIR)"

sched=$(xl info | awk '$1 == "xen_scheduler" { print $3 }')
case $sched in
credit) SC="sched-credit" ;;
credit2) SC="sched-credit2" ;;
*) fail "scheduler $sched has no cpu cap" ;;
esac
# cap NAME: the cap column of xl sched-credit[2] for NAME
cap() { xl "$SC" -d "$1" | awk -v n="$1" '$1 == n { print $NF }'; }

relocd_start a 8002
relocd_start b 8012
# 128 MiB, 1500 pages dirtied per 100 ms tick in a 24 MiB working set:
# about 60 MiB/s of dirt against 16 MiB/s of link.
witness_create witness 128 1500 24
xl "$SC" -d witness -c 80 || fail "cannot cap the witness"
[ "$(cap witness)" = 80 ] || fail "cap of the witness is $(cap witness), not 80"

mig() {
	/usr/local/sbin/xl-reloc -c /run/ra/relocd.conf migrate --plain --port 8012 \
		--localhost --bandwidth 16M --max-downtime 100 --json "$@" witness 127.0.0.1 \
		> /tmp/mig.out 2>&1
}

# 1. --downtime-abort alone: exit 4, runs on here, cap 80, never throttled.
timed mig --downtime-abort; rc=$?
abort_ms=$ELAPSED_MS
metric abort_ms "$abort_ms"
grep '"event":"result"' /tmp/mig.out
[ "$rc" -eq 4 ] || { relocd_logs a b; fail "downtime-abort: exit $rc, want 4"; }
grep -q 'does not converge: expected downtime [0-9]* ms, allowed 100 ms' /tmp/mig.out ||
	{ relocd_logs a b; fail "downtime-abort: no report naming the downtimes"; }
! grep -q throttled /tmp/mig.out || fail "downtime-abort alone throttled the guest"
check_domains witness
check_advancing witness
[ "$(cap witness)" = 80 ] || fail "after the abort the cap is $(cap witness), not 80"

# 2. --auto-converge: throttled, migrated, the copy at B capped at 80.
before=$(last_tick witness)
timed mig --auto-converge; rc=$?
metric converge_ms "$ELAPSED_MS"
grep '"event":"result"' /tmp/mig.out
grep -o '"text":"guest throttled[^"]*"' /tmp/mig.out | sort -u
[ "$rc" -eq 0 ] || { relocd_logs a b; fail "auto-converge: exit $rc"; }
grep -q '"text":"guest throttled to 40% cpu' /tmp/mig.out ||
	{ relocd_logs a b; fail "auto-converge: never throttled"; }
check_domains witness
check_witness witness "$before"
[ "$(cap witness)" = 80 ] || fail "at B the cap is $(cap witness), not 80"
relocd_logs a b
pass "abort in ${abort_ms}ms; throttled and migrated, guest gap ${DOWNTIME_MS}ms, cap 80 kept"
