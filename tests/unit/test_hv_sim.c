/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulated Xen host through libmig's hypervisor interface: save and
 * restore of real-format streams between two simulated hosts, the
 * pre-copy rounds of a dirtying guest, every fault knob, and the domain
 * control calls with their error codes.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "mig/error.h"
#include "mig/domcfg.h"
#include "mig/hv.h"
#include "hv_sim.h"
#include "mig/stream.h"
#include "streamgen.h"

#define NPAGES		1024	/* a 4 MiB guest */
#define MAXEV		4096

struct host {
	char		 dir[64];
	struct mig_hv	*hv;
};

struct env {
	struct event_base	*base;
	struct host		 a, b;
	/* progress seen by the save in flight */
	struct mig_hv_progress	 ev[MAXEV];
	int			 nev;
	int			 abort_at_round;	/* -1: never */
	struct mig_hv_op	*save_op;
};

/* --- fixtures --- */

static void
host_up(struct env *e, struct host *h, uint64_t mem_mib)
{
	struct hv_sim_conf	conf;
	struct mig_err		err;

	snprintf(h->dir, sizeof(h->dir), "/tmp/test_hv_sim.XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	assert_int_equal(hv_sim_init(h->dir, mem_mib, 4, 17, &err), 0);
	/* Fixed round time: the dirtying is reproducible. */
	assert_int_equal(hv_sim_host_set(h->dir, "round_ms", "100", &err), 0);
	conf.dir = h->dir;
	h->hv = mig_hv_open(&hv_sim_ops, &conf, e->base, &err);
	assert_non_null(h->hv);
}

static void
host_down(struct host *h)
{
	char		 path[512];
	struct dirent	*de;
	DIR		*d;

	mig_hv_close(h->hv);
	if ((d = opendir(h->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", h->dir,
			    de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(h->dir);
}

static int
setup(void **state)
{
	struct env	*e;

	e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->base = event_base_new();
	assert_non_null(e->base);
	e->abort_at_round = -1;
	host_up(e, &e->a, 256);
	host_up(e, &e->b, 256);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env	*e = *state;

	host_down(&e->a);
	host_down(&e->b);
	event_base_free(e->base);
	free(e);
	return 0;
}

static uint32_t
mkdom(struct host *h, const char *name, uint64_t rate)
{
	struct mig_err	err;
	uint32_t	domid;

	assert_int_equal(hv_sim_create(h->dir, name, NPAGES / 256, rate, NULL,
	    NULL, &domid, &err), 0);
	return domid;
}

static int
domstate(struct host *h, uint32_t domid)
{
	struct mig_hv_dominfo	di;

	assert_int_equal(mig_hv_dominfo(h->hv, domid, &di, NULL), 0);
	return di.state;
}

static void
checksum(struct host *h, uint32_t domid, char hex[65])
{
	struct mig_err	err;

	assert_int_equal(hv_sim_checksum(h->dir, domid, hex, &err), 0);
}

static int
ndoms(struct host *h)
{
	struct mig_hv_dominfo	*list;
	int			 n;

	assert_int_equal(mig_hv_list(h->hv, &list, &n, NULL), 0);
	free(list);
	return n;
}

static uint64_t
free_kib(struct host *h)
{
	struct mig_hv_hostinfo	hi;

	assert_int_equal(mig_hv_hostinfo(h->hv, &hi, NULL), 0);
	return hi.free_kib;
}

/* --- a save in flight --- */

static void
on_progress(struct mig_hv_op *op, const struct mig_hv_progress *p, void *arg)
{
	struct env	*e = arg;

	if (e->nev < MAXEV)
		e->ev[e->nev++] = *p;
	/* From inside a callback, as a phase machine would. */
	if (p->kind == MIG_HV_PROGRESS_ROUND && (int)p->round ==
	    e->abort_at_round)
		assert_int_equal(mig_hv_abort(op, NULL), 0);
}

static struct mig_hv_op *
save_start(struct env *e, uint32_t domid, int fd, int flags)
{
	struct mig_err		 err;
	struct mig_hv_op	*op;

	e->nev = 0;
	op = mig_hv_save(e->a.hv, domid, fd, flags, on_progress, NULL, e,
	    &err);
	assert_non_null(op);
	return op;
}

/* Reads one end of a socketpair until EOF, into a buffer. */
struct sink {
	pthread_t	t;
	int		fd;
	struct sg_buf	buf;
	atomic_size_t	got;	/* read by the test while the thread runs */
};

static void *
sink_main(void *arg)
{
	struct sink	*s = arg;
	uint8_t		 b[65536];
	ssize_t		 n;

	while ((n = read(s->fd, b, sizeof(b))) > 0) {
		assert_int_equal(sg_buf_write(&s->buf, b, (size_t)n), 0);
		s->got += (size_t)n;
	}
	return NULL;
}

static int
sink_start(struct sink *s)
{
	int	sv[2];

	memset(s, 0, sizeof(*s));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	s->fd = sv[1];
	assert_int_equal(pthread_create(&s->t, NULL, sink_main, s), 0);
	return sv[0];
}

static int
sink_start_pipe(struct sink *s)
{
	int	p[2];

	memset(s, 0, sizeof(*s));
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	s->fd = p[0];
	assert_int_equal(pthread_create(&s->t, NULL, sink_main, s), 0);
	return p[1];
}

/* Closes the writer's end and collects what arrived. */
static void
sink_stop(struct sink *s, int wfd)
{
	close(wfd);
	pthread_join(s->t, NULL);
	close(s->fd);
}

/* Saves domid of host a to a buffer; returns the save's result. */
static int
save_to_buf(struct env *e, uint32_t domid, int flags, struct sink *s,
    struct mig_err *err)
{
	struct mig_hv_op	*op;
	int			 fd, rc;

	fd = sink_start(s);
	op = save_start(e, domid, fd, flags);
	rc = mig_hv_wait(op, err);
	mig_hv_op_free(op);
	sink_stop(s, fd);
	return rc;
}

/* Live or not, a to b through a socketpair: both ends run at once. */
static uint32_t
migrate(struct env *e, uint32_t domid, int flags, const char *name)
{
	struct mig_hv_op	*sop, *rop;
	struct mig_err		 err;
	char			*json;
	uint32_t		 newid;
	int			 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	json = mig_hv_config_json(e->a.hv, domid, &err);
	assert_non_null(json);
	rop = mig_hv_restore(e->b.hv, sv[1], json, name, 1, NULL, NULL, &err);
	assert_non_null(rop);
	free(json);
	sop = save_start(e, domid, sv[0], flags);
	assert_int_equal(mig_hv_wait(sop, &err), 0);
	assert_int_equal(mig_hv_wait(rop, &err), 0);
	newid = mig_hv_op_domid(rop);
	assert_int_not_equal(newid, MIG_HV_INVALID_DOMID);
	mig_hv_op_free(sop);
	mig_hv_op_free(rop);
	close(sv[0]);
	close(sv[1]);
	return newid;
}

static unsigned
last_round(struct env *e)
{
	unsigned	r = 0;
	int		i;

	for (i = 0; i < e->nev; i++)
		if (e->ev[i].kind == MIG_HV_PROGRESS_ROUND && e->ev[i].round > r)
			r = e->ev[i].round;
	return r;
}

/* Pages the round set out to send (from its last report). */
static uint64_t
round_pages(struct env *e, unsigned round)
{
	uint64_t	n = 0;
	int		i;

	for (i = 0; i < e->nev; i++)
		if (e->ev[i].kind == MIG_HV_PROGRESS_ROUND &&
		    e->ev[i].round == round)
			n = e->ev[i].pages_total;
	return n;
}

static int
find_event(struct env *e, int kind)
{
	int	i;

	for (i = 0; i < e->nev; i++)
		if (e->ev[i].kind == kind)
			return i;
	return -1;
}

/* --- tests --- */

static void
test_nonlive_save_restore(void **state)
{
	struct env		*e = *state;
	struct mig_hv_dominfo	 di;
	char			 src[65], dst[65];
	uint64_t		 freeb = free_kib(&e->b);
	uint32_t		 domid, newid;
	int			 susp, end, i;

	domid = mkdom(&e->a, "vm", 5000);
	newid = migrate(e, domid, 0, "vm--incoming");

	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_SUSPENDED);
	assert_int_equal(mig_hv_dominfo(e->b.hv, newid, &di, NULL), 0);
	assert_string_equal(di.name, "vm--incoming");
	assert_int_equal(di.state, MIG_HV_DOM_PAUSED);
	assert_int_equal(di.mem_kib, NPAGES * 4);
	assert_int_equal(free_kib(&e->b), freeb - NPAGES * 4);
	checksum(&e->a, domid, src);
	checksum(&e->b, newid, dst);
	assert_string_equal(src, dst);

	/* Suspend first, one pass of every page, then the end. */
	susp = find_event(e, MIG_HV_PROGRESS_SUSPENDED);
	end = find_event(e, MIG_HV_PROGRESS_END);
	assert_true(susp >= 0 && end > susp);
	for (i = 0; i < e->nev; i++)
		if (e->ev[i].kind == MIG_HV_PROGRESS_ROUND) {
			assert_true(i > susp && i < end);
			assert_int_equal(e->ev[i].round, 0);
			assert_int_equal(e->ev[i].pages_total, NPAGES);
			assert_int_equal(e->ev[i].dirty_left,
			    NPAGES - e->ev[i].pages_done);
		}
	assert_int_equal(e->ev[end - 1].pages_done, NPAGES);
}

static void
test_stream_parses(void **state)
{
	struct env		*e = *state;
	struct mig_stream	 ps;
	struct sink		 s;
	struct mig_err		 err;
	uint32_t		 domid;

	domid = mkdom(&e->a, "vm", 0);
	assert_int_equal(save_to_buf(e, domid, 0, &s, &err), 0);
	/* What libxl_domain_suspend writes: "LibxlFmt", no xl header. */
	assert_true(s.buf.len > 16);
	assert_memory_equal(s.buf.p, "LibxlFmt", 8);
	mig_stream_init(&ps, MIG_STREAM_NO_XL_HEADER);
	assert_int_equal(mig_stream_feed(&ps, s.buf.p, s.buf.len, &err),
	    (ssize_t)s.buf.len);
	assert_int_equal(mig_stream_finish(&ps, &err), 0);
	assert_int_equal(ps.stats.pages, NPAGES);
	assert_int_equal(ps.stats.guest_type, MIG_LIBXC_DOM_X86_PV);
	assert_int_equal(ps.stats.bytes, s.buf.len);	/* nothing after END */
	sg_buf_free(&s.buf);
}

static void
test_live_dirtying_stops_at_5(void **state)
{
	struct env	*e = *state;
	char		 src[65], dst[65];
	uint32_t	 domid, newid;
	unsigned	 r;
	int		 susp;

	/* 2000 pages/s for 100 ms rounds: ~200 dirty pages a round, never
	 * under 50, so libxenguest's 5-iteration limit ends pre-copy. */
	domid = mkdom(&e->a, "busy", 2000);
	checksum(&e->a, domid, src);
	newid = migrate(e, domid, MIG_HV_SAVE_LIVE, "busy--incoming");

	assert_int_equal(last_round(e), 5);
	assert_int_equal(round_pages(e, 0), NPAGES);
	for (r = 1; r <= 5; r++) {
		assert_true(round_pages(e, r) >= 50);
		assert_true(round_pages(e, r) <= 200);
	}
	/* Suspended between the last pre-copy round and the final one. */
	susp = find_event(e, MIG_HV_PROGRESS_SUSPENDED);
	assert_true(susp > 0);
	assert_int_equal(e->ev[susp - 1].round, 4);
	assert_int_equal(e->ev[susp + 1].round, 5);

	/* The guest wrote to its memory; the target has it as it was at
	 * the suspend, which is how the source still is. */
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_SUSPENDED);
	checksum(&e->b, newid, dst);
	assert_string_not_equal(src, dst);
	checksum(&e->a, domid, src);
	assert_string_equal(src, dst);
}

static void
test_live_converges(void **state)
{
	struct env	*e = *state;
	char		 src[65], dst[65];
	uint32_t	 domid, newid;

	/* 300 pages/s x 100 ms = 30 pages: under 50 after round 0. */
	domid = mkdom(&e->a, "calm", 300);
	newid = migrate(e, domid, MIG_HV_SAVE_LIVE, "calm--incoming");
	assert_int_equal(last_round(e), 1);
	assert_true(round_pages(e, 1) > 0 && round_pages(e, 1) <= 30);
	checksum(&e->a, domid, src);
	checksum(&e->b, newid, dst);
	assert_string_equal(src, dst);
}

static void
test_cap_slows_the_guest(void **state)
{
	struct env	*e = *state;
	uint32_t	 domid;

	/* The same busy guest capped at 10%: 20 pages a round. */
	domid = mkdom(&e->a, "capped", 2000);
	assert_int_equal(mig_hv_cap_set(e->a.hv, domid, 10, NULL), 0);
	(void)migrate(e, domid, MIG_HV_SAVE_LIVE, "capped--incoming");
	assert_int_equal(last_round(e), 1);
	assert_true(round_pages(e, 1) <= 20);
}

static void
test_never_converge(void **state)
{
	struct env	*e = *state;
	struct mig_err	 err;
	char		 src[65], dst[65];
	uint32_t	 domid, newid;

	domid = mkdom(&e->a, "wild", 0);
	assert_int_equal(hv_sim_fault(e->a.dir, "never_converge", "1", &err),
	    0);
	newid = migrate(e, domid, MIG_HV_SAVE_LIVE, "wild--incoming");
	assert_int_equal(last_round(e), 5);
	assert_int_equal(round_pages(e, 5), NPAGES);	/* a large final round */
	checksum(&e->a, domid, src);
	checksum(&e->b, newid, dst);
	assert_string_equal(src, dst);
}

static void
test_paused_guest_dirties_nothing(void **state)
{
	struct env	*e = *state;
	uint32_t	 domid;

	domid = mkdom(&e->a, "still", 100000);
	assert_int_equal(mig_hv_pause(e->a.hv, domid, NULL), 0);
	(void)migrate(e, domid, MIG_HV_SAVE_LIVE, "still--incoming");
	assert_int_equal(last_round(e), 1);
	assert_int_equal(round_pages(e, 1), 0);
}

static void
test_fail_suspend(void **state)
{
	struct env	*e = *state;
	struct sink	 s;
	struct mig_err	 err;
	uint32_t	 domid;

	domid = mkdom(&e->a, "vm", 0);
	assert_int_equal(hv_sim_fault(e->a.dir, "fail_suspend", "on", &err), 0);
	assert_int_equal(save_to_buf(e, domid, MIG_HV_SAVE_LIVE, &s, &err), -1);
	assert_int_equal(err.code, MIG_E_HV);
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_RUNNING);
	assert_int_equal(find_event(e, MIG_HV_PROGRESS_SUSPENDED), -1);
	sg_buf_free(&s.buf);
}

static void
test_die_after_fails(void **state)
{
	struct env	*e = *state;
	struct sink	 s;
	struct mig_err	 err;
	uint32_t	 domid;

	domid = mkdom(&e->a, "vm", 0);
	assert_int_equal(hv_sim_fault(e->a.dir, "die_mode", "fail", &err), 0);
	assert_int_equal(hv_sim_fault(e->a.dir, "die_after", "10000", &err), 0);
	assert_int_equal(save_to_buf(e, domid, MIG_HV_SAVE_LIVE, &s, &err), -1);
	assert_int_equal(err.code, MIG_E_IO);
	assert_int_equal(s.buf.len, 10000);
	/* Died in round 0, before any suspend. */
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_RUNNING);
	sg_buf_free(&s.buf);
}

