# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=420 default=yes
# xlab-desc: a PVH guest through relocd: xl save -> verify -> xl-reloc restore, xl-reloc save -> xl restore, a live migration, a cancel in pre-copy
# One PVH witness (HVM_CONTEXT, HVM_PARAMS, log-dirty through the p2m) goes
# through each path relocd offers, in turn, and must come out of each as
# the same running guest:
#   1. stock xl save; xl-reloc verify parses it (a PVH stream, no trailer);
#      xl-reloc restore brings it back;
#   2. xl-reloc save (our trailer); verify; stock xl restore;
#   3. xl-reloc migrate --plain, live, relocd a -> relocd b, bounded by
#      --max-downtime (generous: the estimate must price a PVH stream);
#   4. a migration b -> a cancelled in its first pre-copy pass: exit 5, the
#      guest runs on at b, nothing left at a.
WITNESS_TYPE=pvh
relocd_pair
witness_create witness 128 256
XR=/usr/local/sbin/xl-reloc

# verified FILE WHAT: xl-reloc verify accepts FILE as a whole PVH image.
verified() {
	$XR verify "$1" > /tmp/verify.out 2>&1 ||
		{ cat /tmp/verify.out; fail "verify refused the $2 image"; }
	say "verify: $(cat /tmp/verify.out)"
	grep -q "pvh guest" /tmp/verify.out ||
		fail "verify does not see a PVH guest in the $2 image"
}

# 1. stock xl save -> xl-reloc restore
before=$(last_tick witness)
timed xl save witness /tmp/xl.save || fail "xl save of a PVH guest failed"
metric xl_save_ms "$ELAPSED_MS"
metric xl_image_bytes "$(stat -c %s /tmp/xl.save)"
verified /tmp/xl.save "xl save"
grep -q "written by xl save" /tmp/verify.out ||
	fail "verify does not recognise an xl save image"
timed xr restore /tmp/xl.save ||
	{ relocd_logs a; fail "xl-reloc restore of an xl save PVH image failed"; }
metric reloc_restore_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
gap1=$DOWNTIME_MS
rm -f /tmp/xl.save

# 2. xl-reloc save -> stock xl restore
before=$(last_tick witness)
timed xr save witness /tmp/reloc.xl || { relocd_logs a; fail "xl-reloc save of a PVH guest failed"; }
metric reloc_save_ms "$ELAPSED_MS"
verified /tmp/reloc.xl "xl-reloc save"
timed xl restore /tmp/reloc.xl || fail "stock xl restore of an xl-reloc PVH image failed"
metric xl_restore_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
gap2=$DOWNTIME_MS
rm -f /tmp/reloc.xl

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

# 4. b -> a, cancelled in pre-copy; the bandwidth limit keeps the first
# pass going for ~15 s.
before=$(last_tick witness)
/usr/local/sbin/xl-reloc -c /run/rb/relocd.conf migrate --plain --port 8002 \
	--localhost --bandwidth 8M witness 127.0.0.1 > /tmp/mig.out 2>&1 &
mpid=$!
relocd_wait_bytes b migrate-out 8000000 60 ||
	{ cat /tmp/mig.out; relocd_logs a b; fail "the migration never got 8 MB into pre-copy"; }
job=$(relocd_job b migrate-out job)
metric bytes_at_cancel "$(relocd_job b migrate-out bytes_wire)"
tc=$(now_ms)
/usr/local/sbin/xl-reloc -c /run/rb/relocd.conf cancel "$job" ||
	{ relocd_logs a b; fail "xl-reloc cancel $job failed"; }
wait $mpid
rc=$?
metric cancel_ms $(($(now_ms) - tc))
cat /tmp/mig.out
[ "$rc" -eq 5 ] || { relocd_logs a b; fail "xl-reloc migrate exited $rc after the cancel, want 5"; }
check_domains witness
check_witness witness "$before"
[ -z "$(relocd_job b migrate-out job)$(relocd_job a migrate-in job)" ] ||
	{ relocd_logs a b; fail "a job is still listed after the cancel"; }
relocd_logs a b
pass "PVH: xl save -> xl-reloc restore gap ${gap1}ms; xl-reloc save -> xl restore gap ${gap2}ms; live migrate ${migrate_ms}ms gap ${gap3}ms; cancel in pre-copy gap ${DOWNTIME_MS}ms"
