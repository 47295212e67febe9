/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain configuration as libxl JSON: the simulated host writes a
 * minimal but valid libxl_domain_config (c_info name/uuid/type, b_info
 * vcpus and memory) and reads back just those fields from any libxl
 * JSON, a real one from xl included.  The reader validates the whole
 * document first, so bad JSON is refused and never half-read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/domcfg.h"
#include "sim.h"

#define MAXDEPTH	64

static const char *elem(const char *, int);
static void put_escaped(FILE *, const char *);

static const char *
ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* A string at p (at its quote); copies it to out (cap bytes) if out is
 * not NULL.  Returns the end or NULL. */
static const char *
string(const char *p, char *out, size_t cap)
{
	size_t	n = 0;
	char	c;

	if (*p++ != '"')
		return NULL;
	while ((c = *p++) != '"') {
		if ((unsigned char)c < 0x20)
			return NULL;
		if (c == '\\') {
			switch ((c = *p++)) {
			case '"': case '\\': case '/':	break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (strspn(p, "0123456789abcdefABCDEF") < 4)
					return NULL;
				p += 4;
				c = '?';	/* names here are ASCII */
				break;
			default:
				return NULL;
			}
		}
		if (out != NULL) {
			if (n + 1 >= cap)
				return NULL;
			out[n++] = c;
		}
	}
	if (out != NULL)
		out[n] = '\0';
	return p;
}

static const char *
number(const char *p)
{
	const char	*s = p;

	if (*p == '-')
		p++;
	if (strspn(p, "0123456789") == 0)
		return NULL;
	p += strspn(p, "0123456789");
	if (*p == '.') {
		p++;
		if (strspn(p, "0123456789") == 0)
			return NULL;
		p += strspn(p, "0123456789");
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (strspn(p, "0123456789") == 0)
			return NULL;
		p += strspn(p, "0123456789");
	}
	return p > s ? p : NULL;
}

static const char *value(const char *, int);

/* Members or elements of an object or array at p. */
static const char *
container(const char *p, int depth)
{
	char	close = *p == '{' ? '}' : ']';

	p = ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if ((p = string(p, NULL, 0)) == NULL)
				return NULL;
			p = ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if ((p = value(ws(p), depth + 1)) == NULL)
			return NULL;
		p = ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
		p = ws(p);
	}
}

static const char *
value(const char *p, int depth)
{
	if (depth > MAXDEPTH)
		return NULL;
	switch (*p) {
	case '{':
	case '[':
		return container(p, depth);
	case '"':
		return string(p, NULL, 0);
	case 't':
		return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		return number(p);
	}
}

/* The value of member key of the (valid) object at obj, or NULL. */
static const char *
member(const char *obj, const char *key)
{
	char		 k[64];
	const char	*p, *q;

	if (obj == NULL || *obj != '{')
		return NULL;
	p = ws(obj + 1);
	while (*p == '"') {
		if ((q = string(p, k, sizeof(k))) == NULL) {
			/* A key too long to be ours (the document is valid,
			 * so it is a string): skip it. */
			k[0] = '\0';
			q = string(p, NULL, 0);
		}
		p = ws(ws(q) + 1);	/* past ':' */
		if (strcmp(k, key) == 0)
			return p;
		p = ws(value(p, 0));
		if (*p == ',')
			p = ws(p + 1);
	}
	return NULL;
}

char *
sim_json_set_uuid(const char *json, const uint8_t uuid[16],
    struct mig_err *err)
{
	const char	*end, *top = ws(json), *ci, *at, *cut;
	char		 u[37], ins[64], *out;
	size_t		 len;

	end = value(top, 0);
	if (end == NULL || *ws(end) != '\0' || *top != '{') {
		mig_seterr(err, MIG_E_INVAL, "bad domain configuration JSON");
		return NULL;
	}
	mig_hv_uuid_format(uuid, u);
	ci = member(top, "c_info");
	if (ci != NULL && *ci == '{' && (at = member(ci, "uuid")) != NULL) {
		/* replace the value */
		cut = value(at, 0);
		snprintf(ins, sizeof(ins), "\"%s\"", u);
	} else if (ci != NULL && *ci == '{') {
		at = ci + 1;
		cut = at;
		snprintf(ins, sizeof(ins), "\"uuid\": \"%s\"%s", u,
		    *ws(at) == '}' ? "" : ",");
	} else {
		at = top + 1;
		cut = at;
		snprintf(ins, sizeof(ins), "\"c_info\": {\"uuid\": \"%s\"}%s",
		    u, *ws(at) == '}' ? "" : ",");
	}
	len = strlen(json) + strlen(ins) + 1;
	if ((out = malloc(len)) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "domain configuration");
		return NULL;
	}
	snprintf(out, len, "%.*s%s%s", (int)(at - json), json, ins, cut);
	return out;
}

