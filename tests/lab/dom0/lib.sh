# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by every scenario (busybox sh, in dom0).  A scenario ends with
# pass/fail; any check_* that finds a fault fails it.  Metrics go straight to
# the console as "XLAB METRIC <scenario> <name> <value>".
#
# Set by the runner: XLAB_SCEN, XLAB_RESULT; by /init: XLAB_ROLE (single, a,
# b), XLAB_IP, XLAB_PEER.

CONSLOG=/var/log/xen/console
GUEST_KERNEL=/lab/guest/vmlinuz
GUEST_INITRD=/lab/guest/witness.gz

say() { echo "xlab: $XLAB_SCEN: $*"; }
pass() { echo "PASS $*" > "$XLAB_RESULT"; exit 0; }
# fail: the verdict; then $FAIL_HOOK, if a scenario set one, to show
# what explains it (once: a hook that fails does not run again).
fail() {
	echo "FAIL $*" > "$XLAB_RESULT"
	say "FAIL: $*"
	[ -z "${FAIL_HOOK:-}" ] || { _fh=$FAIL_HOOK; FAIL_HOOK=; $_fh; }
	exit 1
}
metric() { echo "XLAB METRIC $XLAB_SCEN $1 $2"; }
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# stamp NAME: a point in time on both clocks, dom0's (now_ms) here and
# the machine's where the runner reads the line; a span timed between two
# stamps survives a stalled QEMU, which makes dom0's clock run slow.
stamp() { echo "XLAB STAMP $XLAB_SCEN $1 $(now_ms)"; }

# timed cmd...: run cmd (its output on the console), ELAPSED_MS = its wall
# time in ms; returns cmd's status.
timed() {
	_t0=$(now_ms)
	"$@"
	_rc=$?
	ELAPSED_MS=$(($(now_ms) - _t0))
	return $_rc
}

# witness_cfg NAME [MEMORY_MIB] [DIRTY_PAGES_PER_TICK] [WSS_MIB]: an xl config
# for a witness guest at /tmp/NAME.cfg, of type $WITNESS_TYPE (pv, the
# default, or pvh), with $WITNESS_KARGS added to its kernel's command line
# and $WITNESS_ON_CRASH (default preserve) as its on_crash.
witness_cfg() {
	witness_type_cfg > "/tmp/$1.cfg"
	cat >> "/tmp/$1.cfg" <<EOF
name = "$1"
kernel = "$GUEST_KERNEL"
ramdisk = "$GUEST_INITRD"
extra = "console=hvc0 loglevel=1 dirty=${3:-256} wss=${4:-32}${WITNESS_KARGS:+ $WITNESS_KARGS}"
memory = ${2:-128}
vcpus = 1
on_crash = "${WITNESS_ON_CRASH:-preserve}"
EOF
}

# witness_type_cfg: the xl settings of a witness of type $WITNESS_TYPE.
# A PVH guest runs under TCG only with Xen on shadow paging (the lab's
# shadow hypervisor boots with hap=0) and with RDTSCP neither offered nor
# intercepted: TCG's SVM gives Xen no next-RIP, and Xen's instruction-length
# decoder cannot take RDTSCP (0f 01 f9), so an intercepted one kills the
# guest.  tsc_mode "native" stops the TSC intercepts, rdtscp=0 hides the
# instruction.
witness_type_cfg() {
	case ${WITNESS_TYPE:-pv} in
	pv) echo 'type = "pv"' ;;
	pvh) printf 'type = "pvh"\ntsc_mode = "native"\ncpuid = "host,rdtscp=0"\n' ;;
	*) fail "WITNESS_TYPE=$WITNESS_TYPE: not a witness type (pv, pvh)" ;;
	esac
}

# wlogs NAME[+NAME...]: console logs of the witness under each name and its
# renamed copies (xenconsoled names a log after the domain's name when it
# connects: an incoming migration writes guest-NAME--incoming.log even after
# the rename).  A copy restored under another name is NAME+OTHER.
wlogs() {
	for _w in $(echo "$1" | tr + ' '); do
		ls "$CONSLOG/guest-$_w.log" "$CONSLOG/guest-$_w"--*.log 2>/dev/null
	done
}

# wall NAME: every witness line of NAME from all its logs, \r stripped.
wall() {
	_f=$(wlogs "$1")
	[ -n "$_f" ] || return 0
	# shellcheck disable=SC2086
	cat $_f | tr -d '\r'
}

# last_tick NAME: the highest counter NAME has printed (0 if none).
last_tick() {
	wall "$1" | awk '$1 == "XW" && NF == 5 && $2 ~ /^[0-9]+$/ && $2 > m { m = $2 }
	    END { print m + 0 }'
}

# wait_tick NAME MIN SECONDS: wait until NAME's counter passes MIN.
wait_tick() {
	_n=0
	while [ "$(last_tick "$1")" -le "$2" ]; do
		_n=$((_n + 1))
		[ $_n -gt $(($3 * 5)) ] && return 1
		usleep 200000
	done
	return 0
}

