/* Spare children: forked and set up ahead of their job, handed one when a
 * SPAWN comes, and retired when the zygote itself is.
 *
 * A spare owns a slot (and with it a uid) and a private dir made ahead as
 * ".spare-<uuid>". It waits on its setup socket for the job; the end of
 * file there instead tells it to exit 0 (receive_job in child.c), and its
 * reaping removes its dir (fbx_spare_lost). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "runtime.h"
#include "zygote.h"

static struct fbx_invocation *inv_alloc(struct fbx_zygote *z, size_t *slot)
{
	for (size_t i = 0; i < z->n_invs; i++) {
		if (!z->invs[i].used) {
			*slot = i;
			return &z->invs[i];
		}
	}
	size_t n = z->n_invs ? z->n_invs * 2 : 16;
	struct fbx_invocation *grown = realloc(z->invs, n * sizeof(*grown));
	if (!grown)
		return NULL;
	memset(grown + z->n_invs, 0, (n - z->n_invs) * sizeof(*grown));
	z->invs = grown;
	*slot = z->n_invs;
	z->n_invs = n;
	return &z->invs[*slot];
}

/* clone() straight into a new PID namespace: a fork whose child is the
 * namespace's init, so its death takes every descendant with it. */
static pid_t fork_child(bool pidns)
{
	if (!pidns)
		return fork();
	return (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL,
			      NULL, NULL);
}

/* Modules of our uid own the tmp base as we do, and Landlock has no say
 * over modes: one that took our write permission away would fail every
 * later invocation. Set back before each use of the base. */
void fbx_zygote_base_mode_restore(struct fbx_zygote *z)
{
	struct stat st;
	if (z->cfg.run_uid >= 0 || fstat(z->base_fd, &st) < 0 ||
	    (st.st_mode & 07777) == z->base_mode)
		return;
	fbx_log(z->log_fd, "warn",
		"the tmp base's mode was changed to %04o (by a module of our "
		"uid): set back to %04o",
		(unsigned)(st.st_mode & 07777), (unsigned)z->base_mode);
	if (fchmod(z->base_fd, z->base_mode) < 0)
		fbx_log_errno(z->log_fd, "error", errno,
			      "chmod of the tmp base");
}

/* A recycled dir as the spare's, when the janitor has sent one back: a
 * rename instead of a mkdir (tmpdir_recycle.c). */
static bool spare_dir_reused(struct fbx_zygote *z, const char *spare_name,
			     uid_t uid, gid_t gid)
{
	char free_name[FBX_TMPDIR_FREE_LEN + 1];
	if (!z->cfg.recycle_dirs || z->cfg.run_uid < 0 ||
	    !fbx_janitor_take_free(z, free_name))
		return false;
	struct fbx_error e = {0};
	if (fbx_tmpdir_reuse(z->base_fd, free_name, spare_name, uid, gid, &e) ==
	    0)
		return true;
	fbx_log(z->log_fd, "warn", "%s; a new dir is made instead", e.msg);
	/* Under whichever of the two names it is left. */
	if (fbx_tmpdir_reuse_name_ok(free_name))
		(void)fbx_tmpdir_remove(z->base_fd, free_name, NULL);
	(void)fbx_tmpdir_remove(z->base_fd, spare_name, NULL);
	return false;
}

