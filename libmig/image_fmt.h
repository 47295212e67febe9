/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pieces of the save image format shared by the writer and the reader
 * (private to libmig): the integrity trailer, the encryption parameters
 * and the chunk cipher.  doc/image-format.md is the reference.
 */
#ifndef MIG_IMAGE_FMT_H
#define MIG_IMAGE_FMT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "mig/error.h"
#include "mig/image.h"

#define IMG_SHA_LEN		32	/* the trailer's digest field */

#define IMG_TRAILER_SIZE	64
#define IMG_TRAILER_MAGIC	"XRELOCTR"
#define IMG_TRAILER_END		"XRTRLEND"
/* The version names the digest: 1 SHA-256, 2 XXH3-128 (and 16 zeros). */
#define IMG_TRAILER_V_SHA256	1
#define IMG_TRAILER_V_XXH3	2
#define IMG_TRAILER_ENCRYPTED	0x1
#define IMG_TRAILER_COMPRESSED	0x2

struct img_trailer {
	uint32_t	version;	/* IMG_TRAILER_V_* */
	uint32_t	flags;
	uint64_t	length;		/* bytes before the trailer */
	uint8_t		sha[IMG_SHA_LEN];
};

void	img_trailer_encode(uint8_t *, const struct img_trailer *);
/* Checks both magics and the version. */
uint32_t img_trailer_version(enum mig_image_digest);
int	img_trailer_decode(const uint8_t *, struct img_trailer *,
	    struct mig_err *);

/*
 * Wrapped (encrypted and/or compressed) images: xl optional data = u32 0 +
 * these parameters, then chunks.
 */
#define IMG_CRYPT_MAGIC		"XRELOCEN"
#define IMG_CRYPT_SIZE		40
/* Version 2 authenticates the clear header (xl header, config length,
 * chunk parameters: IMG_WRAP_HDR bytes) in chunk 0's AAD; version 1
 * images (before it) are still read, their header checked only by the
 * unkeyed trailer.  A version 2 header edited to say 1 fails chunk 0. */
#define IMG_CRYPT_VERSION	2
#define IMG_CRYPT_VERSION_MIN	1
#define IMG_WRAP_HDR		(48 + 4 + IMG_CRYPT_SIZE)
#define IMG_CIPHER_NONE		0
#define IMG_CIPHER_AES256GCM	1
#define IMG_COMPRESS_NONE	0
#define IMG_COMPRESS_ZSTD	1
#define IMG_NONCE_LEN		12
#define IMG_TAG_LEN		16
#define IMG_CHUNK_SIZE		(1U << 20)
#define IMG_CHUNK_MIN		4096
#define IMG_CHUNK_MAX		(16U << 20)
#define IMG_CHUNK_HDR		8	/* u32 stored length, u32 flags */
#define IMG_CHUNK_FINAL		0x1
#define IMG_CHUNK_ZSTD		0x2	/* body is one zstd frame */

/* The chunk parameters' last word (reserved, 0, before it said this). */
#define IMG_CRYPT_DIGEST_SHA256	0
#define IMG_CRYPT_DIGEST_XXH3	1

struct img_crypt {
	uint32_t	version;	/* decoded; the encoder writes the newest */
	uint32_t	cipher;		/* IMG_CIPHER_* */
	uint32_t	compression;	/* IMG_COMPRESS_* */
	uint32_t	chunk_size;
	uint8_t		nonce[IMG_NONCE_LEN];
	uint32_t	digest;		/* IMG_CRYPT_DIGEST_*: the trailer's */
};

void	img_crypt_encode(uint8_t *, const struct img_crypt *);
int	img_crypt_decode(const uint8_t *, struct img_crypt *,
	    struct mig_err *);

/* AES-256-GCM over numbered chunks: nonce = base XOR chunk number. */
struct img_aead {
	EVP_CIPHER_CTX	*ctx;
	uint8_t		 key[MIG_IMAGE_KEY_LEN];
	uint8_t		 nonce[IMG_NONCE_LEN];
	uint64_t	 index;		/* of the next chunk */
	uint8_t		 header[IMG_WRAP_HDR];	/* chunk 0's extra AAD */
	size_t		 header_len;		/* 0: version 1 */
};

int	img_aead_init(struct img_aead *, const struct mig_image_key *,
	    const uint8_t *, const uint8_t *, size_t, struct mig_err *);
void	img_aead_free(struct img_aead *);
/* Encrypts buf in place and writes the tag; the chunk header is AAD. */
int	img_aead_seal(struct img_aead *, const uint8_t *, uint8_t *, size_t,
	    uint8_t *, struct mig_err *);
/* Decrypts in place; -1 (no message) if the tag does not match. */
int	img_aead_open(struct img_aead *, const uint8_t *, uint8_t *, size_t,
	    const uint8_t *);

void	img_chunk_hdr_encode(uint8_t *, uint32_t, uint32_t);

#endif
