/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fake libxl for test_hv_libxl: the libxl functions the backend calls
 * are redirected here with -Wl,--wrap.  The ctx itself is real: the
 * libxc and xenstore handles libxl_ctx_alloc opens are interposed with
 * dummies, so libxl's own JSON and event code can run without Xen.
 */
#ifndef HV_LIBXL_WRAP_H
#define HV_LIBXL_WRAP_H

#include <stdint.h>
#include <libxl.h>
#include <libxl_event.h>

struct event_base;

#define FAKE_MAXDOMS	8
#define FAKE_MAXSTEPS	32

struct fake_dom {
	uint32_t	 domid;
	const char	*name;
	const char	*uuid;
	int		 paused, shutdown, dying, reason;
	int		 type;		/* LIBXL_DOMAIN_TYPE_* */
};

/* One scripted report of the fake save helper, sent before completion. */
struct fake_step {
	int		 is_log;	/* 1: an error line, 0: progress */
	const char	*what;
	unsigned long	 done, total;
};

struct fake_libxl {
	struct event_base	*base;
	xentoollog_logger	*lg;		/* as given to ctx_alloc */
	int			 ctx_alloc_rc;

	struct fake_dom		 doms[FAKE_MAXDOMS];
	int			 ndoms;
	const char		*config_json;	/* retrieve_configuration */

	/* save */
	int			 suspend_start_rc;
	int			 save_rc;
	int			 save_hold;	/* complete only on abort */
	struct fake_step	 steps[FAKE_MAXSTEPS];
	int			 nsteps;
	int			 suspend_calls;
	uint32_t		 suspend_domid;
	int			 suspend_fd, suspend_flags;
	libxl_asyncop_how	 how;		/* of the op in flight */
	int			 inflight;
	int			 abort_calls;

	/* restore */
	int			 restore_rc;
	uint32_t		 restore_domid;
	int			 restore_calls;
	char			 restore_name[128];
	uint32_t		 restore_stream_version;
	int			 restore_checkpointed;
	int			 restore_send_back_fd, restore_fd;
	uint64_t		 restore_maxmem;
	uint32_t		*domid_out;

	/* control */
	int			 resume_calls, resume_cancel;
	uint32_t		 resume_domid;
	int			 resume_rc;
	int			 unpause_calls, pause_calls, destroy_calls;
	uint32_t		 unpause_domid, destroy_domid;
	int			 control_rc;
	char			 rename_old[128], rename_new[128];
	int			 rename_calls;

	/* host */
	int			 physinfo_rc;
	int			 cap_pv, cap_shadow;
	int			 version_null;

	/* memory, scheduler */
	uint64_t		 need_kib;
	char			 need_name[128];
	int			 sched;		/* LIBXL_SCHEDULER_* */
	int			 cap;
	int			 cap_set_calls;

	/* osevent capture for the hook tests */
	void			*token;		/* for_libxl marking ours */
	int			 fd_calls, timeout_calls;
	int			 last_fd;
	short			 last_revents;
	void			(*on_fd)(void);	/* run inside occurred_fd */
};

extern struct fake_libxl fake;

void	fake_reset(struct event_base *);
void	fake_add_dom(uint32_t, const char *, const char *, int);

#endif
