/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

#include "ctl.h"
#include "relocd.h"

/* One message of every type, with every field set to something distinct. */
static size_t
samples(struct ctl_msg *m, size_t max)
{
	size_t	n = 0;

	assert_true(max >= CTL__MAX);
	memset(m, 0, max * sizeof(*m));
	m[n].type = CTL_MIGRATE;
	strcpy(m[n].u.migrate.domain, "web1");
	strcpy(m[n].u.migrate.host, "node2.example.org");
	m[n].u.migrate.port = 8003;
	m[n].u.migrate.flags = CTL_MF_TLS | CTL_MF_LIVE;
	m[n].u.migrate.bandwidth = 100ULL << 20;
	strcpy(m[n].u.migrate.config, "/etc/xen/web1.json");
	m[n++].u.migrate.max_downtime_ms = 300;
	m[n].type = CTL_SAVE;
	strcpy(m[n].u.save.domain, "db");
	strcpy(m[n].u.save.path, "/mnt/usb/db.xl");
	strcpy(m[n].u.save.key, "/root/key");
	m[n++].u.save.flags = CTL_SF_COMPRESS;
	m[n].type = CTL_RESTORE;
	strcpy(m[n].u.save.path, "/mnt/usb/db.xl");
	strcpy(m[n].u.save.config, "/etc/xen/db.json");
	m[n++].u.save.flags = CTL_SF_PAUSED | CTL_SF_NO_ADOPT;
	m[n++].type = CTL_JOBS;
	m[n].type = CTL_CANCEL;
	m[n++].u.job = 0x1122334455667788ULL;
	m[n].type = CTL_ACCEPTED;
	m[n++].u.job = 42;
	m[n].type = CTL_EVENT;
	m[n].u.event.job = 42;
	m[n].u.event.phase = 2;
	m[n].u.event.round = 3;
	m[n].u.event.pages_sent = 70000;
	m[n].u.event.pages_total = 65536;
	m[n].u.event.dirty_left = 120;
	m[n].u.event.bytes_wire = 1ULL << 32;
	m[n].u.event.rate = 500000000;
	m[n].u.event.downtime_ms = 40;
	m[n].u.event.elapsed_ms = 2500;
	strcpy(m[n++].u.event.text, "round 3");
	m[n].type = CTL_RESULT;
	m[n].u.result.job = 42;
	m[n].u.result.status = CTL_ST_FAILED;
	m[n].u.result.code = MIG_E_TIMEOUT;
	strcpy(m[n].u.result.text, "target stopped answering");
	m[n].u.result.domid = 12;
	m[n].u.result.total_ms = 4000;
	m[n].u.result.paused_ms = 120;
	m[n].u.result.bytes_wire = 123456789;
	m[n].u.result.bytes_stream = 223456789;
	m[n++].u.result.rounds = 5;
	m[n].type = CTL_JOB;
	m[n].u.jobrow.job = 7;
	m[n].u.jobrow.kind = CTL_JOB_MIGRATE_IN;
	m[n].u.jobrow.phase = 1;
	strcpy(m[n].u.jobrow.domain, "web1--incoming");
	strcpy(m[n].u.jobrow.peer, "[2001:db8::1]:40000");
	m[n].u.jobrow.elapsed_ms = 99;
	m[n].u.jobrow.bytes_wire = 5;
	/* as a HISTORY row has them: how and when the job ended */
	strcpy(m[n].u.jobrow.outcome, "aborted");
	m[n].u.jobrow.ended_ms = 1796515200123ULL;
	m[n++].u.jobrow.pid = -1;
	m[n++].type = CTL_JOBS_END;
	m[n].type = CTL_ERROR;
	m[n].u.error.status = CTL_ST_NOTFOUND;
	strcpy(m[n++].u.error.text, "domain nope: not found");
	m[n].type = CTL_RESERVE_REQ;
	strcpy(m[n].u.reserve_req.name, "web1");
	memset(m[n].u.reserve_req.uuid, 0xab, 16);
	m[n].u.reserve_req.need_kib = 262144;
	m[n++].u.reserve_req.free_kib = 1048576;
	m[n].type = CTL_RESERVE_ANS;
	m[n].u.reserve_ans.refusal = 0;
	m[n].u.reserve_ans.id = 0xfeedfacecafebeefULL;
	m[n].u.reserve_ans.ttl_sec = 60;
	strcpy(m[n++].u.reserve_ans.text, "reserved");
	m[n].type = CTL_RESERVE_HOLD;
	m[n].u.reserve_hold.id = 0xfeedfacecafebeefULL;
	strcpy(m[n].u.reserve_hold.name, "web1");
	memset(m[n].u.reserve_hold.uuid, 0xab, 16);
	n++;
	m[n].type = CTL_RESERVE_RELEASE;
	m[n++].u.job = 9;
	m[n].type = CTL_PROBE;
	strcpy(m[n].u.probe.host, "node3.example.org");
	m[n].u.probe.port = 8003;
	m[n++].u.probe.flags = CTL_PF_TLS;
	m[n].type = CTL_PROBED;
	m[n].u.probed.status = CTL_ST_OK;
	strcpy(m[n].u.probed.host, "node3");
	strcpy(m[n].u.probed.hostname, "node3.example.org");
	strcpy(m[n].u.probed.version, "xen-relocd 0.1.0");
	m[n].u.probed.xen_major = 4;
	m[n].u.probed.xen_minor = 17;
	m[n].u.probed.mem_total_kib = 67108864;
	m[n].u.probed.mem_free_kib = 33554432;
	m[n].u.probed.features = 0x7;
	strcpy(m[n++].u.probed.text, "ok");
	m[n++].type = CTL_DOMAINS;
	m[n].type = CTL_DOMAIN;
	strcpy(m[n].u.domain.name, "web1");
	m[n].u.domain.domid = 5;
	m[n].u.domain.mem_kib = 2097152;
	m[n++].u.domain.state = CTL_DS_PAUSED;
	m[n++].type = CTL_DOMAINS_END;
	m[n++].type = CTL_HISTORY;
	m[n++].type = CTL_AUTHENTICATED;
	assert_int_equal(n, CTL__MAX - 1);
	return n;
}

