/* Unit tests for sandbox/tmpdir_remove.c: removing a private dir holding a
 * hostile tree (symlinks out, hard links, fifos, locked dirs), a deep
 * chain, and mount points. Each test works in a fresh mkdtemp directory
 * (fixture in tmpdir_test_util.h); the tests needing root or a mount
 * namespace run in a forked child and are skipped with a reason without. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tmpdir_test_util.h"

#define SKIPPED 77 /* exit status of a child that cannot run its test */

/* pathf for forked children, where cmocka's asserts must not run. */
static void cpathf(char *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cpathf(char *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n <= 0 || n >= PATH_MAX)
		_exit(100);
}

/* ---- removal ---- */

/* Makes <base>/<name> and returns an fd on it. */
static int make_private(struct fx *f, char name[FBX_TMPDIR_NAME_LEN + 1])
{
	struct fbx_error err = {0};
	fbx_tmpdir_new_name(name);
	assert_int_equal(
	    fbx_tmpdir_create(f->base_fd, name, (uid_t)-1, (gid_t)-1, &err), 0);
	int fd = openat(f->base_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void remove_ok(struct fx *f, const char *name)
{
	struct fbx_error err = {0};
	int rc = fbx_tmpdir_remove(f->base_fd, name, &err);
	if (rc < 0)
		fail_msg("remove: %s", err.msg);
	assert_false(exists_at(f->base_fd, name));
}

static void test_remove_hostile_tree(void **state)
{
	struct fx *f = *state;
	open_base(f);
	char p[PATH_MAX], q[PATH_MAX];
	/* Outside: a dir with a canary, a file, a file to hard-link. */
	pathf(p, "%s/dir", f->outside);
	assert_int_equal(mkdir(p, 0755), 0);
	pathf(p, "%s/dir/canary", f->outside);
	write_file(p, "alive");
	pathf(p, "%s/file", f->outside);
	write_file(p, "alive");
	pathf(p, "%s/linked", f->outside);
	write_file(p, "alive");

	char name[FBX_TMPDIR_NAME_LEN + 1];
	int d = make_private(f, name);
	assert_int_equal(mkdirat(d, "a", 0755), 0);
	assert_int_equal(mkdirat(d, "a/b", 0755), 0);
	assert_int_equal(mkdirat(d, "a/b/c", 0755), 0);
	pathf(p, "%s/%s/a/b/c/f", f->base, name);
	write_file(p, "x");
	pathf(p, "%s/%s/top", f->base, name);
	write_file(p, "x");
	pathf(p, "%s/dir", f->outside);
	assert_int_equal(symlinkat(p, d, "to_dir"), 0);
	assert_int_equal(symlinkat(p, d, "a/b/to_dir"), 0);
	assert_int_equal(symlinkat("../../../../outside/dir", d, "a/rel"), 0);
	pathf(p, "%s/file", f->outside);
	assert_int_equal(symlinkat(p, d, "to_file"), 0);
	assert_int_equal(symlinkat("/", d, "to_root"), 0);
	assert_int_equal(symlinkat("/nonexistent", d, "dangling"), 0);
	pathf(p, "%s/linked", f->outside);
	pathf(q, "%s/%s/hard", f->base, name);
	assert_int_equal(link(p, q), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(mkfifoat(d, "fifo", 0600), 0);
	assert_int_equal(mkfifoat(d, "a/fifo", 0000), 0);
	/* A 0000 dir with content, a 0500 dir with a file, a 0000 file. */
	assert_int_equal(mkdirat(d, "locked", 0755), 0);
	assert_int_equal(mkdirat(d, "locked/inner", 0755), 0);
	pathf(p, "%s/%s/locked/inner/f", f->base, name);
	write_file(p, "x");
	assert_int_equal(fchmodat(d, "locked/inner", 0000, 0), 0);
	assert_int_equal(fchmodat(d, "locked", 0000, 0), 0);
	assert_int_equal(mkdirat(d, "ro", 0755), 0);
	pathf(p, "%s/%s/ro/f", f->base, name);
	write_file(p, "x");
	assert_int_equal(fchmodat(d, "ro/f", 0000, 0), 0);
	assert_int_equal(fchmodat(d, "ro", 0500, 0), 0);
	close(d);

	int before = count_fds();
	remove_ok(f, name);
	assert_int_equal(count_fds(), before);

	pathf(p, "%s/dir/canary", f->outside);
	assert_true(exists(p));
	pathf(p, "%s/file", f->outside);
	assert_true(exists(p));
	pathf(p, "%s/linked", f->outside);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	assert_true(exists("/"));
	/* Only the private dir went: the base holds nothing else. */
	assert_false(exists_at(f->base_fd, name));
}

static void test_remove_missing_and_odd(void **state)
{
	struct fx *f = *state;
	open_base(f);
	struct fbx_error err = {0};
	assert_int_equal(fbx_tmpdir_remove(f->base_fd,
					   "0123abcd-ef01-4567-89ab-"
					   "cdef01234567",
					   &err),
			 0);
	assert_int_equal(fbx_tmpdir_remove(f->base_fd, "a/b", &err), -EINVAL);
	assert_int_equal(fbx_tmpdir_remove(f->base_fd, "..", &err), -EINVAL);
	assert_int_equal(fbx_tmpdir_remove(f->base_fd, "", &err), -EINVAL);
	/* The private "dir" is a symlink to outside: the link goes, the
	 * target stays. */
	assert_int_equal(symlinkat(f->outside, f->base_fd, "lnk"), 0);
	remove_ok(f, "lnk");
	assert_true(exists(f->outside));
	/* An empty private dir mode 0000. */
	assert_int_equal(mkdirat(f->base_fd, "empty", 0000), 0);
	remove_ok(f, "empty");
}

static void test_remove_deep_chain(void **state)
{
	struct fx *f = *state;
	open_base(f);
	enum { DEPTH = 20000 };
	char name[FBX_TMPDIR_NAME_LEN + 1];
	int fd = make_private(f, name);
	for (int i = 0; i < DEPTH; i++) {
		assert_int_equal(mkdirat(fd, "d", 0700), 0);
		if (i % 1000 == 0) { /* some files and links on the way */
			int ff = openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC,
					0600);
			assert_true(ff >= 0);
			close(ff);
			assert_int_equal(symlinkat("..", fd, "up"), 0);
		}
		if (i % 777 == 0) /* and some locked levels */
			assert_int_equal(fchmodat(fd, "d", 0500, 0), 0);
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(next >= 0);
		close(fd);
		fd = next;
	}
	close(fd);
	int before = count_fds();
	remove_ok(f, name);
	assert_int_equal(count_fds(), before);
	/* Nothing moved out of the tree: the base is empty. */
	DIR *dir = fdopendir(dup(f->base_fd));
	assert_non_null(dir);
	struct dirent *de;
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			fail_msg("left in the base: %s", de->d_name);
	closedir(dir);
}

/* Runs fn in a forked child and returns its exit status (SKIPPED: skip). */
static int in_child(int (*fn)(struct fx *), struct fx *f)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(f));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* As a non-root uid (nobody when we are root): 0000 and 0500 dirs cannot
 * simply be opened or changed without the chmod. Exit status: step that
 * failed, 0 on success. */
static int unprivileged_child(struct fx *f)
{
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
			       setuid(NOBODY) < 0))
		return SKIPPED;
	struct fbx_error err = {0};
	int base;
	if (fbx_tmpdir_base_open(f->base, &base, &err) < 0)
		return 1;
	char name[FBX_TMPDIR_NAME_LEN + 1];
	fbx_tmpdir_new_name(name);
	if (fbx_tmpdir_create(base, name, (uid_t)-1, (gid_t)-1, &err) < 0)
		return 2;
	int d = openat(base, name, O_RDONLY | O_DIRECTORY);
	if (d < 0 || mkdirat(d, "z", 0700) < 0 || mkdirat(d, "z/y", 0700) < 0 ||
	    mkdirat(d, "z/y/x", 0700) < 0 || mkdirat(d, "r", 0700) < 0 ||
	    mknodat(d, "z/y/f", S_IFREG | 0600, 0) < 0 ||
	    mknodat(d, "r/f", S_IFREG | 0600, 0) < 0 ||
	    fchmodat(d, "z/y/x", 0000, 0) < 0 ||
	    fchmodat(d, "z/y", 0000, 0) < 0 || fchmodat(d, "z", 0000, 0) < 0 ||
	    fchmodat(d, "r", 0500, 0) < 0)
		return 3;
	close(d);
	if (fbx_tmpdir_remove(base, name, &err) < 0) {
		fprintf(stderr, "# unprivileged remove: %s\n", err.msg);
		return 4;
	}
	if (exists_at(base, name))
		return 5;
	return 0;
}

