/* Zygote start-up: read the configuration, probe which layers this kernel
 * gives, compile the policy once, sweep stale private dirs, say READY. */
#include <errno.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_layers.h"
#include "log.h"
#include "runtime.h"
#include "sched_slice.h"
#include "zygote.h"

#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif

static bool seccomp_notify_available(void)
{
	uint32_t action = SECCOMP_RET_USER_NOTIF;
	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

/* A PID namespace needs CAP_SYS_ADMIN (root, or inside a user namespace
 * we own). Try it once rather than guess from uid or kernel version. */
static bool pidns_available(void)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL,
				   NULL, NULL, NULL);
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return false;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return true;
}

/* Whether a child can enter the Landlock domain its children would: the
 * kernel can say it has Landlock and still refuse a domain (at most 16
 * nest, and a supervisor of ours may have used them up). Found here, the
 * layer is reported missing; found in each child, every invocation would
 * fail. 0 or -errno. */
static int landlock_enterable(int abi)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (chdir("/") < 0 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(EIO);
		int rc = fbx_layer_landlock(abi);
		_exit(rc < 0 && -rc < 256 ? -rc : rc < 0 ? EIO : 0);
	}
	if (pid < 0)
		return -errno;
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? -WEXITSTATUS(status) : -ECHILD;
}

static int ready_failed(struct fbx_zygote *z, int code, const char *msg)
{
	struct fbx_msg_ready r = {.type = FBX_MSG_INIT_FAILED, .code = code};
	snprintf(r.msg, sizeof(r.msg), "%s", msg);
	(void)fbx_wire_send(z->ctrl, &r, sizeof(r), NULL, 0);
	return -code;
}

