/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stream relay: a thread that moves a Xen save stream between libxl's
 * end of a socketpair and the network (or a file).
 *
 * libxl writes and reads the stream with blocking I/O while holding its
 * lock, and the bulk memory comes from a child (libxl-save-helper), so
 * everything that happens to the bytes in between -- framing, TLS, zstd,
 * the bandwidth limit, counting pages, hashing -- happens here, on the other
 * end of a socketpair, in a thread of its own.
 *
 * Who sends what.  Before mig_relay_start() the caller (the phase machine)
 * has done the preamble, HELLO/RESERVE and STREAM_START on the connection.
 *   SEND  reads the local fd to EOF (the caller closes libxl's end after
 *         libxl's save callback), sends each chunk as one DATA frame, then
 *         sends STREAM_END {bytes, pages, digest of the uncompressed
 *         stream: SHA-256, or XXH3-128 with MIG_RELAY_F_XXH3} and stops: the connection is left open and positioned
 *         after STREAM_END for RECEIVED/COMMIT/...
 *   RECV  reads DATA frames and writes their payload to the local fd until
 *         STREAM_END, which it checks against its own byte count, page
 *         count and digest (MIG_E_CORRUPT on a mismatch).  It never reads
 *         past the end of STREAM_END.  On success it shuts down the sending
 *         side of the local socket, so a reader there sees EOF.  A CANCEL
 *         or ERROR frame from the peer ends it with MIG_E_CANCELLED or the
 *         peer's code, and the peer's text.
 *   TO_FILE / FROM_FILE copy raw bytes between the local fd and a file fd
 *         (save, restore: libevent cannot watch regular files).  No framing;
 *         any image trailer, and the fsync, are the caller's business.
 *         FROM_FILE shuts down the local socket's sending side at EOF.
 *   RECV_RAW  reads raw stream bytes from the connection (xl's migrate
 *         channel: no frames) and writes them to the local fd up to and
 *         including the libxl END record, found by the parser (which is
 *         therefore mandatory), then shuts down the local socket's sending
 *         side.  It never passes anything past END on: a byte after it in
 *         the same read is MIG_E_PROTO (xl says nothing more before the
 *         receiver's "ready" message), a stream the parser refuses is
 *         MIG_E_CORRUPT, a close before END MIG_E_EOF.
 *   SEND_RAW  reads the local fd to EOF, as SEND, and writes the bytes to
 *         the connection as they are: no frame, no digest, no STREAM_END
 *         (a DIRECT stream through TLS in user space, whose records' AEAD
 *         checks them; the receiver's libxl finds the stream's end).  The
 *         connection is left positioned after the stream.
 *
 * Ownership: the caller owns the local fd, the connection, the file fd and
 * a shared bandwidth bucket; the relay borrows them from start until
 * mig_relay_join() returns, and nobody else may use them meanwhile.  The
 * relay sets O_NONBLOCK on the local fd and the connection's fd is already
 * non-blocking.  On any failure (and on cancel) the relay shuts the local
 * socket down (SHUT_RDWR) so that libxl's next read sees EOF and its next
 * write fails with EPIPE: libxl then fails instead of hanging.  If the
 * local fd is a pipe rather than a socket the caller must close it.
 *
 * After a failed or cancelled relay the connection is unusable: a frame
 * may have been cut in the middle (and a TLS write left pending), so the
 * peer can no longer find frame boundaries.  Close it; the peer's relay
 * then fails with MIG_E_EOF.  After a successful one it is positioned at a
 * frame boundary and the caller carries on with it.
 *
 * A SEND relay that the peer stops reading from while it has something to
 * say (an ERROR or CANCEL frame, or a close) fails with MIG_E_PROTO or
 * MIG_E_EOF instead of waiting forever; the peer's frame is left unread,
 * so the caller can read it.
 *
 * The relay thread runs with every signal blocked: SIGPIPE from a write to a
 * dead peer is never delivered (writes report EPIPE), and the program's
 * signal handlers run in its own threads.
 */
#ifndef MIG_RELAY_H
#define MIG_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mig/conn.h"
#include "mig/error.h"
#include "mig/proto.h"

struct mig_relay;
struct mig_bw;

enum mig_relay_dir {
	MIG_RELAY_SEND,		/* local fd -> DATA frames on conn, STREAM_END */
	MIG_RELAY_RECV,		/* DATA frames on conn -> local fd */
	MIG_RELAY_TO_FILE,	/* local fd -> file fd (save) */
	MIG_RELAY_FROM_FILE,	/* file fd -> local fd (restore) */
	MIG_RELAY_RECV_RAW,	/* raw stream on conn -> local fd, to END */
	MIG_RELAY_SEND_RAW	/* local fd -> raw stream on conn (DIRECT) */
};

/* mig_relay_conf.flags */
#define MIG_RELAY_F_NO_XL_HEADER 0x1	/* stream starts at "LibxlFmt" */
#define MIG_RELAY_F_NO_PARSE	0x2	/* opaque bytes: no parsing, pages 0 */
#define MIG_RELAY_F_ZSTD	0x4	/* SEND: zstd-compress DATA frames;
					 * RECV: compression was granted, so
					 * zstd DATA frames are allowed */
#define MIG_RELAY_F_XXH3	0x8	/* SEND, RECV: STREAM_END digest is
					 * XXH3-128 (MIG_STREAM_F_XXH3) */
#define MIG_RELAY_F_CREDIT	0x10	/* SEND: at most credit_window stream
					 * bytes unacknowledged; RECV: send
					 * STREAM_ACK (MIG_STREAM_F_CREDIT) */

/*
 * The default credit window: about what TCP's own buffers hold on a
 * plain connection, so that a compressed stream leaves no more backlog
 * at the target than an uncompressed one (bench/RESULTS.md).
 */
#define MIG_RELAY_CREDIT_WINDOW	(4u * 1024 * 1024)

/* Bytes read from the local fd (or file) at a time, by default. */
#define MIG_RELAY_CHUNK_DEFAULT	(1024u * 1024)
/*
 * The largest chunk, and the most one zstd DATA frame may decompress to:
 * a bigger one is refused (MIG_E_TOOBIG), which bounds what a peer can
 * make the receiver allocate or write in one go.
 */
#define MIG_RELAY_CHUNK_MAX	MIG_FRAME_DATA_MAX
/*
 * zstd level 1: compression only pays on a link slower than the
 * compressor, where the ratio matters more than the ~1.4x speed of the
 * negative levels (bench/RESULTS.md).
 */
#define MIG_RELAY_ZSTD_LEVEL_DEFAULT 1

struct mig_relay_conf {
	enum mig_relay_dir	 dir;
	unsigned		 flags;		/* MIG_RELAY_F_* */
	int			 local_fd;	/* libxl's socketpair, our end */
	struct mig_conn		*conn;		/* SEND, RECV */
	int			 file_fd;	/* TO_FILE, FROM_FILE */
	/* With MIG_RELAY_F_ZSTD; 0 means MIG_RELAY_ZSTD_LEVEL_DEFAULT,
	 * negative levels are zstd's fast levels. */
	int			 zstd_level;
	uint64_t		 bw_limit;	/* wire bytes/s; 0 = none */
	/* A bucket several relays share (a daemon-wide limit), or NULL;
	 * both this and bw_limit apply. */
	struct mig_bw		*bw_shared;
	size_t			 chunk;		/* 0 = MIG_RELAY_CHUNK_DEFAULT */
	const char		*name;		/* for messages; may be NULL */
	/* Longest wait on conn, for data or for room to send, before the
	 * relay fails with MIG_E_TIMEOUT: a stuck peer.  0 = forever. */
	int			 idle_ms;
	/* With MIG_RELAY_F_CREDIT on SEND: the most stream bytes sent and
	 * not acknowledged; 0 = MIG_RELAY_CREDIT_WINDOW.  Raised to a chunk
	 * plus MIG_CREDIT_ACK_UNIT if smaller. */
	uint64_t		 credit_window;
};

/*
 * Counters, readable at any time from any thread (each one is atomic; the
 * set is not a snapshot).
 */
struct mig_relay_stats {
	uint64_t	local_bytes;	/* read from / written to the local fd */
	uint64_t	stream_bytes;	/* uncompressed stream bytes hashed */
	uint64_t	wire_bytes;	/* sent / received on conn or file,
					 * frame headers included */
	uint64_t	frames;		/* DATA frames */
	uint64_t	records;	/* libxl + libxc records parsed */
	uint64_t	pages;		/* pages that carried data */
	int		phase;		/* enum mig_stream_phase; ERROR when
					 * not parsing (F_NO_PARSE, or the
					 * stream was not understood) */
	bool		libxc_end;	/* libxc END record seen */
	bool		libxl_end;	/* libxl END record seen */
	bool		done;		/* the thread has finished */
	bool		failed;		/* it failed on its own (not at our
					 * cancel), and said so before it
					 * shut the local socket down */
	bool		peer_word;	/* ... with the peer's ERROR or
					 * CANCEL frame */
	/* With MIG_RELAY_F_CREDIT; 0 otherwise. */
	uint64_t	stream_acked;	/* SEND: the peer's last STREAM_ACK;
					 * RECV: the last one we sent */
	uint64_t	inflight_max;	/* SEND: most stream bytes ever sent
					 * and not acknowledged */
	uint64_t	stream_queued;	/* SEND: sent and not acknowledged,
					 * i.e. not yet handed to the target's
					 * libxl */
	uint64_t	acks;		/* STREAM_ACK frames read / sent */
	uint64_t	credit_waits;	/* SEND: STREAM_ACKs waited for with
					 * the window full */
	/* SEND, RECV: the STREAM_END digest (as its field), once the
	 * relay has finished; zeroes before. */
	uint8_t		digest[MIG_DIGEST_LEN];
};

/*
 * A socketpair for libxl (sv[0]) and the relay (sv[1]): close-on-exec,
 * with buffers big enough that a 1 MiB chunk moves in few system calls.
 */
int	mig_relay_socketpair(int sv[2], struct mig_err *);

/* Checks conf, allocates, starts the thread; NULL on failure. */
struct mig_relay *mig_relay_start(const struct mig_relay_conf *,
	    struct mig_err *);
void	mig_relay_stats(const struct mig_relay *, struct mig_relay_stats *);
/* New wire limit for this relay, in bytes/s (0 = none); effective within
 * 100 ms, even in the middle of a wait. */
void	mig_relay_set_bw(struct mig_relay *, uint64_t);
/*
 * Ask the relay to stop: it does within 100 ms, with MIG_E_CANCELLED, and
 * shuts the local socket down.  Safe from any thread, any number of times.
 */
void	mig_relay_cancel(struct mig_relay *);
/* An fd that becomes readable when the thread has finished (for an event
 * loop; then mig_relay_join() does not block).  Owned by the relay. */
int	mig_relay_done_fd(const struct mig_relay *);
/*
 * Wait for the thread, copy the final counters into *stats (may be NULL),
 * free the relay and return its result: 0, or -1 with err filled.
 */
int	mig_relay_join(struct mig_relay *, struct mig_relay_stats *,
	    struct mig_err *);

/*
 * A token bucket: rate bytes/s (0 = unlimited), burst 100 ms worth.
 * Thread-safe, so one bucket can be shared by several relays.
 */
struct mig_bw	*mig_bw_new(uint64_t rate, struct mig_err *);
void		 mig_bw_set_rate(struct mig_bw *, uint64_t);
uint64_t	 mig_bw_rate(struct mig_bw *);
void		 mig_bw_free(struct mig_bw *);

#endif
