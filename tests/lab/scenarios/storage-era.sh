# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=600 default=no
# xlab-desc: dm-era under a running witness's LVM disk (relocd/dm_era.c): takes list exactly the blocks written, amid writes too; every dmsetup step failed in turn, a kill mid-attach and one with the volume suspended are undone (dm_era_recover, relocd's start); a writing witness's disk intact through it all
# tests/common/dm-era-drive links relocd's dm_era.c.  check: attach under
# the witness's disk while the guest runs on it, write known blocks
# through the volume (and the same to a copy made before), take (exactly
# those blocks), take again (none), write, take, detach; the table is the
# volume's own again and the volume equals the copy.  stress: takes again
# and again while a process rewrites blocks (with what is there): each
# write is in a take no later than the first that began after it landed,
# and blocks nothing wrote are in none.  Then a dmsetup first
# in PATH fails each step of attach and of a take in turn: the driver's
# error path leaves the volume as it was.  Then that dmsetup
# kills the driver with -9 right after a step of attach: after the
# first checkpoint (the era table live), and after a suspend (the volume
# left suspended, the guest's disk I/O held); dm_era_recover, then
# relocd's startup reconciliation, put the volume's own table back, resume
# it and remove the rest, with the guest running on, its disk unchanged.
# Last, a witness that writes its disk throughout (merged from the
# witness branch): takes under its writes list some, detach and a kill at
# checkpoint with dm_era_recover put its table back, and it reads its
# whole disk back as it wrote it.
drive=/usr/local/sbin/dm-era-drive
[ -x "$drive" ] || fail "no dm-era-drive in dom0 (lab build --bindir DIR)"
command -v era_invalidate >/dev/null || fail "no era_invalidate in dom0 (tests/lab/lab build)"
block_lab
vgs vga >/dev/null 2>&1 || lvm_lab vga 160
t0=$(cut -d' ' -f1 /proc/uptime)
at() { say "$1 at +$(awk -v t="$t0" '{ printf "%.0f", $1 - t }' /proc/uptime) s"; }
# a disk the guest itself leaves alone: the checks below write it
WDISK_MIB=16 WDISK_RATE=0
storage_witness we wera
at "witness up"
dm=vga-wera
own=$(dmsetup table $dm)
st=/run/era-state
rm -rf $st /run/era-kill
mkdir -p $st /run/era-kill

# untouched WHEN STATE_DIR: the volume's own table, live, no device, loop
# or file of ours left, the data as the copy says, the guest running
untouched() {
	[ "$(dmsetup table $dm)" = "$own" ] ||
		fail "$1: the table is \`$(dmsetup table $dm)', not the volume's own \`$own'"
	_at=$(dmsetup info -c --noheadings -o attr $dm)
	case $_at in L*[sI]*|[!L]*) fail "$1: $dm's attributes are $_at (suspended, a table loaded, or not live)" ;; esac
	dmsetup ls | grep -q relocd && { dmsetup ls; fail "$1: relocd's devices left"; }
	losetup -a | grep -q dm-era && { losetup -a; fail "$1: a loop device left on dm-era metadata"; }
	[ -z "$(ls "$2/dm-era" 2>/dev/null)" ] || { ls -l "$2/dm-era"; fail "$1: files left in $2/dm-era"; }
	cmp -s /dev/vga/wera /run/era-ref.img || fail "$1: the volume's data changed"
	check_advancing we
}

cp /dev/vga/wera /run/era-ref.img
"$drive" check /dev/vga/wera /run/era-ref.img $st || fail "dm-era-drive check failed (above)"
untouched "after check" $st
at "check done"
"$drive" stress /dev/vga/wera $st || fail "dm-era-drive stress failed (above)"
untouched "after stress" $st
at "stress done"

# dmsetup that fails, once, when asked for $FAIL_AT (without doing it),
# and kills its caller (the driver) once it has done $KILL_AT
cat > /run/era-kill/dmsetup <<'EOS'
#!/bin/sh
case " $* " in *" ${FAIL_AT:-none} "*)
	[ -e /run/era-kill/failed ] || { : > /run/era-kill/failed; echo "injected failure at $FAIL_AT" >&2; exit 1; } ;;
esac
/usr/sbin/dmsetup "$@"
rc=$?
case " $* " in *" ${KILL_AT:-none} "*) kill -9 $PPID ;; esac
exit $rc
EOS
chmod 755 /run/era-kill/dmsetup

# fail_at STEP: dmsetup fails at STEP of attach or of the first take; the
# driver's error path (attach's own undo, or detach after a failed take)
# must leave the volume as it was
fail_at() {
	rm -f /run/era-kill/failed
	FAIL_AT=$1 PATH=/run/era-kill:$PATH "$drive" check /dev/vga/wera /run/era-ref.img $st > /run/era-fail.out 2>&1 &&
		fail "the driver succeeded though dmsetup failed at $1"
	[ -e /run/era-kill/failed ] || { cat /run/era-fail.out; fail "dmsetup was never asked for $1"; }
	grep -q "injected failure at $1" /run/era-fail.out || { cat /run/era-fail.out; fail "the driver's error does not name the failed step $1"; }
	untouched "after a failure at $1" $st
}
for step in create resume suspend take_metadata_snap; do
	fail_at $step
