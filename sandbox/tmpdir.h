/* Private per-invocation directories under a tmp base.
 *
 * Every invocation gets <tmp-base>/<uuid>, mode 0700. Removal never follows
 * a symlink the module planted and never crosses into another filesystem
 * (mount point): everything goes through openat/unlinkat relative to
 * directory fds opened with O_NOFOLLOW. */
#ifndef FORKBOX_TMPDIR_H
#define FORKBOX_TMPDIR_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define FBX_TMPDIR_NAME_LEN 36 /* a UUID in text form */

/* Opens (creating when missing, mode 0711) the tmp base directory and
 * returns an O_DIRECTORY fd in *base_fd. Refuses a base that is a symlink,
 * not a directory, or writable by others than its owner (unless sticky and
 * owned by us... no: simply refuses group/other-writable). */
int fbx_tmpdir_base_open(const char *path, int *base_fd, struct fbx_error *err);

/* Takes the base's lock file: exclusive when no other live forkbox uses the
 * base (then stale private dirs are swept), shared afterwards. Returns the
 * lock fd (keep it open for the zygote's lifetime) in *lock_fd and the
 * number of stale dirs removed in *swept. */
int fbx_tmpdir_base_lock_and_sweep(int base_fd, int *lock_fd, size_t *swept,
				   struct fbx_error *err);

/* Writes a fresh random UUID name (libuuid) with its NUL into name. */
void fbx_tmpdir_new_name(char name[FBX_TMPDIR_NAME_LEN + 1]);

/* True when name has the shape of a private dir name (a UUID). */
int fbx_tmpdir_is_private_name(const char *name);

/* Creates <base>/<name> with mode 0700, owned by uid:gid when uid != -1. */
int fbx_tmpdir_create(int base_fd, const char *name, uid_t uid, gid_t gid,
		      struct fbx_error *err);

/* Removes <base>/<name> and everything below it without following links
 * and without crossing mount points. A missing dir is not an error.
 * Returns 0, or -errno when something could not be removed (err says what;
 * whatever could be removed was). */
int fbx_tmpdir_remove(int base_fd, const char *name, struct fbx_error *err);

#endif
