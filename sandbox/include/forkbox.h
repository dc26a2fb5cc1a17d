/* forkbox host API: run untrusted modules, one fresh sandboxed child per
 * invocation.
 *
 * A handle owns one zygote: a helper process started by exec (never a fork
 * of the host) that forks one child per invocation. Every function here is
 * thread-safe; many threads may invoke on one handle at once.
 *
 * Functions return 0 or a negative errno and fill a struct fbx_error. The
 * library never prints, exits or aborts. */
#ifndef FORKBOX_H
#define FORKBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FORKBOX_VERSION "0.1.0"

struct fbx_error {
	int code;      /* positive errno */
	char msg[512]; /* what went wrong, in words a user can act on */
};

/* Isolation layers beyond the ones every child always gets (fresh process,
 * private dir, rlimits, clean env, closed fds, die-with-parent, tree kill).
 * fbx_layers() tells which ones a handle's children get on this machine. */
enum fbx_layer {
	FBX_LAYER_SECCOMP = 1u << 0, /* the policy's filter */
	FBX_LAYER_SECCOMP_NOTIFY =
	    1u << 1,		      /* a denied syscall is named reliably */
	FBX_LAYER_PIDNS = 1u << 2,    /* a PID namespace per invocation */
	FBX_LAYER_UID_DROP = 1u << 3, /* a uid of its own per concurrent slot */
	FBX_LAYER_SUBREAPER = 1u << 4, /* orphans come back to be killed */
	FBX_LAYER_LANDLOCK = 1u << 5,  /* writes only inside the private dir */
	/* Signals and abstract unix sockets only within the invocation's own
	 * process tree (Landlock ABI 6, Linux 6.12). */
	FBX_LAYER_LANDLOCK_SCOPE = 1u << 6,
};

/* Configuration of a sandbox handle. Start from fbx_config_init(); every
 * pointer is borrowed only for the duration of fbx_open(). */
struct fbx_config {
	const char *runtime; /* "native" (default), "python" or "exec" */
	const char
	    *module_path;  /* default module, or NULL: each request names one */
	const char *entry; /* default entry symbol, "handler" */
	const char *policy_path; /* seccomp policy file; NULL =
				    <policy_dir>/<runtime>.policy */
	const char *policy_dir;	 /* NULL = the installed policies directory */
	const char
	    *zygote_path;     /* NULL = $FORKBOX_ZYGOTE ($FORKBOX_ZYGOTE_PYTHON
				 for python) or the installed helper */
	const char *tmp_base; /* parent of the private dirs; NULL = a private
				 dir under $TMPDIR or /tmp */
	const char *const *env_allow; /* NULL-terminated names passed from the
					 host env; NULL = the default list */
	const char *function_name; /* context.function_name; NULL = "forkbox" */
	bool allow_request_modules; /* accept a request's "module" field */
	unsigned timeout_ms;	    /* wall clock per invocation; 3000 */
	unsigned memory_mb;	    /* RLIMIT_AS; 512 */
	unsigned file_size_mb;	    /* RLIMIT_FSIZE; 512 */
	unsigned max_open_files;    /* RLIMIT_NOFILE; 256 */
	unsigned
	    max_processes; /* RLIMIT_NPROC (per uid, counts threads); 256 */
	size_t max_request_bytes; /* 6 MiB, Lambda's synchronous limit */
	size_t max_result_bytes;  /* 6 MiB */
	size_t max_log_bytes;	  /* kept tail of stdout+stderr; 64 KiB */
	bool learn;	 /* record every syscall (report.syscalls) instead of
			    enforcing the policy: for `forkbox policy learn` */
	unsigned spares; /* children forked and set up ahead of requests; 2 */
	/* Empty a finished invocation's private dir and give it to a later
	 * spare instead of removing it and making a new one, when it is then
	 * as a new dir, once no invocation runs; only with a uid per slot
	 * (root). Faster where inodes are dear (ext4 without a
	 * journal); a process outside the sandbox that a module handed its
	 * dir's fd to could list the names in a later invocation's dir
	 * (README, Isolation). false (the default): never. */
	bool recycle_dirs;
	/* Zygote recycling: every child inherits the zygote's address-space
	 * layout and a runtime's hash secret and random state, drawn once at
	 * its exec. After this many invocations, or this many seconds since
	 * it started, the next invocation replaces it by a freshly exec'd one
	 * (waiting for that start, once); the old one finishes what it runs,
	 * then exits. 0 = never (the default for both). */
	unsigned zygote_max_invocations;
	unsigned zygote_max_age_s;
	const char *preload; /* python: modules the zygote imports before any
				fork, comma-separated ("json,numpy"); NULL */
	int log_fd;	     /* diagnostics as JSON lines, or -1 */
	unsigned
	    disable_layers; /* FBX_LAYER_PIDNS / _UID_DROP / _SECCOMP_NOTIFY
			       not to use even where available */
};

