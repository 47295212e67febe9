/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Save image reader.  The inner image (xl header, config, libxl stream) is
 * read straight from the file, or from decrypted and/or decompressed
 * chunks; either way it goes through the stream parser, which finds the
 * END record and so where the trailer starts.  The digest (XXH3-128 or
 * SHA-256, as the header says) covers the file bytes before the trailer:
 * what is on disk (ciphertext, compressed data).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "image_digest.h"
#include "image_file.h"
#include "image_fmt.h"
#include "mig/wire.h"
#include "mig/xlcompat.h"
#include "zchunk.h"

#define SCRATCH_LEN	65536

struct mig_image_reader {
	struct img_source	 src;		/* the file, or the parts */
	char			*path;
	unsigned		 flags;
	bool			 encrypted;
	bool			 compressed;
	bool			 chunked;	/* encrypted or compressed */
	bool			 failed;
	bool			 verified;
	bool			 trailer;
	bool			 by_path;	/* path names the file */
	bool			 hash_later;	/* no trailer flag: see below */
	struct mig_err		 ferr;		/* sticky failure */
	struct img_digest	 digest;
	uint64_t		 hashed;	/* file bytes before trailer */
	uint64_t		 stream_bytes;	/* libxl stream handed out */
	/* wrapped images */
	struct img_aead		 aead;
	ZSTD_DCtx		*dctx;
	uint8_t			*chunk;		/* as stored, then opened */
	uint8_t			*zbuf;		/* decompressed */
	const uint8_t		*data;		/* chunk or zbuf */
	uint32_t		 chunk_size;
	size_t			 chunk_len;
	size_t			 chunk_off;
	uint64_t		 nchunks;
	bool			 final_seen;
	/* plain images: bytes read past END, the trailer */
	uint8_t			 tail[IMG_TRAILER_SIZE];
	size_t			 tail_len;
	char			*config;
	size_t			 config_got;
	char			 note[128];
	struct mig_stream	 parser;
};

/* Records a one-line error, prefixed with the image path; sticky. */
static int __attribute__((format(printf, 4, 5)))
rfail(struct mig_image_reader *r, struct mig_err *err, int code,
    const char *fmt, ...)
{
	char	msg[MIG_ERRLEN];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->failed = true;
	mig_seterr(&r->ferr, code, "image %s: %s", r->path, msg);
	if (err != NULL)
		*err = r->ferr;
	return -1;
}

/* Reads up to len file bytes; fewer only at end of file. */
static ssize_t
file_read(struct mig_image_reader *r, void *buf, size_t len,
    struct mig_err *err)
{
	struct mig_err	e;
	ssize_t		n;

	if ((n = img_source_read(&r->src, buf, len, &e)) == -1)
		return rfail(r, err, e.code, "%s", e.msg);
	return n;
}

static int
digest_start(struct mig_image_reader *r, enum mig_image_digest alg,
    struct mig_err *err)
{
	struct mig_err	e;

	if (img_digest_init(&r->digest, alg, &e) == -1)
		return rfail(r, err, e.code, "%s", e.msg);
	return 0;
}

static int
hash(struct mig_image_reader *r, const void *p, size_t len,
    struct mig_err *err)
{
	struct mig_err	e;

	if (!r->hash_later &&
	    img_digest_update(&r->digest, p, len, &e) == -1)
		return rfail(r, err, e.code, "%s", e.msg);
	r->hashed += len;
	return 0;
}

/*
 * An image without the trailer flag is stock xl's, which has no trailer,
 * or one of ours from before the flag, whose SHA-256 trailer is found
 * only at the end.  Digesting every xl image for the rare second kind
 * cost more than the restore itself under a slow dom0: the file is
 * digested in a second pass, only when a trailer turns up.
 */
