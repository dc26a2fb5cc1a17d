/* Built-in constants for policy files.
 *
 * Values come from the C headers of the build machine, so they are right for
 * the architecture the filter is compiled for. A few flags newer than the
 * oldest glibc we build against get a fallback definition (kernel ABI values
 * never change). The tables are small and read once at start-up, so a linear
 * search is plenty. */
#include "policy_consts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <asm/prctl.h>
#endif

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

struct named_value {
	const char *name;
	uint64_t value;
};

/* The cast through int64_t sign-extends negative values (AT_FDCWD). Tables
 * are kept dense by hand, hence clang-format off. */
/* clang-format off */
#define C(x) { #x, (uint64_t)(int64_t)(x) }

static const struct named_value constants[] = {
	/* socket(2) domains and types */
	C(AF_UNSPEC), C(AF_UNIX), C(AF_LOCAL), C(AF_INET), C(AF_INET6),
	C(AF_NETLINK), C(AF_PACKET), C(AF_VSOCK), C(AF_ALG), C(AF_KEY),
	C(AF_BLUETOOTH),
	C(SOCK_STREAM), C(SOCK_DGRAM), C(SOCK_RAW), C(SOCK_SEQPACKET),
	C(SOCK_NONBLOCK), C(SOCK_CLOEXEC),
	C(IPPROTO_IP), C(IPPROTO_TCP), C(IPPROTO_UDP), C(IPPROTO_IPV6),
	C(IPPROTO_ICMP), C(SOL_SOCKET),
	/* mmap(2), mprotect(2), mremap(2), madvise(2), msync(2) */
	C(PROT_NONE), C(PROT_READ), C(PROT_WRITE), C(PROT_EXEC),
	C(PROT_GROWSDOWN), C(PROT_GROWSUP),
	C(MAP_SHARED), C(MAP_PRIVATE), C(MAP_SHARED_VALIDATE), C(MAP_FIXED),
	C(MAP_ANONYMOUS), C(MAP_ANON), C(MAP_NORESERVE), C(MAP_GROWSDOWN),
	C(MAP_DENYWRITE), C(MAP_EXECUTABLE), C(MAP_LOCKED), C(MAP_POPULATE),
	C(MAP_NONBLOCK), C(MAP_STACK), C(MAP_HUGETLB), C(MAP_SYNC),
	C(MAP_FIXED_NOREPLACE),
	C(MREMAP_MAYMOVE), C(MREMAP_FIXED),
	C(MADV_NORMAL), C(MADV_RANDOM), C(MADV_SEQUENTIAL), C(MADV_WILLNEED),
	C(MADV_DONTNEED), C(MADV_FREE), C(MADV_REMOVE), C(MADV_DONTFORK),
	C(MADV_DOFORK), C(MADV_MERGEABLE), C(MADV_UNMERGEABLE),
	C(MADV_HUGEPAGE), C(MADV_NOHUGEPAGE), C(MADV_DONTDUMP),
	C(MADV_DODUMP), C(MADV_WIPEONFORK), C(MADV_KEEPONFORK), C(MADV_COLD),
	C(MADV_PAGEOUT),
	C(MS_ASYNC), C(MS_SYNC), C(MS_INVALIDATE),
	/* clone(2) flags */
	C(CSIGNAL), C(CLONE_VM), C(CLONE_FS), C(CLONE_FILES), C(CLONE_SIGHAND),
	C(CLONE_PIDFD), C(CLONE_PTRACE), C(CLONE_VFORK), C(CLONE_PARENT),
	C(CLONE_THREAD), C(CLONE_NEWNS), C(CLONE_SYSVSEM), C(CLONE_SETTLS),
	C(CLONE_PARENT_SETTID), C(CLONE_CHILD_CLEARTID), C(CLONE_DETACHED),
	C(CLONE_UNTRACED), C(CLONE_CHILD_SETTID), C(CLONE_NEWCGROUP),
	C(CLONE_NEWUTS), C(CLONE_NEWIPC), C(CLONE_NEWUSER), C(CLONE_NEWPID),
	C(CLONE_NEWNET), C(CLONE_IO), C(CLONE_NEWTIME),
	/* open(2) and the *at(2) family */
	C(O_RDONLY), C(O_WRONLY), C(O_RDWR), C(O_ACCMODE), C(O_CREAT),
	C(O_EXCL), C(O_NOCTTY), C(O_TRUNC), C(O_APPEND), C(O_NONBLOCK),
	C(O_NDELAY), C(O_DSYNC), C(O_SYNC), C(O_RSYNC), C(O_DIRECTORY),
	C(O_NOFOLLOW), C(O_CLOEXEC), C(O_ASYNC), C(O_DIRECT), C(O_LARGEFILE),
	C(O_NOATIME), C(O_PATH), C(O_TMPFILE),
	C(AT_FDCWD), C(AT_SYMLINK_NOFOLLOW), C(AT_REMOVEDIR),
	C(AT_SYMLINK_FOLLOW), C(AT_NO_AUTOMOUNT), C(AT_EMPTY_PATH),
	C(AT_EACCESS),
	C(F_OK), C(R_OK), C(W_OK), C(X_OK),
	C(SEEK_SET), C(SEEK_CUR), C(SEEK_END), C(SEEK_DATA), C(SEEK_HOLE),
	C(RENAME_NOREPLACE), C(RENAME_EXCHANGE), C(RENAME_WHITEOUT),
	C(CLOSE_RANGE_UNSHARE), C(CLOSE_RANGE_CLOEXEC),
	/* fcntl(2) */
	C(F_DUPFD), C(F_DUPFD_CLOEXEC), C(F_GETFD), C(F_SETFD), C(F_GETFL),
	C(F_SETFL), C(F_GETLK), C(F_SETLK), C(F_SETLKW), C(F_OFD_GETLK),
	C(F_OFD_SETLK), C(F_OFD_SETLKW), C(F_SETOWN), C(F_GETOWN),
	C(F_SETSIG), C(F_GETSIG), C(F_SETPIPE_SZ), C(F_GETPIPE_SZ),
	C(F_ADD_SEALS), C(F_GET_SEALS), C(FD_CLOEXEC),
	/* ioctl(2) requests worth naming in a policy, TIOCSTI above all: it
	 * pushes input into a terminal the sandbox shares with its parent. */
	C(TIOCSTI), C(TIOCGWINSZ), C(TIOCSWINSZ), C(TCGETS), C(TCSETS),
	C(TCSETSW), C(TCSETSF), C(TIOCGPGRP), C(TIOCSPGRP), C(TIOCSCTTY),
	C(TIOCNOTTY), C(TIOCLINUX), C(TIOCCONS), C(FIONREAD), C(FIONBIO),
	C(FIOCLEX), C(FIONCLEX), C(FIOASYNC), C(FIOSETOWN), C(SIOCSPGRP),
	/* futex(2) */
	C(FUTEX_WAIT), C(FUTEX_WAKE), C(FUTEX_REQUEUE), C(FUTEX_CMP_REQUEUE),
	C(FUTEX_WAKE_OP), C(FUTEX_LOCK_PI), C(FUTEX_UNLOCK_PI),
	C(FUTEX_TRYLOCK_PI), C(FUTEX_WAIT_BITSET), C(FUTEX_WAKE_BITSET),
	C(FUTEX_WAIT_REQUEUE_PI), C(FUTEX_CMP_REQUEUE_PI), C(FUTEX_LOCK_PI2),
	C(FUTEX_PRIVATE_FLAG), C(FUTEX_CLOCK_REALTIME),
	/* clocks */
	C(CLOCK_REALTIME), C(CLOCK_MONOTONIC), C(CLOCK_PROCESS_CPUTIME_ID),
	C(CLOCK_THREAD_CPUTIME_ID), C(CLOCK_MONOTONIC_RAW),
	C(CLOCK_REALTIME_COARSE), C(CLOCK_MONOTONIC_COARSE), C(CLOCK_BOOTTIME),
	C(CLOCK_REALTIME_ALARM), C(CLOCK_BOOTTIME_ALARM), C(CLOCK_TAI),
	C(TIMER_ABSTIME),
	/* signals, for kill(2) and friends */
	C(SIGHUP), C(SIGINT), C(SIGQUIT), C(SIGILL), C(SIGTRAP), C(SIGABRT),
	C(SIGBUS), C(SIGFPE), C(SIGKILL), C(SIGUSR1), C(SIGSEGV), C(SIGUSR2),
	C(SIGPIPE), C(SIGALRM), C(SIGTERM), C(SIGCHLD), C(SIGCONT),
	C(SIGSTOP), C(SIGTSTP), C(SIGTTIN), C(SIGTTOU), C(SIGURG), C(SIGXCPU),
	C(SIGXFSZ), C(SIGVTALRM), C(SIGPROF), C(SIGWINCH), C(SIGIO),
	C(SIGPWR), C(SIGSYS),
	C(SIG_BLOCK), C(SIG_UNBLOCK), C(SIG_SETMASK),
	/* wait4(2), waitid(2) */
	C(WNOHANG), C(WUNTRACED), C(WCONTINUED), C(WEXITED), C(WSTOPPED),
	C(WNOWAIT), C(__WALL), C(__WCLONE), C(__WNOTHREAD),
	C(P_ALL), C(P_PID), C(P_PGID), C(P_PIDFD),
	/* prctl(2) */
	C(PR_SET_PDEATHSIG), C(PR_GET_PDEATHSIG), C(PR_GET_DUMPABLE),
	C(PR_SET_NAME), C(PR_GET_NAME),
	C(PR_SET_DUMPABLE), C(PR_SET_NAME), C(PR_GET_NAME),
	C(PR_GET_SECCOMP), C(PR_SET_SECCOMP), C(PR_SET_NO_NEW_PRIVS),
	C(PR_GET_NO_NEW_PRIVS), C(PR_SET_TIMERSLACK), C(PR_GET_TIMERSLACK),
	C(PR_CAPBSET_READ), C(PR_CAPBSET_DROP), C(PR_SET_MM),
	C(PR_SET_PTRACER), C(PR_GET_TID_ADDRESS), C(PR_SET_THP_DISABLE),
	C(PR_GET_THP_DISABLE), C(PR_CAP_AMBIENT), C(PR_SET_KEEPCAPS),
	C(PR_GET_KEEPCAPS), C(PR_SET_CHILD_SUBREAPER),
	C(PR_GET_CHILD_SUBREAPER), C(PR_SET_VMA),
#if defined(__x86_64__)
	/* arch_prctl(2) */
	C(ARCH_SET_GS), C(ARCH_SET_FS), C(ARCH_GET_FS), C(ARCH_GET_GS),
#endif
	/* assorted fd-creating calls */
	C(GRND_NONBLOCK), C(GRND_RANDOM), C(GRND_INSECURE),
	C(MFD_CLOEXEC), C(MFD_ALLOW_SEALING), C(MFD_HUGETLB),
	C(EFD_CLOEXEC), C(EFD_NONBLOCK), C(EFD_SEMAPHORE),
	C(EPOLL_CLOEXEC), C(EPOLL_CTL_ADD), C(EPOLL_CTL_DEL), C(EPOLL_CTL_MOD),
	/* setrlimit(2), prlimit(2) */
	C(RLIMIT_CPU), C(RLIMIT_FSIZE), C(RLIMIT_DATA), C(RLIMIT_STACK),
	C(RLIMIT_CORE), C(RLIMIT_NOFILE), C(RLIMIT_AS), C(RLIMIT_NPROC),
	C(RLIMIT_MEMLOCK),
	C(STDIN_FILENO), C(STDOUT_FILENO), C(STDERR_FILENO),
};

