# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC1091,SC2034 # the scenario it runs is in dom0 and reads these
# xlab: hosts=2 xen=shadow timeout=480 default=yes
# xlab-desc: relocd-pair-tls with a PVH witness: a -> b and back over TLS, live
# The same job as relocd-pair-tls, on a PVH guest: its stream carries
# HVM_CONTEXT and HVM_PARAMS, and its dirty pages are tracked through the
# p2m, not through PV page tables.  noxsave: a PVH guest's extended state
# does not survive a move between the lab's two emulated hosts, with stock
# xl as with relocd (pair-xl-migrate-pvh; tests/lab/README.md, "Guest
# types"), so this guest does without it.
WITNESS_TYPE=pvh
WITNESS_KARGS=noxsave
. /lab/scenarios/relocd-pair-tls.sh