static int
hash_again(struct mig_image_reader *r, struct mig_err *err)
{
	struct mig_err	 e;
	uint8_t		*buf;
	uint64_t	 off = 0;
	ssize_t		 n;

	if (digest_start(r, MIG_IMAGE_DIGEST_SHA256, err) == -1)
		return -1;
	if ((buf = malloc(IMG_CHUNK_SIZE)) == NULL)
		return rfail(r, err, MIG_E_NOMEM, "out of memory");
	while (off < r->hashed) {
		n = pread(r->src.fd, buf, r->hashed - off < IMG_CHUNK_SIZE ?
		    (size_t)(r->hashed - off) : IMG_CHUNK_SIZE, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return rfail(r, err, MIG_E_IO, "reading it again: %s",
			    n == 0 ? "it shrank" : strerror(errno));
		}
		if (img_digest_update(&r->digest, buf, (size_t)n, &e) == -1) {
			free(buf);
			return rfail(r, err, e.code, "%s", e.msg);
		}
		off += (uint64_t)n;
	}
	free(buf);
	r->hash_later = false;
	return 0;
}

/* Exactly len hashed file bytes, or "truncated in <what>". */
static int
file_exact(struct mig_image_reader *r, void *buf, size_t len,
    const char *what, struct mig_err *err)
{
	ssize_t	n = file_read(r, buf, len, err);

	if (n == -1)
		return -1;
	if ((size_t)n < len)
		return rfail(r, err, MIG_E_TRUNC, "truncated in %s", what);
	return hash(r, buf, len, err);
}

/* A compressed chunk: one zstd frame of at most chunk_size bytes. */
static ssize_t
inflate_chunk(struct mig_image_reader *r, size_t len, struct mig_err *err)
{
	struct mig_err	e;
	char		what[64];
	ssize_t		n;

	snprintf(what, sizeof(what), "compressed chunk %llu",
	    (unsigned long long)r->nchunks);
	if ((n = zchunk_decompress(r->dctx, r->zbuf, r->chunk_size, r->chunk,
	    len, what, &e)) == -1)
		return rfail(r, err, MIG_E_CORRUPT, "corrupted: %s", e.msg);
	return n;
}

static int
fetch_chunk(struct mig_image_reader *r, struct mig_err *err)
{
	uint8_t		hdr[IMG_CHUNK_HDR];
	struct wire_rd	rd;
	uint32_t	len, flags, known;
	ssize_t		n;

	if (file_exact(r, hdr, sizeof(hdr), "the chunked data (no final "
	    "chunk)", err) == -1)
		return -1;
	wire_rd_init(&rd, hdr, sizeof(hdr));
	len = wire_get_be32(&rd);
	flags = wire_get_be32(&rd);
	known = IMG_CHUNK_FINAL | (r->compressed ? IMG_CHUNK_ZSTD : 0);
	if (len > r->chunk_size || (flags & ~known) != 0)
		return rfail(r, err, MIG_E_CORRUPT, "corrupted: chunk %llu "
		    "has a bad header", (unsigned long long)r->nchunks);
	if (file_exact(r, r->chunk, len + (r->encrypted ? IMG_TAG_LEN : 0),
	    "a chunk", err) == -1)
		return -1;
	if (r->encrypted && img_aead_open(&r->aead, hdr, r->chunk, len,
	    r->chunk + len) == -1) {
		if (r->nchunks == 0)
			return rfail(r, err, MIG_E_CORRUPT,
			    "wrong key or corrupted image");
		return rfail(r, err, MIG_E_CORRUPT, "corrupted: encrypted "
		    "chunk %llu fails authentication",
		    (unsigned long long)r->nchunks);
	}
	r->data = r->chunk;
	if (flags & IMG_CHUNK_ZSTD) {
		if ((n = inflate_chunk(r, len, err)) == -1)
			return -1;
		r->data = r->zbuf;
		len = (uint32_t)n;
	}
	r->nchunks++;
	r->chunk_len = len;
	r->chunk_off = 0;
	r->final_seen = (flags & IMG_CHUNK_FINAL) != 0;
	return 0;
}

/* Up to len bytes of the inner image; 0 at its end. */
static ssize_t
pull(struct mig_image_reader *r, void *buf, size_t len, struct mig_err *err)
{
	size_t	n;

	if (!r->chunked)
		return file_read(r, buf, len, err);
	while (r->chunk_off == r->chunk_len) {
		if (r->final_seen)
			return 0;
		if (fetch_chunk(r, err) == -1)
			return -1;
	}
	n = r->chunk_len - r->chunk_off;
	if (n > len)
		n = len;
	memcpy(buf, r->data + r->chunk_off, n);
	r->chunk_off += n;
	return (ssize_t)n;
}

