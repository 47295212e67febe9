/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TLS contexts (OpenSSL 3) for the relocation port, and the pieces of the
 * handshake that conn.c drives: error wording, plaintext detection and the
 * tls-peers-allow check.
 *
 * Policy, the same for both ends: TLS 1.3 preferred, 1.2 the minimum, and on
 * 1.2 only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305; no
 * renegotiation, no compression, no session tickets or cache (a migration is
 * one long connection, resumption buys nothing); OpenSSL security level 2
 * (keys of 112 bits of strength or more, no SHA-1 signatures).  The server
 * requires a client certificate signed by the CA unless client_cert_optional
 * is set; the client always verifies the server chain and the expected host
 * name.  With a CRL file, every certificate of the peer's chain is checked
 * against its issuer's CRL.
 */
#ifndef MIG_TLS_H
#define MIG_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "mig/acl.h"
#include "mig/error.h"

struct mig_tls_conf {
	const char	*cert_file;	/* PEM chain, leaf first */
	const char	*key_file;	/* PEM private key for cert_file */
	const char	*ca_file;	/* PEM CA bundle that peers must chain to */
	/*
	 * PEM CRLs, one for each CA that issues certificates in a peer's
	 * chain (X509_V_FLAG_CRL_CHECK_ALL); NULL: no revocation check.  A
	 * CRL past its nextUpdate fails every handshake: publish on time.
	 */
	const char	*crl_file;
	/* Server: accept clients without a certificate (default: refuse). */
	int		 client_cert_optional;
	/* Ask for kernel TLS (SSL_OP_ENABLE_KTLS); harmless if unavailable. */
	int		 ktls;
	/*
	 * Server: when set, a client certificate is admitted only if one of
	 * its names matches (see acl.h, mig_tls_peer_names).
	 * Borrowed: must outlive every context built from this conf.
	 */
	const struct mig_acl *peers_allow;
};

/*
 * OpenSSL's receive buffer when reading ahead (the relay does, for the
 * stream): four full records per read(2).  In bench/transport, 64 KiB was
 * 7 % faster than 16 KiB (one record), as fast as 256 KiB, and 20 % faster
 * than 1 MiB, whose records leave the cache before they are decrypted.
 */
#define MIG_TLS_READ_BUF	(64 * 1024)

/* Each returns a new context (free with SSL_CTX_free) or NULL. */
SSL_CTX	*mig_tls_server_ctx(const struct mig_tls_conf *, struct mig_err *);
SSL_CTX	*mig_tls_client_ctx(const struct mig_tls_conf *, struct mig_err *);

/*
 * Look at the first bytes a client sent to the TLS port (MSG_PEEK, n >= 1).
 * 0 if they can begin a TLS handshake record; otherwise -1 with MIG_E_PROTO
 * and "plaintext on TLS port: ..." naming what was seen.
 */
int	 mig_tls_sniff(const uint8_t *, size_t, const char *peer,
	    struct mig_err *);

/*
 * Turn a failed SSL_do_handshake/SSL_read/SSL_write (ret, and the thread's
 * OpenSSL error queue, which is consumed) into one line naming the cause.
 * what is the operation ("handshake", "read", "write").
 */
int	 mig_tls_seterr(SSL *, int ret, const char *what, const char *peer,
	    struct mig_err *);

/*
 * After a server handshake: apply the context's tls-peers-allow, if any, to
 * the peer certificate's CN and subjectAltNames.  0 admitted, -1 with
 * MIG_E_DENIED naming the certificate's names.
 */
int	 mig_tls_check_peer(SSL *, const char *peer, struct mig_err *);

/*
 * The names of the peer certificate, up to max, as strings the caller frees
 * with mig_tls_free_names(): its subjectAltName DNS and IP entries or, when
 * it has none, its subject CNs (RFC 6125: a CN does not name a certificate
 * that has SANs).  Returns how many, 0 without a certificate, -1 on
 * allocation failure.
 */
int	 mig_tls_peer_names(SSL *, char **names, size_t max);
/*
 * The certificate the peer presented, for the logs: its subject
 * ("/CN=node2.example") and SHA-256 fingerprint (hex pairs joined by
 * ':', as openssl x509 -fingerprint -sha256 prints it).  -1 if it
 * presented none.
 */
int	 mig_tls_peer_cert(SSL *, char *subject, size_t, char *fpr, size_t);
void	 mig_tls_free_names(char **names, size_t n);

/*
 * Is this CA file a public bundle (the system's, or one of more than
 * MIG_TLS_CA_PUBLIC certificates)?  Then any certificate any public CA
 * signs for anyone chains to it, and only tls-peers-allow tells peers
 * apart.  1 with the reason in why, 0 otherwise (or when unreadable).
 */
#define MIG_TLS_CA_PUBLIC	16
int	 mig_tls_ca_public(const char *, char *why, size_t);

#endif