# witness_create NAME [MEMORY] [DIRTY] [WSS]: create and wait until it ticks.
witness_create() {
	witness_cfg "$@"
	timed xl create -q "/tmp/$1.cfg" || fail "xl create $1 failed"
	metric create_ms "$ELAPSED_MS"
	check_type "$1"
	wait_tick "$1" 5 60 || fail "witness $1 did not start ticking within 60s"
}

# witness_destroy NAME: destroys it and drops its console logs, so that a
# new witness of that name is judged on its own ticks alone.
witness_destroy() {
	xl destroy "$1" || fail "cannot destroy $1"
	wait_for 30 gone "$1" || fail "$1 is still listed after xl destroy"
	rm -f "$CONSLOG/guest-$1.log" "$CONSLOG/guest-$1"--*.log
}

# check_type NAME: NAME runs as a guest of type $WITNESS_TYPE, when that
# is not the default, pv (a restarted guest must come back as it was).
check_type() {
	[ "${WITNESS_TYPE:-pv}" = pv ] ||
		xl list -l "$1" | grep -q "\"type\": \"$WITNESS_TYPE\"" ||
		fail "witness $1 is not a $WITNESS_TYPE guest"
}

# dom_cap NAME [CAP]: NAME's cpu cap under credit or credit2 (percent of
# one cpu, 0 = none); with CAP, sets it.
dom_cap() {
	_sc=sched-$(xl info | awk '$1 == "xen_scheduler" { print $3 }')
	[ $# -lt 2 ] || { xl "$_sc" -d "$1" -c "$2"; return; }
	xl "$_sc" -d "$1" | awk -v n="$1" '$1 == n { print $NF }'
}

# check_domains NAME...: the guests xl lists are exactly NAME... (no
# --incoming / --migratedaway leftovers, no second copy), none paused,
# crashed or dying.
check_domains() {
	_want=$(for _d in "$@"; do echo "$_d"; done | sort | xargs)
	_have=$(xl list | awk 'NR > 1 && $1 != "Domain-0" { print $1 }' | sort | xargs)
	[ "$_have" = "$_want" ] ||
		{ xl list; fail "xl list shows [$_have], want exactly [$_want]"; }
	_bad=$(xl list | awk 'NR > 1 && $1 != "Domain-0" && $5 ~ /[pscd]/ { print $1 "=" $5 }')
	[ -z "$_bad" ] || { xl list; fail "domain not running: $_bad"; }
}

# check_advancing NAME: the counter moves on (it is this guest that runs).
check_advancing() {
	_a=$(last_tick "$1")
	wait_tick "$1" $((_a + 5)) 10 ||
		fail "witness $1 stuck at tick $_a (not running)"
}

# check_witness NAME BEFORE: the guest's own account of an operation that
# started after tick BEFORE.  Fails on a reboot (a second start line), two
# copies (one counter with two timestamps), a changed checksum, or no ticks
# after the operation; reports the largest realtime gap between consecutive
# ticks from BEFORE on as the guest-visible downtime.
check_witness() {
	check_advancing "$1"
	# wait for a checksum line printed after the operation
	_n=0
	while [ "$(wall "$1" | awk -v b="$2" '$1 == "XC" && $2 > b + 0 { c++ } END { print c + 0 }')" -eq 0 ]; do
		_n=$((_n + 1))
		[ $_n -gt 50 ] && fail "witness $1: no checksum line after tick $2"
		usleep 200000
	done
	_r=$(wall "$1" | awk -v b="$2" '
		/^XS start/ { starts++ }
		$1 == "XC" && NF == 3 && $3 ~ /^[0-9a-f]+$/ { sum[$3] = 1 }
		$1 == "XW" && NF == 5 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ {
			if (($2 in rt) && rt[$2] != $3) twice++
			rt[$2] = $3
			g[$2] = $5
			if ($2 > max) max = $2
		}
		END {
			nsum = 0
			for (s in sum) nsum++
			gap = 0; lost = 0; at = 0
			for (i = b + 1; i <= max; i++) {
				if (!(i in rt)) { lost++; continue }
				if (g[i] > gap) { gap = g[i]; at = i }
			}
			printf "%d %d %d %d %d %d %d\n", starts, nsum, twice, max, gap, lost, at
		}')
	# shellcheck disable=SC2086 # split into the seven numbers
	set -- "$1" "$2" $_r
	say "witness $1: starts=$3 checksums=$4 conflicts=$5 last=$6 maxgap=${7}ms lost=$8"
	say "largest gap before tick $9: $(wall "$1" | awk -v n="$9" '$1 == "XW" && ($2 == n || $2 == n - 1)' | sort -u | xargs)"
	# The witness never blocks on its console, so its start line is lost
	# when xenconsoled attaches late (a slow create on a loaded host): no
	# start line is no evidence.  A reboot still shows, as a second start
	# line or as its restarted counter's ticks with two timestamps.
	[ "$3" -le 1 ] || fail "witness $1 started $3 times (rebooted, not resumed)"
	[ "$3" -eq 1 ] || say "witness $1: its start line was lost (console attached late)"
	[ "$4" -eq 1 ] || fail "witness $1 memory checksum changed ($4 distinct values)"
	[ "$5" -eq 0 ] || fail "witness $1 ran twice: $5 ticks with two timestamps"
	[ "$6" -gt "$2" ] || fail "witness $1 did not tick after the operation"
	metric downtime_ms "$7"
	metric lost_lines "$8"
	# shellcheck disable=SC2034 # for the scenario's pass line
	DOWNTIME_MS=$7
}

# --- relocd ------------------------------------------------------------------

# relocd_start NAME PORT [FILE]: a relocd of our own in dom0, its files
# under /run/rNAME, allowed to migrate to this same host, its plain port on
# (127.0.0.1 is all its host-allow list admits), with FILE's lines
# added to its configuration, in the foreground with its log in
# /run/rNAME/log; waits for its control socket.
relocd_start() {
	_r=$1 _p=$2 _extra=${3:-/dev/null}
	# Scenarios share dom0: an earlier one's relocd of this name goes
	# first (SIGTERM; it has no job left), with its state.
	if [ -f "/run/r$_r/relocd.pid" ]; then
		_old=$(cat "/run/r$_r/relocd.pid")
		kill "$_old" 2>/dev/null
		# until it is gone, not only its socket: it waits for its
		# domain monitor, and must not outlive its files
		_n=0
		while kill -0 "$_old" 2>/dev/null && [ $_n -lt 300 ]; do
			_n=$((_n + 1))
			usleep 100000
		done
	fi
	rm -rf "/run/r$_r"
	mkdir -p "/run/r$_r"
	{
		echo "relocation_server = 1"
		echo "relocation_port = $_p"
		echo "state_dir = \"/run/r$_r/state\""
		echo "pid_file = \"/run/r$_r/relocd.pid\""
		echo "control_socket = \"/run/r$_r/relocd.sock\""
		echo "allow_localhost_migration = 1"
		# A typical receive policy (the witness has no disk; see
		# relocd-recv-policy for one that has).
		echo 'receive_disk_paths = [ "/var/lib/xen/images" ]'
		cat "$_extra"
	} > "/run/r$_r/relocd.conf"
	/usr/local/sbin/relocd -n -c "/run/r$_r/relocd.conf" ||
		fail "relocd $_r: configuration refused"
	relocd_run "$_r"
}

# relocd_pair: the two relocd of a one-host scenario, A on 8002 and B on
# 8012, sharing the hypervisor (every move is a localhost migration
# through the whole of relocd); xr runs xl-reloc against A.
xr() { /usr/local/sbin/xl-reloc -c /run/ra/relocd.conf "$@"; }
relocd_pair() {
	if ! [ -x /usr/local/sbin/relocd ] || ! [ -x /usr/local/sbin/xl-reloc ]; then
		fail "no relocd/xl-reloc in dom0 (lab build --bindir DIR)"
	fi
	relocd_start a 8002
	relocd_start b 8012
}

# relocd_run NAME: (re)start relocd NAME from its /run/rNAME/relocd.conf,
# keeping its state (journal) and appending to its log; waits for its
# control socket.  After a kill -9 the old socket file is still there, so
# it goes first: the new one appearing is the sign of life.
relocd_run() {
	rm -f "/run/r$1/relocd.sock"
	/usr/local/sbin/relocd -f -v -c "/run/r$1/relocd.conf" >> "/run/r$1/log" 2>&1 &
	_n=0
	while [ ! -S "/run/r$1/relocd.sock" ]; do
		_n=$((_n + 1))
		[ $_n -gt 100 ] && { cat "/run/r$1/log"; fail "relocd $1 did not start"; }
		usleep 100000
	done
}

# relocd_result NAME: the figures of relocd NAME's last finished outgoing
# job, from its log: R_TOTAL_MS, R_PAUSED_MS, R_WIRE_BYTES, R_ROUNDS (empty
# when there is none).
# shellcheck disable=SC2034 # for the scenario
relocd_result() {
	_l=$(grep '(migrate-out [^)]*): ' "/run/r$1/log" | tail -1)
	R_TOTAL_MS=$(echo "$_l" | sed -n 's/.*(\([0-9]*\) ms, paused.*/\1/p')
	R_PAUSED_MS=$(echo "$_l" | sed -n 's/.*, paused \([0-9]*\) ms,.*/\1/p')
	R_WIRE_BYTES=$(echo "$_l" | sed -n 's/.*, \([0-9]*\) bytes on the wire.*/\1/p')
	R_ROUNDS=$(echo "$_l" | sed -n 's/.*, \([0-9]*\) rounds)$/\1/p')
}

# relocd_job NAME KIND FIELD: FIELD (job, phase, bytes_wire, pid...) of
# relocd NAME's first job of KIND (migrate-out, migrate-in...), from
# xl-reloc jobs --json; empty if it has none.
relocd_job() {
	/usr/local/sbin/xl-reloc -c "/run/r$1/relocd.conf" jobs --json 2>/dev/null |
		grep "\"kind\":\"$2\"" | head -n 1 |
		sed -n "s/.*\"$3\":\"\{0,1\}\([^,\"}]*\).*/\1/p"
}

# relocd_wait_bytes NAME KIND BYTES SECONDS: wait until relocd NAME's job
# of KIND is in pre-copy with at least BYTES on the wire.
relocd_wait_bytes() {
	_n=0
	until [ "$(relocd_job "$1" "$2" phase)" = pre-copy ] &&
	    [ "$(relocd_job "$1" "$2" bytes_wire)" -ge "$3" ] 2>/dev/null; do
		_n=$((_n + 1))
		[ $_n -gt $(($4 * 5)) ] && return 1
		usleep 200000
	done
	return 0
}

# relocd_cancel_precopy: (relocd_pair) xl-reloc migrates the witness from
# A to B with --bandwidth 8M, so that its first pass lasts, and cancels it
# once 8 MB are on the wire; the failure rule must hold: exit 5, the guest
# runs on at A, no job left, the abort in A's journal.  Sets
# CANCEL_AFTER_MS (pre-copy before the cancel) and CANCEL_MS (from the
# cancel to xl-reloc's exit).
# shellcheck disable=SC2034 # for the scenario
relocd_cancel_precopy() {
	_before=$(last_tick witness)
	_t0=$(now_ms)
	xr migrate --plain --port 8012 --localhost --bandwidth 8M witness \
	    127.0.0.1 > /tmp/mig.out 2>&1 &
	_mpid=$!
	relocd_wait_bytes a migrate-out 8000000 60 ||
		{ cat /tmp/mig.out; relocd_logs a b; fail "the migration never got 8 MB into pre-copy"; }
	_job=$(relocd_job a migrate-out job)
	metric bytes_at_cancel "$(relocd_job a migrate-out bytes_wire)"
	_tc=$(now_ms)
	xr cancel "$_job" || { relocd_logs a b; fail "xl-reloc cancel $_job failed"; }
	wait $_mpid
	_rc=$?
	CANCEL_AFTER_MS=$((_tc - _t0))
	CANCEL_MS=$(($(now_ms) - _tc))
	cat /tmp/mig.out
	metric cancel_ms "$CANCEL_MS"
	[ "$_rc" -eq 5 ] ||
		{ relocd_logs a b; fail "xl-reloc migrate exited $_rc after the cancel, want 5"; }
	check_domains witness
	check_witness witness "$_before"
	[ -z "$(relocd_job a migrate-out job)$(relocd_job b migrate-in job)" ] ||
		{ relocd_logs a b; fail "a job is still listed after the cancel"; }
	grep -q ABORTED /run/ra/state/journal ||
		{ relocd_logs a b; fail "A's journal does not record the abort"; }
}

# --- images -----------------------------------------------------------------

# image_refused FILE WHAT [OPTIONS]: verify refuses FILE, and restoring it
# through relocd A (xr restore OPTIONS FILE) fails with a clear reason and
# leaves no witness, not even a paused one: a damaged image never runs.
image_refused() {
	_rf=$1 _rw=$2
	shift 2
	/usr/local/sbin/xl-reloc verify "$_rf" >/dev/null 2>&1 && fail "verify passed a $_rw image"
	xr restore "$@" "$_rf" > /tmp/refused.out 2>&1 && fail "a $_rw image was restored"
	grep -Eq "corrupted|truncated" /tmp/refused.out ||
		{ cat /tmp/refused.out; fail "$_rw image: no clear reason"; }
	xl list | grep -q witness &&
		{ xl list; fail "a domain is left from the $_rw image"; }
	say "$_rw image refused: $(tail -1 /tmp/refused.out)"
}

# poke FILE OFFSET: changes the byte at OFFSET, in place (dom0's /tmp is
# in its memory, with no room for a second whole image); unpoke FILE
# OFFSET puts it back.
poke() {
	_old=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -to1 | tr -d ' ')
	_new=377
	[ "$_old" = 377 ] && _new=376
	# shellcheck disable=SC2059 # the format is the octal escape
	printf "\\$_new" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
unpoke() {
	# shellcheck disable=SC2059
	printf "\\$_old" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# relocd_logs NAME...: their logs on the console.
relocd_logs() {
	for _r in "$@"; do say "--- relocd $_r"; sed 's/^/  /' "/run/r$_r/log"; done
}

# block_lab: /etc/xen/scripts/block-lab, for a guest's phy: (or file:)
# disk.  Xen's block script is bash, which dom0 lacks; this one does its
# job: tell blkback which device, then say it is connected.  A raw image
# file goes through a loop device of its own (libxl takes the phy backend
# for a file when a script is named), which its removal detaches.
block_lab() {
	cat > /etc/xen/scripts/block-lab <<'EOF'
#!/bin/sh
case $1 in
add)
	dev=$(xenstore-read "$XENBUS_PATH/params") || exit 1
	if [ -f "$dev" ]; then
		img=$dev
		dev=$(losetup -f) && losetup "$dev" "$img" &&
			xenstore-write "$XENBUS_PATH/node" "$dev" || exit 1
	fi
	mm=$(stat -L -c '%t:%T' "$dev") &&
	xenstore-write "$XENBUS_PATH/physical-device" "$mm" \
		"$XENBUS_PATH/physical-device-path" "$dev" \
		"$XENBUS_PATH/hotplug-status" connected
	;;
remove)
	dev=$(xenstore-read "$XENBUS_PATH/node" 2>/dev/null) || exit 0
	losetup -d "$dev"
	;;
esac
EOF
	chmod 755 /etc/xen/scripts/block-lab
}

# lvm_lab VG MIB: the kernel's device-mapper and loop modules
# (load-order-lvm), and a volume group VG of MIB on a loop device over a
# file in /run (dom0 has no disk of its own).
lvm_lab() {
	_k=$(uname -r)
	read -r _mods < "/lib/modules/$_k/load-order-lvm" || fail "no load-order-lvm"
	for _m in $_mods; do
		grep -q "^$(echo "$_m" | tr - _) " /proc/modules ||
			insmod "/lib/modules/$_k/$_m.ko" || fail "insmod $_m failed"
	done
	command -v lvcreate >/dev/null || fail "no lvm in dom0 (tests/lab/lab build)"
	if ! { truncate -s "${2}M" "/run/pv-$1.img" &&
	    _dev=$(losetup -f) && losetup "$_dev" "/run/pv-$1.img" &&
	    pvcreate -q "$_dev" && vgcreate -q "$1" "$_dev"; }; then
		fail "cannot make volume group $1 on a loop device"
	fi
}

# storage_lab: the storage-* scenarios' host, me (a or b, with peer the
# other): volume group vgME (made once per boot), a directory for raw
# images /run/imgME, block-lab, and relocd ME on 8002 admitting the peer,
# receiving disks under /dev/vgME and /run/imgME, its storage_map sending
# the peer's volume group and image directory there; xr runs xl-reloc
# against it.
storage_lab() {
	[ -x /usr/local/sbin/relocd ] || fail "no relocd in dom0 (lab build --bindir DIR)"
	case $XLAB_ROLE in
	a) me=a peer=b ;;
	b) me=b peer=a ;;
	*) fail "needs two hosts" ;;
	esac
	set -- "$me" "$peer"
	block_lab
	vgs "vg$1" >/dev/null 2>&1 || lvm_lab "vg$1" 160
	mkdir -p "/run/img$1"
	cat > /tmp/st.extra <<EOF
