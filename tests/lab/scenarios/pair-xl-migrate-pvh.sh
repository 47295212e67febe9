# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC1091,SC2034 # the scenario it runs is in dom0 and reads these
# xlab: hosts=2 xen=shadow timeout=300 default=no
# xlab-desc: pair-xl-migrate with a PVH witness (stock xl; fails in this lab: see README, "PVH")
# Stock xl alone moving a PVH guest between the two hosts: what Xen under
# TCG does with a PVH guest's state across hosts, without relocd.
WITNESS_TYPE=pvh
. /lab/scenarios/pair-xl-migrate.sh