static void test_remove_unprivileged(void **state)
{
	struct fx *f = *state;
	if (geteuid() == 0)
		assert_int_equal(chown(f->root, NOBODY, NOBODY), 0);
	int rc = in_child(unprivileged_child, f);
	if (rc == SKIPPED) {
		print_message("# skip: cannot switch to uid %d\n", NOBODY);
		skip();
	}
	assert_int_equal(rc, 0);
}

/* In a private mount namespace: a tmpfs, a bind mount of an outside dir
 * (same device: only the mount root attribute or mount id tells) and a
 * file bind-mounted over a file, all inside the tree. */
static int mount_child(struct fx *f)
{
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return SKIPPED;
	struct fbx_error err = {0};
	int base;
	if (fbx_tmpdir_base_open(f->base, &base, &err) < 0)
		return 1;
	char name[FBX_TMPDIR_NAME_LEN + 1];
	fbx_tmpdir_new_name(name);
	if (fbx_tmpdir_create(base, name, (uid_t)-1, (gid_t)-1, &err) < 0)
		return 2;
	char p[PATH_MAX], q[PATH_MAX];
	cpathf(p, "%s/%s", f->base, name);
	int d = open(p, O_RDONLY | O_DIRECTORY);
	if (d < 0 || mkdirat(d, "a", 0700) < 0 ||
	    mkdirat(d, "a/tmpfs", 0700) < 0 || mkdirat(d, "bind", 0700) < 0 ||
	    mknodat(d, "a/f", S_IFREG | 0600, 0) < 0 ||
	    mknodat(d, "fmnt", S_IFREG | 0600, 0) < 0 ||
	    mknodat(d, "plain", S_IFREG | 0600, 0) < 0)
		return 3;
	cpathf(p, "%s/%s/a/tmpfs", f->base, name);
	if (mount("tmpfs", p, "tmpfs", 0, "size=64k") < 0)
		return SKIPPED;
	cpathf(p, "%s/%s/a/tmpfs/canary", f->base, name);
	int c = open(p, O_WRONLY | O_CREAT, 0600);
	if (c < 0)
		return 4;
	close(c);
	cpathf(p, "%s/bindsrc", f->outside);
	cpathf(q, "%s/%s/bind", f->base, name);
	if (mount(p, q, NULL, MS_BIND, NULL) < 0)
		return 5;
	cpathf(p, "%s/filesrc", f->outside);
	cpathf(q, "%s/%s/fmnt", f->base, name);
	if (mount(p, q, NULL, MS_BIND, NULL) < 0)
		return 6;

	int rc = fbx_tmpdir_remove(base, name, &err);
	if (rc >= 0)
		return 7; /* a mount point must be reported */
	if (!strstr(err.msg, "mount point"))
		fprintf(stderr, "# unexpected message: %s\n", err.msg);
	cpathf(p, "%s/%s/a/tmpfs/canary", f->base, name);
	if (!exists(p))
		return 8;
	cpathf(p, "%s/bindsrc/canary", f->outside);
	if (!exists(p))
		return 9;
	cpathf(p, "%s/%s/bind/canary", f->base, name);
	if (!exists(p))
		return 10;
	cpathf(p, "%s/%s/a/f", f->base, name);
	if (exists(p))
		return 11; /* the rest must be gone */
	if (exists_at(d, "plain"))
		return 12;
	close(d);
	close(base);
	return 0;
}

