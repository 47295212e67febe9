# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=150 default=yes
# xlab-desc: xl-reloc cancel during pre-copy: the guest runs on at the source, nothing left at the target
# A busy guest and a bandwidth limit keep the first pre-copy pass going
# for ~15 s; the cancel lands in the middle of it.  The failure rule says
# the source still owns the domain: same name, counter continuing, no
# second copy, no --incoming container, and xl-reloc exits 5 (cancelled).
relocd_pair
witness_create witness 128 1024

before=$(last_tick witness)
t0=$(now_ms)
xr migrate --plain --port 8012 \
	--localhost --bandwidth 8M witness 127.0.0.1 > /tmp/mig.out 2>&1 &
mpid=$!
relocd_wait_bytes a migrate-out 8000000 60 ||
	{ cat /tmp/mig.out; relocd_logs a b; fail "the migration never got 8 MB into pre-copy"; }
job=$(relocd_job a migrate-out job)
metric bytes_at_cancel "$(relocd_job a migrate-out bytes_wire)"
tc=$(now_ms)
xr cancel "$job" ||
	{ relocd_logs a b; fail "xl-reloc cancel $job failed"; }
wait $mpid
rc=$?
t1=$(now_ms)
cat /tmp/mig.out
metric cancel_ms $((t1 - tc))
[ "$rc" -eq 5 ] || { relocd_logs a b; fail "xl-reloc migrate exited $rc after the cancel, want 5"; }
check_domains witness
check_witness witness "$before"
[ -z "$(relocd_job a migrate-out job)$(relocd_job b migrate-in job)" ] ||
	{ relocd_logs a b; fail "a job is still listed after the cancel"; }
grep -q ABORTED /run/ra/state/journal ||
	{ relocd_logs a b; fail "A's journal does not record the abort"; }
relocd_logs a b
pass "cancelled after $((tc - t0))ms of pre-copy, rolled back in $((t1 - tc))ms; guest gap ${DOWNTIME_MS}ms"
