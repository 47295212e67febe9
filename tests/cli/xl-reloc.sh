#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# xl-reloc as a user runs it, with no relocd: help works, usage errors exit
# 1 with one line, and a command that needs relocd exits 6 and says how to
# start it.
set -u
X=${XL_RELOC:-./xl-plugin/xl-reloc}
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

# expect STATUS PATTERN CMD...: exit status and a line of stdout+stderr
expect() {
	want=$1 pat=$2
	shift 2
	"$@" >"$tmp/out" 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $* exited $got, not $want"; cat "$tmp/out"; fail=1
	elif ! grep -qF -- "$pat" "$tmp/out"; then
		echo "FAIL: $* did not print: $pat"; cat "$tmp/out"; fail=1
	else
		echo "ok: $*"
	fi
}

printf 'control_socket = "%s/relocd.sock"\n' "$tmp" >"$tmp/relocd.conf"

expect 0 "usage: xl-reloc [-c FILE] COMMAND" "$X" --help
expect 0 "usage: xl-reloc migrate [options] DOMAIN HOST" "$X" help migrate
expect 0 "--max-downtime MS" "$X" migrate --help
for c in save restore verify jobs cancel evacuate tunnel help; do
	expect 0 "usage: xl-reloc $c" "$X" "$c" --help
done
expect 1 "xl-reloc: no command 'frob'" "$X" frob
expect 1 "xl-reloc: migrate: unknown option '--bogus'" "$X" migrate --bogus a b
expect 1 "xl-reloc: migrate: --bandwidth: '1X' is not a rate" "$X" migrate --bandwidth 1X a b
expect 1 "xl-reloc: migrate: --port: '0' is not" "$X" migrate --port 0 a b
expect 1 "xl-reloc: evacuate: --to HOST[,HOST...] is required" "$X" evacuate
expect 6 "xl-reloc: relocd is not running (no $tmp/relocd.sock): start it with 'systemctl start relocd' or 'relocd'" \
	"$X" -c "$tmp/relocd.conf" migrate web1 node2
expect 6 "relocd is not running" "$X" -c "$tmp/relocd.conf" jobs
expect 6 "relocd is not running" "$X" -c "$tmp/relocd.conf" save web1 /tmp/w.xl
expect 1 "$tmp/none.conf: No such file or directory" \
	"$X" -c "$tmp/none.conf" jobs
# the tunnel needs no relocd here, only on HOST: nothing listens there
expect 4 "xl-reloc: tunnel to 127.0.0.1:" \
	"$X" -c "$tmp/relocd.conf" tunnel --plain --port 1 127.0.0.1 xl migrate-receive
exit $fail
