/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domains relocd looks after (their monitor, as xl create's process
 * is for its domain): one file per domain, STATE_DIR/owned/UUID,
 *
 *	domid 7
 *	state watching | restarting | preserved
 *	name web1
 *	config				(restarting only: the rest is the
 *	{ ... libxl JSON ... }		 configuration to create it from)
 *
 * written whole to a temporary file, synced and renamed, so that a
 * crash leaves the old entry or the new one.  The files outlive relocd:
 * a restarted relocd attaches to each domain again, and finishes a
 * restart it was in the middle of from the configuration kept here.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/hv.h"
#include "mig/log.h"
#include "reloc.h"

#define OWNED_DIR	"owned"
#define OWNED_MAX	(4 * 1024 * 1024)	/* a configuration and more */

static const char *const state_names[] = {
	[OWNED_WATCHING] = "watching",
	[OWNED_RESTARTING] = "restarting",
	[OWNED_PRESERVED] = "preserved",
};

const char *
owned_state_name(int s)
{
	return s >= 0 && s <= OWNED_PRESERVED ? state_names[s] : "unknown";
}

int
owned_path(const char *state_dir, const char *uuid, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/" OWNED_DIR "%s%s", state_dir,
	    uuid != NULL ? "/" : "", uuid != NULL ? uuid : "") < len ? 0 : -1;
}

/* Only a canonical uuid names an entry: anything else in the folder
 * (a temporary file, an editor's backup) is not one. */
static int
is_uuid(const char *s)
{
	uint8_t	u[16];
	char	back[37];

	if (mig_hv_uuid_parse(s, u) == -1)
		return 0;
	mig_hv_uuid_format(u, back);
	return strcmp(back, s) == 0;
}

void
owned_clear(struct owned *o)
{
	free(o->json);
	memset(o, 0, sizeof(*o));
}

static int
sync_dir(const char *dir, struct mig_err *err)
{
	int	fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", dir);
	if (fsync(fd) == -1)
		rc = mig_seterrno(err, MIG_E_IO, "%s", dir);
	close(fd);
	return rc;
}

static void
owned_fill(FILE *f, const void *arg)
{
	const struct owned	*o = arg;

	fprintf(f, "domid %" PRIu32 "\nstate %s\nname %s\n", o->domid,
	    owned_state_name(o->state), o->name);
	if (o->state == OWNED_RESTARTING && o->json != NULL)
		fprintf(f, "config\n%s", o->json);
}

int
owned_put(const char *state_dir, const struct owned *o, struct mig_err *err)
{
	char	 dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 48];

	if (!is_uuid(o->uuid) || strchr(o->name, '\n') != NULL)
		return mig_seterr(err, MIG_E_INVAL, "owned domain: bad uuid "
		    "or name");
	if (owned_path(state_dir, NULL, dir, sizeof(dir)) == -1 ||
	    owned_path(state_dir, o->uuid, path, sizeof(path)) == -1)
		return mig_seterr(err, MIG_E_INVAL, "state directory %s: path "
		    "too long", state_dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return mig_seterrno(err, MIG_E_IO, "%s", dir);
	snprintf(tmp, sizeof(tmp), "%s/.%s", dir, o->uuid);
	if (replace_file(path, tmp, 1, owned_fill, o, err) == -1)
		return -1;
	return sync_dir(dir, err);
}

int
owned_adopt(const char *state_dir, const char *uuid, uint32_t domid,
    const char *name, struct mig_err *err)
{
	struct owned	o;

	memset(&o, 0, sizeof(o));
	snprintf(o.uuid, sizeof(o.uuid), "%s", uuid);
	snprintf(o.name, sizeof(o.name), "%s", name);
	o.domid = domid;
	o.state = OWNED_WATCHING;
	return owned_put(state_dir, &o, err);
}

