/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "relocd.h"
#include "journal_fixture.h"

struct collected {
	struct jrec	r[16];
	size_t		n;
};

static int
collect(const struct jrec *r, void *arg)
{
	struct collected	*c = arg;

	assert_true(c->n < 16);
	c->r[c->n++] = *r;
	return 0;
}

static void
test_format_parse_roundtrip(void **state)
{
	struct jrec	a = rec(0xdeadbeef01ULL, JR_TARGET, J_COMMITTED,
			    "web 1 %odd/name");
	struct jrec	b;
	char		line[4096];

	assert_true(jrec_format(&a, line, sizeof(line)) > 0);
	/* One line, eight space-separated fields, none empty. */
	assert_non_null(strchr(line, '\n'));
	assert_null(strchr(strchr(line, '\n') + 1, '\n'));
	*strchr(line, '\n') = '\0';
	assert_int_equal(jrec_parse(line, &b, NULL, 0), 0);
	assert_true(b.job == a.job);
	assert_int_equal(b.role, JR_TARGET);
	assert_int_equal(b.state, J_COMMITTED);
	assert_int_equal(b.domid, 7);
	assert_string_equal(b.name, "web 1 %odd/name");
	assert_string_equal(b.uuid, a.uuid);
	assert_string_equal(b.peer, "[::1]:8002");
	assert_true(b.resv == 0x8877665544332211ULL);

	assert_int_equal(jrec_parse("", &b, NULL, 0), -1);
	assert_int_equal(jrec_parse("00000000000000zz 1 src DONE 1 a - - 0000000000000000", &b, NULL, 0),
	    -1);
	assert_int_equal(jrec_parse("0000000000000001 1 xxx DONE 1 a - - 0000000000000000", &b, NULL, 0),
	    -1);
	assert_int_equal(jrec_parse("0000000000000001 1 src BOGUS 1 a - - 0000000000000000", &b, NULL, 0),
	    -1);
	assert_int_equal(jrec_parse("0000000000000001 1 src DONE 1 a%0 - - 0000000000000000", &b, NULL, 0),
	    -1);
	assert_int_equal(jrec_parse("0000000000000001 1 src DONE 1 a - - 0000000000000000 x", &b, NULL, 0),
	    -1);
	assert_int_equal(jrec_parse("0000000000000001 1 src DONE 1 a - - 00", &b, NULL, 0),
	    -1);
	assert_int_equal(jrec_parse("0000000000000001 1 src DONE 1 a - - "
	    "0000000000000000", &b, NULL, 0), 0);
}

/* The optional fields: written only when set, read back as written. */
static void
test_optional_fields_roundtrip(void **state)
{
	struct jrec	a = rec(0x42, JR_SOURCE, J_STREAMING, "sv");
	struct jrec	b;
	char		line[4096], *nl;

	/* None set: the nine fields of old, nothing more. */
	assert_true(jrec_format(&a, line, sizeof(line)) > 0);
	assert_null(strchr(line, '='));
	a.flags = JF_START_PAUSED | JF_CAP;
	a.cap = 90;
	snprintf(a.tmp, sizeof(a.tmp), "/srv/images dir/.web 1.xl.Ab9Zq0");
	assert_true(jrec_format(&a, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, " paused=1 cap=90 tmp=/srv/images%20dir/"
	    ".web%201.xl.Ab9Zq0\n"));
	*strchr(line, '\n') = '\0';
	assert_int_equal(jrec_parse(line, &b, NULL, 0), 0);
	assert_int_equal(b.flags, JF_START_PAUSED | JF_CAP);
	assert_int_equal(b.cap, 90);
	assert_string_equal(b.tmp, a.tmp);
	assert_string_equal(b.name, "sv");
	/* A cap of 0 (no cap at all) is a cap too. */
	a.flags = JF_CAP;
	a.cap = 0;
	a.tmp[0] = '\0';
	assert_true(jrec_format(&a, line, sizeof(line)) > 0);
	*strchr(line, '\n') = '\0';
	assert_int_equal(jrec_parse(line, &b, NULL, 0), 0);
	assert_int_equal(b.flags, JF_CAP);
	assert_int_equal(b.cap, 0);
	assert_string_equal(b.tmp, "");
	/* The longest path a save may have still fits on a line. */
	memset(a.tmp, '%', JOURNAL_PATH_MAX);
	a.tmp[0] = '/';
	a.tmp[JOURNAL_PATH_MAX] = '\0';
	assert_true(jrec_format(&a, line, sizeof(line)) > 0);
	assert_non_null(nl = strchr(line, '\n'));
	*nl = '\0';
	assert_int_equal(jrec_parse(line, &b, NULL, 0), 0);
	assert_string_equal(b.tmp, a.tmp);
}

