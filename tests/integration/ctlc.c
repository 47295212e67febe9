/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal control client for the integration tests: sends one migrate
 * request to a relocd and prints what comes back, one line per message,
 * ending with the result.  Exit status: the job's ctl_status.  (xl-reloc
 * is the real client; this one exists so the daemon's tests need no more
 * than libmig.)
 *
 * usage: ctlc SOCKET migrate DOMAIN HOST PORT FLAGS
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

int
main(int argc, char **argv)
{
	struct sockaddr_un	sun;
	struct ctl_msg		m;
	struct mig_err		err;
	int			fd;

	if (argc != 7 || strcmp(argv[2], "migrate") != 0) {
		fprintf(stderr, "usage: ctlc SOCKET migrate DOMAIN HOST PORT "
		    "FLAGS\n");
		return 1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror(argv[1]);
		return CTL_ST_NODAEMON;
	}
	memset(&m, 0, sizeof(m));
	m.type = CTL_MIGRATE;
	snprintf(m.u.migrate.domain, sizeof(m.u.migrate.domain), "%s", argv[3]);
	snprintf(m.u.migrate.host, sizeof(m.u.migrate.host), "%s", argv[4]);
	m.u.migrate.port = (uint16_t)atoi(argv[5]);
	m.u.migrate.flags = (uint32_t)strtoul(argv[6], NULL, 0);
	if (ctl_send(fd, &m, &err) == -1) {
		fprintf(stderr, "%s\n", err.msg);
		return CTL_ST_FAILED;
	}
	for (;;) {
		if (ctl_recv(fd, &m, &err) == -1) {
			fprintf(stderr, "%s\n", err.msg);
			return CTL_ST_UNDEFINED;
		}
		switch (m.type) {
		case CTL_ACCEPTED:
			printf("accepted job=%" PRIu64 "\n", m.u.job);
			break;
		case CTL_EVENT:
			printf("event phase=%u round=%u pages=%" PRIu64
			    " dirty=%" PRIu64 " wire=%" PRIu64 "\n",
			    m.u.event.phase, m.u.event.round,
			    m.u.event.pages_sent, m.u.event.dirty_left,
			    m.u.event.bytes_wire);
			break;
		case CTL_ERROR:
			printf("error status=%u %s\n", m.u.error.status,
			    m.u.error.text);
			return m.u.error.status;
		case CTL_RESULT:
			printf("result status=%u code=%u domid=%u rounds=%u "
			    "paused_ms=%" PRIu64 " wire=%" PRIu64 " text=%s\n",
			    m.u.result.status, m.u.result.code,
			    m.u.result.domid, m.u.result.rounds,
			    m.u.result.paused_ms, m.u.result.bytes_wire,
			    m.u.result.text);
			return m.u.result.status;
		}
	}
}
