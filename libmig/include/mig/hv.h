/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hypervisor interface: everything relocd's phase machines need from
 * the hypervisor, behind an ops table so that the real libxl backend
 * (hv_libxl.c) and a simulated host (tests/) are interchangeable.
 *
 * Threading: a struct mig_hv, its operations and its callbacks belong to
 * the thread that runs its event_base.  Callbacks (progress, completion)
 * are always delivered from that event loop, never from inside the call
 * that started the operation, so a callback may call any mig_hv_*
 * function, including starting the next operation.
 *
 * Ownership, in one place:
 *   mig_hv_open()            -> caller owns the handle; mig_hv_close().
 *   mig_hv_save/restore()    -> caller owns the op; mig_hv_op_free().
 *   mig_hv_config_json()     -> caller owns the string; free().
 *   mig_hv_list()            -> caller owns the array; free().
 *   mig_hv_config_describe() -> caller owns the list; mig_domcfg_free().
 *   struct mig_hv_dominfo / hostinfo / progress are plain values: no
 *   pointers inside, copy them freely.
 */
#ifndef MIG_HV_H
#define MIG_HV_H

#include <stddef.h>
#include <stdint.h>

#include "mig/clock.h"

struct event_base;
struct mig_err;
struct mig_domcfg;

#define MIG_HV_NAMELEN		128	/* longest domain name, with NUL */
#define MIG_HV_INVALID_DOMID	0xffffffffu

enum mig_hv_domstate {
	MIG_HV_DOM_RUNNING,	/* running or blocked: the guest may run */
	MIG_HV_DOM_PAUSED,	/* paused by the toolstack */
	MIG_HV_DOM_SUSPENDED,	/* shut down for suspend: resumable */
	MIG_HV_DOM_SHUTDOWN,	/* shut down for any other reason */
	MIG_HV_DOM_DYING	/* being destroyed */
};

enum mig_hv_domtype {
	MIG_HV_TYPE_UNKNOWN,
	MIG_HV_TYPE_PV,
	MIG_HV_TYPE_PVH,
	MIG_HV_TYPE_HVM
};

struct mig_hv_dominfo {
	uint32_t	domid;
	char		name[MIG_HV_NAMELEN];
	uint8_t		uuid[16];
	int		state;		/* enum mig_hv_domstate */
	int		type;		/* enum mig_hv_domtype */
	uint64_t	mem_kib;	/* current allocation */
	uint64_t	maxmem_kib;
	uint32_t	vcpus;		/* online vcpus */
	int		shutdown_reason; /* enum mig_hv_shutdown, with state
					  * SHUTDOWN or SUSPENDED */
};

/* Why a domain shut down: libxl's shutdown reasons, same numbers. */
enum mig_hv_shutdown {
	MIG_HV_SHUTDOWN_POWEROFF,
	MIG_HV_SHUTDOWN_REBOOT,
	MIG_HV_SHUTDOWN_SUSPEND,
	MIG_HV_SHUTDOWN_CRASH,
	MIG_HV_SHUTDOWN_WATCHDOG,
	MIG_HV_SHUTDOWN_SOFT_RESET,
	MIG_HV_SHUTDOWN_UNKNOWN,
	MIG_HV_SHUTDOWN__MAX
};

/* What the domain's configuration says to do about a shutdown: its
 * on_poweroff, on_reboot, ... actions, libxl's numbers; 0 = not set. */
enum mig_hv_action {
	MIG_HV_ACT_UNSET = 0,
	MIG_HV_ACT_DESTROY,
	MIG_HV_ACT_RESTART,
	MIG_HV_ACT_RESTART_RENAME,
	MIG_HV_ACT_PRESERVE,
	MIG_HV_ACT_COREDUMP_DESTROY,
	MIG_HV_ACT_COREDUMP_RESTART,
	MIG_HV_ACT_SOFT_RESET,
	MIG_HV_ACT__MAX
};

/* One action per reason; on[MIG_HV_SHUTDOWN_SUSPEND] is never used. */
struct mig_hv_actions {
	int		on[MIG_HV_SHUTDOWN__MAX];	/* enum mig_hv_action */
};

/* What a watch reports: the domain shut down (once per watch, as
 * libxl's domain death events: a watch started on a domain that is shut
 * down already reports it at once), or it is gone. */
enum mig_hv_domevent_kind {
	MIG_HV_EV_SHUTDOWN,
	MIG_HV_EV_DEATH
};

