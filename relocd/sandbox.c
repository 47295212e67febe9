/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the pre-authentication process gives up before it reads a byte
 * from a peer (preauth.c): its user (sandbox_user, the first of the
 * names that exists: the packages make _relocd, nobody is the fallback),
 * its supplementary groups, its view of the file system (an empty root,
 * sandbox_dir), any way back to privileges (no_new_privs, and it cannot
 * be traced or dumped by that user's other processes), and all system
 * calls but the few a TLS session and a relay need (seccomp).  What it
 * needs from root (the configuration, the key, the CA and CRL files, the
 * user's ids) it has taken before.
 *
 * Run by someone other than root (relocd-sim's tests, a developer's
 * relocd), it cannot change user or root: it says so once per
 * connection at debug level, and keeps no_new_privs and the filter.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "mig/log.h"
#include "relocd.h"

#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#endif

/*
 * The system calls left: moving bytes on the descriptors it has, waiting,
 * time, memory, the signal mask conn.c's SIGPIPE guard uses, the socket
 * options kernel TLS sets, randomness, and exiting.  No open, no socket,
 * no exec, no kill.  A call not listed fails with EACCES rather than
 * killing the process: nothing is gained by a crash, and the refused call
 * still did nothing.
 */
static const int sandbox_syscalls[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_recvfrom, SYS_sendto,
	SYS_recvmsg, SYS_sendmsg, SYS_ppoll, SYS_close, SYS_exit,
	SYS_exit_group, SYS_rt_sigprocmask, SYS_rt_sigtimedwait,
	SYS_rt_sigpending, SYS_rt_sigreturn, SYS_restart_syscall,
	SYS_clock_gettime, SYS_gettimeofday, SYS_clock_nanosleep,
	SYS_getpid, SYS_gettid, SYS_getuid, SYS_geteuid, SYS_getgid,
	SYS_getegid, SYS_brk, SYS_mmap, SYS_munmap, SYS_mremap,
	SYS_madvise, SYS_futex, SYS_sched_yield, SYS_setsockopt,
	SYS_getsockopt, SYS_fcntl, SYS_shutdown, SYS_getrandom, SYS_fstat,
	SYS_newfstatat, SYS_lseek,
#ifdef SYS_poll
	SYS_poll,
#endif
#ifdef SYS_time
	SYS_time,
#endif
};

#define NSYSCALLS	(sizeof(sandbox_syscalls) / sizeof(sandbox_syscalls[0]))

#ifdef SANDBOX_ARCH
static int
sandbox_filter(struct mig_err *err)
{
	/* arch check (3), nr load (1), one test per call, then mprotect's
	 * test (3), the refusal and the admission */
	struct sock_filter	 f[3 + 1 + NSYSCALLS + 3 + 2], *p = f;
	struct sock_fprog	 prog;
	size_t			 i;

#define STMT(c, k)	(*p++ = (struct sock_filter)BPF_STMT((c), (k)))
#define JUMP(c, k, t, e) (*p++ = (struct sock_filter)BPF_JUMP((c), (k), (t), (e)))
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	/* Each listed call jumps over the tests after it and the four
	 * instructions below to the admission, the last instruction. */
	for (i = 0; i < NSYSCALLS; i++)
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, sandbox_syscalls[i],
		    NSYSCALLS - i - 1 + 4, 0);
	/* mprotect, but never to make memory executable */
	JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, 2);
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2]));
	JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA));
	STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef STMT
#undef JUMP
	prog.len = (unsigned short)(p - f);
	prog.filter = f;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1)
		return mig_seterrno(err, MIG_E_IO, "sandbox: seccomp filter");
	return 0;
}
#else
static int
sandbox_filter(struct mig_err *err)
{
	(void)err;
	mig_log_debug("sandbox: no seccomp filter for this architecture");
	return 0;
}
#endif

/* The sandbox's root: made if missing; it must be a directory that only
 * root can change, and empty. */
