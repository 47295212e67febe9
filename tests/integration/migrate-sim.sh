#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Two relocd daemons on loopback, each on its own simulated Xen host
# (tests/sim): migrations that must succeed, refusals that must change
# nothing, and the failure rule.  Each case is checked from both hosts'
# domain lists and memory checksums, never from relocd's word alone.
set -u
# shellcheck source=tests/integration/sim-lib.sh
. "$(dirname "$0")/sim-lib.sh"
XLRELOC_SIM=$B/tests/sim/xl-reloc-sim	# xl-reloc on the simulated host
trap sim_cleanup EXIT

pki
start a "$PA" "$(tls_conf a)
max_incoming = 8
max_outgoing = 8"
start b "$PB" "$(tls_conf b)
relocation_ssl_server = 1
relocation_ssl_port = $PT
max_incoming = 8"

# 1. Live migration of a busy guest: several rounds, lands running at B.
"$SIMCTL" -d "$T/a/host" create busy --mem-mib 64 --dirty-rate 3000 >/dev/null
if migrate a busy "$PB" $((F_LIVE | F_LOCALHOST)) && [ "$(names a)" = "" ] &&
    [ "$(names b)" = "busy " ] && grep -q 'result status=0' "$T/out" &&
    "$SIMCTL" -d "$T/b/host" info busy | grep -q running; then
	ok "live migration of a dirtying guest"
else bad "live migration of a dirtying guest: $(tail -1 "$T/out")"; fi

# 2. The memory that arrives is the memory that left (a calm guest, so
#    the source's memory before is its memory at suspend).
"$SIMCTL" -d "$T/a/host" create calm --mem-mib 32 >/dev/null
before=$(sum a calm)
if migrate a calm "$PB" $((F_LIVE | F_LOCALHOST)) && [ "$(sum b calm)" = "$before" ] &&
    [ "$(names a)" = "" ]; then
	ok "memory identical at the target"
else bad "memory identical at the target: $(tail -1 "$T/out")"; fi

# 3. And back, stop-and-copy.
before=$(sum b calm)
if migrate b calm "$PA" "$F_LOCALHOST" && [ "$(sum a calm)" = "$before" ] &&
    [ "$(names b)" = "busy " ]; then
	ok "stop-and-copy migration back"
else bad "stop-and-copy migration back: $(tail -1 "$T/out")"; fi

# 4. A name clash is refused and nothing changes on either side.
"$SIMCTL" -d "$T/b/host" create calm --mem-mib 16 >/dev/null
migrate a calm "$PB" "$F_LOCALHOST"; rc=$?
if [ "$rc" -eq 3 ] && grep -q "runs here already" "$T/out" &&
    [ "$(names a)" = "calm " ] && [ "$(names b)" = "busy calm " ] &&
    "$SIMCTL" -d "$T/a/host" info calm | grep -q running; then
	ok "name clash refused, nothing changed"
else bad "name clash refused, nothing changed: rc $rc $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/b/host" destroy calm >/dev/null

# 5. Not enough memory at the target: refused before any byte moves.
"$SIMCTL" -d "$T/a/host" create big --mem-mib 900 >/dev/null
"$SIMCTL" -d "$T/b/host" create hog --mem-mib 600 >/dev/null
migrate a big "$PB" "$F_LOCALHOST"; rc=$?
if [ "$rc" -eq 3 ] && grep -q "not enough free memory" "$T/out" &&
    "$SIMCTL" -d "$T/a/host" info big | grep -q running &&
    [ "$(names b)" = "busy hog " ]; then
	ok "not enough memory refused"
else bad "not enough memory refused: rc $rc $(tail -1 "$T/out")"; fi

# 6. Without --localhost a daemon on this same host is refused: here A
#    itself (each simulated host has a name of its own).
migrate a calm "$PA" 0; rc=$?
if [ "$rc" -ne 0 ] && grep -q "is this host" "$T/out" &&
    [ "$(names a)" = "big calm " ]; then
	ok "localhost refused unless asked for"
else bad "localhost refused unless asked for: rc $rc $(tail -1 "$T/out")"; fi

# 7. The suspend fails at the source: it keeps running, the target is clean.
"$SIMCTL" -d "$T/a/host" fault fail_suspend on >/dev/null
migrate a calm "$PB" $((F_LIVE | F_LOCALHOST)); rc=$?
"$SIMCTL" -d "$T/a/host" fault fail_suspend off >/dev/null
if [ "$rc" -eq 4 ] && "$SIMCTL" -d "$T/a/host" info calm | grep -q running &&
    [ "$(names b)" = "busy hog " ]; then
	ok "failed suspend: source runs, target clean"
else bad "failed suspend: source runs, target clean: rc $rc $(tail -1 "$T/out")"; fi

