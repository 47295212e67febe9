/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal: one line per phase transition, appended and fdatasync'd
 * before the step it announces is taken, so that after a crash relocd knows
 * how far every job got and can reconcile its leftovers.
 *
 * Text, not binary: an administrator reading STATE_DIR/journal after an
 * incident should not need a tool.  A line is
 *
 *	JOBID TIME_MS ROLE STATE DOMID NAME UUID PEER RESV [KEY=VALUE ...]
 *
 * with NAME and PEER percent-escaped so no field holds a space.  A crash
 * can tear only the last line (it has no newline); replay ignores it, and
 * the next append ends it with a newline first, so that it stays a
 * malformed line of its own.
 *
 * The optional KEY=VALUE fields carry what a crash must not lose beyond
 * the state, each written only when it applies, so that a journal of
 * the nine fields alone (written before they existed) replays as it
 * did:
 *
 *	paused=1	dst: the migration or restore was asked to leave the
 *			domain paused (reconciliation must not unpause it)
 *	cap=N		src: the guest's own cpu cap, which auto-converge
 *			lowered (reconciliation puts it back)
 *	tmp=PATH	save: the image's temporary file (reconciliation
 *			removes it), percent-escaped
 *
 * A key this code does not know is skipped, for a journal written by a
 * newer relocd; a field that is not KEY=VALUE, a known key twice or with
 * a bad value makes the line malformed: it is ignored, with a warning,
 * as any other malformed line.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mig/log.h"
#include "relocd.h"

#define JOURNAL_FILE	"journal"
#define JOURNAL_TMP	"journal.tmp"
#define JOURNAL_LOCK	"journal.lock"
#define JOURNAL_MAXSZ	(64 * 1024 * 1024)
#define JLINE_MAX	4096	/* tmp= may hold a 1 KiB path, escaped */
/* sscanf widths of the escaped NAME and PEER fields (3 bytes a char) */
#define JNAME_ESC	"192"
#define JPEER_ESC	"795"
_Static_assert(3 * JOURNAL_NAME_MAX == 192, "JNAME_ESC");
_Static_assert(3 * JOURNAL_PEER_MAX == 795, "JPEER_ESC");

/*
 * Every worker appends to the one file, and a restarted relocd compacts
 * it while a worker of the old one may still run.  So each append, and
 * the compaction as a whole, holds STATE_DIR/journal.lock (flock,
 * exclusive): a failed append cuts its torn line off knowing nothing
 * was appended after it, and no record lands between the compaction's
 * read and its rename.  An append also checks, under the lock, that its
 * descriptor is still the file called "journal", and reopens it when a
 * compaction has replaced it; otherwise the record would go to the
 * unlinked old file, where nobody reads it.
 */
struct journal {
	int	 dirfd;
	int	 fd;
	int	 lockfd;
	char	*dir;
};

static const char *const jstate_names[J__MAX] = {
	[J_NONE] = "NONE",
	[J_PRECHECK] = "PRECHECK",
	[J_RESERVED] = "RESERVED",
	[J_STREAMING] = "STREAMING",
	[J_SUSPENDED] = "SUSPENDED",
	[J_RECEIVED] = "RECEIVED",
	[J_COMMIT_SENT] = "COMMIT_SENT",
	[J_COMMITTED] = "COMMITTED",
	[J_ABORTING] = "ABORTING",
	[J_ACTIVATED] = "ACTIVATED",
	[J_DONE] = "DONE",
	[J_ABORTED] = "ABORTED",
};

const char *
journal_state_name(enum jstate s)
{
	if ((unsigned)s >= J__MAX)
		return "?";
	return jstate_names[s];
}

int
journal_state_final(enum jstate s)
{
	return s == J_DONE || s == J_ABORTED;
}

