# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2086,SC2034 # sourced after /lab/lib.sh; trip splits its commands
# xlab: hosts=1 xen=shadow timeout=900 default=yes
# xlab-desc: a PVH guest through relocd: save/restore with stock xl both ways and through relocd alone, damaged images refused, a live migration, a cancel in pre-copy, then reboot, crash and power-off under relocd
# One PVH witness (HVM_CONTEXT, HVM_PARAMS, log-dirty through the p2m) goes
# through each path relocd offers, in turn, and must come out of each as
# the same running guest:
#   1. stock xl save; xl-reloc verify parses it (a PVH stream, no trailer);
#      xl-reloc restore brings it back;
#   2. xl-reloc save (our trailer); verify; a byte damaged in its memory
#      is refused by xl-reloc restore (libxl builds the whole PVH domain,
#      the trailer check fails, it is destroyed, never run); stock xl
#      restore of the image made whole again;
#   3. xl-reloc save --compress and xl-reloc restore, relocd at both ends;
#      its first half alone is refused;
#   4. xl-reloc migrate --plain, live, relocd a -> relocd b, bounded by
#      --max-downtime (generous: the estimate must price a PVH stream),
#      then back with --max-downtime 1 --auto-converge: the guest's cpu
#      cap (80) lowered step by step, and 80 again after the move;
#   5. a migration a -> b cancelled in its first pre-copy pass: exit 5, the
#      guest runs on at a, nothing left at b;
#   6. its life under relocd a, which received it in 4 (no xl process
#      watches it): it reboots, crashes (on_crash="restart") and powers
#      off on cue; a restarts it twice, as a new PVH domain with its name
#      and uuid, then lets it go.
# noxsave: under the lab's QEMU a PVH guest's XSAVE state is set behind
# Xen's back and not carried by a save (tests/lab/README.md, "Guest
# types"); it was lost once within one host too.
WITNESS_TYPE=pvh
WITNESS_KARGS=noxsave
WITNESS_ON_CRASH=restart
# on a failure: both relocd's logs, the guest's last lines, Xen's
pvh_diag() {
	relocd_logs a b
	say "--- the witness's last lines"
	wall witness | tail -n 15
	say "--- xl dmesg"
	xl dmesg | tail -n 20
}
FAIL_HOOK=pvh_diag
relocd_pair
witness_create witness 128 256

# trip WHAT SAVE RESTORE [NOTE [CHECK]]: the witness saved by SAVE, the
# image read whole by xl-reloc verify (a PVH image; NOTE in its summary,
# if given), CHECK run on it (damaged copies refused, say), and restored
# by RESTORE; GAP = the guest's gap.
trip() {
	_tw=$1 _note=${4:-}
	before=$(last_tick witness)
	timed $2 witness /tmp/w.img || { relocd_logs a; fail "$_tw: $2 failed"; }
	metric "${_tw}_save_ms" "$ELAPSED_MS"
	metric "${_tw}_image_bytes" "$(stat -c %s /tmp/w.img)"
	/usr/local/sbin/xl-reloc verify /tmp/w.img > /tmp/verify.out 2>&1 ||
		{ cat /tmp/verify.out; fail "$_tw: verify refused the image"; }
	say "verify: $(cat /tmp/verify.out)"
	grep -q "pvh guest.*$_note" /tmp/verify.out ||
		fail "$_tw: verify does not see a PVH guest${_note:+ and \"$_note\"}"
	[ -z "${5:-}" ] || $5 /tmp/w.img
	timed $3 /tmp/w.img || { relocd_logs a; fail "$_tw: $3 failed"; }
	metric "${_tw}_restore_ms" "$ELAPSED_MS"
	check_domains witness
	check_witness witness "$before"
	GAP=$DOWNTIME_MS
	rm -f /tmp/w.img
}
# damaged IMG: a byte of guest memory in the middle changed
damaged() {
	_sz=$(stat -c %s "$1")
	poke "$1" $((_sz / 2))
	timed image_refused "$1" damaged
	metric damaged_refused_ms "$ELAPSED_MS"
	unpoke "$1" $((_sz / 2))
}
# truncated IMG: its first half alone
truncated() {
	head -c $(($(stat -c %s "$1") / 2)) "$1" > /tmp/short.img
	image_refused /tmp/short.img truncated-compressed
	rm -f /tmp/short.img
}

