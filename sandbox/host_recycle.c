/* Zygote recycling: replacing the zygote by a freshly exec'd one after
 * zygote_max_invocations invocations or zygote_max_age_s seconds.
 *
 * Every child is a fork of the zygote and inherits what the zygote drew
 * once at exec: its ASLR layout, a runtime's hash secret and random state.
 * A fresh exec draws them anew, so recycling bounds how many invocations
 * share them.
 *
 * No request is dropped and none waits longer than one zygote start: the
 * spawn that finds the limit reached starts the new zygote first, and only
 * once it is READY is it swapped in. The old one is sent RETIRE instead of
 * being stopped: it forks no more spares, lets the invocations it runs
 * finish (each reports through its own done pipe, never the control
 * socket), still obeys KILL for them, and exits once none is left. It is
 * reaped without blocking at a later spawn (it stays a zombie until then),
 * or by fbx_close. When the new zygote does not start, the old one keeps
 * serving, and the next spawn tries again.
 *
 * Under the uid drop, children of a retired zygote and of its successor
 * run at the same time, so each live zygote gets a uid range of its own
 * (FBX_RUN_UID_SPAN uids from INIT's run_uid, wire.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "host.h"
#include "log.h"

int64_t fbx_host_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct fbx_retired *fbx_host_retired_find(struct fbx_sandbox *sb, uint64_t gen)
{
	for (size_t i = 0; i < sb->n_retired; i++)
		if (sb->retired[i].gen == gen)
			return &sb->retired[i];
	return NULL;
}

static void retired_close(struct fbx_retired *r)
{
	if (r->ctrl >= 0) {
		close(r->ctrl);
		r->ctrl = -1;
	}
}

/* A zygote never writes to its control socket after READY: anything to
 * read, or a hang-up, is its end. */
static void retired_check_hangup(struct fbx_sandbox *sb, struct fbx_retired *r)
{
	struct pollfd p = {.fd = r->ctrl, .events = POLLIN};
	int n = poll(&p, 1, 0);
	if (n > 0)
		retired_close(r);
	else if (n < 0 && errno != EINTR)
		fbx_log_errno(sb->cfg.log_fd, "warn", errno,
			      "poll on retired zygote %d", (int)r->pid);
}