# 8. No such domain.
migrate a nosuch "$PB" "$F_LOCALHOST"; rc=$?
if [ "$rc" -eq 2 ]; then ok "unknown domain"; else bad "unknown domain: rc $rc"; fi

# 8b. A domain under a temporary name (a migration in flight, or its
#     leftover) is not moved again, whichever name it has.
for t in x--migratedaway y--incoming; do
	"$SIMCTL" -d "$T/a/host" create "$t" --mem-mib 16 >/dev/null
	migrate a "$t" "$PB" "$F_LOCALHOST"; rc=$?
	if [ "$rc" -eq 4 ] && grep -q "in the middle of a migration" "$T/out" &&
	    ! "$SIMCTL" -d "$T/b/host" list | grep -q " $t "; then
		ok "$t refused"
	else bad "$t refused: rc $rc $(tail -1 "$T/out")"; fi
	"$SIMCTL" -d "$T/a/host" destroy "$t" >/dev/null
done

# 9. Through xl-reloc, as a user types it: the summary, exit 0.
out=$("$XLRELOC" -c "$T/a/relocd.conf" migrate --plain --port "$PB" --localhost calm 127.0.0.1 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q "migrate calm to 127.0.0.1: done" &&
    [ "$(names a)" = "big " ] && [ "$(names b)" = "busy calm hog " ]; then
	ok "xl-reloc migrate"
else bad "xl-reloc migrate: rc $rc $out"; fi

# 10. Save of a domain that does not exist: refused, the reason in the
#     last line, no file written.
out=$("$XLRELOC" -c "$T/a/relocd.conf" save nosuch "$T/nosuch.xl" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && printf '%s\n' "$out" | tail -1 | grep -q "no domain nosuch" &&
    ! [ -e "$T/nosuch.xl" ] && "$SIMCTL" -d "$T/a/host" info big | grep -q running; then
	ok "save of an unknown domain refused"
else bad "save of an unknown domain refused: rc $rc $out"; fi

# 11. Over TLS with client certificates, both ways verified.
"$SIMCTL" -d "$T/a/host" destroy big >/dev/null
"$SIMCTL" -d "$T/a/host" create sec --mem-mib 16 >/dev/null
if "$XLRELOC" -c "$T/a/relocd.conf" migrate --tls --port "$PT" --localhost sec \
    127.0.0.1 > "$T/out" 2>&1 && [ "$(names a)" = "" ] &&
    [ "$(names b)" = "busy calm hog sec " ]; then
	ok "TLS migration with client certificates"
else bad "TLS migration with client certificates: $(tail -1 "$T/out")"; fi
# Each end logs the certificate the other presented, as openssl prints
# its SHA-256 fingerprint.
fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'; }
if grep -q "127.0.0.1:$PT presented certificate .* SHA256 $(fp "$T/pki/b.pem")$" "$T/a/log" &&
    grep -q "127.0.0.1:[0-9]* presented certificate .* SHA256 $(fp "$T/pki/a.pem")$" "$T/b/log"; then
	ok "each end logs the certificate the other presented"
else bad "presented certificates: $(grep -h presented "$T/a/log" "$T/b/log")"; fi
"$SIMCTL" -d "$T/b/host" destroy sec >/dev/null

# 12. A source whose certificate another CA signed is refused, and so is
#     plaintext on the TLS port; nothing moves.
"$SIMCTL" -d "$T/a/host" create guest --mem-mib 16 >/dev/null
sed -i "s|$T/pki/a\.|$T/pki/rogue.|" "$T/a/relocd.conf"
hup a	# jobs run the reloaded config
"$XLRELOC" -c "$T/a/relocd.conf" migrate --tls --port "$PT" --localhost guest \
    127.0.0.1 > "$T/out" 2>&1; rc=$?
sed -i "s|$T/pki/rogue\.|$T/pki/a.|" "$T/a/relocd.conf"
hup a
"$XLRELOC" -c "$T/a/relocd.conf" migrate --plain --port "$PT" --localhost guest \
    127.0.0.1 > "$T/out2" 2>&1; rc2=$?
if [ "$rc" -ne 0 ] && [ "$rc2" -ne 0 ] && [ "$(names a)" = "guest " ] &&
    "$SIMCTL" -d "$T/a/host" info guest | grep -q running &&
    grep -q "plaintext on TLS port" "$T/b/log" &&
    grep -q "it refused this host's certificate, most likely: its tls_ca must hold the CA of this host's tls_cert" "$T/out"; then
	ok "bad client certificate and plaintext refused, the fix named"
else bad "bad client certificate and plaintext refused: $rc/$rc2 $(tail -1 "$T/out") / $(tail -1 "$T/out2")"; fi

# 13. Cancel during pre-copy (a slowed stream): the guest runs here again,
#     the target has nothing.
"$SIMCTL" -d "$T/a/host" create slow --mem-mib 64 --dirty-rate 1000 >/dev/null
"$XLRELOC" -c "$T/a/relocd.conf" migrate --plain --port "$PB" --localhost \
    --bandwidth 8M slow 127.0.0.1 > "$T/out" 2>&1 &
mpid=$!
# Its job, once it is in pre-copy (however long a loaded machine takes to
# get there; 30 s at most).
job=""
for _ in $(seq 300); do
	job=$("$XLRELOC" -c "$T/a/relocd.conf" jobs |
	    awk '$3 == "slow" && / pre-copy / { print $1 }')
	[ -n "$job" ] && break
	sleep 0.1
done
"$XLRELOC" -c "$T/a/relocd.conf" cancel "${job:-0}" >/dev/null 2>&1
wait "$mpid"; rc=$?
if [ -n "$job" ] && [ "$rc" -eq 5 ] && "$SIMCTL" -d "$T/a/host" info slow | grep -q running &&
    [ "$(names b)" = "busy calm hog " ]; then
	ok "cancel during pre-copy"
else bad "cancel during pre-copy: job '$job' rc $rc $(tail -1 "$T/out")"; fi

# 14. 200 idle connections hold no process, and B still serves a migration.
#     They come from another address (127.0.0.3): one host's own idle
#     connections count against it (max_pending_per_host, gate-sim.sh).
"$B/tests/integration/crowd" 127.0.0.3 "$PB" 200 idle > "$T/crowd" 2>&1 &
idle_pids=$!
for _ in $(seq 300); do grep -q "^ready" "$T/crowd" && break; sleep 0.1; done
# B's own job workers only: other tests may run relocd-sim at the same
# time, B's domain monitor (-W monitor) runs for as long as B does, and
# its spare worker (-W spare) waits for a job
workers=$(for p in $(pgrep -P "$(cat "$T/b/relocd.pid")"); do
	tr '\0' ' ' < "/proc/$p/cmdline" | grep -Eqv -- '-W (monitor|spare) ' &&
	    echo "$p"
done | wc -l)
"$SIMCTL" -d "$T/a/host" create calm2 --mem-mib 16 >/dev/null
migrate a calm2 "$PB" "$F_LOCALHOST"; rc=$?
# shellcheck disable=SC2086 # one pid per word
kill $idle_pids 2>/dev/null
if [ "$rc" -eq 0 ] && [ "${workers:-0}" -eq 0 ] && [ "$(names a)" = "guest slow " ]; then
	ok "200 idle connections, still serving"
else bad "200 idle connections, still serving: rc $rc, $workers workers"; fi

# 15. Eight migrations at once between the two daemons.
for n in 1 2 3 4 5 6 7 8; do
	"$SIMCTL" -d "$T/a/host" create "par$n" --mem-mib 16 --dirty-rate 500 >/dev/null
done
pids=""
for n in 1 2 3 4 5 6 7 8; do
	"$CTLC" "$T/a/relocd.sock" migrate "par$n" 127.0.0.1 "$PB" \
	    $((F_LIVE | F_LOCALHOST)) > "$T/par$n" 2>&1 &
	pids="$pids $!"
done
okn=0
for p in $pids; do wait "$p" && okn=$((okn + 1)); done
if [ "$okn" -eq 8 ] && [ "$(names a)" = "guest slow " ] &&
    [ "$("$SIMCTL" -d "$T/b/host" list | grep -c ' par[1-8] ')" -eq 8 ]; then
	ok "8 concurrent migrations"
else bad "8 concurrent migrations: $okn of 8 ($(cat "$T"/par* | grep result | sort | uniq -c | head -3))"; fi

# 16. Evacuate: 5 domains from A to two targets, 2 at a time, one target
#     short of memory.  B (127.0.0.1) has room for little; C (127.0.0.2,
#     same port) for much; the domain that fits nowhere stays running here.
for n in 1 2 3 4 5 6 7 8; do "$SIMCTL" -d "$T/b/host" destroy "par$n" >/dev/null; done
for d in guest slow calm2; do "$SIMCTL" -d "$T/a/host" destroy "$d" >/dev/null 2>&1; done
"$SIMCTL" -d "$T/b/host" destroy calm >/dev/null 2>&1
"$SIMCTL" -d "$T/b/host" destroy calm2 >/dev/null 2>&1
# B moves to 127.0.0.1 alone by a reload (SIGHUP rebinds the listeners),
# which frees 127.0.0.2 on that port for C.
sed -i "s/^relocation_port = .*/&\nrelocation_address = [ \"127.0.0.1\" ]/" "$T/b/relocd.conf"
hup b
MEM=512 start c "$PB" "relocation_address = [ \"127.0.0.2\" ]"
# A holds all five (954 of 1024 MiB); B has 360 MiB free, C 512: e5 fits
# on neither, the others fit somewhere, and the plan must use both.
for d in e1:150 e2:120 e3:100 e4:64 e5:520; do
	"$SIMCTL" -d "$T/a/host" create "${d%%:*}" --mem-mib "${d##*:}" >/dev/null
done
out=$("$XLRELOC" -c "$T/a/relocd.conf" evacuate --to 127.0.0.1,127.0.0.2 --plain \
    --port "$PB" --parallel 2 2>&1); rc=$?
onb=$(names b) onc=$(names c)
if [ "$rc" -ne 0 ] && [ "$(names a)" = "e5 " ] &&
    "$SIMCTL" -d "$T/a/host" info e5 | grep -q running &&
    [ "$(echo "$onb $onc" | tr ' ' '\n' | grep -c '^e[1-4]$')" -eq 4 ]; then
	ok "evacuate 5 domains to 2 targets, one left (fits nowhere)"
else bad "evacuate: rc $rc, A: $(names a) B: $onb C: $onc; $out"; fi

# 17. Save and restore through xl-reloc: the domain is gone after the
#     save (as with xl save), and comes back running with the same memory.
XA() { X a "$@"; }	# xl-reloc against A
flip() {	# FILE OFFSET: change the byte at OFFSET in place
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf '%b' "\\$(printf '%03o' $(((b + 1) % 256)))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
"$SIMCTL" -d "$T/a/host" create img --mem-mib 32 >/dev/null
before=$(sum a img)
XA save img "$T/img.xl" > "$T/out" 2>&1; rc=$?
names_saved=$(names a)
XA restore "$T/img.xl" > "$T/out2" 2>&1; rc2=$?
if [ "$rc" -eq 0 ] && [ "$names_saved" = "e5 " ] && [ -s "$T/img.xl" ] &&
    [ "$rc2" -eq 0 ] && [ "$(sum a img)" = "$before" ] &&
    "$SIMCTL" -d "$T/a/host" info img | grep -q running; then
	ok "save and restore round trip"
else bad "save and restore round trip: $rc/$rc2 [$names_saved] $(tail -1 "$T/out") / $(tail -1 "$T/out2")"; fi

# 18. A restore whose domain name is taken is refused; nothing changes.
XA restore "$T/img.xl" > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 3 ] && grep -q "runs here already" "$T/out" &&
    [ "$(names a)" = "e5 img " ]; then
	ok "restore over an existing name refused"
else bad "restore over an existing name refused: rc $rc $(tail -1 "$T/out")"; fi

# 19. --keep-running: the image is written and the domain still runs.
before=$(sum a img)
XA save --keep-running img "$T/keep.xl" > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 0 ] && [ -s "$T/keep.xl" ] && [ "$(names a)" = "e5 img " ] &&
    "$SIMCTL" -d "$T/a/host" info img | grep -q running &&
    XA verify "$T/keep.xl" >/dev/null 2>&1; then
	ok "save --keep-running"
else bad "save --keep-running: rc $rc $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/a/host" destroy img >/dev/null

# 20. A damaged image never runs: one flipped byte in the middle, and a
#     truncated copy, are both refused and leave no domain, not even a
#     paused one.
size=$(stat -c %s "$T/img.xl")
cp "$T/img.xl" "$T/bad.xl"
flip "$T/bad.xl" $((size / 2))
head -c $((size / 2)) "$T/img.xl" > "$T/short.xl"
XA restore "$T/bad.xl" > "$T/out" 2>&1; rc=$?
names_bad=$(names a)
XA restore "$T/short.xl" > "$T/out2" 2>&1; rc2=$?
if [ "$rc" -ne 0 ] && [ "$rc2" -ne 0 ] && grep -q "image corrupted" "$T/out" &&
    grep -q "image corrupted" "$T/out2" &&
    [ "$names_bad" = "e5 " ] && [ "$(names a)" = "e5 " ]; then
	ok "corrupted and truncated images refused, no domain left"
else bad "corrupted and truncated images refused: $rc/$rc2 [$names_bad] $(tail -1 "$T/out") / $(tail -1 "$T/out2")"; fi

# 21. Damage only the trailer (the last byte): libxl takes the whole
#     stream and builds the domain, paused; the trailer check fails and
#     the domain is destroyed, never unpaused.
cp "$T/img.xl" "$T/tail.xl"
flip "$T/tail.xl" $((size - 1))
XA restore "$T/tail.xl" > "$T/out" 2>&1; rc=$?
if [ "$rc" -ne 0 ] && grep -q "image corrupted" "$T/out" &&
    [ "$(names a)" = "e5 " ]; then
	ok "damaged trailer: built paused, then destroyed"
else bad "damaged trailer: rc $rc $(tail -1 "$T/out")"; fi

# 22. xl-reloc verify: a good image passes, a damaged one fails in one line.
out=$(XA verify "$T/img.xl" 2>&1); rc=$?
out2=$(XA verify "$T/bad.xl" 2>&1); rc2=$?
if [ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q "OK" && [ "$rc2" -ne 0 ] &&
    [ "$(printf '%s\n' "$out2" | wc -l)" -eq 1 ]; then
	ok "verify a good and a damaged image"
else bad "verify: $rc/$rc2 $out / $out2"; fi

# 23. Encrypted: the right key restores the same memory, a wrong one is
#     refused and leaves nothing.
head -c 32 /dev/urandom > "$T/key"
head -c 32 /dev/urandom > "$T/wrongkey"
XA restore "$T/img.xl" > /dev/null 2>&1
before=$(sum a img)
XA save --encrypt-key "$T/key" img "$T/enc.xl" > "$T/out" 2>&1; rc=$?
XA restore --key "$T/wrongkey" "$T/enc.xl" > "$T/out2" 2>&1; rc2=$?
names_wrong=$(names a)
XA restore --key "$T/key" "$T/enc.xl" > "$T/out3" 2>&1; rc3=$?
if [ "$rc" -eq 0 ] && [ "$rc2" -ne 0 ] && [ "$names_wrong" = "e5 " ] &&
    [ "$rc3" -eq 0 ] && [ "$(sum a img)" = "$before" ] &&
    XA verify --key "$T/key" "$T/enc.xl" >/dev/null 2>&1 &&
    ! XA verify "$T/enc.xl" >/dev/null 2>&1; then
	ok "encrypted save and restore, wrong key refused"
else bad "encrypted save and restore: $rc/$rc2/$rc3 [$names_wrong] $(tail -1 "$T/out") / $(tail -1 "$T/out2") / $(tail -1 "$T/out3")"; fi
"$SIMCTL" -d "$T/a/host" destroy img >/dev/null 2>&1

# 23b. Compressed, alone and under encryption: the same memory comes back,
#      verify says so, and a damaged compressed image never runs.
XA restore "$T/img.xl" > /dev/null 2>&1
before=$(sum a img)
XA save --compress img "$T/z.xl" > "$T/out" 2>&1; rc=$?
XA restore "$T/z.xl" > "$T/out2" 2>&1; rc2=$?
after=$(sum a img)
XA save --compress --encrypt-key "$T/key" img "$T/ze.xl" > "$T/out3" 2>&1; rc3=$?
zsize=$(stat -c %s "$T/z.xl")
cp "$T/z.xl" "$T/zbad.xl"
flip "$T/zbad.xl" $((zsize / 2))
head -c $((zsize / 2)) "$T/z.xl" > "$T/zshort.xl"
XA restore "$T/zbad.xl" > "$T/out4" 2>&1; rc4=$?
XA restore "$T/zshort.xl" >> "$T/out4" 2>&1; rc5=$?
names_zbad=$(names a)
XA restore --key "$T/key" "$T/ze.xl" > "$T/out5" 2>&1; rc6=$?
if [ "$rc" -eq 0 ] && [ "$rc2" -eq 0 ] && [ "$after" = "$before" ] &&
    [ "$rc3" -eq 0 ] && [ "$rc4" -ne 0 ] && [ "$rc5" -ne 0 ] &&
    [ "$names_zbad" = "e5 " ] && [ "$rc6" -eq 0 ] &&
    [ "$(sum a img)" = "$before" ] &&
    XA verify "$T/z.xl" | grep -q "compressed" &&
    XA verify --key "$T/key" "$T/ze.xl" | grep -q "compressed, encrypted" &&
    ! XA verify "$T/zbad.xl" >/dev/null 2>&1; then
	ok "compressed (and encrypted) save and restore, damage refused"
else bad "compressed save and restore: $rc/$rc2/$rc3/$rc4/$rc5/$rc6 [$names_zbad] $(tail -1 "$T/out") / $(tail -1 "$T/out2") / $(tail -2 "$T/out4") / $(tail -1 "$T/out5")"; fi
"$SIMCTL" -d "$T/a/host" destroy img >/dev/null 2>&1

# 24. restore --paused.
mkdir -p "$T/imgs"
XA restore --paused "$T/img.xl" > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 0 ] && "$SIMCTL" -d "$T/a/host" info img | grep -q paused; then
	ok "restore --paused leaves it paused"
else bad "restore --paused: rc $rc $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/a/host" destroy img >/dev/null
XA restore "$T/img.xl" >/dev/null 2>&1

# 25. A save that fails mid-stream over an existing image: the domain runs
#     again, the old image is untouched and nothing else is left beside it.
cp "$T/img.xl" "$T/imgs/old.xl"
"$SIMCTL" -d "$T/a/host" fault die_after 1048576 >/dev/null
"$SIMCTL" -d "$T/a/host" fault die_mode fail >/dev/null
XA save img "$T/imgs/old.xl" > "$T/out" 2>&1; rc=$?
"$SIMCTL" -d "$T/a/host" fault die_after off >/dev/null
"$SIMCTL" -d "$T/a/host" fault die_mode off >/dev/null
if [ "$rc" -eq 4 ] && "$SIMCTL" -d "$T/a/host" info img | grep -q running &&
    cmp -s "$T/img.xl" "$T/imgs/old.xl" && [ "$(ls -A "$T/imgs")" = "old.xl" ]; then
	ok "failed save: domain runs, old image untouched"
else bad "failed save: rc $rc [$(find "$T/imgs" -type f | tr '\n' ' ')] $(tail -1 "$T/out")"; fi

# 26. Cancel during a save (a stalled stream): the domain runs again, no file.
"$SIMCTL" -d "$T/a/host" fault stall_after 1048576 >/dev/null
XA save img "$T/imgs/stalled.xl" > "$T/out" 2>&1 &
spid=$!
job=""
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	job=$(XA jobs | awk '$2 == "save" { print $1 }')
	[ -n "$job" ] && break
	sleep 0.2
done
sleep 0.5
XA cancel "${job:-0}" >/dev/null 2>&1
wait "$spid"; rc=$?
"$SIMCTL" -d "$T/a/host" fault stall_after off >/dev/null
if [ -n "$job" ] && [ "$rc" -eq 5 ] && "$SIMCTL" -d "$T/a/host" info img | grep -q running &&
    [ "$(ls -A "$T/imgs")" = "old.xl" ]; then
	ok "cancel during a save"
else bad "cancel during a save: job '$job' rc $rc $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/a/host" destroy img >/dev/null 2>&1

# 26b. A hypervisor that cannot track dirty pages (no shadow paging): a
#      live migration is refused before the target hears of it, with the
#      reason; the domain runs on, and a stop-and-copy one still goes.
"$SIMCTL" -d "$T/a/host" create flat --mem-mib 16 >/dev/null
"$SIMCTL" -d "$T/a/host" host pv_logdirty 0
blog=$(wc -l < "$T/b/log")
XA migrate --plain --port "$PB" --localhost flat 127.0.0.1 > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 4 ] && grep -q "cannot track dirty pages.*--non-live" "$T/out" &&
    "$SIMCTL" -d "$T/a/host" info flat | grep -q running &&
    [ "$(wc -l < "$T/b/log")" -eq "$blog" ] &&
    XA migrate --plain --port "$PB" --localhost --non-live flat 127.0.0.1 > "$T/out" 2>&1 &&
    "$SIMCTL" -d "$T/b/host" info flat | grep -q running &&
    ! "$SIMCTL" -d "$T/a/host" list | grep -q flat; then
	ok "no dirty-page tracking: live refused up front, --non-live works"