relocation_hosts_allow = [ "10\\\\.0\\\\.0\\\\.[12]" ]
receive_disk_paths = [ "/dev/vg$1", "/run/img$1" ]
receive_hotplug_scripts = [ "block-lab" ]
storage_map = [ "/dev/vg$2=/dev/vg$1", "/run/img$2=/run/img$1" ]
EOF
	relocd_start "$1" 8002 /tmp/st.extra
	# shellcheck disable=SC2317 # called by the scenario
	xr() { /usr/local/sbin/xl-reloc -c "/run/r$me/relocd.conf" "$@"; }
}

# witness_fill FILE: FILE (a volume, an image) gets the content the
# witness's disk writer expects of every block it has not written, made
# by the witness program itself ("init fill"), taken out of the guest's
# initramfs once.
witness_fill() {
	_wt=/run/witness-tool
	[ -x $_wt/init ] || { mkdir -p $_wt &&
	    (cd $_wt && zcat "$GUEST_INITRD" | cpio -i init 2>/dev/null) &&
	    [ -x $_wt/init ]; } ||
		fail "cannot take the witness program out of $GUEST_INITRD"
	$_wt/init fill "$1" || fail "cannot fill $1 with the witness's pattern"
}

# storage_witness NAME LV [FILE]: a witness NAME (96 MiB) whose disk xvda
# is a new volume vga/LV and, with FILE, xvdb a new raw image FILE, each of
# $WDISK_MIB (64) MiB (what an earlier failed run left goes first), filled
# by witness_fill; the witness writes $WDISK_RATE (10) durable numbered
# blocks a second across them from boot on (0: none).  Returns once it
# has completed 20 writes.
storage_witness() {
	_mib=${WDISK_MIB:-64}
	lvremove -q -f "vga/$2" >/dev/null 2>&1
	lvcreate -q -n "$2" -L "${_mib}M" vga || fail "lvcreate vga/$2 failed"
	witness_fill "/dev/vga/$2"
	_disks="\"phy:/dev/vga/$2,xvda,w,script=block-lab\""
	_nd=1
	if [ -n "${3:-}" ]; then
		rm -f "$3"
		mkdir -p "${3%/*}"
		truncate -s "${_mib}M" "$3" || fail "cannot make $3"
		witness_fill "$3"
		_disks="$_disks, \"file:$3,xvdb,w,script=block-lab\""
		_nd=2
	fi
	_wk=${WITNESS_KARGS:-}
	WITNESS_KARGS="disk=${WDISK_RATE:-10} disks=$_nd${_wk:+ $_wk}"
	witness_cfg "$1" 96 16 8
	WITNESS_KARGS=$_wk
	echo "disk = [ $_disks ]" >> "/tmp/$1.cfg"
	timed xl create -q "/tmp/$1.cfg" || fail "xl create of witness $1 with its disk failed"
	say "witness $1 created in ${ELAPSED_MS}ms, $_nd disk(s) of $_mib MiB"
	within 120 tick_past "$1" 5 || fail "witness $1 did not start ticking within 120s"
	[ "${WDISK_RATE:-10}" -eq 0 ] || within 180 disk_writes_past "$1" 20 ||
		fail "witness $1 did not complete 20 disk writes in 180s: $(wall "$1" | grep '^X[SDEV]' | tail -3 | xargs)"
}

