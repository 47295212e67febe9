/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Log lines on stderr carry their syslog priority ("<3>...") when, and
 * only when, stderr is the journald stream $JOURNAL_STREAM names; there
 * they go over journald's native protocol with their fields, and back to
 * the stream if its socket is not there.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mig/log.h"

/* Runs a warning and an info line with stderr sent to a file, the
 * journal stream being that file (as_journal) or another one; returns
 * what the file got. */
static char *
logged(int as_journal)
{
	char		 path[] = "/tmp/test_log.XXXXXX", env[64];
	static char	 buf[256];
	struct stat	 st;
	ssize_t		 n;
	int		 fd, saved;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu",
	    (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (as_journal ? 0 : 1));
	setenv("JOURNAL_STREAM", env, 1);
	fflush(stderr);
	assert_true((saved = dup(STDERR_FILENO)) >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	mig_log_init(1, 0);
	/* no journald here: the stream it is */
	mig_log_journal_socket("/nonexistent/journal/socket");
	mig_log_warnx("disk %s", "full");
	mig_log_info("saved");
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	mig_log_init(1, 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	unlink(path);
	return buf;
}

static void
test_journal_gets_priorities(void **state)
{
	(void)state;
	assert_string_equal(logged(1), "<3>disk full\n<6>saved\n");
}

static void
test_elsewhere_plain(void **state)
{
	(void)state;
	assert_string_equal(logged(0), "disk full\nsaved\n");
}

/* The native protocol's fields: KEY=VALUE lines, a value with a newline
 * in the binary form, empty values and bad keys left out. */
static void
test_entry_format(void **state)
{
	const struct mig_log_kv	 kv[] = {
		{ "JOB_ID", "7" }, { "PEER", "" }, { "bad-key", "x" },
		{ "_SYSTEMD_UNIT", "forged" }, { "DOMAIN", "a\nb" },
	};
	const char		 want[] = "PRIORITY=3\nSYSLOG_IDENTIFIER=relocd\n"
	    "MESSAGE=job 7: disk full\nJOB_ID=7\nDOMAIN\n"
	    "\x03\0\0\0\0\0\0\0a\nb\n";
	char			 buf[256];
	size_t			 n;

	(void)state;
	n = mig_log_journal_entry(buf, sizeof(buf), 3, "relocd",
	    "job 7: disk full", kv, sizeof(kv) / sizeof(kv[0]));
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(buf, want, n);
	/* too small: the length it needs, nothing past cap written */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(mig_log_journal_entry(buf, 10, 3, "relocd",
	    "job 7: disk full", kv, 5), sizeof(want) - 1);
	assert_int_equal(buf[10], 'Z');
	assert_true(mig_log_key_valid("REQUESTER_UID"));
	assert_false(mig_log_key_valid("requester"));
	assert_false(mig_log_key_valid("_PID"));
	assert_false(mig_log_key_valid(""));
}

/* Through a socket standing in for journald's: the process's fields and
 * the line's own, nothing on the stream. */
static void
test_native_protocol(void **state)
{
	char			 dir[] = "/tmp/test_log.XXXXXX", path[64], env[64];
	char			 got[1024], fpath[] = "/tmp/test_log.XXXXXX";
	struct sockaddr_un	 sun;
	struct stat		 st;
	const struct mig_log_kv	 kv[] = { { "REQUESTER_UID", "0" } };
	ssize_t			 n;
	int			 s, fd, saved;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/socket", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_true((s = socket(AF_UNIX, SOCK_DGRAM, 0)) >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);

	assert_true((fd = mkstemp(fpath)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	fflush(stderr);
	assert_true((saved = dup(STDERR_FILENO)) >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	mig_log_init(1, 0);
	mig_log_journal_socket(path);
	mig_log_field("JOB_ID", "%d", 7);
	mig_log_field("DOMAIN", "%s", "web1");
	mig_log_info_kv(kv, 1, "migrate-out %s", "web1");
	mig_log_field("DOMAIN", NULL);
	mig_log_warnx("disk full");
	mig_log_field("JOB_ID", NULL);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	mig_log_init(1, 0);

	n = recv(s, got, sizeof(got) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, "PRIORITY=6\nSYSLOG_IDENTIFIER=test_log\n"
	    "MESSAGE=migrate-out web1\nREQUESTER_UID=0\nJOB_ID=7\n"
	    "DOMAIN=web1\n");
	n = recv(s, got, sizeof(got) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, "PRIORITY=3\nSYSLOG_IDENTIFIER=test_log\n"
	    "MESSAGE=disk full\nJOB_ID=7\n");
	assert_int_equal(pread(fd, got, sizeof(got), 0), 0);
	close(fd);
	unlink(fpath);
	close(s);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_gets_priorities),
		cmocka_unit_test(test_elsewhere_plain),
		cmocka_unit_test(test_entry_format),
		cmocka_unit_test(test_native_protocol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