static void
test_die_after_exits(void **state)
{
	struct env	*e = *state;
	struct hv_sim_conf conf = { e->a.dir };
	struct mig_err	 err;
	uint32_t	 domid;
	pid_t		 pid;
	int		 status, fd;

	domid = mkdom(&e->a, "vm", 0);
	assert_int_equal(hv_sim_fault(e->a.dir, "die_after", "5000", &err), 0);
	if ((pid = fork()) == 0) {
		struct event_base	*base = event_base_new();
		struct mig_hv		*hv;
		struct mig_hv_op	*op;

		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		hv = mig_hv_open(&hv_sim_ops, &conf, base, NULL);
		if (hv == NULL || (op = mig_hv_save(hv, domid, fd, 0, NULL,
		    NULL, NULL, NULL)) == NULL)
			_exit(1);
		(void)mig_hv_wait(op, NULL);
		_exit(0);	/* the fault did not fire */
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), HV_SIM_DIE_STATUS);
	/* The worker died after the suspend of a non-live save: the
	 * domain is left suspended for the recovery to resume. */
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_SUSPENDED);
	assert_int_equal(mig_hv_recover_source(e->a.hv, domid, NULL, NULL), 0);
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_RUNNING);
}

static void
test_stall_until_abort(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct sink		 s;
	struct mig_err		 err;
	uint32_t		 domid;
	int			 fd, i;

	domid = mkdom(&e->a, "vm", 0);
	assert_int_equal(hv_sim_fault(e->a.dir, "stall_after", "5000", &err),
	    0);
	fd = sink_start(&s);
	op = save_start(e, domid, fd, MIG_HV_SAVE_LIVE);
	for (i = 0; s.got < 5000 && i < 5000; i++) {
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_int_equal(s.got, 5000);
	for (i = 0; i < 20; i++) {
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_false(mig_hv_op_done(op));
	assert_int_equal(s.got, 5000);
	assert_int_equal(mig_hv_abort(op, &err), 0);
	assert_int_equal(mig_hv_wait(op, &err), -1);
	assert_int_equal(err.code, MIG_E_CANCELLED);
	mig_hv_op_free(op);
	sink_stop(&s, fd);
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_RUNNING);
	sg_buf_free(&s.buf);
}

static void
test_abort_before_suspend(void **state)
{
	struct env	*e = *state;
	struct sink	 s;
	struct mig_err	 err;
	uint32_t	 domid;

	domid = mkdom(&e->a, "busy", 2000);
	e->abort_at_round = 2;
	/* The saver waits before round 3 until the abort that round 2's
	 * progress sends: without it, a slow event loop let the rounds
	 * converge and the guest suspend before the abort arrived. */
	assert_int_equal(hv_sim_fault(e->a.dir, "hold", "round3", &err), 0);
	assert_int_equal(save_to_buf(e, domid, MIG_HV_SAVE_LIVE, &s, &err), -1);
	assert_int_equal(err.code, MIG_E_CANCELLED);
	assert_int_equal(find_event(e, MIG_HV_PROGRESS_SUSPENDED), -1);
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_RUNNING);
	/* recover_source has nothing to undo. */
	assert_int_equal(mig_hv_recover_source(e->a.hv, domid, &err, NULL), 0);
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_RUNNING);
	sg_buf_free(&s.buf);
}

