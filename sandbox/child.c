/* The child's set-up, in order, between fork() and the module.
 *
 * A child is forked ahead of its request (a "spare") and does everything
 * that does not depend on the request before it waits: the request's
 * critical path is then only the job hand-over, staging and loading.
 *
 * Before the job:
 *  1. setsid: own session and process group, so the zygote can kill the
 *     group and the module has no controlling terminal (no TIOCSTI).
 *  2. die with the zygote (PR_SET_PDEATHSIG), then check it did not die
 *     before that took effect.
 *  3. default dispositions for every signal the zygote changed, empty mask.
 *  4. cwd: its private dir, made ahead by the zygote as ".spare-<uuid>"
 *     (renamed to "<uuid>" when the job comes).
 *  5. descriptors: the setup socket moved to fd 4, /dev/null onto 0-3,
 *     everything else closed (other invocations' pipes, the zygote's
 *     control socket, the tmp base).
 *  6. rlimits for the longest timeout allowed, while still privileged
 *     enough to set hard limits.
 *  7. uid/gid drop when the zygote runs as root (drops every capability).
 *  8. no_new_privs (required for an unprivileged seccomp filter).
 *  9. seccomp, from BPF compiled once in the zygote; the user-notification
 *     listener goes to the zygote, which learns every denied syscall. The
 *     zygote adds to the policy only what the steps below need on the
 *     setup socket (recvmsg/sendmsg on fd 4, dup2/dup3, prlimit64) where
 *     the policy does not already allow them.
 * 10. the default module copied into the private dir ahead (the job
 *     keeps the copy only if it still equals the file).
 * With the job:
 * 11. result and log pipes onto 3 and 1/2, the job read; CPU limit lowered
 *     to this request's timeout; environment completed (the inherited one
 *     is already only the allow-list) with TMPDIR/HOME and the request ids.
 * 12. the runtime stages the module into the private dir (or keeps the
 *     copy made ahead) and only then loads it and calls the entry. */
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
#include "sched_slice.h"

/* Reports a sandbox failure to the zygote through its setup socket, fd,
 * and dies. Only before seccomp. */
static __attribute__((noreturn)) void report_failure(int fd, int code,
						     const char *msg)
{
	struct fbx_msg_child m = {.type = FBX_MSG_CHILD_FAILED, .code = code};
	snprintf(m.msg, sizeof(m.msg), "%s", msg);
	(void)fbx_wire_send(fd, &m, sizeof(m), NULL, 0);
	_exit(126);
}

static __attribute__((noreturn)) void setup_failed(int code, const char *what)
{
	char msg[sizeof(((struct fbx_msg_child *)0)->msg)];
	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(code));
	report_failure(FBX_CHILD_FD_SETUP, code, msg);
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

/* As zygote_alive_or_die, once the pidfd is closed (fbx_layer_fds_arrange):
 * in a PID namespace, where the parent's pid cannot be seen, the setup
 * socket hangs up when the zygote, its only other holder, is gone. */
static void zygote_alive_after_fds(const struct fbx_child_args *a)
{
	if (!a->pidns) {
		if (getppid() != a->zygote_pid)
			_exit(125);
		return;
	}
	struct pollfd p = {.fd = FBX_CHILD_FD_SETUP, .events = POLLRDHUP};
	if (poll(&p, 1, 0) != 0 && (p.revents & (POLLHUP | POLLRDHUP)))
		_exit(125);
}

static void load_seccomp(const struct fbx_child_args *a)
{
	struct sock_fprog prog = {.len = a->bpf->len, .filter = a->bpf->insns};
	unsigned flags =
	    a->seccomp_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	long listener =
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (listener < 0)
		setup_failed(errno, "loading the seccomp filter");
	/* From here on only what the policy allows, plus the hand-over
	 * rules the zygote added for the setup socket. */
	struct fbx_msg_child m = {.type = FBX_MSG_CHILD_READY};
	int fd = (int)listener;
	(void)fbx_wire_send(FBX_CHILD_FD_SETUP, &m, sizeof(m), &fd,
			    a->seccomp_notify ? 1 : 0);
	if (a->seccomp_notify)
		close(fd);
}

