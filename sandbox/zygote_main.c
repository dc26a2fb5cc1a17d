/* forkbox-zygote: exec'd by libforkbox with its control socket on fd 3,
 * diagnostics on fd 2. Not meant to be run by hand. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "zygote.h"

#define CTRL_FD 3

/* Sanitized builds give the zygote UBSan. Its deadly-signal handlers would
 * be inherited by every child and turn a module's segfault into a report
 * that the policy then kills; modules must see plain signal semantics. */
__attribute__((used, visibility("default"))) const char *
__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:"
	       "handle_abort=0:handle_sigtrap=0:print_stacktrace=0";
}

int main(int argc, char **argv)
{
	struct stat st;
	if (argc != 1 || fstat(CTRL_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr,
			"%s: internal helper of libforkbox; not meant to be "
			"run by hand\n",
			argv[0]);
		return 2;
	}
	/* The host may be a plugin host with descriptors it forgot to mark
	 * close-on-exec; none of them is ours to keep. */
	if (syscall(SYS_close_range, CTRL_FD + 1, ~0U, 0) < 0) {
		for (int fd = CTRL_FD + 1; fd < 65536; fd++)
			close(fd);
	}
	struct fbx_zygote z;
	if (fbx_zygote_init(&z, CTRL_FD, STDERR_FILENO) < 0)
		return 1;
	int rc = fbx_zygote_serve(&z);
	fbx_snapshot_drop(&z);
	fbx_janitor_stop(&z);
	return rc;
}