/* The document with disks[index].pdev_path set to path (JSON-escaped). */
static char *
set_disk(const char *json, unsigned index, const char *path,
    struct mig_err *err)
{
	const char	*top = ws(json), *e, *at, *cut;
	char		*out = NULL;
	size_t		 len = 0;
	FILE		*f;

	if ((e = elem(member(top, "disks"), (int)index)) == NULL ||
	    (at = member(e, "pdev_path")) == NULL) {
		mig_seterr(err, MIG_E_INVAL, "disks[%u]: not in the "
		    "configuration", index);
		return NULL;
	}
	cut = value(at, 0);
	if ((f = open_memstream(&out, &len)) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "domain configuration");
		return NULL;
	}
	fprintf(f, "%.*s\"", (int)(at - json), json);
	put_escaped(f, path);
	fprintf(f, "\"%s", cut);
	if (fclose(f) != 0) {
		free(out);
		mig_seterrno(err, MIG_E_NOMEM, "domain configuration");
		return NULL;
	}
	return out;
}

char *
sim_json_set_disks(const char *json, const struct mig_hv_disk_path *d,
    size_t n, struct mig_err *err)
{
	const char	*end;
	char		*cur, *next;
	size_t		 i;

	end = value(ws(json), 0);
	if (end == NULL || *ws(end) != '\0' || *ws(json) != '{') {
		mig_seterr(err, MIG_E_INVAL, "bad domain configuration JSON");
		return NULL;
	}
	if ((cur = strdup(json)) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "domain configuration");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		next = set_disk(cur, d[i].index, d[i].path, err);
		free(cur);
		if ((cur = next) == NULL)
			return NULL;
	}
	return cur;
}

static int
get_u64(const char *obj, const char *key, uint64_t *v)
{
	const char	*p = member(obj, key);

	if (p == NULL || *p < '0' || *p > '9')
		return -1;
	*v = strtoull(p, NULL, 10);
	return 0;
}

/* The top-level on_* members, by shutdown reason, and libxl's spelling
 * of each action (libxl_action_on_shutdown_to_string). */
static const char *const on_keys[MIG_HV_SHUTDOWN__MAX] = {
	[MIG_HV_SHUTDOWN_POWEROFF] = "on_poweroff",
	[MIG_HV_SHUTDOWN_REBOOT] = "on_reboot",
	[MIG_HV_SHUTDOWN_CRASH] = "on_crash",
	[MIG_HV_SHUTDOWN_WATCHDOG] = "on_watchdog",
	[MIG_HV_SHUTDOWN_SOFT_RESET] = "on_soft_reset",
};
static const char *const libxl_actions[MIG_HV_ACT__MAX] = {
	[MIG_HV_ACT_DESTROY] = "destroy",
	[MIG_HV_ACT_RESTART] = "restart",
	[MIG_HV_ACT_RESTART_RENAME] = "restart_rename",
	[MIG_HV_ACT_PRESERVE] = "preserve",
	[MIG_HV_ACT_COREDUMP_DESTROY] = "coredump_destroy",
	[MIG_HV_ACT_COREDUMP_RESTART] = "coredump_restart",
	[MIG_HV_ACT_SOFT_RESET] = "soft_reset",
};

static int
actions_parse(const char *obj, struct sim_cfg *c, struct mig_err *err)
{
	const char	*p;
	char		 s[32];
	int		 i, a;

	for (i = 0; i < MIG_HV_SHUTDOWN__MAX; i++) {
		if (on_keys[i] == NULL || (p = member(obj, on_keys[i])) == NULL)
			continue;
		if (string(p, s, sizeof(s)) == NULL ||
		    (a = mig_hv_action_parse(s)) == -1)
			return mig_seterr(err, MIG_E_INVAL, "domain "
			    "configuration: bad %s", on_keys[i]);
		c->on[i] = a;
	}
	return 0;
}

/* disks[i].pdev_path of each disk, as a restore attaches them. */
static int
disks_parse(const char *arr, struct sim_cfg *c, struct mig_err *err)
{
	const char	*e, *p;

	for (c->ndisks = 0; (e = elem(arr, c->ndisks)) != NULL; c->ndisks++) {
		if (c->ndisks == SIM_DISKS)
			return mig_seterr(err, MIG_E_INVAL, "domain "
			    "configuration: more than %d disks", SIM_DISKS);
		if ((p = member(e, "pdev_path")) != NULL && *p == '"' &&
		    string(p, c->disks[c->ndisks], SIM_DISK_PATH) == NULL)
			return mig_seterr(err, MIG_E_INVAL, "domain "
			    "configuration: disks[%d].pdev_path too long",
			    c->ndisks);
	}
	return 0;
}

