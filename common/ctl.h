/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control protocol: between xl-reloc and relocd over relocd's UNIX
 * socket, and between relocd and its job workers over their pipes.  Both
 * are SOCK_SEQPACKET, so a message is one packet and needs no framing of
 * its own: a u16 type, then the fields in network byte order.
 *
 * Encoding and decoding are pure functions over buffers, like proto.h.
 * A decoder validates every field and copies text into the message, so a
 * decoded message owns nothing and points at nothing.
 */
#ifndef RELOC_CTL_H
#define RELOC_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mig/error.h"

#define CTL_MSG_MAX		8192	/* largest packet */
#define CTL_DOMAIN_MAX		128	/* a domain name, id or uuid */
#define CTL_HOST_MAX		255
#define CTL_PATH_MAX		1024
#define CTL_TEXT_MAX		512
#define CTL_OUTCOME_MAX		16

enum ctl_type {
	/* requests, xl-reloc -> relocd */
	CTL_MIGRATE = 1,
	CTL_SAVE,
	CTL_RESTORE,
	CTL_JOBS,
	CTL_CANCEL,		/* also relocd -> worker */
	/* answers and events, relocd -> xl-reloc (workers -> relocd too) */
	CTL_ACCEPTED,		/* a job was started: its id */
	CTL_EVENT,		/* progress of a job */
	CTL_RESULT,		/* the end of a job */
	CTL_JOB,		/* one row of a CTL_JOBS answer */
	CTL_JOBS_END,		/* after the last row */
	CTL_ERROR,		/* a request refused before any job ran */
	/* workers <-> relocd only */
	CTL_RESERVE_REQ,
	CTL_RESERVE_ANS,
	CTL_RESERVE_HOLD,	/* the stream started: no more expiry;
				 * answered by RESERVE_ANS */
	CTL_RESERVE_RELEASE,
	/* xl-reloc evacuate's questions, xl-reloc -> relocd, and answers */
	CTL_PROBE,		/* ask relocd to HELLO a target */
	CTL_PROBED,		/* what the target's HELLO said */
	CTL_DOMAINS,		/* list this host's domains */
	CTL_DOMAIN,		/* one row of a CTL_DOMAINS answer */
	CTL_DOMAINS_END,	/* after the last row */
	CTL_HISTORY,		/* finished jobs, from relocd's journal */
	/* worker -> relocd: an incoming peer finished its TLS handshake,
	 * preamble and HELLO (relocd's pre-authentication budget) */
	CTL_AUTHENTICATED,
	CTL__MAX
};

/*
 * Conversations on the control socket (relocd answers on the connection
 * the request came on; one connection may carry several requests in turn):
 *
 *   MIGRATE | SAVE | RESTORE -> ACCEPTED(job), EVENT..., RESULT
 *			      or ERROR (nothing started)
 *	The job belongs to relocd, not to the connection: it runs on if the
 *	client goes away.  A CANCEL(job) on the same connection is answered
 *	ACCEPTED(job) (the cancel was delivered: the RESULT follows) or
 *	ERROR (e.g. CTL_ST_REFUSED "past commit").
 *   CANCEL(job)		   -> ACCEPTED(job) or ERROR (NOTFOUND, REFUSED)
 *   JOBS			   -> JOB..., JOBS_END
 *   HISTORY		   -> JOB... (with outcome), JOBS_END, or ERROR
 *   PROBE			   -> PROBED (always exactly one), or ERROR
 *				      for a malformed request
 *   DOMAINS			   -> DOMAIN..., DOMAINS_END, or ERROR
 */

/* CTL_MIGRATE flags */
#define CTL_MF_TLS		0x0001	/* connect to the TLS port */
#define CTL_MF_LIVE		0x0002	/* iterative pre-copy (else stop-and-copy) */
#define CTL_MF_COMPRESS		0x0004	/* offer zstd */
#define CTL_MF_PAUSED		0x0008	/* leave it paused at the target */
#define CTL_MF_AUTO_CONVERGE	0x0010
#define CTL_MF_DOWNTIME_ABORT	0x0020
#define CTL_MF_LOCALHOST	0x0040	/* the target may be this host */
#define CTL_MF_NO_ADOPT		0x0080	/* the target does not look after it
					 * (xl migrate -e) */
#define CTL_MF_STORAGE		0x0100	/* its local disks move too */
#define CTL_MF_STORAGE_REMOVE	0x0200	/* ... and are removed here once
					 * the target committed */
#define CTL_MF_ALL		0x03ff

/* CTL_SAVE / CTL_RESTORE flags */
#define CTL_SF_COMPRESS		0x0001
#define CTL_SF_KEEP_RUNNING	0x0002	/* save: resume the domain after */
#define CTL_SF_PAUSED		0x0004	/* restore: leave it paused;
					 * save: resumed, but paused (xl -p) */
#define CTL_SF_NO_ADOPT		0x0008	/* restore: relocd does not look
					 * after it (xl restore -e) */
