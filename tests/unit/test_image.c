/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <xxhash.h>

#include "mig/error.h"
#include "fixture.h"
#include "mig/image.h"
#include "mig/stream.h"
#include "streamgen.h"
#include "mig/wire.h"

#define CONFIG	"{\"c_info\": {\"type\": \"pv\", \"name\": \"web-01\"}, " \
		"\"b_info\": {\"max_memkb\": 524288}}"
#define TRAILER	64

struct fx {
	char		dir[64];
	char		path[128];
	struct sg_buf	stream;		/* libxl stream, no xl header */
};

static struct mig_image_key	key1 = { { 1, 2, 3, 4, 5, 6, 7, 8 } };
static struct mig_image_key	key2 = { { 9, 9, 9 } };

static void
zero_page(void *arg, uint64_t pfn, uint8_t *page)
{
	memset(page, 0, MIG_PAGE_SIZE);
}

static void
gen_pages(struct sg_buf *b, bool xlhdr, size_t npages,
    void (*fn)(void *, uint64_t, uint8_t *))
{
	struct sg_opts	o = { .no_xl_header = !xlhdr, .config = CONFIG,
	    .config_len = sizeof(CONFIG), .p2m_size = 4096 };
	struct sg	g;
	uint64_t	*pfns = calloc(npages, sizeof(*pfns));
	size_t		i;

	assert_non_null(pfns);
	memset(b, 0, sizeof(*b));
	for (i = 0; i < npages; i++)
		pfns[i] = i * 3;
	assert_int_equal(sg_begin(&g, &o, sg_buf_write, b), 0);
	assert_int_equal(sg_pages(&g, pfns, npages, fn, NULL), 0);
	assert_int_equal(sg_end(&g), 0);
	free(pfns);
}

