/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A parsed libxl_domain_config as the list of what it asks of dom0
 * (domcfg.h).  Pure: no ctx, no hypervisor, so the unit tests feed it
 * configurations that libxl's own parser produced.
 *
 * Every field libxl acts on in dom0 for a guest is listed here; a field
 * left out is one a receive policy cannot see.  What libxl reads only
 * to boot a fresh guest (kernel, ramdisk, bootloader) is not used by a
 * restore and is not listed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mig/domcfg.h"
#include "mig/error.h"
#include "hv_libxl.h"

/* Whether a device's backend is a domain other than dom0. */
static int
other_backend(struct mig_domcfg *c, struct mig_err *err, const char *dev,
    int i, libxl_domid domid, const char *domname)
{
	char	where[48];

	snprintf(where, sizeof(where), "%s[%d].backend_domname", dev, i);
	if (domname != NULL && *domname != '\0' &&
	    strcmp(domname, "Domain-0") != 0)
		return mig_domcfg_add(c, err, MIG_DC_BACKEND, where, "", "%s",
		    domname);
	if ((domname == NULL || *domname == '\0') && domid != 0) {
		snprintf(where, sizeof(where), "%s[%d].backend_domid", dev, i);
		return mig_domcfg_add(c, err, MIG_DC_BACKEND, where, "",
		    "domid %u", (unsigned)domid);
	}
	return 0;
}

static int
script(struct mig_domcfg *c, struct mig_err *err, const char *dev, int i,
    const char *s)
{
	char	where[48];

	if (s == NULL || *s == '\0')
		return 0;
	snprintf(where, sizeof(where), "%s[%d].script", dev, i);
	return mig_domcfg_add(c, err, MIG_DC_SCRIPT, where, "", "%s", s);
}

static int
disks(struct mig_domcfg *c, const libxl_domain_config *dc,
    struct mig_err *err)
{
	const libxl_device_disk	*d;
	const char		*be;
	char			 where[48];
	int			 i;

	for (i = 0; i < dc->num_disks; i++) {
		d = &dc->disks[i];
		be = d->backend == LIBXL_DISK_BACKEND_UNKNOWN ? "" :
		    libxl_disk_backend_to_string(d->backend);
		snprintf(where, sizeof(where), "disks[%d].pdev_path", i);
		if (mig_domcfg_add(c, err, MIG_DC_DISK, where,
		    be != NULL ? be : "?", "%s", d->pdev_path != NULL ?
		    d->pdev_path : "") == -1 ||
		    script(c, err, "disks", i, d->script) == -1 ||
		    other_backend(c, err, "disks", i, d->backend_domid,
		    d->backend_domname) == -1)
			return -1;
		/* COLO disks open a connection to another host. */
		if (!libxl_defbool_is_default(d->colo_enable) &&
		    libxl_defbool_val(d->colo_enable)) {
			snprintf(where, sizeof(where), "disks[%d].colo_enable",
			    i);
			if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, "colo",
			    "%s", d->colo_host != NULL ? d->colo_host : "") ==
			    -1)
				return -1;
		}
	}
	for (i = 0; i < dc->num_p9s; i++) {
		/* A 9p share exports a dom0 directory to the guest. */
		snprintf(where, sizeof(where), "p9s[%d].path", i);
		if (mig_domcfg_add(c, err, MIG_DC_DISK, where, "9pfs", "%s",
		    dc->p9s[i].path != NULL ? dc->p9s[i].path : "") == -1 ||
		    other_backend(c, err, "p9s", i, dc->p9s[i].backend_domid,
		    dc->p9s[i].backend_domname) == -1)
			return -1;
	}
	return 0;
}

