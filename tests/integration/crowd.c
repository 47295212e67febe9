/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crowd: N connections to 127.0.0.1:PORT from the source address SRC,
 * each of which then does as MODE says and stalls:
 *   idle   sends nothing
 *   close  sends nothing and closes at once
 *   half   sends half a relocation preamble
 *   hello  sends a TLS ClientHello, and never answers the server's
 *   reset  sends the preamble and resets the connection (RST)
 * It prints "ready N" (how many connects succeeded), then, on each
 * SIGUSR1, "open K": how many of its connections the server has not
 * closed.  It runs until it is killed.
 *
 * usage: crowd SRC PORT N MODE
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "mig/proto.h"
#include "srcconn.h"

static volatile sig_atomic_t	asked;

static void
on_usr1(int sig)
{
	asked = 1;
}

/* The ClientHello goes out; the handshake goes no further. */
static int
client_hello(SSL_CTX *ctx, int fd)
{
	SSL	*ssl;
	int	 rc;

	/* Non-blocking: the call returns once the hello is out. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    (ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
		return -1;
	SSL_set_connect_state(ssl);
	rc = SSL_do_handshake(ssl);
	rc = rc <= 0 && SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ ? 0 : -1;
	/* Freed without a close_notify: the connection stays as it is. */
	SSL_set_quiet_shutdown(ssl, 1);
	SSL_free(ssl);
	return rc;
}

/* Whether the server has closed fd (or reset it). */
static int
closed(int fd)
{
	char	c;
	ssize_t	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK);
}

int
main(int argc, char **argv)
{
	static const char	half[8] = "XENRELOC";
	struct linger		rst = { 1, 0 };
	uint8_t			pre[MIG_PREAMBLE_LEN];
	SSL_CTX			*ctx = NULL;
	int			*fds, n, i, k, port;
	const char		*mode;

	if (argc != 5 || (n = atoi(argv[3])) <= 0 ||
	    (port = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: crowd SRC PORT N "
		    "idle|close|half|hello|reset\n");
		return 2;
	}
	mode = argv[4];
	mig_preamble_encode(pre);
	if (strcmp(mode, "hello") == 0 &&
	    (ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, on_usr1);
	if ((fds = calloc(n, sizeof(*fds))) == NULL)
		return 1;
	for (i = k = 0; i < n; i++) {
		if ((fds[i] = test_connect_from(argv[1], port)) == -1)
			continue;
		k++;
		if (strcmp(mode, "close") == 0) {
			close(fds[i]);
			fds[i] = -1;
		} else if (strcmp(mode, "reset") == 0) {
			(void)write(fds[i], pre, sizeof(pre));
			(void)setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &rst,
			    sizeof(rst));
			close(fds[i]);
			fds[i] = -1;
		} else if (strcmp(mode, "half") == 0)
			(void)write(fds[i], half, sizeof(half) / 2);
		else if (ctx != NULL && client_hello(ctx, fds[i]) == -1)
			fprintf(stderr, "crowd: no ClientHello on connection "
			    "%d\n", i);
	}
	printf("ready %d\n", k);
	fflush(stdout);
	for (;;) {
		pause();
		if (!asked)
			continue;
		asked = 0;
		for (i = k = 0; i < n; i++)
			k += fds[i] != -1 && !closed(fds[i]);
		printf("open %d\n", k);
		fflush(stdout);
	}
}
