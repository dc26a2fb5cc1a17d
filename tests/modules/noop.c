/* Does nothing: the benchmark's module. */
#include <string.h>

#include "forkbox_module.h"

FORKBOX_MODULE();

char *handler(const char *event, size_t len, fbx_context *ctx)
{
	return strdup("0");
}
