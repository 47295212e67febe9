# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=150 default=yes
# xlab-desc: xl-reloc cancel during pre-copy: the guest runs on at the source, nothing left at the target
# A busy guest and a bandwidth limit keep the first pre-copy pass going
# for ~15 s; the cancel lands in the middle of it.  The failure rule says
# the source still owns the domain: same name, counter continuing, no
# second copy, no --incoming container, and xl-reloc exits 5 (cancelled).
relocd_pair
witness_create witness 128 1024

relocd_cancel_precopy
relocd_logs a b
pass "cancelled after ${CANCEL_AFTER_MS}ms of pre-copy, rolled back in ${CANCEL_MS}ms; guest gap ${DOWNTIME_MS}ms"