done
at "error paths done"

# kill_at STEP STATE_DIR [DEV]: the driver killed right after STEP of
# attach under DEV (/dev/vga/wera)
kill_at() {
	rm -f /run/era-kill/failed
	_dev=${3:-/dev/vga/wera}
	KILL_AT=$1 PATH=/run/era-kill:$PATH "$drive" hold "$_dev" "$2" > /run/era-hold.out 2>&1
	rc=$?
	[ $rc -eq 137 ] || { cat /run/era-hold.out; fail "the driver was not killed at $1 (exit $rc)"; }
	grep -q attached /run/era-hold.out && fail "attach returned before $1"
	# /dev/VG/LV is VG-LV to device-mapper (no hyphen in these names)
	dmsetup table "$(echo "${_dev#/dev/}" | tr / -)" | grep -q " era " ||
		fail "killed at $1, yet $_dev has no era table"
}

kill_at checkpoint $st
check_advancing we
out=$("$drive" recover $st) || fail "dm_era_recover failed"
[ "$out" = "recovered 1" ] || fail "dm_era_recover said \`$out', not \`recovered 1'"
untouched "recovered after a kill at checkpoint" $st
at "recovered after a kill at checkpoint"

relocd_start e 8009
pid=$(cat /run/re/relocd.pid)
kill "$pid"
stopped() { ! kill -0 "$pid" 2>/dev/null; }
wait_for 30 stopped || fail "relocd e did not stop"
kill_at suspend /run/re/state
dmsetup info -c --noheadings -o attr $dm | grep -q s || fail "killed after suspend, yet $dm is not suspended"
check_advancing we
relocd_run e
wait_for 60 logged /run/re/log "own table of 1 volume" ||
	{ relocd_logs e; fail "relocd's start did not undo the interposition"; }
untouched "relocd's start after a kill with the volume suspended" /run/re/state
at "relocd's start recovered after a kill at suspend"
kill "$(cat /run/re/relocd.pid)"

xl destroy we
wait_for 30 gone we
lvremove -q -f vga/wera
rm -f /run/era-ref.img

# ww: a witness writing its disk throughout (10 durable blocks a second):
# attach, takes, detach, then a kill at checkpoint and dm_era_recover,
# all under its writes; then it reads its whole disk back
WDISK_MIB=16 storage_witness ww wwr
at "writing witness up"
own2=$(dmsetup table vga-wwr)
own_again() {
	[ "$(dmsetup table vga-wwr)" = "$own2" ] ||
		fail "$1: vga-wwr's table is \`$(dmsetup table vga-wwr)', not its own \`$own2'"
	dmsetup ls | grep -q relocd && { dmsetup ls; fail "$1: relocd's devices left"; }
	check_advancing ww
}
rm -f /run/era-cmd
mkfifo /run/era-cmd
"$drive" watch /dev/vga/wwr $st < /run/era-cmd > /run/era-watch.out 2>&1 &
wpid=$!
exec 3> /run/era-cmd
within 120 logged /run/era-watch.out '^attached' ||
	{ cat /run/era-watch.out; fail "watch: no attach"; }
for t in 1 2; do
	n=$(disk_writes ww)
	within 120 disk_writes_past ww $((n + 10)) || fail "witness ww stopped writing (at $n writes)"
	echo take >&3
	within 120 logged /run/era-watch.out "^take $t:" ||
		{ cat /run/era-watch.out; fail "watch: no take $t"; }
	grep -q "^take $t: 0 range" /run/era-watch.out &&
		{ cat /run/era-watch.out; fail "take $t listed none of the 10 blocks or more the guest wrote"; }
done
echo detach >&3
exec 3>&-
wait $wpid || { cat /run/era-watch.out; fail "watch failed"; }
grep '^take' /run/era-watch.out
own_again "after detach under the guest's writes"
kill_at checkpoint $st /dev/vga/wwr
out=$("$drive" recover $st) || fail "dm_era_recover failed"
[ "$out" = "recovered 1" ] || fail "dm_era_recover said \`$out', not \`recovered 1'"
own_again "recovered after a kill at checkpoint, under the guest's writes"
check_disk ww
at "the writing witness's disk checked"
xl destroy ww
wait_for 30 gone ww
lvremove -q -f vga/wwr
pass "takes listed exactly the blocks written (and those of a writing guest); detach, dm_era_recover and relocd's start each put the volume's own table back, data intact (the guest's own read-back: $DISK_VERDICT), the guest running"
