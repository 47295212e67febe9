/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hypervisor interface and its libxl backend, without Xen: libxl's
 * entry points are faked (hv_libxl_wrap.c) but its ctx, JSON code and
 * event plumbing are the real ones.
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "mig/domcfg.h"
#include "mig/error.h"
#include "mig/hv.h"
#include "hv_libxl.h"
#include "hv_libxl_wrap.h"

#define UUID5	"6a7f0e1c-3b7e-4c8e-9d1a-2b3c4d5e6f70"
#define CONFIG_JSON \
	"{\"c_info\":{\"type\":\"pv\",\"name\":\"guest1\",\"uuid\":\"" UUID5 \
	"\"},\"b_info\":{\"max_vcpus\":2,\"max_memkb\":524288," \
	"\"target_memkb\":524288,\"type.pv\":{\"kernel\":\"/boot/vmlinuz\"}}}"

/*
 * libxl 4.17 leaks one 24-byte osevent nexus per ctx once its SIGCHLD
 * self-pipe is registered through osevent hooks (reproduced with empty
 * hooks and no code of ours).  The suppression names that libxl frame;
 * libxenlight has no frame pointers, so the slow unwinder is needed to
 * see it -- and to keep our own leaks of libxl objects visible.
 */
const char	*__asan_default_options(void);
const char	*__lsan_default_suppressions(void);

const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *
__lsan_default_suppressions(void)
{
	return "leak:libxl__sigchld_needed\n";
}

struct env {
	struct event_base	*base;
	struct mig_hv		*hv;
	int			 sv[2];		/* a stream fd pair */
	/* what the callbacks saw */
	struct mig_hv_progress	 prog[32];
	int			 nprog;
	int			 done_calls;
	struct mig_err		 done_err;
};

static int
setup(void **state)
{
	struct env	*e = calloc(1, sizeof(*e));
	struct mig_err	 err;

	assert_non_null(e);
	e->base = event_base_new();
	assert_non_null(e->base);
	fake_reset(e->base);
	fake_add_dom(0, "Domain-0", NULL, LIBXL_DOMAIN_TYPE_PV);
	fake_add_dom(5, "guest1", UUID5, LIBXL_DOMAIN_TYPE_PV);
	fake.config_json = CONFIG_JSON;
	e->hv = mig_hv_open(&mig_hv_libxl_ops, NULL, e->base, &err);
	if (e->hv == NULL)
		fail_msg("open: %s", err.msg);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    e->sv), 0);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env	*e = *state;

	mig_hv_close(e->hv);
	close(e->sv[0]);
	close(e->sv[1]);
	event_base_free(e->base);
	free(e);
	return 0;
}

static void
on_progress(struct mig_hv_op *op, const struct mig_hv_progress *p, void *arg)
{
	struct env	*e = arg;

	assert_true(e->nprog < 32);
	assert_int_equal(e->done_calls, 0);	/* never after the end */
	e->prog[e->nprog++] = *p;
}

static void
on_done(struct mig_hv_op *op, const struct mig_err *err, void *arg)
{
	struct env	*e = arg;

	e->done_calls++;
	e->done_err = *err;
}

static void
step(int is_log, const char *what, unsigned long done, unsigned long total)
{
	struct fake_step	*s = &fake.steps[fake.nsteps++];

	s->is_log = is_log;
	s->what = what;
	s->done = done;
	s->total = total;
}

/* Save domain 5 to completion and return its result. */
static int
run_save(struct env *e, struct mig_err *err)
{
	struct mig_hv_op	*op;
	int			 r;

	op = mig_hv_save(e->hv, 5, e->sv[0], MIG_HV_SAVE_LIVE, on_progress,
	    on_done, e, err);
	if (op == NULL)
		return -2;
	r = mig_hv_wait(op, err);
	mig_hv_op_free(op);
	return r;
}

/* --- opening --- */

static void
test_open_without_xen(void **state)
{
	struct event_base	*base = event_base_new();
	struct mig_err		 err;

	fake_reset(base);
	fake.ctx_alloc_rc = ERROR_FAIL;
	assert_null(mig_hv_open(&mig_hv_libxl_ops, NULL, base, &err));
	assert_int_equal(err.code, MIG_E_HV);
	assert_string_equal(err.msg, "cannot open the Xen control interface "
	    "(/dev/xen/privcmd) \xe2\x80\x94 is this dom0 with xenstored "
	    "running?");
	event_base_free(base);
}

static void
handler(int sig)
{
}

static void
test_open_refuses_foreign_sigchld(void **state)
{
	struct event_base	*base = event_base_new();
	struct sigaction	 sa, old;
	struct mig_err		 err;

	fake_reset(base);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	assert_int_equal(sigaction(SIGCHLD, &sa, &old), 0);
	assert_null(mig_hv_open(&mig_hv_libxl_ops, NULL, base, &err));
	assert_int_equal(err.code, MIG_E_INVAL);
	assert_non_null(strstr(err.msg, "SIGCHLD"));
	assert_int_equal(sigaction(SIGCHLD, &old, NULL), 0);
	event_base_free(base);
}

/* --- host and domains --- */

static void
test_hostinfo(void **state)
{
	struct env		*e = *state;
	struct mig_hv_hostinfo	 hi;
	struct mig_err		 err;

	fake.cap_shadow = 0;
	assert_int_equal(mig_hv_hostinfo(e->hv, &hi, &err), 0);
	assert_int_equal(hi.xen_major, 4);
	assert_int_equal(hi.xen_minor, 17);
	assert_string_equal(hi.xen_extra, ".3-pre");
	assert_string_equal(hi.arch, "x86_64");
	assert_int_equal(hi.page_size, 4096);
	assert_true(hi.total_kib == 1048576);
	assert_true(hi.free_kib == 1024 * 4);
	assert_int_equal(hi.nr_cpus, 8);
	assert_int_equal(hi.pv_logdirty, 0);	/* PV but no shadow paging */
	fake.cap_shadow = 1;
	assert_int_equal(mig_hv_hostinfo(e->hv, &hi, &err), 0);
	assert_int_equal(hi.pv_logdirty, 1);

	fake.physinfo_rc = ERROR_FAIL;
	assert_int_equal(mig_hv_hostinfo(e->hv, &hi, &err), -1);
	assert_int_equal(err.code, MIG_E_HV);
	assert_non_null(strstr(err.msg, "ERROR_FAIL"));
}

