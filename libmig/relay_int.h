/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the relay: the relay object and the functions its files share.
 *   relay.c       lifecycle (start, cancel, join, counters) and the loops
 *   relay_io.c    cancel-aware I/O on fds and on the connection
 *   relay_bw.c    token buckets
 *   relay_zstd.c  per-frame compression
 *   relay_digest.c the end-to-end digest of STREAM_END
 *   relay_credit.c the stream bytes in flight, bounded (STREAM_ACK)
 */
#ifndef MIG_RELAY_INT_H
#define MIG_RELAY_INT_H

#include <sys/types.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <xxhash.h>
#include <zstd.h>

#include "image_digest.h"
#include "mig/clock.h"
#include "mig/relay.h"
#include "mig/stream.h"

struct mig_bw {
	pthread_mutex_t	mtx;
	uint64_t	rate;		/* bytes/s, 0 = unlimited */
	double		tokens;		/* may go negative: a debt */
	uint64_t	last_ns;	/* CLOCK_MONOTONIC of the last refill */
};

struct mig_relay {
	struct mig_relay_conf	 conf;
	const char		*name;
	pthread_t		 thread;
	int			 cancel_fd;	/* eventfd: cancel requested */
	int			 done_fd;	/* eventfd: thread finished */
	atomic_bool		 cancelled;
	struct mig_bw		 bw;		/* this relay's own limit */

	/* counters (see struct mig_relay_stats) */
	_Atomic uint64_t	 local_bytes;
	_Atomic uint64_t	 stream_bytes;
	_Atomic uint64_t	 wire_bytes;
	_Atomic uint64_t	 frames;
	_Atomic uint64_t	 records;
	_Atomic uint64_t	 pages;
	atomic_int		 phase;
	atomic_bool		 libxc_end;
	atomic_bool		 libxl_end;
	atomic_bool		 done;
	atomic_bool		 failed;	/* on its own: see relay_main */
	_Atomic uint64_t	 stream_acked;	/* credit: see the stats */
	_Atomic uint64_t	 inflight_max;
	_Atomic uint64_t	 acks;
	_Atomic uint64_t	 credit_waits;

	/* the thread's own */
	uint8_t			*buf;		/* header room + a chunk */
	size_t			 bufcap;
	uint8_t			*zbuf;		/* (de)compressed chunk */
	size_t			 zcap;
	ZSTD_CCtx		*cctx;
	ZSTD_DCtx		*dctx;
	struct img_digest	 digest;	/* STREAM_END's */
	uint8_t			 final_digest[MIG_DIGEST_LEN];	/* once final */
	struct mig_stream	*ps;		/* NULL: not parsing */
	bool			 parsing;	/* false after END or an error */
	bool			 stopped;	/* it ended at our cancel */
	bool			 peer_word;	/* err is the peer's ERROR/CANCEL */
	uint64_t		 nrec;
	/* credit (relay_credit.c) */
	bool			 credit;	/* MIG_RELAY_F_CREDIT */
	bool			 cr_failed;	/* peer_spoke set err */
	uint64_t		 window;	/* SEND: stream bytes unacked */
	uint64_t		 delivered;	/* RECV: handed to libxl */
	uint8_t			 cr_in[MIG_FRAME_HDR_LEN + 1024];
	size_t			 cr_have, cr_need;	/* of cr_in */
	uint64_t		 cr_skip;	/* of an optional frame */
	int			 rc;
	struct mig_err		 err;
};

/* relay_io.c */
int	relay_cancelled(struct mig_relay *);
/* relay.c: the counters, page count and digest of stream bytes */
int	relay_account(struct mig_relay *, const uint8_t *, size_t);
/* relay_raw.c */
int	relay_send_raw(struct mig_relay *);
int	relay_sleep(struct mig_relay *, uint64_t ns);
ssize_t	relay_fd_read(struct mig_relay *, int, void *, size_t, const char *);
ssize_t	relay_fd_gather(struct mig_relay *, int, uint8_t *, size_t,
	    const char *);
int	relay_fd_write(struct mig_relay *, int, const void *, size_t,
	    const char *);
ssize_t	relay_conn_read(struct mig_relay *, void *, size_t);
int	relay_conn_read_full(struct mig_relay *, void *, size_t);
int	relay_conn_write(struct mig_relay *, const void *, size_t);
int	relay_conn_write_ctl(struct mig_relay *, const void *, size_t);
ssize_t	relay_conn_read_ctl(struct mig_relay *, void *, size_t, bool);

/* relay.c */
int	relay_recv_abort(struct mig_relay *, const struct mig_frame_hdr *,
	    const uint8_t *);

/* relay_credit.c */
void	relay_credit_init(struct mig_relay *);
int	relay_credit_delivered(struct mig_relay *, size_t);
int	relay_credit_wait(struct mig_relay *);
void	relay_credit_sent(struct mig_relay *);
int	relay_credit_peer_spoke(void *, struct mig_err *);

/* relay_bw.c */
void	relay_bw_init(struct mig_bw *, uint64_t);
void	relay_bw_destroy(struct mig_bw *);
int	relay_bw_take(struct mig_relay *, size_t);

/* relay_zstd.c */
int	relay_zstd_init(struct mig_relay *);
void	relay_zstd_free(struct mig_relay *);
size_t	relay_zstd_compress(struct mig_relay *, uint8_t *, size_t,
	    const uint8_t *, size_t);
ssize_t	relay_zstd_decompress(struct mig_relay *, uint8_t *, size_t,
	    const uint8_t *, size_t);

/* relay_digest.c */
int	relay_digest_init(struct mig_relay *);
void	relay_digest_free(struct mig_relay *);
const char *relay_digest_name(const struct mig_relay *);
int	relay_digest_update(struct mig_relay *, const void *, size_t);
int	relay_digest_final(struct mig_relay *, uint8_t [MIG_DIGEST_LEN]);

#endif
