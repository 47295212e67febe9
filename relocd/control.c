/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: a UNIX SOCK_SEQPACKET socket through which xl-reloc
 * asks for jobs and hears how they go.  Moving domains is root's business,
 * so the socket is mode 0600 and every client's credentials are checked
 * (SO_PEERCRED) as well.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/log.h"
#include "relocd.h"

void
client_free(struct client *c)
{
	struct relocd	*rd = c->rd;

	job_forget_client(rd, c);
	TAILQ_REMOVE(&rd->clients, c, entry);
	if (c->ev != NULL)
		event_free(c->ev);
	close(c->fd);
	free(c);
}

int
client_send(struct client *c, const struct ctl_msg *m)
{
	struct mig_err	err;

	if (ctl_send(c->fd, m, &err) == -1) {
		mig_log_debug("control client: %s", err.msg);
		return -1;
	}
	return 0;
}

/* How long a job's watcher may take to make room for a message that
 * must reach it (its result, a row of a list) before it is given up. */
#define CLIENT_ROOM_MS	5000

/*
 * A job's message to the client that watches it.  Its socket is
 * non-blocking and a watcher can be slow to read (xl-reloc drawing on a
 * serial console; an HVM or PVH guest's first pass alone makes about a
 * thousand progress events): when the socket is full, a progress event
 * is dropped, as the next one supersedes it, and anything else waits for
 * room.  Only a watcher that takes nothing for CLIENT_ROOM_MS is given
 * up, and the job goes on without it.
 */
int
client_forward(struct client *c, const struct ctl_msg *m)
{
	struct pollfd	pfd = { .fd = c->fd, .events = POLLOUT };
	struct mig_err	err;
	uint64_t	end = 0, now;
	int		n;

	while (ctl_send(c->fd, m, &err) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			goto gone;
		if (m->type == CTL_EVENT)
			return 0;
		now = mig_now_ms();
		if (end == 0)
			end = now + CLIENT_ROOM_MS;
		if (now >= end)
			goto gone;
		n = poll(&pfd, 1, (int)(end - now));
		if (n == -1 && errno != EINTR)
			goto gone;
	}
	return 0;
gone:
	mig_log_debug("control client: %s", err.msg);
	return -1;
}

