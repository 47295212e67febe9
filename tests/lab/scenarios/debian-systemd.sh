# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2046 # sourced after /lab/lib.sh; wlogs splits
# xlab: hosts=2 xen=shadow dom0=debian timeout=600 default=yes
# xlab-desc: Debian 12 + systemd dom0s: apt install the .debs, relocd.service, refused reload, journal, a -> b and back
# What a Debian Xen administrator does, on two Debian 12 dom0s with systemd
# and Debian's own Xen packages (the toolstack is xen.service, from
# /etc/init.d/xen): install the project's packages with apt from a folder of
# .debs (no network: what they depend on is on the disk already), configure,
# enable and start relocd.service; a reload with a broken configuration
# fails and the running relocd keeps its configuration and serves on;
# relocd's warnings reach journalctl -p warning, its info lines do not; then
# xl-reloc moves the witness a -> b and back, live, between the two
# relocd.service.  Each arrival is judged by the receiving host with the
# sender's console log added, as in relocd-pair-tls.
[ -d /run/systemd/system ] || fail "not the Debian dom0 (dom0=debian)"
case $XLAB_ROLE in
a|b) me=$XLAB_ROLE ;;
*) fail "needs two hosts" ;;
esac
CONF=/etc/xen/relocd.conf
journal() { say "--- journalctl -u relocd"; journalctl -u relocd.service -o cat --no-pager | tail -30 | sed 's/^/  /'; }
unit_fail() { journal; fail "$1"; }