/* What a spare writes ahead so that its job does not: every page the job's
 * steps first write (the environment, the job's strings, stack frames) is
 * copy-on-write from the zygote, and each first write is a page fault of a
 * few microseconds on this kind of VM. Measured between the job and the
 * staging of its module: 14 faults without this, 9 with it. Small on
 * purpose: a page written here that the job would not have written is a
 * fault added, and CPU is what limits pipelined throughput. The heap block
 * goes back to malloc's top (below the trim threshold), still mapped and
 * written. */
#define PREFAULT_HEAP  (16 * 1024)
#define PREFAULT_STACK (24 * 1024)

static __attribute__((noinline)) void prefault_stack(void)
{
	volatile char frame[PREFAULT_STACK];
	for (size_t i = 0; i < sizeof(frame); i += 4096)
		frame[i] = 0;
	frame[sizeof(frame) - 1] = 0;
}

static void prefault(void)
{
	char *block = malloc(PREFAULT_HEAP);
	if (block) {
		for (size_t i = 0; i < PREFAULT_HEAP; i += 4096)
			((volatile char *)block)[i] = 0;
		free(block);
	}
	prefault_stack();
}

int fbx_child_enter_after_load(const struct fbx_child *c)
{
	if (!c->after_load_bpf || c->after_load_bpf->len == 0)
		return 0;
	struct sock_fprog prog = {.len = c->after_load_bpf->len,
				  .filter = c->after_load_bpf->insns};
	/* Every thread: the module may have started some while it loaded
	 * (a constructor, an import), and those would keep the load stage's
	 * filter. A thread that cannot take it (its id is returned) fails
	 * the invocation. */
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_TSYNC, &prog);
	return rc < 0 ? -errno : rc > 0 ? -EAGAIN : 0;
}

/* Waits for the job and puts its descriptors in place. */
static void receive_job(struct fbx_child *child, uint32_t *timeout_ms)
{
	struct fbx_msg_job job;
	int fds[3];
	size_t n_fds = 0;
	ssize_t n = fbx_wire_recv(FBX_CHILD_FD_SETUP, &job, sizeof(job), fds, 3,
				  &n_fds);
	if (n == 0)
		_exit(0); /* the zygote retired this spare */
	if (n != (ssize_t)sizeof(job) || job.type != FBX_MSG_JOB || n_fds != 3)
		setup_failed(n < 0 ? (int)-n : EPROTO, "receiving the job");
	int job_fd = fds[0], result_fd = fds[1], log_fd = fds[2];
	if (dup2(log_fd, STDOUT_FILENO) < 0 ||
	    dup2(log_fd, STDERR_FILENO) < 0 ||
	    dup2(result_fd, FBX_CHILD_FD_RESULT) < 0)
		setup_failed(errno, "placing the result and log pipes");
	struct fbx_error err = {0};
	if (fbx_job_from_fd(job_fd, &child->job, &err) < 0)
		setup_failed(err.code, err.msg);
	close(job_fd);
	close(result_fd);
	close(log_fd);
	job.tmp_name[sizeof(job.tmp_name) - 1] = '\0';
	*timeout_ms = job.timeout_ms;
	child->timeout_ms = job.timeout_ms;
	child->stop_at_end = job.stop_at_end != 0;
	child->result_fd = FBX_CHILD_FD_RESULT;
	/* The path for the module's eyes: cwd, TMPDIR, HOME, ctx->tmp_dir. */
	snprintf(child->tmp_dir, sizeof(child->tmp_dir), "%s/%s", child->base,
		 job.tmp_name);
}

/* The answer is written. Asked to, the child stops (policy.h,
 * FBX_POLICY_ALLOW_GROUP_STOP): the zygote reports at once and kills it
 * after, so the teardown of its memory (from _exit to the zygote's SIGCHLD
 * 137 us for a native child, 13 us to a stop) runs after the report
 * instead of before it. As its PID namespace's init a child ignores its
 * own SIGSTOP: it exits as before. */
static __attribute__((noreturn)) void end(const struct fbx_child_args *a,
					  const struct fbx_child *c, int rc)
{
	if (rc == 0 && c->stop_at_end && !a->pidns)
		(void)kill(0, SIGSTOP);
	_exit(rc);
}

