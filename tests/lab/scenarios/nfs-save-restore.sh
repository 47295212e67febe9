# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2046,SC2012,SC2011,SC2034 # sourced after /lab/lib.sh (FAIL_HOOK...); wlogs splits; plain names
# xlab: hosts=2 xen=shadow timeout=900 default=yes
# xlab-desc: NFS between the hosts: xl-reloc save on a, restore on b; xl save on b, xl-reloc restore on a; b's server stopped mid-save
# b exports a tmpfs over NFSv4 (the kernel's nfsd; rpc.nfsd, rpc.mountd,
# exportfs from nfs-utils), a mounts it as doc/xl-reloc.1 advises for
# images (softerr with a bounded timeout, "Saving to NFS"), and the one
# witness goes back and forth through it:
#   1. a: xl-reloc save through relocd onto the share; b: verify and
#      xl-reloc restore from its export (a host that never saw the
#      domain); the witness's checks, with a's console log, pass on b.
#   2. b: stock xl save into its export; a: xl-reloc restore of that
#      image over NFS (close-to-open: a reads what b wrote); the checks,
#      with b's console log, pass on a.
#   3. a: xl-reloc save again; b stops its NFS server (rpc.nfsd 0) once
#      the temporary file holds 16 MiB: a's save fails with one line that
#      names the file system, the guest runs on a (its ticks go on), and
#      b holds no image it would take: no file of that name, and a
#      temporary file, if one is left, is refused by verify.  Once a's
#      relocd has logged the image's error (it then resumes the guest,
#      before removing the temporary file), b starts its server again:
#      the removal goes through instead of waiting out the timeouts a
#      second time (in a's clock, which a loaded host can slow down).
# Ports: 7241-7246 (barriers, logs).
[ -x /usr/local/sbin/relocd ] || fail "no relocd in dom0 (lab build --bindir DIR)"
case $XLAB_ROLE in
a) me=a ;;
b) me=b ;;
*) fail "needs two hosts" ;;
esac
command -v rpc.nfsd >/dev/null && command -v mount.nfs >/dev/null ||
	fail "no NFS programs in dom0 (the lab's base has them: tests/lab/lab build)"
K=$(uname -r)
read -r mods < "/lib/modules/$K/load-order-nfs" || fail "no load-order-nfs"
for m in $mods; do
	grep -q "^$m " /proc/modules ||
		insmod "/lib/modules/$K/$m.ko" || fail "insmod $m failed"
done
EXP=/srv/nfs	# b's export
MNT=/mnt/nfs	# a's mount of it
relocd_start "$me" 8002
xr() { /usr/local/sbin/xl-reloc -c "/run/r$me/relocd.conf" "$@"; }

# b: the kernel's NFS server, NFSv4 only, on a tmpfs (fsid: tmpfs has no
# uuid), root not squashed: dom0's relocd writes as root.  A server just
# started is in its grace period, in which a client's opens wait; it is
# ended at once (v4_end_grace, as nfsdcld does when no client has state
# to reclaim): its length is in b's clock, which a loaded TCG host can
# slow down to a crawl (seen: "Platform timer appears to have
# unexpectedly wrapped", dom0 up 1.6 s after a 50 s boot).
nfs_server() {
	mkdir -p "$EXP" /run/rpcbind
	mount -t tmpfs -o size=420m nfsexp "$EXP" || return 1
	grep -q ' /proc/fs/nfsd ' /proc/mounts ||
		mount -t nfsd nfsd /proc/fs/nfsd || return 1
	echo "$EXP $XLAB_PEER(rw,sync,no_subtree_check,no_root_squash,fsid=0)" > /etc/exports
	rpcbind || return 1
	exportfs -ra || return 1
	rpc.mountd -N 3 || return 1
	rpc.nfsd -N 3 4 || return 1
	echo Y > /proc/fs/nfsd/v4_end_grace || return 1
	[ "$(cat /proc/fs/nfsd/v4_end_grace)" = Y ] || return 1
	say "NFS server: $(cat /proc/fs/nfsd/versions), exports: $(exportfs -v | xargs)"
}

# the size of the first file in $EXP matching a glob (0 if none)
# shellcheck disable=SC2086 # $1 is a glob
size_of() { ls -l "$EXP"/$1 2>/dev/null | awk 'NR == 1 { print $5 + 0; f = 1 } END { if (!f) print 0 }'; }