static void
gen_stream(struct sg_buf *b, bool xlhdr, size_t npages)
{
	gen_pages(b, xlhdr, npages, sg_pattern_page);
}

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_image.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/dom.save", f->dir);
	/* 600 pages: 2.4 MiB, three encryption chunks. */
	gen_stream(&f->stream, false, 600);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	DIR		*d;
	struct dirent	*e;
	char		 p[512];

	if ((d = opendir(f->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	sg_buf_free(&f->stream);
	free(f);
	return 0;
}

/* Writes the fixture stream as an image in uneven pieces. */
static int
write_image(struct fx *f, const char *path, const struct mig_image_opts *o,
    size_t upto, struct mig_err *err)
{
	struct mig_image_writer	*w;
	size_t			 off = 0, n, k = 0;
	static const size_t	 sizes[] = { 1, 4095, 70000, 13, 1 << 20 };

	w = mig_image_writer_open(path, CONFIG, strlen(CONFIG), o, err);
	if (w == NULL)
		return -1;
	while (off < upto) {
		n = sizes[k++ % 5];
		if (n > upto - off)
			n = upto - off;
		if (mig_image_writer_write(w, f->stream.p + off, n, err) ==
		    -1) {
			mig_image_writer_abort(w);
			return -1;
		}
		off += n;
	}
	if (mig_image_writer_commit(w, err) == -1) {
		mig_image_writer_abort(w);
		return -1;
	}
	return 0;
}

static void
must_write_z(struct fx *f, const struct mig_image_key *key, bool compress)
{
	struct mig_image_opts	o = { .key = key, .compress = compress };
	struct mig_err		err;

	if (write_image(f, f->path, &o, f->stream.len, &err) != 0)
		fail_msg("write: %s", err.msg);
}

static void
must_write(struct fx *f, const struct mig_image_key *key)
{
	must_write_z(f, key, false);
}

static void
slurp(const char *path, struct sg_buf *b)
{
	int	fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t	buf[65536];
	ssize_t	n;

	assert_true(fd >= 0);
	memset(b, 0, sizeof(*b));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		assert_int_equal(sg_buf_write(b, buf, (size_t)n), 0);
	close(fd);
}

static void
spew(const char *path, const void *p, size_t len)
{
	int	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(sg_fd_write(&fd, p, len), 0);
	close(fd);
}

static void
expect_verify_fwd(const char *path, const struct mig_image_key *key,
    const char *what)
{
	struct mig_image_summary	sum;
	struct mig_err			err;

	mig_clearerr(&err);
	if (mig_image_verify(path, key, 0, &sum, &err) != -1)
		fail_msg("%s: verify passed (want %s)", path, what);
	if (strstr(err.msg, what) == NULL)
		fail_msg("want %s, got %s", what, err.msg);
}

/* Reads the stream back in uneven pieces and compares it. */
static void
read_back_z(struct fx *f, const struct mig_image_key *key, bool compressed)
{
	struct mig_image_reader	*r;
	struct mig_image_summary sum;
	struct mig_err		 err;
	struct sg_buf		 got = { 0 };
	uint8_t			 buf[9000];
	const char		*cfg;
	size_t			 clen, k = 0;
	ssize_t			 n;

	if ((r = mig_image_reader_open(f->path, key, 0, &err)) == NULL)
		fail_msg("open: %s", err.msg);
	cfg = mig_image_reader_config(r, &clen);
	assert_int_equal(clen, strlen(CONFIG));
	assert_string_equal(cfg, CONFIG);
	while ((n = mig_image_reader_read(r, buf, 1 + (k++ * 997) % 9000,
	    &err)) > 0)
		assert_int_equal(sg_buf_write(&got, buf, (size_t)n), 0);
	if (n != 0)
		fail_msg("read: %s", err.msg);
	assert_int_equal(got.len, f->stream.len);
	assert_memory_equal(got.p, f->stream.p, got.len);
	if (mig_image_reader_verify_end(r, &err) != 0)
		fail_msg("verify_end: %s", err.msg);
	mig_image_reader_summary(r, &sum);
	assert_string_equal(sum.name, "web-01");
	assert_true(sum.trailer);
	assert_int_equal(sum.encrypted, key != NULL);
	assert_int_equal(sum.compressed, compressed);
	assert_int_equal(sum.pages, 600);
	assert_int_equal(sum.stream_bytes, f->stream.len);
	assert_int_equal(sum.guest_type, MIG_LIBXC_DOM_X86_PV);
	assert_int_equal(mig_image_reader_stats(r)->pages, 600);
	mig_image_reader_close(r);
	sg_buf_free(&got);
}

static void
read_back(struct fx *f, const struct mig_image_key *key)
{
	read_back_z(f, key, false);
}

static void
test_roundtrip_plain(void **state)
{
	struct fx		*f = *state;
	struct sg_buf		 file;
	struct mig_stream	 s;
	struct mig_err		 err;
	struct stat		 st;
	struct wire_rd		 r;

	must_write(f, NULL);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	read_back(f, NULL);

	/* Byte for byte what xl save writes, but for an optional flag
	 * (which xl ignores) saying that the trailer follows. */
	slurp(f->path, &file);
	assert_memory_equal(file.p, MIG_XLHDR_MAGIC, MIG_XLHDR_MAGIC_LEN);
	wire_rd_init(&r, file.p + 36, 16);
	assert_int_equal(wire_get_le32(&r), MIG_XL_FLAG_JSON |
	    MIG_XL_FLAG_STREAMV2);
	assert_int_equal(wire_get_le32(&r), MIG_XL_OPT_TRAILER |
	    MIG_XL_OPT_XXH3);
	assert_int_equal(wire_get_le32(&r), 4 + sizeof(CONFIG));
	assert_int_equal(wire_get_le32(&r), sizeof(CONFIG));	/* with NUL */
	assert_int_equal(file.p[52 + sizeof(CONFIG) - 1], '\0');
	assert_int_equal(file.len, 52 + sizeof(CONFIG) + f->stream.len +
	    TRAILER);
	assert_memory_equal(file.p + 52 + sizeof(CONFIG), f->stream.p,
	    f->stream.len);
	mig_stream_init(&s, MIG_STREAM_TRAILER);
	assert_int_equal(mig_stream_feed(&s, file.p, file.len, &err),
	    file.len - TRAILER);
	assert_int_equal(mig_stream_finish(&s, &err), 0);
	assert_memory_equal(file.p + file.len - 8, "XRTRLEND", 8);
	sg_buf_free(&file);
}

static void
test_roundtrip_encrypted(void **state)
{
	struct fx		*f = *state;
	struct sg_buf		 file;
	struct mig_image_summary sum;
	struct mig_err		 err;
	struct wire_rd		 r;

	must_write(f, &key1);
	read_back(f, &key1);
	slurp(f->path, &file);
	/* Stock xl sees an unknown mandatory flag and refuses. */
	wire_rd_init(&r, file.p + 36, 4);
	assert_true(wire_get_le32(&r) & MIG_XL_FLAG_ENCRYPTED);
	/* Neither config nor memory in the clear. */
	assert_null(memmem(file.p, file.len, "web-01", 6));
	assert_null(memmem(file.p, file.len, "LibxlFmt", 8));
	sg_buf_free(&file);

	assert_int_equal(mig_image_verify(f->path, &key1, 0, &sum, &err), 0);
	assert_true(sum.encrypted);
	assert_string_equal(sum.name, "web-01");
	assert_int_equal(mig_image_verify(f->path, &key2, 0, &sum, &err), -1);
	assert_non_null(strstr(err.msg, "wrong key or corrupted image"));
	assert_int_equal(mig_image_verify(f->path, NULL, 0, &sum, &err), -1);
	assert_non_null(strstr(err.msg, "key is needed"));
}

static uint32_t
mandatory_flags(const char *path)
{
	struct sg_buf	file;
	struct wire_rd	r;
	uint32_t	flags;

	slurp(path, &file);
	wire_rd_init(&r, file.p + 36, 4);
	flags = wire_get_le32(&r);
	sg_buf_free(&file);
	return flags;
}

/* What stock xl (and our parser, standing in for it) makes of the file. */
static void
assert_xl_refuses(const char *path, const char *why)
{
	struct sg_buf		file;
	struct mig_stream	s;
	struct mig_err		err;

	slurp(path, &file);
	mig_stream_init(&s, MIG_STREAM_TRAILER);
	assert_int_equal(mig_stream_feed(&s, file.p, file.len, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTSUP);
	assert_non_null(strstr(err.msg, why));
	sg_buf_free(&file);
}

static void
test_roundtrip_compressed(void **state)
{
	struct fx		*f = *state;
	struct sg_buf		 pattern = f->stream;
	struct stat		 st;

	/* Pages that do not shrink much, then pages that vanish. */
	must_write_z(f, NULL, true);
	read_back_z(f, NULL, true);
	assert_int_equal(mandatory_flags(f->path), MIG_XL_FLAG_STREAMV2 |
	    MIG_XL_FLAG_COMPRESSED);
	assert_xl_refuses(f->path, "compressed xl-reloc image");
	gen_pages(&f->stream, false, 600, zero_page);
	must_write_z(f, NULL, true);
	read_back_z(f, NULL, true);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true((size_t)st.st_size < f->stream.len / 20);
	sg_buf_free(&f->stream);
	f->stream = pattern;
}

static void
test_roundtrip_compressed_encrypted(void **state)
{
	struct fx		*f = *state;
	struct sg_buf		 file;
	struct mig_image_summary sum;
	struct mig_err		 err;

	must_write_z(f, &key1, true);
	read_back_z(f, &key1, true);
	assert_int_equal(mandatory_flags(f->path), MIG_XL_FLAG_STREAMV2 |
	    MIG_XL_FLAG_ENCRYPTED | MIG_XL_FLAG_COMPRESSED);
	assert_xl_refuses(f->path, "encrypted");
	slurp(f->path, &file);
	assert_null(memmem(file.p, file.len, "web-01", 6));
	sg_buf_free(&file);
	assert_int_equal(mig_image_verify(f->path, &key1, 0, &sum, &err), 0);
	assert_true(sum.encrypted && sum.compressed && sum.trailer);
	expect_verify_fwd(f->path, &key2, "wrong key or corrupted image");
	expect_verify_fwd(f->path, NULL, "key is needed");
}

static void
expect_verify(const char *path, const struct mig_image_key *key,
    unsigned flags, int code, const char *what)
{
	struct mig_image_summary	sum;
	struct mig_err			err;

	mig_clearerr(&err);
	if (mig_image_verify(path, key, flags, &sum, &err) != -1)
		fail_msg("%s: damage not detected (want %s)", path, what);
	if (err.code != code || strstr(err.msg, what) == NULL)
		fail_msg("want %s/%s, got %s: %s", mig_errcode_name(code),
		    what, mig_errcode_name(err.code), err.msg);
}

static void
check_truncations(struct fx *f, const struct mig_image_key *key)
{
	struct sg_buf	file;
	char		cut[160];
	size_t		offs[8], i;

	slurp(f->path, &file);
	offs[0] = 1;
	offs[1] = 47;
	offs[2] = 100;
	offs[3] = file.len / 3;
	offs[4] = file.len / 2 + 5;
	offs[5] = file.len - TRAILER - 1;
	offs[6] = file.len - TRAILER + 10;
	offs[7] = file.len - 1;
	snprintf(cut, sizeof(cut), "%s/cut", f->dir);
	for (i = 0; i < 8; i++) {
		spew(cut, file.p, offs[i]);
		expect_verify(cut, key, 0, MIG_E_TRUNC, "truncated");
	}
	sg_buf_free(&file);
}

static void
test_truncated(void **state)
{
	struct fx	*f = *state;
	struct sg_buf	 file;
	char		 cut[160];
	struct mig_image_summary sum;
	struct mig_err	 err;

	must_write(f, NULL);
	check_truncations(f, NULL);
	must_write(f, &key1);
	check_truncations(f, &key1);
	/* Without its trailer, an encrypted image is truncated... */
	slurp(f->path, &file);
	snprintf(cut, sizeof(cut), "%s/cut", f->dir);
	spew(cut, file.p, file.len - TRAILER);
	expect_verify(cut, &key1, 0, MIG_E_TRUNC, "trailer");
	sg_buf_free(&file);
	/* So is a compressed one, and one both compressed and encrypted. */
	must_write_z(f, NULL, true);
	check_truncations(f, NULL);
	slurp(f->path, &file);
	spew(cut, file.p, file.len - TRAILER);
	expect_verify(cut, NULL, 0, MIG_E_TRUNC, "trailer");
	sg_buf_free(&file);
	must_write_z(f, &key1, true);
	check_truncations(f, &key1);
	/* ...and a plain one, since its header says xen-relocd wrote it
	 * (an optional flag, which stock xl ignores)... */
	must_write(f, NULL);
	slurp(f->path, &file);
	spew(cut, file.p, file.len - TRAILER);
	expect_verify(cut, NULL, 0, MIG_E_TRUNC, "integrity trailer is "
	    "missing");
	/* ...while one without that flag is what xl save writes: accepted
	 * with a note. */
	memset(file.p + 40, 0, 4);
	spew(cut, file.p, file.len - TRAILER);
	assert_int_equal(mig_image_verify(cut, NULL, 0, &sum, &err), 0);
	assert_false(sum.trailer);
	assert_string_equal(sum.note,
	    "no integrity trailer (written by xl save)");
	sg_buf_free(&file);
}

static void
flip(const char *path, off_t at)
{
	int	fd = open(path, O_RDWR | O_CLOEXEC);
	uint8_t	c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static void
test_flipped_byte(void **state)
{
	struct fx	*f = *state;
	struct stat	 st;

	must_write(f, NULL);
	assert_int_equal(stat(f->path, &st), 0);
	flip(f->path, st.st_size / 2);		/* inside page data */
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "XXH3-128 mismatch");
	must_write(f, NULL);
	flip(f->path, st.st_size - 40);		/* inside the trailer hash */
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "XXH3-128 mismatch");
	must_write(f, NULL);
	flip(f->path, st.st_size - 3);		/* trailer end magic */
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "trailer");

	must_write(f, &key1);
	assert_int_equal(stat(f->path, &st), 0);
	flip(f->path, st.st_size / 2);
	expect_verify(f->path, &key1, 0, MIG_E_CORRUPT,
	    "fails authentication");
	must_write(f, &key1);
	flip(f->path, 100);			/* first chunk */
	expect_verify(f->path, &key1, 0, MIG_E_CORRUPT, "wrong key or "
	    "corrupted");

	/* Compressed: zstd, the parser or the hash notices, never a pass. */
	must_write_z(f, NULL, true);
	assert_int_equal(stat(f->path, &st), 0);
	flip(f->path, st.st_size / 2);
	expect_verify_fwd(f->path, NULL, "");
	must_write_z(f, NULL, true);
	flip(f->path, 48 + 4 + 40 + 7);		/* first chunk's flags */
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "bad header");
	must_write_z(f, NULL, true);
	flip(f->path, 48 + 4 + 40 + 8 + 20);	/* inside the zstd frame */
	expect_verify_fwd(f->path, NULL, "");
	must_write_z(f, NULL, true);
	flip(f->path, st.st_size - 40);		/* trailer hash */
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "XXH3-128 mismatch");
	must_write_z(f, NULL, true);
	flip(f->path, 48 + 4 + 20);		/* chunk parameters */
	expect_verify_fwd(f->path, NULL, "");
	must_write_z(f, &key1, true);
	assert_int_equal(stat(f->path, &st), 0);
	flip(f->path, st.st_size / 2);
	expect_verify(f->path, &key1, 0, MIG_E_CORRUPT,
	    "fails authentication");
}

