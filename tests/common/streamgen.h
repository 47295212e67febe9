/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes real-format Xen save streams (xl header, libxl v2 stream, libxc
 * v3 image of an x86_64 PV or HVM-type guest) for tests and the simulated
 * host.  The layout follows what libxl/libxc 4.17 write for a PV domain:
 *
 *   [xl header + config]  LibxlFmt header  LIBXC_CONTEXT
 *   libxc image header, domain header (PV, page shift 12)
 *   X86_PV_INFO  X86_CPUID_POLICY  X86_MSR_POLICY  STATIC_DATA_END
 *   X86_PV_P2M_FRAMES                                    <- sg_begin
 *   PAGE_DATA ... (one call per round, <= 1024 pfns a record) <- sg_pages
 *   X86_TSC_INFO  SHARED_INFO  per vcpu: BASIC EXTENDED XSAVE MSRS
 *   libxc END  libxl END                                 <- sg_end
 *
 * and for a PVH domain (libxc saves PVH and HVM alike, as x86 HVM; checked
 * against a real stream in tests/unit/data):
 *
 *   ... domain header (HVM)  X86_CPUID_POLICY  X86_MSR_POLICY
 *   STATIC_DATA_END                                      <- sg_begin
 *   PAGE_DATA ...                                        <- sg_pages
 *   X86_TSC_INFO  HVM_CONTEXT  HVM_PARAMS  libxc END  libxl END <- sg_end
 *
 * An HVM domain's device model adds, between libxc's END and libxl's,
 * EMULATOR_XENSTORE_DATA and EMULATOR_CONTEXT (libxl's order; no real
 * HVM stream could be captured in the lab to check it against).
 */
#ifndef STREAMGEN_H
#define STREAMGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returns 0 when all of buf was written, -1 otherwise. */
typedef int	(*sg_write_fn)(void *, const void *, size_t);
/* Fills the 4 KiB page of pfn. */
typedef void	(*sg_page_fn)(void *, uint64_t, uint8_t *);

struct sg_opts {
	bool		 no_xl_header;	/* start with "LibxlFmt" */
	const char	*config;	/* config JSON or NULL */
	size_t		 config_len;	/* as xl counts it: with the NUL */
	unsigned	 nr_vcpus;	/* 0 means 1 */
	uint64_t	 p2m_size;	/* pfns in the guest; 0 means 1024 */
	bool		 hvm;		/* an HVM-type (PVH) image */
	bool		 emulator;	/* with hvm: an HVM guest's device model */
};

struct sg {
	sg_write_fn	 write;
	void		*warg;
	bool		 failed;
	uint64_t	 bytes;		/* written so far */
	unsigned	 nr_vcpus;
	uint64_t	 p2m_size;
	bool		 hvm;
	bool		 emulator;
};

int	sg_begin(struct sg *, const struct sg_opts *, sg_write_fn, void *);
/* PAGE_DATA records for pfns (type bits 63-60 are kept). */
int	sg_pages(struct sg *, const uint64_t *, size_t, sg_page_fn, void *);
int	sg_end(struct sg *);
/* Low level, for malformed streams in tests: one padded record; raw bytes. */
int	sg_record(struct sg *, uint32_t, const void *, uint32_t);
int	sg_raw(struct sg *, const void *, size_t);
/* The xl header and its optional data (u32 length + config) alone. */
int	sg_xl_header(struct sg *, const char *, size_t);

/* Sinks: a growing memory buffer, and an fd (arg points to the int). */
struct sg_buf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
};
int	sg_buf_write(void *, const void *, size_t);
void	sg_buf_free(struct sg_buf *);
int	sg_fd_write(void *, const void *, size_t);

/* A deterministic page pattern, handy as an sg_page_fn (arg unused). */
void	sg_pattern_page(void *, uint64_t, uint8_t *);

#endif