static void
test_roundtrip_every_type(void **state)
{
	struct ctl_msg	m[CTL__MAX], d;
	uint8_t		buf[CTL_MSG_MAX];
	struct mig_err	err;
	size_t		n, i, len;

	n = samples(m, CTL__MAX);
	for (i = 0; i < n; i++) {
		assert_int_equal(ctl_encode(&m[i], buf, sizeof(buf), &len,
		    &err), 0);
		assert_int_equal(ctl_decode(buf, len, &d, &err), 0);
		/* Decoding zeroes the union first, so whole-struct equality
		 * holds when the sample was zeroed too. */
		assert_memory_equal(&m[i], &d, sizeof(d));
		assert_string_not_equal(ctl_type_name(m[i].type), "unknown");
	}
}

static void
test_every_truncation_refused(void **state)
{
	struct ctl_msg	m[CTL__MAX], d;
	uint8_t		buf[CTL_MSG_MAX];
	struct mig_err	err;
	size_t		n, i, len, cut;

	n = samples(m, CTL__MAX);
	for (i = 0; i < n; i++) {
		assert_int_equal(ctl_encode(&m[i], buf, sizeof(buf), &len,
		    &err), 0);
		for (cut = 0; cut < len; cut++)
			assert_int_equal(ctl_decode(buf, cut, &d, &err), -1);
		/* one byte too many is refused as well */
		buf[len] = 0;
		assert_int_equal(ctl_decode(buf, len + 1, &d, &err), -1);
		assert_int_equal(err.code, MIG_E_PROTO);
	}
}

static void
test_bad_fields(void **state)
{
	struct ctl_msg	m, d;
	uint8_t		buf[CTL_MSG_MAX];
	struct mig_err	err;
	size_t		len;

	/* unknown types, both ways */
	memset(&m, 0, sizeof(m));
	m.type = CTL__MAX;
	assert_int_equal(ctl_encode(&m, buf, sizeof(buf), &len, &err), -1);
	buf[0] = 0;
	buf[1] = 0;
	assert_int_equal(ctl_decode(buf, 2, &d, &err), -1);
	assert_string_equal(err.msg, "control message type 0 unknown");

	/* a string over its limit is refused by the encoder... */
	m.type = CTL_MIGRATE;
	memset(m.u.migrate.domain, 'a', sizeof(m.u.migrate.domain));
	assert_int_equal(ctl_encode(&m, buf, sizeof(buf), &len, &err), -1);
	assert_int_equal(err.code, MIG_E_INVAL);

	/* ...and by the decoder; a NUL inside a string too */
	memset(&m, 0, sizeof(m));
	m.type = CTL_CANCEL;
	buf[0] = 0;
	buf[1] = CTL_MIGRATE;
	buf[2] = 0x10;		/* domain length 4096 */
	buf[3] = 0x00;
	assert_int_equal(ctl_decode(buf, 4, &d, &err), -1);
	assert_string_equal(err.msg,
	    "control MIGRATE: domain of 4096 bytes (limit 128)");
	memcpy(buf, "\0\x01\0\x02" "a\0" "\0\0" "\0\0\0\0\0\0\0\0\0\0\0\0"
	    "\0\0\0\0\0\0\0\0", 28);
	assert_int_equal(ctl_decode(buf, 28, &d, &err), -1);
	assert_string_equal(err.msg, "control MIGRATE: domain holds a NUL byte");

	/* a buffer too small for the message */
	m.type = CTL_ERROR;
	m.u.error.status = 1;
	strcpy(m.u.error.text, "hello");
	assert_int_equal(ctl_encode(&m, buf, 5, &len, &err), -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);
}

