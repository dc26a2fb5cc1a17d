/* The zygote's event loop: spawn, supervise, reap, report.
 *
 * Single-threaded on purpose: fork() from here is well defined, and a child
 * can run dlopen/malloc/Python right away. Everything it waits on is in one
 * epoll set; deadlines are the epoll timeout. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "runtime.h"
#include "zygote.h"

/* A request that comes sooner than this after the last report finds that
 * report's child still being torn down: its own child then exits before it
 * is reported (a stop would only move its teardown onto the next request
 * as well). Native, back to back, side by side: 762-777 us with every
 * lone child stopping, 727-732 us with this, 695-728 us with none; with
 * requests 1 ms apart all stop (421-441 against 538-571 us). */
#define STOP_MIN_GAP_NS 250000

int fbx_zygote_watch(struct fbx_zygote *z, int fd, uint64_t data)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = data};
	return epoll_ctl(z->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void fbx_zygote_unwatch_close(struct fbx_zygote *z, int *fd)
{
	if (*fd >= 0 && epoll_ctl(z->epfd, EPOLL_CTL_DEL, *fd, NULL) < 0 &&
	    errno != ENOENT)
		fbx_log_errno(z->log_fd, "warn", errno, "epoll_ctl(DEL)");
	fbx_close_fd(fd);
}

static void send_done(struct fbx_invocation *inv)
{
	if (inv->done_fd < 0)
		return;
	inv->done.type = FBX_MSG_DONE;
	/* The host may have gone; nothing to do about it then. */
	ssize_t n;
	do
		n = write(inv->done_fd, &inv->done, sizeof(inv->done));
	while (n < 0 && errno == EINTR);
}

static void kill_by_token(struct fbx_zygote *z, uint64_t token)
{
	for (size_t i = 0; i < z->n_invs; i++) {
		struct fbx_invocation *inv = &z->invs[i];
		if (inv->used && !inv->spare && !inv->draining &&
		    inv->token == token) {
			inv->done.flags |= FBX_DONE_KILLED;
			fbx_zygote_kill_tree(z, inv);
		}
	}
}

static bool on_setup(struct fbx_zygote *z, struct fbx_invocation *inv);

/* One message from the host: SPAWN (with its fds), KILL or RETIRE. */
static void on_ctrl(struct fbx_zygote *z)
{
	union fbx_msg_ctrl ctrl;
	int fds[FBX_WIRE_MAX_FDS];
	size_t n_fds = 0;
	ssize_t n = fbx_wire_recv(z->ctrl, &ctrl, sizeof(ctrl), fds,
				  FBX_WIRE_MAX_FDS, &n_fds);
	if (n == 0 || n == -ECONNRESET) {
		z->host_gone = true;
		return;
	}
	if (n == (ssize_t)sizeof(ctrl.kill) && ctrl.type == FBX_MSG_KILL &&
	    n_fds == 0) {
		kill_by_token(z, ctrl.kill.token);
		return;
	}
	if (n == (ssize_t)sizeof(ctrl.retire) && ctrl.type == FBX_MSG_RETIRE &&
	    n_fds == 0) {
		z->retiring = true;
		fbx_spares_retire(z);
		return;
	}
	struct fbx_msg_spawn msg = ctrl.spawn;
	if (n < 0 || (size_t)n != sizeof(msg) || msg.type != FBX_MSG_SPAWN ||
	    n_fds != 4) {
		fbx_log(z->log_fd, "error",
			"malformed spawn message (%zd bytes, %zu fds)", n,
			n_fds);
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		return;
	}
	int done_fd = fds[0];
	struct fbx_msg_done fail = {.type = FBX_MSG_DONE,
				    .flags = FBX_DONE_SETUP_FAILED};
	/* Alone, and not right behind the last report, its teardown can wait
	 * for the answer: a CPU is free for it then. With others running, CPU
	 * is the limit, and the exiting child tears itself down at the least
	 * cost (a stop costs the zygote two more wake-ups and a look at /proc:
	 * 5-8% of pipelined throughput). Learning, the child exits: a policy
	 * learned from a stop would lack exit_group, which children running
	 * side by side need. */
	struct fbx_msg_job job = {
	    .type = FBX_MSG_JOB,
	    .timeout_ms = msg.timeout_ms,
	    .stop_at_end = z->n_active == z->n_spares && !z->cfg.learn &&
			   fbx_now_ns() - z->last_done_ns > STOP_MIN_GAP_NS};
	int err = 0;

	struct fbx_invocation *inv = fbx_spare_take(z);
	if (!inv)
		inv = fbx_spare_fork(z, true, &err);
	if (!inv) {
		fail.setup_errno = err;
		snprintf(fail.msg, sizeof(fail.msg), "cannot fork a child: %s",
			 strerror(err));
		goto refuse;
	}
	/* The spare's dir, made ahead, now takes its public name. */
	char spare_name[FBX_TMPDIR_SPARE_LEN + 1];
	snprintf(spare_name, sizeof(spare_name), "%s%s",
		 FBX_TMPDIR_SPARE_PREFIX, inv->name);
	snprintf(job.tmp_name, sizeof(job.tmp_name), "%s", inv->name);
	if (syscall(SYS_renameat2, z->base_fd, spare_name, z->base_fd,
		    inv->name, RENAME_NOREPLACE) < 0) {
		fail.setup_errno = errno;
		snprintf(fail.msg, sizeof(fail.msg),
			 "naming the private dir %s: %s", inv->name,
			 strerror(errno));
		fbx_zygote_kill_tree(z, inv);
		goto refuse;
	}
	inv->dir_named = true;
	/* Timed from before the hand-over: the child it wakes may take this
	 * CPU from us at once, and its run must not escape the clock. */
	inv->start_ns = fbx_now_ns();
	inv->deadline_ns = inv->start_ns + (int64_t)msg.timeout_ms * 1000000;
	int job_fds[3] = {fds[1], fds[2], fds[3]};
	int rc = fbx_wire_send(inv->setup_sock, &job, sizeof(job), job_fds, 3);
	if (rc < 0) {
		/* The spare died while idle: its reaping cleans up. A child
		 * whose set-up failed said why before it died, and the reason
		 * may still be unread on its socket: report that. */
		for (int k = 0;
		     k < 4 && inv->setup_sock >= 0 && on_setup(z, inv); k++)
			;
		fail.setup_errno = -rc;
		if (inv->done.flags & FBX_DONE_SETUP_FAILED) {
			fail.setup_errno = inv->done.setup_errno;
			memcpy(fail.msg, inv->done.msg, sizeof(fail.msg));
		} else {
			snprintf(fail.msg, sizeof(fail.msg),
				 "handing the job to the child: %s",
				 strerror(-rc));
		}
		fbx_zygote_kill_tree(z, inv);
		goto refuse;
	}
	for (size_t i = 1; i < 4; i++)
		close(fds[i]);

	inv->spare = false;
	inv->stop_at_end = job.stop_at_end != 0;
	z->n_spares--;
	z->spare_failures = 0;
	inv->done_fd = done_fd;
	inv->token = msg.token;
	/* With another spare left the next request is covered: the
	 * replacement is forked once this invocation is answered (finish), so
	 * that its fork and set-up do not compete with this run for the
	 * CPUs (2 spares, requests 1 ms apart: 633 -> 462 us; back to back
	 * 771 -> 676 us; pipelined throughput unchanged). */
	if (z->n_spares > 0)
		return;
	/* None left: fork it now, the next request may come first. But our
	 * sendmsg woke the job's child, often onto this CPU, and forking
	 * first would make it wait out our slice: alone, it goes first, and
	 * the fork follows on whichever CPU frees up (1 spare, tmpfs,
	 * requests 1 ms apart: 640 -> 528 us; back to back 598 -> 615 us,
	 * and with others running yielding cost 4% of pipelined
	 * throughput). sched_yield cannot fail on Linux. */
	if (z->n_active - z->n_spares == 1)
		(void)sched_yield();
	fbx_spares_fill(z);
	return;

refuse:
	fbx_log(z->log_fd, "error", "cannot start an invocation: %s", fail.msg);
	if (write(done_fd, &fail, sizeof(fail)) < 0) {
		/* The host is gone; nobody to tell. */
	}
	for (size_t i = 0; i < 4; i++)
		close(fds[i]);
}

/* Reports an invocation whose child exited, or (stopped) that stopped at its
 * end with no child of its own and is dying of our SIGKILL (on_stopped): its
 * slot (with its uid) drains until it is reaped. */
static void finish(struct fbx_zygote *z, struct fbx_invocation *inv, int status,
		   const struct rusage *ru, bool stopped)
{
	/* A child that fails its set-up dies at once, and its SIGCHLD may be
	 * handled before the message saying why: read what it left. */
	for (int k = 0; k < 4 && inv->setup_sock >= 0 && on_setup(z, inv); k++)
		;
	if (inv->spare) {
		fbx_spare_lost(z, inv, status);
		return;
	}
	struct fbx_msg_done *d = &inv->done;
	/* Stopped at its end, it would have exited 0 next: the kill that
	 * ends it is ours, not its failure. */
	d->wait_status = stopped || inv->ended ? 0 : status;
	if (stopped || inv->ended)
		d->flags |= FBX_DONE_STOPPED;
	d->duration_ns = fbx_now_ns() - inv->start_ns;
	d->max_rss_kb = ru->ru_maxrss;
	d->cpu_us =
	    (int64_t)ru->ru_utime.tv_sec * 1000000 + ru->ru_utime.tv_usec +
	    (int64_t)ru->ru_stime.tv_sec * 1000000 + ru->ru_stime.tv_usec;
	/* The group first (its members may still run), then the strays. A
	 * stopped child keeps its pid here: the sweep, which waits for what
	 * it kills, is not to wait for this one's teardown. */
	if (!stopped && kill(-inv->pid, SIGKILL) < 0 && errno != ESRCH &&
	    errno != EPERM)
		fbx_log_errno(z->log_fd, "warn", errno, "kill group %d",
			      inv->pid);
	inv->kill_sent = true;
	if (!stopped)
		inv->pid = 0; /* no longer an active child */
	d->orphans_killed = fbx_zygote_sweep_orphans(z, inv->uid);

	/* Moved aside before the report, removed after it: the report never
	 * waits for the file system to free blocks, yet once it is out the
	 * dir is gone from its path. */
	struct fbx_error err = {0};
	char trash[FBX_TMPDIR_TRASH_LEN + 1] = "";
	fbx_zygote_base_mode_restore(z);
	if (fbx_tmpdir_retire(z->base_fd, inv->name, trash, &err) < 0) {
		trash[0] = '\0';
		if (fbx_tmpdir_remove(z->base_fd, inv->name, &err) < 0) {
			fbx_log(z->log_fd, "error",
				"private dir not fully removed: %s", err.msg);
		}
	}
	fbx_zygote_unwatch_close(z, &inv->setup_sock);
	fbx_zygote_unwatch_close(z, &inv->listener);
	send_done(inv);
	z->last_done_ns = fbx_now_ns();
	/* The host, woken by the report, is often queued behind us on this
	 * CPU, and the spare forked below would keep it waiting: the report
	 * reached the host's read in 24 us with this yield, and in 128-512
	 * us for a third of the invocations without it. */
	if (stopped)
		(void)sched_yield();
	fbx_close_fd(&inv->done_fd);
	inv->used = stopped;
	inv->draining = stopped;
	z->n_active--;
	/* Nothing but spares left: a lull, which recycled dirs wait for
	 * (zygote_janitor.c). */
	if (z->n_active == z->n_spares)
		z->lulls++;
	/* The answer is out: now the replacement spare (on_ctrl), which may
	 * take this very slot unless it drains (inv, which the slots' growth
	 * may move, is not used below). Before the janitor
	 * gets the dir: its rmdir and our mkdir contend for the tmp base
	 * (back to back, side by side: 834 us the other way round, 694 us
	 * this way).
	 * A spare of this slot's uid is only setting itself up meanwhile,
	 * running none of a module's code. */
	fbx_spares_fill(z);
	if (trash[0])
		fbx_janitor_remove(z, trash);
}

/* A child of ours stopped: a running one has ended (child.c, end; only its
 * own tree can stop it, so a module that does it early only ends its own
 * invocation). It is killed at once: a stop is not final, and a SIGCONT
 * (from another process of its uid, or one it arranged, F_SETSIG on a pipe
 * the host drains once it has the answer) would let it run again, and
 * fork, after we looked. Dying, it forks no more (the kernel fails a fork
 * with SIGKILL pending). Asked to stop (job.stop_at_end), one thread
 * without children, everything left of its tree is ours to
 * sweep, and it is reported now, with the usage the kernel reports for the
 * stopped process (its reaped children included, as at exit); its
 * teardown runs on. Otherwise it is reported at its exit, the teardown of
 * what it forked included. A stopped spare is of no use. */
static void on_stopped(struct fbx_zygote *z, struct fbx_invocation *inv,
		       const struct rusage *ru)
{
	if (inv->spare) {
		fbx_zygote_kill_tree(z, inv);
		return;
	}
	if (inv->kill_sent || inv->draining)
		return;
	inv->ended = true;
	if (inv->stop_at_end && kill(inv->pid, SIGKILL) == 0 &&
	    fbx_zygote_is_lone_thread(inv->pid))
		finish(z, inv, 0, ru, true);
	else
		fbx_zygote_kill_tree(z, inv);
}

/* A child reported while stopped is gone: what it forked between its stop
 * and our kill, missed by the sweep at its report (a child of one of its
 * threads, moving to another as they died), has come to us by now, and is
 * swept before its uid serves again. */
static void drained(struct fbx_zygote *z, struct fbx_invocation *inv)
{
	inv->pid = 0;
	(void)fbx_zygote_sweep_orphans(z, inv->uid);
	inv->used = inv->draining = false;
}

static void reap(struct fbx_zygote *z)
{
	struct signalfd_siginfo si;
	while (read(z->sigfd, &si, sizeof(si)) == sizeof(si))
		;
	for (;;) {
		int status;
		struct rusage ru;
		pid_t pid =
		    wait4(-1, &status, WNOHANG | WUNTRACED | __WALL, &ru);
		if (pid <= 0)
			break;
		if (pid == z->janitor_pid) {
			if (!WIFSTOPPED(status))
				fbx_janitor_lost(z, status);
			continue;
		}
		for (size_t i = 0; i < z->n_invs; i++) {
			struct fbx_invocation *inv = &z->invs[i];
			if (!inv->used || inv->pid != pid)
				continue;
			if (WIFSTOPPED(status))
				on_stopped(z, inv, &ru);
			else if (inv->draining)
				drained(z, inv);
			else
				finish(z, inv, status, &ru, false);
			break;
		}
		/* Anything else was an orphan left by some module (stopped
		 * ones stay so until a sweep kills them). */
	}
	/* Replacements for spares lost (finish refills after an answer). */
	fbx_spares_fill(z);
}

/* Reads one message of a child's setup socket (non-blocking on our side);
 * false when there was none. */
static bool on_setup(struct fbx_zygote *z, struct fbx_invocation *inv)
{
	struct fbx_msg_child m;
	int fd = -1;
	size_t n_fds = 0;
	ssize_t n =
	    fbx_wire_recv(inv->setup_sock, &m, sizeof(m), &fd, 1, &n_fds);
	/* A child that died with our job unread leaves the socket reset, and
	 * the kernel reports that once, ahead of the messages it had sent
	 * (the one saying why it died, for one): read on past it. */
	if (n == -ECONNRESET)
		n = fbx_wire_recv(inv->setup_sock, &m, sizeof(m), &fd, 1,
				  &n_fds);
	if (n == -EAGAIN)
		return false;
	if (n <= 0 && inv->spare) {
		/* A spare hung up: it is dying; keep the socket until reaped,
		 * but stop listening to it. */
		epoll_ctl(z->epfd, EPOLL_CTL_DEL, inv->setup_sock, NULL);
		inv->spare_failed = true;
		return false;
	}
	if (n == (ssize_t)sizeof(m) && m.type == FBX_MSG_CHILD_READY) {
		inv->ready = true;
		if (n_fds == 1) {
			inv->listener = fd;
			size_t slot = (size_t)(inv - z->invs);
			if (fbx_zygote_watch(z, fd,
					     fbx_ev_data(FBX_EV_LISTENER, slot,
							 inv->gen)) < 0)
				fbx_close_fd(&inv->listener);
		}
		return true;
	}
	if (n == (ssize_t)sizeof(m) && m.type == FBX_MSG_CHILD_FAILED) {
		if (n_fds == 1)
			close(fd);
		inv->done.flags |= FBX_DONE_SETUP_FAILED;
		inv->done.setup_errno = m.code;
		m.msg[sizeof(m.msg) - 1] = '\0';
		snprintf(inv->done.msg, sizeof(inv->done.msg), "%s", m.msg);
		fbx_log(z->log_fd, "error", "child set-up failed: %s", m.msg);
		if (inv->spare)
			inv->spare_failed = true;
		return true;
	}
	if (n_fds == 1)
		close(fd);
	/* End of file: the child closed it before loading the module (or
	 * died). A spare must keep it open until its job comes. */
	if (n <= 0 && !inv->spare)
		fbx_zygote_unwatch_close(z, &inv->setup_sock);
	return n > 0;
}

/* Learn mode: every syscall the policy would judge comes here; it is
 * recorded and let through, except a signal aimed at the zygote or its
 * host, which fails with EPERM as the signal guards would make it. */
static void learn_and_continue(struct fbx_zygote *z, struct fbx_invocation *inv,
			       const struct seccomp_notif *req)
{
	int nr = req->data.nr;
	if (nr >= 0 && nr < 512)
		inv->done.syscalls[nr / 64] |= 1ull << (nr % 64);
	struct seccomp_notif_resp resp;
	memset(&resp, 0, sizeof(resp));
	resp.id = req->id;
	resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	pid_t target = (pid_t)req->data.args[0];
	if ((nr == SYS_kill || nr == SYS_tgkill || nr == SYS_tkill) &&
	    (target == z->pid || target == getppid())) {
		resp.flags = 0;
		resp.error = -EPERM;
	}
	/* ENOENT: the caller died meanwhile; nothing to answer. */
	if (ioctl(inv->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 &&
	    errno != ENOENT)
		fbx_log_errno(z->log_fd, "warn", errno,
			      "answering a learn notification");
}

static void on_listener(struct fbx_zygote *z, struct fbx_invocation *inv,
			uint32_t events)
{
	if (events & EPOLLIN) {
		struct seccomp_notif req;
		memset(&req, 0, sizeof(req));
		bool got =
		    ioctl(inv->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0;
		if (got && z->cfg.learn) {
			learn_and_continue(z, inv, &req);
			return;
		}
		if (got) {
			if (!(inv->done.flags & FBX_DONE_SYSCALL_DENIED)) {
				inv->done.flags |= FBX_DONE_SYSCALL_DENIED;
				fbx_syscall_name(
				    req.data.nr, inv->done.syscall_name,
				    sizeof(inv->done.syscall_name));
			}
			/* The denied call never completes: the tree dies first.
			 */
			fbx_zygote_kill_tree(z, inv);
			return;
		}
	}
	if (events & (EPOLLHUP | EPOLLERR))
		fbx_zygote_unwatch_close(z, &inv->listener);
}

static int next_timeout_ms(struct fbx_zygote *z)
{
	int64_t now = fbx_now_ns(), best = -1;
	for (size_t i = 0; i < z->n_invs; i++) {
		struct fbx_invocation *inv = &z->invs[i];
		if (!inv->used || inv->kill_sent || inv->spare || inv->draining)
			continue;
		if (inv->deadline_ns <= now) {
			inv->done.flags |= FBX_DONE_TIMED_OUT;
			fbx_zygote_kill_tree(z, inv);
			continue;
		}
		int64_t left = (inv->deadline_ns - now + 999999) / 1000000;
		if (best < 0 || left < best)
			best = left;
	}
	return best > 1000000 ? 1000000 : (int)best;
}

/* A host that vanished will read no result: every child is killed. One
 * that retired us first only dropped a socket it no longer needs; what
 * runs finishes, and reports through its own done pipe. */
static void host_hung_up(struct fbx_zygote *z)
{
	if (epoll_ctl(z->epfd, EPOLL_CTL_DEL, z->ctrl, NULL) < 0)
		fbx_log_errno(z->log_fd, "warn", errno,
			      "epoll_ctl for the control socket");
	if (z->retiring) {
		fbx_close_fd(&z->ctrl);
		return;
	}
	for (size_t k = 0; k < z->n_invs; k++)
		if (z->invs[k].used)
			fbx_zygote_kill_tree(z, &z->invs[k]);
}

int fbx_zygote_serve(struct fbx_zygote *z)
{
	struct epoll_event evs[32];
	if (fbx_zygote_watch(z, z->ctrl, fbx_ev_data(FBX_EV_CTRL, 0, 0)) < 0 ||
	    fbx_zygote_watch(z, z->sigfd, fbx_ev_data(FBX_EV_SIGCHLD, 0, 0)) <
		0) {
		fbx_log_errno(z->log_fd, "error", errno, "epoll_ctl");
		return 1;
	}
	fbx_spares_fill(z);
	while ((!z->host_gone && !z->retiring) || z->n_active > 0) {
		int n = epoll_wait(z->epfd, evs, 32, next_timeout_ms(z));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fbx_log_errno(z->log_fd, "error", errno, "epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			enum fbx_ev_kind kind = (enum fbx_ev_kind)(d & 0xff);
			size_t slot = (size_t)((d >> 8) & 0xffffff);
			uint32_t gen = (uint32_t)(d >> 32);
			if (kind == FBX_EV_CTRL) {
				if (!z->host_gone) {
					on_ctrl(z);
					if (z->host_gone)
						host_hung_up(z);
				}
				continue;
			}
			if (kind == FBX_EV_SIGCHLD) {
				reap(z);
				continue;
			}
			if (slot >= z->n_invs || !z->invs[slot].used ||
			    z->invs[slot].gen != gen)
				continue; /* the invocation already finished */
			struct fbx_invocation *inv = &z->invs[slot];
			if (kind == FBX_EV_SETUP && inv->setup_sock >= 0)
				on_setup(z, inv);
			else if (kind == FBX_EV_LISTENER && inv->listener >= 0)
				on_listener(z, inv, evs[i].events);
		}
	}
	/* Children reported while stopped are killed but may not be reaped
	 * yet: neither they nor what they left are left to whoever inherits
	 * them. */
	for (size_t i = 0; i < z->n_invs; i++) {
		struct fbx_invocation *inv = &z->invs[i];
		if (!inv->used || !inv->draining)
			continue;
		if (waitpid(inv->pid, NULL, __WALL) < 0 && errno != ECHILD)
			fbx_log_errno(z->log_fd, "warn", errno, "reaping %d",
				      inv->pid);
		drained(z, inv);
	}
	/* Nothing runs any more: whatever is left of any uid, a leftover
	 * some sweep missed included, would outlive us under init. */
	(void)fbx_zygote_sweep_orphans(z, (uid_t)-1);
	return 0;
}
