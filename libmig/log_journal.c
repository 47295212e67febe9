/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journald's native protocol (systemd's "Native Journal Protocol"): one
 * datagram per entry on /run/systemd/journal/socket, each field a line
 * KEY=VALUE, or, for a value holding a newline, KEY, a newline, the
 * value's length as 64-bit little endian, the value and a newline.  It is
 * all sd_journal_send() does for a short entry, so relocd needs no
 * libsystemd for its structured fields (JOB_ID=, DOMAIN=, PEER=, ...).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mig/log.h"

int
mig_log_key_valid(const char *key)
{
	size_t	i;

	/* journald's rule: A-Z, 0-9 and '_', not first; at most 64 */
	if (key[0] == '\0' || key[0] == '_' || strlen(key) > 64)
		return 0;
	for (i = 0; key[i] != '\0'; i++)
		if (!((key[i] >= 'A' && key[i] <= 'Z') ||
		    (key[i] >= '0' && key[i] <= '9') || key[i] == '_'))
			return 0;
	return 1;
}

/* Appends one field at *o (counting past cap, as snprintf does). */
static void
put_field(char *buf, size_t cap, size_t *o, const char *key,
    const char *value)
{
	size_t	klen = strlen(key), vlen = strlen(value), i;
	uint64_t len = vlen;

#define PUT(p, n) do {							\
	if (*o < cap)							\
		memcpy(buf + *o, (p), (n) <= cap - *o ? (n) : cap - *o);	\
	*o += (n);							\
} while (0)
	PUT(key, klen);
	if (strchr(value, '\n') == NULL) {
		PUT("=", 1);
	} else {
		PUT("\n", 1);
		for (i = 0; i < 8; i++) {
			uint8_t	b = (uint8_t)(len >> (8 * i));

			PUT(&b, 1);
		}
	}
	PUT(value, vlen);
	PUT("\n", 1);
#undef PUT
}

size_t
mig_log_journal_entry(char *buf, size_t cap, int pri, const char *ident,
    const char *msg, const struct mig_log_kv *kv, size_t n)
{
	char	p[4];
	size_t	o = 0, i;

	snprintf(p, sizeof(p), "%d", pri & 7);
	put_field(buf, cap, &o, "PRIORITY", p);
	if (ident != NULL && *ident != '\0')
		put_field(buf, cap, &o, "SYSLOG_IDENTIFIER", ident);
	put_field(buf, cap, &o, "MESSAGE", msg);
	for (i = 0; i < n; i++)
		if (kv[i].key != NULL && mig_log_key_valid(kv[i].key) &&
		    kv[i].value != NULL && kv[i].value[0] != '\0')
			put_field(buf, cap, &o, kv[i].key, kv[i].value);
	return o;
}

int
mig_log_journal_send(const char *path, const void *buf, size_t len)
{
	struct sockaddr_un	sun;
	ssize_t			n;
	int			fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	n = sendto(fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    sizeof(sun));
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)len ? 0 : -1;
}
