#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The OCF agent without Xen: shellcheck clean, its meta-data valid against
# the RA API DTD (as ocf-tester checks it) and Pacemaker's metadata.rng,
# every parameter and action it handles documented there and the reverse,
# the same under busybox sh (the lab's dom0), and bad parameters refused by
# validate-all with OCF_ERR_CONFIGURED.  A missing tool skips it (a failure
# under RELOCD_TESTS_STRICT=1, as tests/run-tests runs it).
set -u
AGENT=${srcdir:-.}/conf/ocf/xen-domain
# shellcheck source=tests/common/need.sh
. "${srcdir:-.}/tests/common/need.sh"
RA=/usr/share/resource-agents
OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}
export OCF_ROOT
T=$(mktemp -d /tmp/ocf-metadata.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "[       OK ] $1"; }
bad() { fail=$((fail + 1)); echo "[  FAILED  ] $1"; }

missing=""
for t in shellcheck xmllint busybox; do
	command -v "$t" >/dev/null || missing="$missing $t"
done
[ -r "$RA/ra-api-1.dtd" ] && [ -r "$RA/metadata.rng" ] &&
    [ -r "$OCF_ROOT/lib/heartbeat/ocf-shellfuncs" ] || missing="$missing resource-agents"
[ -z "$missing" ] ||
    skip_test "missing$missing (apt-get install shellcheck libxml2-utils busybox-static resource-agents)"

if shellcheck -s sh "$AGENT"; then ok "shellcheck -s sh"; else bad "shellcheck -s sh"; fi

"$AGENT" meta-data > "$T/md.xml"; rc=$?
# exactly as ocf-tester: on stdin, from the DTD's directory
if [ $rc -eq 0 ] && (cd "$RA" && xmllint --noout --valid - < "$T/md.xml"); then
	ok "meta-data valid against ra-api-1.dtd"
else bad "meta-data valid against ra-api-1.dtd (exit $rc)"; fi
# metadata.rng (resource-agents 4.12) predates OCF 1.1's reloadable
# attribute: the rest is checked against it, and reloadable below.
sed 's/ reloadable="1"//' "$T/md.xml" > "$T/md10.xml"
if xmllint --noout --relaxng "$RA/metadata.rng" "$T/md10.xml" 2>"$T/rng.err"; then
	ok "meta-data valid against metadata.rng"
else cat "$T/rng.err"; bad "meta-data valid against metadata.rng"; fi
# Reloadable: every parameter but those naming the domain and where it
# starts from (a change of those is another resource), and reload-agent
# announced for Pacemaker to run instead of a restart.
reloadable=$(xmllint --xpath '//parameter[@reloadable="1"]/@name' "$T/md.xml" |
    sed 's/ *name="\([^"]*\)"/\1\n/g' | sed '/^$/d' | sort | xargs)
fixed=$(xmllint --xpath '//parameter[not(@reloadable)]/@name' "$T/md.xml" |
    sed 's/ *name="\([^"]*\)"/\1\n/g' | sed '/^$/d' | sort | xargs)
if [ "$fixed" = "name xl_config xmfile" ] && [ -n "$reloadable" ] &&
    xmllint --xpath '//action[@name="reload-agent"]' "$T/md.xml" >/dev/null 2>&1; then
	ok "reload-agent, and reloadable parameters but name, xl_config, xmfile"
else bad "reloadable [$reloadable], not [$fixed]"; fi

# The parameters the agent reads (each has a _default) and those it
# documents are the same set.
used=$(sed -n 's/^OCF_RESKEY_\([a-z_]*\)_default=.*/\1/p' "$AGENT" | sort | xargs)
documented=$(xmllint --xpath '//parameter/@name' "$T/md.xml" |
    sed 's/ *name="\([^"]*\)"/\1\n/g' | sed '/^$/d' | sort | xargs)
if [ -n "$used" ] && [ "$used" = "$documented" ]; then
	ok "every parameter documented ($used)"
else bad "parameters used [$used], documented [$documented]"; fi
for p in $documented; do
	n=$(xmllint --xpath "string(//parameter[@name='$p']/longdesc)" "$T/md.xml" | wc -w)
	[ "$n" -ge 5 ] || bad "parameter $p: longdesc of $n words"
done