void fbx_config_init(struct fbx_config *cfg) __attribute__((nonnull));

typedef struct fbx_sandbox fbx_sandbox;

/* Starts the zygote (which compiles the policy) and waits until it is ready.
 * A broken policy, a missing zygote helper or an unusable tmp base fail
 * here, never later. */
int fbx_open(const struct fbx_config *cfg, fbx_sandbox **out,
	     struct fbx_error *err) __attribute__((nonnull(1, 2)));

/* Runs one invocation. request is SPEC's request envelope (JSON text, not
 * necessarily NUL-terminated). On return *response holds a malloc'd
 * NUL-terminated response JSON whenever one could be formed, also for
 * failures; free() it.
 *
 * Returns 0 when the sandbox did its job, whatever the module did (its
 * failure is an error *response*); a negative errno when the sandbox itself
 * failed (could not fork, zygote died, ...): *response then carries a
 * Forkbox.InternalError response and err says why. */
int fbx_invoke(fbx_sandbox *sb, const char *request, size_t request_len,
	       char **response, struct fbx_error *err)
    __attribute__((nonnull(1, 2, 4)));

/* Per-invocation context a front end knows (Lambda headers); any field may
 * be NULL / 0. Used by fbx_invoke_ctx. */
struct fbx_invoke_context {
	const char *request_id; /* NULL = a fresh UUID */
	const char *invoked_function_arn;
	const char *trace_id; /* becomes _X_AMZN_TRACE_ID in the child */
	const char *client_context;
	const char *cognito_identity;
	int64_t deadline_ms; /* Unix epoch ms; 0 = now + timeout */
};

int fbx_invoke_ctx(fbx_sandbox *sb, const char *request, size_t request_len,
		   const struct fbx_invoke_context *ctx, char **response,
		   struct fbx_error *err) __attribute__((nonnull(1, 2, 5)));

/* The FBX_LAYER_* bits this handle's children get. */
unsigned fbx_layers(fbx_sandbox *sb) __attribute__((nonnull));

/* "pidns", "seccomp", ... for one bit; NULL for an unknown bit. */
const char *fbx_layer_name(unsigned layer);

/* Stops the zygote (killing any invocation still running) and frees. A
 * zygote retired by recycling is waited for until its invocations end
 * (at most the timeout). */
void fbx_close(fbx_sandbox *sb);

/* Builds a whole error response, for front ends that reject a request
 * before it reaches the sandbox. id_json is the request's "id" as JSON text
 * or NULL. Returns malloc'd text or NULL on allocation failure. */
char *fbx_error_response(const char *id_json, const char *error_type,
			 const char *message);

/* Seccomp policy files (SPEC "Policies"), for checking them before a
 * sandbox is opened with one. Both read the file and what it includes and
 * compile it as a zygote would: with its job hand-over rules and signal
 * guards added (pids 2 and 3 stand in for the zygote's and the host's,
 * which only a running zygote knows) and a killed syscall reported through
 * seccomp user notification.
 *
 * fbx_policy_check: *summary gets the default action, @unknown, the names
 * skipped because they are not syscalls on this architecture, one line per
 * rule (name, number, action or condition, file:line), the rules the
 * zygote adds, and the compiled filter's instruction count. A policy that
 * does not read or compile returns a negative errno, err->msg naming
 * "file:line:column: what is wrong".
 *
 * fbx_policy_dump: *text gets libseccomp's PFC text of the filter (pfc
 * nonzero; comment lines first list the rules compiled by hand, which run
 * before it) or a listing of the whole BPF program (pfc zero), one line per
 * instruction: "NNNN: code=0x.. jt=.. jf=.. k=0x........". A policy
 * with an @after-load stage gets that second filter summarised, or dumped
 * after a line "# after load: ...", too.
 *
 * *summary and *text are malloc'd; free() them. */
int fbx_policy_check(const char *path, char **summary, struct fbx_error *err)
    __attribute__((nonnull(1, 2)));
int fbx_policy_dump(const char *path, int pfc, char **text,
		    struct fbx_error *err) __attribute__((nonnull(1, 3)));

#ifdef __cplusplus
}
#endif
#endif
