/* Unit tests for sandbox/tmpdir_recycle.c and fbx_tmpdir_empty: a retired
 * dir is emptied without following links and kept only when it is as a
 * new dir; a free dir is taken under a new name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tmpdir_test_util.h"

/* A new dir's shape, as the zygote records it at a mkdir. */
static struct fbx_tmpdir_shape fresh_shape(struct fx *f)
{
	char name[FBX_TMPDIR_NAME_LEN + 1];
	fbx_tmpdir_new_name(name);
	struct fbx_error err = {0};
	assert_int_equal(
	    fbx_tmpdir_create(f->base_fd, name, (uid_t)-1, (gid_t)-1, &err), 0);
	int fd = openat(f->base_fd, name, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	struct fbx_tmpdir_shape shape;
	assert_int_equal(fbx_tmpdir_shape_read(fd, &shape), 0);
	close(fd);
	assert_int_equal(unlinkat(f->base_fd, name, AT_REMOVEDIR), 0);
	return shape;
}

/* A retired dir as a module left it: files, a subdir, a symlink to the
 * outside canaries. */
static void make_used_dir(struct fx *f, const char *name)
{
	char path[PATH_MAX];
	assert_int_equal(mkdirat(f->base_fd, name, 0700), 0);
	pathf(path, "%s/%s/file", f->base, name);
	write_file(path, "data");
	pathf(path, "%s/%s/sub", f->base, name);
	assert_int_equal(mkdir(path, 0700), 0);
	pathf(path, "%s/%s/sub/deeper", f->base, name);
	write_file(path, "more");
	pathf(path, "%s/%s/out", f->base, name);
	assert_int_equal(symlink(f->outside, path), 0);
}

static int entries_at(int base_fd, const char *name)
{
	int fd = openat(base_fd, name, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	DIR *d = fdopendir(fd);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void test_empty_keeps_the_dir_and_follows_no_link(void **state)
{
	struct fx *f = *state;
	open_base(f);
	char canary[PATH_MAX];
	pathf(canary, "%s/canary", f->outside);
	write_file(canary, "keep me");
	make_used_dir(f, "used");
	struct fbx_error err = {0};
	assert_int_equal(fbx_tmpdir_empty(f->base_fd, "used", &err), 0);
	assert_true(exists_at(f->base_fd, "used"));
	assert_int_equal(entries_at(f->base_fd, "used"), 0);
	assert_true(exists(canary));
	/* A file where a dir should be is refused, and left. */
	char path[PATH_MAX];
	pathf(path, "%s/plain", f->base);
	write_file(path, "x");
	assert_int_equal(fbx_tmpdir_empty(f->base_fd, "plain", &err), -ENOTDIR);
	assert_true(exists(path));
}

static void test_recycle_keeps_a_dir_as_new(void **state)
{
	struct fx *f = *state;
	open_base(f);
	struct fbx_tmpdir_shape fresh = fresh_shape(f);
	make_used_dir(f, ".trash-x");
	char free_name[FBX_TMPDIR_FREE_LEN + 1];
	struct fbx_error err = {0};
	assert_int_equal(
	    fbx_tmpdir_recycle(f->base_fd, ".trash-x", &fresh, free_name, &err),
	    0);
	assert_false(exists_at(f->base_fd, ".trash-x"));
	assert_true(fbx_tmpdir_reuse_name_ok(free_name));
	assert_true(fbx_tmpdir_is_ours(free_name));
	assert_int_equal(entries_at(f->base_fd, free_name), 0);

	/* Taken for a spare: renamed and given to its uid. */
	assert_int_equal(fbx_tmpdir_reuse(f->base_fd, free_name, ".spare-y",
					  NOBODY, NOBODY, &err),
			 0);
	struct stat st;
	assert_int_equal(fstatat(f->base_fd, ".spare-y", &st, 0), 0);
	assert_int_equal(st.st_uid, NOBODY);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_false(exists_at(f->base_fd, free_name));
	/* Gone, or changed while free (as only root could): refused, the dir
	 * left under the new name for the caller to remove. */
	char gone[FBX_TMPDIR_FREE_LEN + 1];
	snprintf(gone, sizeof(gone), "%s", free_name);
	assert_int_equal(fbx_tmpdir_reuse(f->base_fd, gone, ".spare-w",
					  (uid_t)-1, (gid_t)-1, &err),
			 -ENOENT);
	make_used_dir(f, ".trash-v");
	assert_int_equal(fbx_tmpdir_empty(f->base_fd, ".trash-v", &err), 0);
	assert_int_equal(renameat(f->base_fd, ".trash-v", f->base_fd, gone), 0);
	char path[PATH_MAX];
	pathf(path, "%s/%s", f->base, gone);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(fbx_tmpdir_reuse(f->base_fd, gone, ".spare-v",
					  (uid_t)-1, (gid_t)-1, &err),
			 -EPERM);
	assert_non_null(strstr(err.msg, "changed while free"));
	assert_true(exists_at(f->base_fd, ".spare-v"));
	/* Only a ".free-<uuid>" is taken. */
	assert_int_equal(fbx_tmpdir_reuse(f->base_fd, ".spare-y", ".spare-z",
					  (uid_t)-1, (gid_t)-1, &err),
			 -EINVAL);
}

static void expect_not_recycled(struct fx *f, const char *name,
				const struct fbx_tmpdir_shape *fresh)
{
	char free_name[FBX_TMPDIR_FREE_LEN + 1];
	struct fbx_error err = {0};
	assert_true(
	    fbx_tmpdir_recycle(f->base_fd, name, fresh, free_name, &err) < 0);
	assert_true(err.msg[0] != '\0');
	/* Left under its name for the removal. */
	assert_true(exists_at(f->base_fd, name));
	assert_int_equal(fbx_tmpdir_remove(f->base_fd, name, &err), 0);
}

static void test_recycle_refuses_a_dir_changed_for_good(void **state)
{
	struct fx *f = *state;
	open_base(f);
	struct fbx_tmpdir_shape fresh = fresh_shape(f);
	char path[PATH_MAX];

	/* Grown by many entries: its size stays after they are gone. */
	assert_int_equal(mkdirat(f->base_fd, ".trash-big", 0700), 0);
	for (int i = 0; i < 300; i++) {
		pathf(path, "%s/.trash-big/%0120d", f->base, i);
		write_file(path, "");
	}
	expect_not_recycled(f, ".trash-big", &fresh);

	/* An extended attribute (an ACL would be one too). */
	assert_int_equal(mkdirat(f->base_fd, ".trash-xattr", 0700), 0);
	pathf(path, "%s/.trash-xattr", f->base);
	if (setxattr(path, "user.mark", "x", 1, 0) == 0)
		expect_not_recycled(f, ".trash-xattr", &fresh);
	else
		assert_true(errno == ENOTSUP || errno == EPERM);

	/* Not sealed: a mode other than 0700, or not ours. */
	assert_int_equal(mkdirat(f->base_fd, ".trash-mode", 0700), 0);
	pathf(path, "%s/.trash-mode", f->base);
	assert_int_equal(chmod(path, 0755), 0);
	expect_not_recycled(f, ".trash-mode", &fresh);
	if (geteuid() == 0) {
		assert_int_equal(mkdirat(f->base_fd, ".trash-owner", 0700), 0);
		pathf(path, "%s/.trash-owner", f->base);
		assert_int_equal(chown(path, NOBODY, NOBODY), 0);
		expect_not_recycled(f, ".trash-owner", &fresh);
	}

	/* A shape other than a new dir's (as inode flags would differ). */
	struct fbx_tmpdir_shape other = fresh;
	other.flags ^= 1;
	assert_false(fbx_tmpdir_shape_equal(&other, &fresh));
	assert_int_equal(mkdirat(f->base_fd, ".trash-flags", 0700), 0);
	expect_not_recycled(f, ".trash-flags", &other);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_empty_keeps_the_dir_and_follows_no_link),
	    T(test_recycle_keeps_a_dir_as_new),
	    T(test_recycle_refuses_a_dir_changed_for_good),
	};
	return cmocka_run_group_tests_name("tmpdir_recycle", tests, NULL, NULL);
}
