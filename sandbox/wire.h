/* Messages between the host (libforkbox in the front end), the zygote and
 * the child. All travel over SOCK_SEQPACKET unix sockets as fixed-size
 * structs, with file descriptors attached via SCM_RIGHTS. Host and zygote
 * come from one build, so the structs are not a stable ABI; INIT carries a
 * version anyway so a stale helper binary is refused, not misread.
 *
 *   host -> zygote (control socket)  INIT, then SPAWN per invocation with
 *                                    fds [done_w, job, result_w, log_w],
 *                                    KILL naming a SPAWN's token, RETIRE
 *                                    when a fresh zygote replaces this one
 *   zygote -> host (control socket)  READY once (or INIT_FAILED)
 *   zygote -> host (done pipe)       DONE, once per invocation: one write
 *                                    under PIPE_BUF, so it is atomic
 *   zygote -> child (setup socket)   JOB with fds [job, result_w, log_w,
 *                                    private dir]: a child is forked ahead
 *                                    as a spare and waits for this
 *   child -> zygote (setup socket)   CHILD_READY [+ seccomp listener fd]
 *                                    or CHILD_FAILED, before module load
 */
#ifndef FORKBOX_WIRE_H
#define FORKBOX_WIRE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "forkbox.h"

#define FBX_WIRE_VERSION 3u
#define FBX_WIRE_MAX_FDS 4

/* First uid/gid of the children when the zygote runs as root; invocation
 * slot N runs as FBX_RUN_UID_BASE + N. Far above any real account and any
 * usual subuid range. A zygote started while retired ones still run gets a
 * range of FBX_RUN_UID_SPAN uids of its own (INIT's run_uid): children of
 * two generations running at once must not share a uid either. */
#define FBX_RUN_UID_BASE 1900000000
#define FBX_RUN_UID_SPAN 65536

enum fbx_msg_type {
	FBX_MSG_INIT = 1,
	FBX_MSG_READY,
	FBX_MSG_INIT_FAILED,
	FBX_MSG_SPAWN,
	FBX_MSG_DONE,
	FBX_MSG_KILL,
	FBX_MSG_CHILD_READY,
	FBX_MSG_CHILD_FAILED,
	FBX_MSG_JOB,
	FBX_MSG_RETIRE,
};

struct fbx_msg_init {
	uint32_t type;
	uint32_t version;
	char runtime[32];
	char policy_path[PATH_MAX];
	char tmp_base[PATH_MAX];
	uint32_t memory_mb;
	uint32_t file_size_mb;
	uint32_t max_open_files;
	uint32_t max_processes;
	int32_t run_uid; /* -1: keep the zygote's */
	int32_t run_gid;
	uint32_t disable_layers;    /* FBX_LAYER_* bits not to use */
	uint32_t timeout_ms;	    /* the longest any invocation may run */
	uint32_t spares;	    /* children kept forked and set up ahead */
	uint32_t learn;		    /* record syscalls instead of enforcing */
	uint32_t recycle_dirs;	    /* fbx_config.recycle_dirs */
	char preload[1024];	    /* python: modules to import, "a,b" */
	char module_dir[PATH_MAX];  /* the default module's dir, or "" */
	char module_path[PATH_MAX]; /* the default module, or "" */
};

struct fbx_msg_job {
	uint32_t type;
	uint32_t timeout_ms;
	char tmp_name[40];
	/* Stop once answered, to be reported before the teardown (child.c,
	 * end); set when the invocation runs alone. */
	uint32_t stop_at_end;
};

struct fbx_msg_ready {
	uint32_t type; /* READY or INIT_FAILED */
	int32_t code;  /* positive errno for INIT_FAILED */
	uint32_t layers;
	uint32_t swept;	     /* stale private dirs removed at start */
	uint32_t after_load; /* the policy has an after-load stage */
	char msg[1024];	     /* error, or notices (e.g. layers missing) */
};

struct fbx_msg_spawn {
	uint32_t type;
	uint32_t timeout_ms;
	uint64_t token; /* names the invocation in a later KILL */
};

enum {
	FBX_DONE_TIMED_OUT = 1u << 0,
	FBX_DONE_SYSCALL_DENIED = 1u << 1,
	FBX_DONE_SETUP_FAILED = 1u
				<< 2, /* the sandbox failed, not the module */
	FBX_DONE_KILLED = 1u << 3,    /* on the host's request */
	/* It ended stopped (child.c, end), reported as exit status 0. */
	FBX_DONE_STOPPED = 1u << 4,
};

struct fbx_msg_done {
	uint32_t type;
	uint32_t flags;
	int32_t wait_status;
	int64_t duration_ns;
	int64_t max_rss_kb;
	int64_t cpu_us;
	int32_t setup_errno;
	uint32_t orphans_killed;
	uint64_t syscalls[8]; /* learn mode: bit N = syscall N was made */
	char syscall_name[64];
	char msg[512]; /* setup or cleanup failure */
};

struct fbx_msg_kill {
	uint32_t type;
	uint32_t pad;
	uint64_t token;
};

/* A fresh zygote has replaced this one: fork no more spares, finish the
 * invocations in flight (KILL still reaches them), then exit. From now on
 * the host closing the control socket is no reason to kill them. */
struct fbx_msg_retire {
	uint32_t type;
	uint32_t pad;
};

/* The control socket carries SPAWN, KILL and RETIRE; all start like
 * this. */
union fbx_msg_ctrl {
	uint32_t type;
	struct fbx_msg_spawn spawn;
	struct fbx_msg_kill kill;
	struct fbx_msg_retire retire;
};

_Static_assert(sizeof(struct fbx_msg_done) <= 4096,
	       "DONE must fit one atomic pipe write");

struct fbx_msg_child {
	uint32_t type; /* CHILD_READY or CHILD_FAILED */
	int32_t code;
	char msg[256];
};

/* Sends len bytes as one message with n_fds descriptors attached.
 * Returns 0 or -errno; retries on EINTR; never raises SIGPIPE. */
int fbx_wire_send(int sock, const void *msg, size_t len, const int *fds,
		  size_t n_fds);

/* Receives one message into buf (at most size bytes). Attached fds (at most
 * max_fds, others closed) are returned with O_CLOEXEC in fds, their count
 * in *n_fds. Returns the message length, 0 on end of file, or -errno
 * (-EMSGSIZE when truncated). */
ssize_t fbx_wire_recv(int sock, void *buf, size_t size, int *fds,
		      size_t max_fds, size_t *n_fds);

#endif
