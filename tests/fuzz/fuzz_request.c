/* libFuzzer target for the request envelope reader (request.c, json_scan.c)
 * and the response writer (response.c): bytes in, a request or an error
 * out, and in both cases a response that is one line of valid JSON.
 *
 * This is the path every untrusted request takes in fbx_invoke: parse, and
 * on failure answer Forkbox.InvalidRequest echoing the id; on success the
 * id and event are pasted into a response (here as its result) and the
 * input's bytes serve as logs, which may hold anything. The checks below
 * are contracts from request.h and response.h; breaking one aborts, which
 * libFuzzer reports as a crash with the input saved.
 *
 * Build and run: make fuzz (see the Makefile's last section). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "response.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: contract broken: %s\n",        \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

#define MAX_REQUEST (1u << 20)

/* Builds resp and checks the output is one line of valid JSON. */
static void build_and_check(const struct fbx_response *resp)
{
	char *out = fbx_response_build(resp);
	if (!out)
		return; /* out of memory: allowed */
	size_t len = strlen(out);
	CHECK(fbx_json_is_valid(out, len));
	CHECK(memchr(out, '\n', len) == NULL);
	CHECK(memchr(out, '\r', len) == NULL);
	free(out);
}

static void check_request(const struct fbx_request *req)
{
	if (req->id_json)
		CHECK(fbx_json_is_valid(req->id_json, strlen(req->id_json)));
	CHECK(req->event_json != NULL);
	CHECK(strlen(req->event_json) == req->event_len);
	CHECK(fbx_json_is_valid(req->event_json, req->event_len));
	if (req->module_name)
		CHECK(fbx_module_name_valid(req->module_name));
	if (req->module_source)
		CHECK(strlen(req->module_source) == req->module_source_len);
	CHECK(!(req->module_source && req->module_path));
	CHECK(req->timeout_ms >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct fbx_request req;
	struct fbx_error err = {0};
	memset(&req, 0, sizeof(req));
	int rc = fbx_request_parse(text, size, MAX_REQUEST, &req, &err);

	struct fbx_report report = {
	    .duration_ms = 1.5,
	    .max_rss_kb = 1024,
	    .cpu_ms = 0.25,
	    .exited = true,
	};
	struct fbx_response resp = {
	    .id_json = req.id_json,
	    .request_id = "00000000-0000-4000-8000-000000000000",
	    .logs = text,
	    .logs_len = size,
	    .report = &report,
	};
	if (rc < 0) {
		CHECK(err.code > 0 && err.code == -rc);
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		CHECK(err.msg[0] != '\0');
		if (req.id_json)
			CHECK(fbx_json_is_valid(req.id_json,
						strlen(req.id_json)));
		resp.error_type = "Forkbox.InvalidRequest";
		resp.error_message = err.msg;
		build_and_check(&resp);
	} else {
		CHECK(rc == 0);
		check_request(&req);
		resp.result_json = req.event_json;
		resp.result_len = req.event_len;
		build_and_check(&resp);
		/* The id as a result too: another raw piece, another path. */
		if (req.id_json) {
			resp.result_json = req.id_json;
			resp.result_len = strlen(req.id_json);
			build_and_check(&resp);
		}
	}
	fbx_request_free(&req);
	return 0;
}