#undef C
/* clang-format on */

struct named_errno {
	const char *name;
	int value;
};

/* clang-format off */
#define E(x) { #x, x }

/* Synonyms (EWOULDBLOCK, EDEADLOCK, ENOTSUP) come after the canonical name so
 * that fbx_errno_name() prints the usual one. */
static const struct named_errno errnos[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
	E(EFAULT), E(ENOTBLK), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV),
	E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY),
	E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK),
	E(EPIPE), E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK),
	E(ENOSYS), E(ENOTEMPTY), E(ELOOP), E(ENOMSG), E(EIDRM), E(ENOSTR),
	E(ENODATA), E(ETIME), E(ENOSR), E(ENOLINK), E(EPROTO), E(EBADMSG),
	E(EOVERFLOW), E(EILSEQ), E(EUSERS), E(ENOTSOCK), E(EDESTADDRREQ),
	E(EMSGSIZE), E(EPROTOTYPE), E(ENOPROTOOPT), E(EPROTONOSUPPORT),
	E(ESOCKTNOSUPPORT), E(EOPNOTSUPP), E(EPFNOSUPPORT), E(EAFNOSUPPORT),
	E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN), E(ENETUNREACH),
	E(ENETRESET), E(ECONNABORTED), E(ECONNRESET), E(ENOBUFS), E(EISCONN),
	E(ENOTCONN), E(ESHUTDOWN), E(ETOOMANYREFS), E(ETIMEDOUT),
	E(ECONNREFUSED), E(EHOSTDOWN), E(EHOSTUNREACH), E(EALREADY),
	E(EINPROGRESS), E(ESTALE), E(EDQUOT), E(ECANCELED), E(EOWNERDEAD),
	E(ENOTRECOVERABLE), E(ERFKILL), E(EHWPOISON), E(ENOMEDIUM),
	E(EMEDIUMTYPE), E(ENOKEY), E(EKEYEXPIRED), E(EKEYREVOKED),
	E(EKEYREJECTED), E(EREMOTE), E(EREMOTEIO), E(ECHRNG), E(EL2NSYNC),
	E(EL3HLT), E(EL3RST), E(ELNRNG), E(EUNATCH), E(ENOCSI), E(EL2HLT),
	E(EBADE), E(EBADR), E(EXFULL), E(ENOANO), E(EBADRQC), E(EBADSLT),
	E(EBFONT), E(ENONET), E(ENOPKG), E(EADV), E(ESRMNT), E(ECOMM),
	E(EMULTIHOP), E(EDOTDOT), E(ENOTUNIQ), E(EBADFD), E(EREMCHG),
	E(ELIBACC), E(ELIBBAD), E(ELIBSCN), E(ELIBMAX), E(ELIBEXEC),
	E(ERESTART), E(ESTRPIPE), E(EUCLEAN), E(ENOTNAM), E(ENAVAIL),
	E(EISNAM),
	E(EWOULDBLOCK), E(EDEADLOCK), E(ENOTSUP),
};

