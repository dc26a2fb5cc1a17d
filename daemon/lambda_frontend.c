/* forkboxd lambda: an AWS Lambda custom runtime.
 *
 * N poller threads (AWS_LAMBDA_MAX_CONCURRENCY, default 1) each run the
 * Runtime API loop with a connection of their own: /next, one invocation
 * in a fresh sandboxed child through the shared libforkbox handle, then
 * /response or /error. The main thread starts them and waits. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "frontends.h"
#include "lambda_api.h"
#include "lambda_config.h"
#include "lambda_response.h"

/* The child is killed this long before the platform's deadline, so that
 * Sandbox.Timedout reaches the API before Lambda gives up on us: enough
 * for the zygote's kill and report and one local POST. */
#define DEADLINE_MARGIN_MS 100

/* Lambda's answer to a result it will not take (AWS's wording). */
#define TOO_LARGE_TYPE "Function.ResponseSizeTooLarge"

/* Set by SIGTERM/SIGINT, or when the API says the environment is in error:
 * ends every wait in /next. Global because a signal handler has nowhere
 * else to put it. */
static atomic_bool cancel_waits;

static void on_stop_signal(int sig)
{
	(void)sig;
	atomic_store(&cancel_waits, true);
}

struct runtime {
	fbx_sandbox *sb;
	const struct fbxd_lambda_config *lc;
	const char *api;
	pthread_mutex_t lock; /* guards the fields below */
	pthread_cond_t changed;
	unsigned running; /* pollers still looping */
	bool fatal;
	pthread_mutex_t log_lock; /* one invocation's log lines stay together */
};

enum step { STEP_NEXT = 0, STEP_FATAL = -1 };

static void fatal(struct runtime *rt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Logs why, and makes every poller and the main thread wind up. */
static void fatal(struct runtime *rt, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fbxd_diag("fatal", "%s", msg);
	atomic_store(&cancel_waits, true);
	pthread_mutex_lock(&rt->lock);
	rt->fatal = true;
	pthread_cond_broadcast(&rt->changed);
	pthread_mutex_unlock(&rt->lock);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* When the child must be dead: the deadline header less the margin, or
 * the configured timeout from now when the header is unusable. Emulators
 * send odd ones: @vercel/fun always sends 5000, a date in 1970. */
static int64_t kill_time(const struct runtime *rt,
			 const struct fbxd_rapi_event *ev)
{
	unsigned fallback = rt->lc->fallback_timeout_ms;
	int64_t now = now_ms();
	const char *h = ev->deadline_ms;
	if (!h) {
		fbxd_diag("warn",
			  "invocation %s: no Lambda-Runtime-Deadline-Ms; "
			  "using the configured timeout of %u ms",
			  ev->request_id, fallback);
		return now + fallback;
	}
	char *end;
	errno = 0;
	long long deadline = strtoll(h, &end, 10);
	if (errno || end == h || *end || deadline <= 0) {
		fbxd_diag(
		    "warn",
		    "invocation %s: Lambda-Runtime-Deadline-Ms '%.40s' is "
		    "not a number; using the configured timeout of %u ms",
		    ev->request_id, h, fallback);
		return now + fallback;
	}
	if (deadline <= now) {
		fbxd_diag("warn",
			  "invocation %s: Lambda-Runtime-Deadline-Ms %lld is "
			  "%lld ms in the past; using the configured "
			  "timeout of %u ms",
			  ev->request_id, deadline, (long long)now - deadline,
			  fallback);
		return now + fallback;
	}
	/* Less time left than the margin: run it for what there is. */
	return deadline - DEADLINE_MARGIN_MS > now
		   ? deadline - DEADLINE_MARGIN_MS
		   : now + 1;
}

/* The library's request: the payload as is when it is SPEC's envelope
 * (inline modules allowed), else wrapped as the event. A payload that is
 * not JSON makes an envelope that is not either, which the library
 * answers with Forkbox.InvalidRequest. */
static char *build_request(const struct runtime *rt,
			   const struct fbxd_rapi_event *ev, size_t *len)
{
	if (!rt->lc->wrap_event) {
		*len = ev->body_len;
		return NULL; /* use ev->body */
	}
	static const char head[] = "{\"event\":", tail[] = "}";
	char *req = malloc(sizeof(head) + ev->body_len + sizeof(tail));
	if (!req)
		return NULL;
	memcpy(req, head, sizeof(head) - 1);
	memcpy(req + sizeof(head) - 1, ev->body, ev->body_len);
	memcpy(req + sizeof(head) - 1 + ev->body_len, tail, sizeof(tail));
	*len = sizeof(head) - 1 + ev->body_len + sizeof(tail) - 1;
	return req;
}

static void write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nowhere left to log to */
		buf += n;
		len -= (size_t)n;
	}
}