static void
test_restore_nomem(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;
	uint32_t		 domid, other;
	char			*json;
	int			 sv[2];

	domid = mkdom(&e->a, "vm", 0);
	other = mkdom(&e->b, "bystander", 0);
	json = mig_hv_config_json(e->a.hv, domid, &err);
	assert_non_null(json);

	/* The knob, then a real shortage: both refuse, neither touches
	 * what the host already runs. */
	assert_int_equal(hv_sim_fault(e->b.dir, "restore_nomem", "1", &err), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	op = mig_hv_restore(e->b.hv, sv[1], json, "vm--incoming", 1, NULL,
	    NULL, &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), -1);
	assert_int_equal(err.code, MIG_E_NOMEM);
	assert_int_equal(mig_hv_op_domid(op), MIG_HV_INVALID_DOMID);
	mig_hv_op_free(op);
	assert_int_equal(hv_sim_fault(e->b.dir, "restore_nomem", "0", &err), 0);

	assert_int_equal(hv_sim_host_set(e->b.dir, "free_kib", "1024", &err),
	    0);
	op = mig_hv_restore(e->b.hv, sv[1], json, "vm--incoming", 1, NULL,
	    NULL, &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), -1);
	assert_int_equal(err.code, MIG_E_NOMEM);
	assert_non_null(strstr(err.msg, "not enough free memory"));
	mig_hv_op_free(op);
	close(sv[0]);
	close(sv[1]);
	free(json);

	assert_int_equal(ndoms(&e->b), 1);
	assert_int_equal(domstate(&e->b, other), MIG_HV_DOM_RUNNING);
	assert_int_equal(free_kib(&e->b), 1024);
}

