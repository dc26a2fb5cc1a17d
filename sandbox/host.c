/* Handle life cycle and the zygote it owns.
 *
 * The zygote is started with posix_spawn (vfork+exec in glibc): never a
 * plain fork of the host, which may be multithreaded and large. It gets
 * only the allow-listed environment, its control socket on fd 3 and the
 * diagnostics fd on 2. When it dies, the next invocation restarts it;
 * when it has served long enough, the next invocation replaces it by a
 * fresh one (host_recycle.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"
#include "log.h"

#include "fbx_paths.h" /* generated: FBX_LIBEXECDIR, FBX_POLICYDIR */

extern char **environ;

/* Passed when the caller gives no list: what a Lambda function's code may
 * see, minus every credential. */
static const char *const default_env_allow[] = {
    "PATH",
    "LANG",
    "LC_ALL",
    "TZ",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_EXECUTION_ENV",
    "LAMBDA_TASK_ROOT",
    NULL,
};

void fbx_config_init(struct fbx_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->runtime = "native";
	cfg->entry = "handler";
	cfg->timeout_ms = 3000;
	cfg->memory_mb = 512;
	cfg->file_size_mb = 512;
	cfg->max_open_files = 256;
	cfg->max_processes = 256;
	cfg->max_request_bytes = 6u << 20;
	cfg->max_result_bytes = 6u << 20;
	cfg->max_log_bytes = 64u << 10;
	cfg->spares = 2;
	cfg->zygote_max_invocations = 0;
	cfg->zygote_max_age_s = 0;
	cfg->log_fd = -1;
	/* A PID namespace per invocation makes the module its namespace's
	 * init, and init ignores every signal it has no handler for: abort(),
	 * SIGXFSZ at the file size limit and SIGXCPU would not kill it. Opt
	 * in where that matters less than a private pid space. */
	cfg->disable_layers = FBX_LAYER_PIDNS;
}

static bool file_exists(const char *path, int mode)
{
	return access(path, mode) == 0;
}

/* The directory of the running executable, for finding a build tree's
 * helper and policies next to it. */
static void exe_dir(char *out, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(out, '/');
	if (slash)
		*slash = '\0';
	else
		out[0] = '\0';
}

/* Python has a helper of its own: only it links libpython, so the other
 * runtimes' zygotes (and their forks) stay small. */
static char *find_zygote(const struct fbx_config *cfg, const char *runtime)
{
	if (cfg->zygote_path)
		return strdup(cfg->zygote_path);
	bool python = strcmp(runtime, "python") == 0;
	const char *helper =
	    python ? "forkbox-zygote-python" : "forkbox-zygote";
	const char *env =
	    getenv(python ? "FORKBOX_ZYGOTE_PYTHON" : "FORKBOX_ZYGOTE");
	if (env && *env)
		return strdup(env);
	char dir[PATH_MAX], path[PATH_MAX + 32];
	exe_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, helper);
	if (dir[0] && file_exists(path, X_OK))
		return strdup(path);
	snprintf(path, sizeof(path), "%s/%s", FBX_LIBEXECDIR, helper);
	return strdup(path);
}

static int find_policy(const struct fbx_config *cfg, char *out, size_t size)
{
	if (cfg->policy_path)
		return snprintf(out, size, "%s", cfg->policy_path) >= (int)size
			   ? -ENAMETOOLONG
			   : 0;
	const char *dir = cfg->policy_dir;
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	if (!dir)
		dir = getenv("FORKBOX_POLICY_DIR");
	if (!dir || !*dir) {
		exe_dir(exe, sizeof(exe));
		snprintf(cand, sizeof(cand), "%s/../policies", exe);
		dir = exe[0] && file_exists(cand, R_OK) ? cand : FBX_POLICYDIR;
	}
	return snprintf(out, size, "%s/%s.policy", dir, cfg->runtime) >=
		       (int)size
		   ? -ENAMETOOLONG
		   : 0;
}

static int default_tmp_base(char *out, size_t size)
{
	const char *t = getenv("TMPDIR");
	if (!t || t[0] != '/')
		t = "/tmp";
	return snprintf(out, size, "%s/forkbox-%u", t, (unsigned)geteuid()) >=
		       (int)size
		   ? -ENAMETOOLONG
		   : 0;
}

static char **build_env(const char *const *allow)
{
	if (!allow)
		allow = default_env_allow;
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **env = calloc(n + 1, sizeof(char *));
	if (!env)
		return NULL;
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		for (const char *const *a = allow; *a; a++) {
			if (strlen(*a) == (size_t)(eq - *e) &&
			    strncmp(*a, *e, (size_t)(eq - *e)) == 0) {
				env[k] = strdup(*e);
				if (!env[k++]) {
					for (size_t i = 0; i + 1 < k; i++)
						free(env[i]);
					free(env);
					return NULL;
				}
				break;
			}
		}
	}
	return env;
}

