/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd.conf: xl.conf syntax ("key = value", one setting per line),
 * parsed by libxlutil like every other Xen toolstack file.
 *
 * libxlutil neither reports the line of a setting nor lexes the hyphens of
 * xend's key names, and it cannot list the keys it read, so a pre-scan of
 * the text does three things first: it records the line of every key (so a
 * bad value is reported as FILE:LINE), refuses keys relocd does not know (a
 * misspelt security setting must not be silently ignored), and rewrites the
 * hyphens of xend's "xend-relocation-*" aliases to underscores.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxlutil.h>

#include "mig/log.h"
#include "reloc.h"
#include "mig/tls.h"

#define CONF_MAX_SIZE	(1024 * 1024)
#define KEY_MAX		64

enum ktype {
	K_BOOL,		/* 0/1, yes/no, on/off, true/false */
	K_UINT,		/* decimal, bounded by min..max */
	K_SIZE,		/* bytes, K/M/G suffixes (powers of 1024) */
	K_PATH,		/* absolute path */
	K_LIST,		/* list of strings, or one space-separated string */
};

struct key {
	const char	*name;
	enum ktype	 type;
	size_t		 off;
	uint64_t	 min, max;
	const char	*alias_of;	/* set for xend's names: warn, then use */
};

#define O(f)	offsetof(struct relocd_conf, f)
static const struct key keys[] = {
	{ "relocation_server",		K_BOOL, O(plain_enabled), 0, 1, NULL },
	{ "relocation_port",		K_UINT, O(plain_port), 1, 65535, NULL },
	{ "relocation_address",		K_LIST, O(listen), 0, 0, NULL },
	{ "relocation_hosts_allow",	K_LIST, O(hosts_allow), 0, 0, NULL },
	{ "relocation_ssl_server",	K_BOOL, O(tls_enabled), 0, 1, NULL },
	{ "relocation_ssl_port",	K_UINT, O(tls_port), 1, 65535, NULL },
	{ "relocation_ssl",		K_BOOL, O(tls_client), 0, 1, NULL },
	{ "tls_cert",			K_PATH, O(tls_cert), 0, 0, NULL },
	{ "tls_key",			K_PATH, O(tls_key), 0, 0, NULL },
	{ "tls_ca",			K_PATH, O(tls_ca), 0, 0, NULL },
	{ "tls_crl",			K_PATH, O(tls_crl), 0, 0, NULL },
	{ "tls_peers_allow",		K_LIST, O(tls_peers_allow), 0, 0, NULL },
	{ "tls_require_client_cert",	K_BOOL, O(tls_require_client_cert), 0, 1, NULL },
	{ "tls_ktls",			K_BOOL, O(tls_ktls), 0, 1, NULL },
	{ "state_dir",			K_PATH, O(state_dir), 0, 0, NULL },
	{ "control_socket",		K_PATH, O(control_socket), 0, 0, NULL },
	{ "pid_file",			K_PATH, O(pid_file), 0, 0, NULL },
	{ "max_incoming",		K_UINT, O(max_incoming), 1, 64, NULL },
	{ "max_outgoing",		K_UINT, O(max_outgoing), 1, 64, NULL },
	{ "bandwidth_limit",		K_SIZE, O(bandwidth_limit), 0, 0, NULL },
	{ "bandwidth_total",		K_SIZE, O(bandwidth_total), 0, 0, NULL },
	{ "compression",		K_BOOL, O(compression), 0, 1, NULL },
	{ "direct_stream",		K_BOOL, O(direct_stream), 0, 1, NULL },
	{ "storage_live",		K_BOOL, O(storage_live), 0, 1, NULL },
	{ "compression_level",		K_UINT, O(compression_level), 1, 19, NULL },
	{ "max_downtime_ms",		K_UINT, O(max_downtime_ms), 0, 600000, NULL },
	{ "auto_converge",		K_BOOL, O(auto_converge), 0, 1, NULL },
	{ "downtime_abort",		K_BOOL, O(downtime_abort), 0, 1, NULL },
	{ "downtime_rounds",		K_UINT, O(downtime_rounds), 1, 5, NULL },
	{ "reservation_ttl",		K_UINT, O(reservation_ttl), 5, 3600, NULL },
	{ "peer_timeout",		K_UINT, O(peer_timeout), 5, 3600, NULL },
	{ "preauth_timeout",		K_UINT, O(preauth_timeout), 2, 600, NULL },
	{ "max_preauth",		K_UINT, O(max_preauth), 1, 256, NULL },
	{ "max_preauth_per_host",	K_UINT, O(max_preauth_per_host), 1, 256, NULL },
	{ "max_pending_per_host",	K_UINT, O(max_pending_per_host), 1, RELOCD_PENDING_MAX, NULL },
	{ "allow_localhost_migration",	K_BOOL, O(allow_localhost), 0, 1, NULL },
	{ "spare_worker",		K_BOOL, O(spare_worker), 0, 1, NULL },
	{ "receive_policy",		K_BOOL, O(recv.enabled), 0, 1, NULL },
	{ "receive_disk_paths",		K_LIST, O(recv.disk_paths), 0, 0, NULL },
	{ "receive_disk_backends",	K_LIST, O(recv.disk_backends), 0, 0, NULL },
	{ "receive_hotplug_scripts",	K_LIST, O(recv.hotplug_scripts), 0, 0, NULL },
	{ "receive_backend_domains",	K_LIST, O(recv.backend_domains), 0, 0, NULL },
	{ "receive_allow",		K_LIST, O(recv.allow), 0, 0, NULL },
	{ "storage_map",		K_LIST, O(recv.storage_map), 0, 0, NULL },
	{ "storage_min_free",		K_SIZE, O(recv.storage_min_free), 0, 0, NULL },
	{ "dump_dir",			K_PATH, O(dump_dir), 0, 0, NULL },
	{ "sandbox_user",		K_LIST, O(sandbox_user), 0, 0, NULL },
	{ "sandbox_dir",		K_PATH, O(sandbox_dir), 0, 0, NULL },
	/* xend-config.sxp names, accepted so an old configuration carries over */
	{ "xend_relocation_server",	K_BOOL, O(plain_enabled), 0, 1,
	    "relocation_server" },
	{ "xend_relocation_port",	K_UINT, O(plain_port), 1, 65535,
	    "relocation_port" },
	{ "xend_relocation_address",	K_LIST, O(listen), 0, 0,
	    "relocation_address" },
	{ "xend_relocation_hosts_allow", K_LIST, O(hosts_allow), 0, 0,
	    "relocation_hosts_allow" },
	{ "xend_relocation_ssl_server",	K_BOOL, O(tls_enabled), 0, 1,
	    "relocation_ssl_server" },
	{ "xend_relocation_ssl_port",	K_UINT, O(tls_port), 1, 65535,
	    "relocation_ssl_port" },
	{ "xend_relocation_ssl",	K_BOOL, O(tls_client), 0, 1,
	    "relocation_ssl" },
	{ "xend_relocation_server_ssl_cert_file", K_PATH, O(tls_cert), 0, 0,
	    "tls_cert" },
	{ "xend_relocation_server_ssl_key_file", K_PATH, O(tls_key), 0, 0,
	    "tls_key" },
};
#undef O

