/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixed messages of xl's migrate / migrate-receive handshake
 * (tools/xl/xl_migrate.c and xl.h in Xen), byte for byte, so that a relocd
 * receiver can stand in for "xl migrate-receive" behind "xl-reloc tunnel".
 * doc/protocol.md describes the whole sequence.
 *
 * Watch the NULs: xl sends the banner WITHOUT its terminating NUL and every
 * other message WITH it (it writes sizeof() bytes).  The *_LEN constants
 * are the exact number of bytes on the wire.
 */
#ifndef MIG_XLCOMPAT_H
#define MIG_XLCOMPAT_H

#include <stddef.h>
#include <stdint.h>

#include "mig/error.h"

#define MIG_XL_BANNER	"xl migration receiver ready, send binary domain data.\n"
#define MIG_XL_READY	"domain received, ready to unpause"
#define MIG_XL_GO	"domain is yours, you are cleared to unpause"
#define MIG_XL_REPORT	"my copy unpause results are as follows"

#define MIG_XL_BANNER_LEN	(sizeof(MIG_XL_BANNER) - 1)	/* 54, no NUL */
#define MIG_XL_READY_LEN	sizeof(MIG_XL_READY)		/* 34, NUL */
#define MIG_XL_GO_LEN		sizeof(MIG_XL_GO)		/* 44, NUL */
#define MIG_XL_REPORT_LEN	sizeof(MIG_XL_REPORT)		/* 39, NUL */
/* The report is followed by one status byte: 0 running, else -libxl rc. */
#define MIG_XL_REPORT_STATUS_LEN	(MIG_XL_REPORT_LEN + 1)

enum mig_xl_msg {
	MIG_XL_MSG_BANNER,	/* receiver -> sender, first thing */
	MIG_XL_MSG_READY,	/* receiver -> sender, domain restored, paused */
	MIG_XL_MSG_GO,		/* sender -> receiver: commit; or receiver ->
				 * sender after a failed start: take it back */
	MIG_XL_MSG_REPORT,	/* receiver -> sender, then one status byte */
	MIG_XL_MSG__MAX
};

/* Bytes of a message as xl puts them on the wire, and their count. */
const uint8_t	*mig_xl_msg_bytes(enum mig_xl_msg, size_t *len);
const char	*mig_xl_msg_name(enum mig_xl_msg);
/*
 * Matches what has been read so far against a message: 1 when buf holds
 * exactly the whole message, 0 when buf is a proper prefix of it (read
 * more), -1 (MIG_E_PROTO, naming the message) on the first wrong byte or
 * when buf is longer than the message.
 */
int		 mig_xl_msg_match(enum mig_xl_msg, const uint8_t *buf,
		    size_t len, struct mig_err *);
/* Writes the report and its status byte: MIG_XL_REPORT_STATUS_LEN bytes. */
void		 mig_xl_report_encode(uint8_t out[MIG_XL_REPORT_STATUS_LEN],
		    uint8_t status);
/* Checks a whole report; *status gets the byte (0: domain is running). */
int		 mig_xl_report_decode(const uint8_t *buf, size_t len,
		    uint8_t *status, struct mig_err *);
/* xl's status byte for a libxl return code (xl sends -rc as a char). */
uint8_t		 mig_xl_status_from_rc(int rc);
/*
 * Best effort: the string member key of c_info in libxl's config JSON
 * ("name", "uuid"), unescaped, cut to size.  1 when found whole, else
 * 0 (out then holds what fitted, or "").  Only for messages and early checks: libxl parses for real.
 */
int		 mig_xl_config_cinfo(const char *json, const char *key,
		    char *out, size_t size);

#endif
