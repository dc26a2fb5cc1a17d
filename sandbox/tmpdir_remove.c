/* Removing a private dir the module had its way with.
 *
 * The tree is hostile: symlinks to anywhere, hard links to outside files,
 * FIFOs, dirs chmod'ed 0000, a 100,000-deep chain of dirs, and (with enough
 * privilege, or through an administrator's mistake) mount points. Rules:
 *
 * - Never follow a symlink: every lookup is an openat/unlinkat of one
 *   component relative to a directory fd we hold, dirs are opened with
 *   O_NOFOLLOW|O_DIRECTORY, and everything that is not a directory is
 *   unlinked (a symlink is removed itself, a hard link drops one link) and
 *   never opened.
 * - Never walk up with "..": a dir renamed elsewhere while we are inside
 *   it would make ".." lead out of the tree (the classic rm -rf race).
 *   Each level keeps the fd it was opened with until it is done.
 * - Never cross a mount point: each dir opened is compared with the base
 *   (st_dev, and statx's STATX_ATTR_MOUNT_ROOT and mount id, which also
 *   catch a bind mount of the same filesystem). A mount point is left in
 *   place, untouched, and reported.
 * - Bounded fds and C stack, whatever the depth: an explicit stack of at
 *   most RM_MAX_OPEN open levels, no recursion. A dir found below that
 *   depth is not entered: it is renamed (renameat, relative to fds we
 *   hold) into the top of the private dir, which is read again once its
 *   listing ends. A chain of any depth is thus cut into pieces of
 *   RM_MAX_OPEN levels, each handled with all its fds held: O(n) work, no
 *   re-opening by name. The rename stays inside the tree being removed
 *   and cannot cross a mount (EXDEV/EBUSY), so it gives the module
 *   nothing. Re-opening closed levels by name from the parent would be
 *   the alternative, but needs either ".." or a walk from the top that
 *   makes a deep chain cost O(n^2), plus an identity check per step.
 * - Permissions: a dir we cannot list or change is chmod'ed 0700 first
 *   (through an O_PATH fd and /proc/self/fd when we cannot even open it,
 *   as a non-root zygote must for a 0000 dir), after the mount check.
 *
 * Errors do not stop the walk: everything removable is removed, and the
 * first failure is what the caller hears of. */
#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

/* Directory levels held open at once (one fd and one DIR buffer each). */
#define RM_MAX_OPEN 32

struct rm_frame {
	DIR *dir;
	int fd;			 /* dirfd(dir) */
	char name[NAME_MAX + 1]; /* its name in the level above */
};

/* What tells a directory's filesystem and mount apart. */
struct dir_id {
	dev_t dev;
	mode_t mode;
	bool mount_root; /* statx says it is the root of a mount */
	bool has_mnt_id;
	uint64_t mnt_id;
};

struct rm_state {
	const char *top; /* the private dir's name, for messages */
	struct dir_id base;
	struct fbx_error *err;
	int first;	/* first failure, -errno, or 0 */
	bool rescan;	/* dirs were moved into frames[0] during its pass */
	bool keep_top;	/* empty the private dir, do not remove it */
	unsigned moved; /* names given to dirs moved up */
	struct rm_frame frames[RM_MAX_OPEN];
};

__attribute__((format(printf, 4, 5))) static void
fail(struct rm_state *st, int code, bool with_errno, const char *fmt, ...)
{
	if (st->first)
		return;
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (with_errno)
		st->first = fbx_error_errno(st->err, code, "private dir %s: %s",
					    st->top, what);
	else
		st->first = fbx_error_set(st->err, code, "private dir %s: %s",
					  st->top, what);
}

static int get_dir_id(int fd, struct dir_id *id)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
		  STATX_TYPE | STATX_MODE | STATX_MNT_ID, &sx) == 0) {
		id->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
		id->mode = sx.stx_mode;
		id->mount_root =
		    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		    (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
		id->has_mnt_id = (sx.stx_mask & STATX_MNT_ID) != 0;
		id->mnt_id = sx.stx_mnt_id;
		return 0;
	}
	/* No statx (old kernel, or a filter refuses it): st_dev only. */
	if (errno != ENOSYS && errno != EPERM && errno != EINVAL)
		return -errno;
	struct stat s;
	if (fstat(fd, &s) < 0)
		return -errno;
	*id = (struct dir_id){.dev = s.st_dev, .mode = s.st_mode};
	return 0;
}

