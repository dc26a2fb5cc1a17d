/* The host side of libforkbox: the handle, the zygote's life cycle
 * (host.c) and one invocation (invoke.c, outcome.c). */
#ifndef FORKBOX_HOST_H
#define FORKBOX_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "forkbox.h"
#include "response.h"
#include "wire.h"

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
	uint32_t layers;
	bool after_load; /* the policy has an after-load stage */
};

/* Sends a SPAWN with its fds to a live zygote, restarting it when it is
 * dead. *restarted is set when this call restarted it. */
/* Asks the zygote of generation gen to kill invocation token (e.g. its
 * result is too large); a no-op when that zygote is gone. */
void fbx_host_kill(struct fbx_sandbox *sb, uint64_t gen, uint64_t token);

int fbx_host_spawn(struct fbx_sandbox *sb, uint32_t timeout_ms,
		   const int fds[4], bool *restarted, uint64_t *gen,
		   uint64_t *token, struct fbx_error *err);

/* Marks the zygote of generation gen dead (it hung up mid-invocation or
 * stopped answering); the next spawn restarts it. */
void fbx_host_zygote_failed(struct fbx_sandbox *sb, uint64_t gen, bool kill_it);

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
