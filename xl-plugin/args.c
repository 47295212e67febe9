/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Option parsing shared by the commands.  getopt's own messages are turned
 * off: they go straight to stderr, cannot be tested, and do not name the
 * command; ours are one line each, returned in a mig_err.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relocd.h"
#include "xl-reloc.h"

void
args_begin(void)
{
	/* 0, not 1: glibc then also forgets the state of a previous scan. */
	optind = 0;
	opterr = 0;
}

int
args_next(const char *cmd, int argc, char **argv, const char *shortopts,
    const struct option *longopts, struct mig_err *err)
{
	char	 opts[64];
	int	 c;

	/* A leading ':' makes a missing value ':' rather than '?'. */
	snprintf(opts, sizeof(opts), "%s%s", shortopts[0] == '+' ? "+:" : ":",
	    shortopts + (shortopts[0] == '+'));
	c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c == ':') {
		mig_seterr(err, MIG_E_INVAL, "%s: option '%s' needs a value",
		    cmd, argv[optind - 1]);
		return '?';
	}
	if (c == '?') {
		if (optopt != 0 && !(optind > 0 && optind <= argc &&
		    strncmp(argv[optind - 1], "--", 2) == 0))
			mig_seterr(err, MIG_E_INVAL, "%s: unknown option '-%c'",
			    cmd, optopt);
		else
			mig_seterr(err, MIG_E_INVAL, "%s: unknown option '%s'",
			    cmd, argv[optind - 1]);
		return '?';
	}
	return c;
}

int
args_uint(const char *cmd, const char *opt, const char *s, uint64_t min,
    uint64_t max, uint64_t *out, struct mig_err *err)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	if (*s >= '0' && *s <= '9')
		v = strtoull(s, &end, 10);
	else
		end = (char *)s;
	if (end == s || *end != '\0' || errno != 0 || v < min || v > max)
		return mig_seterr(err, MIG_E_INVAL, "%s: %s '%s' is not a "
		    "number from %llu to %llu", cmd, opt, s,
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

int
args_port(const char *cmd, const char *s, uint16_t *port,
    struct mig_err *err)
{
	uint64_t	v;

	if (args_uint(cmd, "port", s, 1, 65535, &v, err) == -1)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "100M", "1G", "50MB/s": relocd.conf's size syntax, bytes per second. */
int
args_rate(const char *cmd, const char *s, uint64_t *rate,
    struct mig_err *err)
{
	if (parse_size(s, rate) == -1 || *rate == 0)
		return mig_seterr(err, MIG_E_INVAL, "%s: bad RATE '%s': give "
		    "bytes per second, e.g. 100M or 1G", cmd, s);
	return 0;
}

int
args_copy(const char *cmd, const char *what, char *dst, size_t cap,
    struct mig_err *err)
{
	size_t	n = strlen(what);

	if (n == 0 || n >= cap)
		return mig_seterr(err, MIG_E_INVAL, "%s: '%.40s%s' must be 1 "
		    "to %zu bytes", cmd, what, n > 40 ? "..." : "", cap - 1);
	memcpy(dst, what, n + 1);
	return 0;
}

int
args_path(const char *cmd, const char *path, char *dst, size_t cap,
    struct mig_err *err)
{
	char	cwd[PATH_MAX];
	int	n;

	if (*path == '\0')
		return mig_seterr(err, MIG_E_INVAL, "%s: empty file name", cmd);
	if (path[0] == '/')
		return args_copy(cmd, path, dst, cap, err);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return mig_seterrno(err, MIG_E_IO, "%s: %s: current directory",
		    cmd, path);
	n = snprintf(dst, cap, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd,
	    path);
	if (n < 0 || (size_t)n >= cap)
		return mig_seterr(err, MIG_E_INVAL, "%s: %s: path longer than "
		    "%zu bytes", cmd, path, cap - 1);
	return 0;
}
