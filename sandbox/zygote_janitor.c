/* The janitor: a small process of the zygote's own that removes retired
 * private dirs.
 *
 * Removing a dir is the file system's slowest step of an invocation: on an
 * ext4 disk mounted with discard (a Firecracker VM's root, for one) the
 * rmdir waits for a synchronous discard, 100-300 us, in D state. Done in
 * the zygote's loop, after the report, it still delays whatever request
 * comes next. The janitor takes that wait out of the loop; the removal
 * itself is the same no-follow, same-mount code (tmpdir_remove.c).
 *
 * It is forked before anything else (small, no interpreter), keeps only
 * the tmp base, the log and the read end of a pipe of fixed-size names, and
 * exits when the zygote closes the other end, after what is queued. A dir
 * is handed over only once nothing of its invocation is alive, chowned to
 * the zygote first, so that the next process of the same uid cannot get in
 * and feed the removal. When the janitor is gone or behind (a full pipe),
 * the zygote removes the dir itself: slower, never lost (a janitor that
 * dies with names queued leaves them to the zygote too).
 *
 * With --recycle-dirs (a uid per slot only) a dir is emptied instead, and
 * if it is then
 * as a new one (tmpdir_recycle.c) its ".free-" name goes back to the
 * zygote on a second pipe, for a later spare; the zygote removes what is
 * left there when it stops.
 *
 * It serves again only after a lull, a moment when no invocation runs,
 * that came after its own invocation ended: one that ran beside it could
 * have opened it (its module may chmod it) and could hold it still, to
 * see into the next module's dir; at a lull all of those are dead, and
 * so is anything they could have passed it to. Emptying need not wait:
 * once sealed, a holder of another uid can list the dir but not change
 * it, and a module's data must not sit on the disk until the next lull. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "tmpdir.h"
#include "zygote.h"

struct janitor_msg {
	char trash[FBX_TMPDIR_TRASH_LEN + 1];
	bool recycle;
	struct fbx_tmpdir_shape fresh; /* what a new dir looks like */
	uint64_t usable_at;	       /* passed back with its free name */
};

/* Closes every descriptor but the ones in keep (sorted, ascending). */
static int close_all_but(const int *keep, size_t n)
{
	unsigned lo = 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned hi = i < n ? (unsigned)keep[i] : ~0U;
		if (hi > lo && syscall(SYS_close_range, lo, hi - 1, 0) < 0)
			return -errno;
		lo = hi + 1;
	}
	return 0;
}

/* Empties a recyclable dir and hands it back to the zygote; false when it
 * is to be removed instead (under the name in trash). */
static bool recycle(int base_fd, int out_fd, const struct janitor_msg *m)
{
	struct fbx_free_dir f;
	memset(&f, 0, sizeof(f));
	f.usable_at = m->usable_at;
	struct fbx_error err = {0};
	if (fbx_tmpdir_recycle(base_fd, m->trash, &m->fresh, f.name, &err) < 0)
		return false;
	if (write(out_fd, &f, sizeof(f)) == (ssize_t)sizeof(f))
		return true;
	/* The zygote is not taking them (a full pipe) or is gone. */
	(void)fbx_tmpdir_remove(base_fd, f.name, NULL);
	return true;
}

static __attribute__((noreturn)) void janitor_main(int in_fd, int out_fd,
						   int base_fd, int log_fd)
{
	int keep[4] = {in_fd, out_fd, base_fd, log_fd};
	/* Four small ints (the log's -1 sorts first): sort by hand. */
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	if (close_all_but(log_fd >= 0 ? keep : keep + 1, log_fd >= 0 ? 4 : 3) <
	    0)
		_exit(1);
	(void)prctl(PR_SET_NAME, "forkbox-janitor");
	/* A zygote gone must not end the removal of what is queued. */
	(void)signal(SIGPIPE, SIG_IGN);
	struct janitor_msg m;
	for (;;) {
		ssize_t n = read(in_fd, &m, sizeof(m));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* the zygote closed its end */
		m.trash[sizeof(m.trash) - 1] = '\0';
		/* Only ever a name of ours, never a path. */
		if (n != (ssize_t)sizeof(m) || strchr(m.trash, '/') ||
		    strncmp(m.trash, FBX_TMPDIR_TRASH_PREFIX,
			    strlen(FBX_TMPDIR_TRASH_PREFIX)) != 0)
			continue;
		if (m.recycle && recycle(base_fd, out_fd, &m))
			continue;
		struct fbx_error err = {0};
		if (fbx_tmpdir_remove(base_fd, m.trash, &err) < 0)
			fbx_log(log_fd, "error",
				"private dir not fully removed: %s", err.msg);
	}
}

int fbx_janitor_start(struct fbx_zygote *z)
{
	/* Both ends that either side must never block on are non-blocking:
	 * a full pipe to the janitor means remove here, a full pipe back
	 * means remove there. */
	int p[2], back[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(back, O_CLOEXEC | O_NONBLOCK) < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		close(back[0]);
		close(back[1]);
		return -e;
	}
	if (pid == 0)
		janitor_main(p[0], back[1], z->base_fd, z->log_fd);
	close(p[0]);
	close(back[1]);
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;
		close(p[1]);
		close(back[0]);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return -e;
	}
	z->janitor_pid = pid;
	z->janitor_fd = p[1];
	z->free_fd = back[0];
	return 0;
}