else bad "no dirty-page tracking: rc $rc $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/b/host" destroy flat >/dev/null 2>&1
#      A PVH or HVM guest's dirty pages are tracked through its p2m,
#      which needs no shadow paging for PV: it moves live on the same host.
for ty in pvh hvm; do
	"$SIMCTL" -d "$T/a/host" create "flat$ty" --mem-mib 16 --type $ty >/dev/null
	XA migrate --plain --port "$PB" --localhost "flat$ty" 127.0.0.1 > "$T/out" 2>&1; rc=$?
	if [ "$rc" -eq 0 ] && "$SIMCTL" -d "$T/b/host" info "flat$ty" | grep -q "^state: running" &&
	    "$SIMCTL" -d "$T/b/host" info "flat$ty" | grep -q "^type: $ty" &&
	    ! "$SIMCTL" -d "$T/a/host" list | grep -q "flat$ty"; then
		ok "no dirty-page tracking for PV: a $ty guest still moves live"
	else bad "no dirty-page tracking, $ty guest: rc $rc $(tail -1 "$T/out")"; fi
	"$SIMCTL" -d "$T/b/host" destroy "flat$ty" >/dev/null 2>&1
done
"$SIMCTL" -d "$T/a/host" host pv_logdirty 1

# 26c. --direct: with no relocd to talk to, save and restore run in
#      xl-reloc itself (the same core), with the same guarantees.
printf 'control_socket = "%s"\n' "$T/nobody.sock" > "$T/norelocd.conf"
D() { RELOCD_SIM_DIR=$T/a/host "$XLRELOC_SIM" -c "$T/norelocd.conf" "$@"; }
D save img "$T/d.xl" > "$T/out" 2>&1; rc=$?
D restore --direct "$T/img.xl" > "$T/out2" 2>&1; rc2=$?
before=$(sum a img)
D save --direct --compress img "$T/d.xl" > "$T/out3" 2>&1; rc3=$?
names_saved=$(names a)
D restore --direct "$T/d.xl" > "$T/out4" 2>&1; rc4=$?
if [ "$rc" -eq 6 ] && grep -q -- "--direct" "$T/out" && [ "$rc2" -eq 0 ] &&
    [ "$rc3" -eq 0 ] && [ "$names_saved" = "e5 " ] && [ "$rc4" -eq 0 ] &&
    [ "$(sum a img)" = "$before" ] &&
    "$SIMCTL" -d "$T/a/host" info img | grep -q running &&
    D verify --direct "$T/d.xl" | grep -q compressed; then
	ok "save and restore --direct without relocd"
