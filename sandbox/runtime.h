/* Runtimes: how a module is staged, loaded and called inside the child.
 * Adding a runtime means one new file and one line in runtime.c. */
#ifndef FORKBOX_RUNTIME_H
#define FORKBOX_RUNTIME_H

#include "child.h"
#include "error.h"

struct fbx_runtime_ops {
	const char *name;
	/* In the zygote, once, before any fork (e.g. initialise Python). */
	int (*zygote_init)(struct fbx_error *err);
	/* In the child, before seccomp, as the unprivileged user: put the
	 * module into the private dir. A module problem (missing file) is
	 * reported as an error frame and returns 1; 0 to go on. */
	int (*stage)(struct fbx_child *c);
	/* In the child, under seccomp: load, call, write the result frame.
	 * Returns the exit code. */
	int (*run)(struct fbx_child *c);
};

/* NULL when no runtime has that name. */
const struct fbx_runtime_ops *fbx_runtime_find(const char *name);

extern const struct fbx_runtime_ops fbx_runtime_native;

#endif
