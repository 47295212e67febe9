/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Save images: the xl save format (so stock "xl restore" reads what we
 * write and we read what "xl save" writes) plus an integrity trailer after
 * the libxl END record, which xl never reads, and optional zstd
 * compression and AES-256-GCM encryption.  The layout is in
 * doc/image-format.md.
 *
 * Writing is atomic: a temporary file in the target directory becomes the
 * image only on commit (fsync, rename, fsync of the directory); any
 * failure leaves an existing image untouched and no temporary behind.
 * An image larger than its file system's largest file can be split into
 * numbered parts, which the reader takes as one (opening NAME finds
 * NAME.000): each part says where it belongs, so a missing, extra or
 * reordered part is refused before it is used.
 * Reading is streaming: the caller restores while reading and unpauses
 * only if mig_image_reader_verify_end() succeeds.
 */
#ifndef MIG_IMAGE_H
#define MIG_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mig/error.h"
#include "mig/stream.h"

#define MIG_IMAGE_KEY_LEN	32

struct mig_image_key {
	uint8_t	k[MIG_IMAGE_KEY_LEN];
};

/* A key file holds 32 raw bytes or 64 hex digits (and optional newline). */
int	mig_image_key_load(const char *, struct mig_image_key *,
	    struct mig_err *);

/*
 * The trailer's digest.  DEFAULT is SHA-256 for an encrypted image (the
 * format it always had there) and XXH3-128 otherwise: an unkeyed digest
 * guards against accidents only, and XXH3 does that at memory speed.
 */
enum mig_image_digest {
	MIG_IMAGE_DIGEST_DEFAULT = 0,
	MIG_IMAGE_DIGEST_SHA256,
	MIG_IMAGE_DIGEST_XXH3,
};

struct mig_image_opts {
	const struct mig_image_key *key;	/* NULL: not encrypted */
	enum mig_image_digest digest;
	bool	compress;		/* zstd-compressed chunks */
	int	zstd_level;		/* 0: the relay's default level */
	/*
	 * Split into parts NAME.000, NAME.001, ... of this many bytes of
	 * image each (and a 48-byte part header); 0: one file.
	 */
	uint64_t split;
	/*
	 * Injectable (ENOSPC, EIO, ESTALE; close(2) reports NFS write-back
	 * errors); NULL means write(2)/fsync(2)/close(2).
	 */
	ssize_t	(*write_fn)(int, const void *, size_t);
	int	(*fsync_fn)(int);
	int	(*close_fn)(int);
	/*
	 * The temporary file to write, from mig_image_temp_name(), created
	 * here (O_EXCL); NULL: a fresh one.  A caller that must find it
	 * again after a crash (relocd journals it) names it first.
	 */
	const char *tmp_path;
};

/*
 * The name of the file system of statfs(2) type f_type, for messages:
 * "nfs", "vfat (FAT)", "ext2/3/4"...; "a file system" if not known.
 */
const char *mig_fs_name(long);

/*
 * The temporary file an image at path is written to before commit,
 * DIR/.BASE.XXXXXX with six random characters; -1 (err set) if path
 * names no file or the name does not fit.
 */
int	mig_image_temp_name(const char *, char *, size_t, struct mig_err *);
/*
 * The inverse: the image path a temporary file of that form is for;
 * -1 if the name is not of that form (or does not fit).
 */
int	mig_image_temp_target(const char *, char *, size_t);

struct mig_image_writer;

/*
 * Opens a writer for path with the domain's config JSON (xl's
 * libxl_domain_config_to_json output; a terminating NUL is added if
 * missing, as xl restore needs one).  opts may be NULL.
 */
struct mig_image_writer *mig_image_writer_open(const char *, const char *,
	    size_t, const struct mig_image_opts *, struct mig_err *);
/* Appends libxl stream bytes ("LibxlFmt" ... END), checked as they pass. */
int	mig_image_writer_write(struct mig_image_writer *, const void *, size_t,
	    struct mig_err *);
/*
 * The fd libxl may write the libxl stream into itself, as into xl save's
 * file, or -1 when this image needs every byte passed to
 * mig_image_writer_write() (chunked, split, an injected write function).
 * Once given out, the stream comes only from there: a thread of the
 * writer's reads it back as libxl writes it, to check and digest it, and
 * mig_image_writer_stream_done() must follow libxl's success before a
 * commit: it finishes that pass at the file's end and counts the stream.
 * The fd stays the writer's; the thread ends with the writer (commit,
 * abort) or the probe.
 */
int	mig_image_writer_stream_fd(struct mig_image_writer *);
int	mig_image_writer_stream_done(struct mig_image_writer *, uint64_t *,
	    struct mig_err *);
