/* Slot uids kept apart between handles.
 *
 * A root host runs each concurrent slot under a uid of its own
 * (FBX_RUN_UID_BASE + ...). Two handles, in one process or in two daemons on
 * one machine, that took the same uids would let one's modules signal or
 * enter the other's. Each handle therefore claims a block of uid ranges
 * machine-wide, holding an flock(2) on /run/forkbox/uid-block-<n>.lock for
 * its lifetime (an flock belongs to the open file, so two handles of one
 * process exclude each other too, and a crashed daemon's claim ends with
 * it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

#define UID_BLOCK_DIR "/run/forkbox"

/* The dir's files decide which uids a module runs as: root's own, and
 * written by no one else. */
static int open_block_dir(struct fbx_error *err)
{
	if (mkdir(UID_BLOCK_DIR, 0700) < 0 && errno != EEXIST)
		return fbx_error_errno(err, errno,
				       "cannot create " UID_BLOCK_DIR
				       " (where root forkbox hosts claim "
				       "their slot uids)");
	int fd = open(UID_BLOCK_DIR,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fbx_error_errno(err, errno,
				       "cannot open " UID_BLOCK_DIR);
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return fbx_error_set(err, EPERM,
				     UID_BLOCK_DIR
				     " is not root's own "
				     "(owned by root, writable by no one "
				     "else): remove it");
	}
	return fd;
}

int fbx_host_claim_uid_block(unsigned *block, int *lock_fd,
			     struct fbx_error *err)
{
	*lock_fd = -1;
	int dir = open_block_dir(err);
	if (dir < 0)
		return dir;
	for (unsigned b = 0; b < FBX_UID_BLOCKS; b++) {
		char name[64];
		snprintf(name, sizeof(name), "uid-block-%u.lock", b);
		int fd = openat(
		    dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			int e = errno;
			close(dir);
			return fbx_error_errno(
			    err, e, "cannot open " UID_BLOCK_DIR "/%s", name);
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			close(dir);
			*block = b;
			*lock_fd = fd;
			return 0;
		}
		int e = errno;
		close(fd);
		if (e != EWOULDBLOCK) {
			close(dir);
			return fbx_error_errno(
			    err, e, "cannot lock " UID_BLOCK_DIR "/%s", name);
		}
	}
	close(dir);
	return fbx_error_set(err, EAGAIN,
			     "all %d uid blocks of " UID_BLOCK_DIR
			     " are claimed by running forkbox hosts",
			     FBX_UID_BLOCKS);
}
