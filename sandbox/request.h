/* The invocation request envelope (SPEC "One invocation request"): parsing
 * and validation. Pure: no I/O.
 *
 *   {"id": any JSON (echoed verbatim),
 *    "event": any JSON (passed to the module as its exact text),
 *    "module": {"runtime": "native", "name": "func.so", "source": "...",
 *               "path": "/abs/or/relative", "entry": "handler"},
 *    "timeout_ms": 3000}
 */
#ifndef FORKBOX_REQUEST_H
#define FORKBOX_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct fbx_request {
	char *id_json;	  /* raw JSON text of "id" exactly as sent, or NULL */
	char *event_json; /* raw text of "event" as sent; "{}" when absent */
	size_t event_len;
	bool has_module;
	char *module_runtime; /* each NULL when absent */
	char *module_name;
	char *module_source; /* may hold any bytes but NUL */
	size_t module_source_len;
	char *module_path;
	char *module_entry;
	long timeout_ms; /* 0 when absent */
};

/* Parses text[0..len) (not necessarily NUL-terminated). Refuses (with
 * -EINVAL and a message suitable as Forkbox.InvalidRequest's errorMessage):
 * more than max_len bytes (-E2BIG; max_len 0 means no limit), invalid JSON
 * (with the byte offset; strict RFC 8259, see json_scan.h), a NUL byte,
 * invalid UTF-8, a top-level value that is not an object, wrong field
 * types, unknown module fields, a module name that is not a plain file
 * name, \u0000 in a module string, a timeout that is not a positive
 * integer, a module with both "path" and "source" or "source" without
 * "name", empty runtime/path/entry strings. Unknown top-level fields are
 * ignored (forward compatibility), as Lambda ignores unknown headers.
 *
 * A known field ("id", "event", "module", "timeout_ms", or one inside
 * "module") given twice is refused rather than resolved first- or
 * last-wins: two parsers that resolve it differently must never see two
 * different requests in one text. Keys are compared after decoding their
 * escapes ("\u0069d" is "id"). "module", "timeout_ms" and the module's
 * fields may be null, meaning absent; "event": null is the event null.
 *
 * out->id_json keeps the id's exact text (newlines included). When parsing
 * fails, out->id_json is still filled when the text is a valid JSON object
 * with one "id" (also when it is over max_len), so the error response can
 * echo it; every other field is then empty. -ENOMEM on allocation failure.
 * Call fbx_request_free(out) after success and failure alike. */
int fbx_request_parse(const char *text, size_t len, size_t max_len,
		      struct fbx_request *out, struct fbx_error *err);

void fbx_request_free(struct fbx_request *req);

/* Validates a module file name from a request: non-empty, at most 255
 * bytes, no '/', not "." or "..", no NUL, no leading '-'. */
bool fbx_module_name_valid(const char *name);

#endif
