/* Helpers for the tmpdir tests (test_tmpdir.c, test_tmpdir_remove.c): a
 * fixture with a fresh mkdtemp directory holding the base and an outside
 * dir with canaries, and small file-system checks.
 *
 * Each tests/unit/test_*.c is its own binary, so everything here is static
 * inline: a binary that uses only some of it gets no unused-function
 * warnings for the rest. */
#ifndef FORKBOX_TMPDIR_TEST_UTIL_H
#define FORKBOX_TMPDIR_TEST_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h> /* cmocka.h needs setjmp.h, stdarg.h, stddef.h first */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#define NOBODY 65534

struct fx {
	char root[PATH_MAX];	/* the mkdtemp dir */
	char base[PATH_MAX];	/* <root>/base, opened in base_fd */
	char outside[PATH_MAX]; /* <root>/outside, with canaries */
	int base_fd;
};

static inline void pathf(char *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void pathf(char *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && n < PATH_MAX);
}

static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static inline int exists_at(int dirfd, const char *path)
{
	struct stat st;
	return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static inline int exists(const char *path)
{
	return exists_at(AT_FDCWD, path);
}

static inline void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	const char *tmp = getenv("TMPDIR");
	pathf(f->root, "%s/fbx-tmpdir-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->root));
	pathf(f->base, "%s/base", f->root);
	pathf(f->outside, "%s/outside", f->root);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	f->base_fd = -1;
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	if (f->base_fd >= 0)
		close(f->base_fd);
	/* Our own remove cleans up: it has to cope with whatever the test
	 * left (0000 dirs included). */
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", f->root);
	char *slash = strrchr(parent, '/');
	assert_non_null(slash);
	*slash = '\0';
	int pfd = open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY);
	assert_true(pfd >= 0);
	struct fbx_error err = {0};
	int rc = fbx_tmpdir_remove(pfd, slash + 1, &err);
	close(pfd);
	if (rc < 0)
		print_message("# teardown: %s\n", err.msg);
	free(f);
	return 0;
}

static inline void open_base(struct fx *f)
{
	struct fbx_error err = {0};
	int rc = fbx_tmpdir_base_open(f->base, &f->base_fd, &err);
	if (rc < 0)
		print_message("# %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_true(f->base_fd >= 0);
}

#endif
