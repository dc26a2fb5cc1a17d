/* Enters N Landlock domains that allow every file system access, then
 * runs the command: what a program started by a supervisor that uses
 * Landlock itself inherits. With N = 16 (the kernel's limit) no process
 * below can enter a domain of its own.
 *
 *   landlock_nest N COMMAND [ARGS...]
 *
 * Exits 77 when the kernel has no Landlock. */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int enter_allow_all(void)
{
	/* The rights of ABI 1: every later kernel knows them. */
	uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	struct landlock_ruleset_attr attr = {.handled_access_fs = rights};
	int ruleset =
	    (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return -errno;
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct landlock_path_beneath_attr all = {.allowed_access = rights,
						 .parent_fd = root};
	int rc = 0;
	if (root < 0 ||
	    syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
		    &all, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		rc = -errno;
	if (root >= 0)
		close(root);
	close(ruleset);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: landlock_nest N COMMAND [ARGS...]\n");
		return 2;
	}
	if (syscall(SYS_landlock_create_ruleset, NULL, 0,
		    LANDLOCK_CREATE_RULESET_VERSION) < 0)
		return 77;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		perror("landlock_nest: prctl(PR_SET_NO_NEW_PRIVS)");
		return 1;
	}
	int n = atoi(argv[1]);
	for (int i = 0; i < n; i++) {
		int rc = enter_allow_all();
		if (rc < 0) {
			fprintf(stderr, "landlock_nest: domain %d: %s\n", i + 1,
				strerror(-rc));
			return 1;
		}
	}
	execvp(argv[2], argv + 2);
	perror("landlock_nest: exec");
	return 127;
}
