#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The spare worker (relocd/spare.c, spare_ctl.c): jobs of both kinds of
# connection (a save, and both ends of a TLS migration, whose incoming end
# is handed its socket) run in the worker started ahead of them, and a new
# spare follows each job; a reload replaces it; a spare killed before its
# job, or one that cannot open the hypervisor, costs the next job nothing
# but the fresh exec; spare_worker = 0 turns it off; relocd leaves no
# spare behind when it stops.
set -u
PORT_SALT=11
RELOCD_FLAGS=-v
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT

# spare HOST: the pid of HOST's spare worker, waiting for it (10 s at
# most); empty if it has none
spare() {
	_p=$(cat "$T/$1/relocd.pid")
	for _ in $(seq 100); do
		_s=$(pgrep -P "$_p" -f -- '-W spare ') && { echo "$_s"; return; }
		sleep 0.1
	done
}
# job_pid HOST: the worker pid of HOST's last job, from its log
job_pid() {
	grep ' worker pid ' "$T/$1/log" | grep -v 'spare' | tail -1 |
	    sed -n 's/.* worker pid \([0-9]*\)$/\1/p'
}
# gone PID: it has exited (10 s at most)
gone() {
	for _ in $(seq 100); do
		pid_alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

pki
start a "$PA" "$(tls_conf a)"
start b "$PB" "$(tls_on b "$PT")"
mkdir -p "$T/img"
for n in g1 g2 g3; do
	"$SIMCTL" -d "$T/a/host" create "$n" --mem-mib 8 >/dev/null
done

# 1. A save runs in the spare; another spare follows it.
s1=$(spare a)
if [ -n "$s1" ] && X a save g1 "$T/img/g1" > "$T/out" 2>&1 &&
    [ "$(job_pid a)" = "$s1" ] && s2=$(spare a) && [ -n "$s2" ] &&
    [ "$s2" != "$s1" ]; then ok "a save runs in the spare ($s1), then $s2 waits"
else bad "save in the spare: spare ${s1:-none}, job $(job_pid a), then ${s2:-none}"; fi

# 2. A TLS migration: both ends' jobs are their spares, the incoming one
#    handed its socket.
sa=$(spare a) sb=$(spare b)
if X a migrate --localhost --tls --port "$PT" g2 127.0.0.1 > "$T/out" 2>&1 &&
    [ "$(job_pid a)" = "$sa" ] && [ "$(job_pid b)" = "$sb" ] &&
    [ "$(info b g2 state)" = running ]; then
	ok "a TLS migration: out in a's spare, in (with its socket) in b's"
else bad "TLS migration in the spares: a ${sa:-none}/$(job_pid a), b ${sb:-none}/$(job_pid b)"; fi

# 3. A reload replaces the spare (it read the configuration before).
old=$(spare a)
hup a
new=$(spare a)
if [ -n "$old" ] && gone "$old" && [ -n "$new" ] && [ "$new" != "$old" ]; then
	ok "a reload retires the spare ($old) for a new one ($new)"
else bad "reload: spare $old -> ${new:-none}"; fi

# 4. A spare killed before its job: the job execs its own and succeeds;
#    a spare is back after it.
kill -9 "$new"
gone "$new"
if X a restore "$T/img/g1" > "$T/out" 2>&1 && [ "$(info a g1 state)" = running ] &&
    j=$(job_pid a) && [ "$j" != "$new" ] && [ -n "$(spare a)" ] &&
    grep -q "the spare worker was killed by signal 9" "$T/a/log"; then
	ok "a dead spare: the job started its own ($j), a new spare followed"
else bad "dead spare: job $(job_pid a), spare $(spare a)"; fi

# 4b. A spare that cannot open the hypervisor (the simulated host gone as
#     it starts) exits, and says so; the next job starts its own.
mv "$T/a/host" "$T/a/host.away"
hup a
for _ in $(seq 100); do
	grep -q "the spare worker exited with status 1" "$T/a/log" && break
	sleep 0.1
done
mv "$T/a/host.away" "$T/a/host"
if grep -q "the spare worker exited with status 1" "$T/a/log" &&
    X a save g1 "$T/img/g1b" > "$T/out" 2>&1 && [ -n "$(spare a)" ]; then
	ok "a spare that cannot open exits; the next job starts its own"
else bad "spare that cannot open: $(grep -c 'spare worker exited' "$T/a/log") exits, spare $(spare a)"; fi

# 5. spare_worker = 0: no spare after the reload; jobs still run.
old=$(spare a)
echo "spare_worker = 0" >> "$T/a/relocd.conf"
hup a
gone "$old"
if [ -z "$(pgrep -P "$(cat "$T/a/relocd.pid")" -f -- '-W spare ')" ] &&
    X a save g3 "$T/img/g3" > "$T/out" 2>&1 &&
    [ -z "$(pgrep -P "$(cat "$T/a/relocd.pid")" -f -- '-W spare ')" ]; then
	ok "spare_worker = 0: no spare, and a save still runs"
else bad "spare_worker = 0: $(pgrep -a -P "$(cat "$T/a/relocd.pid")")"; fi

# 6. Stopping: b's spare goes with relocd, before it says it stopped.
sb=$(spare b) pb=$(cat "$T/b/relocd.pid")
kill "$pb"
if gone "$pb" && [ -n "$sb" ] && ! pid_alive "$sb" &&
    grep -q "stopped" "$T/b/log"; then ok "relocd stops after its spare ($sb)"
else bad "stop: relocd $pb, spare $sb $(pid_alive "$sb" && echo alive)"; fi

finish