static int
sandbox_dir_check(const char *dir, struct mig_err *err)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	int		 entries = 0;

	if (mkdir(dir, 0555) == -1 && errno != EEXIST)
		return mig_seterrno(err, MIG_E_IO, "sandbox_dir %s", dir);
	if (lstat(dir, &st) == -1)
		return mig_seterrno(err, MIG_E_IO, "sandbox_dir %s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return mig_seterr(err, MIG_E_INVAL, "sandbox_dir %s: must be a "
		    "directory owned by root and writable by no one else",
		    dir);
	if ((d = opendir(dir)) == NULL)
		return mig_seterrno(err, MIG_E_IO, "sandbox_dir %s", dir);
	while ((de = readdir(d)) != NULL)
		entries += strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	closedir(d);
	if (entries > 0)
		return mig_seterr(err, MIG_E_INVAL, "sandbox_dir %s: must be "
		    "empty", dir);
	return 0;
}

/* The first of sandbox_user's names that is a user other than root. */
static const struct passwd *
sandbox_user(const struct relocd_conf *c, struct mig_err *err)
{
	const struct passwd	*pw;
	size_t			 i;

	for (i = 0; i < c->sandbox_user.n; i++)
		if ((pw = getpwnam(c->sandbox_user.v[i])) != NULL &&
		    pw->pw_uid != 0)
			return pw;
	mig_seterr(err, MIG_E_INVAL, "sandbox_user: none of its %zu names is "
	    "a user here other than root", c->sandbox_user.n);
	return NULL;
}

/*
 * At start and reload: a configuration under which every incoming
 * connection would fail in its sandbox is refused now, with the reason.
 */
int
sandbox_check(const char *path, const struct relocd_conf *c,
    struct mig_err *err)
{
	char	msg[MIG_ERRLEN];

	if (geteuid() != 0 || (!c->plain_enabled && !c->tls_enabled) ||
	    sandbox_user(c, err) != NULL)
		return 0;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	return mig_seterr(err, MIG_E_INVAL, "%s: %s", path, msg);
}

void
sandbox_dir_path(const struct relocd_conf *c, char *buf, size_t size)
{
	if (c->sandbox_dir != NULL)
		snprintf(buf, size, "%s", c->sandbox_dir);
	else
		snprintf(buf, size, "%s/empty", c->state_dir);
}

/*
 * LeakSanitizer (a sanitizer build of the tests) checks at exit by
 * ptrace-attaching to the process, which a process that changed its
 * uid or is under seccomp refuses: it would print "fatal error" at
 * every sandbox's exit.  So its one check runs first, while it
 * still can, and covers what the sandbox allocated up to there.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_LSAN 1
#endif
#endif
#ifdef SANDBOX_LSAN
void	__lsan_do_leak_check(void);
#endif

int
sandbox_enter(const struct relocd_conf *c, struct mig_err *err)
{
	const struct passwd	*pw;
	char			 dir[PATH_MAX];
	uid_t			 uid;
	gid_t			 gid;

#ifdef SANDBOX_LSAN
	__lsan_do_leak_check();	/* before setresuid makes us undumpable */
#endif
	if (geteuid() != 0)
		mig_log_debug("sandbox: not root: staying uid %u, no chroot",
		    (unsigned)geteuid());
	else {
		if ((pw = sandbox_user(c, err)) == NULL)
			return -1;
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		sandbox_dir_path(c, dir, sizeof(dir));
		if (sandbox_dir_check(dir, err) == -1)
			return -1;
		if (chroot(dir) == -1 || chdir("/") == -1)
			return mig_seterrno(err, MIG_E_IO, "sandbox: chroot %s",
			    dir);
		if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1)
			return mig_seterrno(err, MIG_E_IO, "sandbox: becoming "
			    "uid %u gid %u", (unsigned)uid, (unsigned)gid);
		if (setuid(0) != -1 || geteuid() == 0)
			return mig_seterr(err, MIG_E_INVAL, "sandbox: uid 0 "
			    "could be regained");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return mig_seterrno(err, MIG_E_IO, "sandbox: prctl");
	return sandbox_filter(err);
}
