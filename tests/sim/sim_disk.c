/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A simulated domain's disks.  The configuration names them as libxl's
 * does (disks[i].pdev_path, raw images, the qdisk backend); the host
 * keeps the paths of a domain's disks in disks.DOMID, one a line, so
 * that its configuration (sim_json_write) names them again, as
 * libxl_retrieve_domain_configuration would.  What the guest writes to
 * them is the tests' business: a disk is any file the test made.
 *
 * With the host fact attach_disks, a restore opens every disk read-write
 * before it reads the stream, as libxl's block hotplug script or qemu
 * would when it attaches them: a destination that is not there fails the
 * restore, as on Xen.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

static const char *
disks_path(const char *dir, uint32_t domid, char *buf, size_t size)
{
	char	name[32];

	snprintf(name, sizeof(name), "disks.%" PRIu32, domid);
	return sim_path(dir, name, buf, size);
}

int
sim_disks_check(const struct sim_cfg *c, struct mig_err *err)
{
	int	i, fd;

	for (i = 0; i < c->ndisks; i++) {
		if (c->disks[i][0] == '\0')
			continue;	/* an empty CD-ROM drive */
		if ((fd = open(c->disks[i], O_RDWR | O_CLOEXEC)) == -1)
			return mig_seterrno(err, MIG_E_HV, "disks[%d]: %s", i,
			    c->disks[i]);
		close(fd);
	}
	return 0;
}

int
sim_disks_save(const char *dir, uint32_t domid, const struct sim_cfg *c,
    struct mig_err *err)
{
	char	path[PATH_MAX];
	FILE	*f;
	int	i;

	disks_path(dir, domid, path, sizeof(path));
	if (c->ndisks == 0) {
		(void)unlink(path);
		return 0;
	}
	if ((f = fopen(path, "we")) == NULL)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	for (i = 0; i < c->ndisks; i++)
		fprintf(f, "%s\n", c->disks[i]);
	if (fclose(f) != 0)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	return 0;
}

/* What disks.DOMID says; none when there is no such file. */
int
sim_disks_load(const char *dir, uint32_t domid, struct sim_cfg *c)
{
	char	path[PATH_MAX], line[SIM_DISK_PATH + 2];
	FILE	*f;
	size_t	len;

	c->ndisks = 0;
	if ((f = fopen(disks_path(dir, domid, path, sizeof(path)), "re")) ==
	    NULL)
		return errno == ENOENT ? 0 : -1;
	while (c->ndisks < SIM_DISKS && fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		if (len >= SIM_DISK_PATH)
			continue;	/* hv_sim_add_disk never writes one */
		memcpy(c->disks[c->ndisks++], line, len + 1);
	}
	fclose(f);
	return 0;
}

void
sim_disks_unlink(const char *dir, uint32_t domid)
{
	char	path[PATH_MAX];

	(void)unlink(disks_path(dir, domid, path, sizeof(path)));
}

/* simctl disk NAME PATH: the domain gets one more disk. */
int
hv_sim_add_disk(const char *dir, const char *spec, const char *path,
    struct mig_err *err)
{
	struct hv_sim_dom	d;
	struct sim_cfg		c;

	if (hv_sim_lookup(dir, spec, &d, err) == -1)
		return -1;
	if (strlen(path) >= SIM_DISK_PATH || *path != '/')
		return mig_seterr(err, MIG_E_INVAL, "disk %s: not an absolute "
		    "path of fewer than %d bytes", path, SIM_DISK_PATH);
	if (sim_disks_load(dir, d.domid, &c) == -1)
		return mig_seterrno(err, MIG_E_IO, "disks of domain %" PRIu32,
		    d.domid);
	if (c.ndisks == SIM_DISKS)
		return mig_seterr(err, MIG_E_INVAL, "domain %s has %d disks "
		    "already", d.name, SIM_DISKS);
	snprintf(c.disks[c.ndisks++], SIM_DISK_PATH, "%s", path);
	if (sim_disks_check(&c, err) == -1)
		return -1;
	return sim_disks_save(dir, d.domid, &c, err);
}