static void
test_text_set_sanitizes(void **state)
{
	char	t[CTL_TEXT_MAX + 1], big[CTL_TEXT_MAX + 50];

	ctl_text_set(t, "a\nb\033c");
	assert_string_equal(t, "a?b?c");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ctl_text_set(t, big);
	assert_int_equal(strlen(t), CTL_TEXT_MAX);
}

static void
test_names_of_new_types(void **state)
{
	assert_string_equal(ctl_type_name(CTL_PROBE), "PROBE");
	assert_string_equal(ctl_type_name(CTL_DOMAINS_END), "DOMAINS_END");
	assert_string_equal(ctl_dom_state_name(CTL_DS_MIGRATING), "migrating");
	assert_string_equal(ctl_dom_state_name(0), "unknown");
	assert_string_equal(ctl_dom_state_name(CTL_DS__MAX), "unknown");
}

/* Log labels: only the requester's failure speaks of "source resumed". */
static void
test_result_labels(void **state)
{
	(void)state;
	assert_string_equal(ctl_result_label(CTL_JOB_MIGRATE_OUT,
	    CTL_ST_FAILED), "failed, source resumed");
	assert_string_equal(ctl_result_label(CTL_JOB_MIGRATE_IN,
	    CTL_ST_FAILED), "failed, incoming copy removed");
	assert_string_equal(ctl_result_label(CTL_JOB_SAVE,
	    CTL_ST_CANCELLED), "cancelled, domain resumed");
	assert_string_equal(ctl_result_label(CTL_JOB_RESTORE,
	    CTL_ST_FAILED), "failed, nothing restored");
	assert_string_equal(ctl_result_label(CTL_JOB_MIGRATE_IN,
	    CTL_ST_OK), "ok");
	assert_string_equal(ctl_result_label(CTL_JOB_MIGRATE_IN,
	    CTL_ST_REFUSED), "refused");
	assert_string_equal(ctl_result_label(999, CTL_ST_FAILED),
	    "failed, source resumed");
	assert_string_equal(ctl_result_label(CTL_JOB_SAVE, 999), "unknown");
}

static void
test_send_recv_packets(void **state)
{
	struct ctl_msg	m, d;
	struct mig_err	err;
	int		sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	memset(&m, 0, sizeof(m));
	m.type = CTL_ACCEPTED;
	m.u.job = 77;
	assert_int_equal(ctl_send(sv[0], &m, &err), 0);
	m.u.job = 78;
	assert_int_equal(ctl_send(sv[0], &m, &err), 0);
	/* packets keep their boundaries */
	assert_int_equal(ctl_recv(sv[1], &d, &err), 0);
	assert_true(d.u.job == 77);
	assert_int_equal(ctl_recv(sv[1], &d, &err), 0);
	assert_true(d.u.job == 78);
	close(sv[0]);
	assert_int_equal(ctl_recv(sv[1], &d, &err), -1);
	assert_int_equal(err.code, MIG_E_EOF);
	assert_int_equal(ctl_send(sv[1], &m, &err), -1);
	assert_int_equal(err.code, MIG_E_EOF);
	close(sv[1]);
}

/* What a slow watcher reads once it gets to it: every message up to and
 * including the result. */
struct drain {
	int	fd;
	int	events;
	int	results;
};

static void *
drain_main(void *arg)
{
	struct drain	*d = arg;
	struct ctl_msg	 m;
	struct mig_err	 err;

	usleep(200000);		/* let the sender find the socket full */
	while (d->results == 0 && ctl_recv(d->fd, &m, &err) == 0) {
		if (m.type == CTL_EVENT)
			d->events++;
		else if (m.type == CTL_RESULT)
			d->results++;
	}
	return NULL;
}

/* A watcher whose socket is full loses progress events, never itself:
 * the result waits for room and reaches it. */
static void
test_forward_slow_watcher(void **state)
{
	struct ctl_msg	ev = { .type = CTL_EVENT }, res = { .type = CTL_RESULT };
	struct client	c = { .fd = -1 };
	struct drain	d = { 0 };
	struct mig_err	err;
	pthread_t	t;
	int		sv[2], n = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK,
	    0, sv), 0);
	c.fd = sv[0];
	while (ctl_send(sv[0], &ev, &err) == 0)
		n++;
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	assert_int_equal(client_forward(&c, &ev), 0);	/* dropped */
	d.fd = sv[1];
	assert_int_equal(fcntl(sv[1], F_SETFL, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, drain_main, &d), 0);
	assert_int_equal(client_forward(&c, &res), 0);
	pthread_join(t, NULL);
	assert_int_equal(d.events, n);
	assert_int_equal(d.results, 1);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_type),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_text_set_sanitizes),
		cmocka_unit_test(test_names_of_new_types),
		cmocka_unit_test(test_send_recv_packets),
		cmocka_unit_test(test_result_labels),
		cmocka_unit_test(test_forward_slow_watcher),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