static bool is_other_mount(const struct rm_state *st, const struct dir_id *id)
{
	return id->dev != st->base.dev || id->mount_root ||
	       (id->has_mnt_id && st->base.has_mnt_id &&
		id->mnt_id != st->base.mnt_id);
}

/* Opens directory name under parent for listing and removing its entries,
 * after checking it is on the base's mount and making it 0700 when we
 * could not list or change it. Returns the fd, or -ENOENT (gone), -ENOTDIR
 * or -ELOOP (not a directory: the caller unlinks it) unreported, or
 * another -errno already reported (-EXDEV: a mount point, left alone). */
static int open_subdir(struct rm_state *st, int parent, const char *name,
		       int depth)
{
	bool by_path = false;
	int fd = openat(parent, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		/* Mode 0000 or so, and we are not root: O_PATH needs no
		 * permission on the dir itself. */
		by_path = true;
		fd = openat(parent, name,
			    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		int e = errno;
		if (e != ENOENT && e != ENOTDIR && e != ELOOP)
			fail(st, e, true, "cannot open '%s' (depth %d)", name,
			     depth);
		return -e;
	}

	struct dir_id id;
	int rc = get_dir_id(fd, &id);
	if (rc < 0) {
		fail(st, -rc, true, "cannot stat '%s' (depth %d)", name, depth);
		goto out_close;
	}
	if (!S_ISDIR(id.mode)) { /* O_DIRECTORY said so; be sure */
		rc = -ENOTDIR;
		goto out_close;
	}
	if (is_other_mount(st, &id)) {
		fail(st, EBUSY, false,
		     "'%s' (depth %d) is a mount point: left in place, "
		     "unmount it and remove the rest by hand",
		     name, depth);
		rc = -EXDEV;
		goto out_close;
	}

	if ((id.mode & 0700) != 0700) {
		if (by_path) {
			/* fchmod refuses O_PATH fds; the /proc magic link
			 * names this very inode, not a path. */
			char proc[64];
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			rc = chmod(proc, 0700);
		} else {
			rc = fchmod(fd, 0700);
		}
		if (rc < 0) {
			rc = -errno;
			fail(st, -rc, true, "cannot chmod '%s' (depth %d)",
			     name, depth);
			goto out_close;
		}
	}
	if (by_path) {
		int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rfd < 0) {
			rc = -errno;
			fail(st, -rc, true, "cannot open '%s' (depth %d)", name,
			     depth);
			goto out_close;
		}
		close(fd);
		fd = rfd;
	}
	return fd;

out_close:
	close(fd);
	return rc;
}

/* Pushes directory fd (named name in the level above) as the new top of the
 * stack; consumes fd. */
static void push(struct rm_state *st, int *depth, int fd, const char *name)
{
	DIR *dir = fdopendir(fd);
	if (!dir) {
		fail(st, errno, true, "cannot read '%s' (depth %d)", name,
		     *depth);
		close(fd);
		return;
	}
	struct rm_frame *f = &st->frames[*depth];
	f->dir = dir;
	f->fd = fd;
	snprintf(f->name, sizeof(f->name), "%s", name);
	(*depth)++;
}

/* Moves directory name, found below the deepest level we hold open, to the
 * top of the private dir, where the next pass over it removes it. */
static void move_up(struct rm_state *st, int parent, const char *name,
		    int depth)
{
	for (int tries = 0; tries < 100; tries++) {
		char to[32];
		snprintf(to, sizeof(to), ".fbx-deep-%u", st->moved++);
		if (renameat(parent, name, st->frames[0].fd, to) == 0) {
			st->rescan = true;
			return;
		}
		if (errno == ENOENT)
			return; /* gone meanwhile */
		/* The module may have taken the name: try another one. (An
		 * empty dir of that name is replaced, which is fine: it is
		 * ours to remove.) */
		if (errno != EEXIST && errno != ENOTEMPTY && errno != ENOTDIR &&
		    errno != EISDIR)
			break;
	}
	fail(st, errno, true,
	     "cannot move '%s' (depth %d) up out of a deep chain", name, depth);
}

/* Removes one entry of the top level, or pushes it when it is a directory
 * to enter. */