tick_past() { [ "$(last_tick "$1")" -gt "$2" ]; }

# within SECONDS CMD...: CMD succeeds within SECONDS of dom0's clock
# (wait_for counts its polls, which a loaded dom0 stretches: each polls
# the whole console log here).
within() {
	_end=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt $_end ] || return 1
		usleep 200000
	done
}

# disk_writes NAME [LOG]: the writes NAME's disk writer has completed (its
# latest XD line), in all its logs or in LOG alone; disk_writes_past NAME
# N: more than N.
disk_writes() {
	{ if [ $# -gt 1 ]; then tr -d '\r' < "$2"; else wall "$1"; fi; } |
	    awk '$1 == "XD" && NF == 4 && $3 + 0 > m { m = $3 + 0 }
	    END { print m + 0 }'
}
disk_writes_past() { [ "$(disk_writes "$1")" -gt "$2" ]; }

# disk_verdict NAME K: DISK_VERDICT = NAME's latest verdict after its
# verdict K (they count on across moves: the count is in its memory).
disk_verdict() {
	DISK_VERDICT=$(wall "$1" | awk -v k="$2" '$1 == "XV" && $2 + 0 > k + 0 {
	    l = $0 } END { print l }')
	[ -n "$DISK_VERDICT" ]
}

# check_disk NAME: cues NAME (V) to read its whole disks back against
# what its memory says they must hold, and fails the scenario on a bad
# verdict, or none within 5 minutes (TCG reads slowly).  Sets
# DISK_VERDICT, and DISK_WRITES, the writes it had completed.
check_disk() {
	disk_verdict "$1" -1
	_k=$(echo "$DISK_VERDICT" | awk '{ print $2 + 0 }')
	cue "$1" V
	within 300 disk_verdict "$1" "$_k" ||
		fail "witness $1 gave no disk verdict within 300s of the V cue"
	say "witness $1: $DISK_VERDICT"
	case $DISK_VERDICT in
	"XV "*" OK "*) ;;
	*) fail "witness $1's disk is not what it wrote: $DISK_VERDICT" ;;
	esac
	DISK_WRITES=$(echo "$DISK_VERDICT" | sed -n 's/.* writes=\([0-9]*\).*/\1/p')
	metric disk_writes "$DISK_WRITES"
}

