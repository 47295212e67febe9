# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2086,SC2034 # sourced after /lab/lib.sh; trip splits its commands
# xlab: hosts=1 xen=shadow timeout=900 default=yes
# xlab-desc: a PVH guest through relocd: xl save -> verify -> xl-reloc restore, xl-reloc save -> xl restore, a live migration, a cancel in pre-copy
# One PVH witness (HVM_CONTEXT, HVM_PARAMS, log-dirty through the p2m) goes
# through each path relocd offers, in turn, and must come out of each as
# the same running guest:
#   1. stock xl save; xl-reloc verify parses it (a PVH stream, no trailer);
#      xl-reloc restore brings it back;
#   2. xl-reloc save (our trailer); verify; stock xl restore;
#   3. xl-reloc migrate --plain, live, relocd a -> relocd b, bounded by
#      --max-downtime (generous: the estimate must price a PVH stream),
#      then back with --max-downtime 1 --auto-converge: the guest's cpu
#      cap (80) lowered step by step, and 80 again after the move;
#   4. a migration a -> b cancelled in its first pre-copy pass: exit 5, the
#      guest runs on at a, nothing left at b.
WITNESS_TYPE=pvh
relocd_pair
witness_create witness 128 256

# trip WHAT SAVE RESTORE [NOTE]: the witness saved by SAVE, the image read
# whole by xl-reloc verify (a PVH image; NOTE in its summary, if given),
# and restored by RESTORE; GAP = the guest's gap.
trip() {
	_w=$1 _note=${4:-}
	before=$(last_tick witness)
	timed $2 witness /tmp/w.img || { relocd_logs a; fail "$_w: $2 failed"; }
	metric "${_w}_save_ms" "$ELAPSED_MS"
	metric "${_w}_image_bytes" "$(stat -c %s /tmp/w.img)"
	/usr/local/sbin/xl-reloc verify /tmp/w.img > /tmp/verify.out 2>&1 ||
		{ cat /tmp/verify.out; fail "$_w: verify refused the image"; }
	say "verify: $(cat /tmp/verify.out)"
	grep -q "pvh guest.*$_note" /tmp/verify.out ||
		fail "$_w: verify does not see a PVH guest${_note:+ and \"$_note\"}"
	timed $3 /tmp/w.img || { relocd_logs a; fail "$_w: $3 failed"; }
	metric "${_w}_restore_ms" "$ELAPSED_MS"
	check_domains witness
	check_witness witness "$before"
	GAP=$DOWNTIME_MS
	rm -f /tmp/w.img
}

# 1. stock xl save -> xl-reloc restore; 2. xl-reloc save -> stock xl restore
trip xl "xl save" "xr restore" "written by xl save"
gap1=$GAP
trip reloc "xr save" "xl restore"
gap2=$GAP

# 3. live, relocd a -> relocd b
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
gap3=$DOWNTIME_MS
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

# 4. a -> b, cancelled in pre-copy
relocd_cancel_precopy
relocd_logs a b
pass "PVH: xl save -> xl-reloc restore gap ${gap1}ms; xl-reloc save -> xl restore gap ${gap2}ms; live migrate ${migrate_ms}ms gap ${gap3}ms; throttled back, cap 80 kept; cancel in pre-copy gap ${DOWNTIME_MS}ms"