#undef E
/* clang-format on */

static bool name_is(const char *table_name, const char *name, size_t len)
{
	return strncmp(table_name, name, len) == 0 && table_name[len] == '\0';
}

bool fbx_const_lookup(const char *name, size_t len, uint64_t *value)
{
	for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
		if (name_is(constants[i].name, name, len)) {
			*value = constants[i].value;
			return true;
		}
	}
	return false;
}

bool fbx_errno_lookup(const char *name, size_t len, int *value)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		if (name_is(errnos[i].name, name, len)) {
			*value = errnos[i].value;
			return true;
		}
	}
	return false;
}

const char *fbx_errno_name(int value)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		if (errnos[i].value == value)
			return errnos[i].name;
	}
	return NULL;
}

static bool is_word_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_';
}

static size_t word_len(const char *s, size_t len, size_t pos)
{
	size_t n = 0;
	while (pos + n < len && is_word_char(s[pos + n]))
		n++;
	return n;
}

const char *fbx_policy_token(const char *s, size_t len, size_t pos, char *buf,
			     size_t size)
{
	size_t n = word_len(s, len, pos);
	if (pos >= len)
		snprintf(buf, size, "end of line");
	else if (n)
		snprintf(buf, size, "'%.*s'", (int)(n > 40 ? 40 : n), s + pos);
	else if ((unsigned char)s[pos] < 0x20 || (unsigned char)s[pos] >= 0x7f)
		snprintf(buf, size, "byte 0x%02x", (unsigned char)s[pos]);
	else
		snprintf(buf, size, "'%c'", s[pos]);
	return buf;
}

