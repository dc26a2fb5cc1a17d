/* The Lambda Runtime API over libcurl.
 *
 * Connections: each handle keeps its connection alive between requests.
 * An idle one may be closed by the other side at any time (Node's 5 s
 * keep-alive closes it while an emulator keeps us SIGSTOPped): libcurl
 * notices a dead cached connection before reuse, and otherwise a request
 * that fails at the transport level is retried here on a new connection
 * with a short backoff. EINTR after SIGSTOP/SIGCONT is absorbed by
 * libcurl's poll loop; a transfer that fails because of it anyway is one
 * of those transport failures and retried.
 *
 * Timeouts: only on connecting. /next must wait as long as the platform
 * takes (the environment may be frozen in it for hours), and time spent
 * frozen would count against any transfer timeout once thawed. */
#include "lambda_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "diag.h"

#define API_VERSION_PATH   "/2018-06-01"
#define CONNECT_TIMEOUT_MS 2000L
/* About 15 s of trying before the API is declared gone. */
#define MAX_ATTEMPTS	 20
#define BACKOFF_FIRST_MS 50
#define BACKOFF_MAX_MS	 1000
/* Far above Lambda's 6 MB: only a broken peer sends more. */
#define MAX_BODY       (64u << 20)
#define MAX_ERROR_TYPE 256

static const char *const header_names[] = {
    "Lambda-Runtime-Aws-Request-Id",	   "Lambda-Runtime-Deadline-Ms",
    "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id",
    "Lambda-Runtime-Client-Context",	   "Lambda-Runtime-Cognito-Identity",
};

static char **header_slot(struct fbxd_rapi_event *ev, size_t i)
{
	char **slots[] = {&ev->request_id,     &ev->deadline_ms,
			  &ev->function_arn,   &ev->trace_id,
			  &ev->client_context, &ev->cognito_identity};
	return slots[i];
}

void fbxd_rapi_event_free(struct fbxd_rapi_event *ev)
{
	for (size_t i = 0; i < sizeof(header_names) / sizeof(*header_names);
	     i++)
		free(*header_slot(ev, i));
	free(ev->body);
	memset(ev, 0, sizeof(*ev));
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
	struct fbxd_rapi *c = ud;
	size_t len = size * n;
	/* A status line starts a new answer (after a 100 Continue, or on a
	 * retry): headers of an earlier one must not leak into it. */
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		fbxd_rapi_event_free(&c->hdr);
		return len;
	}
	const char *colon = memchr(buf, ':', len);
	if (!colon)
		return len;
	size_t name_len = (size_t)(colon - buf);
	const char *v = colon + 1, *end = buf + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
			   end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (size_t i = 0; i < sizeof(header_names) / sizeof(*header_names);
	     i++) {
		if (strlen(header_names[i]) != name_len ||
		    strncasecmp(header_names[i], buf, name_len) != 0)
			continue;
		char **slot = header_slot(&c->hdr, i);
		free(*slot);
		*slot = strndup(v, (size_t)(end - v));
		return *slot ? len : 0; /* 0 fails the transfer: no memory */
	}
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
	struct fbxd_rapi *c = ud;
	size_t len = size * n;
	if (c->body_len + len + 1 > MAX_BODY)
		return 0;
	if (c->body_len + len + 1 > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap : 65536;
		while (cap < c->body_len + len + 1)
			cap *= 2;
		char *grown = realloc(c->body, cap);
		if (!grown)
			return 0;
		c->body = grown;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, buf, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return len;
}