# storage_live_move NAME PORT LV [FILE]: a's witness NAME with the disks
# storage_witness gives it (vga/LV, and FILE) moves to b live with them
# (xl-reloc migrate --with-storage, the guest writing throughout), on
# ports PORT (barrier) and PORT+1 (its console log to b).  a: the move's
# result as metrics (PAUSED_MS, DISK_PASSES, DISK_LAST), no dm-era device
# of relocd's left, its disks removed.  b: the guest runs there on
# /dev/vgb/LV (and /run/imgb/FILE), its ticks go on and its disk check
# finds every write it completed before the pause (check_disk), then
# it and its disks go.
storage_live_move() {
	_nm=$1 _pt=$2 _lv=$3 _f=${4:-}
	if [ "$me" = a ]; then
		storage_witness "$_nm" "$_lv" $_f
		_bf=$(last_tick "$_nm")
		barrier "$_pt" 300
		say "$_nm writes $(disk_writes "$_nm") blocks so far: xl-reloc migrate --with-storage (live)"
		timed xr migrate --plain --port 8002 --with-storage --json "$_nm" \
		    "$XLAB_PEER" > /tmp/st.out 2>&1 || { cat /tmp/st.out;
		    relocd_logs a; peer_fail $((_pt + 1)) "live migrate --with-storage of $_nm failed"; }
		tail -1 /tmp/st.out
		_r=$(grep '"event":"result"' /tmp/st.out)
		PAUSED_MS=$(echo "$_r" | sed -n 's/.*"paused_ms":\([0-9]*\).*/\1/p')
		DISK_PASSES=$(echo "$_r" | sed -n 's/.*"disk_passes":\([0-9]*\).*/\1/p')
		DISK_LAST=$(echo "$_r" | sed -n 's/.*"disk_last_bytes":\([0-9]*\).*/\1/p')
		metric migrate_ms "$ELAPSED_MS"
		metric paused_ms "$PAUSED_MS"
		metric disk_bytes "$(echo "$_r" | sed -n 's/.*"bytes_disk":\([0-9]*\).*/\1/p')"
		metric disk_passes "$DISK_PASSES"
		metric disk_last_bytes "$DISK_LAST"
		[ "${DISK_PASSES:-0}" -ge 1 ] ||
			peer_fail $((_pt + 1)) "no delta pass: $_r"
		! dmsetup ls | grep -q relocd ||
			{ dmsetup ls; peer_fail $((_pt + 1)) "relocd's dm-era devices left on a"; }
		check_domains
		send_logs $((_pt + 1)) "$_bf" $(wlogs "$_nm") ||
			fail "cannot send the console log to $XLAB_PEER"
		lvremove -q -f "vga/$_lv"
		[ -z "$_f" ] || rm -f "$_f"
		relocd_logs a
	else
		recv_logs_start $((_pt + 1)) "$CONSLOG/guest-$_nm--source.log"
		barrier "$_pt" 300
		recv_logs_wait
		check_domains "$_nm"
		check_witness "$_nm" "$PEER_BEFORE"
		xl list -l "$_nm" | grep -q "\"pdev_path\": \"/dev/vgb/$_lv\"" ||
			{ xl list -l "$_nm"; fail "the configuration does not name /dev/vgb/$_lv"; }
		[ -z "$_f" ] || xl list -l "$_nm" | grep -q "\"pdev_path\": \"/run/imgb/${_f##*/}\"" ||
			{ xl list -l "$_nm"; fail "the configuration does not name /run/imgb/${_f##*/}"; }
		check_disk "$_nm"
		relocd_logs b
		xl destroy "$_nm"
		wait_for 30 gone "$_nm"
		lvremove -q -f "vgb/$_lv"
		[ -z "$_f" ] || rm -f "/run/imgb/${_f##*/}"
	fi
}

