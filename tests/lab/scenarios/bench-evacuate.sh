# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh (ELAPSED_MS, XLAB_ROLE...)
# xlab: hosts=2 xen=shadow timeout=7200 default=no
# xlab-desc: benchmark (bench/lab-evacuate): 8 small guests evacuated a <-> b, --parallel 1 against 4
# Eight witnesses (96 MiB, the least the guest kernel boots in here with
# room to run; 16 pages/tick, 4 MiB working set) on host a;
# xl-reloc evacuate moves all of them to b, then b evacuates them back to
# a, each leg with its own --parallel: a round is a -> b with 1, b -> a
# with 4, a -> b with 4, b -> a with 1 (the next round swaps 1 and 4), so
# each setting runs once each way, in the same boot, and the machine's
# drift falls on both alike (ABBA); ROUNDS times over.  Plain TCP, and compression = 1 in both relocd (the guests' pages
# are mostly zeros, and QEMU's link between the hosts moves ~3.5 MB/s: an
# uncompressed evacuation only measures the link).  Per evacuation:
# <host>.evac_p<N>_ms (wall time of the whole xl-reloc evacuate, on the
# host it empties); each arrival is checked (all eight run on the
# receiver, none is left on the sender, each resumed rather than booted
# again, its counter moving), never timed against anything.  Each
# evacuation is also stamped at its start and end (legN_pP_begin/_end,
# N counting the evacuations of the run): dom0's clock runs slow when
# QEMU stalls, the machine's, read by the runner, does not.  At the end,
# <host>.relocd_idle_rss_kib: relocd's parent, idle, after all the jobs.
ROUNDS=$(cat /etc/xlab/evac-rounds 2>/dev/null || echo 1)
NG=8
[ -x /usr/local/sbin/relocd ] || fail "no relocd in dom0 (lab build --bindir DIR)"
case $XLAB_ROLE in
a) me=a ;;
b) me=b ;;
*) fail "needs two hosts" ;;
esac
# The peer's address must be admitted (the default is this host only: the
# gate resets anyone else, and the evacuation's first probe of the target
# fails "Connection reset by peer").  Pre-authentication at 120 s, not 10:
# four sandboxes exec'd at once in an emulated dom0 on a loaded machine
# must not be taken for a silent peer.  peer_timeout 600 s, not 60: on
# 2026-12-07 (five QEMU on 2 cores, load 10-12) b's QEMU ran at ~14 % of
# a core, its dom0 logged soft lockups, and a's relocd failed two of four
# incoming jobs of a --parallel 4 leg, its source silent for 60 s (the
# sources resumed, nothing lost): a benchmark of time, not of how long a
# frozen host is waited for.
ip_re=$(echo "$XLAB_PEER" | sed 's/\./\\\\./g')	# 10\\.0\\.0\\.2 in the file
{
	echo "compression = 1"
	echo "preauth_timeout = 120"
	echo "peer_timeout = 600"
	printf 'relocation_hosts_allow = [ "%s" ]\n' "$ip_re"
} > /tmp/r.extra
relocd_start "$me" 8002 /tmp/r.extra
guests() { seq 1 $NG | sed 's/^/g/' | tr '\n' ' '; }

# meet PORT SECONDS: both hosts reach this point before either goes on,
# like lib.sh's barrier, but a peer that failed meanwhile says so (XF) and
# this host fails too, instead of waiting out SECONDS.
port=7201
meet() {
	# -e: a plain "nc -l" with stdin at EOF stops after its first read
	printf '#!/bin/sh\nexec cat > /tmp/meet.%s\n' "$1" > "/tmp/meet-$1"
	chmod +x "/tmp/meet-$1"
	nc -l -p "$1" -e "/tmp/meet-$1" &
	_lp=$!
	_end=$(($(now_ms) + $2 * 1000))
	until echo OK | nc -w 2 "$XLAB_PEER" "$1" >/dev/null 2>&1; do
		grep -q '^XF' "/tmp/meet.$1" 2>/dev/null && break
		[ "$(now_ms)" -gt $_end ] && { kill $_lp; FAIL_HOOK=; fail "meet $1: no peer after $2 s"; }
		sleep 1
	done
	wait $_lp
	# this host's relocd log as well: the peer's failure may be its doing
	grep -q '^XF' "/tmp/meet.$1" && { FAIL_HOOK=; relocd_logs "$me"; fail "$XLAB_PEER failed: $(sed -n 's/^XF //p' "/tmp/meet.$1")"; }
	port=$(($1 + 1))
}
# On our failure, show this host's relocd log, and tell the peer where it
# waits (or will wait) for us.
tell_peer() {
	relocd_logs "$me"
	_end=$(($(now_ms) + 600000))
	until echo "XF $(cut -c6- "$XLAB_RESULT")" | nc -w 2 "$XLAB_PEER" "$port" >/dev/null 2>&1; do
		[ "$(now_ms)" -gt $_end ] && return
		sleep 2
	done
}
# shellcheck disable=SC2034 # lib.sh's fail runs it
FAIL_HOOK=tell_peer

