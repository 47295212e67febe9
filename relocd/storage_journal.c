/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a target created for the disks of a domain it receives, so that a
 * crash leaves no orphan volume and never removes the only copy.  One
 * line per step in STATE_DIR/storage, appended and fdatasync'd before
 * the step it announces:
 *
 *	JOBID create KIND PATH	before the volume or file is created
 *	JOBID keep		the job committed: they are the domain's now
 *	JOBID drop		they were removed: nothing left to do
 *
 * KIND is "block" or "file"; PATH runs to the end of the line (a moved
 * disk's path holds no newline: storage_in.c refuses one).  A torn last
 * line is ignored, as the main journal does.
 *
 * The rule after a crash (storage_reconcile, run after the main journal
 * has been reconciled): the disks of a job are the domain's if the job's
 * target record says it committed (COMMITTED, ACTIVATED, DONE), or, once
 * that record is compacted away, if keep says so; they are removed if
 * the record says aborted (ABORTED: an activation withdrawn after keep
 * too), or if the job has no record and no keep (the crash came between
 * the create line and the job's first record).  A job whose record is still open (its settling
 * failed) is left for the next pass.  Until COMMIT the source's disks
 * are the truth, so removing ours loses nothing.
 *
 * The startup pass, which runs before any worker can append, then
 * rewrites the file with only the jobs still to settle: a host that
 * receives many domains must not read every move it ever made at each
 * start.
 */
#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/log.h"
#include "storage.h"

#define SJ_FILE	"storage"

static const char *const verbs[] = {
	[SJ_CREATE] = "create", [SJ_KEEP] = "keep", [SJ_DROP] = "drop",
};

static const char *
kind_name(uint8_t kind)
{
	return kind == MIG_DISK_BLOCK ? "block" : "file";
}

int
sj_append(const char *dir, uint64_t job, enum sj_verb v, uint8_t kind,
    const char *path, struct mig_err *err)
{
	char	file[PATH_MAX], line[PATH_MAX + 64];
	int	fd, len, rc = -1;
	off_t	end;

	snprintf(file, sizeof(file), "%s/" SJ_FILE, dir);
	if (v == SJ_CREATE)
		len = snprintf(line, sizeof(line), "%" PRIu64 " %s %s %s\n",
		    job, verbs[v], kind_name(kind), path);
	else
		len = snprintf(line, sizeof(line), "%" PRIu64 " %s\n", job,
		    verbs[v]);
	if (len < 0 || (size_t)len >= sizeof(line))
		return mig_seterr(err, MIG_E_INVAL, "%s: path too long", path);
	if ((fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", file);
	/* Workers append at once: the lock keeps a torn line of one from
	 * being cut by another's repair. */
	if (flock(fd, LOCK_EX) == -1) {
		mig_seterrno(err, MIG_E_IO, "%s: lock", file);
		goto out;
	}
	end = lseek(fd, 0, SEEK_END);
	if (write(fd, line, (size_t)len) != len) {
		mig_seterrno(err, MIG_E_IO, "%s", file);
		if (end != -1)
			(void)ftruncate(fd, end);
		goto out;
	}
	if (fdatasync(fd) == -1) {
		mig_seterrno(err, MIG_E_IO, "%s: fdatasync", file);
		goto out;
	}
	rc = 0;
 out:
	close(fd);
	return rc;
}

struct sj_job {
	uint64_t	 job;
	int		 kept;		/* keep seen */
	int		 dropped;	/* drop seen: nothing left */
	int		 final;		/* settled for good: compacted away */
	unsigned	 n;
	uint8_t		 kind[MIG_DISKS_MAX];
	char		*path[MIG_DISKS_MAX];
};

struct sj_set {
	struct sj_job	*v;
	size_t		 n, cap;
};

static struct sj_job *
sj_find(struct sj_set *s, uint64_t job)
{
	struct sj_job	*nv;
	size_t		 i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].job == job)
			return &s->v[i];
	if (s->n == s->cap) {
		if ((nv = reallocarray(s->v, s->cap ? 2 * s->cap : 16,
		    sizeof(*nv))) == NULL)
			return NULL;
		s->v = nv;
		s->cap = s->cap ? 2 * s->cap : 16;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	s->v[s->n].job = job;
	return &s->v[s->n++];
}

static void
sj_free(struct sj_set *s)
{
	size_t		i;
	unsigned	k;

	for (i = 0; i < s->n; i++)
		for (k = 0; k < s->v[i].n; k++)
			free(s->v[i].path[k]);
	free(s->v);
}

/* One line into the set; malformed ones are skipped with a warning. */
static int
sj_line(struct sj_set *s, char *line, unsigned lineno)
{
	struct sj_job	*j;
	char		 verb[8], kind[8];
	uint64_t	 job;
	int		 off = 0, off2 = 0;

	if (sscanf(line, "%" SCNu64 " %7s %n", &job, verb, &off) < 2 ||
	    job == 0) {
		mig_log_warnx("storage journal line %u: malformed; ignored",
		    lineno);
		return 0;
	}
	if ((j = sj_find(s, job)) == NULL)
		return -1;
	if (strcmp(verb, "keep") == 0) {
		j->kept = 1;
		return 0;
	}
	if (strcmp(verb, "drop") == 0) {
		j->dropped = 1;
		return 0;
	}
	if (strcmp(verb, "create") != 0 || sscanf(line + off, "%7s %n",
	    kind, &off2) < 1 || line[off + off2] != '/' || (strcmp(kind, "block") != 0 &&
	    strcmp(kind, "file") != 0) || j->n == MIG_DISKS_MAX) {
		mig_log_warnx("storage journal line %u: malformed; ignored",
		    lineno);
		return 0;
	}
	j->kind[j->n] = kind[0] == 'b' ? MIG_DISK_BLOCK : MIG_DISK_FILE;
	if ((j->path[j->n] = strdup(line + off + off2)) == NULL)
		return -1;
	j->n++;
	return 0;
}

static int
sj_read(const char *dir, struct sj_set *s, struct mig_err *err)
{
	char		 file[PATH_MAX], *line = NULL;
	size_t		 cap = 0;
	ssize_t		 len;
	unsigned	 lineno = 0;
	FILE		*f;

	snprintf(file, sizeof(file), "%s/" SJ_FILE, dir);
	if ((f = fopen(file, "re")) == NULL)
		return errno == ENOENT ? 0 : mig_seterrno(err, MIG_E_IO, "%s",
		    file);
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[len - 1] != '\n')
			break;		/* torn: its step never happened */
		line[len - 1] = '\0';
		if (sj_line(s, line, lineno) == -1) {
			mig_seterrno(err, MIG_E_NOMEM, "%s", file);
			free(line);
			fclose(f);
			return -1;
		}
	}
	free(line);
	fclose(f);
	return 0;
}

