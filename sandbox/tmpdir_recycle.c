/* Recycling a private dir instead of removing it and making a new one.
 *
 * Why: on an ext4 without a journal (a VM's root disk, this machine's
 * among them) the kernel avoids handing out an inode freed in the last
 * minutes (recently_deleted() in fs/ext4/ialloc.c) and walks past every
 * such inode of the group on each allocation. Under a steady stream of
 * invocations, each one freeing its dir's inode, the mkdir of the next
 * spare's dir came to cost 0.1-0.75 ms, more than all the rest of an
 * invocation. An emptied dir renamed for the next spare allocates nothing.
 *
 * Which dirs may be recycled, and when they serve again, is the zygote's
 * call (zygote_janitor.c): only with a uid per slot, where the dir is
 * sealed (the zygote's, 0700) as its invocation ends, and only after a
 * moment when no invocation runs, when no process of ours that could
 * have opened it is alive any more.
 * Here: a recycled dir must be as a new one in everything its module could
 * have changed. It is emptied with the removal's rules, then kept only if
 * it is a plain dir of ours, mode 0700, two links, no extended attribute
 * (ACLs are ones), and the size, inode flags and project of a fresh dir;
 * anything else and it is removed as before. What a module can still tell
 * is its inode number and birth time (README, Isolation). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tmpdir.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

int fbx_tmpdir_shape_read(int fd, struct fbx_tmpdir_shape *shape)
{
	memset(shape, 0, sizeof(*shape));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	shape->size = (int64_t)st.st_size;
	int flags = 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		shape->flags_err = errno;
	else
		shape->flags = (uint32_t)flags;
	struct fsxattr fsx;
	memset(&fsx, 0, sizeof(fsx));
	if (ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0) {
		shape->fsx_err = errno;
	} else {
		shape->xflags = fsx.fsx_xflags;
		shape->projid = fsx.fsx_projid;
		shape->extsize = fsx.fsx_extsize;
	}
	return 0;
}

bool fbx_tmpdir_shape_equal(const struct fbx_tmpdir_shape *a,
			    const struct fbx_tmpdir_shape *b)
{
	return a->size == b->size && a->flags_err == b->flags_err &&
	       a->flags == b->flags && a->fsx_err == b->fsx_err &&
	       a->xflags == b->xflags && a->projid == b->projid &&
	       a->extsize == b->extsize;
}

/* The checks on an emptied dir (fd) before it may serve again. */
static int check_as_fresh(int fd, int base_fd,
			  const struct fbx_tmpdir_shape *fresh,
			  const char *name, struct fbx_error *err)
{
	struct stat st, base;
	if (fstat(fd, &st) < 0 || fstat(base_fd, &base) < 0)
		return fbx_error_errno(err, errno, "recycling %s: stat", name);
	if (!S_ISDIR(st.st_mode) || st.st_dev != base.st_dev ||
	    st.st_uid != geteuid() || st.st_gid != getegid() ||
	    (st.st_mode & 07777) != 0700 || st.st_nlink != 2)
		return fbx_error_set(
		    err, EPERM, "recycling %s: not a sealed, empty dir", name);
	ssize_t attrs = flistxattr(fd, NULL, 0);
	if (attrs < 0 && errno != ENOTSUP)
		return fbx_error_errno(err, errno, "recycling %s: xattrs",
				       name);
	if (attrs > 0)
		return fbx_error_set(err, EPERM,
				     "recycling %s: it has extended attributes",
				     name);
	struct fbx_tmpdir_shape now;
	int rc = fbx_tmpdir_shape_read(fd, &now);
	if (rc < 0)
		return fbx_error_errno(err, -rc, "recycling %s: stat", name);
	if (!fbx_tmpdir_shape_equal(&now, fresh))
		return fbx_error_set(err, EPERM,
				     "recycling %s: size or inode flags "
				     "differ from a new dir's",
				     name);
	return 0;
}

int fbx_tmpdir_recycle(int base_fd, const char *name,
		       const struct fbx_tmpdir_shape *fresh,
		       char free_name[FBX_TMPDIR_FREE_LEN + 1],
		       struct fbx_error *err)
{
	int rc = fbx_tmpdir_empty(base_fd, name, err);
	if (rc < 0)
		return rc;
	int fd = openat(base_fd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fbx_error_errno(err, errno, "recycling %s: open", name);
	rc = check_as_fresh(fd, base_fd, fresh, name, err);
	/* Its times would tell when the last module used it. */
	if (rc == 0 && futimens(fd, NULL) < 0)
		rc = fbx_error_errno(err, errno, "recycling %s: times", name);
	close(fd);
	if (rc < 0)
		return rc;
	char uuid[FBX_TMPDIR_NAME_LEN + 1];
	fbx_tmpdir_new_name(uuid);
	snprintf(free_name, FBX_TMPDIR_FREE_LEN + 1, "%s%s",
		 FBX_TMPDIR_FREE_PREFIX, uuid);
	if (syscall(SYS_renameat2, base_fd, name, base_fd, free_name,
		    RENAME_NOREPLACE) < 0)
		return fbx_error_errno(err, errno, "recycling %s: rename",
				       name);
	return 0;
}

bool fbx_tmpdir_reuse_name_ok(const char *name)
{
	size_t n = strlen(FBX_TMPDIR_FREE_PREFIX);
	return strncmp(name, FBX_TMPDIR_FREE_PREFIX, n) == 0 &&
	       fbx_tmpdir_is_private_name(name + n);
}

int fbx_tmpdir_reuse(int base_fd, const char *free_name, const char *name,
		     uid_t uid, gid_t gid, struct fbx_error *err)
{
	if (!fbx_tmpdir_reuse_name_ok(free_name))
		return fbx_error_set(err, EINVAL, "not a free dir: '%s'",
				     free_name);
	if (syscall(SYS_renameat2, base_fd, free_name, base_fd, name,
		    RENAME_NOREPLACE) < 0)
		return fbx_error_errno(err, errno, "taking free dir %s",
				       free_name);
	int fd = openat(base_fd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fbx_error_errno(err, errno, "opening reused dir %s",
				       name);
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = fbx_error_errno(err, errno, "stat of reused dir %s", name);
	else if (st.st_uid != geteuid() || (st.st_mode & 07777) != 0700 ||
		 st.st_nlink != 2)
		rc = fbx_error_set(err, EPERM,
				   "reused dir %s changed while free", name);
	else if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)
		rc = fbx_error_errno(err, errno,
				     "cannot give reused dir %s to uid %u",
				     name, (unsigned)uid);
	close(fd);
	return rc;
}
