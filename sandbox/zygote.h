/* The zygote: a single-threaded exec'd helper that forks one child per
 * invocation and supervises it (deadline, seccomp notifications, reaping,
 * killing the whole tree, removing the private dir). */
#ifndef FORKBOX_ZYGOTE_H
#define FORKBOX_ZYGOTE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "child.h"
#include "policy.h"
#include "wire.h"

struct fbx_invocation {
	bool used;
	uint32_t gen; /* tells stale epoll events from a reused slot */
	pid_t pid;
	uid_t uid;	/* (uid_t)-1 when children keep the zygote's uid */
	int done_fd;	/* pipe to the host for DONE */
	uint64_t token; /* the host's name for this invocation */
	int setup_sock; /* from the child until it is ready */
	int listener;	/* seccomp user-notification fd, or -1 */
	int64_t start_ns;
	int64_t deadline_ns;
	bool kill_sent;
	bool spare;	   /* forked ahead, no job yet */
	bool spare_failed; /* it reported a set-up failure before any job */
	bool ready;	   /* set up to the point of waiting for its job */
	bool dir_named;	   /* its dir was renamed from .spare-<name> */
	char name[FBX_TMPDIR_NAME_LEN + 1]; /* its private dir's uuid */
	struct fbx_msg_done done;
};

struct fbx_zygote {
	int ctrl;
	int epfd;
	int sigfd;
	int base_fd;
	int lock_fd;
	int self_pidfd;
	int log_fd;
	pid_t pid;
	uint32_t layers;
	sigset_t signals_changed; /* dispositions changed since exec */
	struct fbx_msg_init cfg;
	struct fbx_bpf bpf;
	struct fbx_bpf after_load_bpf; /* len 0: no after-load stage */
	const struct fbx_runtime_ops *runtime;
	struct fbx_invocation *invs;
	size_t n_invs;
	size_t n_active; /* slots in use, spares included */
	size_t n_spares;
	unsigned spare_failures; /* in a row; stops refilling when high */
	bool host_gone;
};

/* Reads INIT from the control socket, prepares everything, answers READY
 * (or INIT_FAILED, then returns -errno). */
int fbx_zygote_init(struct fbx_zygote *z, int ctrl_fd, int log_fd);

/* Serves until the host closes the control socket. Returns the exit code. */
int fbx_zygote_serve(struct fbx_zygote *z);

/* Kills what is left of an invocation's process tree and reaps the
 * orphans it left (zygote_reap.c). */
void fbx_zygote_kill_tree(struct fbx_zygote *z, struct fbx_invocation *inv);
/* owner: only leftovers of that uid, or (uid_t)-1 for all. */
uint32_t fbx_zygote_sweep_orphans(struct fbx_zygote *z, uid_t owner);

int64_t fbx_now_ns(void);

/* Adds the job hand-over rules and the signal guards to a freshly loaded
 * policy (zygote_policy.c). */
int fbx_zygote_amend_policy(struct fbx_policy *p, pid_t zygote, pid_t host,
			    struct fbx_error *err);

#endif