# 1. The packages, as an administrator installs local ones.
ls /lab/debs/*.deb >/dev/null 2>&1 || fail "no .debs in dom0 (lab build --debs DIR)"
cd /lab/debs || fail "cannot enter /lab/debs"
timed env DEBIAN_FRONTEND=noninteractive apt install -y ./*.deb > /tmp/apt.out 2>&1 ||
	{ tail -20 /tmp/apt.out; fail "apt install ./*.deb failed"; }
cd /
metric install_ms "$ELAPSED_MS"
# shellcheck disable=SC2016 # dpkg-deb's own fields
say "installed: $(for d in /lab/debs/*.deb; do dpkg-deb -W --showformat='${Package}=${Version} ' "$d"; done)"
systemctl cat relocd.service >/dev/null 2>&1 || fail "no relocd.service after the install"

# 2. Configured for the other host (TLS with client certificates, the
# lab's PKI), enabled, started.
P=/etc/relocd-lab
[ -r "$P/ca.pem" ] || fail "no $P certificates in dom0 (lab build --overlay DIR)"
peer=b
[ "$me" = a ] || peer=a
ip_re=$(echo "$XLAB_PEER" | sed 's/\./\\\\./g')	# 10\\.0\\.0\\.2 in the file
cat > "$CONF" <<CONF
relocation_server = 0
relocation_ssl_server = 1
relocation_ssl_port = 8003
tls_cert = "$P/$me.pem"
tls_key = "$P/$me.key"
tls_ca = "$P/ca.pem"
tls_peers_allow = [ "xlab-$peer" ]
relocation_hosts_allow = [ "$ip_re", "xlab-$peer" ]
CONF
cp "$CONF" /tmp/good.conf
systemctl enable relocd.service || fail "systemctl enable relocd failed"
timed systemctl restart relocd.service || unit_fail "systemctl restart relocd failed"
metric start_ms "$ELAPSED_MS"
[ "$(systemctl is-enabled relocd.service)" = enabled ] || fail "relocd.service is not enabled"
[ "$(systemctl is-active relocd.service)" = active ] || unit_fail "relocd.service is not active"
pid=$(systemctl show -p MainPID --value relocd.service)
say "relocd.service active, pid $pid, status: $(systemctl show -p StatusText --value relocd.service)"

# 3. A broken configuration: systemctl reload fails, relocd keeps the
# running one and serves on; a SIGHUP to relocd itself is refused too,
# with a warning in the journal.
echo 'relocation_port = 80020' >> "$CONF"
if systemctl reload relocd.service; then
	unit_fail "systemctl reload took a configuration with relocation_port = 80020"
fi
[ "$(systemctl is-active relocd.service)" = active ] || unit_fail "relocd.service not active after the refused reload"
[ "$(systemctl show -p MainPID --value relocd.service)" = "$pid" ] ||
	unit_fail "relocd is no longer pid $pid after the refused reload"
xl-reloc -c /tmp/good.conf list >/dev/null ||
	unit_fail "relocd does not answer on its control socket after the refused reload"
kill -HUP "$pid"
# warned TEXT: a line with TEXT in journalctl -p warning -u relocd
warned() { journalctl -p warning -u relocd.service -o cat --no-pager | grep -q -- "$1"; }
wait_for 60 warned 'keeping the running configuration' ||
	unit_fail "no 'keeping the running configuration' warning in journalctl -p warning -u relocd"
warned '80020' || unit_fail "the refused reload's reason is not in journalctl -p warning -u relocd"
say "journalctl -p warning -u relocd:"
journalctl -p warning -u relocd.service -o cat --no-pager | sed 's/^/  | /'
# the good configuration back: reloaded, logged at info, not as a warning
cp /tmp/good.conf "$CONF"
systemctl reload relocd.service || unit_fail "systemctl reload of the good configuration failed"
reloaded() { journalctl -u relocd.service -o cat --no-pager | grep -q 'configuration reloaded'; }
wait_for 60 reloaded || unit_fail "no 'configuration reloaded' in journalctl -u relocd"
! warned 'configuration reloaded' || unit_fail "an info line of relocd shows in journalctl -p warning"
[ "$(systemctl show -p MainPID --value relocd.service)" = "$pid" ] ||
	unit_fail "relocd is no longer pid $pid after the reload"

# 4. a -> b and back, live, relocd.service on both sides.
if [ "$me" = a ]; then
	witness_create witness 96 16 8
	barrier 7201 300
	before=$(last_tick witness)
	say "witness at tick $before on xlab-a: xl-reloc migrate witness $XLAB_PEER (TLS)"
	timed xl-reloc migrate witness "$XLAB_PEER" ||
		{ journal; peer_fail 7202 "xl-reloc migrate a -> b failed"; }
	metric there_ms "$ELAPSED_MS"
	check_domains
	send_logs 7202 "$before" $(wlogs witness) ||
		fail "cannot send the console log to $XLAB_PEER"
	recv_logs_start 7204 "$CONSLOG/guest-witness--peer.log"
	barrier 7203 300
	recv_logs_wait
	check_domains witness
	check_witness witness "$PEER_BEFORE"
	say "witness back on xlab-a: tick $PEER_BEFORE on xlab-b before, now $(last_tick witness)"
	pass "apt install, relocd.service, reload refused, warning logged; a -> b -> a, guest gap back ${DOWNTIME_MS}ms"
else
	recv_logs_start 7202 "$CONSLOG/guest-witness--source.log"
	barrier 7201 300
	recv_logs_wait
	check_domains witness
	check_witness witness "$PEER_BEFORE"
	there=$DOWNTIME_MS
	say "witness arrived on xlab-b: tick $PEER_BEFORE on xlab-a before, now $(last_tick witness)"
	barrier 7203
	before=$(last_tick witness)
	timed xl-reloc migrate witness "$XLAB_PEER" ||
		{ journal; peer_fail 7204 "xl-reloc migrate b -> a failed"; }
	metric back_ms "$ELAPSED_MS"
	check_domains
	send_logs 7204 "$before" "$CONSLOG/guest-witness--incoming.log" ||
		fail "cannot send the console log to $XLAB_PEER"
	pass "apt install, relocd.service, reload refused, warning logged; received from a: guest gap ${there}ms"
fi
