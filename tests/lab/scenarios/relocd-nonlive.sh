# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=150 default=yes
# xlab-desc: xl-reloc migrate --non-live (stop-and-copy) between two relocd daemons
relocd_pair
witness_create witness 128 256

before=$(last_tick witness)
timed xr migrate --plain --port 8012 \
	--localhost --non-live witness 127.0.0.1 > /tmp/mig.out 2>&1 ||
	{ cat /tmp/mig.out; relocd_logs a b; fail "xl-reloc migrate --non-live failed"; }
cat /tmp/mig.out
metric migrate_ms "$ELAPSED_MS"
grep -q 'guest paused' /tmp/mig.out || fail "xl-reloc reported no downtime (guest paused)"
check_domains witness
check_witness witness "$before"
relocd_logs a b
pass "stop-and-copy ${ELAPSED_MS}ms, guest gap ${DOWNTIME_MS}ms; $(sed -n 's/.*\(guest paused [^,]*\).*/xl-reloc: \1/p' /tmp/mig.out)"