/* Fails with ENOSPC once the budget of bytes is spent. */
static size_t	budget;

static ssize_t
short_write(int fd, const void *p, size_t len)
{
	if (budget == 0) {
		errno = ENOSPC;
		return -1;
	}
	if (len > budget)
		len = budget;
	budget -= len;
	return write(fd, p, len);
}

static int
bad_fsync(int fd)
{
	errno = EIO;
	return -1;
}

/* Only the image at its path, with exactly these bytes. */
static void
assert_only_image_bytes(struct fx *f, const struct sg_buf *want)
{
	DIR		*d = opendir(f->dir);
	struct dirent	*e;
	struct sg_buf	 b;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0)
			assert_string_equal(e->d_name, "dom.save");
	closedir(d);
	slurp(f->path, &b);
	assert_int_equal(b.len, want->len);
	assert_memory_equal(b.p, want->p, b.len);
	sg_buf_free(&b);
}

static void
assert_only_image(struct fx *f, const char *content)
{
	struct sg_buf	b = { .p = (uint8_t *)content, .len = strlen(content) };

	assert_only_image_bytes(f, &b);
}

static void
test_enospc_keeps_old(void **state)
{
	struct fx		*f = *state;
	struct mig_image_opts	 o = { .write_fn = short_write };
	struct mig_err		 err;
	size_t			 budgets[] = { 0, 30, 5000, 1 << 20 };
	size_t			 i;

	spew(f->path, "old image", 9);
	for (i = 0; i < 4; i++) {
		budget = budgets[i];
		assert_int_equal(write_image(f, f->path, &o, f->stream.len,
		    &err), -1);
		assert_int_equal(err.code, MIG_E_IO);
		assert_non_null(strstr(err.msg, "No space left on device"));
		assert_only_image(f, "old image");
	}
	o.key = &key1;
	budget = 2 << 20;
	assert_int_equal(write_image(f, f->path, &o, f->stream.len, &err), -1);
	assert_only_image(f, "old image");
	o.write_fn = NULL;
	o.fsync_fn = bad_fsync;
	assert_int_equal(write_image(f, f->path, &o, f->stream.len, &err), -1);
	assert_non_null(strstr(err.msg, "fsync"));
	assert_only_image(f, "old image");
}

static void
test_incomplete_stream_refused(void **state)
{
	struct fx		*f = *state;
	struct mig_image_writer	*w;
	struct mig_err		 err;

	spew(f->path, "old image", 9);
	assert_int_equal(write_image(f, f->path, NULL, f->stream.len - 8,
	    &err), -1);
	assert_int_equal(err.code, MIG_E_TRUNC);
	assert_non_null(strstr(err.msg, "incomplete stream"));
	assert_only_image(f, "old image");
	/* Garbage is refused as it is written. */
	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), NULL,
	    &err);
	assert_non_null(w);
	assert_int_equal(mig_image_writer_write(w, "NotLibxlFormat!!", 16,
	    &err), -1);
	assert_non_null(strstr(err.msg, "LibxlFmt"));
	assert_int_equal(mig_image_writer_commit(w, &err), -1);
	mig_image_writer_abort(w);
	assert_only_image(f, "old image");
}

static void
test_stock_xl_image(void **state)
{
	struct fx		*f = *state;
	struct sg_buf		 xl;
	struct mig_image_summary sum;
	struct mig_err		 err;

	/* What "xl save" writes: header, config, stream, nothing else. */
	gen_stream(&xl, true, 5);
	spew(f->path, xl.p, xl.len);
	sg_buf_free(&xl);
	assert_int_equal(mig_image_verify(f->path, NULL, 0, &sum, &err), 0);
	assert_false(sum.trailer);
	assert_false(sum.encrypted);
	assert_int_equal(sum.pages, 5);
	assert_string_equal(sum.name, "web-01");
	assert_non_null(strstr(sum.note, "written by xl save"));
	expect_verify(f->path, NULL, MIG_IMAGE_REQUIRE_TRAILER, MIG_E_NOTSUP,
	    "no integrity trailer");
}

/* Reads every byte (no skipping): the outcome before readers stepped
 * over unchecked page contents. */
static int
verify_reading_all(const char *path, struct mig_image_summary *sum,
    struct mig_err *err)
{
	struct mig_image_reader	*r;
	uint8_t			 buf[4096];
	ssize_t			 n;
	int			 rc;

	if ((r = mig_image_reader_open(path, NULL, 0, err)) == NULL)
		return -1;
	while ((n = mig_image_reader_read(r, buf, sizeof(buf), err)) > 0)
		;
	rc = n == -1 ? -1 : mig_image_reader_verify_end(r, err);
	mig_image_reader_summary(r, sum);
	mig_image_reader_close(r);
	return rc;
}

/* Two rounds of 48 pages, two PAGE_DATA records, as xl save writes. */
#define SKIP_PAGES	48

static void
two_records(struct sg_buf *b)
{
	struct sg_opts	o = { .config = CONFIG, .config_len = sizeof(CONFIG),
	    .p2m_size = 4096 };
	struct sg	g;
	uint64_t	pfns[SKIP_PAGES];
	size_t		i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < SKIP_PAGES; i++)
		pfns[i] = i * 3;
	assert_int_equal(sg_begin(&g, &o, sg_buf_write, b), 0);
	assert_int_equal(sg_pages(&g, pfns, SKIP_PAGES, sg_pattern_page,
	    NULL), 0);
	assert_int_equal(sg_pages(&g, pfns, SKIP_PAGES, sg_pattern_page,
	    NULL), 0);
	assert_int_equal(sg_end(&g), 0);
}

/* Changes byte off, checks, changes it back: the two checks agree. */
static void
flip_agrees(struct fx *f, size_t off)
{
	struct mig_image_summary a, b;
	struct mig_err		 ea, eb;
	int			 ra, rb;

	flip(f->path, (off_t)off);
	ra = mig_image_verify(f->path, NULL, 0, &a, &ea);
	rb = verify_reading_all(f->path, &b, &eb);
	flip(f->path, (off_t)off);
	if (ra != rb || (ra == -1 && ea.code != eb.code))
		fail_msg("byte %zu changed: %s against %s", off,
		    ra == 0 ? "ok" : ea.msg, rb == 0 ? "ok" : eb.msg);
}

/*
 * A check that steps over the page contents of an image without a
 * digest decides as one that reads them all: whole, cut anywhere, or a
 * byte changed in any record header, pfn list or page.
 */
