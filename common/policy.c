/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receive policy.  A peer that relocation_hosts_allow (and on the TLS
 * port its certificate) admits sends a domain configuration, and libxl
 * carries out all of it as root in dom0: it opens the disks it names,
 * runs the hotplug scripts it names, hands over the PCI devices, I/O
 * memory and interrupts it lists, starts the device model it names.
 * This file decides, before anything is reserved or created, whether
 * this host lets a peer ask for each of those things.
 *
 * It judges the plain list a backend made with the hypervisor's own
 * parser (libmig/domcfg.h), so it is pure and the unit tests drive it
 * without Xen.  Everything is refused unless relocd.conf names it: disks
 * by path (receive_disk_paths, empty by default) and backend type, hotplug
 * scripts by name (Xen's own by default), driver domains by name, and the
 * rest (passthrough, device models, ...) by receive_allow.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mig/domcfg.h"
#include "mig/hv.h"
#include "reloc.h"

/* Where libxl finds a hotplug script named without a directory
 * (libxl__xen_script_dir_path, XEN_SCRIPT_DIR of the Debian build). */
#define XEN_SCRIPT_DIR	"/etc/xen/scripts"

/* What receive_allow may name. */
static const char *const named[] = {
	"pci", "usb", "dtdev", "iomem", "ioports", "irqs", "device_model",
	"serial", "channel", "colo",
};

static const char *const default_backends[] = { "phy", "qdisk", "tap" };
static const char *const default_scripts[] = {
	"block", "vif-bridge", "vif-route", "vif-nat", "vif-openvswitch",
};

static int
add_all(struct strlist *l, const char *const *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strlist_add(l, v[i], strlen(v[i])) == -1)
			return -1;
	return 0;
}

int
policy_defaults(struct recv_policy *p)
{
	p->enabled = true;
	return add_all(&p->disk_backends, default_backends,
	    sizeof(default_backends) / sizeof(default_backends[0])) == -1 ||
	    add_all(&p->hotplug_scripts, default_scripts,
	    sizeof(default_scripts) / sizeof(default_scripts[0])) == -1 ?
	    -1 : 0;
}

void
policy_free(struct recv_policy *p)
{
	strlist_free(&p->disk_paths);
	strlist_free(&p->disk_backends);
	strlist_free(&p->hotplug_scripts);
	strlist_free(&p->backend_domains);
	strlist_free(&p->allow);
	strlist_free(&p->storage_map);
}

static bool
in_list(const struct strlist *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* An absolute path without "." or ".." components or empty ones: the
 * string is then the path the kernel resolves, up to symlinks. */
bool
policy_path_plain(const char *p)
{
	const char	*c;
	size_t		 len;

	if (*p != '/')
		return false;
	if (strcmp(p, "/") == 0)
		return true;
	for (c = p + 1;; c += len + 1) {
		len = strcspn(c, "/");
		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (c[len] == '\0')
			return true;
	}
}

int
policy_conf_check(const char *file, const struct recv_policy *p,
    struct mig_err *err)
{
	char	dir[PATH_MAX];
	size_t	i, j, len;

	for (i = 0; i < p->disk_paths.n; i++) {
		/* A directory may be written with its trailing slash. */
		snprintf(dir, sizeof(dir), "%s", p->disk_paths.v[i]);
		len = strlen(dir);
		while (len > 1 && dir[len - 1] == '/')
			dir[--len] = '\0';
		if (strlen(p->disk_paths.v[i]) >= sizeof(dir) ||
		    !policy_path_plain(dir))
			return mig_seterr(err, MIG_E_INVAL, "%s: "
			    "receive_disk_paths: `%s' is not an absolute path "
			    "without `.', `..' or `//'", file,
			    p->disk_paths.v[i]);
	}
	if (storage_map_check(file, &p->storage_map, err) == -1)
		return -1;
	for (i = 0; i < p->hotplug_scripts.n; i++)
		if (p->hotplug_scripts.v[i][0] == '\0' ||
		    strchr(p->hotplug_scripts.v[i], '/') != NULL)
			return mig_seterr(err, MIG_E_INVAL, "%s: "
			    "receive_hotplug_scripts: `%s' is not a script "
			    "name (scripts live in " XEN_SCRIPT_DIR ")", file,
			    p->hotplug_scripts.v[i]);
	for (i = 0; i < p->allow.n; i++) {
		for (j = 0; j < sizeof(named) / sizeof(named[0]); j++)
			if (strcmp(p->allow.v[i], named[j]) == 0)
				break;
		if (j == sizeof(named) / sizeof(named[0]))
			return mig_seterr(err, MIG_E_INVAL, "%s: receive_allow: "
			    "unknown `%s' (pci, usb, dtdev, iomem, ioports, "
			    "irqs, device_model, serial, channel, colo)", file,
			    p->allow.v[i]);
	}
	return 0;
}

/* The length of dir (without trailing slashes) when path is dir or
 * under it, else 0. */
size_t
policy_path_under(const char *dir, const char *path)
{
	size_t	len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 0 || strncmp(path, dir, len) != 0)
		return 0;
	if (path[len] == '\0' || path[len] == '/' ||
	    (len == 1 && dir[0] == '/'))
		return len;
	return 0;
}

/* Whether path is one of the entries or under one of them. */
static bool
path_allowed(const struct strlist *l, const char *path)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (policy_path_under(l->v[i], path) > 0)
			return true;
	return false;
}