static void
test_find(void **state)
{
	struct env		*e = *state;
	struct mig_hv_dominfo	 di;
	struct mig_hv_dominfo	*list;
	struct mig_err		 err;
	char			 u[37];
	int			 n;

	fake.doms[1].shutdown = 1;
	fake.doms[1].reason = LIBXL_SHUTDOWN_REASON_SUSPEND;
	assert_int_equal(mig_hv_find(e->hv, "5", &di, &err), 0);
	assert_int_equal(di.domid, 5);
	assert_string_equal(di.name, "guest1");
	assert_int_equal(di.state, MIG_HV_DOM_SUSPENDED);
	assert_int_equal(di.type, MIG_HV_TYPE_PV);
	assert_true(di.mem_kib == 524288);
	assert_int_equal(di.vcpus, 2);
	mig_hv_uuid_format(di.uuid, u);
	assert_string_equal(u, UUID5);

	memset(&di, 0, sizeof(di));
	assert_int_equal(mig_hv_find(e->hv, "guest1", &di, &err), 0);
	assert_int_equal(di.domid, 5);
	memset(&di, 0, sizeof(di));
	assert_int_equal(mig_hv_find(e->hv, UUID5, &di, &err), 0);
	assert_int_equal(di.domid, 5);
	assert_int_equal(mig_hv_find(e->hv, "Domain-0", &di, &err), 0);
	assert_int_equal(di.domid, 0);
	assert_int_equal(di.state, MIG_HV_DOM_RUNNING);

	assert_int_equal(mig_hv_find(e->hv, "nosuch", &di, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTFOUND);
	assert_int_equal(mig_hv_find(e->hv, "77", &di, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTFOUND);
	assert_int_equal(mig_hv_find(e->hv, "", &di, &err), -1);
	assert_int_equal(err.code, MIG_E_INVAL);

	/* Digits that are no domid are tried as a name, as xl does. */
	fake_add_dom(9, "123", NULL, LIBXL_DOMAIN_TYPE_HVM);
	assert_int_equal(mig_hv_find(e->hv, "123", &di, &err), 0);
	assert_int_equal(di.domid, 9);
	assert_int_equal(di.type, MIG_HV_TYPE_HVM);

	assert_int_equal(mig_hv_list(e->hv, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[1].name, "guest1");
	free(list);
}

/* --- configuration --- */

static void
test_config_json_roundtrip(void **state)
{
	struct env	*e = *state;
	struct mig_err	 err;
	uint64_t	 kib;
	char		*json;

	json = mig_hv_config_json(e->hv, 5, &err);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"guest1\""));
	assert_non_null(strstr(json, UUID5));
	/* What we wrote, libxl reads back to the same domain. */
	assert_int_equal(mig_hv_config_memory(e->hv, json, &kib, &err), 0);
	assert_string_equal(fake.need_name, "guest1");
	assert_true(kib == 524288 + 1024);
	free(json);

	assert_null(mig_hv_config_json(e->hv, 77, &err));
	assert_int_equal(err.code, MIG_E_NOTFOUND);
	assert_int_equal(mig_hv_config_memory(e->hv, "{not json", &kib, &err),
	    -1);
	assert_int_equal(err.code, MIG_E_HV);
	assert_non_null(strstr(err.msg, "bad domain configuration JSON"));
}

/* --- what a configuration asks of dom0, through libxl's parser --- */

/* Whether c has an item that prints as want ("KEY = \"VALUE\""). */
static int
has_item(const struct mig_domcfg *c, const char *want)
{
	char	buf[1200];
	size_t	i;

	for (i = 0; i < c->n; i++) {
		snprintf(buf, sizeof(buf), "%s = \"%s\"", c->items[i].where,
		    c->items[i].value);
		if (strcmp(buf, want) == 0)
			return 1;
	}
	return 0;
}

static char *
slurp(const char *path)
{
	static char	buf[65536];
	FILE		*f = fopen(path, "r");
	size_t		 n;

	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/*
 * The configurations the integration test sends to relocd-sim, parsed by
 * libxl itself: each parses, and its refused key and value are among
 * what hv_libxl_cfg.c reports, exactly as the sim reports them.
 */
static void
test_config_describe_cases(void **state)
{
	struct env		*e = *state;
	struct mig_domcfg	 c;
	struct mig_err		 err;
	char			 line[1024], path[2048], *bar, *colon;
	FILE			*f;
	int			 n = 0;

	f = fopen(TOP_SRCDIR "/tests/integration/policy/cases", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || (bar = strchr(line, '|')) == NULL)
			continue;
		*bar++ = '\0';
		/* the key and value end where the reason starts */
		assert_non_null(colon = strstr(bar, "\": "));
		colon[1] = '\0';
		snprintf(path, sizeof(path), TOP_SRCDIR
		    "/tests/integration/policy/%s", line);
		if (mig_hv_config_describe(e->hv, slurp(path), &c, &err) != 0)
			fail_msg("%s: %s", line, err.msg);
		if (!has_item(&c, bar))
			fail_msg("%s: no %s", line, bar);
		assert_string_equal(c.name, "pol");
		assert_true(c.has_uuid);
		mig_domcfg_free(&c);
		n++;
	}
	fclose(f);
	assert_true(n >= 16);
	/* What a receiver may allow: its disk, Xen's own scripts. */
	assert_int_equal(mig_hv_config_describe(e->hv, slurp(TOP_SRCDIR
	    "/tests/integration/policy/disk-ok.json"), &c, &err), 0);
	assert_true(has_item(&c, "disks[0].pdev_path = \"/srv/xen/web.img\""));
	assert_string_equal(c.items[0].what, "phy");
	assert_true(has_item(&c, "disks[0].script = \"block\""));
	assert_true(has_item(&c, "nics[0].script = "
	    "\"/etc/xen/scripts/vif-bridge\""));
	assert_int_equal(c.n, 3);
	mig_domcfg_free(&c);
}

/* An operator's configuration (xl migrate -C) given the domain's uuid
 * through libxl's parser and writer: the rest of it is kept. */
static void
test_config_set_uuid(void **state)
{
	struct env		*e = *state;
	struct mig_domcfg	 c;
	struct mig_err		 err;
	const uint8_t		 u[16] = { 0x7e, 0x57, 0, 9, 0x7e, 0x57, 0x40, 1,
	    0x80, 1, 0x7e, 0x57, 0, 0, 0, 9 };
	char			*json;

	json = mig_hv_config_set_uuid(e->hv, slurp(TOP_SRCDIR
	    "/tests/integration/policy/disk-ok.json"), u, &err);
	assert_non_null(json);
	assert_int_equal(mig_hv_config_describe(e->hv, json, &c, &err), 0);
	assert_true(c.has_uuid);
	assert_memory_equal(c.uuid, u, 16);
	assert_string_equal(c.name, "pol");
	assert_true(has_item(&c, "disks[0].pdev_path = \"/srv/xen/web.img\""));
	mig_domcfg_free(&c);
	free(json);
	assert_null(mig_hv_config_set_uuid(e->hv, "{not json", u, &err));
	assert_int_equal(err.code, MIG_E_HV);
}

/* An HVM guest's qemu options, libxl's way of writing unions. */
static void
test_config_describe_hvm(void **state)
{
	struct env		*e = *state;
	struct mig_domcfg	 c;
	struct mig_err		 err;
	const char		*json =
	    "{\"c_info\":{\"type\":\"hvm\",\"name\":\"h\"},"
	    "\"b_info\":{\"max_memkb\":65536,\"device_model_user\":\"root\","
	    "\"type.hvm\":{\"serial_list\":[\"pty\",\"file:/etc/shadow\"],"
	    "\"usbdevice_list\":[\"tablet\",\"host:1234:5678\"]}},"
	    "\"channels\":[{\"name\":\"c0\",\"connection\":\"pty\"},"
	    "{\"name\":\"c1\",\"connection.socket\":{\"path\":\"/root/s\"}}],"
	    "\"usbdevs\":[{\"ctrl\":0,\"port\":1,"
	    "\"type.hostdev\":{\"hostbus\":1,\"hostaddr\":2}}],"
	    "\"vfbs\":[{\"backend_domname\":\"gui\"}],"
	    "\"vkbs\":[{\"backend_domname\":\"Domain-0\"}]}";

	assert_int_equal(mig_hv_config_describe(e->hv, json, &c, &err), 0);
	assert_false(c.has_uuid);
	assert_true(has_item(&c, "b_info.device_model_user = \"root\""));
	assert_true(has_item(&c, "b_info.serial_list[1] = "
	    "\"file:/etc/shadow\""));
	assert_false(has_item(&c, "b_info.serial_list[0] = \"pty\""));
	assert_true(has_item(&c, "b_info.usbdevice_list[1] = "
	    "\"host:1234:5678\""));
	assert_false(has_item(&c, "b_info.usbdevice_list[0] = \"tablet\""));
	assert_true(has_item(&c, "channels[1].path = \"/root/s\""));
	assert_true(has_item(&c, "usbdevs[0] = \"hostbus 1 hostaddr 2\""));
	assert_true(has_item(&c, "vfbs[0].backend_domname = \"gui\""));
	assert_int_equal(c.n, 6);	/* vkbs: Domain-0 is dom0 */
	mig_domcfg_free(&c);

	assert_int_equal(mig_hv_config_describe(e->hv, "{\"c_info\": 3",
	    &c, &err), -1);
	assert_int_equal(c.n, 0);
}

/* --- save --- */

static void
test_save_progress(void **state)
{
	struct env	*e = *state;
	struct mig_err	 err;

	/* What libxenguest reports for a three-round live save. */
	step(0, "Start of stream", 0, 0);
	step(0, "Frames iteration 0", 0, 262144);
	step(0, "Frames iteration 0", 1024, 262144);
	step(0, "Frames iteration 0", 262144, 262144);
	step(0, "Frames iteration 1", 0, 700);
	step(0, "Frames iteration 1", 700, 700);
	step(0, "Domain now suspended", 0, 0);
	step(0, "Frames iteration 2", 0, 30);
	step(0, "Frames iteration 2", 30, 30);
	step(0, "End of stream", 0, 0);
	step(0, "Complete", 0, 0);

	assert_int_equal(run_save(e, &err), 0);
	assert_int_equal(fake.suspend_calls, 1);
	assert_int_equal(fake.suspend_domid, 5);
	assert_int_equal(fake.suspend_fd, e->sv[0]);
	assert_int_equal(fake.suspend_flags, LIBXL_SUSPEND_LIVE);
	assert_int_equal(e->done_calls, 1);
	assert_int_equal(e->done_err.code, MIG_OK);

	assert_int_equal(e->nprog, 9);
	assert_int_equal(e->prog[0].kind, MIG_HV_PROGRESS_ROUND);
	assert_int_equal(e->prog[0].round, 0);
	assert_true(e->prog[0].dirty_left == 262144);
	assert_true(e->prog[1].pages_done == 1024);
	assert_true(e->prog[2].dirty_left == 0);
	assert_int_equal(e->prog[3].round, 1);
	assert_true(e->prog[3].pages_total == 700);
	assert_int_equal(e->prog[5].kind, MIG_HV_PROGRESS_SUSPENDED);
	assert_int_equal(e->prog[6].round, 2);
	assert_true(e->prog[7].pages_done == 30);
	assert_int_equal(e->prog[8].kind, MIG_HV_PROGRESS_END);
	assert_true(e->prog[8].t_ns >= e->prog[0].t_ns);
}

static void
test_save_start_failure(void **state)
{
	struct env	*e = *state;
	struct mig_err	 err;

	fake.suspend_start_rc = ERROR_INVAL;
	assert_int_equal(run_save(e, &err), -2);
	assert_int_equal(err.code, MIG_E_INVAL);
	assert_non_null(strstr(err.msg, "ERROR_INVAL"));
	assert_int_equal(e->done_calls, 0);
}

static void
test_save_failure_resumes_suspended_source(void **state)
{
	struct env	*e = *state;
	struct mig_err	 err, save_err;

	fake.save_rc = ERROR_FAIL;
	step(0, "Frames iteration 0", 0, 100);
	assert_int_equal(run_save(e, &save_err), -1);
	assert_int_equal(save_err.code, MIG_E_HV);
	assert_non_null(strstr(save_err.msg, "libxl ERROR_FAIL (-3)"));
	assert_int_equal(e->done_err.code, MIG_E_HV);

	/* Failed while suspended: resumed, co-operatively. */
	fake.doms[1].shutdown = 1;
	fake.doms[1].reason = LIBXL_SHUTDOWN_REASON_SUSPEND;
	assert_int_equal(mig_hv_recover_source(e->hv, 5, &save_err, &err), 0);
	assert_int_equal(fake.resume_calls, 1);
	assert_int_equal(fake.resume_domid, 5);
	assert_int_equal(fake.resume_cancel, 1);

	/* Failed before it was suspended: nothing to undo. */
	fake.doms[1].shutdown = 0;
	assert_int_equal(mig_hv_recover_source(e->hv, 5, &save_err, &err), 0);
	fake.doms[1].paused = 1;
	assert_int_equal(mig_hv_recover_source(e->hv, 5, &save_err, &err), 0);
	assert_int_equal(fake.resume_calls, 1);
	assert_int_equal(fake.unpause_calls, 0);

	/* A resume libxl refuses is reported, not hidden. */
	fake.doms[1].paused = 0;
	fake.doms[1].shutdown = 1;
	fake.resume_rc = ERROR_FAIL;
	assert_int_equal(mig_hv_recover_source(e->hv, 5, &save_err, &err), -1);
	assert_non_null(strstr(err.msg, "cannot resume domain 5"));
}

static void
test_save_guest_timeout_is_not_resumed(void **state)
{
	struct env	*e = *state;
	struct mig_err	 err, save_err;

	fake.save_rc = ERROR_GUEST_TIMEDOUT;
	assert_int_equal(run_save(e, &save_err), -1);
	assert_int_equal(save_err.code, MIG_E_TIMEOUT);
	assert_non_null(strstr(save_err.msg, "ERROR_GUEST_TIMEDOUT"));

	/* Even if it looks suspended by now: its state is unknown. */
	fake.doms[1].shutdown = 1;
	fake.doms[1].reason = LIBXL_SHUTDOWN_REASON_SUSPEND;
	assert_int_equal(mig_hv_recover_source(e->hv, 5, &save_err, &err), -1);
	assert_int_equal(err.code, MIG_E_HV);
	assert_non_null(strstr(err.msg, "state is unknown"));
	assert_int_equal(fake.resume_calls, 0);
}

static void
test_save_abort(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;

	fake.save_hold = 1;
	op = mig_hv_save(e->hv, 5, e->sv[0], MIG_HV_SAVE_LIVE, on_progress,
	    on_done, e, &err);
	assert_non_null(op);
	assert_int_equal(event_base_loop(e->base, EVLOOP_NONBLOCK), 0);
	assert_false(mig_hv_op_done(op));
	assert_int_equal(mig_hv_abort(op, &err), 0);
	assert_int_equal(fake.abort_calls, 1);
	assert_int_equal(mig_hv_wait(op, &err), -1);
	assert_int_equal(err.code, MIG_E_CANCELLED);
	assert_non_null(strstr(err.msg, "ERROR_ABORTED"));
	assert_int_equal(e->done_calls, 1);
	/* Too late to abort a finished op: harmless. */
	assert_int_equal(mig_hv_abort(op, &err), 0);
	assert_int_equal(fake.abort_calls, 1);
	mig_hv_op_free(op);
}

static void
test_save_free_in_flight(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;

	fake.save_hold = 1;
	op = mig_hv_save(e->hv, 5, e->sv[0], 0, on_progress, on_done, e,
	    &err);
	assert_non_null(op);
	assert_int_equal(fake.suspend_flags, 0);
	/* Freed early: aborted, and no callback ever reaches the caller. */
	mig_hv_op_free(op);
	assert_int_equal(fake.abort_calls, 1);
	while (fake.inflight)
		assert_int_equal(event_base_loop(e->base, EVLOOP_ONCE), 0);
	assert_int_equal(event_base_loop(e->base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(e->done_calls, 0);
}

static void
test_close_with_ops_outstanding(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;

	/* One finished and never freed, one still running. */
	op = mig_hv_save(e->hv, 5, e->sv[0], 0, on_progress, on_done, e,
	    &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), 0);
	fake.save_hold = 1;
	assert_non_null(mig_hv_save(e->hv, 5, e->sv[0], 0, on_progress,
	    on_done, e, &err));
	mig_hv_close(e->hv);		/* aborts, waits, frees both */
	e->hv = NULL;
	assert_int_equal(fake.abort_calls, 1);
	assert_int_equal(fake.inflight, 0);
	assert_int_equal(e->done_calls, 1);	/* the aborted one: silent */
}

static void
test_save_logdirty_unsupported(void **state)
{
	struct env	*e = *state;
	struct mig_err	 err;

	/* The line libxenguest sends up when Xen lacks shadow paging. */
	step(1, "internal error: Failed to enable logdirty: 95,0,95 "
	    "(95 = Operation not supported)", 0, 0);
	step(1, "Save failed", 0, 0);
	fake.save_rc = ERROR_FAIL;
	assert_int_equal(run_save(e, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTSUP);
	assert_string_equal(err.msg, "this hypervisor cannot track dirty "
	    "pages for PV guests; use a stop-and-copy migration or a "
	    "hypervisor with shadow paging");

	/* The next save starts with a clean slate. */
	fake.nsteps = 0;
	fake.save_rc = ERROR_FAIL;
	assert_int_equal(run_save(e, &err), -1);
	assert_int_equal(err.code, MIG_E_HV);
}

static void
test_logdirty_line(void **state)
{
	assert_true(hvx_is_logdirty_notsup("Failed to enable logdirty: 95"));
	assert_true(hvx_is_logdirty_notsup(
	    "internal error: Failed to enable logdirty: 95,0,95 (95 = x)"));
	assert_true(hvx_is_logdirty_notsup("Failed to enable logdirty: 1,0,95"));
	assert_false(hvx_is_logdirty_notsup("Failed to enable logdirty: 12,0,12"));
	assert_false(hvx_is_logdirty_notsup("Failed to enable logdirty: x"));
	assert_false(hvx_is_logdirty_notsup("Failed to retrieve logdirty"));
	assert_false(hvx_is_logdirty_notsup(""));
}

/* --- restore --- */

static void
test_restore(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;

	op = mig_hv_restore(e->hv, e->sv[1], CONFIG_JSON, "guest1--incoming",
	    1, on_done, e, &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), 0);
	assert_int_equal(mig_hv_op_domid(op), 12);
	assert_int_equal(fake.restore_stream_version, 2);
	assert_int_equal(fake.restore_send_back_fd, -1);
	assert_int_equal(fake.restore_checkpointed, 0);
	assert_int_equal(fake.restore_fd, e->sv[1]);
	assert_string_equal(fake.restore_name, "guest1--incoming");
	assert_true(fake.restore_maxmem == 524288);
	assert_int_equal(fake.unpause_calls, 0);	/* stays paused */
	mig_hv_op_free(op);

	/* Asked to run: unpaused once restored, before done is called. */
	op = mig_hv_restore(e->hv, e->sv[1], CONFIG_JSON, NULL, 0, on_done,
	    e, &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), 0);
	assert_string_equal(fake.restore_name, "guest1");
	assert_int_equal(fake.unpause_calls, 1);
	assert_int_equal(fake.unpause_domid, 12);
	assert_int_equal(e->done_calls, 2);
	mig_hv_op_free(op);
}

static void
test_restore_failure(void **state)
{
	struct env		*e = *state;
	struct mig_hv_op	*op;
	struct mig_err		 err;

	fake.restore_rc = ERROR_BADFAIL;
	op = mig_hv_restore(e->hv, e->sv[1], CONFIG_JSON, "g--incoming", 0,
	    NULL, NULL, &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), -1);
	assert_int_equal(err.code, MIG_E_HV);
	assert_non_null(strstr(err.msg, "ERROR_BADFAIL"));
	assert_int_equal(mig_hv_op_domid(op), MIG_HV_INVALID_DOMID);
	assert_int_equal(fake.unpause_calls, 0);
	assert_int_equal(fake.destroy_calls, 0);
	mig_hv_op_free(op);

	/* Aborted half-way, libxl leaves the container: it is destroyed,
	 * but only because it has the name we gave it. */
	fake.restore_rc = ERROR_ABORTED;
	fake.restore_leaves = 1;
	fake_add_dom(12, "g--incoming", NULL, LIBXL_DOMAIN_TYPE_PV);
	op = mig_hv_restore(e->hv, e->sv[1], CONFIG_JSON, "g--incoming", 1,
	    NULL, NULL, &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), -1);
	assert_int_equal(err.code, MIG_E_CANCELLED);
	assert_int_equal(fake.destroy_calls, 1);
	assert_int_equal(fake.destroy_domid, 12);
	assert_int_equal(mig_hv_op_domid(op), MIG_HV_INVALID_DOMID);
	mig_hv_op_free(op);
	fake.doms[fake.ndoms - 1].name = "someone-else";
	op = mig_hv_restore(e->hv, e->sv[1], CONFIG_JSON, "g--incoming", 1,
	    NULL, NULL, &err);
	assert_non_null(op);
	assert_int_equal(mig_hv_wait(op, &err), -1);
	assert_int_equal(fake.destroy_calls, 1);
	mig_hv_op_free(op);

	/* Bad input never reaches libxl. */
	assert_null(mig_hv_restore(e->hv, e->sv[1], "{bad", "g", 1, NULL, NULL,
	    &err));
	assert_null(mig_hv_restore(e->hv, -1, CONFIG_JSON, "g", 1, NULL, NULL,
	    &err));
	assert_null(mig_hv_restore(e->hv, e->sv[1], CONFIG_JSON, "", 1, NULL,
	    NULL, &err));
	assert_int_equal(fake.restore_calls, 3);

	/* Abandoned in flight: aborted, and its container destroyed. */
	fake.doms[fake.ndoms - 1].name = "g--incoming";
	op = mig_hv_restore(e->hv, e->sv[1], CONFIG_JSON, "g--incoming", 1,
	    on_done, e, &err);
	assert_non_null(op);
	mig_hv_op_free(op);
	while (fake.inflight)
		assert_int_equal(event_base_loop(e->base, EVLOOP_ONCE), 0);
	assert_int_equal(event_base_loop(e->base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(fake.abort_calls, 1);
	assert_int_equal(fake.destroy_calls, 2);
	assert_int_equal(e->done_calls, 0);
}

/* --- control --- */

static void
test_control(void **state)
{
	struct env	*e = *state;
	struct mig_err	 err;
	int		 cap;

	assert_int_equal(mig_hv_rename(e->hv, 5, "guest1",
	    "guest1--migratedaway", &err), 0);
	assert_string_equal(fake.rename_old, "guest1");
	assert_string_equal(fake.rename_new, "guest1--migratedaway");
	assert_int_equal(mig_hv_rename(e->hv, 5, NULL, "", &err), -1);
	assert_int_equal(fake.rename_calls, 1);

	assert_int_equal(mig_hv_pause(e->hv, 5, &err), 0);
	assert_int_equal(mig_hv_unpause(e->hv, 5, &err), 0);
	assert_int_equal(mig_hv_destroy(e->hv, 5, &err), 0);
	assert_int_equal(fake.destroy_domid, 5);
	assert_int_equal(mig_hv_destroy(e->hv, 77, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "ERROR_DOMAIN_NOTFOUND"));

	fake.control_rc = ERROR_FAIL;
	/* An older libxl error line is not quoted by a later failure. */
	xtl_log(fake.lg, XTL_ERROR, -1, "libxl", "an older failure");
	assert_int_equal(mig_hv_pause(e->hv, 5, &err), -1);
	assert_string_equal(err.msg, "cannot pause domain 5: libxl ERROR_FAIL "
	    "(-3)");

	fake.cap = 0;
	assert_int_equal(mig_hv_cap_set(e->hv, 5, 40, &err), 0);
	assert_int_equal(mig_hv_cap_get(e->hv, 5, &cap, &err), 0);
	assert_int_equal(cap, 40);
	assert_int_equal(mig_hv_cap_set(e->hv, 5, -1, &err), -1);
	/* credit2, Xen 4.17's default, has caps too. */
	fake.sched = LIBXL_SCHEDULER_CREDIT2;
	assert_int_equal(mig_hv_cap_set(e->hv, 5, 10, &err), 0);
	assert_int_equal(mig_hv_cap_get(e->hv, 5, &cap, &err), 0);
	assert_int_equal(cap, 10);
	fake.sched = LIBXL_SCHEDULER_RTDS;
	assert_int_equal(mig_hv_cap_set(e->hv, 5, 20, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTSUP);
	assert_non_null(strstr(err.msg, "rtds"));
	assert_int_equal(mig_hv_cap_get(e->hv, 5, &cap, &err), -1);
	assert_int_equal(fake.cap_set_calls, 2);
}

static void
test_errname(void **state)
{
	char	buf[48];

	assert_string_equal(hvx_errname(ERROR_GUEST_TIMEDOUT, buf,
	    sizeof(buf)), "ERROR_GUEST_TIMEDOUT");
	assert_string_equal(hvx_errname(ERROR_FAIL, buf, sizeof(buf)),
	    "ERROR_FAIL");
	assert_string_equal(hvx_errname(-999, buf, sizeof(buf)),
	    "ERROR_-999");
}

/* --- the logger --- */

/* Runs one xtl_log through the ctx's logger and returns what reached
 * stderr (log.h's destination in the foreground). */
static const char *
logged(xentoollog_level level, int errnoval, const char *msg)
{
	static char	buf[512];
	int		p[2], saved;
	ssize_t		n;

	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	xtl_log(fake.lg, level, errnoval, "libxl", "%s", msg);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(p[0]);
	return buf;
}

static void
test_logger_levels(void **state)
{
	assert_string_equal(logged(XTL_ERROR, ENOENT, "cannot open x"),
	    "libxl: cannot open x: No such file or directory\n");
	assert_string_equal(logged(XTL_WARN, -1, "careful"),
	    "libxl: careful\n");
	/* Below the default minimum: not shown. */
	assert_string_equal(logged(XTL_DEBUG, -1, "chatter"), "");
	assert_string_equal(logged(XTL_ERROR, -1, "two\nlines"),
	    "libxl: two lines\n");
}

/* A configuration's items, one "KEY = \"VALUE\"" a line, for messages. */
static const char *
items_text(const struct mig_domcfg *c)
{
	static char	buf[4096];
	size_t		i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < c->n && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s = \"%s\"\n",
		    c->items[i].where, c->items[i].value);
	return buf;
}

/*
 * The same HVM-only options under each guest type.  libxl's parser puts
 * them in the build info by the union's key ("type.hvm"), whatever
 * c_info's type says, and they are judged wherever that key puts them:
 * a PV or PVH configuration cannot slip them past by claiming another
 * type.  The device model's own keys are judged for every type: libxl
 * starts a QEMU for a PV or PVH guest's qdisk and vfb backends too.
 */
static void
test_config_describe_types(void **state)
{
	static const char *const types[] = { "pv", "pvh", "hvm" };
	struct env		*e = *state;
	struct mig_domcfg	 c;
	struct mig_err		 err;
	char			 json[1024];
	size_t			 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(json, sizeof(json), "{\"c_info\":{\"type\":\"%s\","
		    "\"name\":\"t\"},\"b_info\":{\"device_model\":"
		    "\"/root/qemu\",\"type.hvm\":{\"serial_list\":"
		    "[\"file:/etc/shadow\"],\"usbdevice_list\":"
		    "[\"host:1234:5678\"]}}}", types[i]);
		if (mig_hv_config_describe(e->hv, json, &c, &err) != 0)
			fail_msg("%s: %s", types[i], err.msg);
		if (!has_item(&c, "b_info.device_model = \"/root/qemu\"") ||
		    !has_item(&c, "b_info.serial_list[0] = "
		    "\"file:/etc/shadow\"") ||
		    !has_item(&c, "b_info.usbdevice_list[0] = "
		    "\"host:1234:5678\""))
			fail_msg("c_info type %s: %s", types[i], items_text(&c));
		mig_domcfg_free(&c);
	}
	/* A PVH guest of its own kind: only its device-model key. */
	assert_int_equal(mig_hv_config_describe(e->hv, "{\"c_info\":"
	    "{\"type\":\"pvh\",\"name\":\"p\"},\"b_info\":{\"type.pvh\":"
	    "{\"pvshim\":\"False\"},"
	    "\"extra\":[\"-chardev\",\"file,path=/etc/shadow\"]}}", &c, &err),
	    0);
	if (!has_item(&c, "b_info.extra[1] = \"file,path=/etc/shadow\""))
		fail_msg("pvh: %s", items_text(&c));
	mig_domcfg_free(&c);
}

