/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd --import-xend FILE: the relocd.conf equivalent to an
 * xend-config.sxp, printed for the administrator to read and install.
 *
 * xend-config.sxp is a list of s-expressions, "(name value)" each, with
 * '#' comments; a value is a bare word or a quoted string ('...' or
 * "...", backslash escapes as Python's sxp reader took them).  Only the
 * relocation settings have a meaning here; the others are counted and
 * named in a comment, so nothing is silently dropped.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relocd.h"

#define SXP_MAX		(1024 * 1024)
#define SXP_NAME_MAX	64
#define SXP_VALUE_MAX	1024

enum xkind {
	XK_BOOL,	/* yes/no */
	XK_PORT,
	XK_LIST,	/* xend's space-separated string, as a list */
	XK_ADDR,	/* '' (every address), or one address */
	XK_PATH,	/* relative to XEND_CONFIG_DIR, as xend took it */
};

/* xend's relocation settings and their relocd.conf names. */
static const struct {
	const char	*xend;
	const char	*relocd;
	enum xkind	 kind;
} xmap[] = {
	{ "xend-relocation-server", "relocation_server", XK_BOOL },
	{ "xend-relocation-port", "relocation_port", XK_PORT },
	{ "xend-relocation-address", "relocation_address", XK_ADDR },
	{ "xend-relocation-hosts-allow", "relocation_hosts_allow", XK_LIST },
	{ "xend-relocation-ssl-server", "relocation_ssl_server", XK_BOOL },
	{ "xend-relocation-ssl-port", "relocation_ssl_port", XK_PORT },
	{ "xend-relocation-server-ssl-cert-file", "tls_cert", XK_PATH },
	{ "xend-relocation-server-ssl-key-file", "tls_key", XK_PATH },
	{ "xend-relocation-ssl", "relocation_ssl", XK_BOOL },
};
#define NXMAP	(sizeof(xmap) / sizeof(xmap[0]))

struct sxp {
	const char	*file;
	const char	*p;
	int		 line;
};

static void
skip_space(struct sxp *s)
{
	for (;;) {
		if (*s->p == '\n')
			s->line++;
		if (isspace((unsigned char)*s->p))
			s->p++;
		else if (*s->p == '#')
			while (*s->p != '\0' && *s->p != '\n')
				s->p++;
		else
			return;
	}
}

/* A bare word or a quoted string into out; -1 with err. */
static int
atom(struct sxp *s, char *out, size_t cap, struct mig_err *err)
{
	char	q = 0;
	size_t	n = 0;
	int	line = s->line;

	if (*s->p == '\'' || *s->p == '"')
		q = *s->p++;
	for (;;) {
		char	c = *s->p;

		if (c == '\0' || (q == 0 && (isspace((unsigned char)c) ||
		    c == '(' || c == ')')))
			break;
		if (q != 0 && c == q) {
			s->p++;
			q = 0;
			break;
		}
		if (q != 0 && c == '\\' && s->p[1] != '\0') {
			s->p++;
			c = *s->p == 'n' ? '\n' : *s->p == 't' ? '\t' : *s->p;
		}
		if (c == '\n')
			s->line++;
		if (n + 1 >= cap)
			return mig_seterr(err, MIG_E_INVAL, "%s:%d: a value "
			    "longer than %zu bytes", s->file, line, cap - 1);
		out[n++] = c;
		s->p++;
	}
	if (q != 0)
		return mig_seterr(err, MIG_E_INVAL, "%s:%d: a string that is "
		    "not closed", s->file, line);
	out[n] = '\0';
	return 0;
}

/* One "(name value)" setting; 0 at the end of the file. */
static int
setting(struct sxp *s, char *name, char *value, int *line,
    struct mig_err *err)
{
	skip_space(s);
	if (*s->p == '\0')
		return 0;
	*line = s->line;
	if (*s->p != '(')
		return mig_seterr(err, MIG_E_INVAL, "%s:%d: expected "
		    "\"(name value)\", found `%c'", s->file, s->line, *s->p);
	s->p++;
	skip_space(s);
	if (atom(s, name, SXP_NAME_MAX, err) == -1)
		return -1;
	if (name[0] == '\0')
		return mig_seterr(err, MIG_E_INVAL, "%s:%d: a setting without "
		    "a name", s->file, *line);
	skip_space(s);
	value[0] = '\0';
	/* A nested list (xend's (xen-api-server ((...)))) is no
	 * relocation setting: skipped whole, its value left empty. */
	if (*s->p == '(') {
		int	depth = 0;

		do {
			if (*s->p == '(')
				depth++;
			else if (*s->p == ')')
				depth--;
			else if (*s->p == '\n')
				s->line++;
			else if (*s->p == '\0')
				break;
			s->p++;
		} while (depth > 0);
		skip_space(s);
	} else if (*s->p != ')' && atom(s, value, SXP_VALUE_MAX, err) == -1)
		return -1;
	skip_space(s);
	if (*s->p != ')')
		return mig_seterr(err, MIG_E_INVAL, "%s:%d: %s: expected one "
		    "value and `)'", s->file, *line, name);
	s->p++;
	return 1;
}

/* xend's booleans: 1, 0, or -1 for neither. */
static int
sxp_bool(const char *v)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		return 1;
	if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0)
		return 0;
	return -1;
}