/* The module's output, every line prefixed with the request id, then the
 * REPORT line: what CloudWatch shows for one invocation. */
static void log_invocation(struct runtime *rt, const char *id,
			   const struct fbxd_outcome *out)
{
	size_t len;
	char *lines = fbxd_prefix_lines(id, out->logs ? out->logs : "", &len);
	char report[512];
	size_t rlen =
	    fbxd_report_line(report, sizeof(report), id, out->duration_ms,
			     rt->lc->opts.cfg.memory_mb, out->max_rss_kb);
	pthread_mutex_lock(&rt->log_lock);
	if (lines)
		write_all(lines, len);
	write_all(report, rlen);
	pthread_mutex_unlock(&rt->log_lock);
	free(lines);
}

/* What an /error or /response status means for the loop. */
static int after_post(struct runtime *rt, struct fbxd_rapi *api,
		      const char *what, const char *id, int rc, long status)
{
	if (rc < 0) {
		fatal(rt, "the Runtime API is gone (%s): exiting", what);
		return STEP_FATAL;
	}
	if (status >= 200 && status < 300)
		return STEP_NEXT;
	if (status >= 500) {
		fatal(rt,
		      "%s for %s answered %ld: the environment is in error; "
		      "exiting",
		      what, id, status);
		return STEP_FATAL;
	}
	/* 400 (unknown id), 403 (already answered), 410 (too late): this
	 * invocation is over for the platform; serve the next one. */
	fbxd_diag("error", "%s for invocation %s refused with %ld: %.300s",
		  what, id, status, fbxd_rapi_last_body(api));
	return STEP_NEXT;
}

static int post_error(struct runtime *rt, struct fbxd_rapi *api, const char *id,
		      const char *type, const char *body)
{
	long status = 0;
	int rc =
	    fbxd_rapi_post_error(api, id, type, body, strlen(body), &status);
	return after_post(rt, api, "POST /error", id, rc, status);
}

static int post_too_large(struct runtime *rt, struct fbxd_rapi *api,
			  const char *id, const char *why)
{
	char *body = fbxd_error_body(TOO_LARGE_TYPE, why);
	if (!body) {
		fatal(rt, "out of memory");
		return STEP_FATAL;
	}
	int rc = post_error(rt, api, id, TOO_LARGE_TYPE, body);
	free(body);
	return rc;
}

static int post_outcome(struct runtime *rt, struct fbxd_rapi *api,
			const char *id, const struct fbxd_outcome *out)
{
	char why[160];
	if (!out->ok) {
		/* A result over the limit is what Lambda itself calls
		 * ResponseSizeTooLarge; forkbox stopped reading it. */
		if (strcmp(out->error_type, "Forkbox.OutputTooLarge") == 0) {
			snprintf(why, sizeof(why),
				 "Response payload size exceeded maximum "
				 "allowed payload size (%zu bytes).",
				 rt->lc->opts.cfg.max_result_bytes);
			return post_too_large(rt, api, id, why);
		}
		return post_error(rt, api, id, out->error_type,
				  out->error_body);
	}
	long status = 0;
	int rc = fbxd_rapi_post_response(api, id, out->result, out->result_len,
					 &status);
	if (rc == 0 && status == 413) {
		snprintf(why, sizeof(why),
			 "Response payload size (%zu bytes) exceeded maximum "
			 "allowed payload size.",
			 out->result_len);
		return post_too_large(rt, api, id, why);
	}
	return after_post(rt, api, "POST /response", id, rc, status);
}

