/* The Landlock layer: a child writes only beneath its own private dir, and
 * (Landlock ABI 6, Linux 6.12) signals and connects to abstract unix
 * sockets only within its own process tree.
 *
 * Without it, a module running under the daemon's uid (no root, as in
 * Lambda) owns the tmp base like the daemon does: it could write into the
 * dir made ahead for the next invocation, rename its own dir out of the
 * cleanup's way, or change the base's mode; and any module could leave
 * files in /tmp or /dev/shm for later ones, or signal the host's threads,
 * whose ids no seccomp filter can know in advance.
 *
 * Each child builds its own ruleset: a ruleset is a shared kernel object,
 * and a rule added for one child's dir would reach every later child that
 * inherited the same ruleset. */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child_layers.h"

/* Newer than the oldest headers we build with (Debian 12 has ABI 2). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6; the kernel takes the size we
 * pass, so older kernels get the prefix they know. */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int fbx_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

static uint64_t fs_rights(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

static int allow_beneath(int ruleset, int fd, uint64_t rights)
{
	struct landlock_path_beneath_attr rule = {.allowed_access = rights,
						  .parent_fd = fd};
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
		    &rule, 0) < 0)
		return -errno;
	return 0;
}

/* Devices a program may open for writing anywhere: what they accept is
 * thrown away, and nothing of it outlives the process. Only /dev/null:
 * each rule costs the child a path walk and an allocation (about 5 us),
 * and writing to /dev/zero or /dev/urandom is rare. */
static int allow_devices(int ruleset, uint64_t handled)
{
	static const char *const devices[] = {"/dev/null"};
	uint64_t rights = handled & (LANDLOCK_ACCESS_FS_READ_FILE |
				     LANDLOCK_ACCESS_FS_WRITE_FILE |
				     LANDLOCK_ACCESS_FS_IOCTL_DEV);
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		int fd = open(devices[i], O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue; /* a machine without it: nothing to allow */
		int rc = allow_beneath(ruleset, fd, rights);
		close(fd);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int fbx_layer_landlock(int abi)
{
	uint64_t handled = fs_rights(abi);
	struct ruleset_attr attr = {.handled_access_fs = handled};
	size_t size = sizeof(attr.handled_access_fs);
	if (abi >= 6) {
		attr.scoped =
		    LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
		size = sizeof(attr);
	}
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return -errno;
	int rc = 0;
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		rc = -errno;
	/* Everything may be read and run, as without the layer. */
	if (!rc)
		rc = allow_beneath(ruleset, root,
				   LANDLOCK_ACCESS_FS_READ_FILE |
				       LANDLOCK_ACCESS_FS_READ_DIR |
				       LANDLOCK_ACCESS_FS_EXECUTE);
	if (root >= 0)
		close(root);
	/* The cwd is the private dir (child.c), whatever its name is now. */
	int dir = rc ? -1 : open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!rc && dir < 0)
		rc = -errno;
	if (!rc)
		rc = allow_beneath(ruleset, dir, handled);
	if (dir >= 0)
		close(dir);
	if (!rc)
		rc = allow_devices(ruleset, handled);
	/* Landlock wants no_new_privs (or CAP_SYS_ADMIN): set here already,
	 * as the seccomp filter that follows wants it too. */
	if (!rc && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = -errno;
	if (!rc && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		rc = -errno;
	close(ruleset);
	return rc;
}
