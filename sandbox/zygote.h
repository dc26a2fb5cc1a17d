/* The zygote: a single-threaded exec'd helper that forks one child per
 * invocation and supervises it (deadline, seccomp notifications, reaping,
 * killing the whole tree, removing the private dir). */
#ifndef FORKBOX_ZYGOTE_H
#define FORKBOX_ZYGOTE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

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
	bool ended;	   /* stopped at its end: its exit is a clean one */
	bool stop_at_end;  /* its job asked it to stop at its end */
	/* Reported, its child killed but not yet reaped: the slot (and its
	 * uid) is not reused until the child is gone. */
	bool draining;
	char name[FBX_TMPDIR_NAME_LEN + 1]; /* its private dir's uuid */
	dev_t dir_dev; /* its dir as made, to tell whether it was swapped */
	ino_t dir_ino;
	struct fbx_msg_done done;
};

/* The default module copied once for every spare to link
 * (zygote_snapshot.c). */
struct fbx_module_snapshot {
	int dir_fd; /* -1: none */
	char dir_name[FBX_TMPDIR_MODULE_LEN + 1];
	struct stat source; /* the module's path as it was copied */
	bool disabled;	    /* making one failed: spares copy */
};

/* A recycled dir sent back by the janitor, and the lull it waits for. */
struct fbx_free_dir {
	char name[FBX_TMPDIR_FREE_LEN + 1];
	uint64_t usable_at; /* fbx_zygote.lulls */
};
/* Recycled dirs kept waiting for a lull at most (more are removed). */
#define FBX_HELD_DIRS 16

struct fbx_zygote {
	int ctrl;
	int epfd;
	int sigfd;
	int base_fd;
	mode_t base_mode; /* as found at the start, restored if changed */
	int lock_fd;
	int self_pidfd;
	int log_fd;
	pid_t pid;
	uint32_t layers;
	int landlock_abi;	  /* what the kernel gives, 0 when none */
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
	bool retiring;	   /* RETIRE came: finish what runs, then exit */
	pid_t janitor_pid; /* 0: none, dirs are removed inline */
	int janitor_fd;	   /* names of dirs to remove, to the janitor */
	int free_fd;	   /* names of recycled dirs, from the janitor */
	/* Lulls so far (moments when no invocation runs): a recycled dir
	 * serves again only after one that came after its invocation ended
	 * (zygote_janitor.c). */
	uint64_t lulls;
	struct fbx_free_dir held[FBX_HELD_DIRS]; /* recycled, not yet usable */
	size_t n_held;
	/* A new private dir, as made here last: what a recycled one must
	 * look like (tmpdir_recycle.c). */
	struct fbx_tmpdir_shape dir_shape;
	bool dir_shape_known;
	int64_t last_done_ns; /* when the last report went out */
	struct fbx_module_snapshot snapshot;
};

/* Reads INIT from the control socket, prepares everything, answers READY
 * (or INIT_FAILED, then returns -errno). */
int fbx_zygote_init(struct fbx_zygote *z, int ctrl_fd, int log_fd);

/* Serves until the host closes the control socket (then kills every
 * child) or, after RETIRE, until no child is left. Returns the exit
 * code. */
int fbx_zygote_serve(struct fbx_zygote *z);

/* What an event of the serve loop's epoll set is about: the kind in the low
 * byte, then the slot and the slot's gen, which tells a stale event from
 * one of the slot's next user. */
enum fbx_ev_kind {
	FBX_EV_CTRL = 1,
	FBX_EV_SIGCHLD,
	FBX_EV_SETUP,
	FBX_EV_LISTENER,
};

static inline uint64_t fbx_ev_data(enum fbx_ev_kind kind, size_t slot,
				   uint32_t gen)
{
	return (uint64_t)kind | ((uint64_t)slot << 8) | ((uint64_t)gen << 32);
}

/* Adds fd to the serve loop's epoll set. Returns 0 or -errno. */
int fbx_zygote_watch(struct fbx_zygote *z, int fd, uint64_t data);

static inline void fbx_close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Spare children (zygote_spare.c). fbx_spare_fork forks one that sets
 * itself up and waits for its job (NULL and *err set when it cannot);
 * fbx_spares_fill keeps the configured number forked; fbx_spare_take
 * picks the best one for a job, or NULL; fbx_spare_lost cleans up after
 * one that died before any job; fbx_spares_retire tells every spare to
 * exit. */
/* job_waiting: forked on demand for a job already there (no spare was
 * ready), so nothing worth doing ahead. */
struct fbx_invocation *fbx_spare_fork(struct fbx_zygote *z, bool job_waiting,
				      int *err);
void fbx_spares_fill(struct fbx_zygote *z);
struct fbx_invocation *fbx_spare_take(struct fbx_zygote *z);
void fbx_spare_lost(struct fbx_zygote *z, struct fbx_invocation *inv,
		    int status);
void fbx_spares_retire(struct fbx_zygote *z);

/* The module snapshot's dir for the next spare to link from, made or
 * made again when the module's path changed; -1 when there is none
 * (zygote_snapshot.c). fbx_snapshot_drop removes it. */
int fbx_snapshot_fd(struct fbx_zygote *z);
void fbx_snapshot_drop(struct fbx_zygote *z);

/* Sets the tmp base's mode back if a module of our uid changed it
 * (zygote_spare.c). */
void fbx_zygote_base_mode_restore(struct fbx_zygote *z);

/* Kills what is left of an invocation's process tree and reaps the
 * orphans it left (zygote_reap.c). */
void fbx_zygote_kill_tree(struct fbx_zygote *z, struct fbx_invocation *inv);
/* owner: only leftovers of that uid, or (uid_t)-1 for all. */
uint32_t fbx_zygote_sweep_orphans(struct fbx_zygote *z, uid_t owner);
/* Whether pid is one thread without children (zombies count as children);
 * false when that cannot be read. */
bool fbx_zygote_is_lone_thread(pid_t pid);

int64_t fbx_now_ns(void);

/* Takes fd out of the epoll set, then closes it. A child forked meanwhile
 * may hold a copy: closing ours alone would leave it in the set, reporting
 * events for a slot that is gone (a busy loop) until that copy closes. */
void fbx_zygote_unwatch_close(struct fbx_zygote *z, int *fd);

/* Adds the job hand-over rules and the signal guards (for the zygote, its
 * host and its janitor, 0 if none) to a freshly loaded policy
 * (zygote_policy.c). */
int fbx_zygote_amend_policy(struct fbx_policy *p, pid_t zygote, pid_t host,
			    pid_t janitor, struct fbx_error *err);

/* The janitor process that removes retired private dirs out of the
 * zygote's loop (zygote_janitor.c). remove hands it one (or removes it
 * inline when it cannot); lost is for its death; stop waits for it to
 * finish the queue. */
int fbx_janitor_start(struct fbx_zygote *z);
void fbx_janitor_remove(struct fbx_zygote *z, const char *trash);
/* Takes the name of a recycled dir the janitor sent back, if any. */
bool fbx_janitor_take_free(struct fbx_zygote *z,
			   char name[FBX_TMPDIR_FREE_LEN + 1]);
void fbx_janitor_lost(struct fbx_zygote *z, int status);
void fbx_janitor_stop(struct fbx_zygote *z);

/* Puts the zygote under a filter that allows everything, so that no
 * child's filter pays for the kernel's syscall cache (zygote_policy.c). */
int fbx_zygote_seccomp_uncached(struct fbx_error *err);

#endif