/* One invocation: run it, log it, answer it. */
static int serve(struct runtime *rt, struct fbxd_rapi *api,
		 const struct fbxd_rapi_event *ev)
{
	const char *id = ev->request_id;
	struct fbx_invoke_context ctx = {
	    .request_id = id,
	    .invoked_function_arn = ev->function_arn,
	    .trace_id = ev->trace_id,
	    .client_context = ev->client_context,
	    .cognito_identity = ev->cognito_identity,
	    .deadline_ms = kill_time(rt, ev),
	};
	size_t len = 0;
	char *wrapped = build_request(rt, ev, &len);
	char *resp = NULL;
	struct fbx_error err = {0};
	int rc = -ENOMEM;
	if (wrapped || !rt->lc->wrap_event)
		rc = fbx_invoke_ctx(rt->sb, wrapped ? wrapped : ev->body, len,
				    &ctx, &resp, &err);
	free(wrapped);
	if (rc < 0) {
		fbxd_diag("error", "the sandbox failed invocation %s: %s", id,
			  err.msg[0] ? err.msg : "out of memory");
		if (!resp)
			resp = fbx_error_response(NULL, "Forkbox.InternalError",
						  err.msg[0] ? err.msg
							     : "out of memory");
	}
	struct fbxd_outcome out;
	rc = resp ? fbxd_outcome_parse(resp, &out) : -ENOMEM;
	if (rc < 0) {
		free(resp);
		fbxd_diag("error", "invocation %s: no usable response", id);
		char *body = fbxd_error_body("Forkbox.InternalError",
					     "the sandbox gave no response");
		rc = body ? post_error(rt, api, id, "Forkbox.InternalError",
				       body)
			  : STEP_FATAL;
		free(body);
		return rc;
	}
	log_invocation(rt, id, &out);
	rc = post_outcome(rt, api, id, &out);
	fbxd_outcome_free(&out);
	free(resp);
	return rc;
}

/* An event we cannot take at all still gets an answer, never silence. */
static int refuse(struct runtime *rt, struct fbxd_rapi *api,
		  const struct fbxd_rapi_event *ev, const char *why)
{
	char *body = fbxd_error_body("Forkbox.InvalidRequest", why);
	int rc = body ? post_error(rt, api, ev->request_id,
				   "Forkbox.InvalidRequest", body)
		      : STEP_FATAL;
	free(body);
	return rc;
}

static void *poller(void *arg)
{
	struct runtime *rt = arg;
	struct fbxd_rapi api;
	unsigned nameless = 0;
	char ebuf[128]; /* for the GNU strerror_r: pollers are threads */
	int rc = fbxd_rapi_open(&api, rt->api, &cancel_waits);
	if (rc < 0)
		fatal(rt, "cannot set up the Runtime API client: %s",
		      strerror_r(-rc, ebuf, sizeof(ebuf)));
	while (rc == 0 && !atomic_load(&cancel_waits)) {
		struct fbxd_rapi_event ev;
		long status = 0;
		rc = fbxd_rapi_next(&api, &ev, &status);
		if (rc == -ECANCELED)
			break;
		if (rc == -EFBIG && ev.request_id) {
			rc = refuse(rt, &api, &ev, "the event is too large");
		} else if (rc < 0) {
			fatal(rt, "GET /next failed (%s): exiting",
			      strerror_r(-rc, ebuf, sizeof(ebuf)));
		} else if (status != 200) {
			/* 500: the container is in error; 403 and anything
			 * else: no invocation will ever come. */
			fatal(rt, "GET /next answered %ld (%.300s): exiting",
			      status, fbxd_rapi_last_body(&api));
			rc = STEP_FATAL;
		} else if (!ev.request_id) {
			fbxd_diag("error", "GET /next gave an event without "
					   "Lambda-Runtime-Aws-Request-Id");
			if (++nameless >= 3) {
				fatal(rt, "the Runtime API keeps sending "
					  "events without a request id");
				rc = STEP_FATAL;
			}
		} else {
			nameless = 0;
			rc = serve(rt, &api, &ev);
		}
		fbxd_rapi_event_free(&ev);
	}
	fbxd_rapi_close(&api);
	pthread_mutex_lock(&rt->lock);
	rt->running--;
	pthread_cond_broadcast(&rt->changed);
	pthread_mutex_unlock(&rt->lock);
	return NULL;
}

/* Before the first /next: the platform hears why we cannot start. */
static int init_error(const char *api_host, const char *type, const char *why)
{
	fbxd_diag("fatal", "%s: %s", type, why);
	if (!api_host)
		return 1;
	struct fbxd_rapi api;
	char *body = fbxd_error_body(type, why);
	long status = 0;
	if (!body || fbxd_rapi_open(&api, api_host, NULL) < 0) {
		free(body);
		return 1;
	}
	int rc =
	    fbxd_rapi_post_error(&api, NULL, type, body, strlen(body), &status);
	if (rc == 0 && (status < 200 || status >= 300))
		fbxd_diag("error", "POST /init/error answered %ld: %.300s",
			  status, fbxd_rapi_last_body(&api));
	fbxd_rapi_close(&api);
	free(body);
	return 1;
}

