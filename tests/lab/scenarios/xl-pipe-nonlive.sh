# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=1 xen=noshadow timeout=150 default=yes
# xlab-desc: stop-and-copy through a pipe (xl save | xl restore), on the no-shadow hypervisor
witness_create witness
# the copy needs another name while the original still exists
sed 's/^name = .*/name = "witness2"/' /tmp/witness.cfg > /tmp/witness2.cfg
mkfifo /tmp/stream
before=$(last_tick witness)
t0=$(now_ms)
xl restore /tmp/witness2.cfg /tmp/stream &
rpid=$!
xl save witness /tmp/stream || { kill $rpid; fail "xl save to a pipe failed"; }
wait $rpid || fail "xl restore from a pipe failed"
ms=$(($(now_ms) - t0))
metric stop_and_copy_ms "$ms"
check_domains witness2
check_witness witness+witness2 "$before"
pass "stop-and-copy ${ms}ms, guest downtime ${DOWNTIME_MS}ms"