static void
test_restore_bad_stream_destroys(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;
	struct sink		 s;
	uint64_t		 before = free_kib(&e->b);
	uint32_t		 domid;
	char			*json;
	int			 sv[2];

	domid = mkdom(&e->a, "vm", 0);
	assert_int_equal(save_to_buf(e, domid, 0, &s, &err), 0);
	json = mig_hv_config_json(e->a.hv, domid, &err);

	/* A stream cut short, then a damaged one. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(write(sv[0], s.buf.p, 100000), 100000);
	close(sv[0]);
	op = mig_hv_restore(e->b.hv, sv[1], json, NULL, 1, NULL, NULL, &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), -1);
	assert_int_equal(err.code, MIG_E_TRUNC);
	mig_hv_op_free(op);
	close(sv[1]);
	assert_int_equal(ndoms(&e->b), 0);
	assert_int_equal(free_kib(&e->b), before);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	s.buf.p[3] ^= 0x40;			/* "LibxlFmt" no more */
	assert_int_equal(write(sv[0], s.buf.p, 4096), 4096);
	op = mig_hv_restore(e->b.hv, sv[1], json, NULL, 1, NULL, NULL, &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), -1);
	assert_int_equal(err.code, MIG_E_CORRUPT);
	mig_hv_op_free(op);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(ndoms(&e->b), 0);
	assert_int_equal(free_kib(&e->b), before);
	free(json);
	sg_buf_free(&s.buf);
}