static int
state_from_name(const char *s, enum jstate *out)
{
	unsigned	i;

	for (i = 1; i < J__MAX; i++)
		if (strcmp(s, jstate_names[i]) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

static int
escape(const char *in, char *out, size_t outlen)
{
	static const char	hex[] = "0123456789ABCDEF";
	size_t			o = 0;
	unsigned char		c;

	if (*in == '\0')
		in = "-";
	for (; (c = (unsigned char)*in) != '\0'; in++) {
		if (isalnum(c) || strchr("._:-[]/", c) != NULL) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = c;
		} else {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

static int
unescape(const char *in, char *out, size_t outlen)
{
	size_t		o = 0;
	unsigned	v;

	if (strcmp(in, "-") == 0) {
		*out = '\0';
		return 0;
	}
	for (; *in != '\0'; in++) {
		if (o + 1 >= outlen)
			return -1;
		if (*in == '%') {
			if (!isxdigit((unsigned char)in[1]) ||
			    !isxdigit((unsigned char)in[2]) ||
			    sscanf(in + 1, "%2x", &v) != 1 || v == 0)
				return -1;
			out[o++] = (char)v;
			in += 2;
		} else
			out[o++] = *in;
	}
	out[o] = '\0';
	return 0;
}

/* The optional fields, appended to buf (of len, holding o bytes). */
static int
format_keys(const struct jrec *r, char *buf, size_t len, size_t o)
{
	char	tmp[3 * JOURNAL_PATH_MAX + 1];
	int	n = 0;

	if (r->flags & JF_START_PAUSED) {
		n = snprintf(buf + o, len - o, " paused=1");
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += n;
	}
	if (r->flags & JF_NO_ADOPT) {
		n = snprintf(buf + o, len - o, " adopt=0");
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += n;
	}
	if (r->flags & JF_CAP) {
		n = snprintf(buf + o, len - o, " cap=%d", r->cap);
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += n;
	}
	if (r->tmp[0] != '\0') {
		if (escape(r->tmp, tmp, sizeof(tmp)) == -1)
			return -1;
		n = snprintf(buf + o, len - o, " tmp=%s", tmp);
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += n;
	}
	return (int)o;
}

int
jrec_format(const struct jrec *r, char *buf, size_t len)
{
	char	name[3 * JOURNAL_NAME_MAX + 1], peer[3 * JOURNAL_PEER_MAX + 1];
	int	n;

	if ((unsigned)r->state >= J__MAX || r->state == J_NONE ||
	    escape(r->name, name, sizeof(name)) == -1 ||
	    escape(r->peer, peer, sizeof(peer)) == -1)
		return -1;
	n = snprintf(buf, len, "%016" PRIx64 " %" PRIu64 " %s %s %d %s %s %s "
	    "%016" PRIx64, r->job, r->time_ms,
	    r->role == JR_SOURCE ? "src" : "dst", jstate_names[r->state],
	    r->domid, name, r->uuid[0] != '\0' ? r->uuid : "-", peer, r->resv);
	if (n < 0 || (size_t)n >= len ||
	    (n = format_keys(r, buf, len, (size_t)n)) == -1 ||
	    (size_t)n + 1 >= len)
		return -1;
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

static int
parse_hex64(const char *s, uint64_t *out)
{
	char	*end;

	if (strlen(s) != 16 || strspn(s, "0123456789abcdefABCDEF") != 16)
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 16);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int
bad(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Says why a line is malformed, if asked; returns -1. */
static int
bad(char *why, size_t len, const char *fmt, ...)
{
	va_list	ap;

	if (why != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* One KEY=VALUE field; seen holds the known keys met so far. */
static int
parse_key(char *f, struct jrec *r, unsigned *seen, char *why, size_t len)
{
	char		*v = strchr(f, '='), *end;
	long		 cap;
	unsigned	 bit;

	if (v == NULL || v == f || !islower((unsigned char)*f) ||
	    strspn(f, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
	    (size_t)(v - f) || v[1] == '\0')
		return bad(why, len, "field \"%.40s\" is not key=value", f);
	*v++ = '\0';
	if (strcmp(f, "paused") == 0) {
		bit = 0x1;
		if (strcmp(v, "1") == 0)
			r->flags |= JF_START_PAUSED;
		else if (strcmp(v, "0") != 0)
			return bad(why, len, "paused=%.20s: not 0 or 1", v);
	} else if (strcmp(f, "cap") == 0) {
		bit = 0x2;
		errno = 0;
		cap = strtol(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end != '\0' ||
		    errno != 0 || cap > INT_MAX)
			return bad(why, len, "cap=%.20s: not a cpu cap", v);
		r->cap = (int)cap;
		r->flags |= JF_CAP;
	} else if (strcmp(f, "adopt") == 0) {
		bit = 0x8;
		if (strcmp(v, "0") == 0)
			r->flags |= JF_NO_ADOPT;
		else if (strcmp(v, "1") != 0)
			return bad(why, len, "adopt=%.20s: not 0 or 1", v);
	} else if (strcmp(f, "tmp") == 0) {
		bit = 0x4;
		if (unescape(v, r->tmp, sizeof(r->tmp)) == -1 ||
		    r->tmp[0] == '\0')
			return bad(why, len, "tmp=%.40s: not a path", v);
	} else
		return 0;	/* a newer relocd's: not ours to judge */
	if (*seen & bit)
		return bad(why, len, "key %s twice", f);
	*seen |= bit;
	return 0;
}

/* Parses one line without its newline; -1 on anything malformed, and
 * then, if why is not NULL, a reason in it. */
int
jrec_parse(const char *line, struct jrec *r, char *why, size_t whylen)
{
	char		job[17], role[4], state[16], name[3 * JOURNAL_NAME_MAX + 1];
	char		uuid[37], peer[3 * JOURNAL_PEER_MAX + 1], resv[17];
	char		rest[JLINE_MAX];
	char		*f, *save;
	unsigned	seen = 0;
	int		n = -1;

	memset(r, 0, sizeof(*r));
	if (strlen(line) >= JLINE_MAX)
		return bad(why, whylen, "longer than %d bytes", JLINE_MAX - 1);
	if (sscanf(line, "%16s %" SCNu64 " %3s %15s %d %" JNAME_ESC "s %36s %"
	    JPEER_ESC "s %16s%n",
	    job, &r->time_ms, role, state, &r->domid, name, uuid, peer, resv,
	    &n) != 9 || n < 0)
		return bad(why, whylen, "not a journal record");
	if (parse_hex64(job, &r->job) == -1 || parse_hex64(resv, &r->resv) == -1)
		return bad(why, whylen, "bad job or reservation id");
	if (strcmp(role, "src") == 0)
		r->role = JR_SOURCE;
	else if (strcmp(role, "dst") == 0)
		r->role = JR_TARGET;
	else
		return bad(why, whylen, "bad role \"%s\"", role);
	if (state_from_name(state, &r->state) == -1)
		return bad(why, whylen, "bad state \"%s\"", state);
	if (unescape(name, r->name, sizeof(r->name)) == -1 ||
	    unescape(peer, r->peer, sizeof(r->peer)) == -1)
		return bad(why, whylen, "bad name or peer");
	if (strcmp(uuid, "-") != 0)
		memcpy(r->uuid, uuid, sizeof(r->uuid));
	/* The optional fields: each one space after the one before. */
	if (line[n] != '\0' && line[n] != ' ')
		return bad(why, whylen, "resv field too long");
	snprintf(rest, sizeof(rest), "%s", line + n);
	for (f = strtok_r(rest, " ", &save); f != NULL;
	    f = strtok_r(NULL, " ", &save))
		if (parse_key(f, r, &seen, why, whylen) == -1)
			return -1;
	return 0;
}

/* mkdir -p: parents 0755 (they may be /var/lib), the directory 0700. */
int
state_dir_make(const char *dir, struct mig_err *err)
{
	char	path[PATH_MAX], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return mig_seterr(err, MIG_E_INVAL, "state directory %s: path "
		    "too long", dir);
	for (p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return mig_seterrno(err, MIG_E_IO, "state directory "
			    "%s", path);
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return mig_seterrno(err, MIG_E_IO, "state directory %s", dir);
	return 0;
}

struct journal *
journal_open(const char *dir, struct mig_err *err)
{
	struct journal	*j;

	if (state_dir_make(dir, err) == -1)
		return NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->dir = strdup(dir)) == NULL) {
		free(j);
		mig_seterrno(err, MIG_E_NOMEM, "journal");
		return NULL;
	}
	j->fd = j->lockfd = -1;
	if ((j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (j->lockfd = openat(j->dirfd, JOURNAL_LOCK,
	    O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    (j->fd = openat(j->dirfd, JOURNAL_FILE,
	    O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    fsync(j->dirfd) == -1) {
		mig_seterrno(err, MIG_E_IO, "journal %s/%s", dir, JOURNAL_FILE);
		journal_close(j);
		return NULL;
	}
	return j;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd != -1)
		close(j->fd);
	if (j->lockfd != -1)
		close(j->lockfd);
	if (j->dirfd != -1)
		close(j->dirfd);
	free(j->dir);
	free(j);
}

static int
write_line(int fd, const char *line, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, line, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		line += n;
		len -= n;
	}
	return 0;
}

static int
jlock(struct journal *j, struct mig_err *err)
{
	while (flock(j->lockfd, LOCK_EX) == -1)
		if (errno != EINTR)
			return mig_seterrno(err, MIG_E_IO, "journal %s/%s",
			    j->dir, JOURNAL_LOCK);
	return 0;
}

static void
junlock(struct journal *j)
{
	flock(j->lockfd, LOCK_UN);
}

/* Opens STATE_DIR/journal for appending (and for reading its tail). */
static int
jopen_append(struct journal *j)
{
	return openat(j->dirfd, JOURNAL_FILE,
	    O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

/*
 * Under the lock: makes the append descriptor the file called "journal"
 * (a compaction may have replaced it) and its last line whole; *size is
 * where this append starts.
 */
static int
jcurrent(struct journal *j, off_t *size, struct mig_err *err)
{
	struct stat	st, cur;
	char		c;
	int		fd;

	if (fstat(j->fd, &st) == -1)
		return mig_seterrno(err, MIG_E_IO, "journal %s", j->dir);
	if (fstatat(j->dirfd, JOURNAL_FILE, &cur, 0) == -1 ||
	    cur.st_ino != st.st_ino || cur.st_dev != st.st_dev) {
		if ((fd = jopen_append(j)) == -1 || fstat(fd, &st) == -1) {
			if (fd != -1)
				close(fd);
			return mig_seterrno(err, MIG_E_IO, "journal %s/%s",
			    j->dir, JOURNAL_FILE);
		}
		close(j->fd);
		j->fd = fd;
	}
	*size = st.st_size;
	if (st.st_size == 0 || (pread(j->fd, &c, 1, st.st_size - 1) == 1 &&
	    c == '\n'))
		return 0;
	/* A crash tore the last line: end it, so that replay skips it
	 * rather than read it as the start of this record. */
	if (write_line(j->fd, "\n", 1) == -1)
		return mig_seterrno(err, MIG_E_IO, "journal %s/%s", j->dir,
		    JOURNAL_FILE);
	*size += 1;
	return 0;
}

/*
 * Appends r and fdatasyncs it.  On failure *landed (when not NULL) says
 * whether the record is in the journal all the same: its write went in
 * and only the fdatasync failed.  Readers (QUERY, reconciliation) then
 * see it, so a commit record that landed is a commit.
 */
int
journal_append_landed(struct journal *j, const struct jrec *r, int *landed,
    struct mig_err *err)
{
	char	line[JLINE_MAX];
	off_t	size = 0;
	int	n, rc = -1;

	if (landed != NULL)
		*landed = 0;
	if ((n = jrec_format(r, line, sizeof(line))) == -1)
		return mig_seterr(err, MIG_E_INVAL, "journal: record for job "
		    "%016" PRIx64 " cannot be written", r->job);
	if (jlock(j, err) == -1)
		return -1;
	if (jcurrent(j, &size, err) == -1)
		goto out;
	if (write_line(j->fd, line, n) == -1) {
		/* Cut the torn line off so that the next append starts
		 * clean; the lock says nobody appended after it. */
		mig_seterrno(err, MIG_E_IO, "journal %s/%s", j->dir,
		    JOURNAL_FILE);
		if (ftruncate(j->fd, size) == -1)
			mig_log_warn("journal: cannot truncate torn record");
		goto out;
	}
	if (landed != NULL)
		*landed = 1;
	/* Synced under the lock, so that a compaction cannot rename the
	 * file this record is in away between the write and the sync. */
	if (fdatasync(j->fd) == -1) {
		mig_seterrno(err, MIG_E_IO, "journal %s/%s: fdatasync",
		    j->dir, JOURNAL_FILE);
		goto out;
	}
	rc = 0;
 out:
	junlock(j);
	return rc;
}

int
journal_append(struct journal *j, const struct jrec *r, struct mig_err *err)
{
	return journal_append_landed(j, r, NULL, err);
}

/* The last record of each (job, role): what replay and compaction need. */
struct last {
	struct jrec	*v;
	size_t		 n;
};

static int
last_put(struct last *l, const struct jrec *r)
{
	struct jrec	*nv;
	size_t		 i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].job == r->job && l->v[i].role == r->role) {
			l->v[i] = *r;
			return 0;
		}
	if ((nv = reallocarray(l->v, l->n + 1, sizeof(*nv))) == NULL)
		return -1;
	l->v = nv;
	l->v[l->n++] = *r;
	return 0;
}

static int
read_last(int dirfd, const char *dir, struct last *l, struct mig_err *err)
{
	struct stat	 st;
	struct jrec	 r;
	char		*buf, *line, *nl, why[128];
	ssize_t		 n;
	int		 fd, lineno = 0;

	memset(l, 0, sizeof(*l));
	if ((fd = openat(dirfd, JOURNAL_FILE, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		return mig_seterrno(err, MIG_E_IO, "journal %s", dir);
	}
	if (fstat(fd, &st) == -1 || st.st_size > JOURNAL_MAXSZ) {
		close(fd);
		return mig_seterr(err, MIG_E_TOOBIG, "journal %s/%s: larger "
		    "than %d bytes", dir, JOURNAL_FILE, JOURNAL_MAXSZ);
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		close(fd);
		return mig_seterrno(err, MIG_E_NOMEM, "journal");
	}
	n = read(fd, buf, st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return mig_seterrno(err, MIG_E_IO, "journal %s: short read",
		    dir);
	}
	buf[n] = '\0';
	for (line = buf; *line != '\0'; line = nl + 1) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL) {
			mig_log_warnx("journal %s: line %d torn by a crash, "
			    "ignored", dir, lineno);
			break;
		}
		*nl = '\0';
		if (jrec_parse(line, &r, why, sizeof(why)) == -1) {
			mig_log_warnx("journal %s: line %d malformed (%s), ignored",
			    dir, lineno, why);
			continue;
		}
		if (last_put(l, &r) == -1) {
			free(buf);
			free(l->v);
			return mig_seterrno(err, MIG_E_NOMEM, "journal");
		}
	}
	free(buf);
	return 0;
}

/* Calls cb with the last record of every job that did not finish
 * (finished 0), or of every one that finished after since_ms (1). */
static int
each_last(const char *dir, int finished, uint64_t since_ms,
    int (*cb)(const struct jrec *, void *), void *arg, struct mig_err *err)
{
	struct last	l;
	size_t		i;
	int		dirfd, rc = 0;

	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		return mig_seterrno(err, MIG_E_IO, "state directory %s", dir);
	}
	rc = read_last(dirfd, dir, &l, err);
	close(dirfd);
	for (i = 0; rc == 0 && i < l.n; i++)
		if (journal_state_final(l.v[i].state) == finished &&
		    (!finished || l.v[i].time_ms >= since_ms))
			rc = cb(&l.v[i], arg);
	free(l.v);
	return rc;
}

int
journal_replay(const char *dir, int (*cb)(const struct jrec *, void *),
    void *arg, struct mig_err *err)
{
	return each_last(dir, 0, 0, cb, arg, err);
}

int
journal_finished(const char *dir, uint64_t since_ms,
    int (*cb)(const struct jrec *, void *), void *arg, struct mig_err *err)
{
	return each_last(dir, 1, since_ms, cb, arg, err);
}

/*
 * A job's lock, STATE_DIR/job-ID.lock, held by the worker that runs the
 * job from its first record to its exit.  Reconciliation takes it before
 * it settles the job: a worker that outlived its parent relocd (killed
 * alone) still runs the job, and two processes must never settle one
 * job each their own way.  The lock dies with its holder, whatever
 * kills it.  With wait, blocks until the holder is gone.
 */
int
journal_lock_job(const char *dir, uint64_t job, int wait, struct mig_err *err)
{
	char	path[PATH_MAX];
	int	fd;

	snprintf(path, sizeof(path), "%s/job-%016" PRIx64 ".lock", dir, job);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == -1) {
		if (errno == EINTR)
			continue;
		mig_seterrno(err, MIG_E_IO, "%s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Drops the lock; a finished job's file goes (while still locked, so a
 * waiter on it finds the job finished when it gets the lock). */
void
journal_unlock_job(const char *dir, uint64_t job, int fd, int finished)
{
	char	path[PATH_MAX];

	if (fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/job-%016" PRIx64 ".lock", dir, job);
	if (finished)
		unlink(path);
	close(fd);
}

/*
 * The last record, finished or not, of the newest job whose last record
 * match() accepts: 1 and *out when there is one, 0 when none, -1 on error.
 * Newest by time, because a key such as a reservation id may repeat
 * across restarts.
 */
int
journal_lookup(const char *dir, int (*match)(const struct jrec *, void *),
    void *arg, struct jrec *out, struct mig_err *err)
{
	struct last	l;
	size_t		i;
	int		dirfd, found = 0;

	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		return mig_seterrno(err, MIG_E_IO, "state directory %s", dir);
	}
	if (read_last(dirfd, dir, &l, err) == -1) {
		close(dirfd);
		return -1;
	}
	close(dirfd);
	for (i = 0; i < l.n; i++)
		if (match(&l.v[i], arg) && (!found ||
		    l.v[i].time_ms >= out->time_ms)) {
			*out = l.v[i];
			found = 1;
		}
	free(l.v);
	return found;
}

/*
 * A target's finished record is what answers a source that is in doubt
 * about it (indoubt.c: QUERY), and that source may ask only once we are
 * back: a target killed after RECEIVED is settled ABORTED by its next
 * start, or by a worker its dying parent had already spawned, perhaps
 * just before this compaction.  Dropped, the record would leave "no
 * record, no domain": not-known, and the source's guest suspended for an
 * operator.  So such records stay for a day.
 */
static int
compact_keeps(const struct jrec *r, uint64_t now)
{
	if (!journal_state_final(r->state))
		return 1;
	return r->role == JR_TARGET && r->time_ms + JOURNAL_KEEP_MS >
	    now;
}

/*
 * Rewrites the journal with only the last record of each unfinished job,
 * and of each target's job that finished within a day (compact_keeps),
 * atomically: a crash during compaction leaves the old journal.
 */
int
journal_compact(struct journal *j, struct mig_err *err)
{
	char		line[JLINE_MAX];
	struct last	l;
	size_t		i;
	int		fd, n, rc = -1;

	if (jlock(j, err) == -1)
		return -1;
	if (read_last(j->dirfd, j->dir, &l, err) == -1) {
		junlock(j);
		return -1;
	}
	if ((fd = openat(j->dirfd, JOURNAL_TMP,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		mig_seterrno(err, MIG_E_IO, "journal %s/%s", j->dir,
		    JOURNAL_TMP);
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		if (!compact_keeps(&l.v[i], wall_ms()))
			continue;
		if ((n = jrec_format(&l.v[i], line, sizeof(line))) == -1 ||
		    write_line(fd, line, n) == -1) {
			mig_seterrno(err, MIG_E_IO, "journal compaction");
			goto fail;
		}
	}
	if (fsync(fd) == -1 ||
	    renameat(j->dirfd, JOURNAL_TMP, j->dirfd, JOURNAL_FILE) == -1 ||
	    fsync(j->dirfd) == -1) {
		mig_seterrno(err, MIG_E_IO, "journal %s: compaction", j->dir);
		goto fail;
	}
	close(fd);
	/* Every append descriptor, ours and other workers', still points
	 * at the replaced file; each reopens at its next append. */
	rc = 0;
	goto out;
 fail:
	close(fd);
	unlinkat(j->dirfd, JOURNAL_TMP, 0);
 out:
	junlock(j);
	free(l.v);
	return rc;
}