int
sim_json_parse(const char *json, struct sim_cfg *c, struct mig_err *err)
{
	const char	*end, *ci, *bi, *p;
	char		 s[64];
	uint64_t	 v;

	memset(c, 0, sizeof(*c));
	c->type = MIG_HV_TYPE_PV;
	c->vcpus = 1;
	end = value(ws(json), 0);
	if (end == NULL || *ws(end) != '\0' || *ws(json) != '{')
		return mig_seterr(err, MIG_E_INVAL,
		    "bad domain configuration JSON");
	ci = member(ws(json), "c_info");
	bi = member(ws(json), "b_info");
	if ((p = member(ci, "name")) != NULL &&
	    string(p, c->name, sizeof(c->name)) == NULL)
		return mig_seterr(err, MIG_E_INVAL, "domain configuration: "
		    "bad c_info.name");
	if ((p = member(ci, "uuid")) != NULL) {
		if (string(p, s, sizeof(s)) == NULL ||
		    mig_hv_uuid_parse(s, c->uuid) == -1)
			return mig_seterr(err, MIG_E_INVAL, "domain "
			    "configuration: bad c_info.uuid");
		c->has_uuid = 1;
	}
	if ((p = member(ci, "type")) != NULL && string(p, s, sizeof(s))) {
		if (strcmp(s, "hvm") == 0)
			c->type = MIG_HV_TYPE_HVM;
		else if (strcmp(s, "pvh") == 0)
			c->type = MIG_HV_TYPE_PVH;
	}
	if (get_u64(bi, "max_memkb", &c->max_memkb) == -1 &&
	    get_u64(bi, "target_memkb", &c->max_memkb) == -1)
		return mig_seterr(err, MIG_E_INVAL, "domain configuration: "
		    "no b_info.max_memkb");
	if (c->max_memkb == 0 || c->max_memkb > (1ULL << 40))
		return mig_seterr(err, MIG_E_INVAL, "domain configuration: "
		    "b_info.max_memkb %" PRIu64 " out of range", c->max_memkb);
	if (get_u64(bi, "max_vcpus", &v) == 0 && v > 0 && v <= 512)
		c->vcpus = (uint32_t)v;
	/* libxl_retrieve_domain_configuration reads the live scheduler
	 * parameters into the config, and a restore applies them: the cap
	 * travels with the config, not the stream. */
	if (get_u64(member(bi, "sched_params"), "cap", &v) == 0 &&
	    v <= 100 * 512)
		c->cap = (int)v;
	if (disks_parse(member(ws(json), "disks"), c, err) == -1)
		return -1;
	return actions_parse(ws(json), c, err);
}

/* The i-th element of the (valid) array at arr, or NULL. */
static const char *
elem(const char *arr, int i)
{
	const char	*p;

	if (arr == NULL || *arr != '[')
		return NULL;
	p = ws(arr + 1);
	if (*p == ']')
		return NULL;
	while (i-- > 0) {
		p = ws(value(p, 0));
		if (*p != ',')
			return NULL;
		p = ws(p + 1);
	}
	return p;
}

#define SVAL	1024

/* A string member into out (SVAL bytes): 1, 0 when absent or not a
 * string, -1 when too long for the sim. */
static int
get_str(const char *obj, const char *key, char *out)
{
	const char	*p = member(obj, key);

	out[0] = '\0';
	if (p == NULL || *p != '"')
		return 0;
	return string(p, out, SVAL) != NULL ? 1 : -1;
}

/* The device lists libxl acts on in dom0, read as libxl_domain_config's
 * JSON names them; hv_libxl_cfg.c is the real thing (and covers more:
 * the sim reads what the integration tests send). */
static int
describe_dev(struct mig_domcfg *c, const char *arr, const char *dev,
    struct mig_err *err)
{
	const char	*e;
	char		 v[SVAL], where[48];
	uint64_t	 id;
	int		 i;