else bad "--direct: $rc/$rc2/$rc3/$rc4 [$names_saved] $(tail -1 "$T/out") / $(tail -1 "$T/out2") / $(tail -1 "$T/out3") / $(tail -1 "$T/out4")"; fi

# 26d. --direct failures: a save that dies mid-stream resumes the domain
#      and leaves no file; a damaged image is refused and never runs.
"$SIMCTL" -d "$T/a/host" fault die_after 1048576 >/dev/null
"$SIMCTL" -d "$T/a/host" fault die_mode fail >/dev/null
D save --direct img "$T/imgs/direct.xl" > "$T/out" 2>&1; rc=$?
"$SIMCTL" -d "$T/a/host" fault die_after off >/dev/null
"$SIMCTL" -d "$T/a/host" fault die_mode off >/dev/null
running=$("$SIMCTL" -d "$T/a/host" info img | grep -c running)
"$SIMCTL" -d "$T/a/host" destroy img >/dev/null 2>&1
dsize=$(stat -c %s "$T/d.xl")
cp "$T/d.xl" "$T/dbad.xl"
flip "$T/dbad.xl" $((dsize - 1))
D restore --direct "$T/dbad.xl" > "$T/out2" 2>&1; rc2=$?
if [ "$rc" -eq 4 ] && [ "$running" -eq 1 ] &&
    [ "$(ls -A "$T/imgs")" = "old.xl" ] && [ "$rc2" -ne 0 ] &&
    grep -q "image corrupted" "$T/out2" && [ "$(names a)" = "e5 " ]; then
	ok "--direct: failed save resumes, damaged image never runs"
