/* What happened to an invocation, in the order that decides its answer:
 * the sandbox failing beats everything (an internal error, not the
 * module's fault); then what the supervisor saw (deadline, denied syscall,
 * output too large); then what the module said; then how it died. */
#include <cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "frame.h"
#include "host.h"
#include "policy.h"

static void fill_report(const struct fbx_outcome *o, struct fbx_report *r)
{
	const struct fbx_msg_done *d = o->done;
	memset(r, 0, sizeof(*r));
	r->zygote_restarted = o->zygote_restarted;
	if (!d)
		return;
	r->duration_ms = (double)d->duration_ns / 1e6;
	r->max_rss_kb = d->max_rss_kb;
	r->cpu_ms = (double)d->cpu_us / 1e3;
	r->orphans_killed = d->orphans_killed;
	if (WIFEXITED(d->wait_status)) {
		r->exited = true;
		r->exit_code = WEXITSTATUS(d->wait_status);
	} else if (WIFSIGNALED(d->wait_status)) {
		r->exit_signal = WTERMSIG(d->wait_status);
	}
}

/* A module-reported error frame: {"errorType", "errorMessage", "stackTrace"}.
 */
static char *error_from_frame(const struct fbx_outcome *o,
			      struct fbx_response *resp, cJSON **keep)
{
	cJSON *e = cJSON_ParseWithLength(o->frame, o->frame_len);
	*keep = e;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "errorType");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "errorMessage");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "stackTrace");
	resp->error_type =
	    cJSON_IsString(t) ? t->valuestring : "Runtime.Unknown";
	resp->error_message = cJSON_IsString(m)
				  ? m->valuestring
				  : "the module reported an unreadable error";
	return cJSON_IsArray(st) ? cJSON_PrintUnformatted(st) : NULL;
}

/* Learn mode: the names of the syscalls the child made, in number order. */
static char (*learned_names(const struct fbx_msg_done *d, const char **ptrs,
			    size_t *n))[64]
{
	char(*names)[64] = calloc(512, sizeof(*names));
	*n = 0;
	if (!names)
		return NULL;
	for (int nr = 0; nr < 512; nr++) {
		if (!(d->syscalls[nr / 64] & (1ull << (nr % 64))))
			continue;
		fbx_syscall_name(nr, names[*n], sizeof(names[*n]));
		ptrs[*n] = names[*n];
		(*n)++;
	}
	return names;
}

int fbx_outcome_respond(const struct fbx_outcome *o, char **response,
			struct fbx_error *err)
{
	struct fbx_report report;
	fill_report(o, &report);
	const char *learned[512];
	char(*learned_buf)[64] = NULL;
	if (o->learn && o->done) {
		learned_buf =
		    learned_names(o->done, learned, &report.n_syscalls);
		report.syscalls = learned_buf ? learned : NULL;
	}
	struct fbx_response resp = {
	    .id_json = o->id_json,
	    .request_id = o->request_id,
	    .logs = o->logs,
	    .logs_len = o->logs_len,
	    .report = o->done ? &report : NULL,
	};
	const struct fbx_msg_done *d = o->done;
	char msg[1024];
	char sigbuf[32];
	char *trace = NULL;
	cJSON *parsed = NULL;
	int rc = 0;

