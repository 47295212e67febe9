/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A socket whose TLS records the kernel encrypts and decrypts, handed
 * over by the process that made the handshake (mig_conn_handoff): there
 * is no SSL object here, so the records that are not application data
 * are ours to tell apart.  The kernel returns them only to a recvmsg()
 * with room for their type (TLS_GET_RECORD_TYPE), one record at a time.
 */
#include <sys/socket.h>
#include <errno.h>
#include <string.h>

#include <linux/tls.h>

#include "conn_int.h"
#include "msghdr_int.h"

#ifndef SOL_TLS
#define SOL_TLS		282
#endif

#define TLS_CT_ALERT		21
#define TLS_CT_APPDATA		23
#define TLS_ALERT_CLOSE_NOTIFY	0

ssize_t
conn_ktls_recv(int fd, void *buf, size_t len)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(unsigned char))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	unsigned char	 type = TLS_CT_APPDATA, *p = buf;
	ssize_t		 n;

	mig_msghdr_init(&msg, &iov, buf, len, cm.buf, sizeof(cm.buf));
	if ((n = recvmsg(fd, &msg, 0)) <= 0)
		return n;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_TLS &&
		    c->cmsg_type == TLS_GET_RECORD_TYPE)
			type = *CMSG_DATA(c);
	if (type == TLS_CT_APPDATA)
		return n;
	/* close_notify ends the stream as EOF does; any other alert, and
	 * a handshake message after the handshake, we cannot act on. */
	if (type == TLS_CT_ALERT && n >= 2 && p[1] == TLS_ALERT_CLOSE_NOTIFY)
		return 0;
	errno = EPROTO;
	return -1;
}

int
conn_ktls_close_notify(int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(unsigned char))];
	} cm;
	unsigned char	 alert[2] = { 1, TLS_ALERT_CLOSE_NOTIFY };
	struct msghdr	 msg;
	struct iovec	 iov;

	memset(&cm, 0, sizeof(cm));
	mig_msghdr_init(&msg, &iov, alert, sizeof(alert), cm.buf,
	    sizeof(cm.buf));
	cm.hdr.cmsg_level = SOL_TLS;
	cm.hdr.cmsg_type = TLS_SET_RECORD_TYPE;
	cm.hdr.cmsg_len = CMSG_LEN(sizeof(unsigned char));
	*CMSG_DATA(&cm.hdr) = TLS_CT_ALERT;
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == -1 ? -1 : 0;
}
