/* runtime "native": a shared object with FORKBOX_MODULE() and an entry
 * `char *entry(const char *event, size_t len, fbx_context *ctx)`.
 *
 * The module file is copied into the private dir before seccomp, then
 * dlopen()ed from there in a process that has never loaded it: no loader
 * cache can hand back an older version of the same path. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forkbox_module.h"
#include "frame.h"
#include "runtime.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static int copy_file(int in, int out)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			off += w;
		}
	}
}

static int import_error(struct fbx_child *c, const char *fmt, const char *a,
			const char *b)
{
	char msg[1024];
	snprintf(msg, sizeof(msg), fmt, a, b);
	fbx_frame_write_error(c->result_fd, "Runtime.ImportModuleError", msg);
	return 1;
}

static int native_stage(struct fbx_child *c)
{
	const struct fbx_job *j = &c->job;
	if (!j->module_path)
		return import_error(
		    c, "Unable to import module: %s%s",
		    "native modules are shared objects: give a \"path\"", "");
	/* Opened as the unprivileged user, so a request cannot name a file
	 * only the daemon may read. */
	int in = open(j->module_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (in < 0)
		return import_error(c, "Unable to import module '%s': %s",
				    j->module_path, strerror(errno));
	struct stat st;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(in);
		return import_error(c, "Unable to import module '%s': %s",
				    j->module_path, "not a regular file");
	}
	const char *name =
	    j->module_name ? j->module_name : base_name(j->module_path);
	int out = open(
	    name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0500);
	int rc = out < 0 ? -errno : copy_file(in, out);
	close(in);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		return import_error(c,
				    "Unable to import module '%s': copying "
				    "into the private dir: %s",
				    j->module_path, strerror(-rc));
	return 0;
}

static int native_run(struct fbx_child *c)
{
	const struct fbx_job *j = &c->job;
	char path[PATH_MAX + 256];
	const char *name =
	    j->module_name ? j->module_name : base_name(j->module_path);
	snprintf(path, sizeof(path), "%s/%s", c->tmp_dir, name);

	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		import_error(c, "Unable to import module '%s': %s", name,
			     e ? e : "dlopen failed");
		return 0;
	}
	const uint32_t *abi = dlsym(h, "forkbox_module_abi_version");
	if (!abi) {
		import_error(
		    c, "Unable to import module '%s': %s", name,
		    "not a forkbox module (no FORKBOX_MODULE() in it)");
		return 0;
	}
	if (*abi != FORKBOX_ABI_VERSION) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "Unable to import module '%s': built for module ABI "
			 "%u, this forkbox loads ABI %u",
			 name, *abi, FORKBOX_ABI_VERSION);
		fbx_frame_write_error(c->result_fd, "Runtime.ImportModuleError",
				      msg);
		return 0;
	}
	const char *entry = j->entry ? j->entry : "handler";
	fbx_entry_fn fn;
	*(void **)&fn = dlsym(h, entry);
	if (!fn) {
		char msg[512];
		snprintf(msg, sizeof(msg),
			 "Handler '%s' missing on module '%s'", entry, name);
		fbx_frame_write_error(c->result_fd, "Runtime.HandlerNotFound",
				      msg);
		return 0;
	}

	int rc = fbx_child_enter_after_load(c);
	if (rc < 0) {
		char msg[160];
		snprintf(msg, sizeof(msg), "adding the policy's after-load stage: %s",
			 strerror(-rc));
		fbx_frame_write_error(c->result_fd, "Forkbox.InternalError", msg);
		return 126;
	}
	fbx_context ctx = {
	    .abi_version = FORKBOX_ABI_VERSION,
	    .size = sizeof(fbx_context),
	    .request_id = j->request_id ? j->request_id : "",
	    .function_name = j->function_name ? j->function_name : "",
	    .invoked_function_arn =
		j->invoked_function_arn ? j->invoked_function_arn : "",
	    .trace_id = j->trace_id ? j->trace_id : "",
	    .client_context = j->client_context ? j->client_context : "",
	    .cognito_identity = j->cognito_identity ? j->cognito_identity : "",
	    .deadline_ms = j->deadline_ms,
	    .memory_limit_mb = j->memory_mb,
	    .tmp_dir = c->tmp_dir,
	};
	char *result = fn(j->event, j->event_len, &ctx);
	/* stdout is a pipe, hence fully buffered: flush before _exit. */
	fflush(NULL);
	if (!result || ctx.failed) {
		fbx_frame_write_error(
		    c->result_fd,
		    ctx.failed ? ctx.error_type : "Function.Error",
		    ctx.failed
			? ctx.error_message
			: "handler returned NULL without calling fbx_fail()");
		return 0;
	}
	fbx_frame_write(c->result_fd, FBX_FRAME_RESULT, result, strlen(result));
	return 0;
}

const struct fbx_runtime_ops fbx_runtime_native = {
    .name = "native",
    .zygote_init = NULL,
    .stage = native_stage,
    .run = native_run,
};
