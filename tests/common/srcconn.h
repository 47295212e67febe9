/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A TCP connection to 127.0.0.1:port from the local address src (another
 * loopback address, such as 127.0.0.2, stands for another host).
 */
#ifndef TEST_SRCCONN_H
#define TEST_SRCCONN_H

/* The connected socket (blocking), or -1 with errno set. */
int	test_connect_from(const char *src, int port);

#endif
