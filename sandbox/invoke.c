/* One invocation, host side: validate the request, hand the zygote a job
 * and three channels, read the result and logs (bounded) while it runs,
 * wait for its report, answer.
 *
 * The host reads the pipes itself so that the zygote never buffers
 * megabytes (its size is what every fork copies) and a module that writes
 * forever only ever costs this thread a read loop until the deadline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "frame.h"
#include "host.h"
#include "job.h"
#include "request.h"

/* How long past the deadline the zygote may take to report before it is
 * presumed wedged and replaced. */
#define ZYGOTE_GRACE_MS 10000

struct collector {
	/* result channel */
	int result_fd;
	char *result;
	size_t result_len, result_cap, max_result;
	bool too_large, result_eof;
	/* logs: the last max_log bytes */
	int log_fd;
	char *logs;
	size_t logs_len, max_log;
	uint64_t logs_dropped;
	/* report */
	int status_fd; /* the done pipe */
	struct fbx_sandbox *sb;
	uint64_t gen, token; /* which zygote, which invocation, for KILL */
	bool have_done, zygote_gone;
	struct fbx_msg_done done;
};

static int64_t now_ms_realtime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void ask_kill(struct collector *c)
{
	fbx_host_kill(c->sb, c->gen, c->token);
}

enum read_state { READ_END = -1, READ_AGAIN = 0, READ_DATA = 1 };

static enum read_state read_some(int fd, char *buf, size_t size, ssize_t *n)
{
	*n = read(fd, buf, size);
	if (*n > 0)
		return READ_DATA;
	if (*n < 0 && (errno == EINTR || errno == EAGAIN))
		return READ_AGAIN;
	return READ_END;
}

static enum read_state read_result(struct collector *c)
{
	char chunk[65536];
	ssize_t n;
	enum read_state st = read_some(c->result_fd, chunk, sizeof(chunk), &n);
	if (st != READ_DATA)
		return st;
	size_t take = (size_t)n;
	if (c->result_len + take >
	    c->max_result + sizeof(struct fbx_frame_header)) {
		c->too_large = true;
		ask_kill(c);
		return READ_END;
	}
	if (c->result_len + take > c->result_cap) {
		size_t cap = c->result_cap ? c->result_cap * 2 : 65536;
		while (cap < c->result_len + take)
			cap *= 2;
		char *grown = realloc(c->result, cap);
		if (!grown)
			return READ_END;
		c->result = grown;
		c->result_cap = cap;
	}
	memcpy(c->result + c->result_len, chunk, take);
	c->result_len += take;
	if (c->result_len >= sizeof(struct fbx_frame_header)) {
		struct fbx_frame_header h;
		memcpy(&h, c->result, sizeof(h));
		/* Not a frame: raw output of an exec'd program, bounded by
		 * the total check above. */
		if (h.magic == FBX_FRAME_MAGIC && h.len > c->max_result) {
			/* Stop listening: the module's next write gets EPIPE
			 * and the zygote kills it at once. */
			c->too_large = true;
			ask_kill(c);
			return READ_END;
		}
	}
	return READ_DATA;
}

static enum read_state read_logs(struct collector *c)
{
	char chunk[65536];
	ssize_t n;
	enum read_state st = read_some(c->log_fd, chunk, sizeof(chunk), &n);
	if (st != READ_DATA)
		return st;
	size_t len = (size_t)n;
	const char *src = chunk;
	if (len >= c->max_log) {
		c->logs_dropped += c->logs_len + (len - c->max_log);
		src += len - c->max_log;
		len = c->max_log;
		c->logs_len = 0;
	} else if (c->logs_len + len > c->max_log) {
		size_t drop = c->logs_len + len - c->max_log;
		memmove(c->logs, c->logs + drop, c->logs_len - drop);
		c->logs_len -= drop;
		c->logs_dropped += drop;
	}
	memcpy(c->logs + c->logs_len, src, len);
	c->logs_len += len;
	return READ_DATA;
}

