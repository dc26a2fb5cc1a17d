/* Performs the one raw syscall named by the event's "sys" and reports what
 * it returned: {"rc": N, "errno": E}. A syscall the policy kills never
 * returns; the invocation then fails with Forkbox.SyscallDenied. Like
 * bubblewrap's tests/try-syscall.c, it drives the policy tests. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "event_arg.h"
#include "forkbox_module.h"

FORKBOX_MODULE();

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

static long int80_getpid(void)
{
#if defined(__x86_64__)
	long ret;
	/* i386 getpid is 20 */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
	return ret;
#else
	errno = ENOSYS;
	return -1;
#endif
}

static long try(const char *sys)
{
	char byte = 'x';
	struct iovec iov = {&byte, 1};
	if (!strcmp(sys, "noop"))
		return 0; /* no syscall at all */
	if (!strcmp(sys, "getpid"))
		return syscall(SYS_getpid);
	if (!strcmp(sys, "socket_unix"))
		return socket(AF_UNIX, SOCK_STREAM, 0);
	if (!strcmp(sys, "socket_inet"))
		return socket(AF_INET, SOCK_STREAM, 0);
	if (!strcmp(sys, "socket_raw"))
		return socket(AF_INET, SOCK_RAW, 1 /* ICMP */);
	if (!strcmp(sys, "socket_udp6"))
		return socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!strcmp(sys, "bind_inet")) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET};
		return s < 0 ? s : bind(s, (struct sockaddr *)&a, sizeof(a));
	}
	if (!strcmp(sys, "socket_netlink"))
		return socket(AF_NETLINK, SOCK_RAW, 0);
	if (!strcmp(sys, "ptrace"))
		return syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
	if (!strcmp(sys, "process_vm_writev"))
		return syscall(SYS_process_vm_writev, getppid(), &iov, 1, &iov,
			       1, 0);
	if (!strcmp(sys, "mount"))
		return syscall(SYS_mount, "none", ".", "tmpfs", 0, NULL);
	if (!strcmp(sys, "umount2"))
		return syscall(SYS_umount2, ".", 0);
	if (!strcmp(sys, "unshare"))
		return syscall(SYS_unshare, CLONE_NEWUSER);
	if (!strcmp(sys, "setns"))
		return syscall(SYS_setns, 0, 0);
	if (!strcmp(sys, "bpf"))
		return syscall(SYS_bpf, 0, NULL, 0);
	if (!strcmp(sys, "perf_event_open"))
		return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
	if (!strcmp(sys, "userfaultfd"))
		return syscall(SYS_userfaultfd, 0);
	if (!strcmp(sys, "io_uring_setup"))
		return syscall(SYS_io_uring_setup, 1, NULL);
	if (!strcmp(sys, "keyctl"))
		return syscall(SYS_keyctl, 0, 0, 0, 0, 0);
	if (!strcmp(sys, "add_key"))
		return syscall(SYS_add_key, "user", "k", "v", 1,
			       -2 /* session */);
	if (!strcmp(sys, "kexec_load"))
		return syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (!strcmp(sys, "init_module"))
		return syscall(SYS_init_module, NULL, 0, "");
	if (!strcmp(sys, "personality"))
		return syscall(SYS_personality, PER_LINUX32);
	if (!strcmp(sys, "clone_newuser"))
		return syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL,
			       NULL, NULL);
	if (!strcmp(sys, "clone3"))
		return syscall(SYS_clone3, NULL, 0);
	if (!strcmp(sys, "execve")) {
		char *argv[] = {(char *)"true", NULL};
		return syscall(SYS_execve, "/bin/true", argv, NULL);
	}
	if (!strcmp(sys, "ioctl_tiocsti"))
		return syscall(SYS_ioctl, 0, TIOCSTI, &byte);
	if (!strcmp(sys, "ioctl_tiocsti_high"))
		return syscall(SYS_ioctl, 0, 0x100000000UL | TIOCSTI, &byte);
	if (!strcmp(sys, "chroot"))
		return syscall(SYS_chroot, "/");
	if (!strcmp(sys, "x32_getpid"))
		return syscall(__X32_SYSCALL_BIT | SYS_getpid);
	if (!strcmp(sys, "int80_getpid"))
		return int80_getpid();
	if (!strcmp(sys, "mprotect_exec")) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		return syscall(SYS_mprotect, p, 4096,
			       PROT_READ | PROT_WRITE | PROT_EXEC);
	}
	errno = 0;
	return -1000;
}

char *handler(const char *event, size_t len, fbx_context *ctx)
{
	char sys[64];
	if (!event_str(event, "sys", sys, sizeof(sys))) {
		fbx_fail(ctx, "Test.BadEvent", "no \"sys\"");
		return NULL;
	}
	errno = 0;
	long rc = try(sys);
	if (rc == -1000) {
		fbx_fail(ctx, "Test.UnknownSyscall", "unknown sys '%s'", sys);
		return NULL;
	}
	char *out = malloc(128);
	if (out)
		snprintf(out, 128, "{\"rc\": %d, \"errno\": %d}",
			 rc < 0 ? -1 : 0, rc < 0 ? errno : 0);
	return out;
}