struct seen {
	const struct key	*key;
	int			 line;
};

void
strlist_free(struct strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
strlist_add(struct strlist *l, const char *s, size_t len)
{
	char	**nv, *c;

	if ((c = strndup(s, len)) == NULL)
		return -1;
	if ((nv = reallocarray(l->v, l->n + 1, sizeof(*nv))) == NULL) {
		free(c);
		return -1;
	}
	l->v = nv;
	l->v[l->n++] = c;
	return 0;
}

static int
set_path(char **dst, const char *val)
{
	char	*c;

	if ((c = strdup(val)) == NULL)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

void
config_defaults(struct relocd_conf *c)
{
	memset(c, 0, sizeof(*c));
	/* Plaintext only when asked for: it has no peer authentication. */
	c->plain_enabled = false;
	c->plain_port = RELOCD_PORT;
	c->tls_enabled = false;
	c->tls_port = RELOCD_TLS_PORT;
	c->tls_client = true;
	c->tls_require_client_cert = true;
	c->max_incoming = 4;
	c->max_outgoing = 4;
	c->compression_level = 1;
	c->direct_stream = true;
	c->storage_live = true;
	c->downtime_rounds = CONVERGE_ROUNDS;
	c->reservation_ttl = 60;
	c->peer_timeout = 60;
	c->preauth_timeout = 10;
	c->max_preauth = 16;
	c->max_preauth_per_host = 4;
	c->max_pending_per_host = 32;
	c->spare_worker = true;
	/* Allocation failures here leave NULL; config_load() checks. */
	c->state_dir = strdup(STATEDIR);
	c->control_socket = strdup("/run/relocd.sock");
	c->pid_file = strdup("/run/relocd.pid");
	if (policy_defaults(&c->recv) == -1)
		c->state_dir = NULL;	/* reported as no memory */
	c->dump_dir = strdup(RELOCD_DUMP_DIR);
	/* The packages' user, then the one every system has. */
	if (strlist_add(&c->sandbox_user, "_relocd", 7) == -1 ||
	    strlist_add(&c->sandbox_user, "nobody", 6) == -1)
		c->state_dir = NULL;	/* reported as no memory */
}

void
config_free(struct relocd_conf *c)
{
	strlist_free(&c->listen);
	strlist_free(&c->hosts_allow);
	strlist_free(&c->tls_peers_allow);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_ca);
	free(c->tls_crl);
	free(c->state_dir);
	free(c->control_socket);
	free(c->pid_file);
	policy_free(&c->recv);
	free(c->dump_dir);
	strlist_free(&c->sandbox_user);
	free(c->sandbox_dir);
	memset(c, 0, sizeof(*c));
}

/* "100M" -> 104857600.  Suffixes K, M, G, T are powers of 1024; a trailing
 * "B" or "/s" is allowed so that "100MB/s" reads as the user meant. */
int
parse_size(const char *s, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;
	unsigned		 shift = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	}
	if (toupper((unsigned char)*end) == 'B')
		end++;
	if (strcmp(end, "/s") == 0)
		end += 2;
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "yes", "on", "true" };
	static const char *const no[] = { "0", "no", "off", "false" };
	size_t	i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static const struct key *
