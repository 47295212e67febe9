/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated host's private interfaces, one heading per file. */
#ifndef SIM_H
#define SIM_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "mig/error.h"
#include "mig/hv.h"
#include "hv_sim.h"

#define SIM_MAXDOMS	256

/* A handle's private part (hv_sim.c, sim_life.c). */
struct sim_watch;
struct event;
struct hv_sim {
	char			 dir[PATH_MAX];
	struct sim_watch	*watches;
	struct event		*poll_ev;	/* while there are watches */
};
const char *sim_dir(struct mig_hv *);
#define SIM_PAGE	4096

/* sim_state.c: the host file, read and written under the host lock */
struct sim_host {
	int			xen_major;
	int			xen_minor;
	char			xen_extra[32];
	char			arch[32];
	uint32_t		page_size;
	uint64_t		total_kib;
	uint64_t		free_kib;
	uint32_t		nr_cpus;
	int			pv_logdirty;
	/* Length of a pre-copy round for the dirtying model; 0 = the
	 * real time the round took.  Tests set it to be deterministic. */
	uint32_t		round_ms;
	/* A restore opens every disk its configuration names, as Xen
	 * attaches them (sim_disk.c); off by default: most tests' configs
	 * name disks that are not there. */
	int			attach_disks;
	uint32_t		next_domid;
	int			ndoms;
	struct hv_sim_dom	doms[SIM_MAXDOMS];
};

/* One look at, or one change of, the host: the lock is held from
 * sim_begin() to sim_commit()/sim_end(). */
struct sim_txn {
	const char	*dir;
	int		 lockfd;
	struct sim_host	*h;
};

int	sim_begin(struct sim_txn *, const char *, int excl, struct mig_err *);
int	sim_commit(struct sim_txn *, struct mig_err *);
void	sim_end(struct sim_txn *);
struct hv_sim_dom *sim_dom(struct sim_host *, uint32_t);
struct hv_sim_dom *sim_dom_byname(struct sim_host *, const char *);
/* Adds a domain: checks name and memory, gives it an id. */
struct hv_sim_dom *sim_dom_add(struct sim_host *, const char *, uint64_t,
	    struct mig_err *);
void	sim_dom_remove(struct sim_host *, struct hv_sim_dom *);
/* "pv", "pvh", "hvm"...: its enum mig_hv_domtype, or -1. */
int	sim_type_parse(const char *);
int	sim_state_init(const char *, uint64_t, int, int, struct mig_err *);
int	sim_host_set(struct sim_host *, const char *, const char *,
	    struct mig_err *);
const char *sim_path(const char *, const char *, char *, size_t);
void	sim_uuid_random(uint8_t[16]);
/* Reads the domain, under a shared lock. */
int	sim_dom_get(const char *, uint32_t, struct hv_sim_dom *,
	    struct mig_err *);
/* Sets the state of domid if it is in one of the states of mask. */
int	sim_dom_set_state(const char *, uint32_t, unsigned, int,
	    struct mig_err *);
#define SIM_ST(s)	(1u << (s))

/* sim_faults.c */
struct sim_faults {
	int	fail_suspend;
	int64_t	die_after;	/* bytes; -1 off */
	int	die_exit;	/* 1: _exit() the process; 0: fail the save */
	int64_t	stall_after;	/* bytes; -1 off */
	int	restore_nomem;
	int	never_converge;
	int	fail_unpause;	/* read at each unpause */
	char	fail_sync[16];	/* journal state whose fdatasync fails */
	int64_t	echo_delay_ms;	/* a failed stream write is reported this
				 * much later; -1 off */
	char	hold[32];	/* a point that blocks while armed; "" off */
	char	image_fail[24];	/* "OP:ERRNO" of an image's I/O; "" off */
	int64_t	image_fail_after; /* a write fails from this size on */
};
int	sim_faults_load(const char *, struct sim_faults *, struct mig_err *);
int	sim_faults_set(const char *, const char *, const char *,
	    struct mig_err *);
void	sim_hold(const char *, const char *);
void	sim_hold_until(const char *, const char *, atomic_int *);

/* sim_mem.c: a domain's memory, a file of pages */
const char *sim_mem_path(const char *, uint32_t, char *, size_t);
int	sim_mem_create(const char *, const struct hv_sim_dom *, int fill,
	    struct mig_err *);
int	sim_mem_open(const char *, uint32_t, struct mig_err *);
void	sim_mem_unlink(const char *, uint32_t);
int	sim_mem_read(int, uint64_t, uint8_t *);
int	sim_mem_write(int, uint64_t, const uint8_t *);
/* The guest writes to the page: a new counter value in it. */
int	sim_mem_touch(int, uint64_t);
int	sim_mem_sha256(const char *, uint32_t, char[65], struct mig_err *);