static void
test_stock_xl_skipped(void **state)
{
	struct fx		*f = *state;
	struct sg_buf		 xl;
	struct mig_image_summary a, b;
	struct mig_err		 ea, eb;
	uint8_t			 rec[8];
	size_t			 off, second = 0, len;

	two_records(&xl);
	spew(f->path, xl.p, xl.len);
	assert_int_equal(mig_image_verify(f->path, NULL, 0, &a, &ea), 0);
	assert_int_equal(verify_reading_all(f->path, &b, &eb), 0);
	assert_int_equal(a.pages, 2 * SKIP_PAGES);
	assert_int_equal(a.stream_bytes, b.stream_bytes);
	assert_int_equal(a.file_bytes, xl.len);
	/* The second PAGE_DATA record's header: after 48 skipped pages. */
	len = 8 + 8 * SKIP_PAGES + (size_t)SKIP_PAGES * MIG_PAGE_SIZE;
	memcpy(rec, "\1\0\0\0", 4);
	rec[4] = (uint8_t)len;
	rec[5] = (uint8_t)(len >> 8);
	rec[6] = (uint8_t)(len >> 16);
	rec[7] = 0;
	for (off = 0; off + 8 <= xl.len; off++)
		if (memcmp(xl.p + off, rec, 8) == 0)
			second = off;
	assert_true(second > len);
	for (off = second - 64; off < second + 16 + 8 * SKIP_PAGES; off++)
		flip_agrees(f, off);
	for (off = 0; off < xl.len; off += off < 4096 ? 7 : 2039)
		flip_agrees(f, off);
	/* Cut anywhere: truncated, never accepted. */
	for (off = xl.len - 1; off > 37; off -= off > 4096 ? 1999 : 37) {
		assert_int_equal(truncate(f->path, (off_t)off), 0);
		assert_int_equal(mig_image_verify(f->path, NULL, 0, &a, &ea),
		    -1);
		assert_int_equal(ea.code, MIG_E_TRUNC);
	}
	sg_buf_free(&xl);
}

/* An xl save image of a guest of config TYPE, its memory of libxc type
 * HVM (PVH and HVM guests) or PV. */
static void
typed_image(const char *path, const char *type, bool hvm)
{
	char		cfg[128];
	int		len;
	struct sg_opts	o = { .config = cfg, .hvm = hvm };
	struct sg_buf	b = { 0 };
	struct sg	g;
	uint64_t	pfns[3] = { 0, 1, 0xfeff0 };

	len = snprintf(cfg, sizeof(cfg), "{\"c_info\": {\"type\": \"%s\", "
	    "\"name\": \"g\"}, \"b_info\": {\"max_memkb\": 8192}}", type);
	o.config_len = (size_t)len + 1;
	assert_int_equal(sg_begin(&g, &o, sg_buf_write, &b), 0);
	assert_int_equal(sg_pages(&g, pfns, 3, sg_pattern_page, NULL), 0);
	assert_int_equal(sg_end(&g), 0);
	spew(path, b.p, b.len);
	sg_buf_free(&b);
}

/* The config's guest type must be the one the memory image holds. */
static void
test_guest_type(void **state)
{
	struct fx		*f = *state;
	struct mig_image_summary sum;
	struct mig_err		 err;

	typed_image(f->path, "pvh", true);
	assert_int_equal(mig_image_verify(f->path, NULL, 0, &sum, &err), 0);
	assert_string_equal(sum.type, "pvh");
	assert_int_equal(sum.guest_type, MIG_LIBXC_DOM_X86_HVM);
	assert_int_equal(sum.pages, 3);
	typed_image(f->path, "hvm", true);
	assert_int_equal(mig_image_verify(f->path, NULL, 0, &sum, &err), 0);
	assert_string_equal(sum.type, "hvm");
	typed_image(f->path, "pvh", false);
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT,
	    "the config is of a pvh guest, the memory image of an x86 pv one");
	typed_image(f->path, "pv", true);
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT,
	    "the config is of a pv guest, the memory image of an x86 hvm one");
}

/* verify on what stock xl save wrote for a real guest (tests/unit/data). */
static void
real_image(struct fx *f, const char *name, const char *type)
{
	struct mig_image_summary sum;
	struct mig_err		 err;
	struct sg_buf		 b;

	if (fixture_load(name, &b) == -1)
		fail_msg("cannot load %s", name);
	spew(f->path, b.p, b.len);
	sg_buf_free(&b);
	if (mig_image_verify(f->path, NULL, 0, &sum, &err) == -1)
		fail_msg("%s: %s", name, err.msg);
	assert_string_equal(sum.type, type);
	assert_string_equal(sum.name, strcmp(type, "pv") == 0 ? "wpv" : "wpvh");
	assert_false(sum.trailer);
	assert_non_null(strstr(sum.note, "written by xl save"));
}

static void
test_real_images(void **state)
{
	real_image(*state, "pv-xl-save.zst", "pv");
	real_image(*state, "pvh-xl-save.zst", "pvh");
}

static void
test_foreign_and_garbage(void **state)
{
	struct fx	*f = *state;
	struct sg_buf	 file;

	spew(f->path, "#!/bin/sh\necho this is not a domain\n", 36);
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "not an xl save image");
	spew(f->path, "", 0);
	expect_verify(f->path, NULL, 0, MIG_E_TRUNC, "empty");
	expect_verify("/nonexistent/x", NULL, 0, MIG_E_NOTFOUND, "x");
	must_write(f, NULL);
	slurp(f->path, &file);
	assert_int_equal(sg_buf_write(&file, "extra", 5), 0);
	spew(f->path, file.p, file.len);
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "trailing data");
	sg_buf_free(&file);
}

static void
test_key_load(void **state)
{
	struct fx		*f = *state;
	struct mig_image_key	 k;
	struct mig_err		 err;
	char			 path[160], hex[80];
	size_t			 i;

	snprintf(path, sizeof(path), "%s/key", f->dir);
	spew(path, key1.k, 32);
	assert_int_equal(mig_image_key_load(path, &k, &err), 0);
	assert_memory_equal(k.k, key1.k, 32);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02X", key2.k[i]);
	hex[64] = '\n';
	spew(path, hex, 65);
	memset(&k, 0, sizeof(k));
	assert_int_equal(mig_image_key_load(path, &k, &err), 0);
	assert_memory_equal(k.k, key2.k, 32);
	spew(path, "too short\n", 10);
	assert_int_equal(mig_image_key_load(path, &k, &err), -1);
	assert_non_null(strstr(err.msg, "64 hex digits"));
	hex[3] = 'g';
	spew(path, hex, 64);
	assert_int_equal(mig_image_key_load(path, &k, &err), -1);
	unlink(path);
}

/* A temporary name chosen before the file exists (relocd journals it):
 * of the writer's form, reversible, and the file the writer creates. */