/* A line of the nine fields replays as before; a key this code does not
 * know (a newer relocd's) is skipped; a malformed one rejects the line,
 * saying why. */
static void
test_optional_fields_compat(void **state)
{
	static const char	*const bad[] = {
		"paused",		/* not key=value */
		"=1",
		"Paused=1",		/* keys are lower case */
		"cap=",
		"cap=-1",
		"cap=9x",
		"cap=99999999999",
		"paused=2",
		"tmp=-",
		"tmp=%zz",
		"cap=5 cap=6",		/* twice */
	};
	const char	*old = "00000000000000ab 1700000000000 dst COMMITTED 3 "
			    "web - 10.0.0.1:8002 0000000000000007";
	struct jrec	 b;
	char		 line[512], why[128];
	size_t		 i;

	assert_int_equal(jrec_parse(old, &b, NULL, 0), 0);
	assert_true(b.job == 0xab);
	assert_int_equal(b.state, J_COMMITTED);
	assert_int_equal(b.flags, 0);
	assert_string_equal(b.tmp, "");

	snprintf(line, sizeof(line), "%s future=yes paused=1 zz_9=%%41", old);
	assert_int_equal(jrec_parse(line, &b, NULL, 0), 0);
	assert_int_equal(b.flags, JF_START_PAUSED);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s %s", old, bad[i]);
		why[0] = '\0';
		if (jrec_parse(line, &b, why, sizeof(why)) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(why[0] != '\0');
	}
	snprintf(line, sizeof(line), "%s cap=abc", old);
	assert_int_equal(jrec_parse(line, &b, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cap=abc"));
}

/* Replay and compaction keep the optional fields of a job's last record;
 * a malformed line in the file is skipped, never the journal. */
static void
test_optional_fields_replay(void **state)
{
	char			*dir = mkstate(), path[256];
	struct journal		*j;
	struct collected	 c = { .n = 0 };
	struct mig_err		 err;
	struct jrec		 r;
	FILE			*f;

	assert_non_null(j = journal_open(dir, &err));
	r = rec(1, JR_TARGET, J_COMMITTED, "p");
	r.flags = JF_START_PAUSED;
	append_ok(j, r);
	r = rec(2, JR_SOURCE, J_STREAMING, "c");
	r.flags = JF_CAP;
	r.cap = 75;
	append_ok(j, r);
	r = rec(3, JR_SOURCE, J_STREAMING, "s");
	snprintf(r.tmp, sizeof(r.tmp), "/img/.s.xl.AAAAAA");
	append_ok(j, r);
	assert_int_equal(journal_compact(j, &err), 0);
	journal_close(j);
	/* An old line, and a malformed one after it that must not hide it. */
	snprintf(path, sizeof(path), "%s/journal", dir);
	assert_non_null(f = fopen(path, "a"));
	fprintf(f, "0000000000000004 1 src RESERVED 5 o - h:1 "
	    "0000000000000000\n");
	fprintf(f, "0000000000000004 2 src STREAMING 5 o - h:1 "
	    "0000000000000000 cap=oops\n");
	fclose(f);

	assert_int_equal(journal_replay(dir, collect, &c, &err), 0);
	assert_int_equal(c.n, 4);
	assert_true(c.r[0].job == 1);
	assert_int_equal(c.r[0].flags, JF_START_PAUSED);
	assert_true(c.r[1].job == 2);
	assert_int_equal(c.r[1].flags, JF_CAP);
	assert_int_equal(c.r[1].cap, 75);
	assert_true(c.r[2].job == 3);
	assert_string_equal(c.r[2].tmp, "/img/.s.xl.AAAAAA");
	assert_true(c.r[3].job == 4);
	assert_int_equal(c.r[3].state, J_RESERVED);
	rmstate(dir);
}

static void
test_replay_reports_unfinished_jobs(void **state)
{
	char			*dir = mkstate();
	struct journal		*j;
	struct collected	 c = { .n = 0 };
	struct mig_err		 err;

	assert_non_null(j = journal_open(dir, &err));
	append_ok(j, rec(1, JR_SOURCE, J_PRECHECK, "a"));
	append_ok(j, rec(1, JR_SOURCE, J_STREAMING, "a"));
	append_ok(j, rec(2, JR_TARGET, J_RESERVED, "b"));
	append_ok(j, rec(1, JR_SOURCE, J_COMMIT_SENT, "a"));
	append_ok(j, rec(2, JR_TARGET, J_ABORTED, "b"));
	append_ok(j, rec(3, JR_TARGET, J_RECEIVED, "c"));
	/* A localhost migration: both roles of one job in one journal. */
	append_ok(j, rec(4, JR_SOURCE, J_STREAMING, "d"));
	append_ok(j, rec(4, JR_TARGET, J_COMMITTED, "d"));
	journal_close(j);

	assert_int_equal(journal_replay(dir, collect, &c, &err), 0);
	assert_int_equal(c.n, 4);
	assert_true(c.r[0].job == 1);
	assert_int_equal(c.r[0].state, J_COMMIT_SENT);
	assert_true(c.r[1].job == 3);
	assert_int_equal(c.r[1].state, J_RECEIVED);
	assert_int_equal(c.r[2].role, JR_SOURCE);
	assert_int_equal(c.r[3].state, J_COMMITTED);
	rmstate(dir);
}

static void
test_torn_and_malformed_lines(void **state)
{
	char			*dir = mkstate(), path[256];
	struct journal		*j;
	struct collected	 c = { .n = 0 };
	struct mig_err		 err;
	int			 fd;

	assert_non_null(j = journal_open(dir, &err));
	append_ok(j, rec(5, JR_SOURCE, J_RESERVED, "e"));
	journal_close(j);
	snprintf(path, sizeof(path), "%s/journal", dir);
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	/* garbage line, then a record torn by a crash (no newline) */
	assert_int_equal(write(fd, "garbage\n", 8), 8);
	assert_int_equal(write(fd, "0000000000000005 1 src DONE", 27), 27);
	close(fd);

	assert_int_equal(journal_replay(dir, collect, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].state, J_RESERVED);
	rmstate(dir);
}

static void
test_compaction(void **state)
{
	char			*dir = mkstate();
	struct journal		*j;
	struct collected	 c = { .n = 0 };
	struct mig_err		 err;

	assert_non_null(j = journal_open(dir, &err));
	append_ok(j, rec(1, JR_SOURCE, J_PRECHECK, "a"));
	append_ok(j, rec(1, JR_SOURCE, J_DONE, "a"));
	append_ok(j, rec(2, JR_TARGET, J_RESERVED, "b"));
	assert_int_equal(journal_compact(j, &err), 0);
	/* Appends after compaction land in the new file. */
	append_ok(j, rec(3, JR_TARGET, J_STREAMING, "c"));
	journal_close(j);

	assert_int_equal(journal_replay(dir, collect, &c, &err), 0);
	assert_int_equal(c.n, 2);
	assert_true(c.r[0].job == 2);
	assert_true(c.r[1].job == 3);
	rmstate(dir);
}

static int
match_job(const struct jrec *r, void *arg)
{
	return r->job == *(uint64_t *)arg;
}

/* A target's finished record answers a source's QUERY: it outlives a
 * compaction for a day; a source's does not, nor an older one. */
static void
test_compaction_keeps_answers(void **state)
{
	char			*dir = mkstate();
	struct journal		*j;
	struct mig_err		 err;
	struct jrec		 r;
	uint64_t		 job;

	assert_non_null(j = journal_open(dir, &err));
	r = rec(1, JR_TARGET, J_ABORTED, "fresh");
	r.time_ms = wall_ms() - 1000;
	append_ok(j, r);
	r = rec(2, JR_TARGET, J_DONE, "old");
	r.time_ms = wall_ms() - 25 * 3600 * 1000ULL;
	append_ok(j, r);
	r = rec(3, JR_SOURCE, J_ABORTED, "src");
	r.time_ms = wall_ms() - 1000;
	append_ok(j, r);
	assert_int_equal(journal_compact(j, &err), 0);
	journal_close(j);
	/* what a QUERY reads: finished records too */
	for (job = 1; job <= 3; job++)
		assert_int_equal(journal_lookup(dir, match_job, &job, &r,
		    &err), job == 1);
	assert_int_equal(r.state, J_ABORTED);
	rmstate(dir);
}

static int
match_resv(const struct jrec *r, void *arg)
{
	return r->role == JR_TARGET && r->resv == *(uint64_t *)arg;
}

/* What a target reads to answer a QUERY: finished jobs too, the newest
 * when a reservation id repeats (ids restart with the daemon). */
static void
test_lookup(void **state)
{
	char		*dir = mkstate();
	struct journal	*j;
	struct jrec	 r, out;
	struct mig_err	 err;
	uint64_t	 key = 4;

	assert_int_equal(journal_lookup(dir, match_resv, &key, &out, &err), 0);
	assert_non_null(j = journal_open(dir, &err));
	r = rec(1, JR_TARGET, J_COMMITTED, "a");
	r.resv = 4;
	append_ok(j, r);
	r.state = J_DONE;
	append_ok(j, r);
	r = rec(2, JR_SOURCE, J_COMMIT_SENT, "a");	/* not the target's */
	r.resv = 4;
	r.time_ms += 10;
	append_ok(j, r);
	assert_int_equal(journal_lookup(dir, match_resv, &key, &out, &err), 1);
	assert_true(out.job == 1);
	assert_int_equal(out.state, J_DONE);
	r = rec(9, JR_TARGET, J_ABORTED, "a");		/* later, same id */
	r.resv = 4;
	r.time_ms += 20;
	append_ok(j, r);
	journal_close(j);
	assert_int_equal(journal_lookup(dir, match_resv, &key, &out, &err), 1);
	assert_true(out.job == 9);
	assert_int_equal(out.state, J_ABORTED);
	key = 5;
	assert_int_equal(journal_lookup(dir, match_resv, &key, &out, &err), 0);
	rmstate(dir);
}

static void
test_open_errors(void **state)
{
	struct mig_err		err;
	struct collected	c = { .n = 0 };

	assert_null(journal_open("/proc/no/such/dir", &err));
	assert_int_equal(err.code, MIG_E_IO);
	/* the first level that could not be made is named */
	assert_non_null(strstr(err.msg, "state directory /proc/no"));
	/* No state directory yet: nothing to reconcile, not an error. */
	assert_int_equal(journal_replay("/nonexistent-relocd", collect, &c,
	    &err), 0);
	assert_int_equal(c.n, 0);
}

/* A host name may have 255 characters (RFC 1035, the protocol's hostname
 * class): the journal keeps all of it, or an in-doubt source would ask a
 * host that is not its target. */
static void
test_long_host_name(void **state)
{
	struct jrec	r = rec(1, JR_SOURCE, J_COMMIT_SENT, "a"), out;
	char		host[256], line[4096], why[128];
	size_t		i;
	int		n;

	(void)state;
	for (i = 0; i < 255; i++)
		host[i] = i % 64 == 63 ? '.' : 'a' + i % 26;
	host[255] = '\0';
	indoubt_peer(r.peer, sizeof(r.peer), host, 8003, 1);
	assert_int_equal(strlen(r.peer), 255 + strlen(":8003/tls"));
	assert_int_equal(strncmp(r.peer, host, 255), 0);
	assert_true((n = jrec_format(&r, line, sizeof(line))) > 0);
	line[n - 1] = '\0';
	if (jrec_parse(line, &out, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	assert_string_equal(out.peer, r.peer);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse_roundtrip),
		cmocka_unit_test(test_optional_fields_roundtrip),
		cmocka_unit_test(test_optional_fields_compat),
		cmocka_unit_test(test_optional_fields_replay),
		cmocka_unit_test(test_replay_reports_unfinished_jobs),
		cmocka_unit_test(test_torn_and_malformed_lines),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_compaction_keeps_answers),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_long_host_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
