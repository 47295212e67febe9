/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Save image writer: xl header and config, the caller's libxl stream
 * (checked by the stream parser as it passes, so a commit can only publish
 * a complete stream), optionally cut into chunks that are zstd-compressed
 * and/or sealed with AES-256-GCM, then the integrity trailer.  Written to
 * a temporary file that replaces the target only when everything,
 * including fsync, has succeeded.
 *
 * A plain image in one file can also take its stream straight from libxl
 * (mig_image_writer_stream_fd): libxl writes into the file as xl save
 * does, and the writer reads the stream back from the page cache to
 * parse and digest it before it may commit -- while libxl writes, a
 * thread following the file (image_follow.c), so that where a core is
 * free the save ends when libxl's writing does.  That is one read where
 * the copying path had a socketpair, a thread and two copies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "image_digest.h"
#include "image_file.h"
#include "image_fmt.h"
#include "image_follow.h"
#include "mig/wire.h"
#include "zchunk.h"

struct mig_image_writer {
	char			*path;
	struct img_sink		 sink;		/* the file, or the parts */
	bool			 failed;
	bool			 encrypted;
	bool			 compressed;
	struct img_aead		 aead;
	ZSTD_CCtx		*cctx;
	uint8_t			*chunk;		/* plaintext, then sealed */
	uint8_t			*zbuf;		/* compressed chunk */
	size_t			 chunk_len;
	uint32_t		 chunk_size;	/* 0: not chunked */
	struct img_digest	 digest;
	enum mig_image_digest	 alg;
	uint64_t		 written;	/* file bytes so far */
	bool			 direct;	/* libxl writes the stream */
	struct img_follow	*follow;	/* ... and this reads it back */
	struct mig_stream	 parser;
};

static int
fail(struct mig_image_writer *w, struct mig_err *err, int code,
    const char *what)
{
	w->failed = true;
	return mig_seterr(err, code, "image %s: %s", w->path, what);
}

/* Writes file bytes; hashed unless they are the trailer. */
static int
out(struct mig_image_writer *w, const void *buf, size_t len, bool hash,
    struct mig_err *err)
{
	if (hash && img_digest_update(&w->digest, buf, len, err) == -1) {
		w->failed = true;
		return -1;
	}
	if (img_sink_write(&w->sink, buf, len, err) == -1) {
		w->failed = true;
		return -1;
	}
	w->written += len;
	return 0;
}

/* Compressed (if that shrinks it), then sealed (if encrypted). */
static int
seal_chunk(struct mig_image_writer *w, uint32_t flags, struct mig_err *err)
{
	uint8_t	 hdr[IMG_CHUNK_HDR], tag[IMG_TAG_LEN];
	uint8_t	*body = w->chunk;
	size_t	 len = w->chunk_len, zn;

	if (w->compressed && (zn = zchunk_compress(w->cctx, w->zbuf,
	    w->chunk_size, w->chunk, w->chunk_len)) > 0) {
		body = w->zbuf;
		len = zn;
		flags |= IMG_CHUNK_ZSTD;
	}
	img_chunk_hdr_encode(hdr, (uint32_t)len, flags);
	if (w->encrypted && img_aead_seal(&w->aead, hdr, body, len, tag,
	    err) == -1) {
		w->failed = true;
		return -1;
	}
	if (out(w, hdr, sizeof(hdr), true, err) == -1 ||
	    out(w, body, len, true, err) == -1 ||
	    (w->encrypted && out(w, tag, sizeof(tag), true, err) == -1))
		return -1;
	w->chunk_len = 0;
	return 0;
}

/* Bytes of the inner image: to the file, or through the chunk cipher. */
static int
payload(struct mig_image_writer *w, const void *buf, size_t len,
    struct mig_err *err)
{
	const uint8_t	*p = buf;
	size_t		 n;

