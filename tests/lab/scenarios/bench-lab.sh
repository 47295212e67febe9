# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2034 # sourced after /lab/lib.sh (ELAPSED_MS, WITNESS_TYPE...)
# xlab: hosts=1 xen=shadow timeout=1500 default=no
# xlab-desc: benchmark (bench/lab): xl-reloc against stock xl on one guest, localhost
# One dom0, one witness guest (128 MiB, 256 pages/tick), moved in turn by
# each contender, ROUNDS times over, so that every figure of one run shares
# the machine's mood:
#   reloc     xl-reloc migrate --plain, relocd a <-> relocd b: the direct
#             byte path (libxl's stream straight into the socket)
#   relocr    the same through the relay (a --bandwidth far above the link)
#   relocz    the same with --compress
#   reloct    xl-reloc migrate --tls (client certificates), the peer of ssh:
#             kernel TLS (tls_ktls = 1), the direct byte path
#   relocu    the same with TLS in user space and the relay: relocd c -> d,
#             tls_ktls = 0
#   xlpipe    xl migrate -s '' (xl migrate-receive as the whole transport)
#   xlssh     xl migrate witness localhost (xl's default: ssh), if dom0 has sshd
#   rsave     xl-reloc save + xl-reloc restore
#   rsave256  the same with save --sha256 (only when asked: bench/lab -c)
#   xsave     xl save + xl restore
# and then, the witness re-created as a PVH guest:
#   pvhreloc  xl-reloc migrate --plain
#   pvhxlpipe xl migrate -s ''
# Per run: <row>_ms (wall), <row>_down_ms (the guest's own largest gap),
# <row>_bytes (bytes sent on loopback; xlpipe_pipe_bytes: through its
# pipe; *_image_bytes: the image's size), <row>_cpu_ms (dom0 busy time).
# bench/lab puts the round count in the overlay (at most 4 within the
# timeout), and the guest types to run (pv, pvh or both)
ROUNDS=$(cat /etc/xlab/bench-rounds 2>/dev/null || echo 2)
TYPES=$(cat /etc/xlab/bench-types 2>/dev/null || echo "pv pvh")
ROWS=$(cat /etc/xlab/bench-rows 2>/dev/null ||
    echo "reloc relocr xlpipe xlssh relocz reloct relocu rsave xsave")
want() { case " $ROWS " in *" $1 "*) return 0 ;; esac; return 1; }
case " $TYPES " in *" pv "*) ;; *) WITNESS_TYPE=pvh ;; esac
[ -x /usr/local/sbin/relocd ] && [ -r /etc/relocd-lab/ca.pem ] ||
	fail "no relocd or no certificates in dom0 (lab build --bindir DIR --overlay DIR)"
# both also on TLS (8003, 8013), with the lab's throwaway certificates and
# kernel TLS; c and d (8022/8023, 8032/8033) the same with TLS in user space
P=/etc/relocd-lab
for r in "a a 8003 1" "b b 8013 1" "c a 8023 0" "d b 8033 0"; do
	# shellcheck disable=SC2086 # NAME CERT TLS-PORT KTLS
	set -- $r
	{
		echo "tls_cert = \"$P/$2.pem\""
		echo "tls_key = \"$P/$2.key\""
		echo "tls_ca = \"$P/ca.pem\""
		echo "relocation_ssl_server = 1"
		echo "relocation_ssl_port = $3"
		echo "tls_ktls = $4"
	} > "/tmp/r$1.extra"
done
relocd_start a 8002 /tmp/ra.extra
relocd_start b 8012 /tmp/rb.extra
if want relocu; then
	relocd_start c 8022 /tmp/rc.extra
	relocd_start d 8032 /tmp/rd.extra
fi
witness_create witness 128 256
at=a	# the relocd whose host the witness is on (both are this dom0)

lo_tx() { cat /sys/class/net/lo/statistics/tx_bytes; }
# dom0's busy time in ms (all CPUs; dom0 has one): what the contender cost,
# whoever spent it (xl, helpers, relocd's workers, sshd, the kernel).
busy_ms() { awk '/^cpu / { print ($2 + $3 + $4 + $7 + $8) * 10 }' /proc/stat; }

# measure ROW CMD...: run one move, check the guest, print its metrics.
measure() {
	_row=$1
	shift
	before=$(last_tick witness)
	_b0=$(lo_tx)
	_c0=$(busy_ms)
	timed "$@" || { relocd_logs a b; fail "$_row: $* failed"; }
	_ms=$ELAPSED_MS
	_cpu=$(($(busy_ms) - _c0))
	_bytes=$(($(lo_tx) - _b0))
	check_domains witness
	check_witness witness "$before"
	metric "${_row}_ms" "$_ms"
	metric "${_row}_down_ms" "$DOWNTIME_MS"
	metric "${_row}_bytes" "$_bytes"
	metric "${_row}_cpu_ms" "$_cpu"
	say "$_row: ${_ms} ms, guest gap ${DOWNTIME_MS} ms, $_bytes bytes, dom0 cpu ${_cpu} ms"
}

