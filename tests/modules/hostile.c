#define _GNU_SOURCE
/* One hostile act per invocation, chosen by the event's "do":
 *   segv        write through a NULL pointer
 *   spin        ignore SIGTERM and loop forever
 *   daemonize   fork, setsid, fork again; the survivor sleeps forever,
 *               named "arg" (prctl PR_SET_NAME) so the test can look for it
 *   kill_parent kill(getppid(), SIGKILL)
 *   kill_all    kill(-1, SIGKILL)
 *   kill_pid    kill("mb", SIGKILL): a pid the test names
 *   connect     TCP connect to 127.0.0.1:"port"
 *   memory      malloc and touch "mb" MiB
 *   disk        write "mb" MiB into the private dir
 *   big_result  return a string of "mb" MiB
 *   print       print "mb" MiB to stdout, then return 1
 *   symlinks    plant links to "arg" (a directory outside) in the private dir
 *   ptrace      ptrace(PTRACE_TRACEME) - denied by every shipped policy
 *   exit        exit("code") without a result
 *   fail        fbx_fail with a type and message
 *   null        return NULL without fbx_fail
 *   read        open and read the file "arg"; returns its first bytes or
 *               the errno
 *   echo        return the event's exact text
 *   dir_stat    what its private dir (the cwd) is like on entry: inode
 *               and birth time, mode, owner, size, links, entries, and
 *               with "arg" "xattr" its extended attributes' size (a
 *               policy must allow listxattr); then sleeps "ms"
 *   dir_taint   leave marks a recycled dir would carry to the next
 *               module: "mb" files (grows the dir), mode 0777, and with
 *               "arg" "xattr" a user.* attribute */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "event_arg.h"
#include "forkbox_module.h"

FORKBOX_MODULE();

static char *answer(const char *fmt, long long v)
{
	char *out = malloc(256);
	if (out)
		snprintf(out, 256, fmt, v);
	return out;
}

/* Its own staged module (name: as in its private dir, the cwd), which
 * may be a link to the zygote's snapshot that later invocations link too:
 * written through, made writable, linked elsewhere, then replaced. */
static char *tamper_module(const char *name)
{
	struct stat st;
	if (stat(name, &st) < 0)
		return answer("{\"stat_errno\": %lld}", errno);
	int fd = open(name, O_WRONLY | O_CLOEXEC);
	int write_errno = fd < 0 ? errno : 0;
	if (fd >= 0) {
		if (write(fd, "garbage", 7) != 7)
			write_errno = errno;
		close(fd);
	}
	int chmod_errno = chmod(name, 0666) < 0 ? errno : 0;
	int link_errno = link(name, "again") < 0 ? errno : 0;
	int unlink_errno = unlink(name) < 0 ? errno : 0;
	fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	int replace_errno = fd < 0 ? errno : 0;
	if (fd >= 0) {
		if (write(fd, "garbage", 7) != 7)
			replace_errno = errno;
		close(fd);
	}
	char *out = malloc(256);
	if (out)
		snprintf(out, 256,
			 "{\"nlink\": %lu, \"uid\": %u, \"mode\": %u, "
			 "\"write\": %d, \"chmod\": %d, \"link\": %d, "
			 "\"unlink\": %d, \"replace\": %d}",
			 (unsigned long)st.st_nlink, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777), write_errno,
			 chmod_errno, link_errno, unlink_errno, replace_errno);
	return out;
}

static char *daemonize(const char *name)
{
	pid_t pid = fork();
	if (pid < 0)
		return answer("{\"fork_errno\": %lld}", errno);
	if (pid == 0) {
		setsid();
		if (fork() == 0) {
			prctl(PR_SET_NAME, name);
			signal(SIGTERM, SIG_IGN);
			signal(SIGHUP, SIG_IGN);
			for (;;)
				pause();
		}
		_exit(0);
	}
	/* Let the grandchild get going before we return. */
	usleep(100000);
	return answer("{\"forked\": %lld}", 1);
}

static char *fill(size_t bytes)
{
	char *s = malloc(bytes + 3);
	if (!s)
		return NULL;
	s[0] = '"';
	memset(s + 1, 'x', bytes);
	s[bytes + 1] = '"';
	s[bytes + 2] = '\0';
	return s;
}

/* Where the tmp base can be listed (a module of the daemon's own uid), a
 * file in each dir made ahead for a later invocation would be that
 * invocation's to find. */