static void read_done(struct collector *c)
{
	/* DONE is one write of less than PIPE_BUF: it arrives whole. */
	ssize_t n = read(c->status_fd, &c->done, sizeof(c->done));
	if (n == (ssize_t)sizeof(c->done) && c->done.type == FBX_MSG_DONE) {
		c->have_done = true;
		c->done.msg[sizeof(c->done.msg) - 1] = '\0';
		c->done.syscall_name[sizeof(c->done.syscall_name) - 1] = '\0';
	} else if (n >= 0 || (errno != EINTR && errno != EAGAIN)) {
		c->zygote_gone = true; /* end of file: the zygote died */
	}
}

/* Runs until the zygote reported (or vanished, or the guard expired). */
static bool result_complete(const struct collector *c)
{
	struct fbx_frame_header h;
	if (c->result_len < sizeof(h))
		return false;
	memcpy(&h, c->result, sizeof(h));
	/* Raw output (exec runtime) is complete only at end of file. */
	return h.magic == FBX_FRAME_MAGIC && c->result_len - sizeof(h) >= h.len;
}

static int collect(struct collector *c, int64_t guard_ms)
{
	while (!c->have_done && !c->zygote_gone) {
		/* Once the answer is complete only the report is awaited: the
		 * pipes are drained after it, which spares a wake-up when the
		 * child's exit closes them. A module that keeps printing
		 * after its answer blocks until the zygote ends it. */
		bool answered = result_complete(c);
		struct pollfd p[3] = {
		    {.fd = c->status_fd, .events = POLLIN},
		    {.fd = answered ? -1 : c->result_fd, .events = POLLIN},
		    {.fd = answered ? -1 : c->log_fd, .events = POLLIN},
		};
		int64_t left = guard_ms - now_ms_mono();
		if (left <= 0)
			return -ETIMEDOUT;
		int n = poll(p, 3, (int)(left > 60000 ? 60000 : left));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		if (p[1].revents && read_result(c) == READ_END)
			close_fd(&c->result_fd);
		if (p[2].revents && read_logs(c) == READ_END)
			close_fd(&c->log_fd);
		if (p[0].revents)
			read_done(c);
	}
	/* Every writer is dead now: take what is left in the pipes. */
	while (c->result_fd >= 0 && read_result(c) == READ_DATA)
		;
	while (c->log_fd >= 0 && read_logs(c) == READ_DATA)
		;
	return 0;
}

static int resolve_module(struct fbx_sandbox *sb, const struct fbx_request *rq,
			  struct fbx_job *job, const char **why)
{
	if (rq->has_module && !sb->cfg.allow_request_modules) {
		*why = "this forkbox does not accept modules in requests "
		       "(start it with --allow-request-modules)";
		return -EPERM;
	}
	if (rq->has_module) {
		if (rq->module_runtime &&
		    strcmp(rq->module_runtime, sb->runtime) != 0) {
			*why = "the request's module.runtime differs from the "
			       "runtime this forkbox was started with";
			return -EINVAL;
		}
		job->module_path = rq->module_path;
		job->module_name = rq->module_name;
		job->module_source = rq->module_source;
		job->module_source_len = rq->module_source_len;
		job->entry = rq->module_entry ? rq->module_entry : sb->entry;
		if (!job->module_path && !job->module_source) {
			*why = "module needs a \"path\" or a \"source\"";
			return -EINVAL;
		}
		return 0;
	}
	if (!sb->module_path) {
		*why = "no module: the request has none and forkbox was "
		       "started without --module";
		return -EINVAL;
	}
	job->module_path = sb->module_path;
	job->entry = sb->entry;
	return 0;
}

int fbx_invoke(fbx_sandbox *sb, const char *request, size_t request_len,
	       char **response, struct fbx_error *err)
{
	return fbx_invoke_ctx(sb, request, request_len, NULL, response, err);
}