else bad "--direct failures: $rc/$running/$rc2 [$(ls -A "$T/imgs" | tr '\n' ' ')] [$(names a)] $(tail -1 "$T/out") / $(tail -1 "$T/out2")"; fi

# 26e. A worker killed (-9) mid-save or mid-restore: relocd reconciles
#      its journal, so the suspended domain runs again and the half-built
#      NAME--incoming is destroyed; nothing stays suspended or reserved.
worker_pid() {	# KIND: the pid of relocd A's worker of that kind
	ps -eo pid=,args= | awk -v k="-W $1 " -v c="$T/a/" \
	    '$2 !~ /awk$/ && index($0, k) && index($0, c) { print $1; exit }'
}
await() {	# SECONDS COMMAND...: until COMMAND succeeds
	_t=$(($1 * 5)); shift
	while [ "$_t" -gt 0 ]; do "$@" && return 0; _t=$((_t - 1)); sleep 0.2; done
	return 1
}
running() { "$SIMCTL" -d "$T/a/host" info "$1" 2>/dev/null | grep -q running; }
gone() { ! "$SIMCTL" -d "$T/a/host" list | grep -q -- "$1"; }
XA restore "$T/img.xl" > /dev/null 2>&1
before=$(sum a img)
"$SIMCTL" -d "$T/a/host" fault stall_after 1048576 >/dev/null
XA save img "$T/imgs/killed.xl" > "$T/out" 2>&1 &
spid=$!
await 5 test -n "$(worker_pid save)"
sleep 0.5
wpid=$(worker_pid save)
[ -n "$wpid" ] && kill -9 "$wpid"
wait "$spid"; rc=$?
"$SIMCTL" -d "$T/a/host" fault stall_after off >/dev/null
if [ -n "$wpid" ] && [ "$rc" -ne 0 ] && await 10 running img &&
    [ "$(sum a img)" = "$before" ] && [ ! -e "$T/imgs/killed.xl" ]; then
	ok "worker killed mid-save: the domain runs again"
