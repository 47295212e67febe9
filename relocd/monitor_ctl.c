/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parent's side of the monitor (monitor.c): one monitor worker for
 * as long as relocd runs, started again if it dies -- after a pause
 * that doubles while it keeps dying young, so a monitor that cannot
 * start does not spin.  The parent keeps the worker's pipe open and
 * never writes to it: the monitor takes its end of file for the
 * parent's death and stops, so that a restarted relocd's monitor (which
 * waits for the old one's lock) is the only one.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/log.h"
#include "relocd.h"

#define MONITOR_DELAY_MAX	60	/* seconds */
#define MONITOR_SETTLED_MS	60000	/* lived this long: not a crash loop */

static void
on_respawn(evutil_socket_t fd, short what, void *arg)
{
	monitor_start(arg);
}

void
monitor_start(struct relocd *rd)
{
	struct mig_err	err;

	if (rd->stopping || rd->monitor_pid != 0)
		return;
	if (worker_exec(rd, "monitor", 0, -1, 0, &rd->monitor_pid,
	    &rd->monitor_fd, &err) == -1) {
		rd->monitor_pid = 0;
		mig_log_warnx("%s; the domains relocd looks after are not watched",
		    err.msg);
		return;
	}
	rd->monitor_started_ms = mig_now_ms();
	mig_log_debug("monitor pid %ld", (long)rd->monitor_pid);
}

void
monitor_stop(struct relocd *rd)
{
	if (rd->monitor_ev != NULL)
		evtimer_del(rd->monitor_ev);
	if (rd->monitor_pid != 0)
		kill(rd->monitor_pid, SIGTERM);
}

/* 1 if pid was the monitor's (then it is restarted unless stopping). */
int
monitor_reaped(struct relocd *rd, pid_t pid, int status)
{
	struct timeval	tv = { 0, 0 };

	if (pid == 0 || pid != rd->monitor_pid)
		return 0;
	rd->monitor_pid = 0;
	close(rd->monitor_fd);
	rd->monitor_fd = -1;
	if (rd->stopping)
		return 1;
	if (mig_now_ms() - rd->monitor_started_ms >= MONITOR_SETTLED_MS)
		rd->monitor_delay = 0;
	rd->monitor_delay = rd->monitor_delay == 0 ? 1 :
	    rd->monitor_delay * 2;
	if (rd->monitor_delay > MONITOR_DELAY_MAX)
		rd->monitor_delay = MONITOR_DELAY_MAX;
	mig_log_warnx("the domain monitor %s %d; starting it again in %u s",
	    WIFSIGNALED(status) ? "was killed by signal" : "exited with status",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
	    rd->monitor_delay);
	if (rd->monitor_ev == NULL &&
	    (rd->monitor_ev = evtimer_new(rd->base, on_respawn, rd)) == NULL) {
		mig_log_warnx("cannot arm the monitor's restart");
		return 1;
	}
	tv.tv_sec = rd->monitor_delay;
	evtimer_add(rd->monitor_ev, &tv);
	return 1;
}