/* --- progress strings --- */

/* A PVH guest's first pass, as libxenguest reports it: its whole pfn
 * space up to the special pages (0xff000 pfns); 128 MiB of it is memory. */
static void
test_progress_cap(void **state)
{
	struct mig_hv_progress	p;

	(void)state;
	assert_int_equal(mig_hv_progress_parse("Frames iteration 0", 8192,
	    0xff000, &p), 1);
	mig_hv_progress_cap(&p, 131072, 4096);
	assert_true(p.pages_total == 32768 && p.pages_done == 8192);
	assert_true(p.dirty_left == 24576);
	/* past the memory, the pass walks holes: nothing left to send */
	assert_int_equal(mig_hv_progress_parse("Frames", 500000, 0xff000, &p),
	    1);
	mig_hv_progress_cap(&p, 131072, 4096);
	assert_true(p.pages_total == 32768 && p.pages_done == 32768);
	assert_true(p.dirty_left == 0);
	/* a PV guest's pass is its memory: unchanged; later rounds too */
	assert_int_equal(mig_hv_progress_parse("Frames iteration 0", 100,
	    32768, &p), 1);
	mig_hv_progress_cap(&p, 131072, 4096);
	assert_true(p.pages_total == 32768 && p.dirty_left == 32668);
	assert_int_equal(mig_hv_progress_parse("Frames iteration 2", 10,
	    0xff000, &p), 1);
	mig_hv_progress_cap(&p, 131072, 4096);
	assert_true(p.pages_total == 0xff000);
}

