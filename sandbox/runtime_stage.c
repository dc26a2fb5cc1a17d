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
		/* O_NONBLOCK: a FIFO must not hang the open. */
		in = open(j->module_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (in < 0)
			return fbx_runtime_import_error(
			    c, "Unable to import module '%s': %s",
			    j->module_path, strerror(errno));
		struct stat st;
		if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(in);
			return fbx_runtime_import_error(
			    c, "Unable to import module '%s': %s",
			    j->module_path, "not a regular file");
		}
	}
	const char *name = j->module_name
			       ? j->module_name
			       : fbx_runtime_base_name(j->module_path);
	int out = open(
	    name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0500);
	int rc = out < 0 ? -errno
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