/* Devices that only name a backend domain. */
static int
backends(struct mig_domcfg *c, const libxl_domain_config *dc,
    struct mig_err *err)
{
	int	i, rc = 0;

#define BE(arr, num, name)						\
	for (i = 0; rc == 0 && i < dc->num; i++)			\
		rc = other_backend(c, err, name, i, dc->arr[i].backend_domid, \
		    dc->arr[i].backend_domname)
	BE(vfbs, num_vfbs, "vfbs");
	BE(vkbs, num_vkbs, "vkbs");
	BE(vtpms, num_vtpms, "vtpms");
	BE(pvcallsifs, num_pvcallsifs, "pvcallsifs");
	BE(vdispls, num_vdispls, "vdispls");
	BE(vsnds, num_vsnds, "vsnds");
	BE(channels, num_channels, "channels");
	BE(usbctrls, num_usbctrls, "usbctrls");
#undef BE
	return rc;
}

static int
nics_channels(struct mig_domcfg *c, const libxl_domain_config *dc,
    struct mig_err *err)
{
	const libxl_device_nic		*n;
	const libxl_device_channel	*ch;
	char				 where[48];
	int				 i;

	for (i = 0; i < dc->num_nics; i++) {
		n = &dc->nics[i];
		if (script(c, err, "nics", i, n->script) == -1 ||
		    other_backend(c, err, "nics", i, n->backend_domid,
		    n->backend_domname) == -1)
			return -1;
	}
	for (i = 0; i < dc->num_channels; i++) {
		/* The device model creates a socket at a dom0 path. */
		ch = &dc->channels[i];
		if (ch->connection != LIBXL_CHANNEL_CONNECTION_SOCKET)
			continue;
		snprintf(where, sizeof(where), "channels[%d].path", i);
		if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, "channel",
		    "%s", ch->u.socket.path != NULL ? ch->u.socket.path : "") ==
		    -1)
			return -1;
	}
	return 0;
}

/* Hardware handed to the guest. */
static int
passthrough(struct mig_domcfg *c, const libxl_domain_config *dc,
    struct mig_err *err)
{
	const libxl_domain_build_info	*b = &dc->b_info;
	const libxl_device_pci		*p;
	char				 where[48];
	int				 i;

	for (i = 0; i < dc->num_pcidevs; i++) {
		p = &dc->pcidevs[i];
		snprintf(where, sizeof(where), "pcidevs[%d]", i);
		if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, "pci",
		    "%04x:%02x:%02x.%u", (unsigned)p->domain, p->bus, p->dev,
		    p->func) == -1)
			return -1;
	}
	for (i = 0; i < dc->num_usbdevs; i++) {
		snprintf(where, sizeof(where), "usbdevs[%d]", i);
		if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, "usb",
		    "hostbus %u hostaddr %u", dc->usbdevs[i].u.hostdev.hostbus,
		    dc->usbdevs[i].u.hostdev.hostaddr) == -1)
			return -1;
	}
	for (i = 0; i < dc->num_dtdevs; i++) {
		snprintf(where, sizeof(where), "dtdevs[%d]", i);
		if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, "dtdev", "%s",
		    dc->dtdevs[i].path != NULL ? dc->dtdevs[i].path : "") == -1)
			return -1;
	}
	for (i = 0; i < b->num_iomem; i++) {
		snprintf(where, sizeof(where), "b_info.iomem[%d]", i);
		if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, "iomem",
		    "%" PRIx64 ",%" PRIu64, b->iomem[i].start,
		    b->iomem[i].number) == -1)
			return -1;
	}
	for (i = 0; i < b->num_ioports; i++) {
		snprintf(where, sizeof(where), "b_info.ioports[%d]", i);
		if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, "ioports",
		    "%x,%u", b->ioports[i].first, b->ioports[i].number) == -1)
			return -1;
	}
	for (i = 0; i < b->num_irqs; i++) {
		snprintf(where, sizeof(where), "b_info.irqs[%d]", i);
		if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, "irqs", "%u",
		    b->irqs[i]) == -1)
			return -1;
	}
	return 0;
}