__attribute__((noreturn)) void fbx_child_main(struct fbx_child_args *a)
{
	static struct fbx_child child; /* the child is single-purpose now */
	uint32_t timeout_ms = a->cfg->timeout_ms;
	int rc;

	/* The zygote's short slice is its own (sched_slice.c); failing to
	 * drop it only leaves a module preempted sooner under contention. */
	(void)fbx_sched_slice_set(0);
	if (setsid() < 0)
		_exit(124);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		_exit(124);
	zygote_alive_or_die(a);
	if (fbx_layer_signals_reset(a->signals_changed) < 0)
		_exit(124);
	if (fchdir(a->dir_fd) < 0)
		_exit(124);
	/* Before the descriptors are arranged: the setup socket is still
	 * where the zygote made it. */
	struct fbx_error init_err = {0};
	/* A spare warms up (runtime_python.c) before any layer is in place,
	 * in its own dir: only where no other module can write there, under
	 * a uid of its own or Landlock. Else it could swap in the file the
	 * warm-up imports, to run unfiltered. */
	bool dir_is_private = a->uid != (uid_t)-1 || a->landlock_abi > 0;
	if (a->runtime->child_init &&
	    a->runtime->child_init(
		a->job_waiting || !dir_is_private ? -1 : a->setup_fd,
		&init_err) < 0)
		report_failure(a->setup_fd, init_err.code ? init_err.code : EIO,
			       init_err.msg);
	/* The zygote's copy of the default module, linked while we still
	 * have its uid: with protected_hardlinks only its owner may
	 * (zygote_snapshot.c). Failing, we copy it below like any spare. */
	bool module_linked =
	    !a->job_waiting && a->snapshot_fd >= 0 &&
	    linkat(a->snapshot_fd, fbx_runtime_base_name(a->cfg->module_path),
		   AT_FDCWD, fbx_runtime_base_name(a->cfg->module_path),
		   0) == 0;
	if ((rc = fbx_layer_fds_arrange(a->setup_fd)) < 0)
		_exit(124); /* nothing to report through: fds are in disarray */
	if ((rc = fbx_layer_rlimits_apply(a->cfg, timeout_ms)) < 0)
		setup_failed(-rc, "setting rlimits");
	if (a->uid != (uid_t)-1) {
		if ((rc = fbx_layer_drop_uid(a->uid, a->gid)) < 0)
			setup_failed(-rc, "dropping to the unprivileged uid");
		/* The kernel clears the parent-death signal on a change of
		 * credentials: armed again, and the zygote's death in between
		 * is caught by a second look. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			setup_failed(errno, "prctl(PR_SET_PDEATHSIG)");
		zygote_alive_after_fds(a);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		setup_failed(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	if (a->landlock_abi > 0 &&
	    (rc = fbx_layer_landlock(a->landlock_abi)) < 0)
		setup_failed(-rc, "entering the Landlock domain");
	load_seccomp(a);

	child.base = a->cfg->tmp_base;
	child.after_load_bpf = a->after_load_bpf;
	/* The dir's final name is known from the fork on: its part of the
	 * environment goes in ahead (the job's path is checked against it). */
	static char dir_ahead[sizeof(child.tmp_dir)];
	if (!a->job_waiting && a->dir_name) {
		snprintf(dir_ahead, sizeof(dir_ahead), "%s/%s", child.base,
			 a->dir_name);
		memcpy(child.tmp_dir, dir_ahead, sizeof(dir_ahead));
		if (fbx_layer_env_dir(&child) < 0)
			dir_ahead[0] = '\0';
	}
	/* As the job would, under the same uid and filter, but before it:
	 * creating and filling a file is the file system's slow part of
	 * staging, and the job then only compares (runtime_stage.c). A
	 * failure here is the job's to find and report. */
	if (module_linked)
		child.prestaged = a->cfg->module_path;
	else if (!a->job_waiting && a->cfg->module_path[0])
		(void)fbx_runtime_prestage(&child, a->cfg->module_path);
	if (!a->job_waiting)
		prefault();
	receive_job(&child, &timeout_ms);
	if ((rc = fbx_layer_cpu_limit(timeout_ms)) < 0)
		setup_failed(-rc, "lowering the CPU limit");
	if ((strcmp(dir_ahead, child.tmp_dir) != 0 &&
	     (rc = fbx_layer_env_dir(&child)) < 0) ||
	    (rc = fbx_layer_env_job(&child)) < 0)
		setup_failed(-rc, "building the environment");

	/* Done with the zygote: nothing of the module's may reach it. */
	close(FBX_CHILD_FD_SETUP);
	/* A failed staging was reported through the result channel. */
	rc = a->runtime->stage(&child) != 0 ? 0 : a->runtime->run(&child);
	end(a, &child, rc);
}
