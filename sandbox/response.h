/* The invocation response (SPEC "One invocation response"): building the
 * JSON text. Pure: no I/O. Output is always valid JSON and valid UTF-8:
 * logs and messages with invalid UTF-8 or NUL bytes are escaped or replaced
 * (U+FFFD), never passed raw. */
#ifndef FORKBOX_RESPONSE_H
#define FORKBOX_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

struct fbx_report {
	double duration_ms;
	long max_rss_kb;
	double cpu_ms;
	bool exited; /* "exit": {"code": N} */
	int exit_code;
	int exit_signal; /* "exit": {"signal": "SIGSEGV"} when !exited and > 0;
			  * neither: "exit": null */
	bool zygote_restarted;	 /* "zygote_restarted": true, only when set */
	unsigned orphans_killed; /* "orphans_killed": N, only when > 0 */
	/* Learn mode: "syscalls": [names] (each a plain syscall name). */
	const char *const *syscalls;
	size_t n_syscalls;
};

/* Raw JSON pieces (id_json, result_json, stack_trace_json) are pasted in
 * as they are, except that LF and CR become spaces (in valid JSON they can
 * only be whitespace between tokens) so the response stays one line. A
 * piece that is not valid (fbx_json_is_valid; stackTrace: an array) is
 * replaced by null ([] for stackTrace) rather than break the output. */
struct fbx_response {
	const char *id_json;	/* raw JSON text, or NULL for "id": null */
	const char *request_id; /* uuid of this invocation, or NULL: omitted */
	/* Success: result_json is the module's raw JSON text (already
	 * validated by fbx_json_is_valid); NULL or result_len 0: null. */
	const char *result_json;
	size_t result_len;
	/* Failure (when error_type != NULL): */
	const char *error_type;
	const char *error_message;    /* NULL: "" */
	const char *stack_trace_json; /* raw JSON array text, or NULL for [] */
	const char *syscall; /* "syscall": name inside "error", or NULL */
	const char *logs;    /* bytes, any content; NULL: "" */
	size_t logs_len;
	const struct fbx_report *report; /* NULL: no "report" */
};

/* Returns malloc'd NUL-terminated JSON text, or NULL on allocation failure. */
char *fbx_response_build(const struct fbx_response *resp);

/* True when text[0..len) is exactly one valid JSON value (surrounding
 * whitespace allowed) in valid UTF-8 without raw NUL. Strict RFC 8259
 * (json_scan.h): no 01, 1., raw control characters in strings or lone
 * surrogates, at most FBX_JSON_MAX_DEPTH levels. Allocates nothing. */
bool fbx_json_is_valid(const char *text, size_t len);

/* Name of a signal, "SIGSEGV" (a string literal); "SIGRTMIN+3" and
 * "signal 77" for the others, written into buf[0..size) and returned. */
const char *fbx_signal_name(int sig, char *buf, size_t size);

#endif