/* Parses inner-image bytes; plain bytes past END are the trailer. */
static ssize_t
feed(struct mig_image_reader *r, const uint8_t *p, size_t n,
    struct mig_err *err)
{
	struct mig_err	perr;
	ssize_t		c;

	if ((c = mig_stream_feed(&r->parser, p, n, &perr)) == -1)
		return rfail(r, err, perr.code, "%s", perr.msg);
	if (!r->chunked && hash(r, p, (size_t)c, err) == -1)
		return -1;
	if ((size_t)c < n) {
		if (n - (size_t)c > sizeof(r->tail) - r->tail_len)
			return rfail(r, err, MIG_E_CORRUPT, "corrupted: "
			    "trailing data after the END record");
		memcpy(r->tail + r->tail_len, p + c, n - (size_t)c);
		r->tail_len += n - (size_t)c;
	}
	return c;
}

static int
truncated(struct mig_image_reader *r, struct mig_err *err)
{
	struct mig_err	perr;

	mig_stream_finish(&r->parser, &perr);
	return rfail(r, err, MIG_E_TRUNC, "%s", perr.msg);
}

/* Feeds the inner xl header and config, up to the "LibxlFmt" header. */
static int
read_inner_header(struct mig_image_reader *r, struct mig_err *err)
{
	uint8_t			buf[4096];
	const struct mig_stream_stats *st = &r->parser.stats;
	uint64_t		want;
	ssize_t			n;

	while (mig_stream_phase(&r->parser) == MIG_PHASE_XL_HEADER) {
		want = st->xl_header ? MIG_XLHDR_SIZE +
		    (uint64_t)st->xl_optional_data_len : MIG_XLHDR_SIZE;
		want -= st->bytes;
		if (want > sizeof(buf))
			want = sizeof(buf);
		if ((n = pull(r, buf, (size_t)want, err)) == -1)
			return -1;
		if (n == 0)
			return truncated(r, err);
		if (feed(r, buf, (size_t)n, err) == -1)
			return -1;
	}
	return 0;
}

static int
on_config(void *arg, const void *p, size_t len)
{
	struct mig_image_reader	*r = arg;

	if (r->config == NULL &&
	    (r->config = calloc(1, r->parser.stats.config_len + 1)) == NULL)
		return -1;
	memcpy(r->config + r->config_got, p, len);
	r->config_got += len;
	return 0;
}

/* Encrypted and/or compressed: the chunk parameters follow the header. */
static int
open_wrapped(struct mig_image_reader *r, const uint8_t *xlhdr,
    const struct mig_xlhdr *h, const struct mig_image_key *key,
    struct mig_err *err)
{
	uint8_t			clear[IMG_WRAP_HDR];
	uint8_t			*opt = clear + MIG_XLHDR_SIZE;
	struct img_crypt	c;
	struct mig_err		e;
	ssize_t			n;