	if (w->chunk_size == 0)
		return out(w, buf, len, true, err);
	while (len > 0) {
		/* Sealed only when more follows: the last chunk is final. */
		if (w->chunk_len == w->chunk_size &&
		    seal_chunk(w, 0, err) == -1)
			return -1;
		n = w->chunk_size - w->chunk_len;
		if (n > len)
			n = len;
		memcpy(w->chunk + w->chunk_len, p, n);
		w->chunk_len += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int
write_config(struct mig_image_writer *w, const char *json, size_t len,
    struct mig_err *err)
{
	uint8_t			hdr[MIG_XLHDR_SIZE + 4];
	struct mig_xlhdr	h;
	struct wire_wr		ww;
	size_t			clen;
	bool			addnul;

	/* xl restore parses the config as a C string: it needs the NUL. */
	addnul = len > 0 && json[len - 1] != '\0';
	clen = len + addnul;
	if (clen > MIG_XL_OPTDATA_MAX - 4)
		return fail(w, err, MIG_E_TOOBIG, "config JSON too large");
	memset(&h, 0, sizeof(h));
	h.mandatory_flags = MIG_XL_FLAG_STREAMV2 |
	    (clen > 0 ? MIG_XL_FLAG_JSON : 0);
	h.optional_flags = MIG_XL_OPT_TRAILER |
	    (w->alg == MIG_IMAGE_DIGEST_XXH3 ? MIG_XL_OPT_XXH3 : 0);
	h.optional_data_len = 4 + (uint32_t)clen;
	mig_xlhdr_encode(hdr, &h);
	wire_wr_init(&ww, hdr + MIG_XLHDR_SIZE, 4);
	wire_put_le32(&ww, clen);
	if (payload(w, hdr, sizeof(hdr), err) == -1 ||
	    payload(w, json, len, err) == -1)
		return -1;
	return addnul ? payload(w, "", 1, err) : 0;
}

/*
 * Outer header of a wrapped (encrypted and/or compressed) image: the
 * inner image, config included, goes in chunks.
 */
static int
write_wrap_header(struct mig_image_writer *w, const struct mig_image_key *key,
    int level, struct mig_err *err)
{
	uint8_t			hdr[MIG_XLHDR_SIZE + 4 + IMG_CRYPT_SIZE];
	struct mig_xlhdr	h;
	struct img_crypt	c;

	memset(&c, 0, sizeof(c));
	c.chunk_size = IMG_CHUNK_SIZE;
	c.digest = w->alg == MIG_IMAGE_DIGEST_XXH3 ? IMG_CRYPT_DIGEST_XXH3 :
	    IMG_CRYPT_DIGEST_SHA256;
	if ((w->chunk = malloc(IMG_CHUNK_SIZE)) == NULL)
		return fail(w, err, MIG_E_NOMEM, "out of memory");
	if (w->encrypted) {
		c.cipher = IMG_CIPHER_AES256GCM;
		if (RAND_bytes(c.nonce, sizeof(c.nonce)) != 1)
			return fail(w, err, MIG_E_IO, "no random nonce");
	}
	if (w->compressed) {
		c.compression = IMG_COMPRESS_ZSTD;
		if ((w->cctx = zchunk_cctx(w->path, level, err)) == NULL) {
			w->failed = true;
			return -1;
		}
		if ((w->zbuf = malloc(IMG_CHUNK_SIZE)) == NULL)
			return fail(w, err, MIG_E_NOMEM, "out of memory");
	}
	w->chunk_size = c.chunk_size;
	memset(&h, 0, sizeof(h));
	h.mandatory_flags = MIG_XL_FLAG_STREAMV2 |
	    (w->encrypted ? MIG_XL_FLAG_ENCRYPTED : 0) |
	    (w->compressed ? MIG_XL_FLAG_COMPRESSED : 0);
	h.optional_data_len = 4 + IMG_CRYPT_SIZE;
	mig_xlhdr_encode(hdr, &h);
	memset(hdr + MIG_XLHDR_SIZE, 0, 4);	/* config length 0 */
	img_crypt_encode(hdr + MIG_XLHDR_SIZE + 4, &c);
	/* The header in the clear is authenticated with chunk 0. */
	if (w->encrypted && img_aead_init(&w->aead, key, c.nonce, hdr,
	    sizeof(hdr), err) == -1)
		return fail(w, err, MIG_E_NOMEM, "out of memory");
	return out(w, hdr, sizeof(hdr), true, err);
}

struct mig_image_writer *
mig_image_writer_open(const char *path, const char *json, size_t len,
    const struct mig_image_opts *opts, struct mig_err *err)
{
	struct mig_image_writer	*w;
	const struct mig_image_key *key = opts ? opts->key : NULL;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		mig_seterr(err, MIG_E_NOMEM, "out of memory");
		return NULL;
	}
	w->sink.fd = -1;
	w->encrypted = key != NULL;
	w->compressed = opts != NULL && opts->compress;
	w->alg = opts != NULL ? opts->digest : MIG_IMAGE_DIGEST_DEFAULT;
	if (w->alg == MIG_IMAGE_DIGEST_DEFAULT)
		w->alg = key != NULL ? MIG_IMAGE_DIGEST_SHA256 :
		    MIG_IMAGE_DIGEST_XXH3;
	mig_stream_init(&w->parser, MIG_STREAM_NO_XL_HEADER);
	if ((w->path = strdup(path)) == NULL) {
		mig_seterr(err, MIG_E_NOMEM, "out of memory");
		goto fail;
	}
	if (img_sink_open(&w->sink, path, opts ? opts->tmp_path : NULL,
	    opts ? opts->split : 0, opts, err) == -1)
		goto fail;
	if (img_digest_init(&w->digest, w->alg, err) == -1)
		goto fail;
	if ((w->encrypted || w->compressed) &&
	    write_wrap_header(w, key, opts->zstd_level, err) == -1)
		goto fail;
	if (write_config(w, json, json ? len : 0, err) == -1)
		goto fail;
	return w;
 fail:
	mig_image_writer_abort(w);
	return NULL;
}

int
mig_image_writer_write(struct mig_image_writer *w, const void *buf,
    size_t len, struct mig_err *err)
{
	struct mig_err	perr;

	if (w->failed || w->direct)
		return mig_seterr(err, MIG_E_INVAL, "image %s: %s", w->path,
		    w->failed ? "writer failed earlier" :
		    "libxl writes the stream");
	if (mig_stream_feed(&w->parser, buf, len, &perr) == -1) {
		w->failed = true;
		return mig_seterr(err, perr.code, "image %s: %s", w->path,
		    perr.msg);
	}
	return payload(w, buf, len, err);
}

int
mig_image_writer_stream_fd(struct mig_image_writer *w)
{
	struct mig_err	err;

	if (w->failed || w->chunk_size != 0 || w->sink.split != 0 ||
	    w->sink.write_fn != write || w->direct)
		return -1;
	/* Out of memory: the copying path, which will say so if it is. */
	if ((w->follow = img_follow_start(w->sink.fd, w->written, &w->parser,
	    &w->digest, w->path, w->sink.fs_type, &err)) == NULL)
		return -1;
	w->direct = true;
	return w->sink.fd;
}

/* The stream libxl wrote, read back to its end: what the copying path
 * would have fed the parser and the digest on its way to the file. */
int
mig_image_writer_stream_done(struct mig_image_writer *w, uint64_t *bytes,
    struct mig_err *err)
{
	struct stat	st;
	off_t		end;
	int		rc;