static void
test_restore_abort_destroys(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;
	char			*json;
	uint32_t		 domid;
	int			 sv[2], i;

	domid = mkdom(&e->a, "vm", 0);
	json = mig_hv_config_json(e->a.hv, domid, &err);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	op = mig_hv_restore(e->b.hv, sv[1], json, "vm--incoming", 0, NULL,
	    NULL, &err);
	assert_non_null(op);
	/* Wait for the container to exist (nothing arrives to read). */
	for (i = 0; ndoms(&e->b) == 0 && i < 5000; i++)
		usleep(1000);
	assert_int_equal(ndoms(&e->b), 1);
	assert_int_equal(mig_hv_abort(op, &err), 0);
	assert_int_equal(mig_hv_wait(op, &err), -1);
	assert_int_equal(err.code, MIG_E_CANCELLED);
	mig_hv_op_free(op);
	close(sv[0]);
	close(sv[1]);
	free(json);
	assert_int_equal(ndoms(&e->b), 0);
}

/* The restore stops at the libxl END record: what follows is the
 * caller's (the migration protocol goes on on the same socket). */
static void
test_restore_reads_no_further(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;
	struct sink		 s;
	char			*json, after[8];
	uint32_t		 domid;
	int			 sv[2];

	domid = mkdom(&e->a, "vm", 0);
	assert_int_equal(save_to_buf(e, domid, 0, &s, &err), 0);
	json = mig_hv_config_json(e->a.hv, domid, &err);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(sg_buf_write(&s.buf, "TRAILER", 7), 0);
	op = mig_hv_restore(e->b.hv, sv[1], json, NULL, 0, NULL, NULL, &err);
	assert_non_null(op);
	assert_int_equal(write(sv[0], s.buf.p, s.buf.len), (ssize_t)s.buf.len);
	assert_int_equal(mig_hv_wait(op, &err), 0);
	/* Not asked to stay paused: hv.c unpaused it. */
	assert_int_equal(domstate(&e->b, mig_hv_op_domid(op)),
	    MIG_HV_DOM_RUNNING);
	mig_hv_op_free(op);
	assert_int_equal(read(sv[1], after, 7), 7);
	assert_memory_equal(after, "TRAILER", 7);
	close(sv[0]);
	close(sv[1]);
	free(json);
	sg_buf_free(&s.buf);
}