static void
test_progress_parse(void **state)
{
	struct mig_hv_progress	p;

	assert_int_equal(mig_hv_progress_parse("Frames iteration 3", 10, 50,
	    &p), 1);
	assert_int_equal(p.kind, MIG_HV_PROGRESS_ROUND);
	assert_int_equal(p.round, 3);
	assert_true(p.pages_done == 10 && p.pages_total == 50);
	assert_true(p.dirty_left == 40);
	assert_int_equal(mig_hv_progress_parse("Frames", 5, 9, &p), 1);
	assert_int_equal(p.kind, MIG_HV_PROGRESS_ROUND);
	assert_int_equal(p.round, 0);
	assert_int_equal(mig_hv_progress_parse("Domain now suspended", 0, 0,
	    &p), 1);
	assert_int_equal(p.kind, MIG_HV_PROGRESS_SUSPENDED);
	assert_int_equal(mig_hv_progress_parse("End of stream", 0, 0, &p), 1);
	assert_int_equal(p.kind, MIG_HV_PROGRESS_END);
	/* done beyond total (libxenguest warns it can happen) */
	assert_int_equal(mig_hv_progress_parse("Frames iteration 1", 60, 50,
	    &p), 1);
	assert_true(p.dirty_left == 0);

	assert_int_equal(mig_hv_progress_parse("Start of stream", 0, 0, &p),
	    0);
	assert_int_equal(mig_hv_progress_parse("Complete", 0, 0, &p), 0);
	assert_int_equal(mig_hv_progress_parse("Frames verify", 1, 2, &p), 0);
	assert_int_equal(mig_hv_progress_parse("Checkpointed save", 1, 2, &p),
	    0);
	assert_int_equal(mig_hv_progress_parse("Frames iteration ", 1, 2, &p),
	    0);
	assert_int_equal(mig_hv_progress_parse("Frames iteration 3x", 1, 2,
	    &p), 0);
	assert_int_equal(mig_hv_progress_parse("Frames iteration -1", 1, 2,
	    &p), 0);
	assert_int_equal(mig_hv_progress_parse(
	    "Frames iteration 99999999999999999999", 1, 2, &p), 0);
	assert_int_equal(mig_hv_progress_parse(NULL, 0, 0, &p), 0);
}