	r->encrypted = (h->mandatory_flags & MIG_XL_FLAG_ENCRYPTED) != 0;
	r->compressed = (h->mandatory_flags & MIG_XL_FLAG_COMPRESSED) != 0;
	r->chunked = true;
	if (r->encrypted && key == NULL)
		return rfail(r, err, MIG_E_INVAL,
		    "encrypted image: a key is needed to read it");
	if (h->optional_data_len != sizeof(clear) - MIG_XLHDR_SIZE)
		return rfail(r, err, MIG_E_CORRUPT,
		    "corrupted: bad chunk parameters header");
	memcpy(clear, xlhdr, MIG_XLHDR_SIZE);
	if ((n = file_read(r, opt, sizeof(clear) - MIG_XLHDR_SIZE, err)) == -1)
		return -1;
	if ((size_t)n < sizeof(clear) - MIG_XLHDR_SIZE)
		return rfail(r, err, MIG_E_TRUNC,
		    "truncated in the chunk parameters");
	if (img_crypt_decode(opt + 4, &c, &e) == -1)
		return rfail(r, err, e.code, "%s", e.msg);
	/* They name the digest, which covers them and the header. */
	if (digest_start(r, c.digest == IMG_CRYPT_DIGEST_XXH3 ?
	    MIG_IMAGE_DIGEST_XXH3 : MIG_IMAGE_DIGEST_SHA256, err) == -1 ||
	    hash(r, clear, sizeof(clear), err) == -1)
		return -1;
	/* The parameters must say what the header's flags say. */
	if ((c.cipher != IMG_CIPHER_NONE) != r->encrypted ||
	    (c.compression != IMG_COMPRESS_NONE) != r->compressed)
		return rfail(r, err, MIG_E_CORRUPT, "corrupted: chunk "
		    "parameters do not match the header's flags");
	if (r->encrypted && img_aead_init(&r->aead, key, c.nonce, clear,
	    c.version >= 2 ? sizeof(clear) : 0, &e) == -1)
		return rfail(r, err, e.code, "%s", e.msg);
	r->chunk_size = c.chunk_size;
	if ((r->chunk = malloc(c.chunk_size + IMG_TAG_LEN)) == NULL)
		return rfail(r, err, MIG_E_NOMEM, "out of memory");
	if (r->compressed && ((r->dctx = ZSTD_createDCtx()) == NULL ||
	    (r->zbuf = malloc(c.chunk_size)) == NULL))
		return rfail(r, err, MIG_E_NOMEM, "out of memory");
	return 0;
}

static int
reader_start(struct mig_image_reader *r, const struct mig_image_key *key,
    struct mig_err *err)
{
	uint8_t			hdr[MIG_XLHDR_SIZE];
	struct mig_xlhdr	h;
	struct mig_err		e;
	struct mig_stream_cbs	cbs = { .on_config = on_config, .arg = r };
	ssize_t			n;

	if ((n = file_read(r, hdr, sizeof(hdr), err)) == -1)
		return -1;
	if (n == 0)
		return rfail(r, err, MIG_E_TRUNC, "empty file");
	if (memcmp(hdr, MIG_XLHDR_MAGIC, (size_t)n < MIG_XLHDR_MAGIC_LEN ?
	    (size_t)n : MIG_XLHDR_MAGIC_LEN) != 0)
		return rfail(r, err, MIG_E_CORRUPT,
		    "foreign file: not an xl save image");
	if ((size_t)n < sizeof(hdr))
		return rfail(r, err, MIG_E_TRUNC, "truncated in the xl header");
	if (mig_xlhdr_decode(hdr, &h, &e) == -1)
		return rfail(r, err, e.code, "%s", e.msg);
	/* A key says the image is encrypted: a plaintext image in the place
	 * of an encrypted one would otherwise be read, unauthenticated. */
	if (key != NULL && !(h.mandatory_flags & MIG_XL_FLAG_ENCRYPTED))
		return rfail(r, err, MIG_E_DENIED, "not encrypted, but a key "
		    "was given: refusing an unauthenticated image");
	if (h.mandatory_flags & (MIG_XL_FLAG_ENCRYPTED |
	    MIG_XL_FLAG_COMPRESSED)) {
		if (open_wrapped(r, hdr, &h, key, err) == -1)
			return -1;
		mig_stream_init(&r->parser, 0);
		mig_stream_set_cbs(&r->parser, &cbs);
	} else {
		/* A split image is ours: it has the flag. */
		r->hash_later = !(h.optional_flags & MIG_XL_OPT_TRAILER) &&
		    !r->src.split;
		if (!r->hash_later && digest_start(r,
		    (h.optional_flags & MIG_XL_OPT_XXH3) ?
		    MIG_IMAGE_DIGEST_XXH3 : MIG_IMAGE_DIGEST_SHA256, err) == -1)
			return -1;
		mig_stream_init(&r->parser, MIG_STREAM_TRAILER);
		mig_stream_set_cbs(&r->parser, &cbs);
		if (feed(r, hdr, sizeof(hdr), err) == -1)
			return -1;
	}
	if (read_inner_header(r, err) == -1)
		return -1;
	if (r->config == NULL && (r->config = strdup("")) == NULL)
		return rfail(r, err, MIG_E_NOMEM, "out of memory");
	return 0;
}

