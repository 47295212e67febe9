# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=600 default=yes
# xlab-desc: an xl save image restored by xl-reloc, an xl-reloc save image restored by stock xl; timings against xl
# Three rounds on one guest, the order of the two pairs alternating by
# round: (xl save -> xl-reloc restore) and (xl-reloc save -> xl restore).
# The verdict is the interoperation alone; the timings are metrics: per
# round, and the median of the three rounds' ratios, so that one sample
# caught by the machine's load does not make the figure.
[ -x /usr/local/sbin/relocd ] || fail "no relocd in dom0 (lab build --bindir DIR)"
X="/usr/local/sbin/xl-reloc -c /run/ra/relocd.conf"
relocd_start a 8002
witness_create witness 128 256
ROUNDS=3

# job_ms KIND: relocd's own time for its last KIND (save, restore) of the
# witness, from its log: the wall time less the client and the request
job_ms() {
	grep "($1 witness): ok (" /run/ra/log | tail -1 |
	    sed -n 's/.*: ok (\([0-9]*\) ms,.*/\1/p'
}
# settle: relocd's spare worker, started when a job ends, is ready (20 s at
# most; none without one): its start is relocd's own work between jobs,
# not to be counted in the xl command timed next
settle() {
	_n=0
	while [ "$(grep -c 'spare: ready in' /run/ra/log)" -lt \
	    "$(grep -c 'spare worker pid' /run/ra/log)" ] && [ $_n -lt 200 ]; do
		_n=$((_n + 1))
		usleep 100000
	done
}
# median A B C
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
pct() { echo $(($1 * 100 / ($2 > 0 ? $2 : 1))); }

# Stock xl save, xl-reloc restore (an image without our trailer).
xl_pair() {
	before=$(last_tick witness)
	timed xl save witness /tmp/xl.save || fail "xl save failed"
	xs=$ELAPSED_MS
	/usr/local/sbin/xl-reloc verify /tmp/xl.save | grep -q "written by xl save" ||
		fail "verify does not recognise an xl save image"
	# shellcheck disable=SC2086 # X is a command with its options
	timed $X restore /tmp/xl.save || { relocd_logs a; fail "xl-reloc restore of an xl save image failed"; }
	rr=$ELAPSED_MS rrj=$(job_ms restore)
	settle
	check_domains witness
	check_witness witness "$before"
	gap1=$DOWNTIME_MS
	xl_image=$(stat -c %s /tmp/xl.save)
	rm -f /tmp/xl.save
}
# xl-reloc save, stock xl restore (xl stops at the libxl END record and
# never reads the trailer).
reloc_pair() {
	before=$(last_tick witness)
	# shellcheck disable=SC2086
	timed $X save witness /tmp/reloc.xl || { relocd_logs a; fail "xl-reloc save failed"; }
	rs=$ELAPSED_MS rsj=$(job_ms save)
	settle
	timed xl restore /tmp/reloc.xl || fail "stock xl restore of an xl-reloc image failed"
	xr_=$ELAPSED_MS
	check_domains witness
	check_witness witness "$before"
	gap2=$DOWNTIME_MS
	reloc_image=$(stat -c %s /tmp/reloc.xl)
	rm -f /tmp/reloc.xl
}

settle
i=1 sp='' rp=''
while [ $i -le $ROUNDS ]; do
	if [ $((i % 2)) -eq 1 ]; then xl_pair; reloc_pair; else reloc_pair; xl_pair; fi
	metric "r${i}_xl_save_ms" "$xs"
	metric "r${i}_reloc_save_ms" "$rs"
	metric "r${i}_reloc_save_job_ms" "${rsj:-0}"
	metric "r${i}_xl_restore_ms" "$xr_"
	metric "r${i}_reloc_restore_ms" "$rr"
	metric "r${i}_reloc_restore_job_ms" "${rrj:-0}"
	sp="$sp $(pct "$rs" "$xs")" rp="$rp $(pct "$rr" "$xr_")"
	eval "xs$i=$xs rs$i=$rs xr$i=$xr_ rr$i=$rr"
	i=$((i + 1))
done
metric xl_image_bytes "$xl_image"
metric reloc_image_bytes "$reloc_image"
# shellcheck disable=SC2086 # the three rounds' figures
{
	metric xl_save_ms "$(median $xs1 $xs2 $xs3)"
	metric xl_restore_ms "$(median $xr1 $xr2 $xr3)"
	metric reloc_save_ms "$(median $rs1 $rs2 $rs3)"
	metric reloc_restore_ms "$(median $rr1 $rr2 $rr3)"
	# Ratios in percent of stock xl's time (100 = as fast): the median of
	# the rounds' own ratios, each of a pair run back to back.
	save_pct=$(median $sp) restore_pct=$(median $rp)
}
metric save_vs_xl_pct "$save_pct"
metric restore_vs_xl_pct "$restore_pct"
pass "xl save -> xl-reloc restore (gap ${gap1}ms), xl-reloc save -> xl restore (gap ${gap2}ms), $ROUNDS rounds; median save ${save_pct}%, restore ${restore_pct}% of xl's time (per round:${sp} /${rp})"