/* Root's children each have a uid of their own, and the slot's next child
 * gets this one: the dir becomes the zygote's, mode 0700, so that nothing
 * of that uid can enter it while it is being removed. */
static int seal_dir(int base_fd, const char *name)
{
	int fd = openat(base_fd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fchown(fd, geteuid(), getegid()) < 0 || fchmod(fd, 0700) < 0
		     ? -errno
		     : 0;
	close(fd);
	return rc;
}

static bool send_to_janitor(struct fbx_zygote *z, const char *trash,
			    bool recycle)
{
	struct janitor_msg m;
	memset(&m, 0, sizeof(m));
	snprintf(m.trash, sizeof(m.trash), "%s", trash);
	m.recycle = recycle;
	m.fresh = z->dir_shape;
	/* Ended at a lull (finish counts it first): usable at once. */
	m.usable_at = z->n_active == z->n_spares ? z->lulls : z->lulls + 1;
	return z->janitor_fd >= 0 &&
	       write(z->janitor_fd, &m, sizeof(m)) == (ssize_t)sizeof(m);
}

static void remove_here(struct fbx_zygote *z, const char *name)
{
	struct fbx_error err = {0};
	if (fbx_tmpdir_remove(z->base_fd, name, &err) < 0)
		fbx_log(z->log_fd, "error", "private dir not fully removed: %s",
			err.msg);
}

/* Sealed (a uid per slot) is a condition of recycling: without it the
 * next module of the same uid could get in while it is emptied. */
void fbx_janitor_remove(struct fbx_zygote *z, const char *trash)
{
	if (z->cfg.run_uid >= 0 && seal_dir(z->base_fd, trash) < 0) {
		remove_here(z, trash);
		return;
	}
	bool recycle =
	    z->cfg.recycle_dirs && z->cfg.run_uid >= 0 && z->dir_shape_known;
	if (!send_to_janitor(z, trash, recycle))
		remove_here(z, trash);
}

/* What a dead janitor left queued: every ".trash-" dir of the base is a
 * retired one (another zygote generation's janitor may be removing some
 * of them too; removal takes ENOENT in its stride). */
static void remove_all_trash(struct fbx_zygote *z)
{
	int fd = openat(z->base_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		fbx_log_errno(z->log_fd, "error", errno,
			      "listing the tmp base for retired dirs");
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, FBX_TMPDIR_TRASH_PREFIX,
			    strlen(FBX_TMPDIR_TRASH_PREFIX)) != 0)
			continue;
		struct fbx_error err = {0};
		if (fbx_tmpdir_remove(z->base_fd, de->d_name, &err) < 0)
			fbx_log(z->log_fd, "error",
				"private dir not fully removed: %s", err.msg);
	}
	closedir(d);
}

void fbx_janitor_lost(struct fbx_zygote *z, int status)
{
	fbx_log(z->log_fd, "warn",
		"the janitor process died (status 0x%x); private dirs are "
		"removed inline from now on",
		status);
	z->janitor_pid = 0;
	fbx_close_fd(&z->janitor_fd);
	remove_all_trash(z);
}

/* Reads one name the janitor sent back; false when there is none. */
static bool read_free(struct fbx_zygote *z, struct fbx_free_dir *f)
{
	if (z->free_fd < 0 ||
	    read(z->free_fd, f, sizeof(*f)) != (ssize_t)sizeof(*f))
		return false;
	f->name[sizeof(f->name) - 1] = '\0';
	return fbx_tmpdir_reuse_name_ok(f->name);
}

bool fbx_janitor_take_free(struct fbx_zygote *z,
			   char name[FBX_TMPDIR_FREE_LEN + 1])
{
	for (size_t i = 0; i < z->n_held; i++) {
		if (z->held[i].usable_at > z->lulls)
			continue;
		memcpy(name, z->held[i].name, sizeof(z->held[i].name));
		z->held[i] = z->held[--z->n_held];
		return true;
	}
	struct fbx_free_dir f;
	while (read_free(z, &f)) {
		if (f.usable_at <= z->lulls) {
			memcpy(name, f.name, sizeof(f.name));
			return true;
		}
		if (z->n_held < FBX_HELD_DIRS)
			z->held[z->n_held++] = f;
		else
			remove_here(z, f.name); /* enough wait already */
	}
	return false;
}

void fbx_janitor_stop(struct fbx_zygote *z)
{
	if (z->janitor_pid > 0) {
		fbx_close_fd(&z->janitor_fd);
		/* It finishes what is queued: the tmp base is clean when we
		 * exit. */
		int status;
		while (waitpid(z->janitor_pid, &status, 0) < 0 &&
		       errno == EINTR)
			;
		z->janitor_pid = 0;
	}
	/* The free dirs no spare took (each one named once, ours only:
	 * another generation's zygote may share the base). */
	for (size_t i = 0; i < z->n_held; i++)
		remove_here(z, z->held[i].name);
	z->n_held = 0;
	struct fbx_free_dir f;
	while (read_free(z, &f))
		remove_here(z, f.name);
	fbx_close_fd(&z->free_fd);
}