else bad "worker killed mid-save: pid '$wpid' rc $rc [$(names a)] $(tail -1 "$T/out")"; fi

XA save img "$T/k.xl" > /dev/null 2>&1
ksize=$(stat -c %s "$T/k.xl")
mkfifo "$T/fifo.xl"
( head -c $((ksize / 2)) "$T/k.xl"; exec sleep 30 ) > "$T/fifo.xl" &
fpid=$!
XA restore "$T/fifo.xl" > "$T/out" 2>&1 &
rpid=$!
await 5 test -n "$(worker_pid restore)"
await 5 "$SIMCTL" -d "$T/a/host" info img--incoming >/dev/null 2>&1
mid=$(names a)
wpid=$(worker_pid restore)
[ -n "$wpid" ] && kill -9 "$wpid"
wait "$rpid"; rc=$?
kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null
rm -f "$T/fifo.xl"
await 10 gone img--incoming; left=$(names a)
XA restore "$T/k.xl" > "$T/out2" 2>&1; rc2=$?
if [ -n "$wpid" ] && [ "$mid" = "e5 img--incoming " ] && [ "$rc" -ne 0 ] &&
    [ "$left" = "e5 " ] && [ "$rc2" -eq 0 ] && running img &&
    [ "$(sum a img)" = "$before" ]; then
	ok "worker killed mid-restore: the half-built domain is destroyed"
