/* Runtimes: how a module is staged, loaded and called inside the child.
 * Adding a runtime means one new file and one line in runtime.c. */
#ifndef FORKBOX_RUNTIME_H
#define FORKBOX_RUNTIME_H

#include "child.h"
#include "error.h"

struct fbx_runtime_ops {
	const char *name;
	/* In the zygote, once, before any fork (e.g. initialise Python).
	 * base_fd is the tmp base, for scratch dirs; log_fd the host's
	 * diagnostics. NULL when there is nothing to do. */
	int (*zygote_init)(const struct fbx_msg_init *cfg, int base_fd,
			   int log_fd, struct fbx_error *err);
	/* In the child right after fork, before seccomp and before its job:
	 * make the runtime usable in a forked process. job_fd: the socket
	 * its job will come on, readable once the job is there (-1: forked
	 * for a job already waiting, or its dir is not private enough to
	 * warm up in before the layers, child.c); warming up is worth it
	 * only while no job waits. 0, or -errno with err filled. NULL when
	 * there is nothing to do. */
	int (*child_init)(int job_fd, struct fbx_error *err);
	/* In the child, under seccomp, as the unprivileged user, with the
	 * job: put the module into the private dir. A module problem
	 * (missing file) is reported as an error frame and returns 1; 0 to go
	 * on. */
	int (*stage)(struct fbx_child *c);
	/* In the child, under seccomp: load, call, write the result frame.
	 * Returns the exit code. */
	int (*run)(struct fbx_child *c);
};

/* Shared by runtimes (runtime_stage.c). */

/* Puts the module into the private dir (cwd): a copy of the job's
 * module_path (read as the unprivileged user, so a request cannot name a
 * file only the daemon may read), or, when allow_source, the inline source
 * written under module_name. Mode 0500. A problem is reported as a
 * Runtime.ImportModuleError frame and returns 1; 0 when staged. */
int fbx_runtime_stage(struct fbx_child *c, bool allow_source);

/* A spare, before its job: stages the sandbox's default module ahead, as
 * fbx_runtime_stage would. fbx_runtime_stage later keeps that copy only if
 * the job is for the same file and its content has not changed since.
 * 0, or -errno with nothing left behind. */
int fbx_runtime_prestage(struct fbx_child *c, const char *module_path);

/* Between loading the module and calling its entry: adds the policy's
 * after-load stage (fbx_child_enter_after_load). On failure writes a
 * Forkbox.InternalError frame and returns -errno. */
int fbx_runtime_enter_after_load(struct fbx_child *c);

/* Writes a Runtime.ImportModuleError frame from fmt (two %s); returns 1. */
int fbx_runtime_import_error(struct fbx_child *c, const char *fmt,
			     const char *a, const char *b);

const char *fbx_runtime_base_name(const char *path);

/* The staged module's path in the private dir into path; returns its
 * file name. */
const char *fbx_runtime_staged_path(const struct fbx_child *c, char *path,
				    size_t size);

/* NULL when no runtime has that name. */
const struct fbx_runtime_ops *fbx_runtime_find(const char *name);

extern const struct fbx_runtime_ops fbx_runtime_native;
extern const struct fbx_runtime_ops fbx_runtime_exec;
/* Only in forkbox-zygote-python, which links libpython. */
extern const struct fbx_runtime_ops fbx_runtime_python;

#endif