#define CTL_SF_SHA256		0x0010	/* save: SHA-256 trailer, not
					 * XXH3-128 (doc/image-format.md) */
#define CTL_SF_ALL		0x001f

/* CTL_PROBE flags */
#define CTL_PF_TLS		0x0001	/* the TLS port, as MIGRATE would */
#define CTL_PF_ALL		0x0001

/* CTL_DOMAIN state: what xl list shows, reduced to what planning needs */
enum ctl_dom_state {
	CTL_DS_RUNNING = 1,	/* running or blocked: can be migrated */
	CTL_DS_PAUSED,		/* paused: can be migrated (stays paused) */
	CTL_DS_SHUTDOWN,	/* shutting down, crashed or dying: skip */
	CTL_DS_MIGRATING,	/* a relocd job holds it already: skip */
	CTL_DS__MAX
};

enum ctl_job_kind {
	CTL_JOB_MIGRATE_OUT = 1,
	CTL_JOB_MIGRATE_IN,
	CTL_JOB_SAVE,
	CTL_JOB_RESTORE,
	CTL_JOB_QUERY,		/* relocd-internal: a domain list or a probe */
	CTL_JOB__MAX
};

/* How a job ended, which is also xl-reloc's exit status (xl-reloc(1)). */
enum ctl_status {
	CTL_ST_OK = 0,
	CTL_ST_USAGE = 1,	/* never sent: xl-reloc's own */
	CTL_ST_NOTFOUND = 2,	/* no such domain, file or job */
	CTL_ST_REFUSED = 3,	/* the target refused; nothing moved */
	CTL_ST_FAILED = 4,	/* failed; the domain runs where it was */
	CTL_ST_CANCELLED = 5,	/* cancelled; the domain runs where it was */
	CTL_ST_NODAEMON = 6,	/* never sent: relocd is not running */
	CTL_ST_UNDEFINED = 7,	/* must never happen: see the text */
	CTL_ST__MAX
};

struct ctl_migrate {
	char		domain[CTL_DOMAIN_MAX + 1];
	char		host[CTL_HOST_MAX + 1];
	uint16_t	port;		/* 0: the target's default */
	uint32_t	flags;		/* CTL_MF_* */
	uint64_t	bandwidth;	/* bytes/s, 0 = the daemon's default */
	uint32_t	max_downtime_ms;	/* 0 = the daemon's default */
	/* A configuration (libxl JSON) to send instead of the domain's
	 * own (xl migrate -C); "" = the domain's. */
	char		config[CTL_PATH_MAX + 1];
};

struct ctl_save {			/* CTL_SAVE and CTL_RESTORE */
	char		domain[CTL_DOMAIN_MAX + 1];	/* save only */
	char		path[CTL_PATH_MAX + 1];
	char		key[CTL_PATH_MAX + 1];		/* "" = none */
	uint32_t	flags;		/* CTL_SF_* */
	/* A configuration (libxl JSON) to store or restore with instead of
	 * the domain's or the image's (xl's [cfg]); "" = theirs. */
	char		config[CTL_PATH_MAX + 1];
	uint64_t	split;		/* save: part size; 0: one file */
};

struct ctl_event {
	uint64_t	job;
	uint16_t	phase;		/* enum mig_phase (proto.h) */
	uint32_t	round;
	uint64_t	pages_sent;	/* this job so far */
	uint64_t	pages_total;	/* of the domain */
	uint64_t	dirty_left;
	uint64_t	bytes_wire;	/* memory and disks */
	uint64_t	rate;		/* bytes/s, recent */
	uint32_t	downtime_ms;	/* expected */
	uint64_t	elapsed_ms;
	char		text[CTL_TEXT_MAX + 1];
	uint64_t	bytes_disk;	/* disks (--with-storage) so far */
};

struct ctl_result {
	uint64_t	job;
	uint16_t	status;		/* enum ctl_status */
	uint16_t	code;		/* enum mig_errcode */
	char		text[CTL_TEXT_MAX + 1];
	uint32_t	domid;		/* where it runs now, if known */
	uint64_t	total_ms;
	uint64_t	paused_ms;	/* the guest was not running */
	uint64_t	bytes_wire;
	uint64_t	bytes_stream;
	uint32_t	rounds;
	uint64_t	bytes_disk;	/* disks moved, uncompressed */
	uint32_t	disk_passes;	/* live storage: delta passes */
	uint64_t	disk_last;	/* ... the last one's bytes, paused */
};

struct ctl_job {
	uint64_t	job;
	uint16_t	kind;		/* enum ctl_job_kind */
	uint16_t	phase;		/* enum mig_phase */
	char		domain[CTL_DOMAIN_MAX + 1];
	char		peer[CTL_HOST_MAX + 1];	/* host, or file path */
	uint64_t	elapsed_ms;
	uint64_t	bytes_wire;
	int32_t		pid;		/* the worker */
	/* HISTORY: how it ended ("done", "aborted"), and when (wall clock,
	 * ms since the epoch); "" and 0 for a running job. */
	char		outcome[CTL_OUTCOME_MAX + 1];
	uint64_t	ended_ms;
};