struct mig_hv_domevent {
	int		kind;		/* enum mig_hv_domevent_kind */
	uint32_t	domid;
	int		reason;		/* SHUTDOWN: enum mig_hv_shutdown */
};

struct mig_hv_hostinfo {
	int		xen_major;
	int		xen_minor;
	char		xen_extra[32];	/* e.g. ".1" or "-unstable" */
	char		arch[32];	/* e.g. "x86_64" */
	uint32_t	page_size;	/* bytes */
	uint64_t	total_kib;
	uint64_t	free_kib;	/* free + being scrubbed, as libxl */
	uint32_t	nr_cpus;
	/* Whether the hypervisor can track dirty pages of a PV guest
	 * (needs shadow paging): 1 yes, 0 no, -1 cannot tell. */
	int		pv_logdirty;
	/* This host's name, as peers should see it: two relocd with the
	 * same hostname are on the same host, so the same hypervisor. */
	char		hostname[256];
};

/* Progress of a save.  The only place the pre-copy iterations can be
 * seen is libxenguest's progress reports, so that is where these come
 * from: one ROUND per report within a round, SUSPENDED when the guest
 * stops (the start of stop-and-copy), END when the last record is
 * about to be written. */
enum mig_hv_progress_kind {
	MIG_HV_PROGRESS_ROUND,
	MIG_HV_PROGRESS_SUSPENDED,
	MIG_HV_PROGRESS_END
};

struct mig_hv_progress {
	int		kind;		/* enum mig_hv_progress_kind */
	unsigned int	round;		/* 0 = first full pass */
	uint64_t	pages_done;	/* this round */
	uint64_t	pages_total;	/* pages this round set out to send */
	uint64_t	dirty_left;	/* pages_total - pages_done */
	uint64_t	t_ns;		/* CLOCK_MONOTONIC when seen */
};

/* Save flags. */
#define MIG_HV_SAVE_LIVE	0x1	/* iterative pre-copy */

struct mig_hv;
struct mig_hv_op;
struct mig_hv_watch;

/* A disk's new place: disks[index].pdev_path becomes path. */
struct mig_hv_disk_path {
	unsigned	 index;
	const char	*path;
};

typedef void	(*mig_hv_progress_cb)(struct mig_hv_op *,
		    const struct mig_hv_progress *, void *);
/* Called once, from the event loop, when the operation has finished;
 * err->code is MIG_OK on success.  The op stays valid until
 * mig_hv_op_free(), which the callback may call. */
typedef void	(*mig_hv_done_cb)(struct mig_hv_op *, const struct mig_err *,
		    void *);

/*
 * What a backend implements.  Every function returns 0 or -1 with err
 * set.  Asynchronous ones (save_start, restore_start) report the end
 * through mig_hv_op_complete() and progress through mig_hv_op_progress()
 * (backend helpers below); they must not complete synchronously from
 * within the start call (hv.c defers delivery anyway).
 */
