/* The unsafe warm design, for bench/lambda_bench.c to compare forkboxd
 * lambda with: a minimal Lambda runtime loop that dlopen()s a native
 * module once and calls its handler in-process for every event. Nothing
 * is isolated: module state, files and processes all carry over, which is
 * exactly what forkbox exists to prevent. The HTTP client is forkboxd's
 * own (daemon/lambda_api.c: libcurl, one kept-alive connection, the same
 * options), linked in, so that only the handling of the event differs.
 *
 *   AWS_LAMBDA_RUNTIME_API=HOST:PORT lambda_inproc MODULE.so [ENTRY]
 *   AWS_LAMBDA_RUNTIME_API=HOST:PORT lambda_inproc --no-handler
 *
 * --no-handler posts "0" for every event without calling anything: the
 * client's own cost. Runs until killed, or exits 1 when the API fails. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forkbox_module.h"
#include "lambda_api.h"

int main(int argc, char **argv)
{
	const char *api_host = getenv("AWS_LAMBDA_RUNTIME_API");
	if (argc < 2 || !api_host) {
		fprintf(stderr,
			"usage: AWS_LAMBDA_RUNTIME_API=HOST:PORT %s "
			"MODULE.so [ENTRY] | --no-handler\n",
			argv[0]);
		return 2;
	}
	fbx_entry_fn entry = NULL;
	if (strcmp(argv[1], "--no-handler") != 0) {
		void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "lambda_inproc: %s\n", dlerror());
			return 1;
		}
		*(void **)&entry = dlsym(h, argc > 2 ? argv[2] : "handler");
		if (!entry) {
			fprintf(stderr, "lambda_inproc: %s\n", dlerror());
			return 1;
		}
	}
	struct fbxd_rapi api;
	if (fbxd_rapi_global_init() < 0 ||
	    fbxd_rapi_open(&api, api_host, NULL) < 0) {
		fprintf(stderr, "lambda_inproc: cannot set up libcurl\n");
		return 1;
	}
	for (;;) {
		struct fbxd_rapi_event ev;
		long status = 0;
		if (fbxd_rapi_next(&api, &ev, &status) < 0 || status != 200 ||
		    !ev.request_id) {
			fprintf(stderr,
				"lambda_inproc: GET /next failed (%ld)\n",
				status);
			return 1;
		}
		char *result = NULL;
		fbx_context ctx = {
		    .abi_version = FORKBOX_ABI_VERSION,
		    .size = sizeof(fbx_context),
		    .request_id = ev.request_id,
		    .function_name = "lambda_inproc",
		    .invoked_function_arn =
			ev.function_arn ? ev.function_arn : "",
		    .trace_id = ev.trace_id ? ev.trace_id : "",
		    .client_context = "",
		    .cognito_identity = "",
		    .deadline_ms =
			ev.deadline_ms ? strtoll(ev.deadline_ms, NULL, 10) : 0,
		    .memory_limit_mb = 512,
		    .tmp_dir = "/tmp",
		};
		if (entry)
			result = entry(ev.body, ev.body_len, &ctx);
		const char *body = result ? result : "0";
		int rc = fbxd_rapi_post_response(&api, ev.request_id, body,
						 strlen(body), &status);
		free(result);
		fbxd_rapi_event_free(&ev);
		if (rc < 0 || status < 200 || status >= 300) {
			fprintf(stderr,
				"lambda_inproc: POST /response failed (%ld)\n",
				status);
			return 1;
		}
	}
}
