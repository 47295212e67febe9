/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the libxl backend (hv_libxl*.c): not installed.
 */
#ifndef MIG_HV_LIBXL_H
#define MIG_HV_LIBXL_H

#include <libxl.h>
#include <libxl_event.h>
#include <xentoollog.h>

struct event;
struct mig_hv;
struct mig_hv_op;
struct hvx;
struct mig_domcfg;
struct mig_hv_actions;
struct mig_hv_watch;

/* Our xentoollog_logger; vt must come first, libxl sees only that. */
struct hvx_logger {
	xentoollog_logger	 vt;
	struct hvx		*x;
	xentoollog_level	 min;
};

/* A domain watch's libxl half: the evgen, and an id libxl carries as
 * the event's for_user, so that a late event of a stopped watch finds
 * nothing instead of freed memory. */
struct hvx_watch {
	uint64_t			 id;
	struct mig_hv_watch		*w;
	libxl_evgen_domain_death	*evgen;
	struct hvx_watch		*next;
};

struct hvx {
	struct mig_hv		*hv;
	struct event_base	*base;
	libxl_ctx		*ctx;
	struct hvx_logger	 lg;
	/* The save that progress reports belong to: libxl has one logger
	 * per ctx, so one save at a time gets them. */
	struct mig_hv_op	*progress_op;
	int			 logdirty_unsupported;	/* since last save */
	char			 lasterr[200];	/* last libxl error line */
	struct hvx_watch	*watches;
	uint64_t		 next_watch;
};

/* hv_libxl_log.c */
void	hvx_logger_init(struct hvx *, int);
/* Whether a libxenguest error line says dirty-page tracking is missing. */
int	hvx_is_logdirty_notsup(const char *);

/* hv_libxl_ev.c */
extern const libxl_osevent_hooks	hvx_osevent_hooks;

/* hv_libxl_cfg.c */
int	hvx_domcfg(const libxl_domain_config *, struct mig_domcfg *,
	    struct mig_err *);

/* hv_libxl_life.c: watches, and acting on a shutdown */
void	hvx_life_open(struct hvx *);
int	hvx_watch_start(struct mig_hv *, struct mig_hv_watch *, uint32_t,
	    struct mig_err *);
void	hvx_watch_stop(struct mig_hv *, struct mig_hv_watch *);
int	hvx_config_actions(struct mig_hv *, const char *,
	    struct mig_hv_actions *, struct mig_err *);
int	hvx_create(struct mig_hv *, const char *, uint32_t *,
	    struct mig_err *);
int	hvx_preserve(struct mig_hv *, uint32_t, const char *,
	    struct mig_err *);
int	hvx_core_dump(struct mig_hv *, uint32_t, const char *,
	    struct mig_err *);
int	hvx_soft_reset(struct mig_hv *, uint32_t, const char *,
	    struct mig_err *);

/* hv_libxl.c */
struct hvx *hvx_begin(struct mig_hv *);
int	hvx_config_parse(struct hvx *, const char *, libxl_domain_config *,
	    struct mig_err *);
int	hvx_seterr(struct hvx *, struct mig_err *, int, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
const char *hvx_errname(int, char *, size_t);

#endif
