/* What a forkbox response becomes in Lambda's terms: the body to post
 * (result or error), the module's logs, the REPORT line. Pure: no I/O. */
#ifndef FORKBOXD_LAMBDA_RESPONSE_H
#define FORKBOXD_LAMBDA_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

struct fbxd_outcome {
	bool ok;
	/* ok: the result's JSON text exactly as the module produced it (no
	 * re-serialisation: big numbers survive), inside the response. */
	const char *result;
	size_t result_len;
	/* !ok: malloc'd */
	char *error_type;
	char *error_body; /* {"errorMessage", "errorType", "stackTrace", ...} */
	char *logs;	  /* malloc'd, "" when none */
	double duration_ms;
	long max_rss_kb;
};

/* Reads one response of libforkbox (SPEC "One invocation response").
 * Returns 0, -EINVAL when it is not one, or -ENOMEM. */
int fbxd_outcome_parse(const char *response, struct fbxd_outcome *out);
void fbxd_outcome_free(struct fbxd_outcome *out);

/* {"errorMessage": message, "errorType": type, "stackTrace": []},
 * malloc'd, or NULL when out of memory. */
char *fbxd_error_body(const char *type, const char *message);

/* Each line of logs as "<request_id>\t<line>\n", malloc'd; *len set. NULL
 * (with *len 0) for no logs or no memory. */
char *fbxd_prefix_lines(const char *request_id, const char *logs, size_t *len);

/* Lambda's REPORT line, newline included; returns its length. */
size_t fbxd_report_line(char *buf, size_t size, const char *request_id,
			double duration_ms, unsigned memory_mb,
			long max_rss_kb);

/* The offsets of the value of top-level member "key" of a JSON object
 * text. Returns 0, or -ENOENT / -EINVAL. */
int fbxd_json_member(const char *json, size_t len, const char *key,
		     size_t *start, size_t *end);

#endif