key_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/*
 * The pre-scan.  Records each "key =" at the start of a line, refuses
 * unknown keys and xend's s-expression syntax, and turns the hyphens of a
 * key into underscores in place (buf is our private copy).
 */
static int
prescan(const char *file, char *buf, struct seen *seen, size_t *nseen,
    struct mig_err *err)
{
	char	*p = buf, *k, name[KEY_MAX];
	int	 line = 1;
	size_t	 klen, i;

	*nseen = 0;
	for (; *p != '\0'; line++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '(')
			return mig_seterr(err, MIG_E_INVAL, "%s:%d: this looks "
			    "like xend-config.sxp; relocd.conf uses xl.conf "
			    "syntax: key = value (relocd --import-xend %s "
			    "converts it)", file, line, file);
		k = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
		    *p == '.')
			p++;
		klen = p - k;
		while (*p == ' ' || *p == '\t')
			p++;
		if (klen > 0 && *p == '=' && isalpha((unsigned char)*k)) {
			if (klen >= sizeof(name))
				return mig_seterr(err, MIG_E_INVAL,
				    "%s:%d: unknown key `%.*s'", file, line,
				    (int)klen, k);
			for (i = 0; i < klen; i++)
				name[i] = k[i] == '-' ? (k[i] = '_') : k[i];
			name[klen] = '\0';
			if ((seen[*nseen].key = key_find(name)) == NULL)
				return mig_seterr(err, MIG_E_INVAL,
				    "%s:%d: unknown key `%s'", file, line, name);
			seen[(*nseen)++].line = line;
		}
		/* The rest of the line belongs to libxlutil. */
		while (*p != '\0' && *p != '\n')
			p++;
		if (*p == '\n')
			p++;
	}
	return 0;
}

static int
get_list(XLU_Config *x, const struct key *k, struct strlist *l)
{
	XLU_ConfigList	*xl;
	const char	*s, *item;
	int		 n, i;
	size_t		 len;

	strlist_free(l);
	if (xlu_cfg_get_list(x, k->name, &xl, &n, 1) == 0) {
		for (i = 0; i < n; i++) {
			if ((item = xlu_cfg_get_listitem(xl, i)) == NULL)
				return -1;
			if (strlist_add(l, item, strlen(item)) == -1)
				return -1;
		}
		return 0;
	}
	/* xend wrote its hosts-allow as one space-separated string. */
	if (xlu_cfg_get_string(x, k->name, &s, 1) != 0)
		return -1;
	while (*s != '\0') {
		s += strspn(s, " \t");
		if ((len = strcspn(s, " \t")) == 0)
			break;
		if (strlist_add(l, s, len) == -1)
			return -1;
		s += len;
	}
	return 0;
}

static int
set_value(XLU_Config *x, const char *file, const struct seen *sn,
    struct relocd_conf *c, struct mig_err *err)
{
	const struct key	*k = sn->key;
	char			*field = (char *)c + k->off;
	const char		*s;
	char			*rel;
	uint64_t		 v;
	bool			 b;
	int			 rc;

