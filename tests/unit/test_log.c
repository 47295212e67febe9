/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Log lines on stderr carry their syslog priority ("<3>...") when, and
 * only when, stderr is the journald stream $JOURNAL_STREAM names.
 */
#include <sys/stat.h>
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

#include "log.h"

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
	log_init(1, 0);
	log_warnx("disk %s", "full");
	log_info("saved");
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	log_init(1, 0);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_gets_priorities),
		cmocka_unit_test(test_elsewhere_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
