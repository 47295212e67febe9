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

#include "reloc.h"
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
args_uint(const char *what, const char *s, uint64_t min, uint64_t max,
    uint64_t *out, struct mig_err *err)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	if (*s >= '0' && *s <= '9')
		v = strtoull(s, &end, 10);
	else
		end = (char *)s;
	if (end == s || *end != '\0' || errno != 0 || v < min || v > max)
		return mig_seterr(err, MIG_E_INVAL, "%s: '%s' is not a number "
		    "from %llu to %llu", what, s, (unsigned long long)min,
		    (unsigned long long)max);
	*out = v;
	return 0;
}

/* "100M", "1G", "50MB/s": relocd.conf's size syntax, bytes per second. */
int
args_rate(const char *what, const char *s, uint64_t *rate,
    struct mig_err *err)
{
	if (parse_size(s, rate) == -1 || *rate == 0)
		return mig_seterr(err, MIG_E_INVAL, "%s: '%s' is not a rate "
		    "(e.g. 100M)", what, s);
	return 0;
}

int
args_copy(const char *what, const char *s, char *dst, size_t cap,
    struct mig_err *err)
{
	size_t	n = strlen(s);

	if (n == 0 || n >= cap)
		return mig_seterr(err, MIG_E_INVAL, "%s: '%.40s%s' must be 1 "
		    "to %zu bytes", what, s, n > 40 ? "..." : "", cap - 1);
	memcpy(dst, s, n + 1);
	return 0;
}

int
args_path(const char *what, const char *path, char *dst, size_t cap,
    struct mig_err *err)
{
	char	cwd[PATH_MAX];
	int	n;

	if (*path == '\0')
		return mig_seterr(err, MIG_E_INVAL, "%s: empty file name", what);
	if (path[0] == '/')
		return args_copy(what, path, dst, cap, err);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return mig_seterrno(err, MIG_E_IO, "%s: %s: current directory",
		    what, path);
	n = snprintf(dst, cap, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd,
	    path);
	if (n < 0 || (size_t)n >= cap)
		return mig_seterr(err, MIG_E_INVAL, "%s: %s: path longer than "
		    "%zu bytes", what, path, cap - 1);
	return 0;
}

/* Stores v in the integer field at f, of size bytes (XR_AT): 1, 2, 4 or 8,
 * which test_xlargs checks of every table. */
static void
store(void *f, size_t size, uint64_t v)
{
	uint8_t		v8 = (uint8_t)v;
	uint16_t	v16 = (uint16_t)v;
	uint32_t	v32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(f, &v8, 1);
		break;
	case 2:
		memcpy(f, &v16, 2);
		break;
	case 4:
		memcpy(f, &v32, 4);
		break;
	case 8:
		memcpy(f, &v, 8);
		break;
	}
}

static uint64_t
load(const void *f, size_t size)
{
	uint8_t		v8;
	uint16_t	v16;
	uint32_t	v32;
	uint64_t	v = 0;

	switch (size) {
	case 1:
		memcpy(&v8, f, 1);
		return v8;
	case 2:
		memcpy(&v16, f, 2);
		return v16;
	case 4:
		memcpy(&v32, f, 4);
		return v32;
	case 8:
		memcpy(&v, f, 8);
		break;
	}
	return v;
}

static int
args_set(const struct xr_cmd *c, const struct xr_opt *o, const char *val,
    void *a, struct mig_err *err)
{
	char	 what[64];
	char	*f = (char *)a + o->off;
	uint64_t v = 0;
	int	 rc = 0;

	if (o->take != NULL)
		return o->take(a, val, err);
	snprintf(what, sizeof(what), "%s: --%s", c->name, o->name);
	switch (o->kind) {
	case XA_NONE:
		v = (load(f, o->size) & ~o->clear) | o->set;
		break;
	case XA_STRING:
		return args_copy(what, val, f, o->size, err);
	case XA_FILE:
		return args_path(what, val, f, o->size, err);
	case XA_PORT:
		rc = args_uint(what, val, 1, 65535, &v, err);
		break;
	case XA_RATE:
		rc = args_rate(what, val, &v, err);
		break;
	case XA_SIZE:
		if (parse_size(val, &v) == -1 || v < o->min || v > o->max)
			rc = mig_seterr(err, MIG_E_INVAL, "%s: '%s' is not a "
			    "size from %llu to %llu bytes (e.g. 4000M)", what,
			    val, (unsigned long long)o->min,
			    (unsigned long long)o->max);
		break;
	case XA_MS:
	case XA_COUNT:
		rc = args_uint(what, val, o->min, o->max, &v, err);
		break;
	}
	if (rc == 0)
		store(f, o->size, v);
	return rc;
}

int
args_parse(const struct xr_cmd *c, int argc, char **argv, void *a,
    bool *help, struct mig_err *err)
{
	/* getopt returns a short option as its letter, a long one as
	 * O_FIRST + its index in c->opts: above every letter. */
	enum { O_HELP = 0x100, O_FIRST };
	struct option		 lo[XR_OPTS_MAX + 2];
	const struct xr_opt	*o;
	char			 so[2 * XR_OPTS_MAX + 2], *p = so;
	size_t			 n = 0, i;
	int			 ch;

	*help = false;
	if (c->in_order)
		*p++ = '+';
	for (o = c->opts; o != NULL && o->name != NULL; o++, n++) {
		/* A table too long is the programmer's error, found by the
		 * tests, which parse with every table. */
		if (n == XR_OPTS_MAX)
			return mig_seterr(err, MIG_E_INVAL, "%s: more than %d "
			    "options", c->name, XR_OPTS_MAX);
		lo[n].name = o->name;
		lo[n].has_arg = o->kind == XA_NONE ? no_argument :
		    required_argument;
		lo[n].flag = NULL;
		lo[n].val = O_FIRST + (int)n;
		if (o->letter != 0) {
			*p++ = o->letter;
			if (o->kind != XA_NONE)
				*p++ = ':';
		}
	}
	*p = '\0';
	lo[n] = (struct option){ "help", no_argument, NULL, O_HELP };
	memset(&lo[n + 1], 0, sizeof(lo[n + 1]));
	args_begin();
	while ((ch = args_next(c->name, argc, argv, so, lo, err)) != -1) {
		if (ch == '?')
			return -1;
		if (ch == O_HELP) {
			*help = true;
			return argc;
		}
		if (ch >= O_FIRST)
			i = (size_t)(ch - O_FIRST);
		else
			for (i = 0; c->opts[i].letter != ch; i++)
				;
		if (args_set(c, &c->opts[i], optarg, a, err) == -1)
			return -1;
	}
	n = (size_t)(argc - optind);
	if (c->operands != NULL && ((int)n < c->min_args ||
	    (c->max_args >= 0 && (int)n > c->max_args)))
		return mig_seterr(err, MIG_E_INVAL, "%s: expected %s, got %zu "
		    "argument%s", c->name, c->operands, n, n == 1 ? "" : "s");
	return optind;
}

void
args_help(FILE *f, const struct xr_opt *o)
{
	char	spec[64], letter[8];

	for (; o != NULL && o->name != NULL; o++) {
		snprintf(letter, sizeof(letter), "-%c, ", o->letter);
		snprintf(spec, sizeof(spec), "%s--%s%s%s", o->letter != 0 ?
		    letter : "", o->name, o->arg != NULL ? " " : "",
		    o->arg != NULL ? o->arg : "");
		fprintf(f, "  %-19s %s\n", spec, o->help);
	}
}