static struct mig_image_reader *
reader_new(const char *name, unsigned flags, struct mig_err *err)
{
	struct mig_image_reader	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->path = strdup(name)) == NULL) {
		free(r);
		mig_seterr(err, MIG_E_NOMEM, "out of memory");
		return NULL;
	}
	img_source_fdopen(&r->src, -1);
	r->flags = flags;
	return r;
}

static struct mig_image_reader *
reader_begin(struct mig_image_reader *r, const struct mig_image_key *key,
    struct mig_err *err)
{
	if (reader_start(r, key, err) == -1) {
		mig_image_reader_close(r);
		return NULL;
	}
	return r;
}

struct mig_image_reader *
mig_image_reader_fdopen(int fd, const char *name,
    const struct mig_image_key *key, unsigned flags, struct mig_err *err)
{
	struct mig_image_reader	*r;

	if ((r = reader_new(name, flags, err)) == NULL) {
		close(fd);
		return NULL;
	}
	img_source_fdopen(&r->src, fd);
	return reader_begin(r, key, err);
}

struct mig_image_reader *
mig_image_reader_open(const char *path, const struct mig_image_key *key,
    unsigned flags, struct mig_err *err)
{
	struct mig_image_reader	*r;
	struct mig_err		 e;

	if ((r = reader_new(path, flags, err)) == NULL)
		return NULL;
	r->by_path = true;
	if (img_source_open(&r->src, path, &e) == -1) {
		rfail(r, err, e.code, "%s", e.msg);
		mig_image_reader_close(r);
		return NULL;
	}
	return reader_begin(r, key, err);
}

const char *
mig_image_reader_config(const struct mig_image_reader *r, size_t *len)
{
	size_t	n = r->config_got;

	/* xl counts the terminating NUL in the config length. */
	while (n > 0 && r->config[n - 1] == '\0')
		n--;
	if (len != NULL)
		*len = n;
	return r->config;
}

int
mig_image_reader_stream_fd(struct mig_image_reader *r, struct mig_err *err)
{
	struct stat	a, b;
	int		fd;

	if (r->failed || r->chunked || r->src.split || !r->by_path ||
	    r->stream_bytes != 0)
		return -1;
	if ((fd = open(r->path, O_RDONLY | O_CLOEXEC)) == -1) {
		mig_seterrno(err, MIG_E_IO, "image %s: cannot open it again",
		    r->path);
		return -1;
	}
	/* The same file, not what the name holds now. */
	if (fstat(fd, &a) == -1 || fstat(r->src.fd, &b) == -1 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino ||
	    lseek(fd, (off_t)r->hashed, SEEK_SET) == -1) {
		close(fd);
		mig_seterr(err, MIG_E_IO, "image %s: the name no longer holds "
		    "the file being read", r->path);
		return -1;
	}
	return fd;
}

ssize_t
mig_image_reader_read(struct mig_image_reader *r, void *buf, size_t len,
    struct mig_err *err)
{
	ssize_t	n;

	if (r->failed) {
		if (err != NULL)
			*err = r->ferr;
		return -1;
	}
	if (mig_stream_phase(&r->parser) == MIG_PHASE_END || len == 0)
		return 0;
	if ((n = pull(r, buf, len, err)) == -1)
		return -1;
	if (n == 0)
		return truncated(r, err);
	if ((n = feed(r, buf, (size_t)n, err)) == -1)
		return -1;
	r->stream_bytes += (uint64_t)n;
	return n;
}

/* Fewer unseen bytes than this are read as the rest are. */
#define SKIP_MIN	(16 * MIG_PAGE_SIZE)

/*
 * Stream bytes nothing checks, stepped over instead of read: the page
 * contents of a plain image that no digest covers in this pass (stock
 * xl's has none; one of ours from before the trailer flag is digested
 * from the file by hash_again).  The parser still sees every record
 * header and pfn list around them, and never past the end of the file:
 * there, the next read finds the truncation.
 */
static uint64_t
skip_unchecked(struct mig_image_reader *r, struct mig_err *err)
{
	struct mig_err	perr;
	uint64_t	n;

	if (r->chunked || !r->hash_later ||
	    (n = mig_stream_unseen(&r->parser)) < SKIP_MIN ||
	    (n = img_source_skip(&r->src, n)) == 0)
		return 0;
	if (mig_stream_skip(&r->parser, n, &perr) == -1) {
		rfail(r, err, perr.code, "%s", perr.msg);
		return UINT64_MAX;
	}
	r->hashed += n;
	r->stream_bytes += n;
	return n;
}

