#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The receive policy over the real protocol: a raw peer (rawpeer) sends
# relocd-sim each malicious configuration of tests/integration/policy with
# RESERVE; every one is refused at RESERVE with the key and value named,
# on the wire and in the target's log, and nothing is created.  Then the
# same through stock xl's tunnel (xlsend), a refusal as xl-reloc shows it,
# domain names xl could not use, what a policy allows by name, a target
# without receive_disk_paths or with the policy off, and an in-doubt QUERY
# in plaintext, which is not answered.
set -u
PORT_SALT=12 LOCALHOST_OK=1
# shellcheck source=tests/integration/sim-lib.sh
. "$(dirname "$0")/sim-lib.sh"
RAWPEER=$B/tests/integration/rawpeer
XLSEND=$B/tests/integration/xlsend
P=${srcdir:-$(dirname "$0")/../..}/tests/integration/policy
PC=$PT PD=$((PT + 1))
trap sim_cleanup EXIT

# reserve HOST PORT NAME FILE: rawpeer's RESERVE of FILE as NAME; its
# answer in $T/out, its exit status returned (0 reserved, 3 refused)
reserve() {
	"$RAWPEER" "$2" "$3" -c "$P/$4" > "$T/out" 2>&1
}
# refused HOST WANT: rawpeer was refused with WANT, the target logged it,
# and the target has no domain (the refusal created nothing)
refused() {
	grep -qF "refused not-allowed: $2" "$T/out" &&
	    grep -qF "$2" "$T/$1/log" && [ -z "$(names "$1")" ]
}

start b "$PB" 'receive_disk_paths = [ "/srv/xen" ]'
start c "$PC"

# 1. Each refused key, from the table the libxl unit test also reads.
while IFS='|' read -r file want; do
	case $file in ''|'#'*) continue ;; esac
	reserve b "$PB" pol "$file"; rc=$?
	if [ "$rc" -eq 3 ] && refused b "$want"; then
		ok "refused at RESERVE: ${want%%: *}"
	else bad "refused at RESERVE: $file (rc $rc)"; fi
done < "$P/cases"

# 2. What the policy allows: a disk under /srv/xen, Xen's own scripts.
if reserve b "$PB" pol disk-ok.json && grep -q "^reserved " "$T/out"; then
	ok "allowed: a disk under receive_disk_paths, Xen's hotplug scripts"
else bad "allowed: a disk under receive_disk_paths (rc $?)"; fi

# 3. The uuid libxl would create is the one checked; names xl could not
#    use, or that escape a directory, are refused.
reserve b "$PB" pol uuid-other.json; rc=$?
if [ "$rc" -eq 3 ] && refused b 'c_info.uuid = "7e570001-7e57-4001-8001-7e5700000002": not the domain'"'"'s uuid'; then
	ok "a config whose uuid is not the RESERVE's"
else bad "a config whose uuid is not the RESERVE's (rc $rc)"; fi
for name in ../../x 12345 Domain-0 web--incoming -web 7e570001-7e57-4001-8001-7e5700000001; do
	reserve b "$PB" "$name" disk-ok.json; rc=$?
	if [ "$rc" -eq 3 ] && refused b "domain name \"$name\""; then
		ok "name refused: $name"
	else bad "name refused: $name (rc $rc)"; fi
done

# 4. With no receive_disk_paths, storage is refused with the setting named.
reserve c "$PC" pol disk-ok.json; rc=$?
if [ "$rc" -eq 3 ] && refused c 'disks[0].pdev_path = "/srv/xen/web.img": no storage may be received here: add its directory or volume group (/dev/VG) to receive_disk_paths'; then
	ok "no receive_disk_paths: a domain with a disk is refused"
else bad "no receive_disk_paths: a domain with a disk is refused (rc $rc)"; fi

