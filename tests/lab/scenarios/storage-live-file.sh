# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2034 # sourced after /lab/lib.sh, which reads WDISK_MIB
# xlab: hosts=2 xen=shadow timeout=900 default=yes
# xlab-desc: a witness writing an LVM disk and a raw image file throughout moves a -> b live with both (--with-storage): dm-era and block digests track its writes; every write it completed before the pause is on b
# The witness has two 16 MiB disks, the volume vga/wfile and the image
# /run/imga/wfile.img (qdisk), and writes 10 numbered, checksummed blocks
# a second across them from boot on.  It moves a -> b live with both:
# the image's writes are found by comparing a digest of each 64 KiB block
# with what was sent (the whole file read again at each pass, the last
# one with the guest paused), the volume's by dm-era.  b runs it on
# /dev/vgb/wfile and /run/imgb/wfile.img, and the witness reads both back
# against what its memory says it wrote (check_disk).
storage_lab
WDISK_MIB=16
storage_live_move witness 7241 wfile /run/imga/wfile.img
if [ "$me" = a ]; then
	pass "a -> b live with an LVM disk and a raw image in ${ELAPSED_MS}ms, paused ${PAUSED_MS}ms, $DISK_PASSES delta passes, the paused one $DISK_LAST bytes"
else
	pass "received live with both disks, every write before the pause there; guest gap ${DOWNTIME_MS}ms"
fi
