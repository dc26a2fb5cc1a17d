/* Unit tests for sandbox/tmpdir.c: the tmp base, names, creation, and the
 * lock and sweep. Each test works in a fresh mkdtemp directory (fixture in
 * tmpdir_test_util.h); removal of private dirs is test_tmpdir_remove.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdir_test_util.h"

/* ---- names ---- */

static void test_names(void **state)
{
	(void)state;
	enum { N = 256 };
	static char names[N][FBX_TMPDIR_NAME_LEN + 1];
	for (int i = 0; i < N; i++) {
		fbx_tmpdir_new_name(names[i]);
		assert_int_equal(strlen(names[i]), FBX_TMPDIR_NAME_LEN);
		assert_true(fbx_tmpdir_is_private_name(names[i]));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
	}
	assert_true(
	    fbx_tmpdir_is_private_name("0123abcd-ef01-4567-89ab-cdef01234567"));
	const char *bad[] = {
	    NULL,
	    "",
	    FBX_TMPDIR_LOCK_NAME,
	    "0123abcd-ef01-4567-89ab-cdef0123456",   /* short */
	    "0123abcd-ef01-4567-89ab-cdef012345678", /* long */
	    "0123ABCD-ef01-4567-89ab-cdef01234567",  /* upper case */
	    "0123abcd0ef01-4567-89ab-cdef01234567",  /* no dash */
	    "0123abc-def01-4567-89ab-cdef01234567",  /* misplaced dash */
	    "0123abcg-ef01-4567-89ab-cdef01234567",  /* not hex */
	    "../23abcd-ef01-4567-89ab-cdef01234567",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(fbx_tmpdir_is_private_name(bad[i]));
}

/* ---- the base ---- */

static void test_base_created_0711(void **state)
{
	struct fx *f = *state;
	mode_t old = umask(077);
	open_base(f);
	umask(old);
	struct stat st;
	assert_int_equal(fstat(f->base_fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0711);
	assert_int_equal(fcntl(f->base_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	/* An existing one opens too, its mode left as the admin chose. */
	close(f->base_fd);
	assert_int_equal(chmod(f->base, 0700), 0);
	open_base(f);
	assert_int_equal(fstat(f->base_fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
}

static void expect_refused(const char *path, int code, const char *words)
{
	struct fbx_error err = {0};
	int fd = 42;
	assert_int_equal(fbx_tmpdir_base_open(path, &fd, &err), -code);
	assert_int_equal(fd, -1);
	assert_int_equal(err.code, code);
	if (!strstr(err.msg, words))
		fail_msg("message '%s' lacks '%s'", err.msg, words);
}

static void test_base_refusals(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX];
	int before = count_fds();

	assert_int_equal(symlink(f->outside, f->base), 0);
	expect_refused(f->base, ELOOP, "is a symbolic link");

	pathf(p, "%s/file", f->root);
	write_file(p, "x");
	expect_refused(p, ENOTDIR, "is not a directory");

	pathf(p, "%s/open", f->root);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chmod(p, 0777), 0);
	expect_refused(p, EPERM,
		       "is writable by others (mode 0777): use a "
		       "private directory");
	assert_int_equal(chmod(p, 0770), 0);
	expect_refused(p, EPERM, "writable by its group (mode 0770)");
	assert_int_equal(chmod(p, 01777), 0);
	expect_refused(p, EPERM, "(mode 1777)");

	pathf(p, "%s/no/such/base", f->root);
	expect_refused(p, ENOENT, "its parent must exist");
	expect_refused("", EINVAL, "no tmp base");

	if (geteuid() == 0) {
		pathf(p, "%s/theirs", f->root);
		assert_int_equal(mkdir(p, 0711), 0);
		assert_int_equal(chown(p, NOBODY, NOBODY), 0);
		expect_refused(p, EPERM, "is owned by uid 65534");
	}
	assert_int_equal(count_fds(), before);
}

/* ---- creation ---- */

static void test_create(void **state)
{
	struct fx *f = *state;
	open_base(f);
	char name[FBX_TMPDIR_NAME_LEN + 1];
	fbx_tmpdir_new_name(name);
	struct fbx_error err = {0};
	mode_t old = umask(0777); /* even then exactly 0700 */
	int rc =
	    fbx_tmpdir_create(f->base_fd, name, (uid_t)-1, (gid_t)-1, &err);
	umask(old);
	assert_int_equal(rc, 0);
	struct stat st;
	assert_int_equal(fstatat(f->base_fd, name, &st, AT_SYMLINK_NOFOLLOW),
			 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());

	/* Never reused. */
	assert_int_equal(
	    fbx_tmpdir_create(f->base_fd, name, (uid_t)-1, (gid_t)-1, &err),
	    -EEXIST);
	assert_non_null(strstr(err.msg, "already exists"));
	assert_int_equal(fbx_tmpdir_create(f->base_fd, "../evil", (uid_t)-1,
					   (gid_t)-1, &err),
			 -EINVAL);
	assert_int_equal(
	    fbx_tmpdir_create(f->base_fd, "..", (uid_t)-1, (gid_t)-1, &err),
	    -EINVAL);
}

static void test_create_chown(void **state)
{
	struct fx *f = *state;
	if (geteuid() != 0) {
		print_message("# skip: giving a dir to another uid needs "
			      "root\n");
		skip();
	}
	open_base(f);
	char name[FBX_TMPDIR_NAME_LEN + 1];
	fbx_tmpdir_new_name(name);
	struct fbx_error err = {0};
	assert_int_equal(
	    fbx_tmpdir_create(f->base_fd, name, NOBODY, NOBODY, &err), 0);
	struct stat st;
	assert_int_equal(fstatat(f->base_fd, name, &st, AT_SYMLINK_NOFOLLOW),
			 0);
	assert_int_equal(st.st_uid, NOBODY);
	assert_int_equal(st.st_gid, NOBODY);
	assert_int_equal(st.st_mode & 07777, 0700);
}

/* ---- lock and sweep ---- */

static void make_stale(struct fx *f, const char *name)
{
	assert_int_equal(mkdirat(f->base_fd, name, 0700), 0);
	char p[PATH_MAX];
	pathf(p, "%s/%s/sub", f->base, name);
	assert_int_equal(mkdir(p, 0700), 0);
	pathf(p, "%s/%s/sub/file", f->base, name);
	write_file(p, "stale");
}

static int open_lock(struct fx *f)
{
	int fd = openat(f->base_fd, FBX_TMPDIR_LOCK_NAME, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void test_sweep(void **state)
{
	struct fx *f = *state;
	open_base(f);
	char a[FBX_TMPDIR_NAME_LEN + 1], b[FBX_TMPDIR_NAME_LEN + 1];
	fbx_tmpdir_new_name(a);
	fbx_tmpdir_new_name(b);
	make_stale(f, a);
	make_stale(f, b);
	make_stale(f, "not-a-uuid");

	struct fbx_error err = {0};
	size_t swept = 99;
	int lock = -1;
	int before = count_fds();
	assert_int_equal(
	    fbx_tmpdir_base_lock_and_sweep(f->base_fd, &lock, &swept, &err), 0);
	assert_int_equal(count_fds(), before + 1);
	assert_int_equal(swept, 2);
	assert_false(exists_at(f->base_fd, a));
	assert_false(exists_at(f->base_fd, b));
	assert_true(exists_at(f->base_fd, "not-a-uuid/sub/file"));

	struct stat st;
	assert_int_equal(
	    fstatat(f->base_fd, FBX_TMPDIR_LOCK_NAME, &st, AT_SYMLINK_NOFOLLOW),
	    0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	/* It holds the lock shared: another may share, none may sweep. */
	int other = open_lock(f);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(flock(other, LOCK_SH | LOCK_NB), 0);
	close(other);
	close(lock);
}

/* A finished dir is renamed aside at once and removed later; a trash dir
 * or a module snapshot left by a killed zygote is swept like a private
 * one. */
static void test_retire_and_sweep_trash(void **state)
{
	struct fx *f = *state;
	open_base(f);
	char name[FBX_TMPDIR_NAME_LEN + 1], trash[FBX_TMPDIR_TRASH_LEN + 1];
	fbx_tmpdir_new_name(name);
	make_stale(f, name);
	struct fbx_error err = {0};
	assert_int_equal(fbx_tmpdir_retire(f->base_fd, name, trash, &err), 0);
	assert_false(exists_at(f->base_fd, name));
	assert_int_equal(strncmp(trash, FBX_TMPDIR_TRASH_PREFIX, 7), 0);
	assert_string_equal(trash + 7, name);
	assert_true(exists_at(f->base_fd, trash));
	/* Retiring what is not there fails and names it. */
	assert_true(fbx_tmpdir_retire(f->base_fd, name, trash, &err) < 0);
	assert_non_null(strstr(err.msg, name));
	make_stale(f, ".trash-not-a-uuid");
	/* So is a module snapshot (zygote_snapshot.c). */
	char snap[FBX_TMPDIR_MODULE_LEN + 1];
	snprintf(snap, sizeof(snap), "%s%s", FBX_TMPDIR_MODULE_PREFIX, name);
	make_stale(f, snap);
	make_stale(f, ".module-not-a-uuid");

	size_t swept = 0;
	int lock = -1;
	assert_int_equal(
	    fbx_tmpdir_base_lock_and_sweep(f->base_fd, &lock, &swept, &err), 0);
	assert_int_equal(swept, 2);
	assert_false(exists_at(f->base_fd, snap));
	assert_true(exists_at(f->base_fd, ".module-not-a-uuid"));
	char again[FBX_TMPDIR_TRASH_LEN + 1];
	snprintf(again, sizeof(again), "%s%s", FBX_TMPDIR_TRASH_PREFIX, name);
	assert_false(exists_at(f->base_fd, again));
	assert_true(exists_at(f->base_fd, ".trash-not-a-uuid"));
	close(lock);
}

static void test_sweep_while_shared(void **state)
{
	struct fx *f = *state;
	open_base(f);
	char a[FBX_TMPDIR_NAME_LEN + 1], b[FBX_TMPDIR_NAME_LEN + 1];
	fbx_tmpdir_new_name(a);
	fbx_tmpdir_new_name(b);
	make_stale(f, a);
	make_stale(f, b);
	/* A live forkbox using the base: its dirs must not be swept. */
	int fd = openat(f->base_fd, FBX_TMPDIR_LOCK_NAME,
			O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_SH), 0);

	struct fbx_error err = {0};
	size_t swept = 99;
	int lock = -1;
	assert_int_equal(
	    fbx_tmpdir_base_lock_and_sweep(f->base_fd, &lock, &swept, &err), 0);
	assert_true(lock >= 0);
	assert_int_equal(swept, 0);
	assert_true(exists_at(f->base_fd, a));
	assert_true(exists_at(f->base_fd, b));
	close(fd);
	close(lock);

	/* Once both are gone, the next one sweeps. */
	assert_int_equal(
	    fbx_tmpdir_base_lock_and_sweep(f->base_fd, &lock, &swept, &err), 0);
	assert_int_equal(swept, 2);
	close(lock);
}

static void test_lock_not_regular(void **state)
{
	struct fx *f = *state;
	open_base(f);
	assert_int_equal(mkfifoat(f->base_fd, FBX_TMPDIR_LOCK_NAME, 0600), 0);
	struct fbx_error err = {0};
	size_t swept = 99;
	int lock = 42;
	int before = count_fds();
	assert_int_equal(
	    fbx_tmpdir_base_lock_and_sweep(f->base_fd, &lock, &swept, &err),
	    -EINVAL);
	assert_int_equal(lock, -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(count_fds(), before);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_names),
	    T(test_base_created_0711),
	    T(test_base_refusals),
	    T(test_create),
	    T(test_create_chown),
	    T(test_sweep),
	    T(test_retire_and_sweep_trash),
	    T(test_sweep_while_shared),
	    T(test_lock_not_regular),
	};
	return cmocka_run_group_tests_name("tmpdir", tests, NULL, NULL);
}
