/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SLOW_SHUTDOWN_H
#define SLOW_SHUTDOWN_H

/* Milliseconds a SHUT_RDWR of an AF_UNIX socket holds its caller after
 * the shutdown took effect; -1 (the default) reads $TEST_SLOW_SHUTDOWN_MS. */
extern int	slow_shutdown_ms;

#endif
