/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writers of one journal racing each other and the compactor: several
 * workers append to STATE_DIR/journal at once, and a restarted relocd
 * compacts it while a worker of the old one (which outlived it) may
 * still append.  Each test stops one of them inside a system call
 * (-Wl,--wrap) and runs the other in a child process there, so the
 * interleaving is the one wanted, every time.
 *
 * The child runs to its end, or blocks on the journal's lock: the parent
 * waits for one of the two (waitpid, /proc/locks), never for a time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "relocd.h"
#include "journal_fixture.h"

ssize_t	__real_write(int, const void *, size_t);
ssize_t	__wrap_write(int, const void *, size_t);
int	__real_renameat(int, const char *, int, const char *);
int	__wrap_renameat(int, const char *, int, const char *);
int	__real_fdatasync(int);
int	__wrap_fdatasync(int);

static char		*g_dir;		/* the state directory under test */
static int		 g_fail_write;	/* the next write: run the child, fail */
static int		 g_race_rename;	/* the next renameat: run the child */
static int		 g_fail_sync;	/* the next fdatasync fails */
static struct jrec	 g_child_rec;	/* what the child appends */
static pid_t		 g_child = -1;

/* Is pid waiting for a file lock? ("N: -> FLOCK ADVISORY WRITE PID ...") */
static int
blocked_on_lock(pid_t pid)
{
	FILE	*f;
	char	 line[256];
	long	 p;
	int	 found = 0;

	assert_non_null(f = fopen("/proc/locks", "r"));
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = sscanf(line, "%*d: -> %*s %*s %*s %ld", &p) == 1 &&
		    p == (long)pid;
	fclose(f);
	return found;
}

/*
 * Another worker: a process of its own, with its own journal handle,
 * appends g_child_rec.  Returns once it has, or once it waits for the
 * lock; reap() collects it.
 */
static void
run_child(void)
{
	struct journal	*j;
	struct mig_err	 err;
	int		 st;

	g_child_rec.time_ms++;
	if ((g_child = fork()) == 0) {
		j = journal_open(g_dir, &err);
		_exit(j != NULL && journal_append(j, &g_child_rec, &err) == 0 ?
		    0 : 1);
	}
	assert_true(g_child > 0);
	for (;;) {
		if (waitpid(g_child, &st, WNOHANG) == g_child) {
			assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			g_child = -1;
			return;
		}
		if (blocked_on_lock(g_child))
			return;
		usleep(1000);
	}
}