reloc() {	# reloc [--compress]: to the other relocd, plain
	_to=b _port=8012
	[ $at = b ] && _to=a _port=8002
	/usr/local/sbin/xl-reloc -c "/run/r$at/relocd.conf" migrate --plain \
	    --port $_port --localhost "$@" witness 127.0.0.1 > /tmp/xr.out 2>&1 ||
		{ cat /tmp/xr.out; return 1; }
	at=$_to
}
reloct() {	# the same over TLS with client certificates
	_to=b _port=8013
	[ $at = b ] && _to=a _port=8003
	/usr/local/sbin/xl-reloc -c "/run/r$at/relocd.conf" migrate --tls \
	    --port $_port --localhost witness 127.0.0.1 > /tmp/xr.out 2>&1 ||
		{ cat /tmp/xr.out; return 1; }
	at=$_to
}
relocu() {	# over TLS in user space: c -> d (one host: any relocd sends)
	/usr/local/sbin/xl-reloc -c /run/rc/relocd.conf migrate --tls \
	    --port 8033 --localhost witness 127.0.0.1 > /tmp/xr.out 2>&1 ||
		{ cat /tmp/xr.out; return 1; }
}
# What the pipe carried: every byte written by xl, its save helper and its
# transport (xl migrate-receive and the restore helper are its children),
# which a shell that waited for them all finds in its own /proc/PID/io.
# All but a few KiB of messages is the stream.
xlpipe() {
	# shellcheck disable=SC2016 # $$ and $r are the inner shell's
	sh -c 'xl migrate -s "" witness "xl migrate-receive"; r=$?
	    sed -n "s/^wchar: //p" /proc/$$/io > /tmp/xl.wchar; exit $r'
}
pipe_bytes() { cat /tmp/xl.wchar; }
rsave() {	# rsave [--sha256]
	/usr/local/sbin/xl-reloc -c "/run/r$at/relocd.conf" save "$@" witness /tmp/w.img &&
	    wc -c < /tmp/w.img > /tmp/w.size &&
	    /usr/local/sbin/xl-reloc -c "/run/r$at/relocd.conf" restore /tmp/w.img &&
	    rm -f /tmp/w.img
}
xsave() {
	xl save witness /tmp/w.img && wc -c < /tmp/w.img > /tmp/w.size &&
	    xl restore /tmp/w.img && rm -f /tmp/w.img
}
ssh_ok=0
if [ -x /usr/sbin/sshd ]; then
	mkdir -p /run/sshd && chmod 755 /run/sshd
	/usr/sbin/sshd -f /etc/ssh/sshd_config || fail "sshd did not start"
	ssh localhost true && ssh_ok=1 || fail "ssh to localhost does not work"
else
	say "no sshd in dom0 (the host has no openssh-server): no xlssh row"
fi

# rounds WHAT FN: FN, ROUNDS times over.
rounds() {
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		i=$((i + 1))
		say "--- $1 round $i of $ROUNDS"
		$2
	done
}
pv_round() {
	want reloc && measure reloc reloc
	want relocr && measure relocr reloc --bandwidth 64G
	if want xlpipe; then
		measure xlpipe xlpipe
		metric xlpipe_pipe_bytes "$(pipe_bytes)"
	fi
	[ $ssh_ok = 0 ] || ! want xlssh || measure xlssh xl migrate witness localhost
	want relocz && measure relocz reloc --compress
	want reloct && measure reloct reloct
	want relocu && measure relocu relocu
	if want rsave; then
		measure rsave rsave
		metric rsave_image_bytes "$(cat /tmp/w.size)"
	fi
	if want rsave256; then
		measure rsave256 rsave --sha256
		metric rsave256_image_bytes "$(cat /tmp/w.size)"
	fi
	if want xsave; then
		measure xsave xsave
		metric xsave_image_bytes "$(cat /tmp/w.size)"
	fi
	return 0
}
pvh_round() {
	measure pvhreloc reloc
	measure pvhxlpipe xlpipe
	metric pvhxlpipe_pipe_bytes "$(pipe_bytes)"
}

case " $TYPES " in *" pv "*) rounds PV pv_round ;; esac
# The same guest as PVH: its stream walks the whole pfn space up to the
# special pages below 4 GiB and carries HVM state instead of PV state.
case " $TYPES " in
*" pvh "*)
	if [ "${WITNESS_TYPE:-pv}" = pv ]; then
		witness_destroy witness
		WITNESS_TYPE=pvh
		witness_create witness 128 256
	fi
	rounds PVH pvh_round
	;;
esac
# which byte path each relocd row took (one line per job and side)
grep -h "witness: byte path: " /run/r?/log | sed "s/^job [0-9]*: //" | sort | uniq -c
relocd_logs a b
pass "$ROUNDS rounds of [$TYPES]: PV $ROWS; PVH reloc, xlpipe"
