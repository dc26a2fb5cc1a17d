/* The AWS Lambda Runtime API, client side: one libcurl easy handle per
 * poller thread, its connection kept alive across requests. */
#ifndef FORKBOXD_LAMBDA_API_H
#define FORKBOXD_LAMBDA_API_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* One invocation as /next hands it over. Every header is NULL when the
 * platform did not send it (each is sent only when it has a value). */
struct fbxd_rapi_event {
	char *request_id;	/* Lambda-Runtime-Aws-Request-Id */
	char *deadline_ms;	/* Lambda-Runtime-Deadline-Ms, as sent */
	char *function_arn;	/* Lambda-Runtime-Invoked-Function-Arn */
	char *trace_id;		/* Lambda-Runtime-Trace-Id */
	char *client_context;	/* Lambda-Runtime-Client-Context */
	char *cognito_identity; /* Lambda-Runtime-Cognito-Identity */
	char *body;		/* the payload, NUL-terminated */
	size_t body_len;
};

struct fbxd_rapi {
	CURL *curl;
	char base[512]; /* http://HOST:PORT/2018-06-01 */
	/* Set by the owner to cancel a /next that waits (SIGTERM, or another
	 * poller's fatal error); never cancels a POST half-way. */
	const atomic_bool *cancel;
	bool cancellable; /* the transfer running now may be cancelled */
	/* what the transfer running now received */
	char *body;
	size_t body_len, body_cap;
	struct fbxd_rapi_event hdr; /* header fields only */
	char errbuf[CURL_ERROR_SIZE];
};

/* Once per process, before any thread starts. */
int fbxd_rapi_global_init(void);

/* host_port is $AWS_LAMBDA_RUNTIME_API. Returns 0 or a negative errno. */
int fbxd_rapi_open(struct fbxd_rapi *c, const char *host_port,
		   const atomic_bool *cancel);
void fbxd_rapi_close(struct fbxd_rapi *c);

/* GET /runtime/invocation/next, waiting as long as it takes. Returns 0 with
 * *status set (the event filled only on 200), -ECANCELED when cancelled,
 * -EIO when the API stayed unreachable through every retry, or -ENOMEM. */
int fbxd_rapi_next(struct fbxd_rapi *c, struct fbxd_rapi_event *ev,
		   long *status);
void fbxd_rapi_event_free(struct fbxd_rapi_event *ev);

/* POST /runtime/invocation/{id}/response with the result JSON. Returns 0
 * with *status set, or a negative errno as for fbxd_rapi_next. */
int fbxd_rapi_post_response(struct fbxd_rapi *c, const char *request_id,
			    const char *body, size_t len, long *status);

/* POST /runtime/invocation/{id}/error, or /runtime/init/error when
 * request_id is NULL: body is {errorMessage, errorType, stackTrace},
 * error_type goes into Lambda-Runtime-Function-Error-Type. */
int fbxd_rapi_post_error(struct fbxd_rapi *c, const char *request_id,
			 const char *error_type, const char *body, size_t len,
			 long *status);

/* The body of the last answer (for logging a refusal), "" when none. */
const char *fbxd_rapi_last_body(const struct fbxd_rapi *c);

#endif