# --- two hosts ---------------------------------------------------------------

# send_logs PORT BEFORE FILE...: console logs to the peer's recv_logs,
# after a line "XB BEFORE" naming the last tick before the operation the
# peer is to judge.
send_logs() {
	_sp=$1 _sb=$2
	shift 2
	{ echo "XB $_sb"; cat "$@" | tr -d '\r'; } | nc "$XLAB_PEER" "$_sp"
}

# recv_logs_start PORT FILE: receive what the peer's send_logs sends into
# FILE (name it guest-NAME--something.log, so that wlogs NAME finds it);
# recv_logs_wait then waits for it and sets PEER_BEFORE from its XB line.
recv_logs_start() {
	printf '#!/bin/sh\nexec cat > %s\n' "$2" > "/tmp/recv-$1"
	chmod +x "/tmp/recv-$1"
	# -e: a plain "nc -l" with stdin at EOF stops after its first read
	nc -l -p "$1" -e "/tmp/recv-$1" &
	RECV_PID=$!
	RECV_FILE=$2
}
recv_logs_wait() {
	wait "$RECV_PID"
	! grep -q '^XF' "$RECV_FILE" ||
		fail "the peer failed: $(grep '^XF' "$RECV_FILE" | head -1 | cut -c4-)"
	PEER_BEFORE=$(awk '$1 == "XB" { print $2; exit }' "$RECV_FILE")
	[ -n "$PEER_BEFORE" ] || fail "no console log from $XLAB_PEER"
}

