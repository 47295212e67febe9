/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A simulated domain's memory: HOSTDIR/mem.DOMID, one 4 KiB page after
 * another.  A new domain's pages each start with their pfn and the
 * domain's uuid, so that two domains never have the same memory and a
 * page sent to the wrong pfn changes the checksum.  The guest "writes"
 * a page by bumping a counter in it.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sim.h"

#define COUNTER_OFF	16
#define FILL_CHUNK	64	/* pages per write when filling */

const char *
sim_mem_path(const char *dir, uint32_t domid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/mem.%" PRIu32, dir, domid);
	return buf;
}

static int
fill(int fd, const struct hv_sim_dom *d, uint64_t npages)
{
	uint8_t		*buf;
	uint64_t	 pfn, i, k;
	int		 rc = 0;

	if ((buf = calloc(FILL_CHUNK, SIM_PAGE)) == NULL)
		return -1;
	for (pfn = 0; pfn < npages && rc == 0; pfn += k) {
		k = npages - pfn < FILL_CHUNK ? npages - pfn : FILL_CHUNK;
		for (i = 0; i < k; i++) {
			memcpy(buf + i * SIM_PAGE, &(uint64_t){ pfn + i }, 8);
			memcpy(buf + i * SIM_PAGE + 8, d->uuid, 8);
		}
		if (pwrite(fd, buf, k * SIM_PAGE, (off_t)(pfn * SIM_PAGE)) !=
		    (ssize_t)(k * SIM_PAGE))
			rc = -1;
	}
	free(buf);
	return rc;
}

int
sim_mem_create(const char *dir, const struct hv_sim_dom *d, int pattern,
    struct mig_err *err)
{
	char		path[PATH_MAX];
	uint64_t	npages = d->mem_kib / (SIM_PAGE / 1024);
	int		fd;

	sim_mem_path(dir, d->domid, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	if (ftruncate(fd, (off_t)(npages * SIM_PAGE)) == -1 ||
	    (pattern && fill(fd, d, npages) == -1)) {
		mig_seterrno(err, MIG_E_IO, "memory of domain %" PRIu32,
		    d->domid);
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

int
sim_mem_open(const char *dir, uint32_t domid, struct mig_err *err)
{
	char	path[PATH_MAX];
	int	fd;

	sim_mem_path(dir, domid, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return mig_seterrno(err, errno == ENOENT ? MIG_E_NOTFOUND :
		    MIG_E_IO, "memory of domain %" PRIu32, domid);
	return fd;
}

void
sim_mem_unlink(const char *dir, uint32_t domid)
{
	char	path[PATH_MAX];

	(void)unlink(sim_mem_path(dir, domid, path, sizeof(path)));
}

int
sim_mem_read(int fd, uint64_t pfn, uint8_t *page)
{
	return pread(fd, page, SIM_PAGE, (off_t)(pfn * SIM_PAGE)) ==
	    SIM_PAGE ? 0 : -1;
}

int
sim_mem_write(int fd, uint64_t pfn, const uint8_t *page)
{
	return pwrite(fd, page, SIM_PAGE, (off_t)(pfn * SIM_PAGE)) ==
	    SIM_PAGE ? 0 : -1;
}

int
sim_mem_touch(int fd, uint64_t pfn)
{
	uint64_t	c;
	off_t		off = (off_t)(pfn * SIM_PAGE + COUNTER_OFF);

	if (pread(fd, &c, sizeof(c), off) != sizeof(c))
		return -1;
	c++;
	return pwrite(fd, &c, sizeof(c), off) == sizeof(c) ? 0 : -1;
}

int
sim_mem_sha256(const char *dir, uint32_t domid, char hex[65],
    struct mig_err *err)
{
	EVP_MD_CTX	*md;
	uint8_t		 buf[65536], dig[32];
	unsigned int	 dlen = 0;
	ssize_t		 n;
	int		 fd, i, rc = -1;

	if ((fd = sim_mem_open(dir, domid, err)) == -1)
		return -1;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		mig_seterr(err, MIG_E_NOMEM, "sha256");
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)n);
	if (n == -1) {
		mig_seterrno(err, MIG_E_IO, "memory of domain %" PRIu32,
		    domid);
		goto out;
	}
	EVP_DigestFinal_ex(md, dig, &dlen);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	close(fd);
	return rc;
}