	for (i = 0; (e = elem(arr, i)) != NULL; i++) {
		if (get_str(e, "script", v) == 1) {
			snprintf(where, sizeof(where), "%s[%d].script", dev, i);
			if (mig_domcfg_add(c, err, MIG_DC_SCRIPT, where, "",
			    "%s", v) == -1)
				return -1;
		}
		if (get_str(e, "backend_domname", v) == 1 &&
		    strcmp(v, "Domain-0") != 0) {
			snprintf(where, sizeof(where), "%s[%d].backend_domname",
			    dev, i);
			if (mig_domcfg_add(c, err, MIG_DC_BACKEND, where, "",
			    "%s", v) == -1)
				return -1;
		} else if (get_u64(e, "backend_domid", &id) == 0 && id != 0) {
			snprintf(where, sizeof(where), "%s[%d].backend_domid",
			    dev, i);
			if (mig_domcfg_add(c, err, MIG_DC_BACKEND, where, "",
			    "domid %" PRIu64, id) == -1)
				return -1;
		}
		if (strcmp(dev, "disks") != 0 && strcmp(dev, "p9s") != 0)
			continue;
		snprintf(where, sizeof(where), "%s[%d].%s", dev, i,
		    dev[0] == 'd' ? "pdev_path" : "path");
		if (get_str(e, dev[0] == 'd' ? "pdev_path" : "path", v) == -1)
			return mig_seterr(err, MIG_E_INVAL, "%s: too long",
			    where);
		if (mig_domcfg_add(c, err, MIG_DC_DISK, where, "", "%s", v) ==
		    -1)
			return -1;
		if (dev[0] == 'p')
			strcpy(c->items[c->n - 1].what, "9pfs");
		else if (get_str(e, "backend", v) == 1 &&
		    strcmp(v, "unknown") != 0)
			snprintf(c->items[c->n - 1].what,
			    sizeof(c->items[0].what), "%s", v);
	}
	return 0;
}

/* How an element shows, as hv_libxl_cfg.c prints it. */
enum shape {
	SH_TEXT,	/* a string, or an object's "path", or a number */
	SH_PCI,		/* domain:bus:dev.func */
	SH_RANGE,	/* hex start, count */
	SH_USB		/* hostbus, hostaddr */
};

static void
show(const char *e, enum shape sh, char *v, size_t size)
{
	uint64_t	a = 0, b = 0, d = 0, f = 0;

	switch (sh) {
	case SH_PCI:
		(void)get_u64(e, "domain", &d);
		(void)get_u64(e, "bus", &a);
		(void)get_u64(e, "dev", &b);
		(void)get_u64(e, "func", &f);
		snprintf(v, size, "%04" PRIx64 ":%02" PRIx64 ":%02" PRIx64
		    ".%" PRIu64, d, a, b, f);
		break;
	case SH_RANGE:
		if (get_u64(e, "start", &a) == -1)
			(void)get_u64(e, "first", &a);
		(void)get_u64(e, "number", &b);
		snprintf(v, size, "%" PRIx64 ",%" PRIu64, a, b);
		break;
	case SH_USB:
		(void)get_u64(e, "hostbus", &a);
		(void)get_u64(e, "hostaddr", &b);
		snprintf(v, size, "hostbus %" PRIu64 " hostaddr %" PRIu64, a,
		    b);
		break;
	default:
		v[0] = '\0';
		if (*e == '"')
			(void)string(e, v, size);
		else if (*e >= '0' && *e <= '9')
			snprintf(v, size, "%.*s", (int)(number(e) - e), e);
		else
			(void)get_str(e, "path", v);
	}
}

/* Each element of arr as one NAMED item. */
static int
describe_named(struct mig_domcfg *c, const char *arr, const char *key,
    const char *what, enum shape sh, struct mig_err *err)
{
	const char	*e;
	char		 where[48], v[SVAL];
	int		 i;

	for (i = 0; (e = elem(arr, i)) != NULL; i++) {
		snprintf(where, sizeof(where), "%s[%d]", key, i);
		show(e, sh, v, sizeof(v));
		if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, what, "%s",
		    v) == -1)
			return -1;
	}
	return 0;
}

int
sim_json_describe(const char *json, struct mig_domcfg *c,
    struct mig_err *err)
{
	static const char *const dm[] = { "device_model", "device_model_user",
	    "stubdomain_kernel", "stubdomain_ramdisk" };
	static const char *const dmlist[] = { "extra", "extra_pv",
	    "extra_hvm" };
	struct sim_cfg	 sc;
	const char	*top = ws(json), *bi, *e;
	char		 v[SVAL], where[48];
	size_t		 i;
	int		 k;

