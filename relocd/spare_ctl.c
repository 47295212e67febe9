/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parent's side of the spare worker (spare.c): one worker exec'd and
 * set up ahead of any job (configuration read, libxl context open,
 * journal open), which the next job is handed to instead of a fork and
 * exec on the job's path.  Its replacement is started once a job ends,
 * never while one starts: on a one-vCPU dom0 its exec and set-up would
 * take the CPU from the job it was meant to speed up.
 *
 * A spare that cannot be handed a job (none, it died, the configuration
 * changed under it) costs nothing but the fallback the job always had:
 * the fresh exec.  A spare that dies is not started again until the next
 * job ends, so one that cannot start does not spin.  It holds no job,
 * no lock and no domain: the parent retires it by closing its pipe, which
 * it reads as the end of its life.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mig/log.h"
#include "relocd.h"

void
spare_start(struct relocd *rd)
{
	struct mig_err	err;

	if (rd->stopping || !rd->conf.spare_worker || rd->spare_pid != 0)
		return;
	if (worker_exec(rd, "spare", 0, -1, WORKER_TITLE, &rd->spare_pid,
	    &rd->spare_fd, &err) == -1) {
		rd->spare_pid = 0;
		rd->spare_fd = -1;
		mig_log_warnx("%s; jobs start their own worker", err.msg);
		return;
	}
	mig_log_debug("spare worker pid %ld", (long)rd->spare_pid);
}

/* Retires the spare: it reads the end of its pipe and exits; reaped as
 * any child.  Its pid is kept until then, so that relocd does not stop
 * before it is gone. */
void
spare_stop(struct relocd *rd)
{
	if (rd->spare_fd != -1) {
		close(rd->spare_fd);
		rd->spare_fd = -1;
	}
}

/* A reload: the spare read the configuration that was running, so it
 * gives way to one that reads the new one. */
void
spare_renew(struct relocd *rd)
{
	spare_stop(rd);
	if (rd->spare_pid != 0)
		rd->spare_renew = 1;	/* once the old one is reaped */
	else
		spare_start(rd);
}

/* 1 if pid was the spare's (a retired one, or one that died unused). */
int
spare_reaped(struct relocd *rd, pid_t pid, int status)
{
	if (pid == 0 || pid != rd->spare_pid)
		return 0;
	rd->spare_pid = 0;
	if (rd->spare_fd != -1) {
		/* Not retired: it died before any job was handed to it. */
		close(rd->spare_fd);
		rd->spare_fd = -1;
		if (!rd->stopping)
			mig_log_warnx("the spare worker %s %d; the next job "
			    "starts its own", WIFSIGNALED(status) ?
			    "was killed by signal" : "exited with status",
			    WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status));
	}
	if (rd->spare_renew) {
		rd->spare_renew = 0;
		spare_start(rd);
	}
	return 1;
}

/*
 * Hands the job whose worker would be exec'd with argv (and connfd, if
 * not -1, as its fd 4) to the spare: the same argv, as one datagram of
 * NUL-terminated strings, with connfd attached.  0 and the spare's pid
 * and pipe become the job's; -1 when there is no spare to take it, and
 * the caller execs the worker as before.
 */
int
spare_take(struct relocd *rd, char *const argv[], int connfd, pid_t *pidp,
    int *pipefd)
{
	char		 buf[SPARE_JOB_MAX];
	char		 cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec	 iov;
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	size_t		 len = 0, n;
	ssize_t		 r;
	int		 i;

	if (rd->spare_fd == -1)
		return -1;
	for (i = 0; argv[i] != NULL; i++) {
		n = strlen(argv[i]) + 1;
		if (len + n > sizeof(buf))
			return -1;
		memcpy(buf + len, argv[i], n);
		len += n;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (connfd >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &connfd, sizeof(int));
	}
	do
		r = sendmsg(rd->spare_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r == -1 && errno == EINTR);
	if (r != (ssize_t)len) {
		/* Gone (or, impossibly, full): the job execs its own. */
		mig_log_debug("spare worker pid %ld: %s; starting the job's "
		    "own", (long)rd->spare_pid, r == -1 ? strerror(errno) :
		    "short send");
		spare_stop(rd);
		return -1;
	}
	*pidp = rd->spare_pid;
	*pipefd = rd->spare_fd;
	rd->spare_pid = 0;
	rd->spare_fd = -1;
	return 0;
}
