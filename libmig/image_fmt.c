/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "hex.h"
#include "image_fmt.h"
#include "mig/wire.h"

void
img_trailer_encode(uint8_t *p, const struct img_trailer *t)
{
	struct wire_wr	w;

	wire_wr_init(&w, p, IMG_TRAILER_SIZE);
	wire_put_bytes(&w, IMG_TRAILER_MAGIC, 8);
	wire_put_be32(&w, t->version);
	wire_put_be32(&w, t->flags);
	wire_put_be64(&w, t->length);
	wire_put_bytes(&w, t->sha, IMG_SHA_LEN);
	wire_put_bytes(&w, IMG_TRAILER_END, 8);
}

uint32_t
img_trailer_version(enum mig_image_digest alg)
{
	return alg == MIG_IMAGE_DIGEST_SHA256 ? IMG_TRAILER_V_SHA256 :
	    IMG_TRAILER_V_XXH3;
}

int
img_trailer_decode(const uint8_t *p, struct img_trailer *t,
    struct mig_err *err)
{
	struct wire_rd	r;

	wire_rd_init(&r, p, IMG_TRAILER_SIZE);
	if (memcmp(wire_get_bytes(&r, 8), IMG_TRAILER_MAGIC, 8) != 0 ||
	    memcmp(p + IMG_TRAILER_SIZE - 8, IMG_TRAILER_END, 8) != 0)
		return mig_seterr(err, MIG_E_CORRUPT,
		    "corrupted: bad integrity trailer after the stream");
	t->version = wire_get_be32(&r);
	t->flags = wire_get_be32(&r);
	t->length = wire_get_be64(&r);
	memcpy(t->sha, wire_get_bytes(&r, IMG_SHA_LEN), IMG_SHA_LEN);
	if (t->version != IMG_TRAILER_V_SHA256 &&
	    t->version != IMG_TRAILER_V_XXH3)
		return mig_seterr(err, MIG_E_NOTSUP,
		    "integrity trailer version %u is not supported",
		    t->version);
	return 0;
}

void
img_crypt_encode(uint8_t *p, const struct img_crypt *c)
{
	struct wire_wr	w;

	wire_wr_init(&w, p, IMG_CRYPT_SIZE);
	wire_put_bytes(&w, IMG_CRYPT_MAGIC, 8);
	wire_put_be32(&w, IMG_CRYPT_VERSION);
	wire_put_be32(&w, c->cipher);
	wire_put_be32(&w, c->chunk_size);
	wire_put_be32(&w, c->compression);
	wire_put_bytes(&w, c->nonce, IMG_NONCE_LEN);
	wire_put_be32(&w, c->digest);
}

int
img_crypt_decode(const uint8_t *p, struct img_crypt *c, struct mig_err *err)
{
	struct wire_rd	r;
	uint32_t	version;

	wire_rd_init(&r, p, IMG_CRYPT_SIZE);
	if (memcmp(wire_get_bytes(&r, 8), IMG_CRYPT_MAGIC, 8) != 0)
		return mig_seterr(err, MIG_E_CORRUPT,
		    "corrupted: bad chunk parameters");
	version = c->version = wire_get_be32(&r);
	c->cipher = wire_get_be32(&r);
	c->chunk_size = wire_get_be32(&r);
	c->compression = wire_get_be32(&r);
	memcpy(c->nonce, wire_get_bytes(&r, IMG_NONCE_LEN), IMG_NONCE_LEN);
	c->digest = wire_get_be32(&r);
	if (version < IMG_CRYPT_VERSION_MIN || version > IMG_CRYPT_VERSION ||
	    c->cipher > IMG_CIPHER_AES256GCM ||
	    c->compression > IMG_COMPRESS_ZSTD ||
	    c->digest > IMG_CRYPT_DIGEST_XXH3)
		return mig_seterr(err, MIG_E_NOTSUP, "chunk format version %u "
		    "cipher %u compression %u digest %u is not supported",
		    version, c->cipher, c->compression, c->digest);
	if (c->chunk_size < IMG_CHUNK_MIN || c->chunk_size > IMG_CHUNK_MAX)
		return mig_seterr(err, MIG_E_CORRUPT,
		    "corrupted: chunk size %u", c->chunk_size);
	return 0;
}

void
img_chunk_hdr_encode(uint8_t *p, uint32_t len, uint32_t flags)
{
	struct wire_wr	w;

	wire_wr_init(&w, p, IMG_CHUNK_HDR);
	wire_put_be32(&w, len);
	wire_put_be32(&w, flags);
}

/* header (header_len bytes, at most IMG_WRAP_HDR; 0 for a version 1
 * image) is authenticated with chunk 0. */