struct ctl_reserve_req {
	char		name[CTL_DOMAIN_MAX + 1];
	uint8_t		uuid[16];
	uint64_t	need_kib;
	uint64_t	free_kib;	/* the hypervisor's figure, just read */
};

struct ctl_reserve_ans {
	uint16_t	refusal;	/* 0, or a reason (relocd.h) */
	uint64_t	id;
	uint32_t	ttl_sec;
	char		text[CTL_TEXT_MAX + 1];
};

/* Which reservation a stream started on, and for which domain. */
struct ctl_reserve_hold {
	uint64_t	id;
	char		name[CTL_DOMAIN_MAX + 1];
	uint8_t		uuid[16];	/* as reserved; nil if none */
};

struct ctl_error {
	uint16_t	status;		/* enum ctl_status */
	char		text[CTL_TEXT_MAX + 1];
};

/*
 * CTL_PROBE: relocd connects to host:port (0: 8003 with CTL_PF_TLS, else
 * 8002) exactly as CTL_MIGRATE would (same TLS identity, same timeouts),
 * exchanges preambles and HELLOs, and closes without reserving anything.
 */
struct ctl_probe {
	char		host[CTL_HOST_MAX + 1];
	uint16_t	port;
	uint32_t	flags;		/* CTL_PF_* */
};

/*
 * CTL_PROBED: status CTL_ST_OK with the target's HELLO; CTL_ST_REFUSED
 * when the target was reached but would not talk (TLS, host-allow,
 * protocol version); CTL_ST_FAILED when it could not be reached.  text
 * says why when status is not OK.  mem_free_kib is the target's HELLO
 * figure: free memory minus what its reservations hold.
 */
struct ctl_probed {
	uint16_t	status;		/* enum ctl_status */
	char		host[CTL_HOST_MAX + 1];		/* as asked */
	char		hostname[CTL_HOST_MAX + 1];	/* from its HELLO */
	char		version[CTL_DOMAIN_MAX + 1];	/* its relocd */
	uint32_t	xen_major;
	uint32_t	xen_minor;
	uint64_t	mem_total_kib;
	uint64_t	mem_free_kib;
	uint64_t	features;	/* MIG_FEAT_* (proto.h) */
	char		text[CTL_TEXT_MAX + 1];
};

/*
 * CTL_DOMAIN: one domain of this host, Domain-0 included (xl-reloc skips
 * domid 0).  mem_kib is what a RESERVE for it would ask (the memory the
 * target must hold, as the migration would compute it).
 */
struct ctl_domain {
	char		name[CTL_DOMAIN_MAX + 1];
	uint32_t	domid;
	uint64_t	mem_kib;
	uint16_t	state;		/* enum ctl_dom_state */
};

struct ctl_msg {
	uint16_t	type;		/* enum ctl_type */
	union {
		struct ctl_migrate	migrate;
		struct ctl_save		save;	/* SAVE and RESTORE */
		uint64_t		job;	/* CANCEL, ACCEPTED, RELEASE */
		struct ctl_event	event;
		struct ctl_result	result;
		struct ctl_job		jobrow;
		struct ctl_reserve_req	reserve_req;
		struct ctl_reserve_ans	reserve_ans;
		struct ctl_reserve_hold	reserve_hold;
		struct ctl_error	error;
		struct ctl_probe	probe;
		struct ctl_probed	probed;
		struct ctl_domain	domain;
	} u;	/* JOBS, JOBS_END, DOMAINS, DOMAINS_END have no fields */
};

/* ctl.c */
int		 ctl_encode(const struct ctl_msg *, uint8_t *, size_t,
		    size_t *, struct mig_err *);
int		 ctl_decode(const uint8_t *, size_t, struct ctl_msg *,
		    struct mig_err *);
const char	*ctl_type_name(uint16_t);
const char	*ctl_status_name(uint16_t);
/*
 * The status a failure gives a job or a command, the one rule for both
 * programs: a cancel is CANCELLED, a refusal (MIG_E_DENIED) REFUSED,
 * anything else FAILED.  MIG_E_NOTFOUND is NOTFOUND only when lookup
 * says the failure was the requester's own lookup (the domain or file
 * it named): a peer's or a reservation's "not found" is not the user's.
 */
uint16_t	 ctl_status_of(const struct mig_err *, int lookup);
const char	*ctl_job_kind_name(uint16_t);
const char	*ctl_result_label(uint16_t, uint16_t);
const char	*ctl_dom_state_name(uint16_t);
/* Copies src into a text field, truncating, printable ASCII only. */
void		 ctl_text_set(char [CTL_TEXT_MAX + 1], const char *);
/* One packet, whole; -1 with MIG_E_EOF when the peer has gone. */
int		 ctl_send(int, const struct ctl_msg *, struct mig_err *);
int		 ctl_recv(int, struct ctl_msg *, struct mig_err *);

#endif
