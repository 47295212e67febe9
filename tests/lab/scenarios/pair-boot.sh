# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=2 xen=shadow timeout=120 default=yes
# xlab-desc: two Xen hosts on a QEMU socket link: both reach dom0 and ping each other
[ -n "$XLAB_PEER" ] || fail "no peer address (xlab.peer)"
n=0
until ping -c 1 -W 2 "$XLAB_PEER" >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -gt 40 ] && fail "no ping reply from $XLAB_PEER"
	sleep 1
done
rtt=$(ping -c 3 "$XLAB_PEER" | sed -n 's/.*min\/avg\/max = [0-9.]*\/\([0-9.]*\)\/.*/\1/p')
metric ping_avg_ms "$rtt"
# neither host powers off before the other has had its reply
barrier 7001
pass "$XLAB_ROLE ($XLAB_IP) reached $XLAB_PEER, rtt ${rtt}ms"