	memset(c, 0, sizeof(*c));
	if (sim_json_parse(json, &sc, err) == -1)
		return -1;
	if (sc.name[0] != '\0' && (c->name = strdup(sc.name)) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "configuration");
	c->has_uuid = sc.has_uuid;
	memcpy(c->uuid, sc.uuid, 16);
	bi = member(top, "b_info");
	if (describe_dev(c, member(top, "disks"), "disks", err) == -1 ||
	    describe_dev(c, member(top, "p9s"), "p9s", err) == -1 ||
	    describe_dev(c, member(top, "nics"), "nics", err) == -1 ||
	    describe_dev(c, member(top, "vtpms"), "vtpms", err) == -1 ||
	    describe_named(c, member(top, "pcidevs"), "pcidevs", "pci",
	    SH_PCI, err) == -1 ||
	    describe_named(c, member(top, "usbdevs"), "usbdevs", "usb",
	    SH_USB, err) == -1 ||
	    describe_named(c, member(top, "dtdevs"), "dtdevs", "dtdev",
	    SH_TEXT, err) == -1 ||
	    describe_named(c, member(bi, "iomem"), "b_info.iomem", "iomem",
	    SH_RANGE, err) == -1 ||
	    describe_named(c, member(bi, "ioports"), "b_info.ioports",
	    "ioports", SH_RANGE, err) == -1 ||
	    describe_named(c, member(bi, "irqs"), "b_info.irqs", "irqs",
	    SH_TEXT, err) == -1)
		goto fail;
	for (i = 0; i < sizeof(dm) / sizeof(dm[0]); i++) {
		if ((k = get_str(bi, dm[i], v)) == 0)
			continue;
		snprintf(where, sizeof(where), "b_info.%s", dm[i]);
		if (k == -1 || mig_domcfg_add(c, err, MIG_DC_NAMED, where,
		    "device_model", "%s", v) == -1)
			goto fail;
	}
	for (i = 0; i < sizeof(dmlist) / sizeof(dmlist[0]); i++) {
		snprintf(where, sizeof(where), "b_info.%s", dmlist[i]);
		if (describe_named(c, member(bi, dmlist[i]), where,
		    "device_model", SH_TEXT, err) == -1)
			goto fail;
	}
	for (k = 0; (e = elem(member(top, "channels"), k)) != NULL; k++) {
		if (get_str(e, "connection", v) != 1 ||
		    strcmp(v, "socket") != 0)
			continue;
		snprintf(where, sizeof(where), "channels[%d].path", k);
		(void)get_str(e, "path", v);
		if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, "channel",
		    "%s", v) == -1)
			goto fail;
	}
	return 0;
 fail:
	mig_domcfg_free(c);
	return -1;
}

/* The name, JSON-escaped: domain names are plain text, but a quote or
 * a backslash must not break the document. */
static void
put_escaped(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
}

char *
sim_json_write(const struct hv_sim_dom *d, const struct sim_cfg *dk)
{
	char	*buf = NULL, u[37];
	size_t	 len = 0;
	FILE	*f;
	int	 i;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	mig_hv_uuid_format(d->uuid, u);
	fprintf(f, "{\n    \"c_info\": {\n        \"type\": \"%s\",\n"
	    "        \"name\": \"", mig_hv_domtype_name(d->type));
	put_escaped(f, d->name);
	fprintf(f, "\",\n        \"uuid\": \"%s\"\n    },\n"
	    "    \"b_info\": {\n        \"max_vcpus\": %" PRIu32 ",\n"
	    "        \"max_memkb\": %" PRIu64 ",\n"
	    "        \"target_memkb\": %" PRIu64 ",\n"
	    "        \"sched_params\": {\n            \"cap\": %d\n"
	    "        }\n    }", u, d->vcpus, d->mem_kib, d->mem_kib,
	    d->cap);
	for (i = 0; i < MIG_HV_SHUTDOWN__MAX; i++)
		if (on_keys[i] != NULL && d->on[i] > MIG_HV_ACT_UNSET &&
		    d->on[i] < MIG_HV_ACT__MAX)
			fprintf(f, ",\n    \"%s\": \"%s\"", on_keys[i],
			    libxl_actions[d->on[i]]);
	for (i = 0; i < dk->ndisks; i++) {
		fprintf(f, "%s{\"pdev_path\": \"", i == 0 ?
		    ",\n    \"disks\": [\n        " : ",\n        ");
		put_escaped(f, dk->disks[i]);
		fprintf(f, "\", \"vdev\": \"xvd%c\", \"backend\": \"qdisk\", "
		    "\"format\": \"raw\", \"readwrite\": 1}%s", 'a' + i,
		    i + 1 == dk->ndisks ? "\n    ]" : "");
	}
	fprintf(f, "\n}\n");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
