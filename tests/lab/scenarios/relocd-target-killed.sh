# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=180 default=yes
# xlab-desc: the target relocd killed mid-stream: the source resumes, the restarted target removes its --incoming
# kill -9 of relocd B and of its worker in the middle of pre-copy: A sees
# the connection die and says so (not libxl's echo of it), and its guest
# runs on under its own name (xl-reloc exits 4, failed); B's half-built
# NAME--incoming stays until B restarts, and B's startup reconciliation
# destroys it, as its journal says the migration never committed.
relocd_pair
witness_create witness 128 1024

before=$(last_tick witness)
xr migrate --plain --port 8012 \
	--localhost --bandwidth 8M witness 127.0.0.1 > /tmp/mig.out 2>&1 &
mpid=$!
relocd_wait_bytes a migrate-out 8000000 60 ||
	{ cat /tmp/mig.out; relocd_logs a b; fail "the migration never got 8 MB into pre-copy"; }
wpid=$(relocd_job b migrate-in pid)
bpid=$(cat /run/rb/relocd.pid)
[ -n "$wpid" ] && [ -n "$bpid" ] ||
	{ relocd_logs a b; fail "no migrate-in worker on B (pid '$wpid') or no relocd B (pid '$bpid')"; }
metric bytes_at_kill "$(relocd_job a migrate-out bytes_wire)"
# Stopped first, so neither sees the other die and cleans up on its way out.
kill -STOP "$bpid" "$wpid"
kill -9 "$bpid" "$wpid"
tk=$(now_ms)
wait $mpid
rc=$?
metric source_back_ms $(($(now_ms) - tk))
cat /tmp/mig.out
[ "$rc" -eq 4 ] || { relocd_logs a b; fail "xl-reloc migrate exited $rc after the target died, want 4"; }
xl list
xl list | grep -q 'witness--incoming' ||
	{ relocd_logs a b; fail "no witness--incoming left for the restarted B to clean up"; }
# the source copy runs on; the target's leftover is all there may be else
check_advancing witness

tr=$(now_ms)
relocd_run b
_n=0
until grep -q 'never committed' /run/rb/log; do
	_n=$((_n + 1))
	[ $_n -gt 100 ] && { relocd_logs a b; fail "restarted relocd B did not reconcile the job"; }
	usleep 200000
done
metric restart_reconcile_ms $(($(now_ms) - tr))
check_domains witness
check_witness witness "$before"
grep -q 'reconcile: journal: ABORTED' /run/rb/log ||
	{ relocd_logs a b; fail "B's reconciliation did not close the job in its journal"; }
grep -q '127.0.0.1:8012' /tmp/mig.out && ! grep -q 'helper' /tmp/mig.out ||
	{ relocd_logs a b; fail "xl-reloc does not say that the target went away"; }
relocd_logs a b
pass "source resumed (exit 4), restarted target cleaned up; guest gap ${DOWNTIME_MS}ms"