/* An xl.conf string: double quotes, '\' and '"' escaped; dir (if not
 * NULL) and a '/' before v. */
static void
put_string(FILE *out, const char *dir, const char *v, size_t len)
{
	size_t	i;

	fputc('"', out);
	if (dir != NULL)
		fprintf(out, "%s/", dir);
	for (i = 0; i < len; i++) {
		if (v[i] == '"' || v[i] == '\\')
			fputc('\\', out);
		fputc(v[i], out);
	}
	fputc('"', out);
}

static int
put_setting(FILE *out, const char *file, int line, size_t k,
    const char *v, struct mig_err *err)
{
	const char	*w;
	size_t		 len, n = 0;
	int		 yes;

	switch (xmap[k].kind) {
	case XK_BOOL:
		if ((yes = sxp_bool(v)) == -1)
			return mig_seterr(err, MIG_E_INVAL, "%s:%d: %s: `%s' is "
			    "not yes or no", file, line, xmap[k].xend, v);
		fprintf(out, "%s = %d\n", xmap[k].relocd, yes);
		break;
	case XK_PORT:
		if (*v == '\0' || strspn(v, "0123456789") != strlen(v) ||
		    strlen(v) > 5 || atoi(v) < 1 || atoi(v) > 65535)
			return mig_seterr(err, MIG_E_INVAL, "%s:%d: %s: `%s' is "
			    "not a port", file, line, xmap[k].xend, v);
		fprintf(out, "%s = %d\n", xmap[k].relocd, atoi(v));
		break;
	case XK_ADDR:
		if (*v == '\0') {
			fprintf(out, "# %s '': every address, relocd's "
			    "default\n", xmap[k].xend);
			break;
		}
		fprintf(out, "%s = [ ", xmap[k].relocd);
		put_string(out, NULL, v, strlen(v));
		fprintf(out, " ]\n");
		break;
	case XK_LIST:
		if (*v == '\0') {
			/* xend's empty list admitted anyone; relocd's admits
			 * only this host: say so rather than widen it. */
			fprintf(out, "# %s '': xend admitted every host; relocd "
			    "admits only this one\n# until the hosts are named "
			    "here:\n#%s = [ \"node[0-9]+\\\\.example\\\\.org\" ]\n",
			    xmap[k].xend, xmap[k].relocd);
			break;
		}
		fprintf(out, "%s = [ ", xmap[k].relocd);
		for (w = v; *w != '\0'; w += len) {
			w += strspn(w, " \t\n");
			if ((len = strcspn(w, " \t\n")) == 0)
				break;
			if (n++ > 0)
				fprintf(out, ", ");
			put_string(out, NULL, w, len);
		}
		fprintf(out, " ]\n");
		break;
	case XK_PATH:
		if (*v == '\0')
			return mig_seterr(err, MIG_E_INVAL, "%s:%d: %s: an "
			    "empty file name", file, line, xmap[k].xend);
		fprintf(out, "%s = ", xmap[k].relocd);
		put_string(out, *v == '/' ? NULL : XEND_CONFIG_DIR, v,
		    strlen(v));
		fputc('\n', out);
		break;
	}
	return 0;
}

