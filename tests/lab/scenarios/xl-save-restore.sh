# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=1 xen=shadow timeout=150 default=yes
# xlab-desc: stock xl save + xl restore of the witness; it resumes, memory intact
witness_create witness
before=$(last_tick witness)
# Nothing between save and restore: the guest is down for all of it.  (A
# saved domain is gone: otherwise the restore would clash on the name.)
timed xl save witness /tmp/witness.save || fail "xl save failed"
save_ms=$ELAPSED_MS
timed xl restore /tmp/witness.save || fail "xl restore failed"
restore_ms=$ELAPSED_MS
metric save_ms "$save_ms"
metric restore_ms "$restore_ms"
metric image_bytes "$(stat -c %s /tmp/witness.save)"
check_domains witness
check_witness witness "$before"
pass "resumed after tick $before, downtime ${DOWNTIME_MS}ms (save ${save_ms}ms + restore ${restore_ms}ms)"