static void handle_entry(struct rm_state *st, int *depth,
			 const struct dirent *de)
{
	struct rm_frame *f = &st->frames[*depth - 1];
	const char *name = de->d_name;
	int unlink_err = 0;

	if (de->d_type != DT_DIR) {
		if (unlinkat(f->fd, name, 0) == 0 || errno == ENOENT)
			return;
		/* Linux says EISDIR for a dir, POSIX EPERM. */
		if (errno != EISDIR && errno != EPERM) {
			fail(st, errno, true, "cannot unlink '%s' (depth %d)",
			     name, *depth);
			return;
		}
		unlink_err = errno;
	}

	int fd = open_subdir(st, f->fd, name, *depth);
	if (fd == -ENOTDIR || fd == -ELOOP) {
		/* Not a directory (any more, if the module swapped it). */
		if (unlink_err)
			fail(st, unlink_err, true,
			     "cannot unlink '%s' (depth %d)", name, *depth);
		else if (unlinkat(f->fd, name, 0) < 0 && errno != ENOENT)
			fail(st, errno, true, "cannot unlink '%s' (depth %d)",
			     name, *depth);
		return;
	}
	if (fd < 0)
		return; /* gone, or reported */

	if (*depth == RM_MAX_OPEN) {
		close(fd); /* it was opened for the mount and mode checks */
		move_up(st, f->fd, name, *depth);
		return;
	}
	push(st, depth, fd, name);
}

/* Closes the finished top level and removes it from the level above. */
static void pop(struct rm_state *st, int *depth, int base_fd)
{
	struct rm_frame *f = &st->frames[*depth - 1];
	int parent = *depth >= 2 ? st->frames[*depth - 2].fd : base_fd;
	closedir(f->dir);
	f->dir = NULL;
	f->fd = -1;
	if (*depth == 1 && st->keep_top) {
		(*depth)--;
		return;
	}
	if (unlinkat(parent, f->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		fail(st, errno, true, "cannot remove directory '%s' (depth %d)",
		     f->name, *depth - 1);
	(*depth)--;
}

static bool is_dot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static int remove_tree(int base_fd, const char *name, bool keep_top,
		       struct fbx_error *err)
{
	if (!name || !name[0] || is_dot(name) || strchr(name, '/') ||
	    strlen(name) > NAME_MAX)
		return fbx_error_set(err, EINVAL,
				     "invalid private dir name '%s'",
				     name ? name : "(null)");

	struct rm_state *st = calloc(1, sizeof(*st));
	if (!st)
		return fbx_error_errno(err, ENOMEM, "removing private dir %s",
				       name);
	st->top = name;
	st->err = err;
	st->keep_top = keep_top;
	int rc = get_dir_id(base_fd, &st->base);
	if (rc < 0) {
		free(st);
		return fbx_error_errno(err, -rc,
				       "removing private dir %s: cannot stat "
				       "the tmp base",
				       name);
	}

	int depth = 0;
	int fd = open_subdir(st, base_fd, name, 0);
	if ((fd == -ENOTDIR || fd == -ELOOP) && keep_top) {
		fail(st, ENOTDIR, false, "not a directory");
	} else if (fd == -ENOTDIR || fd == -ELOOP) {
		/* Not a dir at all: nothing below to care about. */
		if (unlinkat(base_fd, name, 0) < 0 && errno != ENOENT)
			fail(st, errno, true, "cannot unlink it");
	} else if (fd >= 0) {
		push(st, &depth, fd, name);
	}

	while (depth > 0) {
		struct rm_frame *f = &st->frames[depth - 1];
		errno = 0;
		struct dirent *de = readdir(f->dir);
		if (de) {
			if (!is_dot(de->d_name))
				handle_entry(st, &depth, de);
			continue;
		}
		if (errno) {
			fail(st, errno, true, "cannot read '%s' (depth %d)",
			     f->name, depth - 1);
		} else if (depth == 1 && st->rescan) {
			/* Dirs were moved here: read it again. */
			st->rescan = false;
			rewinddir(f->dir);
			continue;
		}
		pop(st, &depth, base_fd);
	}

	rc = st->first;
	free(st);
	return rc;
}

int fbx_tmpdir_remove(int base_fd, const char *name, struct fbx_error *err)
{
	return remove_tree(base_fd, name, false, err);
}

int fbx_tmpdir_empty(int base_fd, const char *name, struct fbx_error *err)
{
	return remove_tree(base_fd, name, true, err);
}