int fbx_zygote_init(struct fbx_zygote *z, int ctrl_fd, int log_fd)
{
	struct fbx_error err = {0};
	memset(z, 0, sizeof(*z));
	z->ctrl = ctrl_fd;
	z->log_fd = log_fd;
	z->epfd = z->sigfd = z->base_fd = z->lock_fd = z->self_pidfd = -1;
	z->janitor_fd = -1;
	z->free_fd = -1;
	z->snapshot.dir_fd = -1;
	z->pid = getpid();

	ssize_t n =
	    fbx_wire_recv(ctrl_fd, &z->cfg, sizeof(z->cfg), NULL, 0, NULL);
	if (n != (ssize_t)sizeof(z->cfg) || z->cfg.type != FBX_MSG_INIT ||
	    z->cfg.version != FBX_WIRE_VERSION)
		return ready_failed(z, EPROTO,
				    "zygote helper does not match this "
				    "libforkbox (reinstall forkbox)");
	z->cfg.runtime[sizeof(z->cfg.runtime) - 1] = '\0';
	z->cfg.policy_path[sizeof(z->cfg.policy_path) - 1] = '\0';
	z->cfg.tmp_base[sizeof(z->cfg.tmp_base) - 1] = '\0';
	z->cfg.preload[sizeof(z->cfg.preload) - 1] = '\0';
	z->cfg.module_dir[sizeof(z->cfg.module_dir) - 1] = '\0';
	z->cfg.module_path[sizeof(z->cfg.module_path) - 1] = '\0';

	/* Orphans of every invocation come back to us, to be killed. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == 0)
		z->layers |= FBX_LAYER_SUBREAPER;
	/* Modules run as our uid when we are not root: keep them from
	 * ptrace-attaching to us or reading our memory through /proc. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		return ready_failed(z, errno, "prctl(PR_SET_DUMPABLE)");

	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0 ||
	    (z->sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return ready_failed(z, errno, "signalfd(SIGCHLD)");
	/* A host that went away must not kill us mid-cleanup. */
	sigemptyset(&z->signals_changed);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return ready_failed(z, errno, "ignoring SIGPIPE");
	z->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (z->epfd < 0)
		return ready_failed(z, errno, "epoll_create1");
	z->self_pidfd = (int)syscall(SYS_pidfd_open, z->pid, 0);

	z->runtime = fbx_runtime_find(z->cfg.runtime);
	if (!z->runtime) {
		char msg[128];
		snprintf(msg, sizeof(msg), "unknown runtime '%s'",
			 z->cfg.runtime);
		return ready_failed(z, EINVAL, msg);
	}

	if (fbx_tmpdir_base_open(z->cfg.tmp_base, &z->base_fd, &err) < 0)
		return ready_failed(z, err.code, err.msg);
	struct stat base_st;
	if (fstat(z->base_fd, &base_st) < 0)
		return ready_failed(z, errno, "fstat of the tmp base");
	z->base_mode = base_st.st_mode & 07777;
	size_t swept = 0;
	int rc;
	if (fbx_tmpdir_base_lock_and_sweep(z->base_fd, &z->lock_fd, &swept,
					   &err) < 0)
		return ready_failed(z, err.code, err.msg);

	/* Before the policy is compiled: its signal guards name the janitor
	 * too. Without one, dirs are removed inline. */
	rc = fbx_janitor_start(z);
	if (rc < 0)
		fbx_log_errno(z->log_fd, "warn", -rc,
			      "cannot start the janitor process");

	uint32_t off = z->cfg.disable_layers;
	bool notify =
	    !(off & FBX_LAYER_SECCOMP_NOTIFY) && seccomp_notify_available();
	struct fbx_policy *policy = NULL;
	if (z->cfg.learn) {
		/* Learn mode: an empty policy whose default (kill, compiled
		 * as a notification) the listener answers by letting every
		 * call through and recording it (zygote.c). */
		if (!notify)
			return ready_failed(
			    z, ENOSYS,
			    "learning a policy needs seccomp user notification "
			    "(Linux 5.5 or later)");
		if (fbx_policy_parse("", "(learn)", NULL, &policy, &err) < 0)
			return ready_failed(z, err.code, err.msg);
	} else if (fbx_policy_load(z->cfg.policy_path, &policy, &err) < 0) {
		return ready_failed(z, err.code, err.msg);
	}
	rc = fbx_zygote_amend_policy(policy, z->pid, getppid(), z->janitor_pid,
				     &err);
	if (rc == 0)
		rc = fbx_policy_compile(
		    policy,
		    FBX_POLICY_ALLOW_GROUP_STOP |
			(notify ? FBX_POLICY_KILL_VIA_NOTIFY : 0),
		    &z->bpf, &err);
	/* The after-load stage kills plainly: its filter is added after
	 * module code ran, so no listener of it could be trusted to reach
	 * us. */
	if (rc == 0 && policy->after_load)
		rc = fbx_policy_compile(policy->after_load,
					FBX_POLICY_ALLOW_GROUP_STOP,
					&z->after_load_bpf, &err);
	fbx_policy_free(policy);
	if (rc < 0)
		return ready_failed(z, err.code, err.msg);
	z->layers |= FBX_LAYER_SECCOMP;
	if (notify)
		z->layers |= FBX_LAYER_SECCOMP_NOTIFY;
	if (!(off & FBX_LAYER_PIDNS) && pidns_available())
		z->layers |= FBX_LAYER_PIDNS;
	if (z->cfg.run_uid >= 0)
		z->layers |= FBX_LAYER_UID_DROP;
	z->landlock_abi = fbx_landlock_abi();
	if (!(off & FBX_LAYER_LANDLOCK) && z->landlock_abi >= 1) {
		bool scope =
		    !(off & FBX_LAYER_LANDLOCK_SCOPE) && z->landlock_abi >= 6;
		rc = landlock_enterable(
		    scope ? z->landlock_abi
			  : (z->landlock_abi < 5 ? z->landlock_abi : 5));
		if (rc == 0)
			z->layers |= FBX_LAYER_LANDLOCK |
				     (scope ? FBX_LAYER_LANDLOCK_SCOPE : 0);
		else
			fbx_log_errno(z->log_fd, "warn", -rc,
				      "the kernel has Landlock (ABI %d) but a "
				      "child cannot enter a domain here%s: no "
				      "landlock layer",
				      z->landlock_abi,
				      rc == -E2BIG ? " (at most 16 domains "
						     "nest, and those above "
						     "us took them all)"
						   : "");
	}

	if (z->runtime->zygote_init &&
	    z->runtime->zygote_init(&z->cfg, z->base_fd, z->log_fd, &err) < 0)
		return ready_failed(z, err.code, err.msg);

	/* After the runtime's start-up: an interpreter is best initialised
	 * without filters of ours in the way, however permissive. */
	if (fbx_zygote_seccomp_uncached(&err) < 0)
		fbx_log(z->log_fd, "warn", "%s (children start slower)",
			err.msg);
	/* Only an optimisation (sched_slice.c), without effect before 6.12. */
	(void)fbx_sched_slice_set(FBX_ZYGOTE_SLICE_NS);

	/* Whatever still has a handler or is ignored (our SIGPIPE, anything a
	 * runtime or a sanitizer installed) is reset in every child. */
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sig != SIGKILL && sig != SIGSTOP &&
		    sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL)
			sigaddset(&z->signals_changed, sig);
	}

	struct fbx_msg_ready r = {.type = FBX_MSG_READY,
				  .after_load = z->after_load_bpf.len > 0,
				  .layers = z->layers,
				  .swept = (uint32_t)swept};
	rc = fbx_wire_send(ctrl_fd, &r, sizeof(r), NULL, 0);
	return rc;
}