/* sim_json.c: the minimal libxl domain config the host keeps */
#define SIM_DISKS	8
#define SIM_DISK_PATH	512
struct sim_cfg {
	char		name[MIG_HV_NAMELEN];
	int		has_uuid;
	uint8_t		uuid[16];
	int		type;
	uint64_t	max_memkb;
	uint32_t	vcpus;
	int		cap;		/* b_info.sched_params.cap; 0 = none */
	int		on[MIG_HV_SHUTDOWN__MAX];	/* on_poweroff...; 0 unset */
	int		ndisks;		/* disks[i].pdev_path, "" none */
	char		disks[SIM_DISKS][SIM_DISK_PATH];
};
/* The domain's configuration, its disks (sim_disks_load) included. */
char	*sim_json_write(const struct hv_sim_dom *, const struct sim_cfg *);
int	sim_json_parse(const char *, struct sim_cfg *, struct mig_err *);
struct mig_domcfg;
int	sim_json_describe(const char *, struct mig_domcfg *,
	    struct mig_err *);
/* The document with c_info.uuid set, everything else kept as written
 * (libxl's writer would keep what the simulated host does not read). */
char	*sim_json_set_uuid(const char *, const uint8_t [16],
	    struct mig_err *);
char	*sim_json_set_disks(const char *, const struct mig_hv_disk_path *,
	    size_t, struct mig_err *);

/* sim_disk.c: a domain's disks, in disks.DOMID */
int	sim_disks_check(const struct sim_cfg *, struct mig_err *);
int	sim_disks_save(const char *, uint32_t, const struct sim_cfg *,
	    struct mig_err *);
int	sim_disks_load(const char *, uint32_t, struct sim_cfg *);
void	sim_disks_unlink(const char *, uint32_t);

/* sim_job.c: a save or restore run in a thread, reporting to the loop */
struct sim_job {
	struct mig_hv_op	*op;
	char			 dir[PATH_MAX];
	struct sim_faults	 faults;
	void			*(*run)(void *);
	pthread_t		 thread;
	int			 started;
	int			 note_rd;
	int			 note_wr;
	int			 wake;		/* eventfd: abort */
	struct event		*ev;
	atomic_int		 aborted;
	int			 fd;		/* the stream */
	int			 savelock;	/* one save per domain */
	int			 is_sock;
	int			 is_fifo;
	uint64_t		 bytes;		/* through the fd */
	struct mig_err		 err;		/* the thread's failure */
	/* save */
	uint32_t		 domid;
	int			 live;
	int			 suspended;
	uint8_t			 obuf[65536];
	size_t			 olen;
	/* restore */
	struct sim_cfg		 cfg;
	uint32_t		 new_domid;
};

struct sim_job *sim_job_new(struct mig_hv_op *, const char *, int,
	    struct mig_err *);
/* Starts the thread; on failure the job is freed. */
int	sim_job_start(struct sim_job *, void *(*)(void *), struct mig_err *);
void	sim_job_free(struct sim_job *);
void	sim_job_abort(struct sim_job *);
int	sim_job_aborted(struct sim_job *);
/* From the thread: */
void	sim_job_progress(struct sim_job *, const struct mig_hv_progress *);
void	sim_job_done(struct sim_job *, uint32_t domid);
int	sim_job_write(struct sim_job *, const void *, size_t);
int	sim_job_flush(struct sim_job *);
int	sim_job_read(struct sim_job *, void *, size_t);
void	sim_job_stall(struct sim_job *);
int	sim_job_cancelled(struct sim_job *);

/* sim_save.c, sim_restore.c: the thread bodies */
void	*sim_save_main(void *);
void	*sim_restore_main(void *);

/* sim_life.c: a domain's life, as the libxl backend's */
void	sim_life_close(struct hv_sim *);
int	sim_watch_start(struct mig_hv *, struct mig_hv_watch *, uint32_t,
	    struct mig_err *);
void	sim_watch_stop(struct mig_hv *, struct mig_hv_watch *);
int	sim_config_actions(struct mig_hv *, const char *,
	    struct mig_hv_actions *, struct mig_err *);
int	sim_create(struct mig_hv *, const char *, uint32_t *,
	    struct mig_err *);
int	sim_preserve(struct mig_hv *, uint32_t, const char *,
	    struct mig_err *);
int	sim_core_dump(struct mig_hv *, uint32_t, const char *,
	    struct mig_err *);
int	sim_soft_reset(struct mig_hv *, uint32_t, const char *,
	    struct mig_err *);

#endif
