/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Telling systemd where relocd stands (Type=notify): READY=1 once the
 * journal has been reconciled and the listeners and the control socket
 * are up, so that units ordered after relocd (Pacemaker's systemd:relocd,
 * an evacuation at boot) never race the reconciliation; STATUS= with the
 * job count; STOPPING=1 on the way out.  The protocol is one datagram to
 * the AF_UNIX socket in $NOTIFY_SOCKET (sd_notify(3)); without that
 * variable nothing is sent, so relocd needs no libsystemd.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/log.h"
#include "relocd.h"

void
notify_systemd(const char *fmt, ...)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	char			 msg[256];
	socklen_t		 len;
	va_list			 ap;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* the abstract namespace */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		mig_log_warn("systemd notification");
		return;
	}
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		mig_log_warn("systemd notification to %s", path);
	close(fd);
}

/* STATUS= as systemctl status shows it: what relocd is doing now. */
void
notify_jobs(struct relocd *rd)
{
	size_t	n = job_count(rd, 0, false);

	if (n == 0)
		notify_systemd("STATUS=ready, no jobs");
	else
		notify_systemd("STATUS=%zu job%s running", n, n == 1 ? "" :
		    "s");
}