static void
send_error(struct client *c, uint16_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
send_error(struct client *c, uint16_t status, const char *fmt, ...)
{
	struct ctl_msg	m;
	va_list		ap;

	memset(&m, 0, sizeof(m));
	m.type = CTL_ERROR;
	m.u.error.status = status;
	va_start(ap, fmt);
	vsnprintf(m.u.error.text, sizeof(m.u.error.text), fmt, ap);
	va_end(ap);
	client_send(c, &m);
}

/* The job's first line, with who asked for it: in the text and, under
 * journald, as fields (journalctl REQUESTER_UID=0 JOB_ID=7). */
static void
requested(const struct client *c, const struct job *j, uint16_t kind,
    const char *domain, const char *peer)
{
	char		id[24], uid[24], pid[24];
	struct mig_log_kv	kv[] = {
		{ "JOB_ID", id }, { "DOMAIN", domain }, { "PEER", peer },
		{ "REQUESTER_UID", uid }, { "REQUESTER_PID", pid },
		{ "REQUESTER_LOGINUID", c->loginuid },
	};

	snprintf(id, sizeof(id), "%" PRIu64, j->id);
	snprintf(uid, sizeof(uid), "%ld", c->uid);
	snprintf(pid, sizeof(pid), "%ld", c->pid);
	mig_log_info_kv(kv, sizeof(kv) / sizeof(kv[0]), "job %" PRIu64 ": %s "
	    "%s%s%s, asked by uid %ld (pid %ld%s%s)", j->id,
	    ctl_job_kind_name(kind), domain, peer[0] ? " to " : "", peer,
	    c->uid, c->pid, c->loginuid[0] ? ", loginuid " : "", c->loginuid);
}

static void
start_job(struct client *c, uint16_t kind, const struct ctl_msg *m,
    const char *domain, const char *peer)
{
	struct relocd	*rd = c->rd;
	struct job	*j;
	struct ctl_msg	 ok;
	struct mig_err	 err;
	size_t		 n;

	if (rd->stopping) {
		send_error(c, CTL_ST_REFUSED, "relocd is shutting down");
		return;
	}
	if (domain[0] != '\0' && (j = job_busy_with(rd, domain)) != NULL) {
		send_error(c, CTL_ST_REFUSED, "domain %s: already in job %"
		    PRIu64 " (%s)", domain, j->id, ctl_job_kind_name(j->kind));
		return;
	}
	/* max_outgoing bounds the migrations under way.  A job whose worker
	 * has sent its result is over, only the worker's exit is left
	 * (libxl's teardown: seconds in a busy dom0), so it holds no slot: a
	 * client that starts its next job on a result, as evacuate
	 * --parallel does, must not be refused for the one that just
	 * ended. */
	if (kind == CTL_JOB_MIGRATE_OUT &&
	    (n = job_count(rd, kind, true)) >= rd->conf.max_outgoing) {
		send_error(c, CTL_ST_REFUSED, "%zu outgoing migrations "
		    "already (max_outgoing %u)", n, rd->conf.max_outgoing);
		return;
	}
	if ((j = job_spawn(rd, kind, -1, 0, m, c, &err)) == NULL) {
		send_error(c, CTL_ST_FAILED, "%s", err.msg);
		return;
	}
	snprintf(j->domain, sizeof(j->domain), "%s", domain);
	snprintf(j->peer, sizeof(j->peer), "%s", peer);
	memset(&ok, 0, sizeof(ok));
	ok.type = CTL_ACCEPTED;
	ok.u.job = j->id;
	client_send(c, &ok);
	requested(c, j, kind, domain, peer);
}

static void
on_client(evutil_socket_t fd, short ev, void *arg)
{
	struct client	*c = arg;
	struct relocd	*rd = c->rd;
	struct ctl_msg	 m, ok;
	struct job	*j;
	struct mig_err	 err;

	if (ctl_recv(fd, &m, &err) == -1) {
		if (err.code != MIG_E_EOF)
			mig_log_warnx("control client: %s", err.msg);
		client_free(c);
		return;
	}
	switch (m.type) {
	case CTL_MIGRATE:
		start_job(c, CTL_JOB_MIGRATE_OUT, &m, m.u.migrate.domain,
		    m.u.migrate.host);
		break;
	case CTL_SAVE:
		start_job(c, CTL_JOB_SAVE, &m, m.u.save.domain, "");
		break;
	case CTL_RESTORE:
		/* The domain's name is in the image: the worker says. */
		start_job(c, CTL_JOB_RESTORE, &m, "", "");
		break;
	case CTL_PROBE:
	case CTL_DOMAINS:
		/* Answered by a worker (it needs the hypervisor or the
		 * network); no ACCEPTED: the answer itself follows. */
		if (job_spawn(rd, CTL_JOB_QUERY, -1, 0, &m, c, &err) == NULL)
			send_error(c, CTL_ST_FAILED, "%s", err.msg);
		break;
	case CTL_JOBS:
		job_list(rd, c);
		break;
	case CTL_HISTORY:
		job_history(rd, c);
		break;
	case CTL_CANCEL:
		if ((j = job_find(rd, m.u.job)) == NULL) {
			send_error(c, CTL_ST_NOTFOUND, "job %" PRIu64 ": no "
			    "such job", m.u.job);
			break;
		}
		job_cancel(j);
		memset(&ok, 0, sizeof(ok));
		ok.type = CTL_ACCEPTED;
		ok.u.job = j->id;
		client_send(c, &ok);
		break;
	default:
		send_error(c, CTL_ST_USAGE, "%s is not a request",
		    ctl_type_name(m.type));
	}
}

/*
 * The login uid the kernel's audit keeps for pid: the uid of whoever
 * logged in, through sudo and su.  "" when there is none to read (no
 * audit support, the process gone); "unset" for a process no login
 * started (4294967295: a daemon, a unit of systemd's).
 */
void
requester_loginuid(pid_t pid, char *buf, size_t len)
{
	char		 path[64], v[16];
	unsigned long	 u;
	ssize_t		 n;
	int		 fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/loginuid", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, v, sizeof(v) - 1);
	close(fd);
	if (n <= 0)
		return;
	v[n] = '\0';
	if (sscanf(v, "%lu", &u) != 1)
		return;
	if (u == 4294967295UL)
		snprintf(buf, len, "unset");
	else
		snprintf(buf, len, "%lu", u);
}

static void
on_control(evutil_socket_t lfd, short ev, void *arg)
{
	struct relocd	*rd = arg;
	struct client	*c;
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	int		 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR)
			mig_log_warn("control accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    cred.uid != 0) {
		mig_log_info("control: refused a client of uid %ld (root only)",
		    (long)cred.uid);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		mig_log_warn("control client");
		close(fd);
		return;
	}
	c->fd = fd;
	c->rd = rd;
	c->uid = (long)cred.uid;
	c->pid = (long)cred.pid;
	requester_loginuid(cred.pid, c->loginuid, sizeof(c->loginuid));
	TAILQ_INSERT_TAIL(&rd->clients, c, entry);
	if ((c->ev = event_new(rd->base, fd, EV_READ | EV_PERSIST, on_client,
	    c)) == NULL || event_add(c->ev, NULL) == -1) {
		mig_log_warnx("control client: cannot watch it");
		client_free(c);
	}
}

int
control_start(struct relocd *rd, struct mig_err *err)
{
	struct sockaddr_un	 sun;
	const char		*path = rd->conf.control_socket;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return mig_seterr(err, MIG_E_INVAL, "control socket %s: path "
		    "too long", path);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return mig_seterrno(err, MIG_E_IO, "control socket %s", path);
	/* The pid file lock says no other relocd runs: a socket file left
	 * here is stale. */
	if (unlink(path) == -1 && errno != ENOENT) {
		close(fd);
		return mig_seterrno(err, MIG_E_IO, "control socket %s", path);
	}
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		close(fd);
		return mig_seterrno(err, MIG_E_IO, "control socket %s", path);
	}
	umask(old);
	if (listen(fd, 16) == -1) {
		close(fd);
		return mig_seterrno(err, MIG_E_IO, "control socket %s", path);
	}
	rd->ctl_fd = fd;
	if ((rd->ctl_ev = event_new(rd->base, fd, EV_READ | EV_PERSIST,
	    on_control, rd)) == NULL || event_add(rd->ctl_ev, NULL) == -1)
		return mig_seterr(err, MIG_E_IO, "control socket %s: cannot "
		    "watch it", path);
	return 0;
}

void
control_stop(struct relocd *rd)
{
	if (rd->ctl_ev != NULL) {
		event_free(rd->ctl_ev);
		rd->ctl_ev = NULL;
	}
	if (rd->ctl_fd != -1) {
		close(rd->ctl_fd);
		unlink(rd->conf.control_socket);
		rd->ctl_fd = -1;
	}
	/* Clients watching jobs keep their connections until the jobs end
	 * (a stop waits for them); clients_flush closes them at exit. */
	if (!rd->stopping)
		clients_flush(rd);
}

void
clients_flush(struct relocd *rd)
{
	struct client	*c;

	while ((c = TAILQ_FIRST(&rd->clients)) != NULL)
		client_free(c);
}