static size_t skip_blanks(const char *s, size_t len, size_t pos)
{
	while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\r'))
		pos++;
	return pos;
}

static int number(const char *s, size_t len, uint64_t *value)
{
	bool neg = len && s[0] == '-';
	const char *t = s + neg, *end = s + len;
	unsigned base = 10;
	if (end - t > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
		base = 16;
	else if (end - t > 2 && t[0] == '0' && t[1] == 'o')
		base = 8;
	if (base != 10)
		t += 2;
	if (t == end)
		return -EINVAL;
	uint64_t v = 0;
	bool overflow = false;
	for (; t < end; t++) {
		unsigned d = 99;
		if (*t >= '0' && *t <= '9')
			d = (unsigned)(*t - '0');
		else if (*t >= 'a' && *t <= 'f')
			d = (unsigned)(*t - 'a' + 10);
		else if (*t >= 'A' && *t <= 'F')
			d = (unsigned)(*t - 'A' + 10);
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		v = v * base + d;
	}
	if (overflow || (neg && v > (uint64_t)1 << 63))
		return -ERANGE;
	*value = neg ? (uint64_t)0 - v : v;
	return 0;
}

/* A number token at s[*pos]: '-'? followed by word characters. */
static int read_number(const char *s, size_t len, size_t *pos, uint64_t *value,
		       char *msg, size_t size)
{
	size_t n = s[*pos] == '-' ? 1 : 0;
	n += word_len(s, len, *pos + n);
	int rc = number(s + *pos, n, value);
	if (rc)
		snprintf(msg, size,
			 rc == -ERANGE ? "number '%.*s' out of range"
				       : "invalid number '%.*s'",
			 (int)n, s + *pos);
	else
		*pos += n;
	return rc ? -EINVAL : 0;
}

int fbx_policy_read_value(const char *s, size_t len, size_t *pos,
			  uint64_t *value, char *msg, size_t size)
{
	uint64_t v = 0;
	for (;;) {
		*pos = skip_blanks(s, len, *pos);
		char ch = *pos < len ? s[*pos] : '\0';
		size_t n = word_len(s, len, *pos);
		uint64_t x;
		if (ch == '-' || (ch >= '0' && ch <= '9')) {
			if (read_number(s, len, pos, &x, msg, size))
				return -EINVAL;
		} else if (n && fbx_const_lookup(s + *pos, n, &x)) {
			*pos += n;
		} else {
			char got[64];
			if (n)
				snprintf(msg, size, "unknown constant '%.*s'",
					 (int)n, s + *pos);
			else
				snprintf(msg, size,
					 "expected a number or a constant, "
					 "got %s",
					 fbx_policy_token(s, len, *pos, got,
							  sizeof(got)));
			return -EINVAL;
		}
		v |= x;
		size_t next = skip_blanks(s, len, *pos);
		if (next < len && s[next] == '|' &&
		    !(next + 1 < len && s[next + 1] == '|')) {
			*pos = next + 1;
			continue;
		}
		*value = v;
		return 0;
	}
}

int fbx_policy_read_errno(const char *s, size_t len, size_t *pos, int *value,
			  char *msg, size_t size)
{
	*pos = skip_blanks(s, len, *pos);
	size_t n = word_len(s, len, *pos);
	char got[64];
	if (!n) {
		snprintf(msg, size, "expected an errno name or number, got %s",
			 fbx_policy_token(s, len, *pos, got, sizeof(got)));
		return -EINVAL;
	}
	if (s[*pos] >= '0' && s[*pos] <= '9') {
		uint64_t v;
		size_t start = *pos;
		if (read_number(s, len, pos, &v, msg, size))
			return -EINVAL;
		/* SECCOMP_RET_ERRNO carries 16 bits, and the kernel treats
		 * only values up to MAX_ERRNO (4095) as errors. */
		if (v > 4095) {
			*pos = start;
			snprintf(msg, size, "errno %llu out of range 0 to 4095",
				 (unsigned long long)v);
			return -EINVAL;
		}
		*value = (int)v;
		return 0;
	}
	if (!fbx_errno_lookup(s + *pos, n, value)) {
		snprintf(msg, size, "unknown errno name '%.*s'", (int)n,
			 s + *pos);
		return -EINVAL;
	}
	*pos += n;
	return 0;
}
