/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rawpeer: a source that speaks the relocation protocol by hand, for the
 * cases a relocd source never produces.  It greets the relocd on
 * 127.0.0.1:PORT, reserves room for a 16 MiB domain NAME and prints
 * "reserved ID".  Given STALE-ID, it then starts the stream on that id
 * instead of the one it was just given, as a source would that reserved
 * before the target restarted, and prints the target's answer.
 *
 * Given -c FILE, it sends FILE as the domain's configuration instead of
 * its own (a malicious one, say: FILE's c_info.uuid should be the uuid
 * below) and prints the answer, "reserved ID" or "refused REASON: TEXT".
 *
 * Given -q ID, it asks instead, as a source in doubt does: QUERY for
 * reservation ID of NAME, and prints "answer STATE: TEXT" or, when the
 * target refuses to answer, "error CODE: TEXT".
 *
 * Given -x STEP, it breaks the protocol after RESERVED, as a hostile
 * source would, and prints the target's answer ("error CODE: TEXT"):
 *   commit  COMMIT at once, with no stream
 *   zdata   STREAM_START, then a zstd DATA frame, compression not granted
 *   bomb    the same with compression granted, a frame that decompresses
 *           to more than any DATA frame may
 *   direct  STREAM_START with flag DIRECT, which it did not ask for
 *
 * Given -s SRC first, it connects from the source address SRC
 * (127.0.0.2, say: another host, as the target's per-host limits see it).
 *
 * usage: rawpeer [-s SRC] PORT NAME [STALE-ID | -c FILE | -q ID | -x STEP]
 * Exit: 0 reserved (and, with STALE-ID, answered ERROR(not-found); with
 * -x, answered ERROR) or answered, 3 refused (REFUSED, or ERROR to a
 * QUERY), 1 anything else, 2 usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "mig/conn.h"
#include "mig/proto.h"
#include "relocd.h"
#include "srcconn.h"

#define TIMEOUT_MS	10000

static const uint8_t	uuid[MIG_UUID_LEN] = {
	0x7e, 0x57, 0x00, 0x01, 0x7e, 0x57, 0x40, 0x01,
	0x80, 0x01, 0x7e, 0x57, 0x00, 0x00, 0x00, 0x01,
};

/* QUERY, as a source in doubt sends it; prints the answer. */
static int
ask(struct mig_conn *conn, struct peer_buf *buf, uint64_t id,
    const char *name, uint64_t dl, struct mig_err *err)
{
	struct mig_msg	m;

	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_QUERY;
	m.u.query.reservation_id = id;
	memcpy(m.u.query.uuid, uuid, sizeof(uuid));
	snprintf(m.u.query.name, sizeof(m.u.query.name), "%s", name);
	if (peer_send(conn, &m, dl, err) == -1 ||
	    peer_recv(conn, buf, &m, dl, err) == -1)
		return 1;
	if (m.type == MIG_MSG_ERROR) {
		printf("error %s: %s\n", mig_errcode_name(m.u.error.code),
		    m.u.error.text);
		return 3;
	}
	if (m.type != MIG_MSG_ANSWER) {
		mig_seterr(err, MIG_E_PROTO, "answered %s, not ANSWER",
		    mig_msg_name(m.type));
		return 1;
	}
	printf("answer %s: %s\n", mig_query_state_name(m.u.answer.state),
	    m.u.answer.text);
	return 0;
}

/* A connection to 127.0.0.1:port from src. */
static struct mig_conn *
connect_from(const char *src, const char *port, struct mig_err *err)
{
	int	fd;

	if ((fd = test_connect_from(src, atoi(port))) == -1) {
		mig_seterrno(err, MIG_E_IO, "connect from %s", src);
		return NULL;
	}
	return mig_conn_new(fd, err);
}

/* One zstd DATA frame: 8 harmless bytes, or a bomb: a frame of zeroes
 * that decompresses 64 MiB from a few KiB. */
static int
data(struct mig_conn *conn, int bomb, uint64_t dl, struct mig_err *err)
{
	static uint8_t	 z[64 * 1024];
	struct mig_msg	 m;
	uint8_t		*zeros;
	size_t		 zn, big = 64u << 20;

	if (bomb) {
		if ((zeros = calloc(1, big)) == NULL)
			return mig_seterrno(err, MIG_E_NOMEM, "bomb");
		zn = ZSTD_compress(z, sizeof(z), zeros, big, 1);
		free(zeros);
	} else
		zn = ZSTD_compress(z, sizeof(z), "LibxlFmt", 8, 1);
	if (ZSTD_isError(zn))
		return mig_seterr(err, MIG_E_INVAL, "zstd: %s",
		    ZSTD_getErrorName(zn));
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_DATA;
	m.u.data.zstd = true;
	m.u.data.data = z;
	m.u.data.len = zn;
	return peer_send(conn, &m, dl, err);
}

/*
 * After RESERVED: the step -x names, then the target's answer, which must
 * be ERROR.
 */
static int
misbehave(struct mig_conn *conn, struct peer_buf *buf, const char *step,
    uint64_t id, uint64_t dl, struct mig_err *err)
{
	struct mig_msg	 m;
	int		 rc = 1;

	memset(&m, 0, sizeof(m));
	if (strcmp(step, "commit") == 0) {
		m.type = MIG_MSG_COMMIT;
		if (peer_send(conn, &m, dl, err) == -1)
			return 1;
	} else {
		m.type = MIG_MSG_STREAM_START;
		m.u.stream_start.reservation_id = id;
		if (strcmp(step, "bomb") == 0)
			m.u.stream_start.flags = MIG_STREAM_F_ZSTD;
		if (strcmp(step, "direct") == 0)
			m.u.stream_start.flags = MIG_STREAM_F_DIRECT;
		if (peer_send(conn, &m, dl, err) == -1)
			return 1;
		/* direct: nothing more, the answer must come before any byte */
		if (strcmp(step, "direct") != 0 &&
		    data(conn, strcmp(step, "bomb") == 0, dl, err) == -1)
			return 1;
	}
	if (peer_recv(conn, buf, &m, dl, err) == -1)
		return 1;
	if (m.type != MIG_MSG_ERROR) {
		mig_seterr(err, MIG_E_PROTO, "answered %s, not ERROR",
		    mig_msg_name(m.type));
		return 1;
	}
	printf("error %s: %s\n", mig_errcode_name(m.u.error.code),
	    m.u.error.text);
	rc = 0;
	return rc;
}

int
main(int argc, char **argv)
{
	struct mig_conn	*conn = NULL;
	struct peer_buf	*buf = NULL;
	struct mig_msg	 us, them, m;
	struct mig_err	 err;
	uint64_t	 dl, stale = 0;
	char		 json[MIG_FRAME_CTRL_MAX / 2], *end;
	const char	*cfg = NULL, *src = NULL, *step = NULL;
	uint64_t	 query = 0;
	FILE		*f;
	size_t		 n = 0;
	int		 rc = 1;

	mig_clearerr(&err);
	if (argc > 2 && strcmp(argv[1], "-s") == 0) {
		src = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc == 5 && strcmp(argv[3], "-x") == 0) {
		step = argv[4];
		argc = strcmp(step, "commit") == 0 || strcmp(step, "zdata") ==
		    0 || strcmp(step, "bomb") == 0 || strcmp(step, "direct") ==
		    0 ? 3 : 0;
	} else if (argc == 5 && strcmp(argv[3], "-c") == 0) {
		cfg = argv[4];
		argc = 3;
	} else if (argc == 5 && strcmp(argv[3], "-q") == 0) {
		query = strtoull(argv[4], &end, 10);
		argc = *end != '\0' || query == 0 ? 0 : 3;
	}
	if (argc == 4) {
		stale = strtoull(argv[3], &end, 10);
		if (*end != '\0' || stale == 0)
			argc = 0;
	}
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: rawpeer [-s SRC] PORT NAME [STALE-ID | "
		    "-c FILE | -q ID | -x commit|zdata|bomb|direct]\n");
		return 2;
	}
	if ((buf = malloc(sizeof(*buf))) == NULL) {
		mig_seterrno(&err, MIG_E_NOMEM, "buffer");
		goto out;
	}
	dl = mig_deadline(TIMEOUT_MS);
	if ((conn = src != NULL ? connect_from(src, argv[1], &err) :
	    mig_conn_connect("127.0.0.1", argv[1], TIMEOUT_MS, &err)) == NULL)
		goto out;
	memset(&us, 0, sizeof(us));
	us.type = MIG_MSG_HELLO;
	snprintf(us.u.hello.version, sizeof(us.u.hello.version), "rawpeer");
	snprintf(us.u.hello.hostname, sizeof(us.u.hello.hostname), "rawpeer");
	us.u.hello.xen_major = 4;
	us.u.hello.xen_minor = 17;
	snprintf(us.u.hello.arch, sizeof(us.u.hello.arch), "x86_64");
	us.u.hello.page_size = 4096;
	us.u.hello.max_data_frame = MIG_FRAME_DATA_MAX;
	if (peer_open(conn, &us, buf, &them, dl, &err) == -1)
		goto out;

	if (query != 0) {
		rc = ask(conn, buf, query, argv[2], dl, &err);
		goto out;
	}

	/* A domain the target can take: its own host's arch and version. */
	if (cfg != NULL) {
		if ((f = fopen(cfg, "r")) == NULL) {
			mig_seterrno(&err, MIG_E_IO, "%s", cfg);
			goto out;
		}
		n = fread(json, 1, sizeof(json) - 1, f);
		fclose(f);
		json[n] = '\0';
	} else
		snprintf(json, sizeof(json), "{\"c_info\": {\"name\": \"%s\", "
		    "\"type\": \"pv\", \"uuid\": "
		    "\"7e570001-7e57-4001-8001-7e5700000001\"}, "
		    "\"b_info\": {\"max_memkb\": 16384}}", argv[2]);
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_RESERVE;
	snprintf(m.u.reserve.name, sizeof(m.u.reserve.name), "%s", argv[2]);
	memcpy(m.u.reserve.uuid, uuid, sizeof(uuid));
	m.u.reserve.config = (const uint8_t *)json;
	m.u.reserve.config_len = strlen(json);
	m.u.reserve.mem_kib = 16384;
	m.u.reserve.xen_major = them.u.hello.xen_major;
	m.u.reserve.xen_minor = them.u.hello.xen_minor;
	snprintf(m.u.reserve.arch, sizeof(m.u.reserve.arch), "%s",
	    them.u.hello.arch);
	m.u.reserve.page_size = them.u.hello.page_size;
	/* The bomb needs compression granted; zdata must not have it. */
	if (step != NULL && strcmp(step, "bomb") == 0)
		m.u.reserve.features = MIG_FEAT_ZSTD;
	if (peer_send(conn, &m, dl, &err) == -1 ||
	    peer_recv(conn, buf, &m, dl, &err) == -1)
		goto out;
	if (m.type == MIG_MSG_REFUSED) {
		printf("refused %s: %s\n", mig_refuse_reason_name(m.u.refused.reason),
		    m.u.refused.text);
		rc = 3;
		goto out;
	}
	if (m.type != MIG_MSG_RESERVED) {
		mig_seterr(&err, MIG_E_PROTO, "answered %s, not RESERVED",
		    mig_msg_name(m.type));
		goto out;
	}
	printf("reserved %" PRIu64 "\n", m.u.reserved.id);
	fflush(stdout);
	if (step != NULL) {
		rc = misbehave(conn, buf, step, m.u.reserved.id, dl, &err);
		goto out;
	}
	if (stale == 0) {
		rc = 0;
		goto out;
	}

	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_STREAM_START;
	m.u.stream_start.reservation_id = stale;
	if (peer_send(conn, &m, dl, &err) == -1 ||
	    peer_recv(conn, buf, &m, dl, &err) == -1)
		goto out;
	if (m.type != MIG_MSG_ERROR) {
		mig_seterr(&err, MIG_E_PROTO, "answered %s, not ERROR",
		    mig_msg_name(m.type));
		goto out;
	}
	printf("error %s: %s\n", mig_errcode_name(m.u.error.code),
	    m.u.error.text);
	rc = m.u.error.code == MIG_E_NOTFOUND ? 0 : 1;
	mig_clearerr(&err);
 out:
	if (rc != 0 && err.msg[0] != '\0')
		fprintf(stderr, "rawpeer: %s\n", err.msg);
	if (conn != NULL)
		mig_conn_close(conn);
	free(buf);
	return rc;
}
