/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A domain configuration the operator gives in place of the domain's own:
 * xl migrate -C FILE, xl save's and xl restore's [cfg] (disk paths that
 * differ on the target, a restore on another host).  It is libxl's JSON,
 * the form the stream carries and the one "xl create -n FILE" prints from
 * an xl.cfg: xl.cfg's syntax belongs to xl's own parser, which no library
 * offers, and a second parser of ours would judge some files otherwise.
 *
 * The file is read and checked here, before anything is paused, with the
 * backend's parser, and given the domain's uuid if it names none; on a
 * migration the target then judges it with its
 * receive policy exactly as it judges a domain's own configuration.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mig/domcfg.h"
#include "mig/hv.h"
#include "reloc.h"

/* Larger than any configuration a RESERVE can carry (MIG_FRAME_CTRL_MAX):
 * a bigger file is not a domain's configuration. */
#define CFG_FILE_MAX	(1024 * 1024)

static char *
slurp(const char *path, struct mig_err *err)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		mig_seterrno(err, errno == ENOENT ? MIG_E_NOTFOUND : MIG_E_IO,
		    "configuration %s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		mig_seterrno(err, MIG_E_IO, "configuration %s", path);
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CFG_FILE_MAX) {
		mig_seterr(err, MIG_E_INVAL, "configuration %s: not a regular "
		    "file of at most %d bytes", path, CFG_FILE_MAX);
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "configuration %s", path);
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* read(2) of 0 before the size fstat gave: errno
			 * says nothing, so say what happened. */
			if (n == 0)
				mig_seterr(err, MIG_E_IO, "configuration %s: "
				    "shorter than its size (changed while "
				    "read)", path);
			else
				mig_seterrno(err, MIG_E_IO, "configuration %s",
				    path);
			free(buf);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (strlen(buf) != got) {
		mig_seterr(err, MIG_E_INVAL, "configuration %s: a NUL byte: "
		    "not a text file", path);
		free(buf);
		return NULL;
	}
	return buf;
}

int
cfg_override(struct mig_hv *hv, const char *path, const char *orig,
    int same_name, char **json, char *name, size_t namelen,
    struct mig_err *err)
{
	struct mig_domcfg	 was, now;
	uint64_t		 kib_was, kib_now;
	char			*buf, *with, u[37];
	const char		*p;

	*json = NULL;
	if ((buf = slurp(path, err)) == NULL)
		return -1;
	p = buf + strspn(buf, " \t\r\n");
	if (*p != '{') {
		mig_seterr(err, MIG_E_INVAL, "configuration %s is not libxl "
		    "JSON; from an xl.cfg, make it with: xl create -n %s > "
		    "%s.json", path, path, path);
		free(buf);
		return -1;
	}
	memset(&was, 0, sizeof(was));
	memset(&now, 0, sizeof(now));
	if (mig_hv_config_describe(hv, buf, &now, err) == -1 ||
	    mig_hv_config_memory(hv, buf, &kib_now, err) == -1 ||
	    mig_hv_config_describe(hv, orig, &was, err) == -1 ||
	    mig_hv_config_memory(hv, orig, &kib_was, err) == -1)
		goto fail;
	/* The stream holds the memory the domain has: a configuration
	 * giving it other figures cannot be built from it. */
	if (kib_now != kib_was) {
		mig_seterr(err, MIG_E_INVAL, "configuration %s gives the "
		    "domain %" PRIu64 " KiB, not its %" PRIu64 " KiB", path,
		    kib_now, kib_was);
		goto fail;
	}
	/* The journal, the target's RESERVE and the operator all name the
	 * domain by the name it has: a migration or save keeps it. */
	if (same_name && now.name != NULL && was.name != NULL &&
	    strcmp(now.name, was.name) != 0) {
		mig_seterr(err, MIG_E_INVAL, "configuration %s names domain "
		    "%.64s, not %.64s", path, now.name, was.name);
		goto fail;
	}
	/* The domain keeps its uuid, by which the target's policy and the
	 * journals know it: a file names none (xl.cfg rarely does), or the
	 * same one. */
	if (now.has_uuid && was.has_uuid &&
	    memcmp(now.uuid, was.uuid, 16) != 0) {
		mig_hv_uuid_format(now.uuid, u);
		mig_seterr(err, MIG_E_INVAL, "configuration %s gives uuid %s: "
		    "not the domain's", path, u);
		goto fail;
	}
	if (!now.has_uuid && was.has_uuid) {
		if ((with = mig_hv_config_set_uuid(hv, buf, was.uuid,
		    err)) == NULL)
			goto fail;
		free(buf);
		buf = with;
	}
	if (name != NULL)
		snprintf(name, namelen, "%s", now.name != NULL ? now.name :
		    was.name != NULL ? was.name : "");
	mig_domcfg_free(&was);
	mig_domcfg_free(&now);
	*json = buf;
	return 0;
 fail:
	mig_domcfg_free(&was);
	mig_domcfg_free(&now);
	free(buf);
	return -1;
}