# Waits below are bounded only as a net against a hung host: on a loaded
# 2-core machine a guest's boot, or its 5 ticks, take whatever the
# emulated CPUs give them (xl create took 15-165 s at a load of 10-17),
# and none of it is a verdict.
# create NAME: one witness, started only once the one before ticks, so
# the boots never compete with each other for a's one dom0 vCPU.
create() {
	witness_cfg "$1" 96 16 4
	timed xl create -q "/tmp/$1.cfg" || fail "xl create $1 failed"
	metric "create_$1_ms" "$ELAPSED_MS"
	wait_tick "$1" 5 1200 || fail "witness $1 did not tick within 1200 s"
}
# ticking NAME: NAME's counter moves on (slow under load, never stuck).
ticking() {
	_a=$(last_tick "$1")
	wait_tick "$1" $((_a + 5)) 600 || fail "witness $1 stuck at tick $_a"
}
# emptied: the evacuated guests are gone from this host (a migrated
# domain may still be dying for a moment after xl-reloc returns).
only_dom0() { [ "$(xl list | awk 'NR > 2' | wc -l)" -eq 0 ]; }
emptied() { wait_for 600 only_dom0 || check_domains; }
if [ "$me" = a ]; then
	for g in $(guests); do
		create "$g"
	done
	say "$NG guests up: $(xl list | awk 'NR > 2 { print $1 }' | tr '\n' ' ')"
fi
# b waits while a creates the guests: 15-165 s per xl create were seen
# (2026-12-07, load 10-17), the later ones slower, as the guests already
# running take their share of a's emulated CPUs
meet $port 3000
# evacuate P N: this host's guests to the peer, --parallel P, timed and
# stamped as evacuation N; the peer checks the arrival after the barrier.
# Bounded (the one --parallel 1 leg measured at a load of 13-20 took
# 1787 s) so that a hung host fails the run, naming the leg, rather than
# holding both.
evacuate() {
	say "xl-reloc evacuate --to $XLAB_PEER --plain --parallel $1 ($NG guests)"
	_l0=$(wc -l < "/run/r$me/log")
	stamp "leg$2_p$1_begin"
	# shellcheck disable=SC2046 # the guests' names
	if ! timed timeout 3000 /usr/local/sbin/xl-reloc -c "/run/r$me/relocd.conf" \
	    evacuate --to "$XLAB_PEER" --plain --port 8002 \
	    --parallel "$1" $(guests) > /tmp/evac.out 2>&1; then
		sed 's/^/  | /' /tmp/evac.out
		fail "evacuate --parallel $1 $me -> $XLAB_PEER failed, or no outcome in 3000 s"
	fi
	stamp "leg$2_p$1_end"
	sed 's/^/  | /' /tmp/evac.out
	metric "evac_p$1_ms" "$ELAPSED_MS"
	# each job's own time and pause, from relocd's result lines
	tail -n +$((_l0 + 1)) "/run/r$me/log" |
	    sed -n 's/.*(migrate-out [^)]*): ok (\([0-9]*\) ms, paused \([0-9]*\) ms.*/\1 \2/p' |
	    while read -r _t _p; do
		metric "evac_p$1_job_ms" "$_t"
		metric "evac_p$1_paused_ms" "$_p"
	done
	emptied
}
# arrived: all the guests run here, each resumed (its one "XS start" was
# printed on a at its boot: another here would be a new boot), and tick
arrived() {
	# shellcheck disable=SC2046
	check_domains $(guests)
	_boots=0
	[ "$me" = a ] && _boots=1
	for g in $(guests); do
		[ "$(wall "$g" | grep -c '^XS start')" -le $_boots ] ||
			fail "witness $g booted again on $me after the move"
		ticking "$g"
	done
}
# leg PA PB: a evacuates to b with --parallel PA, b back with PB
nev=0
leg() {
	nev=$((nev + 2))
	[ "$me" = a ] && evacuate "$1" $((nev - 1))
	meet $port 3600
	[ "$me" = b ] && { arrived; evacuate "$2" $nev; }
	meet $port 3600
	[ "$me" = a ] && arrived
}
r=1
while [ $r -le "$ROUNDS" ]; do
	if [ $((r % 2)) -eq 1 ]; then leg 1 4; leg 4 1; else leg 4 1; leg 1 4; fi
	r=$((r + 1))
done
# relocd's parent once every job is over (its workers are gone): the
# issue's bound on its idle memory is 8.5 MiB
metric relocd_idle_rss_kib "$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$(cat "/run/r$me/relocd.pid")/status")"
relocd_logs "$me"
pass "$ROUNDS round(s) of $NG guests a -> b -> a, --parallel 1 and 4"