ssize_t
mig_image_reader_check(struct mig_image_reader *r, void *buf, size_t len,
    struct mig_err *err)
{
	uint64_t	n;

	if (r->failed || mig_stream_phase(&r->parser) == MIG_PHASE_END)
		return mig_image_reader_read(r, buf, len, err);
	if ((n = skip_unchecked(r, err)) == UINT64_MAX)
		return -1;
	if (n > 0)
		return n > SSIZE_MAX ? SSIZE_MAX : (ssize_t)n;
	return mig_image_reader_read(r, buf, len, err);
}

/* Chunked: nothing may follow END inside the final chunk. */
static int
check_plain_end(struct mig_image_reader *r, struct mig_err *err)
{
	while (!r->final_seen || r->chunk_off < r->chunk_len) {
		if (r->chunk_off < r->chunk_len)
			return rfail(r, err, MIG_E_CORRUPT, "corrupted: "
			    "trailing data after the END record");
		if (fetch_chunk(r, err) == -1)
			return -1;
	}
	return 0;
}

static int
check_trailer(struct mig_image_reader *r, struct mig_err *err)
{
	struct img_trailer	t;
	struct mig_err		e;
	uint8_t			sha[IMG_SHA_LEN];

	if (r->tail_len < IMG_TRAILER_SIZE)
		return rfail(r, err, MIG_E_TRUNC,
		    "truncated in the integrity trailer");
	if (img_trailer_decode(r->tail, &t, &e) == -1)
		return rfail(r, err, e.code, "%s", e.msg);
	if (r->hash_later && hash_again(r, err) == -1)
		return -1;
	if (t.version != img_trailer_version(r->digest.alg))
		return rfail(r, err, MIG_E_CORRUPT, "corrupted: the trailer "
		    "holds another digest than the header names");
	if (img_digest_final(&r->digest, sha, &e) == -1)
		return rfail(r, err, e.code, "%s", e.msg);
	if (t.length != r->hashed)
		return rfail(r, err, MIG_E_CORRUPT, "corrupted: the trailer "
		    "counts %llu bytes, the image has %llu",
		    (unsigned long long)t.length,
		    (unsigned long long)r->hashed);
	if (((t.flags & IMG_TRAILER_ENCRYPTED) != 0) != r->encrypted ||
	    ((t.flags & IMG_TRAILER_COMPRESSED) != 0) != r->compressed)
		return rfail(r, err, MIG_E_CORRUPT,
		    "corrupted: trailer flags do not match the header");
	if (CRYPTO_memcmp(sha, t.sha, sizeof(sha)) != 0)
		return rfail(r, err, MIG_E_CORRUPT, "corrupted: %s mismatch",
		    img_digest_name(r->digest.alg));
	return 0;
}

/*
 * The config's guest type against the memory image's: libxc saves a PV
 * guest as x86 PV and an HVM or PVH guest as x86 HVM (its PVH type is
 * an unused leftover).  A config that names another type than the image
 * holds cannot restore; say so before a restore builds anything.
 */
static int
check_guest_type(struct mig_image_reader *r, struct mig_err *err)
{
	uint32_t	have = r->parser.stats.guest_type, want;
	char		type[8];

	if (!mig_xl_config_cinfo(r->config, "type", type, sizeof(type)) ||
	    have == 0)
		return 0;
	if (strcmp(type, "pv") == 0)
		want = MIG_LIBXC_DOM_X86_PV;
	else if (strcmp(type, "pvh") == 0 || strcmp(type, "hvm") == 0)
		want = MIG_LIBXC_DOM_X86_HVM;
	else
		return 0;
	if (have != want)
		return rfail(r, err, MIG_E_CORRUPT, "corrupted: the config "
		    "is of a %s guest, the memory image of an x86 %s one",
		    type, mig_stream_guest_type_name(have));
	return 0;
}