# peer_fail PORT REASON: tell the peer waiting in recv_logs_wait, then fail.
peer_fail() {
	echo "XF $2" | nc "$XLAB_PEER" "$1"
	fail "$2"
}

# barrier PORT [SECONDS]: both hosts reach this point before either goes on;
# fails after SECONDS (60) without the peer.
barrier() {
	nc -l -p "$1" -e /bin/true &
	_lp=$!
	_end=$(($(now_ms) + ${2:-60} * 1000))
	until nc -w 2 "$XLAB_PEER" "$1" </dev/null >/dev/null 2>&1; do
		if [ "$(now_ms)" -gt $_end ]; then
			kill $_lp
			fail "barrier $1: no peer after ${2:-60}s"
		fi
		sleep 1
	done
	wait $_lp
}

# --- a domain's life, relocd as its monitor ----------------------------------

# cue NAME KEY: the witness reads KEY from its console and acts: R reboot,
# P power off, K crash.  Written to the console's pty, as xl console would.
cue() {
	_id=$(xl domid "$1" 2>/dev/null) || fail "cue: no domain $1"
	_tty=$(xenstore-read "/local/domain/$_id/console/tty") ||
		fail "cue: domain $1 has no console pty"
	printf '%s\n' "$2" > "$_tty" || fail "cue: cannot write to $_tty"
}