if [ "$me" = a ]; then
	FAIL_HOOK="relocd_logs a"
	witness_create witness 96 16 8
	barrier 7241 120
	mkdir -p "$MNT"
	# As doc/xl-reloc.1 advises, with half its timeo: a stopped server
	# fails each request after 5 + 10 + 15 s, not a minute (CI time); a
	# live one never goes 30 s without an answer, even under load.
	mount.nfs "$XLAB_PEER:/" "$MNT" -o vers=4.2,softerr,timeo=50,retrans=2 ||
		peer_fail 7242 "cannot mount $XLAB_PEER:/ over NFS"
	say "mounted: $(grep " $MNT " /proc/mounts)"
	# 1. a -> b: xl-reloc save onto the share
	before=$(last_tick witness)
	timed xr save witness "$MNT/witness.xl" ||
		peer_fail 7242 "xl-reloc save to NFS failed"
	metric save_nfs_ms "$ELAPSED_MS"
	saved=$ELAPSED_MS
	say "on the share: $(ls -lA "$MNT" | awk 'NR > 1 { print $NF, $5 }' | xargs)"
	[ "$(ls -A "$MNT")" = witness.xl ] ||
		peer_fail 7242 "the share holds [$(ls -A "$MNT" | xargs)], not witness.xl alone"
	check_domains
	send_logs 7242 "$before" $(wlogs witness) || fail "cannot send the console log to b"
	# 2. b -> a: xl save on b, xl-reloc restore over NFS here
	recv_logs_start 7243 "$CONSLOG/guest-witness--b.log"
	recv_logs_wait
	xr verify "$MNT/xl.img" > /tmp/verify.out 2>&1 ||
		{ cat /tmp/verify.out; fail "verify of b's xl save image over NFS failed"; }
	timed xr restore "$MNT/xl.img" || fail "xl-reloc restore of b's xl save image over NFS failed"
	metric restore_nfs_ms "$ELAPSED_MS"
	check_domains witness
	check_witness witness "$PEER_BEFORE"
	back=$DOWNTIME_MS
	# 3. the server stops in the middle of a save
	before=$(last_tick witness)
	barrier 7244 120
	t0=$(now_ms)
	xr save witness "$MNT/again.xl" > /tmp/again.out 2>&1 &
	savepid=$!
	# bounded by the scenario's deadline, not by a guess of the timeouts
	until grep -q "image $MNT/again.xl: .* on nfs" /run/ra/log; do
		kill -0 "$savepid" 2>/dev/null || break
		usleep 200000
	done
	barrier 7245 870
	wait "$savepid"
	rc=$?
	metric failed_save_ms $(($(now_ms) - t0))
	sed 's/^/  | /' /tmp/again.out
	[ "$rc" -ne 0 ] || fail "the save went through with the server stopped"
	[ "$(grep -c '^xl-reloc: ' /tmp/again.out)" -eq 1 ] ||
		fail "the failed save's error is not one line"
	grep -q "^xl-reloc: .*image $MNT/again.xl: .* on nfs: .*the domain runs where it was" /tmp/again.out ||
		fail "the failed save's error does not name the image and its file system"
	check_domains witness
	check_witness witness "$before"
	gap=$DOWNTIME_MS
	barrier 7246 300
	umount -f -l "$MNT"
	pass "saved to NFS in ${saved}ms; back from b's xl save over NFS (gap ${back}ms); server stopped mid-save: exit $rc, guest runs (gap ${gap}ms)"
else
	FAIL_HOOK="relocd_logs b"
	nfs_server || fail "cannot start the NFS server"
	barrier 7241 120
	recv_logs_start 7242 "$CONSLOG/guest-witness--a.log"
	recv_logs_wait
	xr verify "$EXP/witness.xl" > /tmp/verify.out 2>&1 ||
		{ cat /tmp/verify.out; fail "verify of a's image failed"; }
	say "$(cat /tmp/verify.out)"
	timed xr restore "$EXP/witness.xl" || fail "xl-reloc restore of a's image failed"
	metric restore_ms "$ELAPSED_MS"
	restored=$ELAPSED_MS
	check_domains witness
	check_witness witness "$PEER_BEFORE"
	there=$DOWNTIME_MS
	rm -f "$EXP/witness.xl"
	# 2. stock xl save into the export, for a to restore over NFS
	before=$(last_tick witness)
	timed xl save witness "$EXP/xl.img" || peer_fail 7243 "xl save on b failed"
	metric xl_save_ms "$ELAPSED_MS"
	check_domains
	# b's own logs: a has its own (and its start line) already
	send_logs 7243 "$before" $(wlogs witness | grep -v -- '--a\.log$') ||
		fail "cannot send the console log to a"
	# 3. stop the server once a's save has written 16 MiB
	barrier 7244 300
	n=0
	while [ "$(size_of '.again.xl.*')" -lt 16777216 ]; do
		[ -e "$EXP/again.xl" ] && fail "a's save finished before the server was stopped"
		n=$((n + 1))
		[ $n -lt 3000 ] || fail "a's save never wrote 16 MiB to the share"
		usleep 100000
	done
	rpc.nfsd 0
	say "server stopped with $(size_of '.again.xl.*') bytes of .again.xl.* written"
	# a's save has failed and its guest runs again
	barrier 7245 870
	rpc.nfsd -N 3 4 && echo Y > /proc/fs/nfsd/v4_end_grace ||
		fail "cannot start the NFS server again"
	barrier 7246 600
	say "the export holds: $(ls -lA "$EXP" | awk 'NR > 1 { print $NF, $5 }' | xargs)"
	[ ! -e "$EXP/again.xl" ] || fail "the failed save left again.xl in the export"
	xr restore "$EXP/again.xl" > /tmp/restore.out 2>&1 &&
		fail "restore took a failed save's image"
	for t in "$EXP"/.again.xl.*; do
		[ -e "$t" ] || continue
		xr verify "$t" > /tmp/verify.out 2>&1 &&
			fail "verify took the temporary file $t of a failed save"
		say "left by the failed save, refused: $(cat /tmp/verify.out)"
	done
	check_domains
	pass "restored a's NFS save in ${restored}ms (gap ${there}ms); a failed save left nothing b would take"
fi
