# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2034 # sourced after /lab/lib.sh, which reads WITNESS_TYPE
# xlab: hosts=1 xen=shadow timeout=240 default=no
# xlab-desc: (tests/lab/capture-images) stock xl save images of a PV and a PVH witness, cut to test fixtures, on the console
# For make check's fixtures of real streams: each guest type is saved by
# stock xl, cut by imgcut (its memory left out, every other byte as xl
# wrote it), and printed as base64 lines "XI TYPE: ..." between "XI TYPE
# begin" and "XI TYPE end SHA256" (of the gzipped bytes), which
# tests/lab/capture-images takes off the console.
[ -x /usr/local/sbin/imgcut ] ||
	fail "no imgcut in dom0 (tests/lab/capture-images puts it in --bindir)"
for type in pv pvh; do
	WITNESS_TYPE=$type
	witness_create "w$type" 128 16 4
	timed xl save "w$type" "/tmp/$type.save" || fail "xl save of a $type witness failed"
	say "$type: xl save ${ELAPSED_MS}ms, $(stat -c %s "/tmp/$type.save") bytes"
	/usr/local/sbin/xl-reloc verify "/tmp/$type.save" ||
		fail "verify refused the $type image"
	/usr/local/sbin/imgcut < "/tmp/$type.save" | gzip -9 > "/tmp/$type.gz" ||
		fail "imgcut failed on the $type image"
	rm -f "/tmp/$type.save"
	echo "XI $type begin"
	base64 < "/tmp/$type.gz" | sed "s/^/XI $type: /"
	echo "XI $type end $(sha256sum < "/tmp/$type.gz" | cut -d' ' -f1)"
	metric "${type}_fixture_bytes" "$(stat -c %s "/tmp/$type.gz")"
done
pass "pv and pvh images on the console"
