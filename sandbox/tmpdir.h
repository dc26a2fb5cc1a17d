/* Private per-invocation directories under a tmp base.
 *
 * Every invocation gets <tmp-base>/<uuid>, mode 0700. Removal never follows
 * a symlink the module planted and never crosses into another filesystem
 * (mount point): everything goes through openat/unlinkat relative to
 * directory fds opened with O_NOFOLLOW.
 *
 * tmpdir.c holds the base, the lock, the names and creation;
 * tmpdir_remove.c holds the removal of a hostile tree. */
#ifndef FORKBOX_TMPDIR_H
#define FORKBOX_TMPDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define FBX_TMPDIR_NAME_LEN 36 /* a UUID in text form */

/* A finished invocation's dir is first renamed to ".trash-<uuid>" (one
 * cheap syscall, before the invocation is reported), then removed. The
 * stale sweep takes both shapes. */
#define FBX_TMPDIR_TRASH_PREFIX ".trash-"
#define FBX_TMPDIR_TRASH_LEN	(7 + FBX_TMPDIR_NAME_LEN)
/* A spare child's dir is made ahead as ".spare-<uuid>" and renamed to
 * "<uuid>" when its job arrives: a rename is far cheaper than a mkdir on
 * a busy ext4, and a dir nobody has used yet never looks like one in use. */
#define FBX_TMPDIR_SPARE_PREFIX ".spare-"
#define FBX_TMPDIR_SPARE_LEN	(7 + FBX_TMPDIR_NAME_LEN)

/* A zygote's snapshot of the default module (zygote_snapshot.c), a dir
 * holding one read-only file. */
#define FBX_TMPDIR_MODULE_PREFIX ".module-"
#define FBX_TMPDIR_MODULE_LEN	 (8 + FBX_TMPDIR_NAME_LEN)

/* A retired dir emptied and found as fresh as a new one, kept for a
 * later spare instead of a mkdir (tmpdir_recycle.c). */
#define FBX_TMPDIR_FREE_PREFIX ".free-"
#define FBX_TMPDIR_FREE_LEN    (6 + FBX_TMPDIR_NAME_LEN)

/* The lock file in the base: every live forkbox sharing the base holds it
 * LOCK_SH; only a process that gets it LOCK_EX sweeps stale dirs. */
#define FBX_TMPDIR_LOCK_NAME ".forkbox.lock"

/* Opens the tmp base directory (creating it when missing, mode 0711, so
 * that a child running under a dropped uid can reach its own 0700 dir but
 * cannot list the others; its parent must exist) and returns an
 * O_RDONLY|O_DIRECTORY fd in *base_fd. Refuses a base that is a symlink,
 * not a directory, not owned by the effective uid, or writable by group or
 * others. */
int fbx_tmpdir_base_open(const char *path, int *base_fd, struct fbx_error *err)
    __attribute__((nonnull(2)));

/* Takes the base's lock file: exclusive when no other live forkbox uses the
 * base (then stale private dirs, the entries whose name
 * fbx_tmpdir_is_private_name accepts and only those, are removed), shared
 * afterwards. Returns the lock fd (keep it open for the zygote's lifetime)
 * in *lock_fd and the number of stale dirs removed in *swept.
 *
 * A stale dir that cannot be removed entirely (say, a mount point left in
 * it) fails the call after everything else was swept: the message names the
 * dir so that an administrator can deal with it. */
int fbx_tmpdir_base_lock_and_sweep(int base_fd, int *lock_fd, size_t *swept,
				   struct fbx_error *err)
    __attribute__((nonnull(2, 3)));

/* Writes a fresh random UUID name (libuuid, lower case) with its NUL into
 * name. */
void fbx_tmpdir_new_name(char name[FBX_TMPDIR_NAME_LEN + 1])
    __attribute__((nonnull(1)));