/* --- osevent hooks --- */

static struct hvx	hook_x;
static void		*hook_reg;

static void
deregister_inside(void)
{
	hvx_osevent_hooks.fd_deregister(&hook_x, fake.last_fd, hook_reg);
	hook_reg = NULL;
}

static void
test_hooks_fd(void **state)
{
	struct env	*e = *state;
	int		 p[2], tok, r;
	char		 c = 'x', path[] = "/tmp/hvtestXXXXXX";

	memset(&hook_x, 0, sizeof(hook_x));
	hook_x.base = e->base;
	fake.token = &tok;
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);

	hook_reg = NULL;
	assert_int_equal(hvx_osevent_hooks.fd_register(&hook_x, p[0],
	    &hook_reg, POLLIN, &tok), 0);
	assert_non_null(hook_reg);
	assert_int_equal(event_base_loop(e->base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(fake.fd_calls, 0);		/* nothing to read */
	assert_int_equal(write(p[1], &c, 1), 1);
	assert_int_equal(event_base_loop(e->base, EVLOOP_ONCE), 0);
	assert_int_equal(fake.fd_calls, 1);
	assert_int_equal(fake.last_fd, p[0]);
	assert_int_equal(fake.last_revents, POLLIN);

	/* events == 0: still registered, never fires. */
	assert_int_equal(hvx_osevent_hooks.fd_modify(&hook_x, p[0], &hook_reg,
	    0), 0);
	r = event_base_loop(e->base, EVLOOP_NONBLOCK);
	assert_true(r == 0 || r == 1);
	assert_int_equal(fake.fd_calls, 1);
	/* ...until asked again; then deregistered from inside its callback. */
	assert_int_equal(hvx_osevent_hooks.fd_modify(&hook_x, p[0], &hook_reg,
	    POLLIN), 0);
	fake.on_fd = deregister_inside;
	assert_int_equal(event_base_loop(e->base, EVLOOP_ONCE), 0);
	assert_int_equal(fake.fd_calls, 2);
	assert_null(hook_reg);
	fake.on_fd = NULL;
	r = event_base_loop(e->base, EVLOOP_NONBLOCK);
	assert_true(r == 0 || r == 1);
	assert_int_equal(fake.fd_calls, 2);
	close(p[0]);
	close(p[1]);

	/* A regular file, which epoll refuses: always ready, like poll. */
	p[0] = mkostemp(path, O_CLOEXEC);
	assert_true(p[0] >= 0);
	unlink(path);
	assert_int_equal(hvx_osevent_hooks.fd_register(&hook_x, p[0],
	    &hook_reg, POLLOUT, &tok), 0);
	assert_int_equal(event_base_loop(e->base, EVLOOP_ONCE), 0);
	assert_int_equal(fake.fd_calls, 3);
	assert_int_equal(fake.last_revents, POLLOUT);
	assert_int_equal(event_base_loop(e->base, EVLOOP_ONCE), 0);
	assert_int_equal(fake.fd_calls, 4);		/* still ready */
	assert_int_equal(hvx_osevent_hooks.fd_modify(&hook_x, p[0], &hook_reg,
	    0), 0);
	r = event_base_loop(e->base, EVLOOP_NONBLOCK);
	assert_int_equal(fake.fd_calls, 4);
	hvx_osevent_hooks.fd_deregister(&hook_x, p[0], hook_reg);
	close(p[0]);
	fake.token = NULL;
}

static void
test_hooks_timeout(void **state)
{
	struct env	*e = *state;
	struct timeval	 abs, asap = { 0, 0 };
	void		*reg = NULL;
	int		 tok;

	memset(&hook_x, 0, sizeof(hook_x));
	hook_x.base = e->base;
	fake.token = &tok;

	/* Already past: fires on the next pass. */
	gettimeofday(&abs, NULL);
	abs.tv_sec -= 1;
	assert_int_equal(hvx_osevent_hooks.timeout_register(&hook_x, &reg,
	    abs, &tok), 0);
	assert_int_equal(event_base_loop(e->base, EVLOOP_ONCE), 0);
	assert_int_equal(fake.timeout_calls, 1);

	/* An hour away, then "now" (the only modify libxl makes). */
	gettimeofday(&abs, NULL);
	abs.tv_sec += 3600;
	reg = NULL;
	assert_int_equal(hvx_osevent_hooks.timeout_register(&hook_x, &reg,
	    abs, &tok), 0);
	assert_int_equal(event_base_loop(e->base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(fake.timeout_calls, 1);
	assert_int_equal(hvx_osevent_hooks.timeout_modify(&hook_x, &reg,
	    asap), 0);
	assert_int_equal(event_base_loop(e->base, EVLOOP_ONCE), 0);
	assert_int_equal(fake.timeout_calls, 2);
	/* Fired means gone: nothing left to fire. */
	assert_int_equal(event_base_loop(e->base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(fake.timeout_calls, 2);
	fake.token = NULL;
}

/* --- the rest of hv.c --- */

static void
test_uuid(void **state)
{
	uint8_t	u[16];
	char	s[37];

	assert_int_equal(mig_hv_uuid_parse(UUID5, u), 0);
	mig_hv_uuid_format(u, s);
	assert_string_equal(s, UUID5);
	assert_int_equal(mig_hv_uuid_parse("6A7F0E1C-3B7E-4C8E-9D1A-"
	    "2B3C4D5E6F70", u), 0);
	assert_int_equal(mig_hv_uuid_parse("6a7f0e1c-3b7e-4c8e-9d1a-2b3c4d5e6f7",
	    u), -1);
	assert_int_equal(mig_hv_uuid_parse("6a7f0e1c+3b7e-4c8e-9d1a-"
	    "2b3c4d5e6f70", u), -1);
	assert_int_equal(mig_hv_uuid_parse("6a7f0e1c-3b7e-4c8e-9d1a-"
	    "2b3c4d5e6fzz", u), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_without_xen),
		cmocka_unit_test(test_open_refuses_foreign_sigchld),
		cmocka_unit_test_setup_teardown(test_hostinfo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_json_roundtrip,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_describe_cases,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_describe_hvm,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_describe_types,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_set_uuid,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_progress, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_save_start_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_save_failure_resumes_suspended_source, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_save_guest_timeout_is_not_resumed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_abort, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_save_free_in_flight, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_close_with_ops_outstanding,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_logdirty_unsupported,
		    setup, teardown),
		cmocka_unit_test(test_logdirty_line),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_control, setup, teardown),
		cmocka_unit_test(test_errname),
		cmocka_unit_test_setup_teardown(test_logger_levels, setup,
		    teardown),
		cmocka_unit_test(test_progress_parse),
		cmocka_unit_test(test_progress_cap),
		cmocka_unit_test_setup_teardown(test_hooks_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hooks_timeout, setup,
		    teardown),
		cmocka_unit_test(test_uuid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
