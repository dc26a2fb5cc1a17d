/* The smallest useful module: greets whoever the event names.
 *
 *   forkbox run --module build/examples/hello.so --event-json '{"name": "Ada"}'
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <forkbox_module.h>

FORKBOX_MODULE();

char *handler(const char *event, size_t len, fbx_context *ctx)
{
	/* A real module would use a JSON library; this one looks for
	 * "name": "..." and keeps letters only, which needs no escaping. */
	char name[64] = "world";
	const char *p = strstr(event, "\"name\"");
	if (p && (p = strchr(p + 6, '"'))) {
		size_t n = 0;
		for (p++; *p && *p != '"' && n + 1 < sizeof(name); p++)
			if ((*p >= 'A' && *p <= 'Z') ||
			    (*p >= 'a' && *p <= 'z'))
				name[n++] = *p;
		name[n] = '\0';
	}
	printf("greeting %s in request %s\n", name, ctx->request_id);
	char *out = malloc(128);
	if (!out) {
		fbx_fail(ctx, "MemoryError", "out of memory");
		return NULL;
	}
	snprintf(out, 128, "{\"greeting\": \"Hello, %s!\"}", name);
	return out;
}