# 5. Allowed by name after a reload; the policy off takes anything, and
#    relocd says so loudly.
cat >> "$T/c/relocd.conf" <<CONF
receive_allow = [ "pci", "iomem" ]
CONF
if hup c && reserve c "$PC" pol pci.json && reserve c "$PC" pol iomem.json &&
    ! reserve c "$PC" pol irqs.json; then
	ok "receive_allow names pci and iomem: those pass, irqs does not"
else bad "receive_allow names pci and iomem"; fi
start d "$PD" 'receive_policy = 0'
if reserve d "$PD" pol disk-host.json &&
    grep -q "WARNING: receive_policy is off" "$T/d/log"; then
	ok "receive_policy = 0: anything passes, with a warning at start"
else bad "receive_policy = 0: anything passes, with a warning at start"; fi

# 6. The in-doubt QUERY is not answered in plaintext, where anyone on the
#    path could answer it instead (faults-sim.sh asks over TLS).
"$RAWPEER" "$PB" pol -q 1 > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 3 ] && grep -q "^error denied: QUERY is answered only on the TLS port" "$T/out" &&
    grep -q "asks about reservation 1 in plaintext" "$T/b/log"; then
	ok "QUERY in plaintext: refused"
else bad "QUERY in plaintext: refused (rc $rc)"; fi

# 7. Through stock xl's tunnel: refused before the stream, the reason on
#    xl's terminal, the sender's domain running as it was.
mkdir -p "$T/a"
"$SIMCTL" -d "$T/a/host" init --mem-mib 256 >/dev/null
"$SIMCTL" -d "$T/a/host" create pol --mem-mib 16 \
	--uuid 7e570001-7e57-4001-8001-7e5700000001 >/dev/null
RELOCD_SIM_DIR=$T/a/host "$XLSEND" -c "$P/disk-host.json" \
	-s "$XLRELOC -c $T/b/relocd.conf tunnel --plain --port $PB" \
	pol 127.0.0.1 > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 1 ] && grep -qF "xl-reloc tunnel: 127.0.0.1 refused: not-allowed: disks[0].pdev_path = \"/dev/sda\"" "$T/out" &&
    [ "$(names a)" = "pol " ] && [ "$("$SIMCTL" -d "$T/a/host" list | awk '{ print $3 }')" = running ] &&
    [ -z "$(names b)" ]; then
	ok "xl tunnel: refused before the stream, the reason on xl's terminal"
else bad "xl tunnel: refused before the stream (rc $rc)"; fi

# 8. A relocd source and xl-reloc: the refusal reaches the user, exit 3,
#    and the domain runs on at the source.
start a "$PA"
"$SIMCTL" -d "$T/a/host" create 'web!1' --mem-mib 16 >/dev/null
X a migrate --plain --port "$PB" --localhost 'web!1' 127.0.0.1 > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 3 ] && grep -qF 'domain name "web!1": only letters, digits' "$T/out" &&
    grep -qF 'domain name "web!1"' "$T/a/log" && grep -qF 'domain name "web!1"' "$T/b/log" &&
    [ "$(names a)" = "pol web!1 " ]; then
	ok "xl-reloc migrate: the target's refusal shown, exit 3, domain kept"
else bad "xl-reloc migrate: the target's refusal shown (rc $rc)"; fi

# 9. A port that is not there: the error says which setting or option.
X a migrate --port "$((PA + 9))" --localhost pol 127.0.0.1 > "$T/out" 2>&1; rc=$?
if [ "$rc" -ne 0 ] && grep -q "is TLS on there? Use --plain for its plain port, or set relocation_ssl_server" "$T/out"; then
	ok "TLS refused: the error suggests --plain or the target's TLS settings"
else bad "TLS refused: the error suggests --plain (rc $rc)"; fi
X a migrate --plain --port "$((PA + 9))" --localhost pol 127.0.0.1 > "$T/out" 2>&1; rc=$?
if [ "$rc" -ne 0 ] && grep -q "the plain port is off unless its relocd.conf sets relocation_server = 1" "$T/out"; then
	ok "plain refused: the error names relocation_server"
else bad "plain refused: the error names relocation_server (rc $rc)"; fi
finish