int
mig_image_reader_verify_end(struct mig_image_reader *r, struct mig_err *err)
{
	uint8_t	*scratch;
	ssize_t	 n;

	if (r->verified)
		return 0;
	if ((scratch = malloc(SCRATCH_LEN)) == NULL)
		return rfail(r, err, MIG_E_NOMEM, "out of memory");
	while ((n = mig_image_reader_check(r, scratch, SCRATCH_LEN, err)) > 0)
		;
	free(scratch);
	if (n == -1 || check_guest_type(r, err) == -1 ||
	    (r->chunked && check_plain_end(r, err) == -1))
		return -1;
	/* The rest of the file is the trailer, or nothing. */
	if ((n = file_read(r, r->tail + r->tail_len,
	    sizeof(r->tail) - r->tail_len, err)) == -1)
		return -1;
	r->tail_len += (size_t)n;
	if (r->tail_len == IMG_TRAILER_SIZE &&
	    (n = file_read(r, &(uint8_t){ 0 }, 1, err)) != 0)
		return n == -1 ? -1 : rfail(r, err, MIG_E_CORRUPT,
		    "corrupted: trailing data after the integrity trailer");
	if (r->tail_len == 0 && !r->chunked) {
		if (r->parser.stats.xl_optional_flags & MIG_XL_OPT_TRAILER)
			return rfail(r, err, MIG_E_TRUNC, "truncated: the "
			    "integrity trailer is missing (the header says "
			    "xen-relocd wrote one)");
		snprintf(r->note, sizeof(r->note),
		    "no integrity trailer (written by xl save)");
		if (r->flags & MIG_IMAGE_REQUIRE_TRAILER)
			return rfail(r, err, MIG_E_NOTSUP, "%s", r->note);
		r->verified = true;
		return 0;
	}
	if (check_trailer(r, err) == -1)
		return -1;
	r->verified = true;
	r->trailer = true;
	return 0;
}

const struct mig_stream_stats *
mig_image_reader_stats(const struct mig_image_reader *r)
{
	return &r->parser.stats;
}

void
mig_image_reader_summary(const struct mig_image_reader *r,
    struct mig_image_summary *sum)
{
	const struct mig_stream_stats	*st = &r->parser.stats;

	memset(sum, 0, sizeof(*sum));
	(void)mig_xl_config_cinfo(r->config, "name", sum->name,
	    sizeof(sum->name));
	(void)mig_xl_config_cinfo(r->config, "type", sum->type,
	    sizeof(sum->type));
	sum->file_bytes = r->hashed + (r->trailer ? IMG_TRAILER_SIZE : 0);
	sum->stream_bytes = r->stream_bytes;
	sum->pages = st->pages;
	sum->config_len = st->config_len;
	sum->guest_type = st->guest_type;
	sum->encrypted = r->encrypted;
	sum->compressed = r->compressed;
	sum->trailer = r->trailer;
	sum->digest = r->trailer ? r->digest.alg : MIG_IMAGE_DIGEST_DEFAULT;
	sum->parts = img_source_parts(&r->src);
	snprintf(sum->note, sizeof(sum->note), "%s", r->note);
}

void
mig_image_reader_close(struct mig_image_reader *r)
{
	if (r == NULL)
		return;
	img_source_close(&r->src);
	img_aead_free(&r->aead);
	if (r->chunk != NULL) {
		OPENSSL_cleanse(r->chunk, r->chunk_size + IMG_TAG_LEN);
		free(r->chunk);
	}
	if (r->zbuf != NULL) {
		OPENSSL_cleanse(r->zbuf, r->chunk_size);
		free(r->zbuf);
	}
	ZSTD_freeDCtx(r->dctx);
	img_digest_free(&r->digest);
	free(r->config);
	free(r->path);
	free(r);
}

int
mig_image_verify(const char *path, const struct mig_image_key *key,
    unsigned flags, struct mig_image_summary *sum,
    struct mig_err *err)
{
	struct mig_image_reader	*r;
	int			 rc;

	if (sum != NULL)
		memset(sum, 0, sizeof(*sum));
	if ((r = mig_image_reader_open(path, key, flags, err)) == NULL)
		return -1;
	rc = mig_image_reader_verify_end(r, err);
	if (sum != NULL)
		mig_image_reader_summary(r, sum);
	mig_image_reader_close(r);
	return rc;
}
