/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A domain's local disk as storage migration sees it: a block device (an
 * LVM volume) or a regular file (a raw image), its size, and a digest of
 * what is on it, read back after a copy to check the copy end to end.
 */
#ifndef MIG_DISK_H
#define MIG_DISK_H

#include <stdint.h>

#include "mig/proto.h"

struct mig_err;

/* What path is (MIG_DISK_BLOCK or MIG_DISK_FILE) and its size in
 * bytes; anything else, or a size that is not whole 512-byte sectors,
 * is MIG_E_INVAL naming the path. */
int	mig_disk_probe(const char *path, uint8_t *kind, uint64_t *size,
	    struct mig_err *);
/*
 * Writes what fd holds to stable storage and drops the kernel's cached
 * copy of it, so that a read that follows sees the medium, not the
 * pages just written, nor pages an earlier read left behind writes that
 * bypassed the cache (a guest's block backend).
 */
int	mig_disk_flush(int fd, const char *name, struct mig_err *);
/*
 * Exactly len bytes of fd at off into buf (interrupted and short reads
 * resumed); a disk that ends first is an error naming where, as one
 * that shrank under a copy must be.
 */
int	mig_disk_pread(int fd, void *buf, size_t len, uint64_t off,
	    const char *name, struct mig_err *);
/*
 * The digest of the first size bytes of fd, in STREAM_END's form:
 * SHA-256, or with xxh3 XXH3-128 and 16 zero bytes.  cancelled, when
 * not NULL, is polled between chunks (MIG_E_CANCELLED).
 */
int	mig_disk_digest(int fd, uint64_t size, int xxh3, const char *name,
	    volatile int *cancelled, uint8_t out[MIG_DIGEST_LEN],
	    struct mig_err *);
/* The same of the n ranges of fd one after another (a delta pass). */
int	mig_disk_digest_ranges(int fd, const struct mig_disk_range *,
	    size_t n, int xxh3, const char *name, volatile int *cancelled,
	    uint8_t out[MIG_DIGEST_LEN], struct mig_err *);
/* A block's fingerprint for a write tracker that compares contents
 * (XXH3-64): equal blocks hash equal, a change almost surely not. */
uint64_t mig_disk_block_hash(const void *, size_t);

#endif