else bad "worker killed mid-restore: pid '$wpid' rc $rc/$rc2 mid [$mid] left [$left] $(tail -1 "$T/out") / $(tail -1 "$T/out2")"; fi
"$SIMCTL" -d "$T/a/host" destroy img >/dev/null 2>&1

# 26f. A target whose relocation_hosts_allow does not admit this host:
#      refused (exit 3) with the reason, nothing moves.  The refusal comes
#      within milliseconds, before the parent may have read its worker's
#      result: it must still be a refusal, not an "undefined state".
PD=$((PA + 3)) PN=$((PA + 4)) PDT=$((PA + 5))	# D's ports; a port nobody listens on
start d "$PD" "relocation_hosts_allow = [ \"10\\\\.0\\\\.0\\\\.9\" ]
$(tls_conf b)
relocation_ssl_server = 1
relocation_ssl_port = $PDT"
"$SIMCTL" -d "$T/a/host" create knock --mem-mib 16 >/dev/null
for how in "--plain --port $PD" "--tls --port $PDT"; do
	# shellcheck disable=SC2086 # $how is two options
	XA migrate $how --localhost knock 127.0.0.1 > "$T/out" 2>&1; rc=$?
	if [ "$rc" -eq 3 ] && grep -q "before greeting us: its relocation_hosts_allow" "$T/out" &&
	    "$SIMCTL" -d "$T/a/host" info knock | grep -q running &&
	    [ "$(names d)" = "" ] && grep -q "refused: no host-allow pattern" "$T/d/log"; then
		ok "host-allow refusal ($how): exit 3 with the reason, nothing moved"
	else bad "host-allow refusal ($how): rc $rc $(tail -1 "$T/out")"; fi