static void
test_rename(void **state)
{
	struct env		*e = *state;
	struct mig_hv_dominfo	 di;
	struct mig_err		 err;
	uint32_t		 domid;

	domid = mkdom(&e->a, "vm", 0);
	(void)mkdom(&e->a, "taken", 0);
	assert_int_equal(mig_hv_rename(e->a.hv, domid, "stale", "vm2", &err),
	    -1);
	assert_int_equal(err.code, MIG_E_INVAL);
	assert_int_equal(mig_hv_rename(e->a.hv, domid, NULL, "taken", &err),
	    -1);
	assert_int_equal(err.code, MIG_E_INVAL);
	assert_int_equal(mig_hv_find(e->a.hv, "vm", &di, NULL), 0);
	assert_int_equal(di.domid, domid);

	assert_int_equal(mig_hv_rename(e->a.hv, domid, "vm",
	    "vm--migratedaway", &err), 0);
	assert_int_equal(mig_hv_find(e->a.hv, "vm--migratedaway", &di, NULL),
	    0);
	assert_int_equal(mig_hv_find(e->a.hv, "vm", &di, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTFOUND);
	assert_int_equal(mig_hv_rename(e->a.hv, 999, NULL, "x", &err), -1);
	assert_int_equal(err.code, MIG_E_NOTFOUND);
}


/* in, given uuid u by the simulated host's set_uuid: still valid JSON,
 * with u as its c_info.uuid and the name it had. */
static void
uuid_set(struct mig_hv *hv, const char *in, const uint8_t u[16])
{
	struct mig_domcfg	 was, now;
	struct mig_err		 err;
	char			*json;

	memset(&was, 0, sizeof(was));
	memset(&now, 0, sizeof(now));
	json = mig_hv_config_set_uuid(hv, in, u, &err);
	assert_non_null(json);
	assert_int_equal(mig_hv_config_describe(hv, in, &was, &err), 0);
	assert_int_equal(mig_hv_config_describe(hv, json, &now, &err), 0);
	assert_true(now.has_uuid);
	assert_memory_equal(now.uuid, u, 16);
	if (was.name != NULL)
		assert_string_equal(now.name, was.name);
	mig_domcfg_free(&was);
	mig_domcfg_free(&now);
	free(json);
}
static void
test_domain_control(void **state)
{
	struct env		*e = *state;
	struct mig_hv_dominfo	 di;
	struct mig_err		 err;
	uint64_t		 kib, before = free_kib(&e->a);
	uint32_t		 domid;
	char			*json, u[37];
	int			 cap;

	domid = mkdom(&e->a, "vm", 0);
	assert_int_equal(free_kib(&e->a), before - NPAGES * 4);

	/* The config is libxl-like JSON with the current name and memory. */
	assert_int_equal(mig_hv_rename(e->a.hv, domid, NULL, "renamed", NULL),
	    0);
	json = mig_hv_config_json(e->a.hv, domid, &err);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"name\": \"renamed\""));
	assert_int_equal(mig_hv_dominfo(e->a.hv, domid, &di, NULL), 0);
	mig_hv_uuid_format(di.uuid, u);
	assert_non_null(strstr(json, u));
	assert_int_equal(mig_hv_config_memory(e->a.hv, json, &kib, &err), 0);
	assert_int_equal(kib, NPAGES * 4);
	free(json);
	assert_int_equal(mig_hv_config_memory(e->a.hv, "{\"b_info\": {", &kib,
	    &err), -1);
	assert_int_equal(err.code, MIG_E_INVAL);
	assert_int_equal(mig_hv_find(e->a.hv, u, &di, NULL), 0);
	/* A uuid given to a configuration without one, in or out of a
	 * c_info, and over one it has; the rest kept as written. */
#define BI	"\"b_info\": {\"max_memkb\": 1024}"
	uuid_set(e->a.hv, "{" BI "}", di.uuid);
	uuid_set(e->a.hv, "{\"c_info\": {}, " BI "}", di.uuid);
	uuid_set(e->a.hv, "{\"c_info\": {\"name\": \"n\"}, \"disks\": [], "
	    BI "}", di.uuid);
	uuid_set(e->a.hv, "{\"c_info\": {\"uuid\": \"7e570001-7e57-4001-8001-"
	    "7e5700000001\", \"name\": \"n\"}, " BI "}", di.uuid);