static void
test_named_temp(void **state)
{
	struct fx		*f = *state;
	struct mig_image_opts	 o;
	struct mig_image_writer	*w;
	struct mig_err		 err;
	struct stat		 st;
	char			 tmp[256], tmp2[256], back[256], want[160];
	int			 fd;

	assert_int_equal(mig_image_temp_name(f->path, tmp, sizeof(tmp),
	    &err), 0);
	assert_int_equal(mig_image_temp_name(f->path, tmp2, sizeof(tmp2),
	    &err), 0);
	assert_string_not_equal(tmp, tmp2);
	snprintf(want, sizeof(want), "%s/.dom.save.", f->dir);
	assert_int_equal(strncmp(tmp, want, strlen(want)), 0);
	assert_int_equal(strlen(tmp), strlen(want) + 6);
	assert_int_equal(mig_image_temp_target(tmp, back, sizeof(back)), 0);
	assert_string_equal(back, f->path);
	assert_int_equal(mig_image_temp_target("/x/.a.b.Q1w2E3", back,
	    sizeof(back)), 0);
	assert_string_equal(back, "/x/a.b");
	assert_int_equal(mig_image_temp_target(".a.Q1w2E3", back,
	    sizeof(back)), 0);
	assert_string_equal(back, "a");
	/* not of the form: never taken for a temporary file */
	assert_int_equal(mig_image_temp_target("/etc/passwd", back,
	    sizeof(back)), -1);
	assert_int_equal(mig_image_temp_target("/x/a.Q1w2E3", back,
	    sizeof(back)), -1);
	assert_int_equal(mig_image_temp_target("/x/..Q1w2E3", back,
	    sizeof(back)), -1);
	assert_int_equal(mig_image_temp_target("/x/.a.Q1w2E", back,
	    sizeof(back)), -1);
	assert_int_equal(mig_image_temp_target("/x/.a.Q1w2E/", back,
	    sizeof(back)), -1);
	assert_int_equal(mig_image_temp_target("/x/.a.Q1-2E3", back,
	    sizeof(back)), -1);
	assert_int_equal(mig_image_temp_name("/x/", tmp2, sizeof(tmp2),
	    &err), -1);
	assert_int_equal(mig_image_temp_name(f->path, tmp2, 8, &err), -1);

	/* The writer creates exactly that file, and publishes it. */
	memset(&o, 0, sizeof(o));
	o.tmp_path = tmp;
	assert_non_null(w = mig_image_writer_open(f->path, CONFIG,
	    strlen(CONFIG), &o, &err));
	assert_int_equal(stat(tmp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	mig_image_writer_abort(w);
	assert_int_equal(stat(tmp, &st), -1);
	if (write_image(f, f->path, &o, f->stream.len, &err) != 0)
		fail_msg("write: %s", err.msg);
	assert_int_equal(stat(tmp, &st), -1);
	assert_int_equal(mig_image_verify(f->path, NULL, 0, NULL, &err), 0);
	/* A name someone else has is never written over, nor removed. */
	assert_true((fd = open(tmp, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_null(mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), &o,
	    &err));
	assert_int_equal(err.code, MIG_E_IO);
	assert_int_equal(stat(tmp, &st), 0);
	assert_int_equal(st.st_size, 1);
}

/* Writes buf back to path with its trailer resealed over the new bytes:
 * what anyone can do to an image, keyless.  The trailer's version names
 * its digest (1 SHA-256, 2 XXH3-128). */
static void
reseal(const char *path, struct sg_buf *b)
{
	XXH128_canonical_t	c;
	uint8_t			*t = b->p + b->len - TRAILER;
	unsigned int		mdlen;
	int			fd;

	assert_true(b->len > TRAILER);
	if (t[11] == 2) {
		XXH128_canonicalFromHash(&c, XXH3_128bits(b->p,
		    b->len - TRAILER));
		memcpy(t + 24, c.digest, sizeof(c.digest));
	} else
		assert_int_equal(EVP_Digest(b->p, b->len - TRAILER, t + 24,
		    &mdlen, EVP_sha256(), NULL), 1);
	assert_true((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) >= 0);
	assert_int_equal(write(fd, b->p, b->len), (ssize_t)b->len);
	close(fd);
}

/* With a key, only an encrypted image is accepted: a plaintext image
 * put in the place of an encrypted one is refused, not restored. */
static void
test_key_implies_encrypted(void **state)
{
	struct fx		*f = *state;
	struct mig_image_summary sum;
	struct mig_err		 err;

	must_write(f, NULL);
	assert_int_equal(mig_image_verify(f->path, NULL, 0, &sum, &err), 0);
	assert_int_equal(mig_image_verify(f->path, &key1, 0, &sum, &err), -1);
	assert_int_equal(err.code, MIG_E_DENIED);
	assert_non_null(strstr(err.msg, "not encrypted, but a key was given"));
	must_write_z(f, NULL, true);		/* compressed, not encrypted */
	assert_int_equal(mig_image_verify(f->path, &key1, 0, &sum, &err), -1);
	assert_non_null(strstr(err.msg, "not encrypted, but a key was given"));
}

/* The clear header of an encrypted image (xl header, chunk parameters)
 * is authenticated: changed and resealed, it fails as a wrong key does. */
static void
test_header_authenticated(void **state)
{
	struct fx		*f = *state;
	struct sg_buf		 file;
	struct mig_image_summary sum;
	struct mig_err		 err;

	must_write(f, &key1);
	slurp(f->path, &file);
	file.p[91] ^= 0x01;		/* the chunk parameters' digest word */
	reseal(f->path, &file);
	assert_int_equal(mig_image_verify(f->path, &key1, 0, &sum, &err), -1);
	assert_non_null(strstr(err.msg, "wrong key or corrupted image"));
	file.p[91] ^= 0x01;
	reseal(f->path, &file);
	assert_int_equal(mig_image_verify(f->path, &key1, 0, &sum, &err), 0);
	sg_buf_free(&file);
}

/* A seed of the image fuzzer, an image made by an older release. */
static void
verify_seed(const char *name, const struct mig_image_key *key,
    struct mig_image_summary *sum)
{
	struct mig_err	 err;
	char		 path[512];
	const char	*srcdir = getenv("srcdir");

	snprintf(path, sizeof(path), "%s/tests/fuzz/seeds/fuzz_image/%s",
	    srcdir != NULL ? srcdir : ".", name);
	if (mig_image_verify(path, key, 0, sum, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	assert_true(sum->trailer);
	assert_int_equal(sum->digest, MIG_IMAGE_DIGEST_SHA256);
}

/* An encrypted image of the first format (chunk parameters version 1,
 * header outside the AAD), made before this change, still reads. */
static void
test_old_encrypted_image(void **state)
{
	static const struct mig_image_key fuzzkey = { { 0x42 } };
	struct mig_image_summary	sum;

	(void)state;
	verify_seed("encrypted", &fuzzkey, &sum);
	assert_true(sum.encrypted);
}

/* SHA-256 on request: the format images had before XXH3, byte for byte
 * (optional flags, trailer version 1), and read as before. */
static void
test_digest_sha256(void **state)
{
	struct fx		*f = *state;
	struct mig_image_opts	 o = { .digest = MIG_IMAGE_DIGEST_SHA256 };
	struct mig_image_summary sum;
	struct mig_err		 err;
	struct sg_buf		 file;
	struct wire_rd		 r;
	struct stat		 st;

	if (write_image(f, f->path, &o, f->stream.len, &err) != 0)
		fail_msg("write: %s", err.msg);
	slurp(f->path, &file);
	wire_rd_init(&r, file.p + 40, 4);
	assert_int_equal(wire_get_le32(&r), MIG_XL_OPT_TRAILER);
	assert_int_equal(file.p[file.len - TRAILER + 11], 1);
	sg_buf_free(&file);
	assert_int_equal(mig_image_verify(f->path, NULL, 0, &sum, &err), 0);
	assert_int_equal(sum.digest, MIG_IMAGE_DIGEST_SHA256);
	assert_int_equal(stat(f->path, &st), 0);
	flip(f->path, st.st_size / 2);
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "SHA-256 mismatch");

	/* The default: XXH3, unless encrypted. */
	must_write(f, NULL);
	assert_int_equal(mig_image_verify(f->path, NULL, 0, &sum, &err), 0);
	assert_int_equal(sum.digest, MIG_IMAGE_DIGEST_XXH3);
	must_write_z(f, NULL, true);
	assert_int_equal(mig_image_verify(f->path, NULL, 0, &sum, &err), 0);
	assert_int_equal(sum.digest, MIG_IMAGE_DIGEST_XXH3);
	must_write(f, &key1);
	assert_int_equal(mig_image_verify(f->path, &key1, 0, &sum, &err), 0);
	assert_int_equal(sum.digest, MIG_IMAGE_DIGEST_SHA256);
}

/* The header names the digest and the trailer's version must agree: a
 * flag lost or gained is caught, even with the trailer resealed. */
static void
test_digest_mismatch(void **state)
{
	struct fx	*f = *state;
	struct sg_buf	 file;

	must_write(f, NULL);
	slurp(f->path, &file);
	file.p[43] ^= 0x40;		/* MIG_XL_OPT_XXH3, little-endian */
	reseal(f->path, &file);
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "another digest");
	sg_buf_free(&file);

	must_write_z(f, NULL, true);
	slurp(f->path, &file);
	file.p[91] ^= 0x01;		/* chunk parameters: digest */
	reseal(f->path, &file);
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "another digest");
	file.p[91] ^= 0x03;		/* an unknown digest */
	reseal(f->path, &file);
	expect_verify(f->path, NULL, 0, MIG_E_NOTSUP, "digest 3");
	sg_buf_free(&file);
}

/* An image of ours from before the trailer flag (optional flags 0, a
 * SHA-256 trailer) is digested once its trailer shows up, and checked. */
static void
test_flagless_trailer(void **state)
{
	struct fx		*f = *state;
	struct mig_image_opts	 o = { .digest = MIG_IMAGE_DIGEST_SHA256 };
	struct mig_image_summary sum;
	struct mig_err		 err;
	struct sg_buf		 file;

	if (write_image(f, f->path, &o, f->stream.len, &err) != 0)
		fail_msg("write: %s", err.msg);
	slurp(f->path, &file);
	file.p[43] = 0;			/* no optional flags */
	reseal(f->path, &file);
	if (mig_image_verify(f->path, NULL, 0, &sum, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(sum.trailer);
	assert_int_equal(sum.digest, MIG_IMAGE_DIGEST_SHA256);
	file.p[file.len / 2] ^= 0x10;
	spew(f->path, file.p, file.len);
	expect_verify(f->path, NULL, 0, MIG_E_CORRUPT, "SHA-256 mismatch");
	sg_buf_free(&file);
}

/* An image written before XXH3 (SHA-256 trailer, version 1) reads. */
static void
test_old_plain_image(void **state)
{
	struct mig_image_summary	sum;

	(void)state;
	verify_seed("plain", NULL, &sum);
	assert_false(sum.encrypted);
}

/* libxl-save-helper, for the follower: the stream in small uneven
 * pieces, yielding between them, so the follower catches up, waits and
 * is woken many times before the end is known. */
struct dribble {
	int		 fd;
	const uint8_t	*p;
	size_t		 len;
};

static void *
dribble_main(void *arg)
{
	struct dribble	*d = arg;
	size_t		 off, n, i = 0;

	for (off = 0; off < d->len; off += n, i++) {
		n = 1 + (i * 7919) % 20000;
		if (n > d->len - off)
			n = d->len - off;
		if (sg_fd_write(&d->fd, d->p + off, n) == -1)
			return d;
		sched_yield();
	}
	return NULL;
}

static void
follow_write(struct fx *f, int fd, size_t len)
{
	struct dribble	 d = { fd, f->stream.p, len };
	pthread_t	 t;
	void		*rv;

	assert_int_equal(pthread_create(&t, NULL, dribble_main, &d), 0);
	assert_int_equal(pthread_join(t, &rv), 0);
	assert_null(rv);
}

/* A direct save of the whole fixture stream, written at once or dribbled
 * from another thread: the fd is given out once, the writer takes no
 * bytes itself, and the image is ref byte for byte. */
static void
direct_save(struct fx *f, bool dribbled, const struct sg_buf *ref)
{
	struct mig_image_writer	*w;
	struct mig_err		 err;
	uint64_t		 bytes;
	int			 fd;

	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), NULL, &err);
	assert_non_null(w);
	assert_true((fd = mig_image_writer_stream_fd(w)) >= 0);
	assert_int_equal(mig_image_writer_stream_fd(w), -1);
	assert_int_equal(mig_image_writer_write(w, "x", 1, &err), -1);
	if (dribbled)
		follow_write(f, fd, f->stream.len);
	else
		assert_int_equal(sg_fd_write(&fd, f->stream.p, f->stream.len),
		    0);
	assert_int_equal(mig_image_writer_stream_done(w, &bytes, &err), 0);
	assert_int_equal(bytes, f->stream.len);
	assert_int_equal(mig_image_writer_commit(w, &err), 0);
	assert_only_image_bytes(f, ref);
}

/* libxl writing into the image's file itself, as into xl save's: the
 * same file as through mig_image_writer_write(), and a stream it would
 * not have taken is not committed either. */
static void
test_stream_fd(void **state)
{
	struct fx		*f = *state;
	struct mig_image_writer	*w;
	struct mig_image_opts	 z = { .compress = true };
	struct mig_err		 err;
	struct sg_buf		 ref, got;
	struct rlimit		 old, lim;
	uint64_t		 bytes;
	int			 fd;

	must_write(f, NULL);
	slurp(f->path, &ref);
	assert_int_equal(unlink(f->path), 0);
	direct_save(f, false, &ref);
	read_back(f, NULL);

	/* Cut short: refused at the commit, the old image untouched. */
	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), NULL, &err);
	assert_non_null(w);
	assert_true((fd = mig_image_writer_stream_fd(w)) >= 0);
	assert_int_equal(sg_fd_write(&fd, f->stream.p, f->stream.len / 2), 0);
	assert_int_equal(mig_image_writer_stream_done(w, &bytes, &err), 0);
	assert_int_equal(mig_image_writer_commit(w, &err), -1);
	assert_non_null(strstr(err.msg, "incomplete stream"));
	mig_image_writer_abort(w);
	slurp(f->path, &got);
	assert_memory_equal(got.p, ref.p, ref.len);
	sg_buf_free(&got);

	/* Never committed without its read-back; a probe of a healthy
	 * file finds room. */
	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), NULL, &err);
	assert_true((fd = mig_image_writer_stream_fd(w)) >= 0);
	assert_int_equal(mig_image_writer_probe(w, &err), 0);
	assert_int_equal(mig_image_writer_commit(w, &err), -1);
	assert_non_null(strstr(err.msg, "not read back"));
	mig_image_writer_abort(w);
	sg_buf_free(&ref);

	/* A file that cannot grow (here: past RLIMIT_FSIZE, as a full
	 * disk) is named by the probe: libxl's failure is its echo. */
	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), NULL, &err);
	assert_true((fd = mig_image_writer_stream_fd(w)) >= 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1 << 20;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(mig_image_writer_probe(w, &err), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_non_null(strstr(err.msg, "write failed"));
	assert_non_null(strstr(err.msg, "File too large"));
	mig_image_writer_abort(w);

	/* A compressed image needs every byte in the writer's hands. */
	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), &z, &err);
	assert_non_null(w);
	assert_int_equal(mig_image_writer_stream_fd(w), -1);
	mig_image_writer_abort(w);
}

