# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# xlab: hosts=1 xen=shadow timeout=600 default=no
# xlab-desc: xl-interop with a busy loop beside it on dom0's one vCPU: what xl-reloc's own CPU work costs a loaded dom0
# The same rounds and metrics as xl-interop (under this scenario's name);
# the loop takes its share of the one vCPU from whatever runs in dom0,
# so the ratios show xl-reloc's dom0 CPU beyond xl's rather than the
# time both spend in Xen.
( while :; do :; done ) &
BUSY=$!
trap 'kill $BUSY' EXIT
# shellcheck source=/dev/null
. /lab/scenarios/xl-interop.sh
