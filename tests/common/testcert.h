/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test-time certificates: a fresh EC P-256 CA and leaf certificates signed
 * by it, written as PEM files into a private mkdtemp(3) directory that
 * testcert_cleanup() removes (keys mode 0600), and the CA's CRLs.  Nothing is checked in, nothing expires
 * between runs.
 */
#ifndef TESTCERT_H
#define TESTCERT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct testcert_pair {
	char	cert[PATH_MAX];
	char	key[PATH_MAX];
};

struct testcert {
	char			dir[PATH_MAX];
	char			ca[PATH_MAX];		/* the CA certificate */
	char			other_ca[PATH_MAX];	/* an unrelated CA */
	/* CN relocd-server; SAN DNS:localhost, IP:127.0.0.1, IP:::1 */
	struct testcert_pair	server;
	/* CN relocd-client, SAN DNS:relocd-client.example */
	struct testcert_pair	client;
	/* CN relocd-client, validity ended yesterday */
	struct testcert_pair	expired;
	/* CN relocd-client, signed by other_ca */
	struct testcert_pair	foreign;
	/* CN intruder, SAN DNS:intruder.example, signed by the CA */
	struct testcert_pair	wrongcn;
	/* CN relocd-client, SAN DNS:elsewhere.example: the CN is not a name
	 * when SANs exist (RFC 6125) */
	struct testcert_pair	sanonly;
	/* CN relocd-cnonly, no SAN */
	struct testcert_pair	cnonly;
	/* CN relocd-client, SAN DNS:relocd-client.example, revoked in crl */
	struct testcert_pair	revoked;
	char			crl[PATH_MAX];	/* the CA's CRL: revoked */
	char			old_crl[PATH_MAX];	/* nextUpdate passed */
	char			other_crl[PATH_MAX];	/* other_ca's, empty */
};

/* 0 on success; -1 (with a message on stderr) on failure. */
int	testcert_make(struct testcert *);
/* Remove the files and the directory. */
void	testcert_cleanup(struct testcert *);
/* Payload for a test connection: len bytes that depend on seed and on
 * their offset, so that a byte lost, doubled or moved shows. */
void	testcert_pattern(uint8_t *, size_t, unsigned seed);

#endif