int
img_aead_init(struct img_aead *a, const struct mig_image_key *key,
    const uint8_t *nonce, const uint8_t *header, size_t header_len,
    struct mig_err *err)
{
	memset(a, 0, sizeof(*a));
	if (header_len > sizeof(a->header))
		return mig_seterr(err, MIG_E_INVAL, "image header too long");
	if ((a->ctx = EVP_CIPHER_CTX_new()) == NULL)
		return mig_seterr(err, MIG_E_NOMEM, "cipher context");
	memcpy(a->key, key->k, sizeof(a->key));
	memcpy(a->nonce, nonce, sizeof(a->nonce));
	if (header_len > 0)
		memcpy(a->header, header, header_len);
	a->header_len = header_len;
	return 0;
}

void
img_aead_free(struct img_aead *a)
{
	EVP_CIPHER_CTX_free(a->ctx);
	OPENSSL_cleanse(a->key, sizeof(a->key));
	a->ctx = NULL;
}

/* Nonce of the next chunk; the AAD binds its header and its number, and
 * for chunk 0 the image's clear header after them. */
static int
aead_start(struct img_aead *a, int enc, const uint8_t *hdr)
{
	uint8_t		nonce[IMG_NONCE_LEN], aad[IMG_CHUNK_HDR + 8];
	struct wire_wr	w;
	int		i, n;

	memcpy(nonce, a->nonce, sizeof(nonce));
	for (i = 0; i < 8; i++)
		nonce[IMG_NONCE_LEN - 1 - i] ^= (uint8_t)(a->index >> (8 * i));
	wire_wr_init(&w, aad, sizeof(aad));
	wire_put_bytes(&w, hdr, IMG_CHUNK_HDR);
	wire_put_be64(&w, a->index);
	if (EVP_CipherInit_ex(a->ctx, EVP_aes_256_gcm(), NULL, a->key, nonce,
	    enc) != 1 ||
	    EVP_CipherUpdate(a->ctx, NULL, &n, aad, sizeof(aad)) != 1 ||
	    (a->index == 0 && a->header_len > 0 && EVP_CipherUpdate(a->ctx,
	    NULL, &n, a->header, (int)a->header_len) != 1))
		return -1;
	a->index++;
	return 0;
}

int
img_aead_seal(struct img_aead *a, const uint8_t *hdr, uint8_t *buf,
    size_t len, uint8_t *tag, struct mig_err *err)
{
	int	n;

	if (aead_start(a, 1, hdr) == -1 ||
	    (len > 0 && EVP_CipherUpdate(a->ctx, buf, &n, buf, (int)len) != 1) ||
	    EVP_CipherFinal_ex(a->ctx, buf + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_GCM_GET_TAG, IMG_TAG_LEN,
	    tag) != 1)
		return mig_seterr(err, MIG_E_IO, "image encryption failed");
	return 0;
}

int
img_aead_open(struct img_aead *a, const uint8_t *hdr, uint8_t *buf,
    size_t len, const uint8_t *tag)
{
	int	n;

	if (aead_start(a, 0, hdr) == -1 ||
	    (len > 0 && EVP_CipherUpdate(a->ctx, buf, &n, buf, (int)len) != 1) ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_GCM_SET_TAG, IMG_TAG_LEN,
	    (void *)tag) != 1 ||
	    EVP_CipherFinal_ex(a->ctx, buf + len, &n) != 1)
		return -1;
	return 0;
}

/* 64 hex digits, optionally followed by white space. */
static int
parse_hex_key(const uint8_t *p, size_t len, struct mig_image_key *key)
{
	size_t	i;
	int	hi, lo;

	while (len > 0 && isspace(p[len - 1]))
		len--;
	if (len != 2 * MIG_IMAGE_KEY_LEN)
		return -1;
	for (i = 0; i < MIG_IMAGE_KEY_LEN; i++) {
		if ((hi = hex_digit(p[2 * i])) == -1 ||
		    (lo = hex_digit(p[2 * i + 1])) == -1)
			return -1;
		key->k[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
mig_image_key_load(const char *path, struct mig_image_key *key,
    struct mig_err *err)
{
	uint8_t	buf[2 * MIG_IMAGE_KEY_LEN + 16];
	size_t	len = 0;
	ssize_t	n;
	int	fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return mig_seterrno(err, MIG_E_IO, "key file %s", path);
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = mig_seterrno(err, MIG_E_IO, "key file %s", path);
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (rc == 0) {
		if (len == MIG_IMAGE_KEY_LEN)
			memcpy(key->k, buf, MIG_IMAGE_KEY_LEN);
		else if (parse_hex_key(buf, len, key) == -1)
			rc = mig_seterr(err, MIG_E_INVAL, "key file %s: want "
			    "32 raw bytes or 64 hex digits", path);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}
