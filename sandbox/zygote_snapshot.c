/* The module snapshot: one read-only copy of the default module
 * (--module), made by the zygote in the tmp base as
 * ".module-<uuid>/<name>", that each spare hard-links into its private dir
 * (child.c) instead of writing a copy of its own.
 *
 * Why: a copy per invocation is a new inode, data blocks and, on a file
 * system mounted with discard, a synchronous discard when it is removed;
 * on ext4 without a journal every inode freed in the last minutes also
 * slows the next one's allocation (README, Speed). A link costs a
 * directory entry.
 *
 * Only with a uid per slot: the file is ours (root's), mode 0444, so a
 * module can read it, unlink its own link, but neither write it, chmod it
 * nor set its times or attributes (all need ownership or write
 * permission), and with protected_hardlinks it cannot link it anywhere
 * either. Under our own uid a module could make it writable, and the
 * next invocation would run what it wrote: spares then copy as before.
 *
 * Correctness does not rest on this file being current: the job compares
 * what its dir holds with the module's path byte for byte, as it does for
 * a copy (runtime_stage.c), and makes its own copy when they differ. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "runtime.h"
#include "zygote.h"

/* Larger modules are copied by each spare as before: the copy here runs
 * in the zygote's loop, where every other invocation waits for it. */
#define SNAPSHOT_MAX_BYTES (16 * 1024 * 1024)
/* A file changed less than this long ago is likely being rewritten (the
 * seed's pattern rewrites it before every request): spares copy it until
 * it settles, rather than the zygote copying it again and again. */
#define SNAPSHOT_SETTLE_NS (1000 * 1000 * 1000LL)

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static bool settled(const struct stat *st)
{
	struct timespec now;
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return false;
	int64_t changed =
	    (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
	int64_t at = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	return at - changed >= SNAPSHOT_SETTLE_NS;
}

void fbx_snapshot_drop(struct fbx_zygote *z)
{
	struct fbx_module_snapshot *s = &z->snapshot;
	if (s->dir_fd < 0)
		return;
	fbx_close_fd(&s->dir_fd);
	struct fbx_error err = {0};
	/* Children holding a link keep the inode; only the name goes. */
	if (fbx_tmpdir_remove(z->base_fd, s->dir_name, &err) < 0)
		fbx_log(z->log_fd, "warn", "module snapshot not removed: %s",
			err.msg);
	s->dir_name[0] = '\0';
}

/* sendfile: unlike copy_file_range, it copies across file systems (the
 * module's and the tmp base's seldom are one). */
static int copy_all(int in, int out, off_t size)
{
	off_t done = 0;
	while (done < size) {
		ssize_t n = sendfile(out, in, NULL, (size_t)(size - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EAGAIN; /* it shrank while we copied */
		done += n;
	}
	return 0;
}

/* Copies the module into a new ".module-<uuid>" dir. 0 or -errno; the
 * source's state as copied goes to *copied. */
static int snapshot_make(struct fbx_zygote *z, int in, struct stat *copied)
{
	struct fbx_module_snapshot *s = &z->snapshot;
	char uuid[FBX_TMPDIR_NAME_LEN + 1];
	fbx_tmpdir_new_name(uuid);
	snprintf(s->dir_name, sizeof(s->dir_name), "%s%s",
		 FBX_TMPDIR_MODULE_PREFIX, uuid);
	struct fbx_error err = {0};
	/* 0700, ours: only a child of ours, before it drops its uid, links
	 * from here. */
	int rc = fbx_tmpdir_create(z->base_fd, s->dir_name, (uid_t)-1,
				   (gid_t)-1, &err);
	if (rc < 0) {
		s->dir_name[0] = '\0';
		return rc;
	}
	s->dir_fd = openat(z->base_fd, s->dir_name,
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dir_fd < 0) {
		rc = -errno;
		goto fail;
	}
	const char *name = fbx_runtime_base_name(z->cfg.module_path);
	int out =
	    openat(s->dir_fd, name,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
	if (out < 0) {
		rc = -errno;
		goto fail;
	}
	struct stat after;
	rc = copy_all(in, out, copied->st_size);
	/* Exact mode whatever the umask; then the source must not have
	 * changed while it was read. */
	if (rc == 0 && fchmod(out, 0555) < 0)
		rc = -errno;
	if (rc == 0 &&
	    (fstat(in, &after) < 0 || !same_file_state(copied, &after)))
		rc = -EAGAIN;
	if (close(out) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0)
		return 0;
fail:
	fbx_snapshot_drop(z);
	return rc;
}

/* Before each spare is forked: keeps the snapshot in step with the
 * module's path. A stat when nothing changed. */
int fbx_snapshot_fd(struct fbx_zygote *z)
{
	struct fbx_module_snapshot *s = &z->snapshot;
	if (z->cfg.run_uid < 0 || !z->cfg.module_path[0] || s->disabled)
		return -1;
	struct stat st;
	if (stat(z->cfg.module_path, &st) < 0 || !S_ISREG(st.st_mode)) {
		fbx_snapshot_drop(z); /* the job reports what is wrong */
		return -1;
	}
	if (s->dir_fd >= 0 && same_file_state(&s->source, &st))
		return s->dir_fd;
	fbx_snapshot_drop(z);
	if (st.st_size > SNAPSHOT_MAX_BYTES || !settled(&st))
		return -1;
	int in = open(z->cfg.module_path,
		      O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (in < 0)
		return -1;
	struct stat opened;
	int rc = fstat(in, &opened) < 0 ? -errno
		 : !same_file_state(&opened, &st)
		     ? -EAGAIN
		     : snapshot_make(z, in, &opened);
	close(in);
	if (rc == -EAGAIN)
		return -1; /* changing under us: tried again at the next spare
			    */
	if (rc < 0) {
		/* Not worth trying again and again (a full disk, a read-only
		 * base): spares copy as before. */
		fbx_log_errno(z->log_fd, "warn", -rc,
			      "cannot snapshot the module into the tmp base; "
			      "each spare copies it instead");
		s->disabled = true;
		return -1;
	}
	s->source = opened;
	return s->dir_fd;
}
