/* A module-level counter: in a process that kept the module loaded it
 * would count 1, 2, 3...; in a fresh child it is 1 every time. */
#include <stdio.h>
#include <stdlib.h>

#include "forkbox_module.h"

FORKBOX_MODULE();

static int calls;

char *handler(const char *event, size_t len, fbx_context *ctx)
{
	char *out = malloc(32);
	if (out)
		snprintf(out, 32, "%d", ++calls);
	return out;
}