# wait_for SECONDS CMD...: CMD succeeds within SECONDS (polled every 0.2 s).
wait_for() {
	_n=$(($1 * 5))
	shift
	until "$@"; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || return 1
		usleep 200000
	done
}

# newboot_tick NAME RT N: the highest counter of a boot of NAME that began
# after the guest's realtime RT, told by its counter being below N (the
# tick of the boot before) -- a new boot counts from 1 again.  0 if none.
newboot_tick() {
	wall "$1" | awk -v rt="$2" -v n="$3" '$1 == "XW" && NF == 5 &&
	    $3 + 0 > rt + 0 && $2 + 0 < n + 0 && $2 + 0 > m { m = $2 + 0 }
	    END { print m + 0 }'
}
newboot_past() { [ "$(newboot_tick "$1" "$2" "$3")" -gt "$4" ]; }

# uuid_of NAME: its uuid, from xl list -v.
uuid_of() { xl list -v "$1" 2>/dev/null | awk 'NR == 2 { print $7 }'; }
gone() { ! xl domid "$1" >/dev/null 2>&1; }
logged() { grep -q -- "$2" "$1"; }

# owned R NAME: the state (watching, restarting, preserved) relocd R gives
# NAME in xl-reloc list, empty if it does not look after it.
owned() {
	/usr/local/sbin/xl-reloc -c "/run/r$1/relocd.conf" list 2>/dev/null |
		awk -v n="$2" 'NR > 1 && $1 == n { print $4 }'
}
owned_is() { [ "$(owned "$1" "$2")" = "$3" ]; }
not_owned() { [ -z "$(owned "$1" "$2")" ]; }

# cur_tick NAME: "N RT", the counter of NAME's newest tick and its
# realtime.  Newest by realtime: a restarted guest counts from 1 again,
# below the ticks of its boots before.
cur_tick() {
	wall "$1" | awk '$1 == "XW" && NF == 5 && $2 ~ /^[0-9]+$/ &&
	    $3 ~ /^[0-9]+$/ && $3 + 0 >= rt + 0 { rt = $3 + 0; n = $2 + 0 }
	    END { printf "%d %.0f\n", n, rt }'
}

# mark NAME: how NAME is right before a cue: M_ID its domid, M_UUID, M_N
# its last tick and M_RT that tick's realtime (after 20 more ticks of its
# current boot).
# shellcheck disable=SC2034 # for the scenario
mark() {
	M_ID=$(xl domid "$1") || fail "no domain $1"
	M_UUID=$(uuid_of "$1")
	# 2 s of ticks here first: no tick of another host (whose clock may
	# be up to 1 s ahead) can then pass for one after the cue
	# shellcheck disable=SC2046 # two numbers
	set -- "$1" $(cur_tick "$1")
	_n=0
	# shellcheck disable=SC2046
	until [ $(cur_tick "$1" | cut -d' ' -f1) -gt $(($2 + 20)) ]; do
		_n=$((_n + 1))
		[ $_n -gt 300 ] && fail "$1 is not ticking"
		usleep 200000
	done
	# shellcheck disable=SC2046
	set -- $(cur_tick "$1")
	M_N=$1 M_RT=$2
}

# check_restarted NAME: since mark, NAME came back under its own name and
# uuid as a new domain, booted afresh: its counter counts from 1 again
# (below M_N, with realtime after M_RT), past 20, so it runs.
check_restarted() {
	wait_for 120 newboot_past "$1" "$M_RT" "$M_N" 20 ||
		{ xl list; fail "$1 did not boot again (counter below $M_N after realtime $M_RT: $(newboot_tick "$1" "$M_RT" "$M_N"))"; }
	_new=$(xl domid "$1") || fail "no domain $1 after its restart"
	[ "$_new" != "$M_ID" ] || fail "$1 is still domain $M_ID: not restarted"
	[ "$(uuid_of "$1")" = "$M_UUID" ] || fail "$1 came back with uuid $(uuid_of "$1"), not $M_UUID"
	_starts=$(wall "$1" | grep -c '^XS start')
	metric starts "$_starts"
	say "$1: domain $M_ID -> $_new, same uuid, new boot at tick $(newboot_tick "$1" "$M_RT" "$M_N"); $_starts start lines in its logs"
}
