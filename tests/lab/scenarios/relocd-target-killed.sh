# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=240 default=yes
# xlab-desc: the target relocd killed mid-stream, twice (the second time with A's relay held in its shutdown): the source resumes and names the target, the restarted target removes its --incoming
# kill -9 of relocd B and of its worker in the middle of pre-copy: A sees
# the connection die and says so (not libxl's echo of it: its save helper
# dies of SIGPIPE once A's relay shuts the socketpair), and its guest runs
# on under its own name (xl-reloc exits 4, failed); B's half-built
# NAME--incoming stays until B restarts, and B's startup reconciliation
# destroys it, as its journal says the migration never committed.
# Twice: as it comes, and with the order that used to hide the cause
# forced -- relocd A (and its worker) run with slow_shutdown.so preloaded,
# which holds the relay 700 ms right after it shut the socketpair, so the
# helper's death is reaped before the relay runs again.
relocd_pair
witness_create witness 128 1024
SLOW=/usr/local/lib/xlab/slow_shutdown.so
[ -r "$SLOW" ] || fail "no $SLOW in dom0 (tests/run-tests --lab-build makes the overlay)"

# kill_target ROUND: one migration A -> B, B killed in pre-copy, B back.
kill_target() {
	before=$(last_tick witness)
	xr migrate --plain --port 8012 \
		--localhost --bandwidth 8M witness 127.0.0.1 > /tmp/mig.out 2>&1 &
	mpid=$!
	relocd_wait_bytes a migrate-out 8000000 60 ||
		{ cat /tmp/mig.out; relocd_logs a b; fail "$1: the migration never got 8 MB into pre-copy"; }
	wpid=$(relocd_job b migrate-in pid)
	bpid=$(cat /run/rb/relocd.pid)
	[ -n "$wpid" ] && [ -n "$bpid" ] ||
		{ relocd_logs a b; fail "$1: no migrate-in worker on B (pid '$wpid') or no relocd B (pid '$bpid')"; }
	metric "bytes_at_kill_$1" "$(relocd_job a migrate-out bytes_wire)"
	# Stopped first, so neither sees the other die and cleans up on its way out.
	kill -STOP "$bpid" "$wpid"
	kill -9 "$bpid" "$wpid"
	tk=$(now_ms)
	wait $mpid
	rc=$?
	metric "source_back_ms_$1" $(($(now_ms) - tk))
	cat /tmp/mig.out
	[ "$rc" -eq 4 ] || { relocd_logs a b; fail "$1: xl-reloc migrate exited $rc after the target died, want 4"; }
	xl list
	xl list | grep -q 'witness--incoming' ||
		{ relocd_logs a b; fail "$1: no witness--incoming left for the restarted B to clean up"; }
	# the source copy runs on; the target's leftover is all there may be else
	check_advancing witness

	tr=$(now_ms)
	relocd_run b
	_n=0
	until [ "$(grep -c 'never committed' /run/rb/log)" -ge "$2" ]; do
		_n=$((_n + 1))
		[ $_n -gt 100 ] && { relocd_logs a b; fail "$1: restarted relocd B did not reconcile the job"; }
		usleep 200000
	done
	metric "restart_reconcile_ms_$1" $(($(now_ms) - tr))
	check_domains witness
	check_witness witness "$before"
	[ "$(grep -c 'reconcile: journal: ABORTED' /run/rb/log)" -ge "$2" ] ||
		{ relocd_logs a b; fail "$1: B's reconciliation did not close the job in its journal"; }
	grep -q '127.0.0.1:8012' /tmp/mig.out && ! grep -q 'helper' /tmp/mig.out ||
		{ relocd_logs a b; fail "$1: xl-reloc does not say that the target went away"; }
	# A's log: the cause, then libxl's echo below it as what followed
	grep -A1 'witness: .*127.0.0.1:8012' /run/ra/log | grep -q 'what followed: ' ||
		{ relocd_logs a b; fail "$1: A's log does not show libxl's failure below the cause"; }
}

kill_target as-it-comes 1
gap1=$DOWNTIME_MS

# relocd A again, now held in every relay shutdown (it has no job left).
kill "$(cat /run/ra/relocd.pid)"
_n=0
while [ -S /run/ra/relocd.sock ] && [ $_n -lt 50 ]; do
	_n=$((_n + 1))
	usleep 100000
done
export LD_PRELOAD=$SLOW TEST_SLOW_SHUTDOWN_MS=700
relocd_run a
unset LD_PRELOAD TEST_SLOW_SHUTDOWN_MS
kill_target helper-first 2
relocd_logs a b
pass "source resumed (exit 4) and named the target both times, restarted target cleaned up; guest gaps ${gap1}ms, ${DOWNTIME_MS}ms"
