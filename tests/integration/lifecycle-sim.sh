#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2016,SC2034 # until_ok eval '...'; PORT_SALT: sim-lib
#
# relocd as the monitor of the domains it brings up (relocd(8), "The
# domains relocd looks after"), on simulated hosts: every shutdown
# reason with every action, a domain that shuts down while relocd is
# away, a relocd killed half-way through a restart, and ownership that
# follows a domain as it moves.  Checked from the hosts' domain lists,
# and from xl-reloc list; waits are bounded polls, never a sleep.
set -u
PORT_SALT=7
# shellcheck source=tests/integration/sim-lib.sh
. "$(dirname "$0")/sim-lib.sh"
trap sim_cleanup EXIT

start a "$PA" "max_incoming = 64
dump_dir = \"$T/dump\""
start b "$PB" "max_incoming = 64
dump_dir = \"$T/dump\""
mkdir -p "$T/dump"

# until SECONDS CMD...: CMD succeeds within SECONDS (polled)
until_ok() {
	_left=$(($1 * 10)); shift
	while [ "$_left" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1; _left=$((_left - 1))
	done
	return 1
}
owned() { X "$1" list | awk 'NR > 1 { print $1 ":" $4 }' | sort | tr '\n' ' '; }
owned_id() { X "$1" list | awk -v n="$2" '$1 == n { print $2 }'; }
has() { "$SIMCTL" -d "$T/$1/host" list | awk '{ print $2 }' | grep -qx -- "$2"; }
state() { "$SIMCTL" -d "$T/$1/host" info "$2" 2>/dev/null | awk '$1 == "state:" { $1 = ""; print substr($0, 2) }'; }
running_new() { [ "$(state "$1" "$2")" = running ] && [ "$(info "$1" "$2" domid)" != "$3" ]; }
gone() { ! has "$1" "$2"; }
is_state() { [ "$(state "$1" "$2")" = "$3" ]; }
logged() { grep -q -- "$2" "$T/$1/log"; }
pid_of() { cat "$T/$1/relocd.pid"; }
monitor_stopped() { [ "$(grep -c 'monitor.*stopping' "$T/$1/log")" -ge "$2" ]; }
# bring NAME to b from a with relocd
bring() { "$SIMCTL" -d "$T/a/host" create "$1" --mem-mib 4 >/dev/null && migrate a "$1" "$PB" "$F_LOCALHOST"; }

# 1. A domain received is looked after at the target only; its
#    reboot is a restart there, under its name and uuid.
"$SIMCTL" -d "$T/a/host" create web --mem-mib 8 >/dev/null
uuid=$(info a web uuid)
if migrate a web "$PB" $((F_LIVE | F_LOCALHOST)) &&
    until_ok 10 eval '[ "$(owned b)" = "web:watching " ]' && [ "$(owned a)" = "" ]; then
	ok "a received domain is looked after at the target, not the source"
else bad "a received domain is looked after at the target, not the source: a=$(owned a) b=$(owned b)"; fi

old=$(info b web domid)
"$SIMCTL" -d "$T/b/host" shutdown web reboot
if until_ok 20 running_new b web "$old" && [ "$(info b web uuid)" = "$uuid" ] &&
    [ "$(names b)" = "web " ] && logged b "web (domain $old): reboot, action restart" &&
    until_ok 10 eval '[ "$(owned_id b web)" = "$(info b web domid)" ]'; then
	ok "reboot: restarted under its own name and uuid, one copy"
else bad "reboot: restarted under its own name and uuid, one copy: $(names b) $(owned b)"; fi

# 2. It moves away: b forgets it, a looks after it.
if migrate b web "$PA" $((F_LIVE | F_LOCALHOST)) &&
    until_ok 10 eval '[ "$(owned b)" = "" ] && [ "$(owned a)" = "web:watching " ]'; then
	ok "ownership follows the domain when it migrates away"
else bad "ownership follows the domain when it migrates away: a=$(owned a) b=$(owned b)"; fi

# 3. Restored by relocd: looked after; its poweroff leaves no zombie.
if X a save web "$T/web.xl" >"$T/out" 2>&1 && until_ok 10 eval '[ "$(owned a)" = "" ]' &&
    X b restore "$T/web.xl" >"$T/out" 2>&1 &&
    until_ok 10 eval '[ "$(owned b)" = "web:watching " ]'; then
	ok "a restored domain is looked after; a saved one is not"
else bad "a restored domain is looked after; a saved one is not: a=$(owned a) b=$(owned b)"; fi
old=$(info b web domid)
"$SIMCTL" -d "$T/b/host" shutdown web poweroff
if until_ok 20 gone b web && logged b "web (domain $old): poweroff, action destroy" &&
    until_ok 10 eval '[ "$(owned b)" = "" ]'; then
	ok "poweroff: destroyed, no shut-down zombie, no entry left"
else bad "poweroff: destroyed, no shut-down zombie, no entry left: $(names b) $(owned b)"; fi

# 4. Every reason with every action, as the domain's configuration says.
reasons="poweroff reboot crash watchdog soft_reset"
actions="destroy restart rename-restart preserve coredump-destroy coredump-restart soft-reset"
for r in $reasons; do for a in $actions; do
	n=m-$r-$a
	"$SIMCTL" -d "$T/a/host" create "$n" --mem-mib 4 >/dev/null
	"$SIMCTL" -d "$T/a/host" set-action "$n" "$r" "$a"
	migrate a "$n" "$PB" "$F_LOCALHOST" || bad "migrate $n: $(tail -1 "$T/out")"
done; done
until_ok 20 eval '[ "$(owned b | wc -w)" -eq 35 ]' || bad "35 domains looked after: $(owned b | wc -w)"
for r in $reasons; do for a in $actions; do
	n=m-$r-$a
	eval "id_${r}_${a//-/_}=$(info b "$n" domid)"
	"$SIMCTL" -d "$T/b/host" shutdown "$n" "$r"
done; done
for r in $reasons; do for a in $actions; do
	n=m-$r-$a
	eval "old=\$id_${r}_${a//-/_}"
	case $a in
	destroy) check() { gone b "$n"; } ;;
	restart) check() { running_new b "$n" "$old"; } ;;
	rename-restart) check() { running_new b "$n" "$old" &&
		"$SIMCTL" -d "$T/b/host" list | grep -q " $n-[0-9]*T[0-9]*Z shut down"; } ;;
	preserve) check() { is_state b "$n" "shut down" &&
		[ "$(info b "$n" domid)" = "$old" ]; } ;;
	coredump-destroy) check() { gone b "$n" && [ -s "$T/dump/$n" ]; } ;;
	coredump-restart) check() { running_new b "$n" "$old" && [ -s "$T/dump/$n" ]; } ;;
	soft-reset) check() { is_state b "$n" running && [ "$(info b "$n" domid)" = "$old" ]; } ;;
	esac
	if until_ok 20 check && logged b "$n (domain $old): $r, action $a"; then
		ok "$r with on_$r=$a"
	else bad "$r with on_$r=$a: $("$SIMCTL" -d "$T/b/host" list | grep -- "$n")"; fi
