/* The host side of libforkbox: the handle, the zygote's life cycle
 * (host.c) and one invocation (invoke.c, outcome.c). */
#ifndef FORKBOX_HOST_H
#define FORKBOX_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "forkbox.h"
#include "response.h"
#include "wire.h"

/* A zygote replaced by a fresh one (recycling): it was sent RETIRE and
 * finishes its invocations in flight, then exits. Its control socket stays
 * open for KILLs until it hangs up. */
struct fbx_retired {
	int ctrl;  /* -1 once it hung up */
	pid_t pid; /* reaped without blocking at each spawn */
	uint64_t gen;
	unsigned uid_range; /* its children's uids (FBX_RUN_UID_SPAN each) */
};

/* At most this many retired zygotes still finishing at once; while as many
 * are alive, recycling waits (the current zygote keeps serving). A retired
 * zygote lives at most as long as its slowest invocation (the timeout). */
#define FBX_MAX_RETIRED 8

/* A handle's uid ranges (root only): block b holds ranges b * (
 * FBX_MAX_RETIRED + 1) onwards, FBX_RUN_UID_SPAN uids each
 * (host_uid_block.c). Every uid must fit INIT's int32_t run_uid, where a
 * negative value means "no uid drop": 416 blocks of 9 ranges do. */
#define FBX_UID_BLOCKS	     416
#define FBX_UID_BLOCK_RANGES (FBX_MAX_RETIRED + 1)
_Static_assert((int64_t)FBX_RUN_UID_BASE +
		       (int64_t)FBX_UID_BLOCKS * FBX_UID_BLOCK_RANGES *
			   FBX_RUN_UID_SPAN -
		       1 <=
		   INT32_MAX,
	       "slot uids must fit an int32_t");

/* Claims a block no other handle on this machine holds: *block, and the
 * lock to keep open as long as the handle lives. 0 or -errno. */
int fbx_host_claim_uid_block(unsigned *block, int *lock_fd,
			     struct fbx_error *err);

struct fbx_sandbox {
	pthread_mutex_t lock;  /* guards everything about the zygote */
	struct fbx_config cfg; /* strings below are owned copies */
	char *runtime;
	char *module_path; /* absolute */
	char *entry;
	char *function_name;
	char *zygote_path;
	char **zygote_env; /* allow-listed host environment */
	struct fbx_msg_init init;

	int ctrl; /* control socket to the zygote, -1 when down */
	pid_t zygote_pid;
	uint64_t zygote_gen; /* bumped at every (re)start */
	uint64_t next_token; /* names invocations for KILL */
	/* Recycling: what the current zygote has done, and since when
	 * (CLOCK_MONOTONIC ns). */
	unsigned zygote_invocations;
	int64_t zygote_started_ns;
	unsigned uid_range; /* the current zygote's: INIT's run_uid */
	unsigned uid_block; /* this handle's (host_uid_block.c) */
	int uid_block_lock; /* -1 when it runs no children under uids */
	struct fbx_retired retired[FBX_MAX_RETIRED];
	size_t n_retired;
	uint64_t recycle_waiting_gen; /* said so for this gen: log it once */
	uint32_t layers;
	bool after_load; /* the policy has an after-load stage */
};

/* Asks the zygote of generation gen (the current one or a retired one) to
 * kill invocation token (e.g. its result is too large); a no-op when that
 * zygote is gone. */
void fbx_host_kill(struct fbx_sandbox *sb, uint64_t gen, uint64_t token);

/* Sends a SPAWN with its fds to a live zygote, restarting it when it is
 * dead and recycling it when it is due. *restarted is set when this call
 * restarted it. */
int fbx_host_spawn(struct fbx_sandbox *sb, uint32_t timeout_ms,
		   const int fds[4], bool *restarted, uint64_t *gen,
		   uint64_t *token, struct fbx_error *err);

/* Marks the zygote of generation gen dead (it hung up mid-invocation or
 * stopped answering); the next spawn restarts it. */
void fbx_host_zygote_failed(struct fbx_sandbox *sb, uint64_t gen, bool kill_it);

/* The current zygote's life cycle (host.c), with sb->lock held: start one
 * and wait for READY (sb->ctrl, zygote_pid, gen and the recycling counters
 * then describe it); stop it, closing its control socket (which makes it
 * kill every child and exit) and waiting for it, after SIGKILL when
 * kill_it. */
int fbx_host_zygote_start(struct fbx_sandbox *sb, struct fbx_error *err);
void fbx_host_zygote_stop(struct fbx_sandbox *sb, bool kill_it);

/* Recycling (host_recycle.c), all with sb->lock held. fbx_host_recycle
 * reaps the retired zygotes that have exited and, when the current one
 * has reached zygote_max_invocations or zygote_max_age_s, replaces it by
 * a fresh one and retires it; when the fresh one does not start it only
 * logs, and the current one keeps serving. fbx_host_retired_find returns
 * the live retired zygote of generation gen, or NULL.
 * fbx_host_retired_stop_all closes every retired zygote's control socket
 * and waits for it to finish its invocations and exit. */
void fbx_host_recycle(struct fbx_sandbox *sb);
struct fbx_retired *fbx_host_retired_find(struct fbx_sandbox *sb, uint64_t gen);
void fbx_host_retired_stop_all(struct fbx_sandbox *sb);
int64_t fbx_host_now_ns(void); /* CLOCK_MONOTONIC */

/* What one invocation produced, turned into a response (outcome.c). */
struct fbx_outcome {
	const char *id_json;
	const char *request_id;
	const struct fbx_msg_done
	    *done; /* NULL when the zygote never answered */
	bool output_too_large;
	size_t max_result_bytes;
	uint32_t timeout_ms;
	const char *frame; /* payload of the child's frame, or NULL */
	size_t frame_len;
	uint32_t frame_kind;
	bool frame_truncated;
	bool raw; /* frame holds an exec'd program's stdout, not a frame */
	const char *logs;
	size_t logs_len;
	bool zygote_restarted;
	bool named_denials;	    /* seccomp user notification was in force */
	bool after_load;	    /* the policy has an after-load stage */
	const char *internal_error; /* the sandbox failed: message */
	bool learn; /* report the syscalls recorded (done->syscalls) */
};

/* Returns 0 or -errno (a sandbox failure); *response is always set unless
 * allocation failed. */
int fbx_outcome_respond(const struct fbx_outcome *o, char **response,
			struct fbx_error *err);

#endif