struct mig_hv_ops {
	const char	*name;
	int	(*open)(struct mig_hv *, void *arg, struct mig_err *);
	void	(*close)(struct mig_hv *);
	int	(*hostinfo)(struct mig_hv *, struct mig_hv_hostinfo *,
		    struct mig_err *);
	/* MIG_E_NOTFOUND if there is no such domain. */
	int	(*dominfo)(struct mig_hv *, uint32_t,
		    struct mig_hv_dominfo *, struct mig_err *);
	int	(*list)(struct mig_hv *, struct mig_hv_dominfo **, int *,
		    struct mig_err *);
	char	*(*config_json)(struct mig_hv *, uint32_t, struct mig_err *);
	int	(*config_memory)(struct mig_hv *, const char *, uint64_t *,
		    struct mig_err *);
	int	(*config_describe)(struct mig_hv *, const char *,
		    struct mig_domcfg *, struct mig_err *);
	char	*(*config_set_uuid)(struct mig_hv *, const char *,
		    const uint8_t [16], struct mig_err *);
	/* NULL: the backend cannot (moving storage is then refused). */
	char	*(*config_set_disks)(struct mig_hv *, const char *,
		    const struct mig_hv_disk_path *, size_t,
		    struct mig_err *);
	int	(*save_start)(struct mig_hv *, struct mig_hv_op *, uint32_t,
		    int, int, struct mig_err *);
	/* Leaves the new domain paused; hv.c unpauses it if asked to. */
	int	(*restore_start)(struct mig_hv *, struct mig_hv_op *, int,
		    const char *, const char *, struct mig_err *);
	int	(*abort)(struct mig_hv *, struct mig_hv_op *,
		    struct mig_err *);
	int	(*rename)(struct mig_hv *, uint32_t, const char *,
		    const char *, struct mig_err *);
	int	(*pause)(struct mig_hv *, uint32_t, struct mig_err *);
	int	(*unpause)(struct mig_hv *, uint32_t, struct mig_err *);
	int	(*destroy)(struct mig_hv *, uint32_t, struct mig_err *);
	int	(*resume)(struct mig_hv *, uint32_t, struct mig_err *);
	int	(*cap_get)(struct mig_hv *, uint32_t, int *, struct mig_err *);
	int	(*cap_set)(struct mig_hv *, uint32_t, int, struct mig_err *);
	/* The domain's life (hv_life.c has the rules).  A watch reports
	 * through mig_hv_watch_note(), from any context: hv delivers. */
	int	(*watch_start)(struct mig_hv *, struct mig_hv_watch *,
		    uint32_t, struct mig_err *);
	void	(*watch_stop)(struct mig_hv *, struct mig_hv_watch *);
	int	(*config_actions)(struct mig_hv *, const char *,
		    struct mig_hv_actions *, struct mig_err *);
	/* Builds a domain from JSON, left paused. */
	int	(*create)(struct mig_hv *, const char *, uint32_t *,
		    struct mig_err *);
	/* Renames a shut-down domain NAME+suffix with a new uuid. */
	int	(*preserve)(struct mig_hv *, uint32_t, const char *,
		    struct mig_err *);
	int	(*core_dump)(struct mig_hv *, uint32_t, const char *,
		    struct mig_err *);
	/* Resets the domain in place from JSON, left paused. */
	int	(*soft_reset)(struct mig_hv *, uint32_t, const char *,
		    struct mig_err *);
};

extern const struct mig_hv_ops mig_hv_libxl_ops;

/*
 * Options for mig_hv_libxl_ops (the arg of mig_hv_open, may be NULL).
 * The libxl backend owns SIGCHLD for the life of the handle (libxl's
 * selective-reap mode): open refuses if the process has a SIGCHLD handler
 * (a worker forked from relocd's parent resets it to SIG_DFL first), and
 * the process may reap its own children only with waitpid(pid).  It also
 * sets SIGPIPE to ignored if it was at its default.
 */
enum mig_hv_loglevel {
	MIG_HV_LOG_DEFAULT,	/* INFO, or DEBUG when mig_log_getverbose() > 1 */
	MIG_HV_LOG_DEBUG,
	MIG_HV_LOG_INFO,
	MIG_HV_LOG_WARN,
	MIG_HV_LOG_ERROR
};
struct mig_hv_libxl_conf {
	int	log_min;	/* enum mig_hv_loglevel */
};

/* --- handle (hv.c) --- */
struct mig_hv	*mig_hv_open(const struct mig_hv_ops *, void *arg,
		    struct event_base *, struct mig_err *);
/* Aborts the operations still in flight (without calling their
 * callbacks) and runs the loop until they have ended, then frees every
 * op and the handle: no op pointer is valid afterwards.  Not from inside
 * one of the handle's callbacks. */
void		 mig_hv_close(struct mig_hv *);
struct event_base *mig_hv_base(struct mig_hv *);
const char	*mig_hv_backend_name(const struct mig_hv *);

/* --- host and domains --- */
int		 mig_hv_hostinfo(struct mig_hv *, struct mig_hv_hostinfo *,
		    struct mig_err *);
/* spec is a domid ("7"), a uuid ("6a7f0e1c-...") or a name, tried in
 * that order as xl does.  MIG_E_NOTFOUND if nothing matches. */
int		 mig_hv_find(struct mig_hv *, const char *,
		    struct mig_hv_dominfo *, struct mig_err *);
int		 mig_hv_dominfo(struct mig_hv *, uint32_t,
		    struct mig_hv_dominfo *, struct mig_err *);
/* *list is malloc'd (free() it), *n its length; on -1 *list is NULL. */
int		 mig_hv_list(struct mig_hv *, struct mig_hv_dominfo **, int *,
		    struct mig_err *);