static int
parse(const char *uuid, char *buf, struct owned *o, struct mig_err *err)
{
	char		*line, *next, *end;
	unsigned long	 v;
	int		 i, seen = 0;

	memset(o, 0, sizeof(*o));
	snprintf(o->uuid, sizeof(o->uuid), "%s", uuid);
	o->state = -1;
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "domid ", 6) == 0) {
			errno = 0;
			v = strtoul(line + 6, &end, 10);
			if (errno != 0 || *end != '\0' || v > UINT32_MAX)
				break;
			o->domid = (uint32_t)v;
			seen |= 1;
		} else if (strncmp(line, "state ", 6) == 0) {
			for (i = 0; i <= OWNED_PRESERVED; i++)
				if (strcmp(line + 6, state_names[i]) == 0)
					o->state = i;
			seen |= 2;
		} else if (strncmp(line, "name ", 5) == 0) {
			if (strlen(line + 5) >= sizeof(o->name))
				break;
			memcpy(o->name, line + 5, strlen(line + 5) + 1);
			seen |= 4;
		} else if (strcmp(line, "config") == 0) {
			if (next != NULL && (o->json = strdup(next)) == NULL)
				return mig_seterrno(err, MIG_E_NOMEM, "owned "
				    "domain %s", uuid);
			break;
		} else
			break;
	}
	if (seen != 7 || o->state == -1 || (o->state == OWNED_RESTARTING &&
	    o->json == NULL)) {
		owned_clear(o);
		return mig_seterr(err, MIG_E_CORRUPT, "owned domain %s: "
		    "unreadable entry", uuid);
	}
	return 0;
}

int
owned_get(const char *state_dir, const char *uuid, struct owned *o,
    struct mig_err *err)
{
	char		 path[PATH_MAX], *buf;
	struct stat	 st;
	ssize_t		 n;
	int		 fd, rc;

	memset(o, 0, sizeof(*o));
	if (!is_uuid(uuid) || owned_path(state_dir, uuid, path,
	    sizeof(path)) == -1)
		return mig_seterr(err, MIG_E_INVAL, "bad uuid %s", uuid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? mig_seterr(err, MIG_E_NOTFOUND,
		    "relocd does not look after %s", uuid) :
		    mig_seterrno(err, MIG_E_IO, "%s", path);
	if (fstat(fd, &st) == -1 || st.st_size > OWNED_MAX) {
		close(fd);
		return mig_seterr(err, MIG_E_CORRUPT, "%s: unreadable", path);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return mig_seterrno(err, MIG_E_NOMEM, "%s", path);
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	}
	buf[n] = '\0';
	rc = parse(uuid, buf, o, err);
	free(buf);
	return rc;
}

int
owned_drop(const char *state_dir, const char *uuid, struct mig_err *err)
{
	char	dir[PATH_MAX], path[PATH_MAX];

	if (owned_path(state_dir, NULL, dir, sizeof(dir)) == -1 ||
	    owned_path(state_dir, uuid, path, sizeof(path)) == -1)
		return mig_seterr(err, MIG_E_INVAL, "bad uuid %s", uuid);
	if (unlink(path) == -1 && errno != ENOENT)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	return sync_dir(dir, err);
}

/*
 * Calls fn for each entry; an unreadable one is logged and skipped (it
 * stays for an operator), never taken for a domain to act on.  fn
 * returning -1 stops the scan.
 */
int
owned_scan(const char *state_dir, int (*fn)(const struct owned *, void *),
    void *arg, struct mig_err *err)
{
	char		 dir[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	struct owned	 o;
	struct mig_err	 e;
	int		 rc = 0;

	if (owned_path(state_dir, NULL, dir, sizeof(dir)) == -1)
		return mig_seterr(err, MIG_E_INVAL, "state directory %s: path "
		    "too long", state_dir);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : mig_seterrno(err, MIG_E_IO, "%s",
		    dir);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!is_uuid(de->d_name))
			continue;
		if (owned_get(state_dir, de->d_name, &o, &e) == -1) {
			if (e.code != MIG_E_NOTFOUND)	/* gone meanwhile */
				mig_log_warnx("%s", e.msg);
			continue;
		}
		rc = fn(&o, arg);
		owned_clear(&o);
	}
	closedir(d);
	return rc;
}
