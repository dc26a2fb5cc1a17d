/* The tmp base, its lock and sweep, private dir names and creation.
 * Removal lives in tmpdir_remove.c. */
#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uuid/uuid.h>

static void close_fdp(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define AUTO_FD __attribute__((cleanup(close_fdp)))

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* One path component we may create or remove under the base. */
static bool is_component(const char *name)
{
	return name && name[0] && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && !strchr(name, '/') &&
	       strlen(name) <= NAME_MAX;
}

static int open_base(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int fbx_tmpdir_base_open(const char *path, int *base_fd, struct fbx_error *err)
{
	*base_fd = -1;
	if (!path || !path[0])
		return fbx_error_set(err, EINVAL,
				     "no tmp base directory given");

	bool created = false;
	AUTO_FD int fd = open_base(path);
	if (fd < 0 && errno == ENOENT) {
		if (mkdir(path, 0711) == 0)
			created = true;
		else if (errno != EEXIST) /* EEXIST: someone raced us */
			return fbx_error_errno(err, errno,
					       "cannot create tmp base %s "
					       "(its parent must exist)",
					       path);
		fd = open_base(path);
	}
	if (fd < 0) {
		int e = errno;
		/* O_NOFOLLOW|O_DIRECTORY says ENOTDIR for a symlink (ELOOP
		 * on some kernels): tell the two apart for the message. */
		struct stat lst;
		if (e == ENOTDIR && lstat(path, &lst) == 0 &&
		    S_ISLNK(lst.st_mode))
			e = ELOOP;
		if (e == ELOOP)
			return fbx_error_set(err, ELOOP,
					     "tmp base %s is a symbolic link: "
					     "give the directory's real path",
					     path);
		if (e == ENOTDIR)
			return fbx_error_set(err, ENOTDIR,
					     "tmp base %s is not a directory",
					     path);
		return fbx_error_errno(err, e, "cannot open tmp base %s", path);
	}

	struct stat st;
	if (fstat(fd, &st) < 0)
		return fbx_error_errno(err, errno, "cannot stat tmp base %s",
				       path);
	if (!S_ISDIR(st.st_mode)) /* O_DIRECTORY said so; be sure */
		return fbx_error_set(err, ENOTDIR,
				     "tmp base %s is not a directory", path);
	if (st.st_uid != geteuid())
		return fbx_error_set(err, EPERM,
				     "tmp base %s is owned by uid %u, not by "
				     "us (uid %u): use a directory we own",
				     path, (unsigned)st.st_uid,
				     (unsigned)geteuid());
	if (created && (st.st_mode & 07777) != 0711) {
		/* The umask may have taken the search bits away. */
		if (fchmod(fd, 0711) < 0)
			return fbx_error_errno(err, errno,
					       "cannot chmod tmp base %s to "
					       "0711",
					       path);
		st.st_mode = (st.st_mode & ~(mode_t)07777) | 0711;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return fbx_error_set(
		    err, EPERM,
		    "tmp base %s is writable by %s (mode "
		    "%04o): use a private directory",
		    path, (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777));

	*base_fd = fd;
	fd = -1;
	return 0;
}

/* flock that retries when a signal interrupts it. */
static int flock_retry(int fd, int op)
{
	int rc;
	do
		rc = flock(fd, op);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* Removes every stale private dir of the base. Returns 0 or the first
 * failure (and keeps going past it). */
static int sweep(int base_fd, size_t *swept, struct fbx_error *err)
{
	/* A descriptor of our own: readdir moves its offset and closedir
	 * closes it, neither of which base_fd's owner expects. */
	int fd = openat(base_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fbx_error_errno(err, errno,
				       "cannot open the tmp base to sweep it");
	__attribute__((cleanup(closedirp))) DIR *dir = fdopendir(fd);
	if (!dir) {
		int e = errno;
		close(fd);
		return fbx_error_errno(err, e,
				       "cannot read the tmp base to sweep it");
	}

	int first = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(dir);
		if (!de) {
			if (errno && !first)
				first = fbx_error_errno(err, errno,
							"cannot read the tmp "
							"base to sweep it");
			break;
		}
		if (!fbx_tmpdir_is_ours(de->d_name))
			continue;
		/* Removing entries while reading is fine: an entry removed
		 * before readdir reached it is simply not returned. */
		struct fbx_error one = {0};
		int rc = fbx_tmpdir_remove(base_fd, de->d_name, &one);
		if (rc == 0) {
			(*swept)++;
		} else if (!first) {
			first = fbx_error_set(err, -rc,
					      "stale private dir %s in the tmp "
					      "base could not be removed (%s): "
					      "remove it by hand or use "
					      "another tmp base",
					      de->d_name, one.msg);
		}
	}
	return first;
}

int fbx_tmpdir_base_lock_and_sweep(int base_fd, int *lock_fd, size_t *swept,
				   struct fbx_error *err)
{
	*lock_fd = -1;
	*swept = 0;
	/* O_NONBLOCK: a FIFO planted under the lock's name must not hang us
	 * (the S_ISREG check below then refuses it). */
	AUTO_FD int fd = openat(
	    base_fd, FBX_TMPDIR_LOCK_NAME,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return fbx_error_errno(err, errno,
				       "cannot open the tmp base's lock file "
				       "%s",
				       FBX_TMPDIR_LOCK_NAME);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fbx_error_errno(err, errno, "cannot stat the lock file");
	if (!S_ISREG(st.st_mode))
		return fbx_error_set(err, EINVAL,
				     "the tmp base's lock file %s is not a "
				     "regular file: remove it",
				     FBX_TMPDIR_LOCK_NAME);

	if (flock_retry(fd, LOCK_EX | LOCK_NB) == 0) {
		/* Nobody else uses the base: every private dir in it is a
		 * leftover of a forkbox that died. */
		int rc = sweep(base_fd, swept, err);
		if (rc < 0)
			return rc;
	} else if (errno != EWOULDBLOCK) {
		return fbx_error_errno(err, errno, "cannot lock the tmp base");
	}
	/* Shared from now on. Converting EX to SH is not atomic: another
	 * forkbox may take EX in between and sweep, which is harmless since we
	 * have created no dir yet. When another one is sweeping right now,
	 * this waits for it to finish. */
	if (flock_retry(fd, LOCK_SH) < 0)
		return fbx_error_errno(err, errno,
				       "cannot take the tmp base's shared "
				       "lock");
	*lock_fd = fd;
	fd = -1;
	return 0;
}

void fbx_tmpdir_new_name(char name[FBX_TMPDIR_NAME_LEN + 1])
{
	uuid_t id;
	uuid_generate_random(id);
	uuid_unparse_lower(id, name);
}

int fbx_tmpdir_is_private_name(const char *name)
{
	if (!name)
		return 0;
	for (int i = 0; i < FBX_TMPDIR_NAME_LEN; i++) {
		char c = name[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') ||
			     (c >= 'a' && c <= 'f'))) {
			return 0; /* also stops at a NUL of a shorter name */
		}
	}
	return name[FBX_TMPDIR_NAME_LEN] == '\0';
}

int fbx_tmpdir_is_ours(const char *name)
{
	static const char *const prefixes[] = {"", FBX_TMPDIR_TRASH_PREFIX,
					       FBX_TMPDIR_SPARE_PREFIX,
					       FBX_TMPDIR_MODULE_PREFIX,
					       FBX_TMPDIR_FREE_PREFIX};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);
		if (strncmp(name, prefixes[i], n) == 0 &&
		    fbx_tmpdir_is_private_name(name + n))
			return 1;
	}
	return 0;
}

int fbx_tmpdir_retire(int base_fd, const char *name,
		      char trash[FBX_TMPDIR_TRASH_LEN + 1],
		      struct fbx_error *err)
{
	snprintf(trash, FBX_TMPDIR_TRASH_LEN + 1, "%s%s",
		 FBX_TMPDIR_TRASH_PREFIX, name);
	/* NOREPLACE: a trash entry of that name (impossible short of a UUID
	 * collision) is never overwritten. */
	if (syscall(SYS_renameat2, base_fd, name, base_fd, trash,
		    RENAME_NOREPLACE) < 0)
		return fbx_error_errno(err, errno,
				       "moving private dir %s aside", name);
	return 0;
}

int fbx_tmpdir_create(int base_fd, const char *name, uid_t uid, gid_t gid,
		      struct fbx_error *err)
{
	if (!is_component(name))
		return fbx_error_set(err, EINVAL,
				     "invalid private dir name '%s'",
				     name ? name : "(null)");
	if (mkdirat(base_fd, name, 0700) < 0) {
		if (errno == EEXIST)
			return fbx_error_set(err, EEXIST,
					     "private dir %s already exists "
					     "in the tmp base (never reused)",
					     name);
		return fbx_error_errno(err, errno,
				       "cannot create private dir %s", name);
	}

	int rc = 0;
	int fd = openat(base_fd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = fbx_error_errno(err, errno, "cannot open private dir %s",
				     name);
	} else {
		/* The umask may have dropped owner bits: make it exact. */
		if (fchmod(fd, 0700) < 0)
			rc = fbx_error_errno(
			    err, errno, "cannot chmod private dir %s", name);
		else if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)
			rc = fbx_error_errno(err, errno,
					     "cannot give private dir %s to "
					     "uid %u gid %d",
					     name, (unsigned)uid,
					     gid == (gid_t)-1 ? -1 : (int)gid);
		close(fd);
	}
	if (rc < 0 && unlinkat(base_fd, name, AT_REMOVEDIR) < 0) {
		/* err already says what went wrong first; the half-made,
		 * empty dir is swept at the next start. */
	}
	return rc;
}

int fbx_tmpdir_spare_untouched(int base_fd, const char *name, dev_t dev,
			       ino_t ino, const char *allowed)
{
	int fd = openat(base_fd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != dev || st.st_ino != ino ||
	    (st.st_mode & 07777) != 0700) {
		close(fd);
		return 0;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	int untouched = 1;
	struct dirent *de;
	errno = 0;
	while (untouched && (de = readdir(d)))
		untouched = !strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, "..") ||
			    (allowed && !strcmp(de->d_name, allowed));
	if (errno)
		untouched = 0;
	closedir(d);
	return untouched;
}