/* True when name has exactly the shape fbx_tmpdir_new_name writes: 36
 * characters, lower-case hex digits grouped 8-4-4-4-12 by dashes. */
int fbx_tmpdir_is_private_name(const char *name);

/* Creates <base>/<name> with mode 0700, owned by uid:gid when
 * uid != (uid_t)-1 (gid too is then applied, (gid_t)-1 keeping ours). An
 * existing entry is an error (EEXIST): a dir is never reused. name must be
 * one path component. */
int fbx_tmpdir_create(int base_fd, const char *name, uid_t uid, gid_t gid,
		      struct fbx_error *err);

/* True for the names forkbox makes in a tmp base: "<uuid>",
 * ".trash-<uuid>", ".spare-<uuid>", ".module-<uuid>". Only those are ever
 * swept. */
int fbx_tmpdir_is_ours(const char *name);

/* Renames <base>/<name> to <base>/.trash-<name> (written into trash), so
 * that it is gone from its path at once and can be removed at leisure. */
int fbx_tmpdir_retire(int base_fd, const char *name,
		      char trash[FBX_TMPDIR_TRASH_LEN + 1],
		      struct fbx_error *err);

/* Removes <base>/<name> and everything below it without following links
 * and without crossing mount points (a mount point found is left in place
 * and reported). A missing dir is not an error. Returns 0, or -errno when
 * something could not be removed (err says what failed first; whatever
 * could be removed was). Works on arbitrarily deep trees with a bounded
 * number of fds and bounded C stack. */
int fbx_tmpdir_remove(int base_fd, const char *name, struct fbx_error *err);

/* As fbx_tmpdir_remove, but <base>/<name> itself stays, emptied (a
 * non-directory there is an error, ENOTDIR). */
int fbx_tmpdir_empty(int base_fd, const char *name, struct fbx_error *err);

/* What a new dir looks like in the attributes a module could change for
 * good (tmpdir_recycle.c). */
struct fbx_tmpdir_shape {
	int64_t size;
	int flags_err; /* 0, or the errno of FS_IOC_GETFLAGS */
	uint32_t flags;
	int fsx_err; /* 0, or the errno of FS_IOC_FSGETXATTR */
	uint32_t xflags, projid, extsize;
};

/* Reads the shape of the dir open as fd. Returns 0 or -errno. */
int fbx_tmpdir_shape_read(int fd, struct fbx_tmpdir_shape *shape);
bool fbx_tmpdir_shape_equal(const struct fbx_tmpdir_shape *a,
			    const struct fbx_tmpdir_shape *b);

/* Empties the sealed, retired dir <base>/<name> and, when it is then as a
 * new dir of shape fresh would be (ours, 0700, no xattr, same shape),
 * renames it to a new ".free-<uuid>" (free_name). Returns 0, or -errno
 * with the dir left under its name (emptied or not) for removal. */
int fbx_tmpdir_recycle(int base_fd, const char *name,
		       const struct fbx_tmpdir_shape *fresh,
		       char free_name[FBX_TMPDIR_FREE_LEN + 1],
		       struct fbx_error *err);

/* True when name is a ".free-<uuid>" name. */
bool fbx_tmpdir_reuse_name_ok(const char *name);

/* Renames the free dir free_name to name and gives it to uid/gid (unless
 * -1), as fbx_tmpdir_create would make it. Returns 0, or -errno: then a
 * dir may be left under either name, for removal. */
int fbx_tmpdir_reuse(int base_fd, const char *free_name, const char *name,
		     uid_t uid, gid_t gid, struct fbx_error *err);

/* 1 when the dir name in base_fd is still the one made (dev, ino), mode
 * 0700, and holds nothing but allowed (a file name, or NULL for none);
 * else 0. For dirs made ahead where another process of ours could reach
 * them (zygote_spare.c). */
int fbx_tmpdir_spare_untouched(int base_fd, const char *name, dev_t dev,
			       ino_t ino, const char *allowed);

#endif