#undef BI
	assert_null(mig_hv_config_set_uuid(e->a.hv, "{\"c_info\": ", di.uuid,
	    &err));
	assert_int_equal(err.code, MIG_E_INVAL);

	assert_int_equal(mig_hv_resume(e->a.hv, domid, &err), -1);
	assert_int_equal(err.code, MIG_E_HV);
	assert_int_equal(mig_hv_pause(e->a.hv, domid, NULL), 0);
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_PAUSED);
	assert_int_equal(mig_hv_unpause(e->a.hv, domid, NULL), 0);
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_RUNNING);

	assert_int_equal(mig_hv_cap_get(e->a.hv, domid, &cap, NULL), 0);
	assert_int_equal(cap, 0);
	assert_int_equal(mig_hv_cap_set(e->a.hv, domid, 50, NULL), 0);
	assert_int_equal(mig_hv_cap_get(e->a.hv, domid, &cap, NULL), 0);
	assert_int_equal(cap, 50);

	assert_int_equal(mig_hv_dominfo(e->a.hv, 4242, &di, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTFOUND);
	assert_int_equal(mig_hv_destroy(e->a.hv, domid, NULL), 0);
	assert_int_equal(free_kib(&e->a), before);
	assert_int_equal(mig_hv_destroy(e->a.hv, domid, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTFOUND);
	assert_null(mig_hv_save(e->a.hv, domid, 1, 0, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, MIG_E_NOTFOUND);
}

static void
test_hosts_independent(void **state)
{
	struct env		*e = *state;
	struct mig_hv_hostinfo	 hi;
	struct mig_hv_dominfo	 di;
	uint32_t		 da, db;

	assert_int_equal(hv_sim_host_set(e->b.dir, "xen_minor", "18", NULL),
	    0);
	da = mkdom(&e->a, "same", 0);
	db = mkdom(&e->b, "same", 0);
	assert_int_equal(mig_hv_destroy(e->a.hv, da, NULL), 0);
	assert_int_equal(ndoms(&e->a), 0);
	assert_int_equal(mig_hv_find(e->b.hv, "same", &di, NULL), 0);
	assert_int_equal(di.domid, db);
	assert_int_equal(mig_hv_hostinfo(e->a.hv, &hi, NULL), 0);
	assert_int_equal(hi.xen_minor, 17);
	assert_string_equal(hi.arch, "x86_64");
	assert_int_equal(hi.page_size, 4096);
	assert_int_equal(mig_hv_hostinfo(e->b.hv, &hi, NULL), 0);
	assert_int_equal(hi.xen_minor, 18);
	assert_int_equal(hi.free_kib, 256 * 1024 - NPAGES * 4);
}

/* Workers of one daemon change one host at once: nothing is lost. */
static void
test_processes_share_a_host(void **state)
{
	struct env	*e = *state;
	char		 name[32];
	pid_t		 pid[4];
	int		 i, k, status;

	for (i = 0; i < 4; i++) {
		if ((pid[i] = fork()) == 0) {
			for (k = 0; k < 8; k++) {
				snprintf(name, sizeof(name), "w%d-%d", i, k);
				if (hv_sim_create(e->a.dir, name, 1, 0, NULL,
				    NULL, NULL, NULL) == -1)
					_exit(1);
			}
			_exit(0);
		}
		assert_true(pid[i] > 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(ndoms(&e->a), 32);
	assert_int_equal(free_kib(&e->a), (256 - 32) * 1024);
}

static void
test_second_save_refused(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;
	uint32_t		 domid;
	int			 sv[2];

	domid = mkdom(&e->a, "vm", 0);
	assert_int_equal(hv_sim_fault(e->a.dir, "stall_after", "0", &err), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	op = save_start(e, domid, sv[0], MIG_HV_SAVE_LIVE);
	assert_null(mig_hv_save(e->a.hv, domid, sv[0], 0, NULL, NULL, NULL,
	    &err));
	assert_int_equal(err.code, MIG_E_HV);
	/* Freed while running: aborted and reaped by hv close. */
	mig_hv_op_free(op);
	close(sv[0]);
	close(sv[1]);
}

static void
test_no_logdirty(void **state)
{
	struct env	*e = *state;
	struct sink	 s;
	struct mig_err	 err;
	uint32_t	 domid;

	domid = mkdom(&e->a, "vm", 0);
	assert_int_equal(hv_sim_host_set(e->a.dir, "pv_logdirty", "0", &err),
	    0);
	assert_int_equal(save_to_buf(e, domid, MIG_HV_SAVE_LIVE, &s, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTSUP);
	assert_int_equal(domstate(&e->a, domid), MIG_HV_DOM_RUNNING);
	sg_buf_free(&s.buf);
	/* Stop-and-copy needs no dirty tracking. */
	assert_int_equal(save_to_buf(e, domid, 0, &s, &err), 0);
	sg_buf_free(&s.buf);
}

/* A pipe and a regular file take the same stream as a socket. */
static void
test_pipe_and_file(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;
	struct sink		 s;
	char			 path[] = "/tmp/test_hv_sim.img.XXXXXX";
	char			 src[65], dst[65], *json;
	uint32_t		 domid;
	int			 fd, wfd;

	domid = mkdom(&e->a, "vm", 3000);
	wfd = sink_start_pipe(&s);
	op = save_start(e, domid, wfd, MIG_HV_SAVE_LIVE);
	assert_int_equal(mig_hv_wait(op, &err), 0);
	mig_hv_op_free(op);
	sink_stop(&s, wfd);
	assert_true(s.buf.len > NPAGES * 4096);
	sg_buf_free(&s.buf);
	assert_int_equal(mig_hv_resume(e->a.hv, domid, NULL), 0);

	assert_true((fd = mkstemp(path)) != -1);
	unlink(path);
	op = save_start(e, domid, fd, 0);
	assert_int_equal(mig_hv_wait(op, &err), 0);
	mig_hv_op_free(op);
	checksum(&e->a, domid, src);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	json = mig_hv_config_json(e->a.hv, domid, &err);
	op = mig_hv_restore(e->b.hv, fd, json, NULL, 1, NULL, NULL, &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), 0);
	checksum(&e->b, mig_hv_op_domid(op), dst);
	assert_string_equal(src, dst);
	mig_hv_op_free(op);
	free(json);
	close(fd);
}

static int
run(const char *cmd, char *out, size_t len)
{
	FILE	*f;
	size_t	 n;

	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	return pclose(f);
}

/* simctl, as shell tests use it (run from the build directory). */
static void
test_simctl(void **state)
{
	struct env	*e = *state;
	struct hv_sim_dom d;
	char		 cmd[512], out[1024], hex[65];
	const char	*bin = "tests/sim/simctl";

	if (access(bin, X_OK) == -1)
		skip();
#define SIMCTL(args) (snprintf(cmd, sizeof(cmd), "%s -d %s " args \
	" 2>&1", bin, e->a.dir), run(cmd, out, sizeof(out)))
	assert_int_equal(SIMCTL("create web --mem-mib 4 --dirty-rate 77"), 0);
	assert_int_equal(hv_sim_lookup(e->a.dir, "web", &d, NULL), 0);
	assert_int_equal(d.dirty_rate, 77);
	assert_int_equal(SIMCTL("list"), 0);
	assert_string_equal(out, "1 web running 4\n");
	assert_int_equal(SIMCTL("set-rate web 5"), 0);
	assert_int_equal(SIMCTL("info 1"), 0);
	assert_non_null(strstr(out, "dirty_rate: 5\n"));
	assert_int_equal(SIMCTL("checksum web"), 0);
	assert_int_equal(hv_sim_checksum(e->a.dir, 1, hex, NULL), 0);
	assert_memory_equal(out, hex, 64);
	assert_int_equal(SIMCTL("fault die_after 100"), 0);
	assert_int_not_equal(SIMCTL("fault die_after lots"), 0);
	assert_non_null(strstr(out, "die_after"));
	assert_int_not_equal(SIMCTL("create web --mem-mib 4"), 0);
	assert_non_null(strstr(out, "already exists"));
	assert_int_not_equal(SIMCTL("create huge --mem-mib 100000"), 0);
	assert_non_null(strstr(out, "not enough free memory"));
	assert_int_not_equal(SIMCTL("info nosuch"), 0);
	assert_int_equal(SIMCTL("destroy web"), 0);
	assert_int_equal(SIMCTL("list"), 0);
	assert_string_equal(out, "");
	assert_int_not_equal(SIMCTL("init"), 0);	/* already a host */
#undef SIMCTL
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_nonlive_save_restore),
		T(test_stream_parses),
		T(test_live_dirtying_stops_at_5),
		T(test_live_converges),
		T(test_cap_slows_the_guest),
		T(test_never_converge),
		T(test_paused_guest_dirties_nothing),
		T(test_fail_suspend),
		T(test_die_after_fails),
		T(test_die_after_exits),
		T(test_stall_until_abort),
		T(test_abort_before_suspend),
		T(test_restore_nomem),
		T(test_restore_bad_stream_destroys),
		T(test_restore_abort_destroys),
		T(test_restore_reads_no_further),
		T(test_rename),
		T(test_domain_control),
		T(test_hosts_independent),
		T(test_processes_share_a_host),
		T(test_second_save_refused),
		T(test_no_logdirty),
		T(test_pipe_and_file),
		T(test_simctl),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
