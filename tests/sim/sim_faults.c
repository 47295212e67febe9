/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fault knobs of a simulated host: HOSTDIR/faults, "knob value" lines,
 * read afresh at the start of every save and restore so that a shell
 * test can arm a fault between two steps of a running daemon.
 */
#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define FAULTFILE	"faults"

static void
faults_default(struct sim_faults *f)
{
	memset(f, 0, sizeof(*f));
	f->die_after = -1;
	f->die_exit = 1;
	f->stall_after = -1;
	f->echo_delay_ms = -1;
}

static int
parse_bool(const char *v)
{
	if (strcmp(v, "1") == 0 || strcmp(v, "on") == 0)
		return 1;
	if (strcmp(v, "0") == 0 || strcmp(v, "off") == 0)
		return 0;
	return -1;
}

static int
parse_bytes(const char *v, int64_t *out)
{
	char		*end;
	long long	 n;

	if (strcmp(v, "off") == 0) {
		*out = -1;
		return 0;
	}
	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

/* One word (a hold point, a journal state); "off" clears it. */
static int
parse_word(const char *v, char *out, size_t size)
{
	if (strlen(v) >= size || strchr(v, ' ') != NULL)
		return -1;
	snprintf(out, size, "%s", strcmp(v, "off") == 0 ? "" : v);
	return 0;
}

/* Applies one knob; -1 for an unknown knob or a bad value. */
static int
fault_apply(struct sim_faults *f, const char *knob, const char *v)
{
	int	b;

	if (strcmp(knob, "die_after") == 0)
		return parse_bytes(v, &f->die_after);
	if (strcmp(knob, "stall_after") == 0)
		return parse_bytes(v, &f->stall_after);
	if (strcmp(knob, "echo_delay_ms") == 0)
		return parse_bytes(v, &f->echo_delay_ms);
	if (strcmp(knob, "hold") == 0)
		return parse_word(v, f->hold, sizeof(f->hold));
	if (strcmp(knob, "fail_sync") == 0)
		return parse_word(v, f->fail_sync, sizeof(f->fail_sync));
	if (strcmp(knob, "image_fail") == 0)
		return parse_word(v, f->image_fail, sizeof(f->image_fail));
	if (strcmp(knob, "image_fail_after") == 0)
		return parse_bytes(v, &f->image_fail_after);
	if (strcmp(knob, "die_mode") == 0) {
		if (strcmp(v, "exit") == 0 || strcmp(v, "off") == 0)
			f->die_exit = 1;
		else if (strcmp(v, "fail") == 0)
			f->die_exit = 0;
		else
			return -1;
		return 0;
	}
	if ((b = parse_bool(v)) == -1)
		return -1;
	if (strcmp(knob, "fail_suspend") == 0)
		f->fail_suspend = b;
	else if (strcmp(knob, "restore_nomem") == 0)
		f->restore_nomem = b;
	else if (strcmp(knob, "never_converge") == 0)
		f->never_converge = b;
	else if (strcmp(knob, "fail_unpause") == 0)
		f->fail_unpause = b;
	else
		return -1;
	return 0;
}

int
sim_faults_load(const char *dir, struct sim_faults *f, struct mig_err *err)
{
	char	 path[PATH_MAX], line[256], *v;
	FILE	*fp;
	size_t	 n;
	int	 rc = 0;

	faults_default(f);
	sim_path(dir, FAULTFILE, path, sizeof(path));
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	}
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		if ((v = strchr(line, ' ')) == NULL) {
			rc = -1;
			break;
		}
		*v++ = '\0';
		rc = fault_apply(f, line, v);
	}
	fclose(fp);
	if (rc == -1)
		return mig_seterr(err, MIG_E_CORRUPT, "%s: bad line \"%s\"",
		    path, line);
	return 0;
}

static void
faults_print(FILE *fp, const struct sim_faults *f)
{
	fprintf(fp, "fail_suspend %d\nrestore_nomem %d\nnever_converge %d\n"
	    "fail_unpause %d\ndie_mode %s\n", f->fail_suspend,
	    f->restore_nomem, f->never_converge, f->fail_unpause,
	    f->die_exit ? "exit" : "fail");
	if (f->die_after >= 0)
		fprintf(fp, "die_after %" PRId64 "\n", f->die_after);
	if (f->stall_after >= 0)
		fprintf(fp, "stall_after %" PRId64 "\n", f->stall_after);
	if (f->echo_delay_ms >= 0)
		fprintf(fp, "echo_delay_ms %" PRId64 "\n", f->echo_delay_ms);
	if (f->hold[0] != '\0')
		fprintf(fp, "hold %s\n", f->hold);
	if (f->fail_sync[0] != '\0')
		fprintf(fp, "fail_sync %s\n", f->fail_sync);
	if (f->image_fail[0] != '\0')
		fprintf(fp, "image_fail %s\n", f->image_fail);
	if (f->image_fail_after > 0)
		fprintf(fp, "image_fail_after %" PRId64 "\n",
		    f->image_fail_after);
}

int
sim_faults_set(const char *dir, const char *knob, const char *value,
    struct mig_err *err)
{
	struct sim_faults	 f;
	struct sim_txn		 t;
	char			 path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE			*fp;
	int			 rc = -1;

	/* The host lock serialises writers of this file too. */
	if (sim_begin(&t, dir, 1, err) == -1)
		return -1;
	if (sim_faults_load(dir, &f, err) == -1)
		goto out;
	if (fault_apply(&f, knob, value) == -1) {
		mig_seterr(err, MIG_E_INVAL, "fault %s: unknown knob or bad "
		    "value \"%s\"", knob, value);
		goto out;
	}
	sim_path(dir, FAULTFILE, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "we")) == NULL) {
		mig_seterrno(err, MIG_E_IO, "%s", tmp);
		goto out;
	}
	faults_print(fp, &f);
	if (fclose(fp) != 0 || rename(tmp, path) == -1) {
		mig_seterrno(err, MIG_E_IO, "%s", path);
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	sim_end(&t);
	return rc;
}

/*
 * A hold point: while the "hold" knob names it, the caller blocks, and
 * HOSTDIR/held says "POINT PID" so that a test knows the process stands
 * exactly there (to kill it, cut its connection, or let it go on with
 * "simctl fault hold off").  Only tests reach this: it is the simulated
 * host's, never the product's.
 */
void
sim_hold(const char *dir, const char *point)
{
	sim_hold_until(dir, point, NULL);
}

/* As sim_hold, but also let go once *stop is set: a job's hold point
 * must not outlive the job's abort, which is what a test waits for.  Nor
 * outlive HOLD_UNTIL_MAX polls (60 s): an abort that never comes then
 * fails the test that waits for it, instead of hanging it. */
#define HOLD_UNTIL_MAX	3000

void
sim_hold_until(const char *dir, const char *point, atomic_int *stop)
{
	struct sim_faults	 f;
	char			 path[PATH_MAX];
	FILE			*fp;
	int			 polls = 0;

	if (sim_faults_load(dir, &f, NULL) == -1 || strcmp(f.hold, point) != 0)
		return;
	sim_path(dir, "held", path, sizeof(path));
	if ((fp = fopen(path, "we")) != NULL) {
		fprintf(fp, "%s %ld\n", point, (long)getpid());
		fclose(fp);
	}
	while ((stop == NULL || (!atomic_load(stop) &&
	    polls++ < HOLD_UNTIL_MAX)) &&
	    sim_faults_load(dir, &f, NULL) == 0 &&
	    strcmp(f.hold, point) == 0)
		usleep(20000);
	unlink(path);
}