/*
 * After libxl failed to write into that fd: whether the file can take
 * more (as much as libxl writes at once).  -1 with the file's own error
 * ("image PATH: write failed on ext4: No space left on device") when it cannot,
 * which is then the failure's cause; the image is to be aborted anyway.
 */
int	mig_image_writer_probe(struct mig_image_writer *, struct mig_err *);
/*
 * Finishes and publishes the image; 0: done, the writer freed.  -1: the
 * image is not published and the writer is left for
 * mig_image_writer_abort, which removes what was written: a caller with a
 * paused guest resumes it first, as removing a file on a file system that
 * stopped answering (NFS) waits as long as writing it did.
 */
int	mig_image_writer_commit(struct mig_image_writer *, struct mig_err *);
/* Drops the temporary file and frees the writer; NULL is a no-op. */
void	mig_image_writer_abort(struct mig_image_writer *);

#define MIG_IMAGE_REQUIRE_TRAILER	0x1	/* reject stock xl images */
#define MIG_IMAGE_SPLIT_MIN		4096	/* smallest part */
#define MIG_IMAGE_PART_HDR		48	/* a part's file: header + part */
#define MIG_IMAGE_SPLIT_PARTS		1000	/* NAME.000 to NAME.999 */

struct mig_image_reader;

/* path is the image's file, or the NAME (or NAME.000) of a split one. */
struct mig_image_reader *mig_image_reader_open(const char *,
	    const struct mig_image_key *, unsigned, struct mig_err *);
/* As open, on an fd the reader then owns (closes). */
struct mig_image_reader *mig_image_reader_fdopen(int, const char *,
	    const struct mig_image_key *, unsigned, struct mig_err *);
/* The config JSON (NUL-terminated) and its length without the NUL. */
const char *mig_image_reader_config(const struct mig_image_reader *, size_t *);
/*
 * Right after open, for a plain image in one file opened by path: a new
 * fd on the same file (the caller's), at the start of the libxl stream,
 * for libxl to read as xl restore does; the reader itself goes on
 * reading and checking the whole image (mig_image_reader_verify_end),
 * which is what decides whether the result may run.  -1 when the
 * image must be fed through the reader instead: err untouched if it is
 * chunked, split or was opened from an fd, set (the reader still usable)
 * if the file could not be opened again.
 */
int	mig_image_reader_stream_fd(struct mig_image_reader *,
	    struct mig_err *);
/*
 * Reads libxl stream bytes (decrypted), "LibxlFmt" through END; returns
 * the count, 0 once END has been read, -1 on error (truncated, corrupt).
 */
ssize_t	mig_image_reader_read(struct mig_image_reader *, void *, size_t,
	    struct mig_err *);
/*
 * As mig_image_reader_read() for a caller that only checks the image
 * and uses none of the bytes: what no check needs (the page contents of
 * an image without a digest) may be stepped over unread.  Returns how
 * much of the stream it passed.
 */
ssize_t	mig_image_reader_check(struct mig_image_reader *, void *, size_t,
	    struct mig_err *);
/*
 * Reads whatever stream is left, then checks the trailer: 0 if the image
 * is whole.  An image without trailer (stock xl) passes unless
 * MIG_IMAGE_REQUIRE_TRAILER was given; the summary says so.
 */
int	mig_image_reader_verify_end(struct mig_image_reader *,
	    struct mig_err *);
const struct mig_stream_stats *mig_image_reader_stats(
	    const struct mig_image_reader *);
void	mig_image_reader_close(struct mig_image_reader *);

struct mig_image_summary {
	char		name[128];	/* c_info.name from the config, or "" */
	uint64_t	file_bytes;
	uint64_t	stream_bytes;	/* the libxl stream */
	uint64_t	pages;		/* pages of memory in the stream */
	uint32_t	config_len;
	uint32_t	guest_type;	/* MIG_LIBXC_DOM_* */
	char		type[8];	/* c_info.type: "pv", "pvh", "hvm"; or "" */
	bool		encrypted;
	bool		compressed;
	bool		trailer;	/* trailer present and matching */
	enum mig_image_digest digest;	/* of the trailer; DEFAULT: none */
	unsigned	parts;		/* of a split image; 0: one file */
	char		note[128];	/* e.g. why there is no trailer */
};

void	mig_image_reader_summary(const struct mig_image_reader *,
	    struct mig_image_summary *);
/* Reads and checks a whole image; fills the summary (may be NULL). */
int	mig_image_verify(const char *, const struct mig_image_key *,
	    unsigned, struct mig_image_summary *, struct mig_err *);
/* Does now what a process's first digest would do first (times both
 * XXH3 codes, libmig/image_digest.c): for a process started ahead of its
 * work, such as relocd's spare worker. */
void	mig_image_prepare(void);

#endif