	if (k->alias_of != NULL)
		mig_log_warnx("%s:%d: `%s' is xend's name; use `%s'", file,
		    sn->line, k->name, k->alias_of);
	if (k->type == K_LIST) {
		if (get_list(x, k, (struct strlist *)field) == -1)
			return mig_seterr(err, MIG_E_INVAL,
			    "%s:%d: %s: expected a list of strings", file,
			    sn->line, k->name);
		return 0;
	}
	if (xlu_cfg_get_string(x, k->name, &s, 1) != 0)
		return mig_seterr(err, MIG_E_INVAL, "%s:%d: %s: expected a "
		    "single value, not a list", file, sn->line, k->name);
	switch (k->type) {
	case K_BOOL:
		if (parse_bool(s, &b) == -1)
			return mig_seterr(err, MIG_E_INVAL, "%s:%d: %s: `%s' "
			    "is not a boolean (0/1, yes/no)", file, sn->line,
			    k->name, s);
		*(bool *)field = b;
		break;
	case K_UINT:
		if (*s == '\0' || strspn(s, "0123456789") != strlen(s) ||
		    parse_size(s, &v) == -1 || v < k->min || v > k->max)
			return mig_seterr(err, MIG_E_INVAL, "%s:%d: %s: `%s' "
			    "is not a number from %llu to %llu", file,
			    sn->line, k->name, s, (unsigned long long)k->min,
			    (unsigned long long)k->max);
		*(unsigned *)field = (unsigned)v;
		break;
	case K_SIZE:
		if (parse_size(s, &v) == -1)
			return mig_seterr(err, MIG_E_INVAL, "%s:%d: %s: `%s' "
			    "is not a size (e.g. 0, 512K, 100M, 1G)", file,
			    sn->line, k->name, s);
		*(uint64_t *)field = v;
		break;
	case K_PATH:
		/* xend took its ssl files relative to its directory */
		if (*s != '/' && k->alias_of != NULL) {
			if (asprintf(&rel, "%s/%s", XEND_CONFIG_DIR, s) == -1)
				return mig_seterrno(err, MIG_E_NOMEM, "%s",
				    k->name);
			mig_log_warnx("%s:%d: %s: `%s' taken as %s, as xend took it",
			    file, sn->line, k->name, s, rel);
			rc = set_path((char **)field, rel);
			free(rel);
			if (rc == -1)
				return mig_seterrno(err, MIG_E_NOMEM, "%s",
				    k->name);
			break;
		}
		if (*s != '/')
			return mig_seterr(err, MIG_E_INVAL, "%s:%d: %s: `%s' "
			    "is not an absolute path", file, sn->line,
			    k->name, s);
		if (set_path((char **)field, s) == -1)
			return mig_seterrno(err, MIG_E_NOMEM, "%s", k->name);
		break;
	case K_LIST:
		break;
	}
	return 0;
}

/* Settings that are each fine alone but not together. */
static int
check_coherent(const char *file, const struct relocd_conf *c,
    struct mig_err *err)
{
	if (c->tls_enabled && (c->tls_cert == NULL || c->tls_key == NULL ||
	    c->tls_ca == NULL))
		return mig_seterr(err, MIG_E_INVAL, "%s: relocation_ssl_server "
		    "needs tls_cert, tls_key and tls_ca", file);
	if (c->plain_enabled && c->tls_enabled &&
	    c->plain_port == c->tls_port)
		return mig_seterr(err, MIG_E_INVAL, "%s: relocation_port and "
		    "relocation_ssl_port are both %u", file, c->plain_port);
	if (c->state_dir == NULL || c->control_socket == NULL ||
	    c->pid_file == NULL || c->dump_dir == NULL)
		return mig_seterr(err, MIG_E_NOMEM, "%s: out of memory", file);
	return policy_conf_check(file, &c->recv, err);
}

/* libxlutil reports syntax errors to a stream; keep its first line. */
static int
xlu_parse(const char *file, const char *buf, size_t len, XLU_Config **xp,
    struct mig_err *err)
{
	char	*msg = NULL;
	size_t	 msglen = 0;
	FILE	*rep;
	int	 rc;

	*xp = NULL;
	if ((rep = open_memstream(&msg, &msglen)) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "%s", file);
	if ((*xp = xlu_cfg_init(rep, file)) == NULL) {
		fclose(rep);
		free(msg);
		return mig_seterrno(err, MIG_E_NOMEM, "%s", file);
	}
	rc = xlu_cfg_readdata(*xp, buf, (int)len);
	fclose(rep);
	if (rc != 0) {
		/* A config that failed to parse must not be queried. */
		xlu_cfg_destroy(*xp);
		*xp = NULL;
		if (msg != NULL)
			msg[strcspn(msg, "\n")] = '\0';
		mig_seterr(err, MIG_E_INVAL, "%s", msg != NULL && *msg != '\0' ?
		    msg : "config parsing error");
		free(msg);
		return -1;
	}
	free(msg);
	return 0;
}