/* --- configuration (libxl JSON, as xl sends it) --- */
char		*mig_hv_config_json(struct mig_hv *, uint32_t,
		    struct mig_err *);
int		 mig_hv_config_memory(struct mig_hv *, const char *,
		    uint64_t *, struct mig_err *);
/* What the configuration asks of this host (domcfg.h), parsed as the
 * backend's create would parse it; the caller frees it with
 * mig_domcfg_free().  Fails (as config_memory does) on a config that
 * does not parse. */
int		 mig_hv_config_describe(struct mig_hv *, const char *,
		    struct mig_domcfg *, struct mig_err *);
/* The configuration with c_info.uuid set to uuid, as the backend's own
 * parser and writer give it (an operator's file names no uuid, and a
 * domain keeps its own); the caller frees it. */
char		*mig_hv_config_set_uuid(struct mig_hv *, const char *,
		    const uint8_t [16], struct mig_err *);
/* The configuration with each disks[index].pdev_path replaced, through
 * the backend's own parser and writer (a disk moved with its domain);
 * an index the configuration does not have is MIG_E_INVAL.  The caller
 * frees it. */
char		*mig_hv_config_set_disks(struct mig_hv *, const char *,
		    const struct mig_hv_disk_path *, size_t,
		    struct mig_err *);

/* --- save and restore: asynchronous --- */
/* Writes domid's stream to fd (the fd stays the caller's, and must stay
 * open until done).  Returns NULL on a failure to start, in which case
 * no callback will ever be called. */
struct mig_hv_op *mig_hv_save(struct mig_hv *, uint32_t, int fd, int flags,
		    mig_hv_progress_cb, mig_hv_done_cb, void *,
		    struct mig_err *);
/* Creates a domain called name from json and the stream on fd; the
 * domain is left paused when paused != 0.  mig_hv_op_domid() gives the
 * new domain's id once done.  On failure the half-built domain has been
 * destroyed. */
struct mig_hv_op *mig_hv_restore(struct mig_hv *, int fd, const char *json,
		    const char *name, int paused, mig_hv_done_cb, void *,
		    struct mig_err *);
/* Asks the operation to stop; it still completes through its done
 * callback, with MIG_E_CANCELLED if the abort took effect. */
int		 mig_hv_abort(struct mig_hv_op *, struct mig_err *);
/* Runs the event loop until op has finished; returns its result.  Not
 * from inside a callback of the same loop (libevent loops do not nest). */
int		 mig_hv_wait(struct mig_hv_op *, struct mig_err *);
int		 mig_hv_op_done(const struct mig_hv_op *);
int		 mig_hv_op_result(const struct mig_hv_op *, struct mig_err *);
uint32_t	 mig_hv_op_domid(const struct mig_hv_op *);
/* Frees an op.  One whose end the caller has not seen yet is aborted
 * and detached instead: no callback is called any more, hv frees it when
 * it ends, and a restore's domain is then destroyed. */
void		 mig_hv_op_free(struct mig_hv_op *);

/*
 * The failure rule for the source after a failed save, before commit:
 * make the domain run again.  A domain that never got suspended is left
 * alone; a suspended one is resumed with suspend_cancel.  A save that
 * failed with MIG_E_TIMEOUT (the guest did not acknowledge the suspend
 * request in time) is NOT resumed: such a guest may still be on its way
 * into suspend, and resuming it blind can corrupt it; -1 with MIG_E_HV
 * asks for an operator.
 */
int		 mig_hv_recover_source(struct mig_hv *, uint32_t,
		    const struct mig_err *save_err, struct mig_err *);

/* --- domain control: synchronous --- */
/* old may be NULL (any name); with a name the rename happens only if
 * the domain still has it. */
int		 mig_hv_rename(struct mig_hv *, uint32_t, const char *old,
		    const char *new, struct mig_err *);
int		 mig_hv_pause(struct mig_hv *, uint32_t, struct mig_err *);
int		 mig_hv_unpause(struct mig_hv *, uint32_t, struct mig_err *);
int		 mig_hv_destroy(struct mig_hv *, uint32_t, struct mig_err *);
/* Resume after a failed suspend (co-operative: suspend_cancel). */
int		 mig_hv_resume(struct mig_hv *, uint32_t, struct mig_err *);
/* Credit scheduler cap in percent of one cpu, 0 = no cap. */
int		 mig_hv_cap_get(struct mig_hv *, uint32_t, int *,
		    struct mig_err *);
