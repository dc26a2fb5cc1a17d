/* The runtimes a zygote helper knows. forkbox-zygote-python is built with
 * FBX_WITH_PYTHON; the plain helper never links libpython, so its forks
 * stay small. */
#include "runtime.h"

#include <string.h>

static const struct fbx_runtime_ops *const runtimes[] = {
    &fbx_runtime_native,
    &fbx_runtime_exec,
#ifdef FBX_WITH_PYTHON
    &fbx_runtime_python,
#endif
};

const struct fbx_runtime_ops *fbx_runtime_find(const char *name)
{
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (name && strcmp(runtimes[i]->name, name) == 0)
			return runtimes[i];
	return NULL;
}