done

# 26g. Nobody listens at the target: failed (exit 4), the domain runs here.
XA migrate --plain --port "$PN" --localhost knock 127.0.0.1 > "$T/out" 2>&1; rc=$?
if [ "$rc" -eq 4 ] && grep -q "Connection refused" "$T/out" &&
    "$SIMCTL" -d "$T/a/host" info knock | grep -q running; then
	ok "no relocd at the target: exit 4, the domain runs here"
else bad "no relocd at the target: rc $rc $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/a/host" destroy knock >/dev/null 2>&1

# 26h. A job whose worker has sent its result holds no max_outgoing slot,
#      though the worker has not exited (libxl's teardown: seconds in a
#      busy dom0): the next migration, asked for on that result as
#      evacuate --parallel does, is not refused.  The first worker is held
#      where it lets go of the host, so it is surely still there.
sed -i 's/^max_outgoing = 8$/max_outgoing = 1/' "$T/a/relocd.conf"
hup a
for d in o1 o2; do "$SIMCTL" -d "$T/a/host" create $d --mem-mib 16 >/dev/null; done
"$SIMCTL" -d "$T/a/host" fault hold close >/dev/null
migrate a o1 "$PB" "$F_LOCALHOST"; rc=$?
held a close; hrc=$?
migrate a o2 "$PB" "$F_LOCALHOST"; rc2=$?
"$SIMCTL" -d "$T/a/host" fault hold off >/dev/null
if [ "$rc" -eq 0 ] && [ "$hrc" -eq 0 ] && [ "$rc2" -eq 0 ] &&
    [ "$(names b | tr ' ' '\n' | grep -c '^o[12]$')" -eq 2 ]; then
	ok "max_outgoing 1: a worker past its result holds no slot"
else bad "max_outgoing 1, worker past its result: rc $rc held $hrc rc2 $rc2 $(tail -1 "$T/out")"; fi
for d in o1 o2; do "$SIMCTL" -d "$T/b/host" destroy $d >/dev/null 2>&1; done

# 27. Nothing is left half-way on any host.
if no_leftovers a b c; then
	ok "no --incoming or --migratedaway left"
else bad "leftovers: $(names a) / $(names b)"; fi

finish