int
xend_convert(const char *file, const char *text, FILE *out,
    struct mig_err *err)
{
	struct sxp	 s = { file, text, 1 };
	char		 name[SXP_NAME_MAX], value[SXP_VALUE_MAX];
	char		 other[512] = "";
	int		 seen[NXMAP] = { 0 }, line, rc, nother = 0;
	int		 tls = 0, plain_said = 0;
	size_t		 k;

	fprintf(out, "# relocd.conf from %s (relocd --import-xend)\n", file);
	while ((rc = setting(&s, name, value, &line, err)) == 1) {
		for (k = 0; k < NXMAP; k++)
			if (strcmp(name, xmap[k].xend) == 0)
				break;
		if (k == NXMAP) {
			if (nother++ < 8)
				snprintf(other + strlen(other), sizeof(other) -
				    strlen(other), "%s%s", nother > 1 ? " " : "",
				    name);
			continue;
		}
		if (seen[k])
			return mig_seterr(err, MIG_E_INVAL, "%s:%d: %s a second "
			    "time (line %d)", file, line, name, seen[k]);
		seen[k] = line;
		if (put_setting(out, file, line, k, value, err) == -1)
			return -1;
		/* TLS in any part: relocd's needs what xend's did not */
		if (xmap[k].kind == XK_PATH ||
		    (strcmp(xmap[k].relocd, "relocation_ssl_server") == 0 &&
		    sxp_bool(value) == 1))
			tls = 1;
		if (strcmp(xmap[k].relocd, "relocation_server") == 0)
			plain_said = 1;
	}
	if (rc == -1)
		return -1;
	if (!plain_said)
		fprintf(out, "# xend-relocation-server not set: no plaintext "
		    "port, xend's default and relocd's\n");
	if (tls)
		fprintf(out, "# xend checked no peer's certificate; relocd "
		    "does, both ways: name the CA\n# that signed every "
		    "host's certificate (required for TLS):\n#tls_ca = "
		    "\"%s/ca.pem\"\n", XEND_CONFIG_DIR);
	if (nother > 0)
		fprintf(out, "# %d xend setting%s without a relocd "
		    "equivalent, not carried over: %s%s\n", nother,
		    nother == 1 ? "" : "s", other, nother > 8 ? " ..." : "");
	return 0;
}

int
xend_import(const char *file, FILE *out, struct mig_err *err)
{
	FILE	*f, *mem;
	char	*buf, *text = NULL;
	size_t	 n, len = 0;
	int	 rc;

	if ((f = fopen(file, "re")) == NULL)
		return mig_seterrno(err, errno == ENOENT ? MIG_E_NOTFOUND :
		    MIG_E_IO, "%s", file);
	if ((buf = malloc(SXP_MAX + 1)) == NULL) {
		fclose(f);
		return mig_seterrno(err, MIG_E_NOMEM, "%s", file);
	}
	n = fread(buf, 1, SXP_MAX + 1, f);
	rc = ferror(f);
	fclose(f);
	if (rc) {
		free(buf);
		return mig_seterr(err, MIG_E_IO, "%s: read error", file);
	}
	if (n > SXP_MAX) {
		free(buf);
		return mig_seterr(err, MIG_E_INVAL, "%s: larger than %d bytes: "
		    "not an xend-config.sxp", file, SXP_MAX);
	}
	buf[n] = '\0';
	if (strlen(buf) != n) {
		free(buf);
		return mig_seterr(err, MIG_E_INVAL, "%s: a NUL byte: not an "
		    "xend-config.sxp", file);
	}
	/* Printed whole or not at all: half a configuration is a trap. */
	if ((mem = open_memstream(&text, &len)) == NULL) {
		free(buf);
		return mig_seterrno(err, MIG_E_NOMEM, "%s", file);
	}
	rc = xend_convert(file, buf, mem, err);
	free(buf);
	if (fclose(mem) != 0 && rc == 0)
		rc = mig_seterrno(err, MIG_E_NOMEM, "%s", file);
	if (rc == 0 && fwrite(text, 1, len, out) != len)
		rc = mig_seterrno(err, MIG_E_IO, "standard output");
	free(text);
	return rc;
}
