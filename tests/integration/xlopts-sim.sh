#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# xl's options on relocd's path: migrate -C sends another configuration,
# which the target judges with its receive policy like the domain's own;
# a configuration that cannot fit the domain, or is not libxl JSON, is
# refused before anything moves; migrate -e and restore -e leave the
# domain to nobody; save -p keeps it paused; restore's [cfg] names and
# builds the domain.  Checked from the hosts' domain lists and logs.
set -u
PORT_SALT=23
# shellcheck source=tests/integration/sim-lib.sh
. "$(dirname "$0")/sim-lib.sh"
trap sim_cleanup EXIT

# cfg FILE NAME MEM_KIB DISK: a libxl JSON configuration, as xl create -n
# prints one (no uuid: the domain keeps its own)
cfg() {
	cat > "$1" <<JSON
{
    "c_info": { "type": "pv", "name": "$2" },
    "b_info": { "max_vcpus": 1, "max_memkb": $3, "target_memkb": $3,
                "type.pv": { } },
    "disks": [ { "pdev_path": "$4", "vdev": "xvda", "backend": "phy",
                 "format": "raw", "readwrite": 1 } ]
}
JSON
}
state() { "$SIMCTL" -d "$T/$1/host" list | awk -v n="$2" '$2 == n { print $3 }'; }

start a "$PA"
start b "$PB" 'receive_disk_paths = [ "/srv/xen" ]'
"$SIMCTL" -d "$T/a/host" create web --mem-mib 16 >/dev/null
cfg "$T/ok.json" web 16384 /srv/xen/web-b.img
cfg "$T/bad.json" web 16384 /dev/sda
cfg "$T/mem.json" web 32768 /srv/xen/web-b.img
cfg "$T/other.json" db 16384 /srv/xen/web-b.img
printf 'name = "web"\nmemory = 16\n' > "$T/web.cfg"

# 1. -C with a disk the target does not allow: its policy refuses it with
#    the key named, exit 3, the domain runs on here.
X a migrate --plain --port "$PB" --localhost -C "$T/bad.json" web 127.0.0.1 > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 3 ] && grep -qF 'disks[0].pdev_path = "/dev/sda"' "$T/out" &&
    grep -qF 'disks[0].pdev_path = "/dev/sda"' "$T/b/log" &&
    [ "$(names a)" = "web " ] && [ "$(state a web)" = running ] && [ -z "$(names b)" ]; then
	ok "migrate -C: the target's receive policy judges the new configuration"
else bad "migrate -C: the target's policy judges it (rc $rc): $(tail -1 "$T/out")"; fi

# 2. Configurations refused before anything moves: other memory, another
#    domain's name, an xl.cfg (with the command that converts it), none.
for c in "mem.json|gives the domain 32768 KiB, not its 16384 KiB" \
    "other.json|names domain db, not web" \
    "web.cfg|is not libxl JSON; from an xl.cfg, make it with: xl create -n" \
    "nothere.json|No such file"; do
	X a migrate --plain --port "$PB" --localhost -C "$T/${c%%|*}" web 127.0.0.1 > "$T/out" 2>&1; rc=$?
	if [ "$rc" -ne 0 ] && grep -qF "${c#*|}" "$T/out" && [ "$(state a web)" = running ] &&
	    [ -z "$(names b)" ]; then
		ok "migrate -C ${c%%|*}: refused at the source, nothing moved"
	else bad "migrate -C ${c%%|*}: refused at the source (rc $rc): $(tail -1 "$T/out")"; fi
done

# 3. -C with an allowed disk, and -e: it arrives, and B's relocd says it
#    will not look after it.
X a migrate --plain --port "$PB" --localhost -e -C "$T/ok.json" web 127.0.0.1 > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 0 ] && [ "$(names b)" = "web " ] && [ -z "$(names a)" ] &&
    grep -q "sending configuration $T/ok.json in place of its own" "$T/a/log" &&
    grep -q "web (domain [0-9]*): asked not to be looked after (-e)" "$T/b/log" &&
    ! ls "$T/b/state/owned" 2>/dev/null | grep -q .; then
	ok "migrate -C -e: moved with the new configuration, not looked after"
else bad "migrate -C -e (rc $rc): $(tail -1 "$T/out")"; fi