/* Called by libcurl about once a second at least, and after any signal
 * interrupts its poll: a cancelled /next ends here. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	const struct fbxd_rapi *c = ud;
	return c->cancellable && c->cancel && atomic_load(c->cancel);
}

int fbxd_rapi_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_NOTHING) == CURLE_OK ? 0 : -EIO;
}

int fbxd_rapi_open(struct fbxd_rapi *c, const char *host_port,
		   const atomic_bool *cancel)
{
	memset(c, 0, sizeof(*c));
	c->cancel = cancel;
	if (snprintf(c->base, sizeof(c->base), "http://%s" API_VERSION_PATH,
		     host_port) >= (int)sizeof(c->base))
		return -ENAMETOOLONG;
	c->curl = curl_easy_init();
	if (!c->curl)
		return -ENOMEM;
	CURLcode rc = CURLE_OK;
	/* NOSIGNAL: threads; libcurl must not use SIGALRM or touch SIGPIPE. */
	rc |= curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http");
	rc |= curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION,
			       (long)CURL_HTTP_VERSION_1_1);
	rc |= curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
			       CONNECT_TIMEOUT_MS);
	rc |= curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	rc |= curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	rc |= curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	rc |= curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	rc |= curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	rc |= curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	rc |= curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
	rc |= curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	rc |= curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	if (rc != CURLE_OK) {
		fbxd_rapi_close(c);
		return -EINVAL;
	}
	return 0;
}

void fbxd_rapi_close(struct fbxd_rapi *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
	fbxd_rapi_event_free(&c->hdr);
	free(c->body);
	c->body = NULL;
	c->body_len = c->body_cap = 0;
}

const char *fbxd_rapi_last_body(const struct fbxd_rapi *c)
{
	return c->body ? c->body : "";
}

static bool transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT: /* connecting: the only timeout */
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE: /* closed mid-answer */
	case CURLE_WEIRD_SERVER_REPLY:
		return true;
	default:
		return false;
	}
}

/* Sleeps in short slices so that a cancelled wait ends soon. */
static bool backoff(struct fbxd_rapi *c, unsigned attempt)
{
	unsigned ms = BACKOFF_FIRST_MS << (attempt < 5 ? attempt : 5);
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	for (unsigned slept = 0; slept < ms; slept += 50) {
		if (c->cancellable && c->cancel && atomic_load(c->cancel))
			return false;
		struct timespec ts = {0, 50 * 1000000L};
		/* EINTR (a signal, or SIGCONT) only shortens the wait. */
		nanosleep(&ts, NULL);
	}
	return true;
}

/* A /next cancelled just as its whole answer had arrived: the platform
 * counts the invocation as handed out, so it must be answered, not lost. */
static bool answer_complete(struct fbxd_rapi *c, long *status)
{
	curl_off_t expected = -1;
	return c->hdr.request_id &&
	       curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status) ==
		   CURLE_OK &&
	       *status == 200 &&
	       curl_easy_getinfo(c->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
				 &expected) == CURLE_OK &&
	       expected >= 0 && (size_t)expected == c->body_len;
}

/* Runs the request set up on c->curl, retrying transport failures. */
static int perform(struct fbxd_rapi *c, const char *what, long *status)
{
	for (unsigned attempt = 1;; attempt++) {
		fbxd_rapi_event_free(&c->hdr);
		c->body_len = 0;
		if (c->body)
			c->body[0] = '\0';
		c->errbuf[0] = '\0';
		CURLcode rc = curl_easy_perform(c->curl);
		if (rc == CURLE_OK) {
			if (curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE,
					      status) != CURLE_OK)
				return -EIO;
			return 0;
		}
		if (rc == CURLE_ABORTED_BY_CALLBACK)
			return answer_complete(c, status) ? 0 : -ECANCELED;
		if (rc == CURLE_OUT_OF_MEMORY)
			return -ENOMEM;
		const char *why =
		    c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
		if (!transient(rc) || attempt >= MAX_ATTEMPTS) {
			fbxd_diag("error",
				  "Runtime API %s failed: %s (curl error %d, "
				  "attempt %u)",
				  what, why, (int)rc, attempt);
			return rc == CURLE_WRITE_ERROR ? -EFBIG : -EIO;
		}
		/* The first retry is routine (a keep-alive connection closed
		 * while we were frozen); say so only quietly. */
		fbxd_diag(attempt == 1 ? "info" : "warn",
			  "Runtime API %s: %s; retrying on a new connection",
			  what, why);
		if (!backoff(c, attempt - 1))
			return -ECANCELED;
	}
}

