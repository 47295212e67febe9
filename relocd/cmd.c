/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/mman.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* What fd holds, from the start: up to size - 1 bytes, NUL-terminated. */
static void
slurp(int fd, char *buf, size_t size)
{
	ssize_t	n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? (size_t)n : 0] = '\0';
}

/* A memory file holding s, at offset 0. */
static int
memfile(const char *name, const char *s)
{
	size_t	len = s != NULL ? strlen(s) : 0;
	int	fd;

	if ((fd = memfd_create(name, MFD_CLOEXEC)) == -1)
		return -1;
	if (len > 0 && pwrite(fd, s, len, 0) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

int
cmd_exec(char *const argv[], const char *in, int *ofdp, struct mig_err *err)
{
	char	ebuf[512];
	int	ifd = -1, ofd = -1, efd = -1, st, rc = -1;
	pid_t	pid;

	if ((in != NULL && (ifd = memfile("cmd-in", in)) == -1) ||
	    (ofd = memfile("cmd-out", NULL)) == -1 ||
	    (efd = memfile("cmd-err", NULL)) == -1) {
		mig_seterrno(err, MIG_E_IO, "%s: memfd", argv[0]);
		goto out;
	}
	if ((pid = fork()) == -1) {
		mig_seterrno(err, MIG_E_IO, "%s: fork", argv[0]);
		goto out;
	}
	if (pid == 0) {
		if ((ifd != -1 && dup2(ifd, 0) == -1) || dup2(ofd, 1) == -1 ||
		    dup2(efd, 2) == -1)
			_exit(127);
		/* LVM warns about every descriptor it inherits. */
		setenv("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			mig_seterrno(err, MIG_E_IO, "%s: wait", argv[0]);
			goto out;
		}
	slurp(efd, ebuf, sizeof(ebuf));
	ebuf[strcspn(ebuf, "\n")] = '\0';
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		mig_seterr(err, MIG_E_IO, "%s failed: %s", argv[0],
		    ebuf[0] != '\0' ? ebuf : "(no message)");
		goto out;
	}
	if (ofdp != NULL) {
		*ofdp = ofd;
		ofd = -1;
	}
	rc = 0;
 out:
	if (ifd != -1)
		close(ifd);
	if (ofd != -1)
		close(ofd);
	if (efd != -1)
		close(efd);
	return rc;
}

int
cmd_run(char *const argv[], char *out, size_t size, struct mig_err *err)
{
	int	ofd;

	if (cmd_exec(argv, NULL, out != NULL ? &ofd : NULL, err) == -1)
		return -1;
	if (out != NULL) {
		slurp(ofd, out, size);
		close(ofd);
	}
	return 0;
}
