# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=200 default=yes
# xlab-desc: xl-reloc save, verify, a damaged image refused, restore: through relocd on real Xen
[ -x /usr/local/sbin/relocd ] || fail "no relocd in dom0 (lab build --bindir DIR)"
X="/usr/local/sbin/xl-reloc -c /run/ra/relocd.conf"
relocd_start a 8002
witness_create witness 128 256

before=$(last_tick witness)
# shellcheck disable=SC2086 # X is a command with its options
timed $X save witness /tmp/witness.xl || { relocd_logs a; fail "xl-reloc save failed"; }
save_ms=$ELAPSED_MS
metric save_ms "$save_ms"
xl list | grep -q witness && fail "witness still listed after its save"
/usr/local/sbin/xl-reloc verify /tmp/witness.xl || fail "verify refused a fresh image"

# A damaged copy (one byte in the middle): refused, and no domain left.
cp /tmp/witness.xl /tmp/bad.xl
size=$(stat -c %s /tmp/bad.xl)
printf '\377' | dd of=/tmp/bad.xl bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
/usr/local/sbin/xl-reloc verify /tmp/bad.xl && fail "verify passed a damaged image"
# shellcheck disable=SC2086
$X restore /tmp/bad.xl && fail "a damaged image was restored"
xl list | grep -q witness && { xl list; fail "a domain is left from the damaged image"; }

# shellcheck disable=SC2086
timed $X restore /tmp/witness.xl || { relocd_logs a; fail "xl-reloc restore failed"; }
metric restore_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
pass "save ${save_ms}ms, restore ${ELAPSED_MS}ms, guest gap ${DOWNTIME_MS}ms; damaged image refused"