void fbx_host_zygote_stop(struct fbx_sandbox *sb, bool kill_it)
{
	if (sb->ctrl >= 0) {
		close(sb->ctrl);
		sb->ctrl = -1;
	}
	if (sb->zygote_pid > 0) {
		/* Closing the control socket makes it kill every child, clean
		 * up and exit; a hung one is killed. */
		if (kill_it)
			kill(sb->zygote_pid, SIGKILL);
		int status;
		pid_t r;
		do
			r = waitpid(sb->zygote_pid, &status, 0);
		while (r < 0 && errno == EINTR);
		sb->zygote_pid = 0;
	}
}

int fbx_host_zygote_start(struct fbx_sandbox *sb, struct fbx_error *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return fbx_error_errno(err, errno, "socketpair for the zygote");
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (sb->cfg.log_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, sb->cfg.log_fd, 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
						 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	/* Own session: a terminal's ^C to the front end does not reach the
	 * zygote behind its back; the front end decides. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
					    POSIX_SPAWN_SETSIGDEF |
					    POSIX_SPAWN_SETSID);
	/* Named after the helper it runs, so ps tells the zygotes apart. */
	char *slash = strrchr(sb->zygote_path, '/');
	char *argv[] = {slash ? slash + 1 : sb->zygote_path, NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, sb->zygote_path, &fa, &attr, argv,
			     sb->zygote_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		return fbx_error_errno(err, rc, "starting the zygote helper %s",
				       sb->zygote_path);
	}
	sb->ctrl = sv[0];
	sb->zygote_pid = pid;

	rc = fbx_wire_send(sb->ctrl, &sb->init, sizeof(sb->init), NULL, 0);
	struct fbx_msg_ready ready;
	struct pollfd p = {.fd = sb->ctrl, .events = POLLIN};
	if (rc == 0) {
		int pr;
		do
			pr = poll(&p, 1, 30000);
		while (pr < 0 && errno == EINTR);
		if (pr == 0)
			rc = -ETIMEDOUT;
		else if (pr < 0)
			rc = -errno;
	}
	ssize_t n =
	    rc ? rc
	       : fbx_wire_recv(sb->ctrl, &ready, sizeof(ready), NULL, 0, NULL);
	if (n != (ssize_t)sizeof(ready) || ready.type != FBX_MSG_READY) {
		if (n == (ssize_t)sizeof(ready) &&
		    ready.type == FBX_MSG_INIT_FAILED) {
			ready.msg[sizeof(ready.msg) - 1] = '\0';
			fbx_error_set(err, ready.code > 0 ? ready.code : EINVAL,
				      "%s", ready.msg);
		} else {
			fbx_error_set(err, n < 0 ? (int)-n : EPROTO,
				      "the zygote helper %s did not start (%s)",
				      sb->zygote_path,
				      n < 0 ? strerror((int)-n) : "no answer");
		}
		fbx_host_zygote_stop(sb, true);
		return -err->code;
	}
	sb->layers = ready.layers;
	sb->after_load = ready.after_load != 0;
	sb->zygote_gen++;
	sb->zygote_invocations = 0;
	sb->zygote_started_ns = fbx_host_now_ns();
	if (ready.swept)
		fbx_log(sb->cfg.log_fd, "info",
			"removed %u stale private dirs from %s", ready.swept,
			sb->init.tmp_base);
	return 0;
}

int fbx_open(const struct fbx_config *cfg, fbx_sandbox **out,
	     struct fbx_error *err)
{
	*out = NULL;
	struct fbx_sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return fbx_error_set(err, ENOMEM, "out of memory");
	sb->cfg = *cfg;
	sb->ctrl = -1;
	sb->uid_block_lock = -1;
	pthread_mutex_init(&sb->lock, NULL);
	int rc = 0;
	sb->runtime = strdup(cfg->runtime ? cfg->runtime : "native");
	sb->entry = strdup(cfg->entry ? cfg->entry : "handler");
	sb->function_name =
	    strdup(cfg->function_name ? cfg->function_name : "forkbox");
	sb->zygote_path = sb->runtime ? find_zygote(cfg, sb->runtime) : NULL;
	sb->zygote_env = build_env(cfg->env_allow);
	if (!sb->runtime || !sb->entry || !sb->function_name ||
	    !sb->zygote_path || !sb->zygote_env) {
		rc = fbx_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	if (cfg->module_path) {
		sb->module_path = cfg->module_path[0] == '/'
				      ? strdup(cfg->module_path)
				      : NULL;
		if (!sb->module_path) {
			char cwd[PATH_MAX];
			if (!getcwd(cwd, sizeof(cwd))) {
				rc = fbx_error_errno(err, errno, "getcwd");
				goto fail;
			}
			if (asprintf(&sb->module_path, "%s/%s", cwd,
				     cfg->module_path) < 0) {
				sb->module_path = NULL;
				rc =
				    fbx_error_set(err, ENOMEM, "out of memory");
				goto fail;
			}
		}
	}
	sb->cfg.runtime = sb->runtime;
	struct fbx_msg_init *in = &sb->init;
	in->type = FBX_MSG_INIT;
	in->version = FBX_WIRE_VERSION;
	snprintf(in->runtime, sizeof(in->runtime), "%s", sb->runtime);
	if ((rc = find_policy(&sb->cfg, in->policy_path,
			      sizeof(in->policy_path))) < 0 ||
	    (rc = cfg->tmp_base
		      ? (snprintf(in->tmp_base, sizeof(in->tmp_base), "%s",
				  cfg->tmp_base) >= (int)sizeof(in->tmp_base)
			     ? -ENAMETOOLONG
			     : 0)
		      : default_tmp_base(in->tmp_base, sizeof(in->tmp_base))) <
		0) {
		fbx_error_errno(err, -rc, "policy or tmp base path");
		goto fail;
	}
	in->memory_mb = cfg->memory_mb;
	in->file_size_mb = cfg->file_size_mb;
	in->max_open_files = cfg->max_open_files;
	in->max_processes = cfg->max_processes;
	in->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 3000;
	in->spares = cfg->spares;
	in->learn = cfg->learn;
	in->recycle_dirs = cfg->recycle_dirs;
	if (cfg->preload && *cfg->preload &&
	    strcmp(sb->runtime, "python") != 0) {
		rc = fbx_error_set(err, EINVAL,
				   "preloading modules is for the python "
				   "runtime, not '%s'",
				   sb->runtime);
		goto fail;
	}
	if (sb->module_path) {
		snprintf(in->module_path, sizeof(in->module_path), "%s",
			 sb->module_path);
		snprintf(in->module_dir, sizeof(in->module_dir), "%s",
			 sb->module_path);
		char *slash = strrchr(in->module_dir, '/');
		if (slash)
			*(slash == in->module_dir ? slash + 1 : slash) = '\0';
	}
	if (cfg->preload &&
	    snprintf(in->preload, sizeof(in->preload), "%s", cfg->preload) >=
		(int)sizeof(in->preload)) {
		rc = fbx_error_set(err, ENAMETOOLONG,
				   "the preload list is longer than %zu bytes",
				   sizeof(in->preload) - 1);
		goto fail;
	}
	/* Root runs modules under uids of their own (FBX_RUN_UID_BASE + the
	 * invocation's slot): uid 0 without capabilities still owns half the
	 * file system, and a shared "nobody" would let concurrent
	 * invocations signal each other and enter each other's dirs. */
	bool drop =
	    geteuid() == 0 && !(cfg->disable_layers & FBX_LAYER_UID_DROP);
	if (drop && (rc = fbx_host_claim_uid_block(
			 &sb->uid_block, &sb->uid_block_lock, err)) < 0)
		goto fail;
	in->run_uid = drop ? FBX_RUN_UID_BASE + (int32_t)(sb->uid_block *
							  FBX_UID_BLOCK_RANGES *
							  FBX_RUN_UID_SPAN)
			   : -1;
	in->run_gid = in->run_uid;
	in->disable_layers = cfg->disable_layers;

	pthread_mutex_lock(&sb->lock);
	rc = fbx_host_zygote_start(sb, err);
	pthread_mutex_unlock(&sb->lock);
	if (rc < 0)
		goto fail;
	*out = sb;
	return 0;
fail:
	fbx_close(sb);
	return rc;
}

void fbx_close(fbx_sandbox *sb)
{
	if (!sb)
		return;
	pthread_mutex_lock(&sb->lock);
	fbx_host_zygote_stop(sb, false);
	fbx_host_retired_stop_all(sb);
	pthread_mutex_unlock(&sb->lock);
	pthread_mutex_destroy(&sb->lock);
	for (char **e = sb->zygote_env; e && *e; e++)
		free(*e);
	free(sb->zygote_env);
	free(sb->runtime);
	free(sb->module_path);
	free(sb->entry);
	free(sb->function_name);
	free(sb->zygote_path);
	if (sb->uid_block_lock >= 0)
		close(sb->uid_block_lock);
	free(sb);
}

unsigned fbx_layers(fbx_sandbox *sb)
{
	pthread_mutex_lock(&sb->lock);
	unsigned layers = sb->layers;
	pthread_mutex_unlock(&sb->lock);
	return layers;
}

const char *fbx_layer_name(unsigned layer)
{
	switch (layer) {
	case FBX_LAYER_SECCOMP:
		return "seccomp";
	case FBX_LAYER_SECCOMP_NOTIFY:
		return "seccomp-notify";
	case FBX_LAYER_PIDNS:
		return "pidns";
	case FBX_LAYER_UID_DROP:
		return "uid-drop";
	case FBX_LAYER_SUBREAPER:
		return "subreaper";
	case FBX_LAYER_LANDLOCK:
		return "landlock";
	case FBX_LAYER_LANDLOCK_SCOPE:
		return "landlock-scope";
	default:
		return NULL;
	}
}

void fbx_host_zygote_failed(struct fbx_sandbox *sb, uint64_t gen, bool kill_it)
{
	pthread_mutex_lock(&sb->lock);
	if (sb->zygote_gen == gen && sb->ctrl >= 0) {
		fbx_log(sb->cfg.log_fd, "warn",
			"zygote (pid %d) %s; it will be restarted",
			(int)sb->zygote_pid,
			kill_it ? "stopped answering" : "died");
		fbx_host_zygote_stop(sb, kill_it);
	}
	struct fbx_retired *r = fbx_host_retired_find(sb, gen);
	if (r && kill_it) {
		/* A hung retired zygote would never exit: end it; its reaping
		 * at a later spawn closes its socket. ESRCH: it exited. */
		fbx_log(sb->cfg.log_fd, "warn",
			"retired zygote (pid %d) stopped answering; killed",
			(int)r->pid);
		if (kill(r->pid, SIGKILL) < 0 && errno != ESRCH)
			fbx_log_errno(sb->cfg.log_fd, "warn", errno,
				      "kill retired zygote %d", (int)r->pid);
	}
	pthread_mutex_unlock(&sb->lock);
}

void fbx_host_kill(struct fbx_sandbox *sb, uint64_t gen, uint64_t token)
{
	struct fbx_msg_kill k = {.type = FBX_MSG_KILL, .token = token};
	pthread_mutex_lock(&sb->lock);
	/* A retired zygote still serves KILL for what it runs. A failed send
	 * means the zygote is gone, and its invocation with it. */
	struct fbx_retired *r = fbx_host_retired_find(sb, gen);
	int ctrl = sb->zygote_gen == gen ? sb->ctrl : r ? r->ctrl : -1;
	if (ctrl >= 0)
		(void)fbx_wire_send(ctrl, &k, sizeof(k), NULL, 0);
	pthread_mutex_unlock(&sb->lock);
}

/* The zygote's exit, seen without reaping it (fbx_host_zygote_stop does):
 * a child of it may hold the control socket a moment longer (a spare
 * before it closes its descriptors), so a send would not fail, and the
 * request would be lost with the zygote. ECHILD: reaped by someone else. */
static bool zygote_exited(const struct fbx_sandbox *sb)
{
	if (sb->zygote_pid <= 0)
		return false;
	siginfo_t si = {0};
	if (waitid(P_PID, (id_t)sb->zygote_pid, &si,
		   WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;
	return si.si_pid == sb->zygote_pid;
}

int fbx_host_spawn(struct fbx_sandbox *sb, uint32_t timeout_ms,
		   const int fds[4], bool *restarted, uint64_t *gen,
		   uint64_t *token, struct fbx_error *err)
{
	struct fbx_msg_spawn msg = {.type = FBX_MSG_SPAWN,
				    .timeout_ms = timeout_ms};
	int rc = 0;
	*restarted = false;
	pthread_mutex_lock(&sb->lock);
	msg.token = *token = ++sb->next_token;
	fbx_host_recycle(sb);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (sb->ctrl >= 0 && zygote_exited(sb)) {
			fbx_log(sb->cfg.log_fd, "warn",
				"zygote (pid %d) is gone", (int)sb->zygote_pid);
			fbx_host_zygote_stop(sb, true);
		}
		if (sb->ctrl < 0) {
			fbx_log(sb->cfg.log_fd, "warn",
				"restarting the zygote");
			rc = fbx_host_zygote_start(sb, err);
			if (rc < 0)
				break;
			*restarted = true;
			fbx_log(sb->cfg.log_fd, "warn",
				"zygote restarted (pid %d)",
				(int)sb->zygote_pid);
		}
		rc = fbx_wire_send(sb->ctrl, &msg, sizeof(msg), fds, 4);
		if (rc == 0) {
			*gen = sb->zygote_gen;
			sb->zygote_invocations++;
			break;
		}
		/* EPIPE/ECONNRESET: it died since the last invocation. */
		fbx_log_errno(sb->cfg.log_fd, "warn", -rc,
			      "zygote (pid %d) is gone", (int)sb->zygote_pid);
		fbx_host_zygote_stop(sb, true);
		fbx_error_errno(err, -rc, "sending to the zygote");
	}
	pthread_mutex_unlock(&sb->lock);
	return rc;
}
