# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=600 default=no
# xlab-desc: benchmark: reading 128 MiB of page cache in dom0, read(2) into a buffer against mmap(2)
# Whether a save's read-back (libmig/image_follow.c) could digest the
# image without copying it out of the page cache: bench/readback times
# pread(2) into one buffer against mapping the file, in the lab's PV
# dom0, where each page table entry a mapping makes is Xen's to validate.
# No guest runs: the figure is dom0's alone.  Metrics per round, and the
# median of the rounds' ratios (bench/RESULTS.md has figures).
[ -x /usr/local/sbin/readback ] || fail "no readback in dom0 (tests/run-tests --lab-build makes the link)"
say "/tmp is $(stat -f -c %T /tmp), $(grep -c '^processor' /proc/cpuinfo) vCPU(s)"
/usr/local/sbin/readback -m 128 -r 5 /tmp/readback.dat > /tmp/readback.out ||
	fail "readback failed: $(tail -1 /tmp/readback.out)"
while read -r l; do say "$l"; done < /tmp/readback.out
awk 'NF == 6 && $1 ~ /^[0-9]+$/ { print "XLAB METRIC '"$XLAB_SCEN"' r" $1 "_read_ms " int($2) ;
	print "XLAB METRIC '"$XLAB_SCEN"' r" $1 "_mmap_ms " int($3) ;
	print "XLAB METRIC '"$XLAB_SCEN"' r" $1 "_populate_ms " int($4) }' /tmp/readback.out
med=$(awk 'NF == 6 && $1 ~ /^[0-9]+$/ { print int($5 * 100) }' /tmp/readback.out | sort -n |
	awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
metric mmap_vs_read_pct "$med"
pass "mmap costs ${med}% of read(2) (median of 5 rounds, 128 MiB)"