# Who asked: the control socket's peer, its pid that of the xl-reloc
# that asked (one whose pid we know: run in the background).
"$XLRELOC" -c "$T/a/relocd.conf" migrate --plain --port "$PB" --localhost -C "$T/nothere.json" web 127.0.0.1 > "$T/out" 2>&1 &
xpid=$!
wait "$xpid"
if grep -q "^job [0-9]*: migrate-out web to 127.0.0.1, asked by uid $(id -u) (pid $xpid\(, loginuid [0-9a-z]*\)\?)$" "$T/a/log"; then
	ok "the job's first line names who asked for it (uid, pid, loginuid)"
else bad "who asked: $(grep 'asked by' "$T/a/log" | tail -1)"; fi

# 4. save -p: the image is written, the domain kept, paused.
X b save -p web "$T/web.img" > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 0 ] && [ -s "$T/web.img" ] && [ "$(state b web)" = paused ]; then
	ok "save -p: saved, and left paused"
else bad "save -p (rc $rc, state $(state b web)): $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/b/host" destroy web >/dev/null

# 5. restore [cfg] FILE: built from the configuration, under its name,
#    and its disk answers to the policy; -e leaves it to nobody.
cfg "$T/db.json" db 16384 /srv/xen/db.img
X b restore -e -p "$T/db.json" "$T/web.img" > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 0 ] && [ "$(names b)" = "db " ] && [ "$(state b db)" = paused ] &&
    grep -q "db (domain [0-9]*): asked not to be looked after (-e)" "$T/b/log"; then
	ok "restore -e -p CONFIG FILE: the domain named and built from CONFIG"
else bad "restore CONFIG FILE (rc $rc): $(tail -1 "$T/out")"; fi
X b restore "$T/bad.json" "$T/web.img" > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 3 ] && grep -qF 'disks[0].pdev_path = "/dev/sda"' "$T/out" &&
    [ "$(names b)" = "db " ]; then
	ok "restore CONFIG FILE: the receive policy judges CONFIG"
else bad "restore CONFIG FILE: the policy judges it (rc $rc): $(tail -1 "$T/out")"; fi
# A name taken, as itself or as NAME--incoming (a restore or migration
# under way, or left by a crash): refused before anything is built.
X b restore "$T/db.json" "$T/web.img" > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 3 ] && grep -q "a domain called db runs here already (domid [0-9]*)" "$T/out" &&
    [ "$(names b)" = "db " ]; then
	ok "restore: a domain of the image's name runs already: refused"
else bad "restore over a running name (rc $rc): $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/b/host" create web--incoming --mem-mib 16 >/dev/null
X b restore "$T/web.img" > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 3 ] && grep -q "a domain called web--incoming runs here already" "$T/out" &&
    [ "$(names b)" = "db web--incoming " ]; then
	ok "restore: NAME--incoming there already: refused, nothing built"
else bad "restore over NAME--incoming (rc $rc, $(names b)): $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/b/host" destroy web--incoming >/dev/null
# 6. jobs --history: the finished jobs, from the journal, with how they
#    ended; the same in JSON; the running list has none of them.
X a jobs --history > "$T/hist" 2>&1; rc=$?
X a jobs --history --json > "$T/hist.json" 2>&1; rc2=$?
if [ "$rc" -eq 0 ] && [ "$rc2" -eq 0 ] &&
    grep -q '^1  *migrate-out  *web  *127.0.0.1:.*  aborted  *20[0-9-]* [0-9:]*$' "$T/hist" &&
    grep -q '^6  *migrate-out  *web  .*  done  ' "$T/hist" &&
    grep -q '^{"v":1,"job":6,"kind":"migrate-out","domain":"web","peer":"127.0.0.1:[0-9]*","outcome":"done","ended_ms":[0-9]*}$' "$T/hist.json" &&
    [ "$(X a jobs | wc -l)" -eq 1 ]; then
	ok "jobs --history: finished jobs from the journal, with their outcome"
else bad "jobs --history (rc $rc/$rc2): $(cat "$T/hist" "$T/hist.json")"; fi
X b jobs --history --json > "$T/hist.json" 2>&1
if grep -q '"kind":"migrate-in","domain":"web",.*"outcome":"done"' "$T/hist.json" &&
    grep -q "\"kind\":\"save\",\"domain\":\"web\",\"peer\":\"$T/web.img\",\"outcome\":\"done\"" "$T/hist.json" &&
    grep -q '"kind":"restore","domain":"db",.*"outcome":"done"' "$T/hist.json"; then
	ok "jobs --history: a target's migrations, saves and restores"
else bad "jobs --history on the target: $(cat "$T/hist.json")"; fi
finish