/* Reaps, without blocking, the retired zygotes that have exited. */
static void retired_reap(struct fbx_sandbox *sb)
{
	size_t i = 0;
	while (i < sb->n_retired) {
		struct fbx_retired *r = &sb->retired[i];
		if (r->ctrl >= 0)
			retired_check_hangup(sb, r);
		int status = 0;
		pid_t w = waitpid(r->pid, &status, WNOHANG);
		if (w == 0 || (w < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		/* ECHILD: not ours to wait for any more (a host that ignores
		 * SIGCHLD has its children reaped by the kernel). */
		if (w < 0 && errno != ECHILD)
			fbx_log_errno(sb->cfg.log_fd, "warn", errno,
				      "waitpid for retired zygote %d",
				      (int)r->pid);
		else if (w > 0 && !(WIFEXITED(status) && !WEXITSTATUS(status)))
			fbx_log(sb->cfg.log_fd, "warn",
				"retired zygote (pid %d) ended with status "
				"0x%x",
				(int)r->pid, (unsigned)status);
		retired_close(r);
		*r = sb->retired[--sb->n_retired];
	}
}

void fbx_host_retired_stop_all(struct fbx_sandbox *sb)
{
	for (size_t i = 0; i < sb->n_retired; i++) {
		struct fbx_retired *r = &sb->retired[i];
		/* After RETIRE the hang-up kills nothing: the wait lasts until
		 * its last invocation ends, at most the timeout. */
		retired_close(r);
		pid_t w;
		do
			w = waitpid(r->pid, NULL, 0);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != ECHILD)
			fbx_log_errno(sb->cfg.log_fd, "warn", errno,
				      "waitpid for retired zygote %d",
				      (int)r->pid);
	}
	sb->n_retired = 0;
}

/* The first uid range no live zygote uses. There is always one: at most
 * FBX_MAX_RETIRED - 1 retired ones and the current one hold a range when
 * a recycle starts. */
static unsigned free_uid_range(const struct fbx_sandbox *sb)
{
	for (unsigned range = 0;; range++) {
		bool used = range == sb->uid_range;
		for (size_t i = 0; i < sb->n_retired && !used; i++)
			used = sb->retired[i].uid_range == range;
		if (!used)
			return range;
	}
}

static void set_uid_range(struct fbx_sandbox *sb, unsigned range)
{
	sb->uid_range = range;
	if (sb->init.run_uid < 0)
		return; /* children keep the zygote's uid: nothing to split */
	sb->init.run_uid =
	    FBX_RUN_UID_BASE +
	    (int32_t)((sb->uid_block * FBX_UID_BLOCK_RANGES + range) *
		      FBX_RUN_UID_SPAN);
	sb->init.run_gid = sb->init.run_uid;
}

/* Why the current zygote is due for recycling, or NULL. */
static const char *recycle_reason(const struct fbx_sandbox *sb)
{
	if (sb->cfg.zygote_max_invocations &&
	    sb->zygote_invocations >= sb->cfg.zygote_max_invocations)
		return "invocations";
	if (sb->cfg.zygote_max_age_s &&
	    fbx_host_now_ns() - sb->zygote_started_ns >=
		(int64_t)sb->cfg.zygote_max_age_s * 1000000000)
		return "age";
	return NULL;
}

void fbx_host_recycle(struct fbx_sandbox *sb)
{
	retired_reap(sb);
	const char *reason = sb->ctrl >= 0 ? recycle_reason(sb) : NULL;
	if (!reason)
		return;
	if (sb->n_retired == FBX_MAX_RETIRED) {
		/* Once per generation: each spawn comes back here. */
		if (sb->recycle_waiting_gen != sb->zygote_gen)
			fbx_log(sb->cfg.log_fd, "warn",
				"zygote recycling waits: %d retired zygotes "
				"still finish their invocations",
				FBX_MAX_RETIRED);
		sb->recycle_waiting_gen = sb->zygote_gen;
		return;
	}
	struct fbx_retired old = {.ctrl = sb->ctrl,
				  .pid = sb->zygote_pid,
				  .gen = sb->zygote_gen,
				  .uid_range = sb->uid_range};
	unsigned served = sb->zygote_invocations;
	int64_t age_ms = (fbx_host_now_ns() - sb->zygote_started_ns) / 1000000;
	sb->ctrl = -1;
	sb->zygote_pid = 0;
	set_uid_range(sb, free_uid_range(sb));
	struct fbx_error err = {0};
	if (fbx_host_zygote_start(sb, &err) < 0) {
		fbx_log(sb->cfg.log_fd, "warn",
			"cannot start a fresh zygote to recycle pid %d (%s); "
			"it keeps serving: %s",
			(int)old.pid, reason, err.msg);
		sb->ctrl = old.ctrl;
		sb->zygote_pid = old.pid;
		set_uid_range(sb, old.uid_range);
		return;
	}
	struct fbx_msg_retire msg = {.type = FBX_MSG_RETIRE};
	int rc = fbx_wire_send(old.ctrl, &msg, sizeof(msg), NULL, 0);
	if (rc < 0) {
		/* It died meanwhile, and took its invocations with it (they
		 * fail as any whose zygote died); it is still listed, to be
		 * reaped at a later spawn. */
		fbx_log_errno(sb->cfg.log_fd, "warn", -rc, "retiring zygote %d",
			      (int)old.pid);
		retired_close(&old);
	}
	sb->retired[sb->n_retired++] = old;
	fbx_log(sb->cfg.log_fd, "info",
		"zygote recycled (reason: %s; it served %u invocations in "
		"%lld ms): pid %d retired, pid %d serves",
		reason, served, (long long)age_ms, (int)old.pid,
		(int)sb->zygote_pid);
}
