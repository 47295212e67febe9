/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the journal tests share: a state directory of their own, a record
 * to write, and an append that must succeed.  Include after cmocka.h and
 * relocd.h.
 */
#ifndef JOURNAL_FIXTURE_H
#define JOURNAL_FIXTURE_H

#define JF_UNUSED	__attribute__((unused))

static JF_UNUSED char *
mkstate(void)
{
	char	*d = strdup("/tmp/relocd-journal-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static JF_UNUSED void
rmstate(char *d)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

static JF_UNUSED struct jrec
rec(uint64_t job, enum jrole role, enum jstate st, const char *name)
{
	struct jrec	r;

	memset(&r, 0, sizeof(r));
	r.job = job;
	r.time_ms = 1700000000000ULL;
	r.role = role;
	r.state = st;
	r.domid = 7;
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.uuid, sizeof(r.uuid),
	    "6f0bc3b2-1f4e-4c59-9d2a-4c2d0e8a5b11");
	snprintf(r.peer, sizeof(r.peer), "[::1]:8002");
	r.resv = 0x8877665544332211ULL;
	return r;
}

static JF_UNUSED void
append_ok(struct journal *j, struct jrec r)
{
	struct mig_err	err;

	if (journal_append(j, &r, &err) != 0)
		fail_msg("%s", err.msg);
}

#endif
