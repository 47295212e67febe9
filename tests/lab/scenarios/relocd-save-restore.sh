# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=900 default=yes
# xlab-desc: xl-reloc save/verify/restore on real Xen: plain, --compress, --direct with relocd stopped; damaged, truncated and bad-trailer images refused, never run
[ -x /usr/local/sbin/relocd ] || fail "no relocd in dom0 (lab build --bindir DIR)"
XR=/usr/local/sbin/xl-reloc
X="$XR -c /run/ra/relocd.conf"
relocd_start a 8002
witness_create witness 128 256

before=$(last_tick witness)
# shellcheck disable=SC2086
timed $X save witness /tmp/witness.xl || { relocd_logs a; fail "xl-reloc save failed"; }
save_ms=$ELAPSED_MS
metric save_ms "$save_ms"
metric image_bytes "$(stat -c %s /tmp/witness.xl)"
xl list | grep -q witness && fail "witness still listed after its save"
$XR verify /tmp/witness.xl | grep -q "checked by XXH3-128 trailer" ||
	fail "verify refused a fresh image, or its trailer is not XXH3-128"
# A plain one-file image is written by libxl itself, as xl save writes.
grep -q "saving witness: libxl writes the image file directly" /run/ra/log ||
	{ relocd_logs a; fail "relocd's save did not take the direct path"; }

# A byte in the middle, the first half only, and the trailer's last byte
# (libxl reads the whole stream and builds the domain, paused; the trailer
# check fails and it is destroyed, never unpaused).
size=$(stat -c %s /tmp/witness.xl)
poke /tmp/witness.xl $((size / 2))
image_refused /tmp/witness.xl damaged
unpoke /tmp/witness.xl $((size / 2))
head -c $((size / 2)) /tmp/witness.xl > /tmp/short.xl
image_refused /tmp/short.xl truncated
rm -f /tmp/short.xl
poke /tmp/witness.xl $((size - 1))
image_refused /tmp/witness.xl bad-trailer
unpoke /tmp/witness.xl $((size - 1))
$XR verify /tmp/witness.xl > /dev/null || fail "the image did not come back whole after the damage tests"

# shellcheck disable=SC2086
timed $X restore /tmp/witness.xl || { relocd_logs a; fail "xl-reloc restore failed"; }
restore_ms=$ELAPSED_MS
metric restore_ms "$restore_ms"
grep -q "restoring witness--incoming: libxl reads the image file directly" /run/ra/log ||
	{ relocd_logs a; fail "relocd's restore did not take the direct path"; }
check_domains witness
check_witness witness "$before"
gap=$DOWNTIME_MS
rm -f /tmp/witness.xl

# --compress, through relocd.
before=$(last_tick witness)
# shellcheck disable=SC2086
timed $X save --compress witness /tmp/z.xl || { relocd_logs a; fail "save --compress failed"; }
metric save_compress_ms "$ELAPSED_MS"
metric image_compress_bytes "$(stat -c %s /tmp/z.xl)"
$XR verify /tmp/z.xl | grep -q compressed || fail "verify: not a compressed image"
zsize=$(stat -c %s /tmp/z.xl)
head -c $((zsize / 2)) /tmp/z.xl > /tmp/zshort.xl
image_refused /tmp/zshort.xl truncated-compressed
rm -f /tmp/zshort.xl
# shellcheck disable=SC2086
timed $X restore /tmp/z.xl || { relocd_logs a; fail "restore of a compressed image failed"; }
metric restore_compress_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
rm -f /tmp/z.xl

# --direct with relocd stopped: the same job in xl-reloc itself.
kill "$(cat /run/ra/relocd.pid)"
n=0
while [ -S /run/ra/relocd.sock ] && [ $n -lt 50 ]; do n=$((n + 1)); usleep 100000; done
# shellcheck disable=SC2086
$X save witness /tmp/d.xl > /tmp/nodaemon.out 2>&1; rc=$?
[ "$rc" -eq 6 ] && grep -q -- --direct /tmp/nodaemon.out ||
	{ cat /tmp/nodaemon.out; fail "no relocd: exit $rc, want 6 and a hint at --direct"; }
before=$(last_tick witness)
# shellcheck disable=SC2086
timed $X save --direct --compress witness /tmp/d.xl || fail "save --direct failed"
metric save_direct_ms "$ELAPSED_MS"
xl list | grep -q witness && fail "witness still listed after save --direct"
# shellcheck disable=SC2086
timed $X restore --direct /tmp/d.xl || fail "restore --direct failed"
metric restore_direct_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
rm -f /tmp/d.xl
pass "save ${save_ms}ms, restore ${restore_ms}ms, guest gap ${gap}ms; --compress and --direct round trips; damaged, truncated and bad-trailer images refused"