done; done
# What stays looked after: the restarted, the soft-reset and the preserved.
want=$(for r in $reasons; do for a in restart rename-restart coredump-restart soft-reset; do
	echo "m-$r-$a:watching"; done; echo "m-$r-preserve:preserved"; done | sort | tr '\n' ' ')
if until_ok 10 eval '[ "$(owned b)" = "$want" ]'; then
	ok "the entries left are exactly the domains still there"
else bad "the entries left are exactly the domains still there: $(owned b)"; fi
# An administrator destroys a preserved one, and the copies xl's
# rename-restart leaves (not ours): no stale entry.
"$SIMCTL" -d "$T/b/host" list | awk '/-[0-9]*T[0-9]*Z / { print $1 }' |
	while read -r id; do "$SIMCTL" -d "$T/b/host" destroy "$id"; done
"$SIMCTL" -d "$T/b/host" destroy m-crash-preserve
if until_ok 10 eval '! owned b | grep -q m-crash-preserve'; then
	ok "a domain an administrator destroys leaves no entry"
else bad "a domain an administrator destroys leaves no entry: $(owned b)"; fi

# 5. relocd away (killed with its monitor's parent): a reboot then is
#    acted on when it is back, and a domain destroyed meanwhile is
#    forgotten.
bring away1; bring away2
until_ok 10 eval 'owned b | grep -q away2' || bad "away1/away2 looked after"
old=$(info b away1 domid)
kill -9 "$(pid_of b)"
until_ok 20 monitor_stopped b 1 || bad "the monitor stops when relocd dies"
"$SIMCTL" -d "$T/b/host" shutdown away1 reboot
"$SIMCTL" -d "$T/b/host" destroy away2
if is_state b away1 "shut down"; then
	ok "nobody acts while relocd is away"
else bad "nobody acts while relocd is away: $(state b away1)"; fi
daemon_start b
if until_ok 20 running_new b away1 "$old" && until_ok 10 eval '! owned b | grep -q away2'; then
	ok "a restarted relocd restarts a domain that rebooted while it was away"
else bad "a restarted relocd restarts a domain that rebooted while it was away: $(owned b)"; fi

# 6. relocd (and its monitor) killed half-way through a restart, before
#    the old domain is destroyed: the next relocd finishes it.
old=$(info b away1 domid)
"$SIMCTL" -d "$T/b/host" fault hold destroy >/dev/null
"$SIMCTL" -d "$T/b/host" shutdown away1 reboot
if until_ok 20 test -s "$T/b/host/held"; then
	mon=$(awk '{ print $2 }' "$T/b/host/held")
	kill -9 "$(pid_of b)" "$mon"
	"$SIMCTL" -d "$T/b/host" fault hold off >/dev/null
	rm -f "$T/b/host/held"
	daemon_start b
	if until_ok 20 running_new b away1 "$old" && [ "$(names b | tr ' ' '\n' | grep -c '^away1$')" -eq 1 ] &&
	    until_ok 10 eval '[ "$(owned_id b away1)" = "$(info b away1 domid)" ]'; then
		ok "a restart cut short by a crash is finished by the next relocd"
	else bad "a restart cut short by a crash is finished by the next relocd: $(names b)"; fi
else bad "the monitor reached the destroy hold"; fi

# 7. Exactly one monitor, however often relocd is restarted.
kill "$(pid_of b)"
until_ok 20 monitor_stopped b 2 || bad "the monitor stops with relocd"
daemon_start b
n=$(pgrep -f -- "-W monitor -j 0 -c $T/b/" | wc -l)
if [ "$n" -eq 1 ]; then ok "one monitor per relocd"
else bad "one monitor per relocd: $n"; fi

finish
