/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A simulated Xen host: a test double of the hypervisor behind the same
 * ops table as the libxl backend, so relocd's phase machines run without
 * Xen.  Everything lives in a host directory (see tests/sim/README.md),
 * shared safely by every process that opens it; two directories are two
 * hosts.  Save writes and restore reads real-format libxl v2 streams.
 */
#ifndef HV_SIM_H
#define HV_SIM_H

#include <stdint.h>

#include "mig/error.h"
#include "mig/hv.h"

extern const struct mig_hv_ops hv_sim_ops;

/* The open arg of hv_sim_ops; NULL (or dir NULL) reads HV_SIM_ENV. */
struct hv_sim_conf {
	const char	*dir;
};
#define HV_SIM_ENV		"RELOCD_SIM_DIR"

/* Exit status of a process killed by the die_after fault. */
#define HV_SIM_DIE_STATUS	86

/* What the host keeps of a domain, besides its memory file. */
struct hv_sim_dom {
	uint32_t	domid;
	int		state;		/* enum mig_hv_domstate */
	int		type;		/* enum mig_hv_domtype */
	uint64_t	mem_kib;
	uint32_t	vcpus;
	uint64_t	dirty_rate;	/* pages per second while running */
	int		cap;		/* credit cap, percent; 0 = none */
	int		reason;		/* enum mig_hv_shutdown, when shut
					 * down or suspended */
	int		on[MIG_HV_SHUTDOWN__MAX];	/* its actions, as its
					 * configuration says; 0 = unset */
	uint8_t		uuid[16];
	char		name[MIG_HV_NAMELEN];
};

/* Creates a host directory (and the directory itself if missing). */
int	hv_sim_init(const char *dir, uint64_t mem_mib, int xen_major,
	    int xen_minor, struct mig_err *);
/* Sets a host fact: xen_major xen_minor xen_extra arch page_size
 * total_kib free_kib nr_cpus pv_logdirty round_ms. */
int	hv_sim_host_set(const char *dir, const char *key, const char *value,
	    struct mig_err *);
/* A new running domain with patterned memory; uuid NULL = random; type
 * "pv", "pvh" or "hvm" (NULL = pv). */
int	hv_sim_create(const char *dir, const char *name, uint64_t mem_mib,
	    uint64_t dirty_rate, const char *uuid, const char *type,
	    uint32_t *domid, struct mig_err *);
/* spec: a domid or a name.  MIG_E_NOTFOUND if there is none. */
/* The domain (name or domid) gets the disk at path (simctl disk). */
int	hv_sim_add_disk(const char *dir, const char *spec, const char *path,
	    struct mig_err *);
int	hv_sim_lookup(const char *dir, const char *spec, struct hv_sim_dom *,
	    struct mig_err *);
int	hv_sim_set_rate(const char *dir, uint32_t domid, uint64_t rate,
	    struct mig_err *);
/* The credit cap, percent of one cpu; 0 = none (scales the dirty rate). */
int	hv_sim_set_cap(const char *dir, uint32_t domid, int cap,
	    struct mig_err *);
int	hv_sim_destroy(const char *dir, uint32_t domid, struct mig_err *);
/* The guest shuts itself down (poweroff, reboot, crash...): a running
 * domain becomes shut down, or suspended, with that reason. */
int	hv_sim_shutdown(const char *dir, uint32_t domid, int reason,
	    struct mig_err *);
/* What its configuration says to do on a shutdown for that reason. */
int	hv_sim_set_action(const char *dir, uint32_t domid, int reason,
	    int action, struct mig_err *);
/* Fault knobs (README.md): fail_suspend die_after die_mode stall_after
 * restore_nomem never_converge; "off" clears one. */
int	hv_sim_fault(const char *dir, const char *knob, const char *value,
	    struct mig_err *);
/* SHA-256 of the domain's memory, lower-case hex. */
int	hv_sim_checksum(const char *dir, uint32_t domid, char hex[65],
	    struct mig_err *);

#endif