int		 mig_hv_cap_set(struct mig_hv *, uint32_t, int,
		    struct mig_err *);

/* --- the domain's life (hv_life.c) --- */
typedef void	(*mig_hv_watch_cb)(struct mig_hv_watch *,
		    const struct mig_hv_domevent *, void *);
/* Watches domid for its shutdown and its death.  Events come from the
 * event loop, never from inside a hypervisor call; the callback may
 * call anything, mig_hv_unwatch() included.  Every watch must be
 * unwatched before mig_hv_close(). */
struct mig_hv_watch *mig_hv_watch(struct mig_hv *, uint32_t,
		    mig_hv_watch_cb, void *, struct mig_err *);
void		 mig_hv_unwatch(struct mig_hv_watch *);
uint32_t	 mig_hv_watch_domid(const struct mig_hv_watch *);
/* The configuration's actions, with xl's defaults for those it does not
 * set: poweroff destroy, reboot restart, crash destroy, watchdog
 * destroy, soft_reset soft-reset. */
int		 mig_hv_config_actions(struct mig_hv *, const char *,
		    struct mig_hv_actions *, struct mig_err *);
/* Builds a new domain from the configuration and runs it unless paused;
 * a domain that cannot be unpaused is destroyed. */
int		 mig_hv_create(struct mig_hv *, const char *, int, uint32_t *,
		    struct mig_err *);
int		 mig_hv_preserve(struct mig_hv *, uint32_t, const char *,
		    struct mig_err *);
int		 mig_hv_core_dump(struct mig_hv *, uint32_t, const char *,
		    struct mig_err *);
/* Resets domid from the configuration and runs it again. */
int		 mig_hv_soft_reset(struct mig_hv *, uint32_t, const char *,
		    struct mig_err *);
/* "poweroff", "reboot", ...; "destroy", "rename-restart", ... (xl's
 * spelling in a domain configuration file). */
const char	*mig_hv_shutdown_name(int);
const char	*mig_hv_action_name(int);
/* Takes xl's spelling and libxl's ("restart_rename"); -1 if neither. */
int		 mig_hv_action_parse(const char *);

/* --- helpers --- */
/* Parses one libxenguest progress report (the xtl progress "doing_what"
 * with done/total).  Returns 1 and fills *p for a report that means
 * something to a migration, 0 for the others. */
int		 mig_hv_progress_parse(const char *, unsigned long,
		    unsigned long, struct mig_hv_progress *);
/* Caps a first pass's report (round 0) at the guest's memory, mem_kib:
 * libxenguest walks an HVM or PVH guest's whole pfn space, which runs past
 * its memory to the special pages below 4 GiB, holes that carry no data. */
void		 mig_hv_progress_cap(struct mig_hv_progress *, uint64_t,
		    uint32_t);
const char	*mig_hv_domstate_name(int);
const char	*mig_hv_domtype_name(int);
/* 0 and 16 bytes in uuid for a canonical 36-character uuid, else -1. */
int		 mig_hv_uuid_parse(const char *, uint8_t[16]);
void		 mig_hv_uuid_format(const uint8_t[16], char[37]);

/* --- for backends only --- */
const struct mig_hv_ops *mig_hv_backend(struct mig_hv *);
void		*mig_hv_priv(struct mig_hv *);
void		 mig_hv_set_priv(struct mig_hv *, void *);
void		*mig_hv_op_priv(struct mig_hv_op *);
void		 mig_hv_op_set_priv(struct mig_hv_op *, void *);
struct mig_hv	*mig_hv_op_hv(struct mig_hv_op *);
void		 mig_hv_op_set_domid(struct mig_hv_op *, uint32_t);
/* Queue the end (err NULL = success) or a progress report of op; both
 * are delivered in order from the event loop. */
void		 mig_hv_op_complete(struct mig_hv_op *, const struct mig_err *);
void		 mig_hv_op_progress(struct mig_hv_op *,
		    const struct mig_hv_progress *);
/* Queue an event of w (delivered in order from the event loop). */
void		 mig_hv_watch_note(struct mig_hv_watch *,
		    const struct mig_hv_domevent *);
void		*mig_hv_watch_priv(struct mig_hv_watch *);
void		 mig_hv_watch_set_priv(struct mig_hv_watch *, void *);
struct mig_hv	*mig_hv_watch_hv(struct mig_hv_watch *);

#endif
