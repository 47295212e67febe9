/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A question the parent needs answered, asked in a child forked for it.
 * Some answers cost memory that is never given back: loading the TLS key
 * and certificates leaves OpenSSL's tables resident (about 4 MiB of
 * libcrypto touched), and getpwnam() loads the NSS modules nsswitch.conf
 * names (systemd's brings libm and libcap: about 0.7 MiB) for the life of
 * the process.  The parent asks such questions only at start and reload,
 * and lives for months; the child pays, and exits.
 */
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "relocd.h"

int
run_apart(int (*fn)(const void *, struct mig_err *), const void *arg,
    struct mig_err *err)
{
	struct mig_err	 e;
	sigset_t	 all;
	pid_t		 pid;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd[2], st;

	if (pipe2(fd, O_CLOEXEC) == -1)
		return mig_seterrno(err, MIG_E_IO, "pipe");
	if ((pid = fork()) == -1) {
		close(fd[0]);
		close(fd[1]);
		return mig_seterrno(err, MIG_E_IO, "fork");
	}
	if (pid == 0) {
		/* No signal may reach the parent's libevent handlers, whose
		 * socketpair this child shares. */
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		close(fd[0]);
		memset(&e, 0, sizeof(e));
		st = fn(arg, &e) == -1;
		/* Less than PIPE_BUF: one write, whole or not at all. */
		if (st && write(fd[1], &e, sizeof(e)) != (ssize_t)sizeof(e))
			_exit(2);
		_exit(st);
	}
	close(fd[1]);
	memset(&e, 0, sizeof(e));
	while (got < sizeof(e)) {
		n = read(fd[0], (char *)&e + got, sizeof(e) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return mig_seterrno(err, MIG_E_IO, "waitpid");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 1 && got == sizeof(e)) {
		e.msg[sizeof(e.msg) - 1] = '\0';
		return mig_seterr(err, e.code, "%s", e.msg);
	}
	if (WIFSIGNALED(st))
		return mig_seterr(err, MIG_E_IO, "the checking process died "
		    "of signal %d", WTERMSIG(st));
	return mig_seterr(err, MIG_E_IO, "the checking process exited %d "
	    "without a reason", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