static void test_remove_mount_points(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX];
	pathf(p, "%s/bindsrc", f->outside);
	assert_int_equal(mkdir(p, 0755), 0);
	pathf(p, "%s/bindsrc/canary", f->outside);
	write_file(p, "alive");
	pathf(p, "%s/filesrc", f->outside);
	write_file(p, "alive");
	int rc = in_child(mount_child, f);
	if (rc == SKIPPED) {
		print_message("# skip: no private mount namespace (needs "
			      "CAP_SYS_ADMIN)\n");
		skip();
	}
	assert_int_equal(rc, 0);
	pathf(p, "%s/bindsrc/canary", f->outside);
	assert_true(exists(p));
	pathf(p, "%s/filesrc", f->outside);
	assert_true(exists(p));
	/* Out here there are no mounts: what is left goes. */
	open_base(f);
	struct fbx_error err = {0};
	size_t swept = 0;
	int lock = -1;
	assert_int_equal(
	    fbx_tmpdir_base_lock_and_sweep(f->base_fd, &lock, &swept, &err), 0);
	assert_int_equal(swept, 1);
	close(lock);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_remove_hostile_tree), T(test_remove_missing_and_odd),
	    T(test_remove_deep_chain),	 T(test_remove_unprivileged),
	    T(test_remove_mount_points),
	};
	return cmocka_run_group_tests_name("tmpdir_remove", tests, NULL, NULL);
}
