# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=300 default=yes
# xlab-desc: an xl save image restored by xl-reloc, an xl-reloc save image restored by stock xl; timings against xl
[ -x /usr/local/sbin/relocd ] || fail "no relocd in dom0 (lab build --bindir DIR)"
X="/usr/local/sbin/xl-reloc -c /run/ra/relocd.conf"
relocd_start a 8002
witness_create witness 128 256

# Stock xl save, xl-reloc restore (an image without our trailer).
before=$(last_tick witness)
timed xl save witness /tmp/xl.save || fail "xl save failed"
xl_save=$ELAPSED_MS
/usr/local/sbin/xl-reloc verify /tmp/xl.save | grep -q "written by xl save" ||
	fail "verify does not recognise an xl save image"
# shellcheck disable=SC2086 # X is a command with its options
timed $X restore /tmp/xl.save || { relocd_logs a; fail "xl-reloc restore of an xl save image failed"; }
reloc_restore=$ELAPSED_MS
check_domains witness
check_witness witness "$before"
gap1=$DOWNTIME_MS
metric xl_image_bytes "$(stat -c %s /tmp/xl.save)"
rm -f /tmp/xl.save

# xl-reloc save, stock xl restore (xl stops at the libxl END record and
# never reads the trailer).
before=$(last_tick witness)
# shellcheck disable=SC2086
timed $X save witness /tmp/reloc.xl || { relocd_logs a; fail "xl-reloc save failed"; }
reloc_save=$ELAPSED_MS
timed xl restore /tmp/reloc.xl || fail "stock xl restore of an xl-reloc image failed"
xl_restore=$ELAPSED_MS
check_domains witness
check_witness witness "$before"
metric reloc_image_bytes "$(stat -c %s /tmp/reloc.xl)"
rm -f /tmp/reloc.xl

metric xl_save_ms "$xl_save"
metric xl_restore_ms "$xl_restore"
metric reloc_save_ms "$reloc_save"
metric reloc_restore_ms "$reloc_restore"
# Ratios in percent of stock xl's time (100 = as fast).
metric save_vs_xl_pct $((reloc_save * 100 / (xl_save > 0 ? xl_save : 1)))
metric restore_vs_xl_pct $((reloc_restore * 100 / (xl_restore > 0 ? xl_restore : 1)))
pass "xl save -> xl-reloc restore (gap ${gap1}ms), xl-reloc save -> xl restore (gap ${DOWNTIME_MS}ms); save ${reloc_save}/${xl_save}ms, restore ${reloc_restore}/${xl_restore}ms (xl-reloc/xl)"