static char *plant_spares(bool chmod_only)
{
	const char *own = getenv("FORKBOX_TMP_DIR");
	char base[1024];
	snprintf(base, sizeof(base), "%s", own ? own : ".");
	char *slash = strrchr(base, '/');
	if (slash)
		*slash = '\0';
	DIR *d = opendir(base);
	if (!d)
		return answer("{\"list_errno\": %lld}", errno);
	long long spares = 0, planted = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ".spare-", 7) != 0)
			continue;
		spares++;
		char path[2048];
		if (chmod_only) {
			snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
			planted += chmod(path, 0) == 0;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s/planted.py", base,
			 de->d_name);
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0) {
			planted++;
			close(fd);
		}
	}
	closedir(d);
	char *out = malloc(96);
	if (out)
		snprintf(out, 96, "{\"spares\": %lld, \"planted\": %lld}",
			 spares, planted);
	return out;
}

/* The private dir's identity: a recycled dir keeps its inode and birth
 * time, a new one has its own. */
static long long dir_birth_ns(void)
{
	struct statx stx;
	if (statx(AT_FDCWD, ".", 0, STATX_BTIME, &stx) < 0 ||
	    !(stx.stx_mask & STATX_BTIME))
		return -1;
	return (long long)stx.stx_btime.tv_sec * 1000000000LL +
	       stx.stx_btime.tv_nsec;
}

static char *dir_stat(bool with_xattr, long long sleep_ms)
{
	struct stat st;
	if (stat(".", &st) < 0)
		return answer("{\"stat_errno\": %lld}", errno);
	long long entries = 0;
	DIR *d = opendir(".");
	struct dirent *de;
	while (d && (de = readdir(d)))
		entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	long long xattr = with_xattr ? listxattr(".", NULL, 0) : -1;
	struct timespec nap = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000};
	if (sleep_ms > 0)
		nanosleep(&nap, NULL);
	char *out = malloc(320);
	if (out)
		snprintf(out, 320,
			 "{\"ino\": %llu, \"birth_ns\": %lld, \"mode\": %u, "
			 "\"uid\": %u, \"size\": %lld, \"nlink\": %lu, "
			 "\"entries\": %lld, \"mtime\": %lld, "
			 "\"xattr_bytes\": %lld}",
			 (unsigned long long)st.st_ino, dir_birth_ns(),
			 st.st_mode & 07777, (unsigned)st.st_uid,
			 (long long)st.st_size, (unsigned long)st.st_nlink,
			 entries, (long long)st.st_mtime, xattr);
	return out;
}

static char *dir_taint(long long files, bool with_xattr)
{
	char name[64];
	for (long long i = 0; i < files; i++) {
		snprintf(name, sizeof(name), "taint-%050lld", i);
		int fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return answer("{\"create_errno\": %lld}", errno);
		close(fd);
	}
	if (with_xattr && setxattr(".", "user.taint", "x", 1, 0) < 0)
		return answer("{\"xattr_errno\": %lld}", errno);
	if (chmod(".", 0777) < 0)
		return answer("{\"chmod_errno\": %lld}", errno);
	struct stat st;
	if (stat(".", &st) < 0)
		return answer("{\"stat_errno\": %lld}", errno);
	char *out = malloc(128);
	if (out)
		snprintf(out, 128,
			 "{\"ino\": %llu, \"birth_ns\": %lld, \"size\": "
			 "%lld}",
			 (unsigned long long)st.st_ino, dir_birth_ns(),
			 (long long)st.st_size);
	return out;
}

