/* The child: everything between fork() and the module's entry. */
#ifndef FORKBOX_CHILD_H
#define FORKBOX_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "job.h"
#include "policy.h"
#include "tmpdir.h"
#include "wire.h"

/* Fixed descriptor numbers inside the child. The module sees 0-3; 4 only
 * lives until the seccomp listener has been handed over. */
enum {
	FBX_CHILD_FD_STDIN = 0,
	FBX_CHILD_FD_RESULT = 3,
	FBX_CHILD_FD_SETUP = 4,
	FBX_CHILD_FD_FIRST_FREE = 5,
};

/* What the zygote hands to a freshly forked child. Everything here is
 * known before any request: the child is forked ahead as a spare, sets
 * itself up (seccomp included), then waits on its setup socket for a JOB
 * (fbx_msg_job) with the invocation's job memfd, result and log pipes. */
struct fbx_child_args {
	bool job_waiting; /* forked on demand: its job is already there */
	const struct fbx_msg_init *cfg;
	const struct fbx_bpf *bpf;
	const struct fbx_bpf *after_load_bpf; /* len 0 when none */
	bool seccomp_notify;
	bool pidns;	  /* the child is its PID namespace's init */
	int landlock_abi; /* 0: no Landlock layer; 5 or less: no scoping */
	const struct fbx_runtime_ops *runtime;
	pid_t zygote_pid;
	int zygote_pidfd; /* -1 when the kernel has no pidfd_open */
	int setup_fd;
	int dir_fd; /* the private dir made ahead for it (".spare-<uuid>") */
	const char *dir_name; /* the name it takes at hand-over ("<uuid>") */
	int snapshot_fd;      /* the default module's snapshot dir, or -1 */
	const sigset_t *signals_changed; /* dispositions to reset */
	uid_t uid;			 /* (uid_t)-1: keep the zygote's */
	gid_t gid;
};

/* State of a child once set up, passed to the runtime. */
struct fbx_child {
	const char *base;		      /* the tmp base */
	const struct fbx_bpf *after_load_bpf; /* len 0 when none */
	struct fbx_job job;
	char tmp_dir[PATH_MAX + 64];
	int result_fd;
	uint32_t timeout_ms;
	bool stop_at_end;      /* the job asked for it (wire.h) */
	const char *prestaged; /* the module copied ahead, or NULL */
};

/* For runtimes, between loading the module and calling its entry: adds
 * the policy's after-load stage, if it has one. 0 or -errno. */
int fbx_child_enter_after_load(const struct fbx_child *c);

/* Never returns: sets the child up, runs the module, _exit()s. */
__attribute__((noreturn)) void fbx_child_main(struct fbx_child_args *args);

#endif
