/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a domain configuration asks of the host that creates it, beyond
 * memory and cpus: every file or device dom0 opens for the guest, every
 * program it runs, every piece of hardware it hands over.  libxl does all
 * of that as root in dom0 before a byte of a migration stream is checked,
 * so a receiver must judge it first.
 *
 * A backend builds this from the configuration with the hypervisor's own
 * parser (hv_libxl_cfg.c: libxl_domain_config_from_json), never by
 * searching the text; a receive policy (relocd/policy.c) then judges the
 * plain list, without the hypervisor.
 */
#ifndef MIG_DOMCFG_H
#define MIG_DOMCFG_H

#include <stddef.h>
#include <stdint.h>

enum mig_domcfg_kind {
	/* A disk or a 9p share: what names the storage dom0 opens.
	 * what: the disk backend ("phy", "qdisk", "tap", "standalone",
	 * "" when libxl chooses); value: the path ("" for an empty
	 * CD-ROM drive). */
	MIG_DC_DISK,
	/* A hotplug script libxl runs as root; value: as configured. */
	MIG_DC_SCRIPT,
	/* A device whose backend is not dom0; value: the backend domain's
	 * name, or "domid N". */
	MIG_DC_BACKEND,
	/* Anything a receiver allows only by name; what: the name
	 * ("pci", "iomem", "device_model", ...), value: what is asked. */
	MIG_DC_NAMED
};

struct mig_domcfg_item {
	int	 kind;		/* enum mig_domcfg_kind */
	char	 where[48];	/* the config key: "disks[0].pdev_path" */
	char	 what[16];
	char	*value;
};

struct mig_domcfg {
	char			*name;		/* c_info.name; NULL: none */
	int			 has_uuid;	/* c_info.uuid set, not nil */
	uint8_t			 uuid[16];
	struct mig_domcfg_item	*items;
	size_t			 n;
};

/* Appends an item (value printf-style); -1 with err on no memory. */
struct mig_err;
int	mig_domcfg_add(struct mig_domcfg *, struct mig_err *, int kind,
	    const char *where, const char *what, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
/* Frees what the struct holds and zeroes it; the struct is the
 * caller's.  Safe on a zeroed struct. */
void	mig_domcfg_free(struct mig_domcfg *);

#endif