char *handler(const char *event, size_t len, fbx_context *ctx)
{
	char what[64] = "", arg[1024] = "";
	event_str(event, "do", what, sizeof(what));
	event_str(event, "arg", arg, sizeof(arg));
	long long mb = event_num(event, "mb", 1);

	if (!strcmp(what, "segv")) {
		volatile int *p = NULL;
		*p = 1;
	} else if (!strcmp(what, "spin")) {
		signal(SIGTERM, SIG_IGN);
		for (volatile unsigned long i = 0;; i++)
			;
	} else if (!strcmp(what, "daemonize")) {
		return daemonize(arg[0] ? arg : "fbx-survivor");
	} else if (!strcmp(what, "kill_parent")) {
		int rc = kill(getppid(), SIGKILL);
		return answer("{\"kill_rc\": %lld}", rc);
	} else if (!strcmp(what, "kill_pid")) {
		int rc = kill((pid_t)mb, SIGKILL);
		return answer("{\"kill_rc\": %lld}", rc);
	} else if (!strcmp(what, "kill_all")) {
		int rc = kill(-1, SIGKILL);
		return answer("{\"kill_rc\": %lld}", rc);
	} else if (!strcmp(what, "connect")) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			return answer("{\"socket_errno\": %lld}", errno);
		struct sockaddr_in a = {
		    .sin_family = AF_INET,
		    .sin_port = htons((uint16_t)event_num(event, "port", 0))};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int rc = connect(s, (struct sockaddr *)&a, sizeof(a));
		return answer("{\"connect_rc\": %lld}", rc);
	} else if (!strcmp(what, "memory")) {
		size_t bytes = (size_t)mb << 20;
		/* volatile: a compiler may drop an unused malloc altogether. */
		volatile char *p = malloc(bytes);
		if (!p) {
			fbx_fail(ctx, "MemoryError", "malloc(%lld MiB) failed",
				 mb);
			return NULL;
		}
		for (size_t i = 0; i < bytes; i += 4096)
			p[i] = 1;
		return answer("{\"touched_mb\": %lld}", mb);
	} else if (!strcmp(what, "disk")) {
		int fd = open("fill.bin", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		static char block[1 << 20];
		memset(block, 'd', sizeof(block));
		long long done = 0;
		/* Keeps writing after a short write: the next one past
		 * RLIMIT_FSIZE raises SIGXFSZ. */
		for (; done < mb; done++)
			if (write(fd, block, sizeof(block)) <= 0)
				break;
		fbx_fail(ctx, "DiskError", "stopped after %lld MiB: %s", done,
			 strerror(errno));
		return NULL;
	} else if (!strcmp(what, "big_result")) {
		return fill((size_t)mb << 20);
	} else if (!strcmp(what, "print")) {
		static char line[1024];
		memset(line, 'p', sizeof(line) - 1);
		line[sizeof(line) - 2] = '\n';
		for (long long i = 0; i < mb * 1024; i++)
			fputs(line, stdout);
		printf("last line of print\n");
		return answer("%lld", 1);
	} else if (!strcmp(what, "symlinks")) {
		int ok = 0;
		ok += symlink(arg, "outside_dir") == 0;
		mkdir("nest", 0700);
		ok += symlink(arg, "nest/outside_again") == 0;
		ok += symlink("/", "root") == 0;
		char target[1100];
		snprintf(target, sizeof(target), "%s/canary", arg);
		ok += symlink(target, "canary_link") == 0;
		return answer("{\"links\": %lld}", ok);
	} else if (!strcmp(what, "stop_self")) {
		/* What forkbox's own end does, before any answer. */
		int rc = kill(0, SIGSTOP);
		return answer("{\"stop_rc\": %lld}", rc);
	} else if (!strcmp(what, "child_stays")) {
		/* A child in the module's own group, alive at the answer:
		 * the invocation must end it before it is reported. */
		pid_t pid = fork();
		if (pid < 0)
			return answer("{\"fork_errno\": %lld}", errno);
		if (pid == 0) {
			prctl(PR_SET_NAME, arg[0] ? arg : "fbx-stayer");
			for (;;)
				pause();
		}
		return answer("{\"forked\": %lld}", 1);
	} else if (!strcmp(what, "burn")) {
		/* mb: milliseconds of CPU to use before answering. */
		struct timespec t0, t;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
		do
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
		while ((t.tv_sec - t0.tv_sec) * 1000 +
			   (t.tv_nsec - t0.tv_nsec) / 1000000 <
		       mb);
		return answer("{\"burned_ms\": %lld}", mb);
	} else if (!strcmp(what, "ptrace")) {
		long rc = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		return answer("{\"ptrace_rc\": %lld}", rc);
	} else if (!strcmp(what, "exit")) {
		exit((int)event_num(event, "code", 3));
	} else if (!strcmp(what, "fail")) {
		fbx_fail(ctx, "MyError", "failed on purpose: %s", arg);
		return NULL;
	} else if (!strcmp(what, "null")) {
		return NULL;
	} else if (!strcmp(what, "echo")) {
		if (strlen(event) != len) {
			fbx_fail(ctx, "Test.BadEvent",
				 "event_len %zu != strlen %zu", len,
				 strlen(event));
			return NULL;
		}
		return strdup(event);
	} else if (!strcmp(what, "create")) {
		/* arg: a file to create and write, anywhere. */
		int fd =
		    open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int e = fd < 0 ? errno : 0;
		if (fd >= 0 && write(fd, "x", 1) != 1)
			e = errno;
		if (fd >= 0)
			close(fd);
		return answer("{\"create_errno\": %lld}", e);
	} else if (!strcmp(what, "rename")) {
		char to[1024] = "";
		event_str(event, "to", to, sizeof(to));
		int rc = rename(arg, to);
		return answer("{\"rename_errno\": %lld}", rc < 0 ? errno : 0);
	} else if (!strcmp(what, "setuid_file")) {
		/* A set-uid file made in its dir, by open and by chmod: run
		 * by another user it would run as this child's uid. */
		int fd = open("suid", O_WRONLY | O_CREAT | O_CLOEXEC, 04755);
		int open_errno = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		fd = open("plain", O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
		if (fd >= 0)
			close(fd);
		int chmod_errno = chmod("plain", 04755) < 0 ? errno : 0;
		int plain_errno = chmod("plain", 0700) < 0 ? errno : 0;
		char *out = malloc(128);
		if (out)
			snprintf(out, 128,
				 "{\"open\": %d, \"chmod\": %d, \"plain\": %d}",
				 open_errno, chmod_errno, plain_errno);
		return out;
	} else if (!strcmp(what, "rename_own")) {
		/* Its private dir, moved to "<name>-kept" beside it. */
		const char *own = getenv("FORKBOX_TMP_DIR");
		char to[1100];
		snprintf(to, sizeof(to), "%s-kept", own ? own : ".");
		int rc = own ? rename(own, to) : -1;
		return answer("{\"rename_errno\": %lld}",
			      rc < 0 ? (own ? errno : ENOENT) : 0);
	} else if (!strcmp(what, "chmod_base")) {
		/* The tmp base (its dir's parent) to mode mb (octal digits
		 * read as decimal: 500 is 0500). */
		char base[1024];
		const char *own = getenv("FORKBOX_TMP_DIR");
		snprintf(base, sizeof(base), "%s/..", own ? own : ".");
		mode_t mode =
		    (mode_t)(mb / 100 * 64 + mb / 10 % 10 * 8 + mb % 10);
		int rc = chmod(base, mode);
		return answer("{\"chmod_errno\": %lld}", rc < 0 ? errno : 0);
	} else if (!strcmp(what, "crowd")) {
		/* Up to mb sleepers named arg, each left by a child that exits
		 * at once: they become the zygote's children, listed ahead of
		 * anything re-parented later. Then "ms" of sleep. */
		long long made = 0;
		while (made < mb) {
			pid_t c = fork();
			if (c < 0)
				break;
			if (c == 0) {
				if (fork() == 0) {
					prctl(PR_SET_NAME, arg);
					for (;;)
						pause();
				}
				_exit(0);
			}
			waitpid(c, NULL, 0);
			made++;
		}
		usleep((useconds_t)event_num(event, "ms", 0) * 1000);
		return answer("{\"crowd\": %lld}", made);
	} else if (!strcmp(what, "setown")) {
		/* Names pid mb as the owner of its log pipe, for SIGIO: by
		 * fcntl and by ioctl. */
		int pid = (int)mb;
		if (event_num(event, "by_ioctl", 0)) {
			int rc = ioctl(1, FIOSETOWN, &pid);
			return answer("{\"ioctl_errno\": %lld}",
				      rc < 0 ? errno : 0);
		}
		int f = fcntl(1, F_SETOWN, pid) < 0 ? errno : 0;
		int s = fcntl(1, F_SETSIG, SIGKILL) < 0 ? errno : 0;
		char *out = malloc(96);
		if (out)
			snprintf(out, 96, "{\"fcntl\": %d, \"setsig\": %d}", f,
				 s);
		return out;
	} else if (!strcmp(what, "chmod_spares")) {
		return plant_spares(true);
	} else if (!strcmp(what, "plant_spares")) {
		return plant_spares(false);
	} else if (!strcmp(what, "tgkill_high")) {
		/* tgkill(pid | 1 << 32, pid, 0) on pid mb (0: its own): the
		 * kernel reads the tgid as an int, so this is pid. */
		pid_t pid = mb ? (pid_t)mb : getpid();
		long rc =
		    syscall(SYS_tgkill, (1L << 32) | (long)pid, (long)pid, 0L);
		return answer("{\"tgkill_errno\": %lld}", rc < 0 ? errno : 0);
	} else if (!strcmp(what, "signal0")) {
		/* mb: a pid (0: its own); signal 0 only asks whether it
		 * could be signalled. */
		int rc = kill(mb ? (pid_t)mb : getpid(), 0);
		return answer("{\"signal_errno\": %lld}", rc < 0 ? errno : 0);
	} else if (!strcmp(what, "dir_stat")) {
		return dir_stat(!strcmp(arg, "xattr"),
				event_num(event, "ms", 0));
	} else if (!strcmp(what, "dir_taint")) {
		return dir_taint(mb, !strcmp(arg, "xattr"));
	} else if (!strcmp(what, "tamper_module")) {
		return tamper_module(arg);
	} else if (!strcmp(what, "read")) {
		int fd = open(arg, O_RDONLY);
		if (fd < 0)
			return answer("{\"read_errno\": %lld}", errno);
		char buf[64];
		ssize_t n = read(fd, buf, sizeof(buf));
		close(fd);
		return answer("{\"read_bytes\": %lld}", n);
	}
	fbx_fail(ctx, "Test.UnknownAction", "unknown action '%s'", what);
	return NULL;
}