/* The stream read back while libxl writes it: the same image as the
 * copying path's whatever the interleaving; a stream cut short, one the
 * parser refuses mid-way, and a save libxl failed are never published,
 * and leave nothing behind. */
static void
test_stream_follow(void **state)
{
	struct fx		*f = *state;
	struct mig_image_writer	*w;
	struct mig_err		 err;
	struct sg_buf		 ref, bad;
	cpu_set_t		 cpus, one;
	uint64_t		 bytes;
	int			 fd, i;

	must_write(f, NULL);
	slurp(f->path, &ref);
	for (i = 0; i < 3; i++)
		direct_save(f, true, &ref);
	read_back(f, NULL);

	/* On one CPU there is no follower: the pass comes after libxl,
	 * the image the same. */
	assert_int_equal(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	direct_save(f, true, &ref);
	assert_int_equal(sched_setaffinity(0, sizeof(cpus), &cpus), 0);

	/* Ends early, mid-record: the follower waits for more until
	 * libxl returns, then the commit finds no END. */
	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), NULL, &err);
	assert_true((fd = mig_image_writer_stream_fd(w)) >= 0);
	follow_write(f, fd, f->stream.len / 3 + 5);
	assert_int_equal(mig_image_writer_stream_done(w, &bytes, &err), 0);
	assert_int_equal(mig_image_writer_commit(w, &err), -1);
	assert_non_null(strstr(err.msg, "incomplete stream"));
	mig_image_writer_abort(w);
	assert_only_image_bytes(f, &ref);

	/* A record header damaged mid-stream: the follower stops there
	 * and the end reports the parser's reason. */
	bad.len = f->stream.len;
	bad.p = malloc(bad.len);
	assert_non_null(bad.p);
	memcpy(bad.p, f->stream.p, bad.len);
	memset(bad.p + 32, 0xff, 8);	/* the first record's type, length */
	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), NULL, &err);
	assert_true((fd = mig_image_writer_stream_fd(w)) >= 0);
	assert_int_equal(sg_fd_write(&fd, bad.p, bad.len), 0);
	assert_int_equal(mig_image_writer_stream_done(w, &bytes, &err), -1);
	assert_non_null(strstr(err.msg, f->path));
	assert_int_equal(mig_image_writer_commit(w, &err), -1);
	mig_image_writer_abort(w);
	free(bad.p);
	assert_only_image_bytes(f, &ref);

	/* libxl failed half way (the writer's error): the probe stops the
	 * follower, the abort removes the file. */
	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), NULL, &err);
	assert_true((fd = mig_image_writer_stream_fd(w)) >= 0);
	follow_write(f, fd, f->stream.len / 2);
	assert_int_equal(mig_image_writer_probe(w, &err), 0);
	assert_int_equal(mig_image_writer_stream_done(w, &bytes, &err), -1);
	mig_image_writer_abort(w);
	assert_only_image_bytes(f, &ref);

	/* Aborted while the follower waits for more. */
	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), NULL, &err);
	assert_true((fd = mig_image_writer_stream_fd(w)) >= 0);
	follow_write(f, fd, 4096);
	sched_yield();
	mig_image_writer_abort(w);
	assert_only_image_bytes(f, &ref);

	/* Written out of sequence (a seek back): never vouched for. */
	w = mig_image_writer_open(f->path, CONFIG, strlen(CONFIG), NULL, &err);
	assert_true((fd = mig_image_writer_stream_fd(w)) >= 0);
	assert_int_equal(sg_fd_write(&fd, f->stream.p, f->stream.len), 0);
	assert_true(lseek(fd, -4096, SEEK_CUR) > 0);
	assert_int_equal(mig_image_writer_stream_done(w, &bytes, &err), -1);
	assert_non_null(strstr(err.msg, "not written in one sequence"));
	mig_image_writer_abort(w);
	assert_only_image_bytes(f, &ref);
	sg_buf_free(&ref);
}