/* "KEY = "VALUE": REASON [WHAT] REASON2": which key, what value, why. */
static int
deny(char *why, size_t size, const struct mig_domcfg_item *it,
    const char *reason, const char *what, const char *reason2)
{
	snprintf(why, size, "%s = \"%s\": %s%s%s", it->where, it->value,
	    reason, what, reason2);
	return 1;
}

static int
check_disk(const struct recv_policy *p, const struct mig_domcfg_item *it,
    char *why, size_t size)
{
	/* An empty CD-ROM drive opens nothing. */
	if (it->value[0] == '\0')
		return 0;
	if (strcmp(it->what, "9pfs") != 0 && it->what[0] != '\0' &&
	    !in_list(&p->disk_backends, it->what))
		return deny(why, size, it, "the ", it->what, " disk backend "
		    "is not in receive_disk_backends");
	if (!policy_path_plain(it->value))
		return deny(why, size, it, "", "", "not an absolute path "
		    "without `.', `..' or `//'");
	if (p->disk_paths.n == 0)
		return deny(why, size, it, "", "", "no storage may be received "
		    "here: add its directory or volume group (/dev/VG) to "
		    "receive_disk_paths");
	if (!path_allowed(&p->disk_paths, it->value))
		return deny(why, size, it, "", "", "not under any "
		    "receive_disk_paths entry");
	return 0;
}

/* libxl runs a script named without a directory from Xen's. */
static int
check_script(const struct recv_policy *p, const struct mig_domcfg_item *it,
    char *why, size_t size)
{
	const char	*name = it->value;

	if (strncmp(name, XEN_SCRIPT_DIR "/", sizeof(XEN_SCRIPT_DIR)) == 0)
		name += sizeof(XEN_SCRIPT_DIR);
	if (strchr(name, '/') != NULL || !in_list(&p->hotplug_scripts, name))
		return deny(why, size, it, "", "", "not a hotplug script "
		    "of " XEN_SCRIPT_DIR " named in receive_hotplug_scripts");
	return 0;
}

int
policy_check(const struct recv_policy *p, const struct mig_domcfg *c,
    char *why, size_t size)
{
	const struct mig_domcfg_item	*it;
	size_t				 i;
	int				 rc = 0;

	if (!p->enabled)
		return 0;
	for (i = 0; rc == 0 && i < c->n; i++) {
		it = &c->items[i];
		switch (it->kind) {
		case MIG_DC_DISK:
			rc = check_disk(p, it, why, size);
			break;
		case MIG_DC_SCRIPT:
			rc = check_script(p, it, why, size);
			break;
		case MIG_DC_BACKEND:
			if (!in_list(&p->backend_domains, it->value))
				rc = deny(why, size, it, "", "", "a backend "
				    "outside dom0 needs its domain in "
				    "receive_backend_domains");
			break;
		default:
			if (!in_list(&p->allow, it->what))
				rc = deny(why, size, it, "", it->what,
				    " needs receive_allow to name it");
			break;
		}
	}
	return rc;
}

/* A uuid's shape, which xl would read as a uuid, not a name. */
static bool
uuid_shaped(const char *s)
{
	uint8_t	u[16];

	return mig_hv_uuid_parse(s, u) == 0;
}

/*
 * A name this host will give a domain: one xl and the files named after
 * domains (qemu-dm-NAME.log, console logs, save files) can live with.
 * xl reads an all-digit argument as a domid and a uuid-shaped one as a
 * uuid, so such names could never be used from xl; "/" would escape the
 * directories those files are in; relocd's own suffixes are its
 * temporary names.
 */
int
policy_name(const char *name, char *why, size_t size)
{
	const char	*p;

	if (*name == '\0' || strlen(name) > 64)
		return snprintf(why, size, "domain name \"%s\": 1 to 64 "
		    "characters", name), 1;
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._+:@-", *p) ==
		    NULL)
			return snprintf(why, size, "domain name \"%s\": only "
			    "letters, digits and . _ + : @ - are accepted",
			    name), 1;
	if (*name == '-' || *name == '.')
		return snprintf(why, size, "domain name \"%s\": may not start "
		    "with `-' or `.'", name), 1;
	if (strspn(name, "0123456789") == strlen(name) || uuid_shaped(name))
		return snprintf(why, size, "domain name \"%s\": xl would take "
		    "it for a domain id or uuid", name), 1;
	if (strcasecmp(name, "Domain-0") == 0 || temp_suffix(name) != NULL)
		return snprintf(why, size, "domain name \"%s\" is reserved",
		    name), 1;
	return 0;
}

/* The uuid libxl will create the domain with must be the one the
 * clash checks, the ledger and the journal use. */
int
policy_identity(const struct mig_domcfg *c, const uint8_t uuid[16],
    char *why, size_t size)
{
	char	want[37], got[37];

	mig_hv_uuid_format(uuid, want);
	if (!c->has_uuid)
		return snprintf(why, size, "c_info.uuid: the configuration "
		    "has none, the domain is %s", want), 1;
	if (memcmp(c->uuid, uuid, 16) != 0) {
		mig_hv_uuid_format(c->uuid, got);
		return snprintf(why, size, "c_info.uuid = \"%s\": not the "
		    "domain's uuid %s", got, want), 1;
	}
	return 0;
}

/* The temporary names of a migration in flight, NAME--incoming at the
 * target and NAME--migratedaway at the source: the suffix, or NULL. */
const char *
temp_suffix(const char *name)
{
	static const char *const sfx[] = { INCOMING_SUFFIX, AWAY_SUFFIX };
	size_t	n = strlen(name), i, k;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		k = strlen(sfx[i]);
		if (n > k && strcmp(name + n - k, sfx[i]) == 0)
			return sfx[i];
	}
	return NULL;
}