static void
reap(void)
{
	int	st;

	if (g_child == -1)
		return;
	assert_int_equal(waitpid(g_child, &st, 0), g_child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	g_child = -1;
}

ssize_t
__wrap_write(int fd, const void *buf, size_t len)
{
	if (g_fail_write) {
		g_fail_write = 0;
		run_child();
		errno = ENOSPC;
		return -1;
	}
	return __real_write(fd, buf, len);
}

int
__wrap_renameat(int ofd, const char *from, int nfd, const char *to)
{
	if (g_race_rename) {
		g_race_rename = 0;
		run_child();
	}
	return __real_renameat(ofd, from, nfd, to);
}

int
__wrap_fdatasync(int fd)
{
	if (g_fail_sync) {
		g_fail_sync = 0;
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}

static int
same_job(const struct jrec *r, void *arg)
{
	return r->job == *(const uint64_t *)arg;
}

/* The state the journal's last record of job says now. */
static enum jstate
last_state(const char *dir, uint64_t job)
{
	struct jrec	out;
	struct mig_err	err;

	if (journal_lookup(dir, same_job, &job, &out, &err) != 1)
		return J_NONE;
	return out.state;
}

/*
 * A worker of the old relocd keeps its journal open across the new
 * relocd's compaction, then journals COMMITTED: the record must reach
 * the journal that QUERY and reconciliation read, not the file the
 * compaction replaced.
 */
static void
test_append_after_compaction(void **state)
{
	char		*dir = g_dir = mkstate();
	struct journal	*orphan, *relocd;
	struct mig_err	 err;

	(void)state;
	assert_non_null(orphan = journal_open(dir, &err));
	append_ok(orphan, rec(1, JR_TARGET, J_RECEIVED, "a"));
	assert_non_null(relocd = journal_open(dir, &err));
	assert_int_equal(journal_compact(relocd, &err), 0);
	append_ok(orphan, rec(1, JR_TARGET, J_COMMITTED, "a"));
	assert_int_equal(last_state(dir, 1), J_COMMITTED);
	append_ok(relocd, rec(2, JR_TARGET, J_RESERVED, "b"));
	assert_int_equal(last_state(dir, 1), J_COMMITTED);
	assert_int_equal(last_state(dir, 2), J_RESERVED);
	journal_close(orphan);
	journal_close(relocd);
	rmstate(dir);
	g_dir = NULL;
}

/*
 * The same worker appends while the compaction runs: after it read the
 * journal and before it renamed the new file into place.
 */
static void
test_append_during_compaction(void **state)
{
	char		*dir = g_dir = mkstate();
	struct journal	*j;
	struct mig_err	 err;

	(void)state;
	assert_non_null(j = journal_open(dir, &err));
	append_ok(j, rec(1, JR_TARGET, J_RECEIVED, "a"));
	append_ok(j, rec(3, JR_TARGET, J_RESERVED, "c"));
	append_ok(j, rec(3, JR_TARGET, J_DONE, "c"));
	g_child_rec = rec(1, JR_TARGET, J_COMMITTED, "a");
	g_race_rename = 1;
	assert_int_equal(journal_compact(j, &err), 0);
	assert_int_equal(g_race_rename, 0);
	reap();
	assert_int_equal(last_state(dir, 1), J_COMMITTED);
	/* The compaction did its work too. */
	assert_int_equal(last_state(dir, 3), J_NONE);
	journal_close(j);
	rmstate(dir);
	g_dir = NULL;
}

/*
 * One worker's write fails (the disk is full) after another's record
 * went in: cutting the failed record off must not cut the other's.
 */
static void
test_failed_append_keeps_others(void **state)
{
	char		*dir = g_dir = mkstate();
	struct journal	*j;
	struct jrec	 r = rec(1, JR_TARGET, J_COMMITTED, "a");
	struct mig_err	 err;

	(void)state;
	assert_non_null(j = journal_open(dir, &err));
	append_ok(j, rec(1, JR_TARGET, J_RECEIVED, "a"));
	g_child_rec = rec(2, JR_TARGET, J_COMMITTED, "b");
	g_fail_write = 1;
	assert_int_equal(journal_append(j, &r, &err), -1);
	assert_int_equal(err.code, MIG_E_IO);
	reap();
	assert_int_equal(last_state(dir, 1), J_RECEIVED);
	assert_int_equal(last_state(dir, 2), J_COMMITTED);
	/* And the journal goes on cleanly after both. */
	append_ok(j, rec(1, JR_TARGET, J_ABORTED, "a"));
	assert_int_equal(last_state(dir, 1), J_ABORTED);
	assert_int_equal(last_state(dir, 2), J_COMMITTED);
	journal_close(j);
	rmstate(dir);
	g_dir = NULL;
}

/*
 * A record whose write went in but whose fdatasync failed is in the
 * journal all the same (QUERY and reconciliation read it): the caller
 * is told so, because a COMMITTED it cannot take back must be honoured.
 */
static void
test_unsynced_record_is_reported_written(void **state)
{
	char		*dir = g_dir = mkstate();
	struct journal	*j;
	struct jrec	 r = rec(1, JR_TARGET, J_COMMITTED, "a");
	struct mig_err	 err;
	int		 landed = 0;

	(void)state;
	assert_non_null(j = journal_open(dir, &err));
	g_fail_sync = 1;
	assert_int_equal(journal_append_landed(j, &r, &landed, &err), -1);
	assert_int_equal(landed, 1);
	assert_non_null(strstr(err.msg, "fdatasync"));
	assert_int_equal(last_state(dir, 1), J_COMMITTED);
	/* A write that fails leaves nothing, and says so. */
	r.state = J_ACTIVATED;
	g_child_rec = rec(2, JR_TARGET, J_RESERVED, "b");
	g_fail_write = 1;
	assert_int_equal(journal_append_landed(j, &r, &landed, &err), -1);
	reap();
	assert_int_equal(landed, 0);
	assert_int_equal(last_state(dir, 1), J_COMMITTED);
	journal_close(j);
	rmstate(dir);
	g_dir = NULL;
}

/* A line torn by a crash (no newline) cannot swallow the next record. */
static void
test_torn_tail_is_closed(void **state)
{
	char		*dir = g_dir = mkstate(), path[256];
	struct journal	*j;
	struct mig_err	 err;
	int		 fd;

	(void)state;
	assert_non_null(j = journal_open(dir, &err));
	append_ok(j, rec(1, JR_TARGET, J_RECEIVED, "a"));
	snprintf(path, sizeof(path), "%s/journal", dir);
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	assert_int_equal(__real_write(fd, "0000000000000001 5 dst COMM", 27),
	    27);
	close(fd);
	append_ok(j, rec(2, JR_TARGET, J_RESERVED, "b"));
	assert_int_equal(last_state(dir, 1), J_RECEIVED);
	assert_int_equal(last_state(dir, 2), J_RESERVED);
	journal_close(j);
	rmstate(dir);
	g_dir = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_after_compaction),
		cmocka_unit_test(test_append_during_compaction),
		cmocka_unit_test(test_failed_append_keeps_others),
		cmocka_unit_test(test_unsynced_record_is_reported_written),
		cmocka_unit_test(test_torn_tail_is_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