/* libxxhash's vector code and the scalar build (the faster under TCG)
 * write the same image and each reads the other's: the trailer holds
 * XXH3-128 of what precedes it, whichever ran. */
static void
test_xxh3_both(void **state)
{
	struct fx		*f = *state;
	struct sg_buf		 a, b;
	XXH128_canonical_t	 c;

	assert_int_equal(setenv("MIG_XXH3", "scalar", 1), 0);
	must_write(f, NULL);
	slurp(f->path, &a);
	assert_int_equal(setenv("MIG_XXH3", "vector", 1), 0);
	read_back(f, NULL);
	must_write(f, NULL);
	slurp(f->path, &b);
	assert_int_equal(setenv("MIG_XXH3", "scalar", 1), 0);
	read_back(f, NULL);
	assert_int_equal(unsetenv("MIG_XXH3"), 0);
	read_back(f, NULL);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.p, b.p, a.len);
	XXH128_canonicalFromHash(&c, XXH3_128bits(a.p, a.len - TRAILER));
	assert_memory_equal(a.p + a.len - TRAILER + 24, c.digest,
	    sizeof(c.digest));
	sg_buf_free(&a);
	sg_buf_free(&b);
}

/* A restore hands libxl the image's own file at its stream, while the
 * reader checks the whole image. */
