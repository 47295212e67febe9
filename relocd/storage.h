/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Moving a domain's local disks with it (relocd.conf(5) storage_map,
 * xl-reloc(1) --with-storage, doc/protocol.md section 9).
 *
 *   storage_out.c      source: which disks, their kind and size; sending
 *                      each one after the memory stream
 *   storage_live.c     source, live: pass 0 and the delta passes with the
 *                      guest running, the last delta after the memory
 *                      (write trackers: storage_track.h)
 *   storage_live_in.c  target, live: the passes at their offsets
 *   storage_in.c       target: where each goes, the policy and the free
 *                      space at reservation, creating, receiving and
 *                      checking each one, removing them on failure
 *   storage_dest.c     target: a destination, an LVM volume or a file:
 *                      free space, create, remove
 *   storage_journal.c  target: STATE_DIR/storage, what was created for
 *                      which job, and its reconciliation after a crash
 *   storage_xfer.c     both: some ranges of a disk through the relay
 */
#ifndef RELOCD_STORAGE_H
#define RELOCD_STORAGE_H

#include <limits.h>
#include <stdint.h>

#include "mig/proto.h"
#include "relocd.h"

struct mig_conn;
struct mig_hv;
struct track;
struct mig_relay_conf;

struct storage_disk {
	struct mig_disk_desc	 d;		/* index, kind, size */
	char			 src[PATH_MAX];	/* the path at the source */
	char			 dst[PATH_MAX];	/* target: where it goes */
	int			 created;	/* target: dst is ours */
};

struct storage {
	unsigned		 n;
	struct storage_disk	 disk[MIG_DISKS_MAX];
};

/* storage_out.c */
int	storage_describe(struct mig_hv *, const char *, struct storage *,
	    struct mig_err *);
void	storage_reserve_fill(const struct storage *, struct mig_msg_reserve *);
int	storage_send(struct worker *, struct mig_conn *,
	    const struct storage *, unsigned, uint64_t, struct mig_err *);
int	storage_open_source(const struct storage_disk *, struct mig_err *);
void	storage_relay_conf(struct worker *, struct mig_conn *, unsigned,
	    uint64_t, const char *, struct mig_relay_conf *);
uint16_t storage_disk_flags(unsigned);
int	storage_send_disk(struct worker *, struct mig_conn *,
	    const struct storage_disk *, unsigned, uint64_t, struct track *,
	    struct mig_err *);
void	storage_remove_source(const struct storage *, const char *);

/* storage_in.c; plan and create return 1 when refused (why, reason) */
int	storage_plan(struct worker *, const struct mig_msg_reserve *,
	    char **, struct storage *, uint16_t *, char *, size_t);
int	storage_space(const struct storage *, uint64_t, char *, size_t);
int	storage_create(struct worker *, struct storage *, uint16_t *, char *,
	    size_t);
int	storage_receive(struct worker *, struct mig_conn *, struct peer_buf *,
	    struct storage *, uint64_t, struct mig_err *);
struct mig_disk_range;
int	storage_verify(struct worker *, const struct storage_disk *, int,
	    const struct mig_disk_range *, size_t, int,
	    const uint8_t [MIG_DIGEST_LEN], struct mig_err *);
int	storage_recv_conf(struct mig_conn *, uint16_t, uint64_t,
	    const char *, struct mig_relay_conf *, struct mig_err *);
int	storage_receive_disk(struct worker *, struct mig_conn *,
	    const struct storage_disk *, const struct mig_msg_disk *, uint64_t,
	    struct mig_err *);
void	storage_undo(struct worker *, struct storage *);
int	storage_keep(struct worker *, const struct storage *,
	    struct mig_err *);

/* storage_live.c: the source's live copy, its trackers and counts */
struct storage_live {
	struct track	*track[MIG_DISKS_MAX];
	unsigned	 rflags;	/* MIG_RELAY_F_ZSTD, MIG_RELAY_F_XXH3 */
	uint64_t	 bw;		/* the bandwidth limit, 0 none */
	/* The convergence policy's say on a pass that would cost this
	 * pause: -1 to give up (worker_out.c). */
	int		(*judge)(void *, uint32_t);
	void		*arg;
	unsigned	 passes;	/* delta passes, the last included */
	uint64_t	 last_bytes;	/* of the last, with the guest paused */
};
int	storage_live_check(const struct storage *, struct mig_err *);
int	storage_live_precopy(struct worker *, struct mig_conn *,
	    const struct storage *, struct storage_live *, struct mig_err *);
int	storage_live_final(struct worker *, struct mig_conn *,
	    const struct storage *, struct storage_live *, struct mig_err *);
void	storage_live_stop(struct storage_live *);

/* storage_live_in.c; live returns with the STREAM_START that ends it */
int	storage_receive_live(struct worker *, struct mig_conn *,
	    struct peer_buf *, const struct storage *, uint64_t,
	    struct mig_msg *, struct mig_err *);
int	storage_receive_final(struct worker *, struct mig_conn *,
	    struct peer_buf *, const struct storage *, uint64_t,
	    struct mig_err *);

/* storage_xfer.c: n ranges of the disk at fd, in order */
struct mig_relay_stats;
int	storage_pump(struct worker *, struct mig_relay_conf *, int,
	    const struct mig_disk_range *, size_t, struct track *,
	    struct mig_relay_stats *, struct mig_err *);

/* storage_dest.c */
int	dest_check(uint8_t, const char *, char *, size_t);
int	dest_free(uint8_t, const char *, uint64_t *, char *, size_t);
int	dest_pool(uint8_t, const char *, char *, size_t);
int	dest_create(uint8_t, const char *, uint64_t, struct mig_err *);
int	dest_remove(uint8_t, const char *, struct mig_err *);

/* storage_journal.c */
enum sj_verb {
	SJ_CREATE,	/* about to be created: remove it unless committed */
	SJ_KEEP,	/* the job committed: its disks are the domain's */
	SJ_DROP,	/* removed: nothing left of the job */
};
int	sj_append(const char *, uint64_t, enum sj_verb, uint8_t,
	    const char *, struct mig_err *);
int	storage_reconcile(struct worker *);

#endif
