# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=noshadow timeout=150 default=yes
# xlab-desc: no shadow paging: xl-reloc live migration refused with relocd's explanation, --non-live works
# Debian 12's current hypervisor cannot track a PV guest's dirty pages.
# relocd must say so in one line, before anything moves (its host
# information shows no shadow paging), leave the guest running, and still
# move it with a stop-and-copy migration.
relocd_pair
witness_create witness 128 256
xl info | grep -E '^(virt_caps|xen_version)'

before=$(last_tick witness)
timed xr migrate --plain --port 8012 \
	--localhost witness 127.0.0.1 > /tmp/mig.out 2>&1
rc=$?
[ "$rc" -ne 0 ] ||
	{ cat /tmp/mig.out; fail "live migration succeeded: this hypervisor tracks dirty pages after all"; }
cat /tmp/mig.out
metric refuse_ms "$ELAPSED_MS"
grep -q 'cannot track dirty pages' /tmp/mig.out ||
	{ relocd_logs a b; fail "xl-reloc failed (exit $rc), but without relocd's explanation"; }
# Up front: from the hypervisor's capabilities, before libxenguest tries
# log-dirty and before relocd B hears of the migration.
! grep -q 'Failed to enable logdirty' /run/ra/log && ! grep -q 'job 1' /run/rb/log ||
	{ relocd_logs a b; fail "the refusal came only after the migration had started"; }
check_domains witness
check_witness witness "$before"
refused=$ELAPSED_MS

before=$(last_tick witness)
timed xr migrate --plain --port 8012 \
	--localhost --non-live witness 127.0.0.1 > /tmp/mig.out 2>&1 ||
	{ cat /tmp/mig.out; relocd_logs a b; fail "xl-reloc migrate --non-live failed"; }
cat /tmp/mig.out
metric nonlive_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
relocd_logs a b
pass "live refused in ${refused}ms (exit $rc); --non-live ${ELAPSED_MS}ms, guest gap ${DOWNTIME_MS}ms"