	*bytes = 0;
	if (w->failed || !w->direct || w->follow == NULL)
		return fail(w, err, MIG_E_INVAL, "no stream from libxl");
	if (fstat(w->sink.fd, &st) == -1 ||
	    (end = lseek(w->sink.fd, 0, SEEK_CUR)) == -1) {
		w->failed = true;
		return mig_seterrno(err, MIG_E_IO, "image %s", w->path);
	}
	/* libxl appends with write(2), as into xl save's file: anything
	 * else (a hole, a seek back) is not a stream we can vouch for. */
	if (end != st.st_size || (uint64_t)end < w->written)
		return fail(w, err, MIG_E_CORRUPT, "the stream was not "
		    "written in one sequence");
	rc = img_follow_end(w->follow, (uint64_t)end, bytes, err);
	img_follow_free(w->follow);
	w->follow = NULL;
	if (rc == -1) {
		w->failed = true;
		return -1;
	}
	w->written = (uint64_t)end;
	w->direct = false;
	return 0;
}

/* A little more than libxc's largest write (1024 pages and a header). */
#define PROBE_LEN	((4U << 20) + 65536)

int
mig_image_writer_probe(struct mig_image_writer *w, struct mig_err *err)
{
	static const uint8_t	zero[65536];
	size_t			done;

	if (!w->direct)
		return 0;
	/* libxl failed: what follows in the file is not a stream. */
	img_follow_free(w->follow);
	w->follow = NULL;
	for (done = 0; done < PROBE_LEN; done += sizeof(zero))
		if (img_sink_write(&w->sink, zero, sizeof(zero), err) == -1) {
			w->failed = true;
			return -1;
		}
	return 0;
}

static void
writer_free(struct mig_image_writer *w)
{
	if (w->encrypted) {
		img_aead_free(&w->aead);
		if (w->chunk != NULL)
			OPENSSL_cleanse(w->chunk, w->chunk_size);
	}
	free(w->chunk);
	if (w->zbuf != NULL && w->encrypted)
		OPENSSL_cleanse(w->zbuf, w->chunk_size);
	free(w->zbuf);
	ZSTD_freeCCtx(w->cctx);
	img_digest_free(&w->digest);
	free(w->path);
	free(w);
}

void
mig_image_writer_abort(struct mig_image_writer *w)
{
	if (w == NULL)
		return;
	/* The follower stops before the fd it reads is closed. */
	img_follow_free(w->follow);
	w->follow = NULL;
	img_sink_abort(&w->sink);
	writer_free(w);
}

static int
write_trailer(struct mig_image_writer *w, struct mig_err *err)
{
	struct img_trailer	t;
	uint8_t			buf[IMG_TRAILER_SIZE];

	t.version = img_trailer_version(w->alg);
	t.flags = (w->encrypted ? IMG_TRAILER_ENCRYPTED : 0) |
	    (w->compressed ? IMG_TRAILER_COMPRESSED : 0);
	t.length = w->written;
	if (img_digest_final(&w->digest, t.sha, err) == -1) {
		w->failed = true;
		return -1;
	}
	img_trailer_encode(buf, &t);
	return out(w, buf, sizeof(buf), false, err);
}

int
mig_image_writer_commit(struct mig_image_writer *w, struct mig_err *err)
{
	struct mig_err	perr;

	if (w->failed || w->direct)
		return mig_seterr(err, MIG_E_INVAL, "image %s: %s", w->path,
		    w->failed ? "writer failed earlier" :
		    "the stream from libxl was not read back");
	if (mig_stream_finish(&w->parser, &perr) == -1) {
		w->failed = true;
		return mig_seterr(err, perr.code, "image %s: incomplete "
		    "stream: %s", w->path, perr.msg);
	}
	if ((w->chunk_size != 0 &&
	    seal_chunk(w, IMG_CHUNK_FINAL, err) == -1) ||
	    write_trailer(w, err) == -1)
		return -1;
	/* Not published: what is left is the caller's abort's to remove. */
	if (img_sink_commit(&w->sink, err) == -1) {
		w->failed = true;
		return -1;
	}
	writer_free(w);
	return 0;
}