static int
target_job(const struct jrec *r, void *arg)
{
	return r->role == JR_TARGET && r->job == *(const uint64_t *)arg;
}

/* Settles one job's disks by its record; -1 when it must wait, 1 when
 * nothing can change any more (the disks removed, or kept with a job
 * that is done). */
static int
sj_settle(struct worker *w, const struct sj_job *j)
{
	const char	*dir = w->conf.state_dir;
	struct jrec	 r;
	struct mig_err	 err;
	unsigned	 k;
	int		 found, fd, rc = 0;

	if ((fd = journal_lock_job(dir, j->job, 1, &err)) == -1) {
		mig_log_warnx("%s", err.msg);
		return -1;
	}
	if ((found = journal_lookup(dir, target_job, (void *)&j->job, &r,
	    &err)) == -1) {
		mig_log_warnx("%s", err.msg);
		rc = -1;
		goto out;
	}
	/* The record decides while there is one (keep may be followed by
	 * a withdrawn activation); keep, once it is compacted away. */
	if ((found && (r.state == J_COMMITTED || r.state == J_ACTIVATED ||
	    r.state == J_DONE)) || (!found && j->kept)) {
		if (!j->kept && sj_append(dir, j->job, SJ_KEEP, 0, NULL,
		    &err) == -1)
			mig_log_warnx("%s", err.msg);
		else if (!found || r.state == J_DONE)
			rc = 1;
		goto out;
	}
	if (found && r.state != J_ABORTED) {
		mig_log_info("job %" PRIu64 ": its disks wait until the job is "
		    "settled (%s)", j->job, journal_state_name(r.state));
		rc = -1;
		goto out;
	}
	for (k = 0; k < j->n; k++) {
		if (dest_remove(j->kind[k], j->path[k], &err) == -1) {
			mig_log_warnx("job %" PRIu64 ": %s", j->job, err.msg);
			rc = -1;
			continue;
		}
		mig_log_info("job %" PRIu64 ": removed %s: the migration never "
		    "committed", j->job, j->path[k]);
	}
	if (rc == 0) {
		if (sj_append(dir, j->job, SJ_DROP, 0, NULL, &err) == -1)
			mig_log_warnx("%s", err.msg);
		else
			rc = 1;
	}
 out:
	journal_unlock_job(dir, j->job, fd, 0);
	return rc;
}

/* The lines of the jobs still to settle, as sj_append wrote them. */
static void
sj_fill(FILE *f, const void *arg)
{
	const struct sj_set	*s = arg;
	const struct sj_job	*j;
	size_t			 i;
	unsigned		 k;

	for (i = 0; i < s->n; i++) {
		j = &s->v[i];
		if (j->final || j->dropped || j->n == 0)
			continue;
		for (k = 0; k < j->n; k++)
			fprintf(f, "%" PRIu64 " %s %s %s\n", j->job,
			    verbs[SJ_CREATE], kind_name(j->kind[k]),
			    j->path[k]);
		if (j->kept)
			fprintf(f, "%" PRIu64 " %s\n", j->job, verbs[SJ_KEEP]);
	}
}

/* The startup pass only: no worker runs yet to append meanwhile. */
static void
sj_compact(const char *dir, const struct sj_set *s)
{
	char		file[PATH_MAX], tmp[PATH_MAX];
	struct mig_err	err;
	int		dfd;

	snprintf(file, sizeof(file), "%s/" SJ_FILE, dir);
	snprintf(tmp, sizeof(tmp), "%s/" SJ_FILE ".new", dir);
	if (replace_file(file, tmp, 1, sj_fill, s, &err) == -1) {
		mig_log_warnx("%s: not compacted: %s", file, err.msg);
		return;
	}
	/* The rename durable too: else a crash could bring back lines
	 * whose disks this pass already removed or kept, which is
	 * harmless (settling is idempotent) but would be read again. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
}

int
storage_reconcile(struct worker *w)
{
	struct sj_set	s = { NULL, 0, 0 };
	struct mig_err	err;
	size_t		i;
	int		rc = 0, r, startup = w->job == 0 && !w->retry;

	if (sj_read(w->conf.state_dir, &s, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		return -1;
	}
	for (i = 0; i < s.n; i++) {
		if (s.v[i].dropped || s.v[i].n == 0 || (w->job != 0 &&
		    s.v[i].job != w->job))
			continue;
		if ((r = sj_settle(w, &s.v[i])) == -1)
			rc = -1;
		s.v[i].final = r == 1;
	}
	if (startup && s.n > 0)
		sj_compact(w->conf.state_dir, &s);
	sj_free(&s);
	return rc;
}