/* Forks a child that sets itself up and waits for a job. */
struct fbx_invocation *fbx_spare_fork(struct fbx_zygote *z, bool job_waiting,
				      int *err)
{
	size_t slot;
	struct fbx_invocation *inv = inv_alloc(z, &slot);
	int sp[2] = {-1, -1};
	if (!inv) {
		*err = ENOMEM;
		return NULL;
	}
	char name[FBX_TMPDIR_NAME_LEN + 1],
	    spare_name[FBX_TMPDIR_SPARE_LEN + 1];
	fbx_tmpdir_new_name(name);
	snprintf(spare_name, sizeof(spare_name), "%s%s",
		 FBX_TMPDIR_SPARE_PREFIX, name);
	/* Beyond its uid range a slot would share a uid with a child of
	 * another zygote generation (wire.h). */
	if (z->cfg.run_uid >= 0 && slot >= FBX_RUN_UID_SPAN) {
		*err = EAGAIN;
		return NULL;
	}
	uid_t uid = z->cfg.run_uid >= 0 ? (uid_t)z->cfg.run_uid + (uid_t)slot
					: (uid_t)-1;
	gid_t gid = z->cfg.run_gid >= 0 ? (gid_t)z->cfg.run_gid + (gid_t)slot
					: (gid_t)-1;
	struct fbx_error e = {0};
	fbx_zygote_base_mode_restore(z);
	bool made = !spare_dir_reused(z, spare_name, uid, gid);
	if (made &&
	    fbx_tmpdir_create(z->base_fd, spare_name, uid, gid, &e) < 0) {
		fbx_log(z->log_fd, "error", "%s", e.msg);
		*err = e.code;
		return NULL;
	}
	int dir_fd = openat(z->base_fd, spare_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat dir_st;
	/* What a recycled dir must look like (zygote_janitor.c). */
	if (dir_fd >= 0 && made && z->cfg.recycle_dirs && z->cfg.run_uid >= 0)
		z->dir_shape_known =
		    fbx_tmpdir_shape_read(dir_fd, &z->dir_shape) == 0;
	/* Our end non-blocking: a dead child's last message is read at its
	 * reaping, when nothing may be left to read (zygote.c, finish). */
	if (dir_fd < 0 || fstat(dir_fd, &dir_st) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    fcntl(sp[0], F_SETFL, O_NONBLOCK) < 0) {
		*err = errno;
		if (dir_fd >= 0)
			close(dir_fd);
		fbx_close_fd(&sp[0]);
		fbx_close_fd(&sp[1]);
		(void)fbx_tmpdir_remove(z->base_fd, spare_name, NULL);
		return NULL;
	}
	struct fbx_child_args args = {
	    .job_waiting = job_waiting,
	    .cfg = &z->cfg,
	    .bpf = &z->bpf,
	    .after_load_bpf = &z->after_load_bpf,
	    .seccomp_notify = z->layers & FBX_LAYER_SECCOMP_NOTIFY,
	    .pidns = z->layers & FBX_LAYER_PIDNS,
	    .landlock_abi = !(z->layers & FBX_LAYER_LANDLOCK) ? 0
			    : (z->layers & FBX_LAYER_LANDLOCK_SCOPE)
				? z->landlock_abi
				: (z->landlock_abi < 5 ? z->landlock_abi : 5),
	    .runtime = z->runtime,
	    .zygote_pid = z->pid,
	    .zygote_pidfd = z->self_pidfd,
	    .setup_fd = sp[1],
	    .dir_fd = dir_fd,
	    .dir_name = name,
	    .snapshot_fd = job_waiting ? -1 : fbx_snapshot_fd(z),
	    .signals_changed = &z->signals_changed,
	    /* One uid per concurrent slot: two invocations running at
	     * once can neither signal each other nor enter each other's
	     * private dir. A slot is reused only after its last process
	     * is dead. */
	    .uid = uid,
	    .gid = gid,
	};
	pid_t pid = fork_child(z->layers & FBX_LAYER_PIDNS);
	if (pid == 0)
		fbx_child_main(&args);
	close(dir_fd);
	close(sp[1]);
	if (pid < 0) {
		*err = errno;
		close(sp[0]);
		(void)fbx_tmpdir_remove(z->base_fd, spare_name, NULL);
		return NULL;
	}
	uint32_t gen = inv->gen + 1;
	memset(inv, 0, sizeof(*inv));
	inv->used = true;
	inv->spare = true;
	inv->gen = gen;
	inv->pid = pid;
	inv->uid = uid;
	snprintf(inv->name, sizeof(inv->name), "%s", name);
	inv->dir_dev = dir_st.st_dev;
	inv->dir_ino = dir_st.st_ino;
	inv->done_fd = -1;
	inv->setup_sock = sp[0];
	inv->listener = -1;
	inv->deadline_ns = INT64_MAX;
	z->n_active++;
	z->n_spares++;
	if (fbx_zygote_watch(z, inv->setup_sock,
			     fbx_ev_data(FBX_EV_SETUP, slot, gen)) < 0) {
		fbx_log_errno(z->log_fd, "error", errno,
			      "epoll_ctl for a spare");
		fbx_zygote_kill_tree(z, inv);
	}
	return inv;
}

/* Keeps the configured number of spares forked. A spare that dies before
 * its job is replaced, but not forever: after a few in a row, children
 * are only forked on demand, where a failure reaches the caller. */
void fbx_spares_fill(struct fbx_zygote *z)
{
	while (!z->host_gone && !z->retiring && z->n_spares < z->cfg.spares &&
	       z->spare_failures < 3) {
		int err;
		if (!fbx_spare_fork(z, false, &err)) {
			fbx_log_errno(z->log_fd, "warn", err,
				      "cannot fork a spare child");
			z->spare_failures++;
			return;
		}
	}
}

/* A spare that died while idle may not be reaped yet: look before
 * handing it a job, without reaping (the SIGCHLD path does that). */
static bool spare_alive(const struct fbx_invocation *inv)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)inv->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return false;
	return si.si_pid == 0;
}

