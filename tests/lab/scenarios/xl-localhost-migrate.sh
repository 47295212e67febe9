# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=1 xen=shadow timeout=150 default=yes
# xlab-desc: stock xl live migration to localhost (xl migrate-receive as transport)
witness_create witness 128 256
before=$(last_tick witness)
# -s '' makes the last argument the whole transport command (no ssh)
timed xl migrate -s '' witness 'xl migrate-receive' || fail "xl migrate failed"
metric migrate_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
pass "live migration ${ELAPSED_MS}ms, guest downtime ${DOWNTIME_MS}ms"