int fbx_invoke_ctx(fbx_sandbox *sb, const char *request, size_t request_len,
		   const struct fbx_invoke_context *ctx, char **response,
		   struct fbx_error *err)
{
	struct fbx_request rq;
	struct fbx_error perr = {0};
	*response = NULL;
	memset(&rq, 0, sizeof(rq));
	if (fbx_request_parse(request, request_len, sb->cfg.max_request_bytes,
			      &rq, &perr) < 0) {
		*response = fbx_error_response(
		    rq.id_json, "Forkbox.InvalidRequest", perr.msg);
		fbx_request_free(&rq);
		return *response ? 0
				 : fbx_error_set(err, ENOMEM, "out of memory");
	}

	struct fbx_job job = {0};
	const char *why = NULL;
	char *abs_path = NULL;
	if (resolve_module(sb, &rq, &job, &why) < 0) {
		*response = fbx_error_response(rq.id_json,
					       "Forkbox.InvalidRequest", why);
		fbx_request_free(&rq);
		return *response ? 0
				 : fbx_error_set(err, ENOMEM, "out of memory");
	}
	/* The child's cwd is its private dir: relative paths are the
	 * caller's, resolved here. */
	if (job.module_path && job.module_path[0] != '/') {
		char cwd[4096];
		if (getcwd(cwd, sizeof(cwd)) &&
		    asprintf(&abs_path, "%s/%s", cwd, job.module_path) > 0)
			job.module_path = abs_path;
	}

	char request_id[37];
	if (ctx && ctx->request_id) {
		snprintf(request_id, sizeof(request_id), "%s", ctx->request_id);
	} else {
		uuid_t u;
		uuid_generate_random(u);
		uuid_unparse_lower(u, request_id);
	}
	uint32_t timeout_ms = sb->cfg.timeout_ms;
	if (rq.timeout_ms > 0 && (uint64_t)rq.timeout_ms < timeout_ms)
		timeout_ms = (uint32_t)rq.timeout_ms;
	int64_t now = now_ms_realtime();
	int64_t deadline = now + timeout_ms;
	if (ctx && ctx->deadline_ms > 0 && ctx->deadline_ms < deadline) {
		deadline = ctx->deadline_ms;
		timeout_ms = deadline > now ? (uint32_t)(deadline - now) : 1;
	}
	job.request_id = request_id;
	job.function_name = sb->function_name;
	job.runtime = sb->runtime;
	job.deadline_ms = deadline;
	job.memory_mb = sb->cfg.memory_mb;
	job.event = rq.event_json;
	job.event_len = rq.event_len;
	if (ctx) {
		job.invoked_function_arn = (char *)ctx->invoked_function_arn;
		job.trace_id = (char *)ctx->trace_id;
		job.client_context = (char *)ctx->client_context;
		job.cognito_identity = (char *)ctx->cognito_identity;
	}