/* Each string of l that asks something (all, when asks is NULL). */
static int
string_list(struct mig_domcfg *c, struct mig_err *err, const char *key,
    const char *what, char *const *l, int (*asks)(const char *))
{
	char	where[48];
	int	i;

	for (i = 0; l != NULL && l[i] != NULL; i++) {
		if (asks != NULL && !asks(l[i]))
			continue;
		snprintf(where, sizeof(where), "%s[%d]", key, i);
		if (mig_domcfg_add(c, err, MIG_DC_NAMED, where, what, "%s",
		    l[i]) == -1)
			return -1;
	}
	return 0;
}

static int
one(struct mig_domcfg *c, struct mig_err *err, const char *key,
    const char *what, const char *v)
{
	if (v == NULL || *v == '\0')
		return 0;
	return mig_domcfg_add(c, err, MIG_DC_NAMED, key, what, "%s", v);
}

/* qemu's character device syntax: "file:", "unix:", "tcp:", "pipe:"
 * and the like reach into dom0 or the network; a pty or nothing does
 * not. */
static int
serial_asks(const char *s)
{
	return strcmp(s, "pty") != 0 && strcmp(s, "none") != 0 &&
	    strcmp(s, "null") != 0 && strcmp(s, "vc") != 0;
}

/* An emulated usb device ("tablet", "mouse") is the guest's own; a
 * "host:" one is passthrough. */
static int
usb_asks(const char *s)
{
	return strncmp(s, "host:", 5) == 0;
}

/* A device model of the guest's choosing, or run its way. */
static int
device_model(struct mig_domcfg *c, const libxl_domain_config *dc,
    struct mig_err *err)
{
	const libxl_domain_build_info	*b = &dc->b_info;

	if (one(c, err, "b_info.device_model", "device_model",
	    b->device_model) == -1 ||
	    one(c, err, "b_info.device_model_user", "device_model",
	    b->device_model_user) == -1 ||
	    one(c, err, "b_info.stubdomain_kernel", "device_model",
	    b->stubdomain_kernel) == -1 ||
	    one(c, err, "b_info.stubdomain_ramdisk", "device_model",
	    b->stubdomain_ramdisk) == -1 ||
	    string_list(c, err, "b_info.extra", "device_model",
	    b->extra, NULL) == -1 ||
	    string_list(c, err, "b_info.extra_pv", "device_model",
	    b->extra_pv, NULL) == -1 ||
	    string_list(c, err, "b_info.extra_hvm", "device_model",
	    b->extra_hvm, NULL) == -1)
		return -1;
	if (b->type != LIBXL_DOMAIN_TYPE_HVM)
		return 0;
	if (b->u.hvm.serial != NULL && serial_asks(b->u.hvm.serial) &&
	    one(c, err, "b_info.serial", "serial", b->u.hvm.serial) == -1)
		return -1;
	if (b->u.hvm.usbdevice != NULL && usb_asks(b->u.hvm.usbdevice) &&
	    one(c, err, "b_info.usbdevice", "usb", b->u.hvm.usbdevice) == -1)
		return -1;
	if (string_list(c, err, "b_info.serial_list", "serial",
	    b->u.hvm.serial_list, serial_asks) == -1)
		return -1;
	return string_list(c, err, "b_info.usbdevice_list", "usb",
	    b->u.hvm.usbdevice_list, usb_asks);
}

int
hvx_domcfg(const libxl_domain_config *dc, struct mig_domcfg *c,
    struct mig_err *err)
{
	memset(c, 0, sizeof(*c));
	if (dc->c_info.name != NULL && (c->name = strdup(dc->c_info.name)) ==
	    NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "domain configuration");
	if (!libxl_uuid_is_nil(&dc->c_info.uuid)) {
		c->has_uuid = 1;
		memcpy(c->uuid, libxl_uuid_bytearray_const(&dc->c_info.uuid),
		    16);
	}
	if (disks(c, dc, err) == -1 || nics_channels(c, dc, err) == -1 ||
	    backends(c, dc, err) == -1 || passthrough(c, dc, err) == -1 ||
	    device_model(c, dc, err) == -1) {
		mig_domcfg_free(c);
		return -1;
	}
	return 0;
}