/* Prefers a spare that is fully set up (it said READY). */
/* Without a uid of their own or Landlock, modules have our uid: one could
 * have written into a spare's dir (code its job would import) or swapped
 * the dir. Checked at hand-over, when with one invocation at a time no
 * module code runs (-j 1; with more, one running beside could still do it
 * then: README, Isolation). */
static bool spare_dir_intact(struct fbx_zygote *z, struct fbx_invocation *inv)
{
	fbx_zygote_base_mode_restore(z);
	if (z->cfg.run_uid >= 0)
		return true;
	char spare_name[FBX_TMPDIR_SPARE_LEN + 1];
	snprintf(spare_name, sizeof(spare_name), "%s%s",
		 FBX_TMPDIR_SPARE_PREFIX, inv->name);
	if (z->layers & FBX_LAYER_LANDLOCK) {
		/* Nothing can be written into it or put in its place, but
		 * Landlock has no say over modes: a dir made 0000 would fail
		 * its job. Set back (the name cannot have become a link). */
		struct stat st;
		if (fstatat(z->base_fd, spare_name, &st, AT_SYMLINK_NOFOLLOW) ==
			0 &&
		    S_ISDIR(st.st_mode) && (st.st_mode & 07777) != 0700 &&
		    fchmodat(z->base_fd, spare_name, 0700, 0) < 0)
			return false;
		return true;
	}
	const char *module = z->cfg.module_path[0]
				 ? fbx_runtime_base_name(z->cfg.module_path)
				 : NULL;
	if (fbx_tmpdir_spare_untouched(z->base_fd, spare_name, inv->dir_dev,
				       inv->dir_ino, module))
		return true;
	fbx_log(z->log_fd, "warn",
		"spare %d: its private dir was changed by another process of "
		"our uid; the spare is discarded",
		(int)inv->pid);
	return false;
}

struct fbx_invocation *fbx_spare_take(struct fbx_zygote *z)
{
	struct fbx_invocation *fallback = NULL;
	for (size_t i = 0; i < z->n_invs; i++) {
		struct fbx_invocation *inv = &z->invs[i];
		if (!inv->used || !inv->spare || inv->spare_failed ||
		    inv->kill_sent || inv->setup_sock < 0)
			continue;
		if (!spare_alive(inv)) {
			inv->spare_failed = true;
			continue;
		}
		if (!spare_dir_intact(z, inv)) {
			inv->spare_failed = true;
			fbx_zygote_kill_tree(z, inv);
			continue;
		}
		if (inv->ready)
			return inv;
		if (!fallback)
			fallback = inv;
	}
	return fallback;
}

/* A spare died before any job: nobody to tell. One that was retired
 * (fbx_spares_retire) exits this way on purpose. */
void fbx_spare_lost(struct fbx_zygote *z, struct fbx_invocation *inv,
		    int status)
{
	if (!z->host_gone && !z->retiring) {
		fbx_log(z->log_fd, "warn",
			"spare child %d died before its job (status 0x%x)%s%s",
			(int)inv->pid, status, inv->done.msg[0] ? ": " : "",
			inv->done.msg);
		z->spare_failures++;
	}
	(void)fbx_zygote_sweep_orphans(z, inv->uid);
	char dir[FBX_TMPDIR_SPARE_LEN + 1];
	snprintf(dir, sizeof(dir), "%s%s",
		 inv->dir_named ? "" : FBX_TMPDIR_SPARE_PREFIX, inv->name);
	struct fbx_error err = {0};
	if (fbx_tmpdir_remove(z->base_fd, dir, &err) < 0)
		fbx_log(z->log_fd, "error", "spare's dir not fully removed: %s",
			err.msg);
	fbx_zygote_unwatch_close(z, &inv->setup_sock);
	fbx_zygote_unwatch_close(z, &inv->listener);
	inv->used = false;
	inv->pid = 0;
	z->n_spares--;
	z->n_active--;
}

/* RETIRE: no spare will get a job from this zygote. Closing its setup
 * socket makes it exit 0 (or fail its set-up, if it was not waiting yet);
 * the SIGCHLD path reaps it and removes its dir. */
void fbx_spares_retire(struct fbx_zygote *z)
{
	for (size_t i = 0; i < z->n_invs; i++) {
		struct fbx_invocation *inv = &z->invs[i];
		if (!inv->used || !inv->spare || inv->setup_sock < 0)
			continue;
		/* Removed by hand: a child forked after it may still hold a
		 * copy of the socket, which would keep it in the epoll set.
		 * ENOENT: it hung up earlier and was removed then. */
		if (epoll_ctl(z->epfd, EPOLL_CTL_DEL, inv->setup_sock, NULL) <
			0 &&
		    errno != ENOENT)
			fbx_log_errno(z->log_fd, "warn", errno,
				      "epoll_ctl for a retired spare");
		fbx_close_fd(&inv->setup_sock);
	}
}