	if (o->internal_error || !d) {
		resp.error_type = "Forkbox.InternalError";
		resp.error_message = o->internal_error
					 ? o->internal_error
					 : "no report from the zygote";
		rc = -(err && err->code ? err->code : EIO);
	} else if (d->flags & FBX_DONE_SETUP_FAILED) {
		snprintf(msg, sizeof(msg),
			 "the sandbox could not be set up: %s", d->msg);
		resp.error_type = "Forkbox.InternalError";
		resp.error_message = msg;
		rc = fbx_error_set(
		    err, d->setup_errno > 0 ? d->setup_errno : EIO, "%s", msg);
	} else if (d->flags & FBX_DONE_TIMED_OUT) {
		snprintf(msg, sizeof(msg), "Task timed out after %.2f seconds",
			 (double)o->timeout_ms / 1000.0);
		resp.error_type = "Sandbox.Timedout";
		resp.error_message = msg;
	} else if (d->flags & FBX_DONE_SYSCALL_DENIED) {
		snprintf(msg, sizeof(msg),
			 "the module called %s, which the seccomp policy "
			 "denies; it was killed",
			 d->syscall_name);
		resp.error_type = "Forkbox.SyscallDenied";
		resp.error_message = msg;
		resp.syscall = d->syscall_name;
	} else if (o->output_too_large) {
		snprintf(msg, sizeof(msg),
			 "the result exceeds the limit of %zu bytes",
			 o->max_result_bytes);
		resp.error_type = "Forkbox.OutputTooLarge";
		resp.error_message = msg;
	} else if (o->raw && WIFEXITED(d->wait_status) &&
		   WEXITSTATUS(d->wait_status) == 0) {
		/* exec runtime: stdout is the result; nothing printed is null.
		 */
		size_t n = o->frame_len;
		const char *t = o->frame;
		while (n > 0 &&
		       (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')) {
			t++;
			n--;
		}
		if (n == 0) {
			resp.result_json = "null";
			resp.result_len = 4;
		} else if (fbx_json_is_valid(o->frame, o->frame_len)) {
			resp.result_json = o->frame;
			resp.result_len = o->frame_len;
		} else {
			resp.error_type = "Runtime.MarshalError";
			resp.error_message = "the program's stdout is not one "
					     "valid JSON value (UTF-8)";
		}
	} else if (o->frame && !o->frame_truncated &&
		   o->frame_kind == FBX_FRAME_RESULT) {
		if (fbx_json_is_valid(o->frame, o->frame_len)) {
			resp.result_json = o->frame;
			resp.result_len = o->frame_len;
		} else {
			resp.error_type = "Runtime.MarshalError";
			resp.error_message =
			    "the handler's result is not valid JSON (UTF-8)";
		}
	} else if (o->frame && !o->frame_truncated &&
		   o->frame_kind == FBX_FRAME_ERROR) {
		trace = error_from_frame(o, &resp, &parsed);
		resp.stack_trace_json = trace;
	} else if (WIFSIGNALED(d->wait_status)) {
		int sig = WTERMSIG(d->wait_status);
		const char *signame =
		    fbx_signal_name(sig, sigbuf, sizeof(sigbuf));
		if (sig == SIGSYS && o->named_denials) {
			/* With user notification every kill the policy
			 * decides is named; a bare SIGSYS is the architecture
			 * check (it kills before the policy is consulted) or a
			 * "trap" rule the module did not handle. */
			resp.error_type = "Forkbox.SyscallDenied";
			snprintf(
			    msg, sizeof(msg),
			    "the module died of SIGSYS: %sa syscall through a "
			    "foreign ABI (x32, or i386 via int 0x80), which "
			    "every policy kills, or one the policy traps",
			    o->after_load ? "a syscall the policy's after-load "
					    "stage kills, "
					  : "");
		} else if (sig == SIGSYS) {
			resp.error_type = "Forkbox.SyscallDenied";
			snprintf(
			    msg, sizeof(msg),
			    "the module called a syscall the seccomp policy "
			    "denies (%s); which one is not known without "
			    "seccomp user notification",
			    signame);
		} else {
			resp.error_type = "Runtime.ExitError";
			snprintf(msg, sizeof(msg),
				 "RequestId: %s Error: Runtime exited with "
				 "error: signal: %s%s",
				 o->request_id, signame,
				 sig == SIGXFSZ ? " (file size limit exceeded)"
				 : sig == SIGXCPU ? " (CPU time limit exceeded)"
						  : "");
		}
		resp.error_message = msg;
	} else {
		resp.error_type = "Runtime.ExitError";
		snprintf(
		    msg, sizeof(msg),
		    "RequestId: %s Error: Runtime exited with error: exit "
		    "status %d%s",
		    o->request_id, WEXITSTATUS(d->wait_status),
		    o->frame_truncated ? " (after a partial result)"
		    : (d->flags & FBX_DONE_STOPPED)
			? " (it stopped itself, SIGSTOP, without an answer)"
			: " (without a result)");
		resp.error_message = msg;
	}
	*response = fbx_response_build(&resp);
	free(learned_buf);
	free(trace);
	cJSON_Delete(parsed);
	if (!*response)
		return fbx_error_set(err, ENOMEM,
				     "out of memory building a response");
	return rc;
}
