/* Staging a module into the private dir, shared by the runtimes. The
 * child runs a private copy: rewriting the module's path while it runs, or
 * for the next request, never touches what a child has loaded. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame.h"
#include "runtime.h"

const char *fbx_runtime_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

const char *fbx_runtime_staged_path(const struct fbx_child *c, char *path,
				    size_t size)
{
	const struct fbx_job *j = &c->job;
	const char *name = j->module_name
			       ? j->module_name
			       : fbx_runtime_base_name(j->module_path);
	snprintf(path, size, "%s/%s", c->tmp_dir, name);
	return name;
}

int fbx_runtime_import_error(struct fbx_child *c, const char *fmt,
			     const char *a, const char *b)
{
	char msg[1024];
	snprintf(msg, sizeof(msg), fmt, a, b);
	fbx_frame_write_error(c->result_fd, "Runtime.ImportModuleError", msg);
	return 1;
}

int fbx_runtime_enter_after_load(struct fbx_child *c)
{
	int rc = fbx_child_enter_after_load(c);
	if (rc < 0) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "adding the policy's after-load stage: %s",
			 strerror(-rc));
		fbx_frame_write_error(c->result_fd, "Forkbox.InternalError",
				      msg);
	}
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int copy_file(int in, int out)
{
	/* Small on purpose: every stack page the child touches is a fault
	 * on the request's critical path; modules are mostly small. */
	char buf[8192];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		int rc = write_all(out, buf, (size_t)n);
		if (rc < 0)
			return rc;
	}
}

/* Opens the module at path for reading; -errno, or -EINVAL when it is not
 * a regular file. */
static int open_module(const char *path)
{
	/* O_NONBLOCK: a FIFO must not hang the open. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static int create_staged(const char *name)
{
	int fd = open(
	    name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0500);
	return fd < 0 ? -errno : fd;
}

int fbx_runtime_prestage(struct fbx_child *c, const char *module_path)
{
	int in = open_module(module_path);
	if (in < 0)
		return in;
	const char *name = fbx_runtime_base_name(module_path);
	int out = create_staged(name);
	int rc = out < 0 ? out : copy_file(in, out);
	close(in);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		if (out >= 0)
			(void)unlink(name);
		return rc;
	}
	c->prestaged = module_path;
	return 0;
}

static ssize_t read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Whether the copy made ahead still equals the job's module, byte for
 * byte: the path may have been rewritten since (the seed rewrites it
 * before every request), and time stamps are too coarse to tell. */
static bool prestaged_is_current(const struct fbx_child *c, int in,
				 const char *name)
{
	int staged = open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (staged < 0)
		return false;
	struct stat a, b;
	bool same = fstat(in, &a) == 0 && fstat(staged, &b) == 0 &&
		    S_ISREG(b.st_mode) && a.st_size == b.st_size;
	/* Two small buffers: stack pages are faults on the critical path. */
	char x[4096], y[4096];
	while (same) {
		ssize_t n = read_full(in, x, sizeof(x));
		ssize_t m = read_full(staged, y, sizeof(y));
		if (n < 0 || n != m || memcmp(x, y, (size_t)n) != 0)
			same = false;
		else if (n == 0)
			break;
	}
	close(staged);
	return same;
}

int fbx_runtime_stage(struct fbx_child *c, bool allow_source)
{
	const struct fbx_job *j = &c->job;
	if (j->module_source && !allow_source)
		return fbx_runtime_import_error(
		    c, "Unable to import module: %s%s",
		    "this runtime loads files, not source: give a \"path\"",
		    "");
	if (!j->module_path && !j->module_source)
		return fbx_runtime_import_error(
		    c, "Unable to import module: %s%s",
		    "no \"path\" or \"source\"", "");
	int in = -1;
	if (j->module_path) {
		in = open_module(j->module_path);
		if (in < 0)
			return fbx_runtime_import_error(
			    c, "Unable to import module '%s': %s",
			    j->module_path,
			    in == -EINVAL ? "not a regular file"
					  : strerror(-in));
	}
	const char *name = j->module_name
			       ? j->module_name
			       : fbx_runtime_base_name(j->module_path);
	if (c->prestaged) {
		const char *ahead = fbx_runtime_base_name(c->prestaged);
		bool keep = in >= 0 && !strcmp(j->module_path, c->prestaged) &&
			    !strcmp(name, ahead) &&
			    prestaged_is_current(c, in, name);
		c->prestaged = NULL;
		if (keep) {
			close(in);
			return 0;
		}
		/* Not this job's module, or an old copy: the dir must hold
		 * only what this job brings. */
		if ((unlink(ahead) < 0 && errno != ENOENT) ||
		    (in >= 0 && lseek(in, 0, SEEK_SET) < 0)) {
			int e = errno;
			if (in >= 0)
				close(in);
			return fbx_runtime_import_error(
			    c, "Unable to import module '%s': %s", name,
			    strerror(e));
		}
	}
	int out = create_staged(name);
	int rc = out < 0 ? out
		 : in >= 0
		     ? copy_file(in, out)
		     : write_all(out, j->module_source, j->module_source_len);
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		return fbx_runtime_import_error(
		    c,
		    "Unable to import module '%s': writing it "
		    "into the private dir: %s",
		    name, strerror(-rc));
	return 0;
}