# Every action the dispatcher runs (but the aliases status, usage, help)
# is announced, and nothing more.
# shellcheck disable=SC2016 # a literal $1
handled=$(sed -n '/^case \$1 in$/,/^esac$/p' "$AGENT" |
    sed -n 's/^\([a-z_|-]*\))[ 	].*/\1/p' | tr '|' '\n' |
    grep -v -x -e status -e usage -e help -e '\*' | sort -u | xargs)
announced=$(xmllint --xpath '//action/@name' "$T/md.xml" |
    sed 's/ *name="\([^"]*\)"/\1\n/g' | sed '/^$/d' | sort -u | xargs)
if [ "$handled" = "$announced" ]; then
	ok "every action announced ($announced)"
else bad "actions handled [$handled], announced [$announced]"; fi

if busybox sh "$AGENT" meta-data | cmp -s - "$T/md.xml"; then
	ok "meta-data the same under busybox sh"
else bad "meta-data the same under busybox sh"; fi

# validate-all on bad parameters: OCF_ERR_CONFIGURED (6), one line why.
v() {	# EXPECTED LABEL VAR=VALUE...
	want=$1 label=$2
	shift 2
	out=$(env -i PATH="$PATH" OCF_ROOT="$OCF_ROOT" OCF_RA_VERSION_MAJOR=1 \
	    OCF_RESOURCE_INSTANCE=vm1 OCF_RESKEY_xl_config=/etc/hosts "$@" \
	    "$AGENT" validate-all 2>&1)
	got=$?
	if [ "$got" -eq "$want" ]; then ok "validate-all: $label"
	else bad "validate-all: $label: exit $got, want $want: $out"; fi
}
# validate-all checks for xl and xl-reloc on PATH: the test-only stand-in
# xl (a build host need not have Xen's tools) and the xl-reloc just built.
mkdir "$T/bin"
ln -s "$(cd "${srcdir:-.}/tests/ocf" && pwd)/xl" "$T/bin/xl"
ln -s "$(cd "${BUILDDIR:-.}/xl-plugin" && pwd)/xl-reloc" "$T/bin/xl-reloc"
v 0 "good parameters" PATH="$T/bin:$PATH" \
    OCF_RESKEY_port=8013 OCF_RESKEY_bandwidth=100M OCF_RESKEY_tls=false
v 6 "bad name" OCF_RESKEY_name='vm 1'
v 6 "temporary suffix" OCF_RESKEY_name=vm1--incoming
v 6 "port 0" OCF_RESKEY_port=0
v 6 "port 70000" OCF_RESKEY_port=70000
v 6 "bandwidth 10X" OCF_RESKEY_bandwidth=10X
v 6 "max_downtime 0" OCF_RESKEY_max_downtime=0
v 6 "tls maybe" OCF_RESKEY_tls=maybe
v 6 "relative save_dir" OCF_RESKEY_save_dir=images
v 6 "shutdown_timeout -1" OCF_RESKEY_shutdown_timeout=-1
v 6 "nothing to start from" OCF_RESKEY_xl_config=
v 0 "xmfile for xl_config" PATH="$T/bin:$PATH" OCF_RESKEY_xl_config= \
    OCF_RESKEY_xmfile=/etc/hosts
v 6 "xmfile and xl_config differ" OCF_RESKEY_xmfile=/etc/passwd
v 6 "relative monitor_scripts" OCF_RESKEY_monitor_scripts="/bin/true check-web"
v 6 "autoset_utilization_hv_memory maybe" \
    OCF_RESKEY_autoset_utilization_hv_memory=maybe
out=$(env -i PATH="$PATH" OCF_ROOT="$OCF_ROOT" "$AGENT" 2>&1); rc=$?
if [ $rc -eq 2 ]; then ok "no action: OCF_ERR_ARGS"
else bad "no action: exit $rc: $out"; fi
out=$(env -i PATH="$PATH" OCF_ROOT="$OCF_ROOT" "$AGENT" frobnicate 2>&1); rc=$?
if [ $rc -eq 3 ]; then ok "unknown action: OCF_ERR_UNIMPLEMENTED"
else bad "unknown action: exit $rc: $out"; fi

echo "metadata.sh: $pass passed, $fail failed"
[ $fail -eq 0 ]