static void
test_reader_stream_fd(void **state)
{
	struct fx		*f = *state;
	struct mig_image_reader	*r;
	struct mig_err		 err;
	struct sg_buf		 got = { 0 };
	uint8_t			 buf[65536];
	ssize_t			 n;
	int			 fd;

	must_write(f, NULL);
	r = mig_image_reader_open(f->path, NULL, 0, &err);
	assert_non_null(r);
	mig_clearerr(&err);
	assert_true((fd = mig_image_reader_stream_fd(r, &err)) >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		assert_int_equal(sg_buf_write(&got, buf, (size_t)n), 0);
	close(fd);
	/* The stream, then the trailer, which libxl never reads. */
	assert_int_equal(got.len, f->stream.len + TRAILER);
	assert_memory_equal(got.p, f->stream.p, f->stream.len);
	sg_buf_free(&got);
	assert_int_equal(mig_image_reader_verify_end(r, &err), 0);
	assert_int_equal(mig_image_reader_verify_end(r, &err), 0);
	mig_image_reader_close(r);

	must_write_z(f, NULL, true);
	r = mig_image_reader_open(f->path, NULL, 0, &err);
	assert_non_null(r);
	mig_clearerr(&err);
	assert_int_equal(mig_image_reader_stream_fd(r, &err), -1);
	assert_int_equal(err.code, MIG_OK);
	mig_image_reader_close(r);
}

/* ---- split images ---- */

#define PART_HDR	48
#define SPLIT		(1024 * 1024)

static void
part_path(const struct fx *f, unsigned n, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%03u", f->path, n);
}

/* The files in the fixture's directory, as "a b c" in name order. */
static void
dir_list(const struct fx *f, char *out, size_t len)
{
	struct dirent	**ents;
	int		  n, i;

	out[0] = '\0';
	assert_true((n = scandir(f->dir, &ents, NULL, alphasort)) >= 0);
	for (i = 0; i < n; i++) {
		/* temporary files (.dom.save.XXXXXX...) count */
		if (strcmp(ents[i]->d_name, ".") != 0 &&
		    strcmp(ents[i]->d_name, "..") != 0)
			snprintf(out + strlen(out), len - strlen(out), "%s%s",
			    out[0] ? " " : "", ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
}

static void
must_write_split(struct fx *f, const struct mig_image_key *key,
    uint64_t split)
{
	struct mig_image_opts	o = { .key = key, .split = split };
	struct mig_err		err;

	if (write_image(f, f->path, &o, f->stream.len, &err) != 0)
		fail_msg("write: %s", err.msg);
}

/*
 * The parts' slices are the one-file image byte for byte (so joining
 * them gives an image stock xl restores), and the reader takes NAME and
 * NAME.000 alike.
 */
static void
test_split_roundtrip(void **state)
{
	struct fx			*f = *state;
	struct mig_image_summary	 sum;
	struct mig_err			 err;
	struct sg_buf			 one, part, joined = { 0 };
	char				 name[256], list[512], want[512];
	unsigned			 n;

	must_write(f, NULL);
	slurp(f->path, &one);
	unlink(f->path);
	must_write_split(f, NULL, SPLIT);
	dir_list(f, list, sizeof(list));
	assert_string_equal(list, "dom.save.000 dom.save.001 dom.save.002");
	for (n = 0; n < 3; n++) {
		part_path(f, n, name, sizeof(name));
		slurp(name, &part);
		assert_memory_equal(part.p, "XRELOCPT", 8);
		assert_int_equal(part.len - PART_HDR, n < 2 ? SPLIT :
		    one.len - 2 * SPLIT);
		assert_int_equal(sg_buf_write(&joined, part.p + PART_HDR,
		    part.len - PART_HDR), 0);
		sg_buf_free(&part);
	}
	assert_int_equal(joined.len, one.len);
	assert_memory_equal(joined.p, one.p, one.len);
	read_back(f, NULL);
	part_path(f, 0, name, sizeof(name));
	if (mig_image_verify(name, NULL, MIG_IMAGE_REQUIRE_TRAILER, &sum,
	    &err) != 0)
		fail_msg("verify %s: %s", name, err.msg);
	assert_int_equal(sum.parts, 3);
	assert_int_equal(sum.file_bytes, one.len);
	/* encrypted and compressed, in parts smaller than a chunk */
	must_write_split(f, &key1, 300000);
	read_back(f, &key1);
	dir_list(f, list, sizeof(list));
	snprintf(want, sizeof(want), "dom.save.000 dom.save.001 "
	    "dom.save.002 dom.save.003 dom.save.004 dom.save.005 "
	    "dom.save.006 dom.save.007 dom.save.008");
	assert_string_equal(list, want);
	sg_buf_free(&one);
	sg_buf_free(&joined);
}

static void
move(const char *from, const char *to)
{
	assert_int_equal(rename(from, to), 0);
}

/* Each damage to a set is named, before a byte of it is used. */
static void
test_split_damage(void **state)
{
	struct fx	*f = *state;
	struct mig_err	 err;
	char		 p0[256], p1[256], p2[256], p3[256], tmp[256];
	char		 want[600];
	struct sg_buf	 b;

	must_write_split(f, NULL, SPLIT);
	part_path(f, 0, p0, sizeof(p0));
	part_path(f, 1, p1, sizeof(p1));
	part_path(f, 2, p2, sizeof(p2));
	part_path(f, 3, p3, sizeof(p3));
	snprintf(tmp, sizeof(tmp), "%s/elsewhere", f->dir);

	/* missing: a middle part, the last part, the first */
	move(p1, tmp);
	snprintf(want, sizeof(want), "part %s is missing (%s is not the "
	    "last part)", p1, p0);
	expect_verify_fwd(f->path, NULL, want);
	move(tmp, p1);
	move(p2, tmp);
	expect_verify_fwd(f->path, NULL, "dom.save.002 is missing");
	move(tmp, p2);
	move(p0, tmp);
	expect_verify_fwd(f->path, NULL, "No such file or directory");
	move(tmp, p0);
	/* reordered */
	move(p1, tmp);
	move(p2, p1);
	move(tmp, p2);
	expect_verify_fwd(f->path, NULL, "dom.save.001 holds part 2, not 1: "
	    "parts renamed or out of order");
	move(p1, tmp);
	move(p2, p1);
	move(tmp, p2);
	/* truncated, too long */
	assert_int_equal(truncate(p1, PART_HDR + SPLIT - 1), 0);
	expect_verify_fwd(f->path, NULL, "dom.save.001 is truncated: 1048623 "
	    "bytes, its header says 1048624");
	assert_int_equal(truncate(p1, PART_HDR + SPLIT + 1), 0);
	expect_verify_fwd(f->path, NULL, "dom.save.001 is too long");
	assert_int_equal(truncate(p1, 20), 0);
	expect_verify_fwd(f->path, NULL, "dom.save.001 is truncated (in its "
	    "part header)");
	/* a part of another save of the same size */
	slurp(p0, &b);
	must_write_split(f, NULL, SPLIT);
	spew(p0, b.p, b.len);
	sg_buf_free(&b);
	expect_verify_fwd(f->path, NULL, "dom.save.001 belongs to another "
	    "save");
	/* extra */
	must_write_split(f, NULL, SPLIT);
	slurp(p2, &b);
	spew(p3, b.p, b.len);
	sg_buf_free(&b);
	snprintf(want, sizeof(want), "part %s is the last, but %s follows "
	    "it", p2, p3);
	expect_verify_fwd(f->path, NULL, want);
	unlink(p3);
	/* only the first part starts an image */
	expect_verify_fwd(p1, NULL, "is a part of a split image, not its "
	    "first (NAME.000)");
	assert_int_equal(mig_image_verify(f->path, NULL, 0, NULL, &err), 0);
}

/*
 * A save replaces what the name held, whatever its form; a failed one
 * leaves it and no temporary part behind.
 */
static void
test_split_replaces(void **state)
{
	struct fx		*f = *state;
	struct mig_image_opts	 o = { .split = SPLIT };
	struct mig_err		 err;
	char			 list[512], other[256];

	spew(f->path, "old image", 9);
	snprintf(other, sizeof(other), "%s.005", f->path);
	spew(other, "not a part", 10);
	must_write_split(f, NULL, SPLIT);
	dir_list(f, list, sizeof(list));
	assert_string_equal(list, "dom.save.000 dom.save.001 dom.save.002 "
	    "dom.save.005");
	/* fewer, larger parts: the third goes */
	must_write_split(f, NULL, 2 * SPLIT);
	dir_list(f, list, sizeof(list));
	assert_string_equal(list, "dom.save.000 dom.save.001 dom.save.005");
	read_back(f, NULL);
	/* a failure in the second part: the set as it was, nothing else */
	o.write_fn = short_write;
	budget = SPLIT + 5000;
	assert_int_equal(write_image(f, f->path, &o, f->stream.len, &err), -1);
	assert_non_null(strstr(err.msg, "No space left on device"));
	dir_list(f, list, sizeof(list));
	assert_string_equal(list, "dom.save.000 dom.save.001 dom.save.005");
	read_back(f, NULL);
	/* one file again: the parts go, the stranger stays */
	must_write(f, NULL);
	dir_list(f, list, sizeof(list));
	assert_string_equal(list, "dom.save dom.save.005");
	read_back(f, NULL);
	/* parts too small, or more of them than may be (4.5 MB in 4 KiB) */
	o.write_fn = NULL;
	o.split = 4095;
	assert_int_equal(write_image(f, f->path, &o, f->stream.len, &err), -1);
	assert_non_null(strstr(err.msg, "parts of at least 4096 bytes"));
	sg_buf_free(&f->stream);
	gen_stream(&f->stream, false, 1100);
	o.split = 4096;
	assert_int_equal(write_image(f, f->path, &o, f->stream.len, &err), -1);
	assert_non_null(strstr(err.msg, "more than 1000 parts"));
	dir_list(f, list, sizeof(list));
	assert_string_equal(list, "dom.save dom.save.005");
}

/* A network file system's errors: at close (NFS writes back what is
 * left and reports it there), a stale handle, a directory not synced. */
static int
eio_close(int fd)
{
	close(fd);
	errno = EIO;
	return -1;
}

static ssize_t
stale_write(int fd, const void *p, size_t len)
{
	(void)fd;
	(void)p;
	(void)len;
	errno = ESTALE;
	return -1;
}

static int
dir_fsync_fails(int fd)
{
	struct stat	st;

	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return fsync(fd);
}

static void
test_network_fs_errors(void **state)
{
	struct fx		*f = *state;
	struct mig_image_opts	 o = { .close_fn = eio_close };
	struct mig_err		 err;
	char			 list[256];

	spew(f->path, "old image", 9);
	assert_int_equal(write_image(f, f->path, &o, f->stream.len, &err), -1);
	assert_int_equal(err.code, MIG_E_IO);
	assert_non_null(strstr(err.msg, "close failed (writing back its "
	    "data) on "));
	assert_non_null(strstr(err.msg, ": Input/output error"));
	assert_only_image(f, "old image");
	o.close_fn = NULL;
	o.write_fn = stale_write;
	assert_int_equal(write_image(f, f->path, &o, f->stream.len, &err), -1);
	assert_non_null(strstr(err.msg, "write failed on "));
	assert_non_null(strstr(err.msg, ": Stale file handle (the file or its "
	    "directory was removed or re-exported on the server)"));
	assert_only_image(f, "old image");
	/* Renamed into place, its directory not synced: the save failed,
	 * so no image may stay (the old one was replaced by the rename). */
	o.write_fn = NULL;
	o.fsync_fn = dir_fsync_fails;
	assert_int_equal(write_image(f, f->path, &o, f->stream.len, &err), -1);
	assert_non_null(strstr(err.msg, "syncing its directory failed"));
	dir_list(f, list, sizeof(list));
	assert_string_equal(list, "");
	o.split = 1024 * 1024;	/* in parts: all of them go */
	assert_int_equal(write_image(f, f->path, &o, f->stream.len, &err), -1);
	dir_list(f, list, sizeof(list));
	assert_string_equal(list, "");
	assert_string_equal(mig_fs_name(0x6969), "nfs");
	assert_string_equal(mig_fs_name(0x1234), "a file system");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_plain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_named_temp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_encrypted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_compressed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_roundtrip_compressed_encrypted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stock_xl_skipped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_digest_sha256, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_digest_mismatch, setup,
		    teardown),
		cmocka_unit_test(test_old_plain_image),
		cmocka_unit_test_setup_teardown(test_flagless_trailer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stream_fd, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stream_follow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_xxh3_both, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reader_stream_fd, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enospc_keeps_old, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_network_fs_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_stream_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stock_xl_image, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_guest_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_real_images, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_foreign_and_garbage,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_implies_encrypted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_authenticated,
		    setup, teardown),
		cmocka_unit_test(test_old_encrypted_image),
		cmocka_unit_test_setup_teardown(test_split_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_split_damage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_split_replaces, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
