/* LD_PRELOAD for `forkbox policy check` under qemu-user (tests/e2e/
 * test_lambda_zip.py): qemu-user does not emulate seccomp(2), so
 * libseccomp's probes of what the kernel supports fail and seccomp_init()
 * refuses every default action. This answers those probes as a kernel
 * with seccomp does (and refuses to install anything), so the policies are
 * parsed, resolved for the target's syscall table and compiled by the
 * target's own forkbox and libseccomp. Everything else is the real
 * syscall(). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <sys/syscall.h>

long syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_seccomp) {
		switch (a[0]) {
		case SECCOMP_SET_MODE_STRICT: /* flags != 0: "supported" */
			errno = EINVAL;
			return -1;
		case SECCOMP_SET_MODE_FILTER: /* a flag probe has no filter */
			errno = a[2] ? ENOSYS : EFAULT;
			return -1;
		case SECCOMP_GET_ACTION_AVAIL:
			return 0;
		case SECCOMP_GET_NOTIF_SIZES: {
			struct seccomp_notif_sizes *sizes = (void *)a[2];
			sizes->seccomp_notif = sizeof(struct seccomp_notif);
			sizes->seccomp_notif_resp =
			    sizeof(struct seccomp_notif_resp);
			sizes->seccomp_data = sizeof(struct seccomp_data);
			return 0;
		}
		default:
			errno = ENOSYS;
			return -1;
		}
	}
	long (*real)(long, ...) = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
