/* Returns the number it was built with (-DVALUE=N): the seed scenario
 * rebuilds func.so with a new value before every request. */
#include <stdio.h>
#include <stdlib.h>

#include "forkbox_module.h"

#ifndef VALUE
#define VALUE 0
#endif

FORKBOX_MODULE();

char *handler(const char *event, size_t len, fbx_context *ctx)
{
	char *out = malloc(32);
	if (out)
		snprintf(out, 32, "%d", VALUE);
	return out;
}
