# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=600 default=yes
# xlab-desc: relocd acts on a crash after a migration: on_crash="restart" restarts it, "preserve" leaves it
# Two relocd in one dom0 (A 8002, B 8012).  A witness with
# on_crash="restart" moves A -> B and crashes on cue (its init exits: a
# panic, which Xen reports as a crash): B's relocd, its monitor now,
# restarts it under its own name and uuid.  Then a second, with the lab's
# default on_crash="preserve", moves A -> B and crashes: B leaves it
# crashed, as xl would.
relocd_pair
xb() { /usr/local/sbin/xl-reloc -c /run/rb/relocd.conf "$@"; }
# move NAME: A -> B through relocd, and B looks after it
move() {
	timed xr migrate --plain --port 8012 --localhost "$1" 127.0.0.1 ||
		{ relocd_logs a b; fail "xl-reloc migrate $1 A -> B failed"; }
	wait_for 30 owned_is b "$1" watching ||
		{ xb list; fail "relocd B does not look after $1"; }
	[ -z "$(owned a "$1")" ] || fail "relocd A looks after $1 too"
}

witness_cfg witness 96 16 8
sed 's/^on_crash = .*/on_crash = "restart"/' /tmp/witness.cfg > /tmp/w.cfg
timed xl create -q /tmp/w.cfg || fail "xl create witness failed"
wait_tick witness 5 60 || fail "witness did not start ticking"
move witness
metric migrate_ms "$ELAPSED_MS"
wait_tick witness 40 60 || fail "witness stopped ticking after the move"
mark witness
say "witness (domain $M_ID) at tick $M_N: crash on cue"
cue witness K
check_restarted witness
check_domains witness
wait_for 30 logged /run/rb/log "witness (domain $M_ID): crash, action restart" ||
	{ relocd_logs b; fail "relocd B's log does not say why it restarted witness"; }
wait_for 30 owned_is b witness watching || fail "relocd B no longer looks after witness"

# Right after B's restart, a move into B (with XSAVE offered to the lab's
# Xen this is where dom0's SIMD state went wrong: tests/lab/README.md).
witness_create keeper 96 16 8
move keeper
wait_tick keeper 20 60 || fail "keeper stopped ticking after the move"
kid=$(xl domid keeper)
cue keeper K
wait_for 60 logged /run/rb/log "keeper (domain $kid): crash, action preserve" ||
	{ relocd_logs b; fail "relocd B did not act on keeper's crash"; }
st=$(xl list keeper | awk 'NR == 2 { print $5 }')
case $st in *c*) ;; *) xl list; fail "keeper is [$st], not crashed and kept" ;; esac
[ "$(xl domid keeper)" = "$kid" ] || fail "keeper is no longer domain $kid"
owned_is b keeper preserved || fail "relocd B says keeper is [$(owned b keeper)], not preserved"
xl destroy keeper
wait_for 30 not_owned b keeper || fail "keeper destroyed, but relocd B keeps an entry"

check_domains witness
relocd_logs b
pass "restart: domain $M_ID -> $(xl domid witness); preserve: keeper left crashed"
