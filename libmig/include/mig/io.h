/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Waiting for a descriptor, the one way libmig does it: every blocking
 * read, write and wait on a connection (conn.h) or on a local stream fd
 * (the relay's side of libxl's socketpair, an image file) takes a
 * struct mig_io that says how long it may wait and what ends it early.
 *
 *   deadline   absolute mig_now_ms() time, 0 none: MIG_E_TIMEOUT "timed out"
 *   idle_ms    longest single wait with no byte moving, 0 none:
 *              MIG_E_TIMEOUT "... neither sent nor took a byte for N s"
 *   cancel_fd  -1 none; once readable every wait ends with MIG_E_CANCELLED
 *              (the relay's eventfd), so no call outlasts a cancel
 *
 * MIG_IO_INIT is "no limit"; MIG_IO_DEADLINE(d) only a deadline.
 */
#ifndef MIG_IO_H
#define MIG_IO_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "mig/error.h"

struct mig_io {
	uint64_t	 deadline;
	int		 idle_ms;
	int		 cancel_fd;
	unsigned	 flags;		/* MIG_IO_* */
	/*
	 * With MIG_IO_QUIET_PEER: called when the peer has spoken while a
	 * write waits for room.  It may read what the peer said (the relay
	 * reads STREAM_ACK frames) and return 0 to go on waiting, or -1 with
	 * err set to stop.  NULL: stop, as below.
	 */
	int		(*peer_spoke)(void *arg, struct mig_err *);
	void		*peer_arg;
};

/*
 * A sender that has to wait for room stops, rather than wait forever, if
 * the peer speaks or closes meanwhile: a peer that sent ERROR or CANCEL in
 * the middle of a stream will not read on.  Its bytes stay unread for the
 * caller, unless peer_spoke reads them.  For streams only.
 */
#define MIG_IO_QUIET_PEER	0x1
/*
 * The calling thread keeps SIGPIPE blocked itself (the relay thread does
 * for its whole life), so a TLS call need not block and unblock it around
 * every SSL_read/SSL_write (conn.h, SIGPIPE).
 */
#define MIG_IO_SIGPIPE_BLOCKED	0x2

#define MIG_IO_INIT		{ .deadline = 0, .idle_ms = 0, \
				  .cancel_fd = -1, .flags = 0 }
#define MIG_IO_DEADLINE(d)	{ .deadline = (d), .idle_ms = 0, \
				  .cancel_fd = -1, .flags = 0 }

/*
 * Wait until fd is ready for events (POLLIN, POLLOUT), or a limit of io
 * ends the wait.  Errors and hangups count as ready: the next read or
 * write reports them properly.  Returns the fd's revents, or -1 with err
 * set; messages read "VERB NAME: timed out" and so on.
 */
int	mig_io_wait(int fd, short events, const struct mig_io *,
	    const char *verb, const char *name, struct mig_err *);
/* 1..len bytes, 0 at end of file, -1 on error ("read from NAME: ..."). */
ssize_t	mig_io_read(int fd, void *, size_t, const struct mig_io *,
	    const char *name, struct mig_err *);
/* All len bytes, or -1 ("write to NAME: ..."). */
int	mig_io_write(int fd, const void *, size_t, const struct mig_io *,
	    const char *name, struct mig_err *);

#endif