static int install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a wait should notice the signal. */
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0)
		return -errno;
	/* A peer that hangs up must not kill us: writes fail instead. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	return 0;
}

static int run_pollers(struct runtime *rt, unsigned n)
{
	pthread_t *threads = calloc(n, sizeof(*threads));
	if (!threads)
		return 1;
	unsigned started = 0;
	pthread_mutex_lock(&rt->lock);
	for (; started < n; started++) {
		if (pthread_create(&threads[started], NULL, poller, rt) != 0)
			break;
		rt->running++;
	}
	if (started < n) {
		pthread_mutex_unlock(&rt->lock);
		fatal(rt, "cannot start poller threads (%u started)", started);
		pthread_mutex_lock(&rt->lock);
	}
	while (rt->running > 0 && !rt->fatal)
		pthread_cond_wait(&rt->changed, &rt->lock);
	bool failed = rt->fatal;
	pthread_mutex_unlock(&rt->lock);
	if (failed) {
		/* Exit promptly, as the API asks: invocations still running
		 * are abandoned (their zygote kills them when we are gone),
		 * so the threads are neither joined nor is the handle
		 * closed under them. */
		free(threads);
		return -1;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	return 0;
}

int fbxd_run_lambda(int argc, char **argv)
{
	struct fbxd_lambda_config lc;
	const char *etype;
	char why[1024];
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	if (api && !*api)
		api = NULL;
	int rc =
	    fbxd_lambda_config_load(&lc, argc, argv, &etype, why, sizeof(why));
	if (rc == 1) {
		fbxd_lambda_config_free(&lc);
		return 0;
	}
	if (fbxd_rapi_global_init() < 0) {
		fbxd_diag("fatal", "cannot initialise libcurl");
		fbxd_lambda_config_free(&lc);
		return 1;
	}
	if (!api) {
		fbxd_diag("fatal", "AWS_LAMBDA_RUNTIME_API is not set: "
				   "forkboxd lambda is a Lambda custom runtime "
				   "(see forkboxd lambda --help)");
		fbxd_lambda_config_free(&lc);
		return rc < 0 ? 1 : 2;
	}
	if (rc < 0) {
		fbxd_lambda_config_free(&lc);
		return init_error(api, etype, why);
	}
	struct fbx_error err = {0};
	fbx_sandbox *sb = NULL;
	if (install_signals() < 0) {
		fbxd_lambda_config_free(&lc);
		return init_error(api, "Runtime.InitError",
				  "cannot install signal handlers");
	}
	if (fbx_open(&lc.opts.cfg, &sb, &err) < 0) {
		snprintf(why, sizeof(why), "cannot start the sandbox: %s",
			 err.msg);
		fbxd_lambda_config_free(&lc);
		return init_error(api, "Runtime.InitError", why);
	}
	if (fbxd_report_layers(sb, lc.opts.cfg.disable_layers,
			       lc.opts.required_layers) < 0 ||
	    fbxd_check_concurrency(sb, lc.opts.cfg.runtime, lc.opts.jobs) < 0) {
		fbx_close(sb);
		fbxd_lambda_config_free(&lc);
		return init_error(api, "Runtime.InitError",
				  "the isolation this configuration needs is "
				  "not in place (see the log)");
	}
	fbxd_diag("info",
		  "lambda runtime ready: %u poller(s), runtime %s, module %s, "
		  "payload is %s",
		  lc.opts.jobs, lc.opts.cfg.runtime,
		  lc.opts.cfg.module_path ? lc.opts.cfg.module_path
					  : "(each request's)",
		  lc.wrap_event ? "the event" : "a request envelope");
	struct runtime rt = {.sb = sb, .lc = &lc, .api = api};
	pthread_mutex_init(&rt.lock, NULL);
	pthread_mutex_init(&rt.log_lock, NULL);
	pthread_cond_init(&rt.changed, NULL);
	if (run_pollers(&rt, lc.opts.jobs) < 0)
		return 1; /* see run_pollers: nothing may be freed */
	if (atomic_load(&cancel_waits))
		fbxd_diag("info", "stopped on a signal after finishing the "
				  "invocations in flight");
	fbx_close(sb);
	fbxd_lambda_config_free(&lc);
	return 0;
}
