# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=1 xen=noshadow timeout=150 default=yes
# xlab-desc: without shadow paging a live xl migrate fails on log-dirty; the guest keeps running at the source
witness_create witness
before=$(last_tick witness)
if timed xl migrate -s '' witness 'xl migrate-receive' > /tmp/mig.out 2>&1; then
	cat /tmp/mig.out
	fail "live migration succeeded: this hypervisor has log-dirty after all"
fi
cat /tmp/mig.out
metric fail_ms "$ELAPSED_MS"
grep -q 'Failed to enable logdirty' /tmp/mig.out ||
	fail "xl migrate failed, but not with the log-dirty error"
check_domains witness
check_witness witness "$before"
pass "refused with 'Failed to enable logdirty' after ${ELAPSED_MS}ms; source kept running"