static int set_url(struct fbxd_rapi *c, const char *request_id,
		   const char *suffix)
{
	char url[1024];
	int n;
	if (request_id) {
		char *id = curl_easy_escape(c->curl, request_id, 0);
		if (!id)
			return -ENOMEM;
		n = snprintf(url, sizeof(url), "%s/runtime/invocation/%s/%s",
			     c->base, id, suffix);
		curl_free(id);
	} else {
		n = snprintf(url, sizeof(url), "%s/runtime/%s", c->base,
			     suffix);
	}
	if (n >= (int)sizeof(url))
		return -ENAMETOOLONG;
	return curl_easy_setopt(c->curl, CURLOPT_URL, url) == CURLE_OK
		   ? 0
		   : -EINVAL;
}

int fbxd_rapi_next(struct fbxd_rapi *c, struct fbxd_rapi_event *ev,
		   long *status)
{
	memset(ev, 0, sizeof(*ev));
	int rc = set_url(c, NULL, "invocation/next");
	if (rc < 0)
		return rc;
	if (curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL) != CURLE_OK)
		return -EINVAL;
	c->cancellable = true;
	rc = perform(c, "GET /next", status);
	c->cancellable = false;
	if (rc == -EFBIG && c->hdr.request_id) {
		/* Too big to take, but with an id: the caller can still
		 * answer it with an error instead of leaving it hanging. */
		*ev = c->hdr;
		memset(&c->hdr, 0, sizeof(c->hdr));
		return rc;
	}
	if (rc < 0 || *status != 200)
		return rc;
	/* Hand the answer over: the event owns it now. */
	*ev = c->hdr;
	memset(&c->hdr, 0, sizeof(c->hdr));
	ev->body = c->body ? c->body : strdup("");
	ev->body_len = c->body_len;
	c->body = NULL;
	c->body_len = c->body_cap = 0;
	return ev->body ? 0 : -ENOMEM;
}

/* A header value the module chose: no control characters, or it could
 * add headers of its own. */
static void sanitize(char *out, size_t size, const char *in)
{
	size_t n = 0;
	for (; in && *in && n + 1 < size; in++)
		out[n++] = (unsigned char)*in < 0x20 || *in == 0x7f ? '_' : *in;
	out[n] = '\0';
}

static int post(struct fbxd_rapi *c, const char *request_id, const char *suffix,
		const char *content_type, const char *error_type,
		const char *body, size_t len, long *status)
{
	int rc = set_url(c, request_id, suffix);
	if (rc < 0)
		return rc;
	char ct[128], et[MAX_ERROR_TYPE + 64];
	snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
	struct curl_slist *headers = curl_slist_append(NULL, ct);
	/* A 100-continue round trip buys nothing from a local API. */
	struct curl_slist *more =
	    headers ? curl_slist_append(headers, "Expect:") : NULL;
	if (more && error_type) {
		char clean[MAX_ERROR_TYPE];
		sanitize(clean, sizeof(clean), error_type);
		snprintf(et, sizeof(et),
			 "Lambda-Runtime-Function-Error-Type: %s", clean);
		more = curl_slist_append(more, et);
	}
	if (!more) {
		curl_slist_free_all(headers);
		return -ENOMEM;
	}
	headers = more;
	CURLcode crc = CURLE_OK;
	crc |= curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	crc |= curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	crc |= curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				(curl_off_t)len);
	char what[64];
	snprintf(what, sizeof(what), "POST %s", suffix);
	rc = crc == CURLE_OK ? perform(c, what, status) : -EINVAL;
	/* The list dies here: the handle must not keep pointing at it. */
	if (curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL) != CURLE_OK)
		rc = rc < 0 ? rc : -EINVAL;
	curl_slist_free_all(headers);
	return rc;
}

int fbxd_rapi_post_response(struct fbxd_rapi *c, const char *request_id,
			    const char *body, size_t len, long *status)
{
	return post(c, request_id, "response", "application/json", NULL, body,
		    len, status);
}

int fbxd_rapi_post_error(struct fbxd_rapi *c, const char *request_id,
			 const char *error_type, const char *body, size_t len,
			 long *status)
{
	return post(c, request_id, request_id ? "error" : "init/error",
		    "application/vnd.aws.lambda.error+json", error_type, body,
		    len, status);
}