# 1. stock xl save -> xl-reloc restore; 2. xl-reloc save -> stock xl
# restore; 3. relocd at both ends, compressed
trip xl "xl save" "xr restore" "written by xl save"
gap1=$GAP
trip reloc "xr save" "xl restore" "" damaged
gap2=$GAP
t0=$(now_ms)
trip relocz "xr save --compress" "xr restore" compressed truncated
gap3=$GAP
metric relocz_trip_ms $(($(now_ms) - t0))

# 4. live, relocd a -> relocd b
before=$(last_tick witness)
timed xr migrate --plain --port 8012 --localhost --max-downtime 30000 \
    --downtime-abort witness 127.0.0.1 ||
	{ relocd_logs a b; fail "xl-reloc migrate of a PVH guest failed"; }
migrate_ms=$ELAPSED_MS
relocd_result a
metric migrate_ms "$migrate_ms"
metric migrate_paused_ms "$R_PAUSED_MS"
metric migrate_rounds "$R_ROUNDS"
metric migrate_wire_bytes "$R_WIRE_BYTES"
check_domains witness
check_witness witness "$before"
gap4=$DOWNTIME_MS
dom_cap witness 80 || fail "cannot cap the witness"
before=$(last_tick witness)
/usr/local/sbin/xl-reloc -c /run/rb/relocd.conf migrate --plain --port 8002 \
	--localhost --max-downtime 1 --auto-converge --json witness 127.0.0.1 \
	> /tmp/mig.out 2>&1 || { relocd_logs a b; fail "auto-converge migration of a PVH guest failed"; }
grep -o '"text":"guest throttled[^"]*"' /tmp/mig.out | sort -u
grep -q '"text":"guest throttled to 40% cpu' /tmp/mig.out ||
	{ relocd_logs a b; fail "auto-converge never throttled the PVH guest"; }
check_domains witness
check_witness witness "$before"
[ "$(dom_cap witness)" = 80 ] || fail "after the move the cap is $(dom_cap witness), not 80"

# 5. a -> b, cancelled in pre-copy
relocd_cancel_precopy
gap5=$DOWNTIME_MS

# 6. reboot, crash, power-off; relocd a acts on each
t0=$(now_ms)
wait_for 30 owned_is a witness watching ||
	{ xr list; relocd_logs a; fail "relocd a does not look after the witness"; }
# restarted KEY WHY: on cue KEY, a restarts the witness, as a PVH guest
restarted() {
	mark witness
	say "witness (domain $M_ID) at tick $M_N: $2 on cue"
	cue witness "$1"
	check_restarted witness
	check_domains witness
	check_type witness
	wait_for 30 logged /run/ra/log "witness (domain $M_ID): $2, action restart" ||
		{ relocd_logs a; fail "relocd a's log does not say why it restarted the witness"; }
	wait_for 30 owned_is a witness watching ||
		{ xr list; fail "relocd a no longer looks after the witness"; }
}
restarted R reboot
id1=$M_ID
restarted K crash
id2=$M_ID
id3=$(xl domid witness)
cue witness P
wait_for 60 gone witness || { xl list; fail "the witness is still in xl list after its poweroff"; }
wait_for 30 logged /run/ra/log "witness (domain $id3): poweroff, action destroy" ||
	{ relocd_logs a; fail "relocd a's log does not say why the witness went"; }
wait_for 30 not_owned a witness || fail "relocd a keeps an entry for the witness"
check_domains
metric life_ms $(($(now_ms) - t0))
relocd_logs a b
pass "PVH: xl save -> xl-reloc restore gap ${gap1}ms; xl-reloc save -> xl restore gap ${gap2}ms; compressed, relocd both ends, gap ${gap3}ms; damaged and truncated images refused; live migrate ${migrate_ms}ms gap ${gap4}ms; throttled back, cap 80 kept; cancel in pre-copy gap ${gap5}ms; restarted after reboot (domain $id1) and crash (domain $id2), destroyed after power-off"