	struct collector c = {
	    .result_fd = -1,
	    .log_fd = -1,
	    .status_fd = -1,
	    .max_result = sb->cfg.max_result_bytes,
	    .max_log = sb->cfg.max_log_bytes ? sb->cfg.max_log_bytes : 1};
	struct fbx_outcome o = {.id_json = rq.id_json,
				.request_id = request_id,
				.max_result_bytes = sb->cfg.max_result_bytes,
				.timeout_ms = timeout_ms};
	int rp[2] = {-1, -1}, lp[2] = {-1, -1}, sp[2] = {-1, -1};
	c.sb = sb;
	int job_fd = fbx_job_to_memfd(&job, err);
	int rc = job_fd < 0 ? job_fd : 0;
	c.logs = malloc(c.max_log);
	if (!rc && !c.logs)
		rc = fbx_error_set(err, ENOMEM, "out of memory");
	if (!rc && (pipe2(rp, O_CLOEXEC) < 0 || pipe2(lp, O_CLOEXEC) < 0 ||
		    pipe2(sp, O_CLOEXEC) < 0))
		rc = fbx_error_errno(err, errno,
				     "creating the invocation's channels");
	bool restarted = false;
	uint64_t gen = 0;
	if (!rc) {
		int fds[4] = {sp[1], job_fd, rp[1], lp[1]};
		rc = fbx_host_spawn(sb, timeout_ms, fds, &restarted, &gen,
				    &c.token, err);
		c.gen = gen;
	}
	close_fd(&sp[1]);
	close_fd(&rp[1]);
	close_fd(&lp[1]);
	if (job_fd >= 0)
		close(job_fd);
	c.result_fd = rp[0];
	c.log_fd = lp[0];
	c.status_fd = sp[0];
	if (!rc) {
		fcntl(c.result_fd, F_SETFL, O_NONBLOCK);
		fcntl(c.log_fd, F_SETFL, O_NONBLOCK);
		rc = collect(&c, now_ms_mono() + timeout_ms + ZYGOTE_GRACE_MS);
		if (rc == -ETIMEDOUT) {
			fbx_host_zygote_failed(sb, gen, true);
			fbx_error_set(err, ETIMEDOUT,
				      "the zygote did not report within %d ms "
				      "of the deadline; it was replaced",
				      ZYGOTE_GRACE_MS);
		} else if (rc < 0) {
			fbx_error_errno(err, -rc, "waiting for the invocation");
		} else if (c.zygote_gone) {
			fbx_host_zygote_failed(sb, gen, false);
			rc = fbx_error_set(err, EPIPE,
					   "the zygote died during the "
					   "invocation; it will be restarted");
		}
	}
	o.internal_error = rc < 0 ? err->msg : NULL;
	o.done = c.have_done ? &c.done : NULL;
	o.output_too_large = c.too_large;
	o.zygote_restarted = restarted;
	/* Both change when the zygote restarts, under the handle's lock. */
	pthread_mutex_lock(&sb->lock);
	o.named_denials = sb->layers & FBX_LAYER_SECCOMP_NOTIFY;
	o.after_load = sb->after_load;
	pthread_mutex_unlock(&sb->lock);
	o.learn = sb->cfg.learn;
	struct fbx_frame_header fh = {0};
	if (c.result_len >= sizeof(fh))
		memcpy(&fh, c.result, sizeof(fh));
	if (!c.too_large && fh.magic != FBX_FRAME_MAGIC &&
	    strcmp(sb->runtime, "exec") == 0) {
		/* What the program printed: the result, raw. */
		o.raw = true;
		o.frame = c.result ? c.result : "";
		o.frame_len = c.result_len;
	} else if (c.result_len >= sizeof(struct fbx_frame_header) &&
		   !c.too_large) {
		struct fbx_frame_header h;
		memcpy(&h, c.result, sizeof(h));
		o.frame_kind = h.magic == FBX_FRAME_MAGIC ? h.kind : 0;
		o.frame = c.result + sizeof(h);
		o.frame_len = c.result_len - sizeof(h);
		if (o.frame_len > h.len)
			o.frame_len =
			    h.len; /* bytes after the frame are ignored */
		o.frame_truncated = o.frame_len < h.len;
	}
	char *logs = NULL;
	char note[96];
	int note_len =
	    snprintf(note, sizeof(note),
		     "[forkbox: %llu earlier bytes of output dropped]\n",
		     (unsigned long long)c.logs_dropped);
	if (c.logs_dropped && (logs = malloc((size_t)note_len + c.logs_len))) {
		memcpy(logs, note, (size_t)note_len);
		memcpy(logs + note_len, c.logs, c.logs_len);
		o.logs = logs;
		o.logs_len = (size_t)note_len + c.logs_len;
	} else {
		o.logs = c.logs;
		o.logs_len = c.logs ? c.logs_len : 0;
	}
	int out_rc = fbx_outcome_respond(&o, response, err);
	if (rc == 0)
		rc = out_rc;
	close_fd(&c.result_fd);
	close_fd(&c.log_fd);
	close_fd(&c.status_fd);
	free(logs);
	free(c.logs);
	free(c.result);
	free(abs_path);
	fbx_request_free(&rq);
	return rc;
}