int
config_load_data(const char *file, const char *data, size_t len,
    struct relocd_conf *c, struct mig_err *err)
{
	struct seen	*seen = NULL;
	XLU_Config	*x = NULL;
	char		*buf;
	size_t		 nseen = 0, i;
	int		 rc = -1;

	if (memchr(data, '\0', len) != NULL)
		return mig_seterr(err, MIG_E_INVAL, "%s: contains a NUL byte",
		    file);
	if ((buf = strndup(data, len)) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "%s", file);
	/* At most one key per line: a line count bounds the table. */
	if ((seen = calloc(len + 1, sizeof(*seen))) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "%s", file);
		goto out;
	}
	if (prescan(file, buf, seen, &nseen, err) == -1)
		goto out;
	if (xlu_parse(file, buf, len, &x, err) == -1)
		goto out;
	for (i = 0; i < nseen; i++)
		if (set_value(x, file, &seen[i], c, err) == -1)
			goto out;
	rc = check_coherent(file, c, err);
 out:
	if (x != NULL)
		xlu_cfg_destroy(x);
	free(seen);
	free(buf);
	return rc;
}

int
config_load(const char *file, struct relocd_conf *c, struct mig_err *err)
{
	struct stat	 st;
	char		*data;
	ssize_t		 n;
	int		 fd, rc;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return mig_seterrno(err, errno == ENOENT ? MIG_E_NOTFOUND :
		    MIG_E_IO, "%s", file);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONF_MAX_SIZE) {
		close(fd);
		return mig_seterr(err, MIG_E_INVAL, "%s: not a regular file "
		    "of at most %d bytes", file, CONF_MAX_SIZE);
	}
	if ((data = malloc(st.st_size + 1)) == NULL) {
		close(fd);
		return mig_seterrno(err, MIG_E_NOMEM, "%s", file);
	}
	n = read(fd, data, st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(data);
		return mig_seterrno(err, MIG_E_IO, "%s: short read", file);
	}
	rc = config_load_data(file, data, (size_t)n, c, err);
	free(data);
	return rc;
}

/* A string as libxlutil reads it back: a regex's backslashes and a
 * quote must be escaped, or the printed file does not load. */
static void
print_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void
print_list(FILE *f, const char *name, const struct strlist *l)
{
	size_t	i;

	fprintf(f, "%s = [", name);
	for (i = 0; i < l->n; i++) {
		fputs(i ? ", " : " ", f);
		print_quoted(f, l->v[i]);
	}
	fprintf(f, "%s]\n", l->n ? " " : "");
}

/* The TLS side of the configuration, as libmig's TLS wants it (peer
 * ACL aside: it must be compiled and outlive the context). */
void
config_tls(const struct relocd_conf *c, struct mig_tls_conf *tc)
{
	memset(tc, 0, sizeof(*tc));
	tc->cert_file = c->tls_cert;
	tc->key_file = c->tls_key;
	tc->ca_file = c->tls_ca;
	tc->crl_file = c->tls_crl;
	tc->client_cert_optional = !c->tls_require_client_cert;
	tc->ktls = c->tls_ktls;
}

/* What "relocd -n -v" shows: the configuration in effect, defaults
 * included, in the file's own syntax. */
void
config_print(const struct relocd_conf *c, FILE *f)
{
	const struct key	*k;
	const char		*field;
	size_t			 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		k = &keys[i];
		if (k->alias_of != NULL)
			continue;
		field = (const char *)c + k->off;
		switch (k->type) {
		case K_BOOL:
			fprintf(f, "%s = %d\n", k->name, *(const bool *)field);
			break;
		case K_UINT:
			fprintf(f, "%s = %u\n", k->name,
			    *(const unsigned *)field);
			break;
		case K_SIZE:
			fprintf(f, "%s = \"%llu\"\n", k->name,
			    (unsigned long long)*(const uint64_t *)field);
			break;
		case K_PATH:
			if (*(char *const *)field != NULL) {
				fprintf(f, "%s = ", k->name);
				print_quoted(f, *(char *const *)field);
				fputc('\n', f);
			}
			break;
		case K_LIST:
			print_list(f, k->name, (const struct strlist *)field);
			break;
		}
	}
}
