/* The child's set-up, in order, between fork() and the module.
 *
 * Order and why:
 *  1. setsid: own session and process group, so the zygote can kill the
 *     group and the module has no controlling terminal (no TIOCSTI).
 *  2. die with the zygote (PR_SET_PDEATHSIG), then check it did not die
 *     before that took effect.
 *  3. default signal dispositions and an empty mask: the zygote blocks
 *     SIGCHLD and ignores SIGPIPE; the module must not inherit either.
 *  4. descriptors: the channels moved to fixed numbers, everything else
 *     closed (other invocations' pipes, the zygote's control socket).
 *  5. the job read, the private dir created and entered.
 *  6. environment rebuilt from the allow-list (the zygote's own env is
 *     already only the allow-list) plus TMPDIR/HOME.
 *  7. rlimits, while still privileged enough to set hard limits.
 *  8. uid/gid drop when the zygote runs as root (drops every capability).
 *  9. no_new_privs (required for an unprivileged seccomp filter).
 * 10. the runtime stages the module into the private dir, as the
 *     unprivileged user, before seccomp so the policy need not allow it.
 * 11. seccomp, from BPF compiled once in the zygote; the user-notification
 *     listener goes to the zygote, which learns every denied syscall.
 * 12. only now the runtime loads the module and calls it. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child_layers.h"
#include "frame.h"
#include "runtime.h"

/* Reports a sandbox failure to the zygote and dies. Only before seccomp. */
static __attribute__((noreturn)) void setup_failed(int code, const char *what)
{
	struct fbx_msg_child m = {.type = FBX_MSG_CHILD_FAILED, .code = code};
	snprintf(m.msg, sizeof(m.msg), "%s: %s", what, strerror(code));
	(void)fbx_wire_send(FBX_CHILD_FD_SETUP, &m, sizeof(m), NULL, 0);
	_exit(126);
}

static void zygote_alive_or_die(const struct fbx_child_args *a)
{
	if (a->zygote_pidfd >= 0) {
		struct pollfd p = {.fd = a->zygote_pidfd, .events = POLLIN};
		if (poll(&p, 1, 0) != 0)
			_exit(125);
	} else if (getpid() != 1 && getppid() != a->zygote_pid) {
		/* In a PID namespace getppid() is 0; there the pidfd is the
		 * only check, and PDEATHSIG is already armed. */
		_exit(125);
	}
}

static void load_seccomp(const struct fbx_child_args *a)
{
	struct sock_fprog prog = {.len = a->bpf->len, .filter = a->bpf->insns};
	unsigned flags = a->seccomp_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (listener < 0)
		setup_failed(errno, "loading the seccomp filter");
	/* From here on only what the policy allows: sendmsg on the setup
	 * socket is allowed by a rule the zygote adds for exactly this. */
	struct fbx_msg_child m = {.type = FBX_MSG_CHILD_READY};
	int fd = (int)listener;
	(void)fbx_wire_send(FBX_CHILD_FD_SETUP, &m, sizeof(m), &fd,
			    a->seccomp_notify ? 1 : 0);
	if (a->seccomp_notify)
		close(fd);
	close(FBX_CHILD_FD_SETUP);
}

__attribute__((noreturn)) void fbx_child_main(struct fbx_child_args *a)
{
	struct fbx_error err = {0};
	static struct fbx_child child; /* the child is single-purpose now */
	int rc;

	if (setsid() < 0)
		_exit(124);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		_exit(124);
	zygote_alive_or_die(a);
	if (fbx_layer_signals_reset(a->signals_changed) < 0)
		_exit(124);
	if ((rc = fbx_layer_fds_arrange(a)) < 0)
		_exit(124); /* nothing to report through: fds are in disarray */

	if (fbx_job_from_fd(FBX_CHILD_FD_JOB, &child.job, &err) < 0)
		setup_failed(err.code, err.msg);
	close(FBX_CHILD_FD_JOB);
	child.result_fd = FBX_CHILD_FD_RESULT;
	child.timeout_ms = a->timeout_ms;
	snprintf(child.tmp_dir, sizeof(child.tmp_dir), "%s/%s",
		 a->cfg->tmp_base, a->tmp_name);

	if (fbx_tmpdir_create(FBX_CHILD_FD_BASE, a->tmp_name, a->uid, a->gid, &err) < 0)
		setup_failed(err.code, err.msg);
	int dir = openat(FBX_CHILD_FD_BASE, a->tmp_name,
			 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		setup_failed(errno, "opening the private dir");
	if (fchdir(dir) < 0)
		setup_failed(errno, "entering the private dir");
	close(dir);
	close(FBX_CHILD_FD_BASE);

	if ((rc = fbx_layer_env_apply(&child)) < 0)
		setup_failed(-rc, "building the environment");
	if ((rc = fbx_layer_rlimits_apply(a->cfg, a->timeout_ms)) < 0)
		setup_failed(-rc, "setting rlimits");
	if (a->uid != (uid_t)-1 && (rc = fbx_layer_drop_uid(a->uid, a->gid)) < 0)
		setup_failed(-rc, "dropping to the unprivileged uid");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		setup_failed(errno, "prctl(PR_SET_NO_NEW_PRIVS)");

	if (a->runtime->stage(&child) != 0) {
		/* The module could not be staged; the runtime reported why. */
		close(FBX_CHILD_FD_SETUP);
		_exit(0);
	}
	load_seccomp(a);
	_exit(a->runtime->run(&child));
}
