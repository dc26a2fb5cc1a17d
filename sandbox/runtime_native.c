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

static int native_stage(struct fbx_child *c)
{
	return fbx_runtime_stage(c, false);
}

static int native_run(struct fbx_child *c)
{
	const struct fbx_job *j = &c->job;
	char path[PATH_MAX + 256];
	const char *name = fbx_runtime_staged_path(c, path, sizeof(path));

	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		fbx_runtime_import_error(c, "Unable to import module '%s': %s",
					 name, e ? e : "dlopen failed");
		return 0;
	}
	const uint32_t *abi = dlsym(h, "forkbox_module_abi_version");
	if (!abi) {
		fbx_runtime_import_error(
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

	if (fbx_runtime_enter_after_load(c) < 0)
		return 126;
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
