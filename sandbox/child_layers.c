#include "child_layers.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int fbx_layer_signals_reset(const sigset_t *changed)
{
	/* The zygote was exec'd with every disposition at default; only the
	 * ones it (or its runtime) changed since need resetting, which saves
	 * sixty-odd syscalls per invocation. */
	for (int sig = 1; sig < NSIG; sig++) {
		if (!sigismember(changed, sig))
			continue;
		if (signal(sig, SIG_DFL) == SIG_ERR)
			return -errno;
	}
	sigset_t none;
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL) < 0 ? -errno : 0;
}

int fbx_layer_fds_arrange(int setup_fd)
{
	if (setup_fd != FBX_CHILD_FD_SETUP) {
		if (dup2(setup_fd, FBX_CHILD_FD_SETUP) < 0)
			return -errno;
		close(setup_fd);
	}
	/* dup2 cleared close-on-exec on the setup socket; it is closed
	 * before any module code runs. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -errno;
	for (int fd = 0; fd <= FBX_CHILD_FD_RESULT; fd++)
		if (fd != null && dup2(null, fd) < 0)
			return -errno;
	if (null > FBX_CHILD_FD_SETUP)
		close(null);
	if (syscall(SYS_close_range, FBX_CHILD_FD_FIRST_FREE, ~0U, 0) < 0) {
		if (errno != ENOSYS)
			return -errno;
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = FBX_CHILD_FD_FIRST_FREE; fd < max; fd++)
			close((int)fd);
	}
	return 0;
}

static int set_num(const char *name, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return setenv(name, buf, 1);
}

int fbx_layer_env_dir(const struct fbx_child *c)
{
	int rc = 0;
	rc |= setenv("TMPDIR", c->tmp_dir, 1);
	rc |= setenv("HOME", c->tmp_dir, 1);
	rc |= setenv("PWD", c->tmp_dir, 1);
	rc |= setenv("FORKBOX_TMP_DIR", c->tmp_dir, 1);
	return rc ? -ENOMEM : 0;
}

int fbx_layer_env_job(const struct fbx_child *c)
{
	const struct fbx_job *j = &c->job;
	int rc = 0;
	if (j->request_id)
		rc |= setenv("FORKBOX_REQUEST_ID", j->request_id, 1);
	rc |= set_num("FORKBOX_DEADLINE_MS", j->deadline_ms);
	if (j->trace_id && *j->trace_id)
		rc |= setenv("_X_AMZN_TRACE_ID", j->trace_id, 1);
	else
		rc |= unsetenv("_X_AMZN_TRACE_ID");
	return rc ? -ENOMEM : 0;
}

static int limit(int resource, rlim_t value)
{
	struct rlimit rl = {.rlim_cur = value, .rlim_max = value};
	return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

/* CPU: a backstop only; the wall-clock deadline normally fires first.
 * Soft limit (SIGXCPU) one second past it, hard one more. */
static struct rlimit cpu_rlimit(uint32_t timeout_ms)
{
	rlim_t cpu_s = (rlim_t)(timeout_ms + 999) / 1000 + 1;
	return (struct rlimit){.rlim_cur = cpu_s, .rlim_max = cpu_s + 1};
}

int fbx_layer_cpu_limit(uint32_t timeout_ms)
{
	struct rlimit cpu = cpu_rlimit(timeout_ms);
	return setrlimit(RLIMIT_CPU, &cpu) < 0 ? -errno : 0;
}

int fbx_layer_rlimits_apply(const struct fbx_msg_init *cfg, uint32_t timeout_ms)
{
	struct rlimit cpu = cpu_rlimit(timeout_ms);
	int rc;
	if (cfg->memory_mb &&
	    (rc = limit(RLIMIT_AS, (rlim_t)cfg->memory_mb << 20)) < 0)
		return rc;
	if (setrlimit(RLIMIT_CPU, &cpu) < 0)
		return -errno;
	if (cfg->max_open_files &&
	    (rc = limit(RLIMIT_NOFILE, cfg->max_open_files)) < 0)
		return rc;
	if (cfg->file_size_mb &&
	    (rc = limit(RLIMIT_FSIZE, (rlim_t)cfg->file_size_mb << 20)) < 0)
		return rc;
	if ((rc = limit(RLIMIT_CORE, 0)) < 0)
		return rc;
	if (cfg->max_processes &&
	    (rc = limit(RLIMIT_NPROC, cfg->max_processes)) < 0)
		return rc;
	return 0;
}

int fbx_layer_drop_uid(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) < 0)
		return -errno;
	if (setresgid(gid, gid, gid) < 0)
		return -errno;
	if (setresuid(uid, uid, uid) < 0)
		return -errno;
	/* Fail closed: a uid we can switch back from is no drop at all. */
	uid_t r, e, s;
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid)
		return -EPERM;
	if (uid != 0 && setresuid(0, 0, 0) == 0)
		return -EPERM;
	return 0;
}
