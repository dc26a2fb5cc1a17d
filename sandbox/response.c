/* The invocation response: building the JSON text; see response.h.
 *
 * Written by hand into a growable buffer rather than printed by cJSON: the
 * module's result and the request's id go in as their exact text (a cJSON
 * tree would round 12345678901234567890), and logs are arbitrary bytes that
 * must come out as valid UTF-8. */
#include "response.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forkbox.h"
#include "json_scan.h"

/* A growable string; after a failed allocation every put is a no-op and
 * buf_finish returns NULL. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
	bool failed;
};

static bool buf_reserve(struct buf *b, size_t extra)
{
	if (b->failed)
		return false;
	if (extra > SIZE_MAX / 2 - b->len)
		goto fail;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		goto fail;
	b->p = p;
	b->cap = cap;
	return true;
fail:
	b->failed = true;
	return false;
}

static void put(struct buf *b, const char *s, size_t n)
{
	if (!n || !buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void put_str(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_fmt(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put_fmt(struct buf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = true; /* only short numbers are formatted */
		return;
	}
	put(b, tmp, (size_t)n);
}

static char *buf_finish(struct buf *b)
{
	if (!b->failed && !b->p)
		buf_reserve(b, 0);
	if (b->failed) {
		free(b->p);
		return NULL;
	}
	b->p[b->len] = '\0';
	return b->p;
}

/* s[0..n) as a JSON string: quotes, backslashes and control characters
 * escaped (NUL as \u0000), each ill-formed UTF-8 sequence replaced by
 * U+FFFD. Runs of plain bytes are copied at once. */
static void put_json_string(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	put(b, "\"", 1);
	while (i < n) {
		unsigned char c = u[i];
		size_t k = 1;
		const char *esc = NULL;
		char tmp[8];

		if (c >= 0x80) {
			size_t bad;
			k = fbx_utf8_seq(u + i, n - i, &bad);
			if (!k) {
				esc = "\xEF\xBF\xBD";
				k = bad;
			}
		} else if (c == '"') {
			esc = "\\\"";
		} else if (c == '\\') {
			esc = "\\\\";
		} else if (c == '\n') {
			esc = "\\n";
		} else if (c == '\r') {
			esc = "\\r";
		} else if (c == '\t') {
			esc = "\\t";
		} else if (c < 0x20 || c == 0x7F) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			esc = tmp;
		}
		if (!esc) {
			i += k;
			continue;
		}
		put(b, s + run, i - run);
		put_str(b, esc);
		i += k;
		run = i;
	}
	put(b, s + run, n - run);
	put(b, "\"", 1);
}

static void put_cstring(struct buf *b, const char *s)
{
	put_json_string(b, s ? s : "", s ? strlen(s) : 0);
}

/* A raw JSON piece, or fallback when it is missing or invalid. LF and CR,
 * only whitespace in valid JSON, become spaces: the output is one line. */
static void put_raw(struct buf *b, const char *s, size_t n,
		    const char *fallback, bool want_array)
{
	if (!s || !n || !fbx_json_is_valid(s, n) ||
	    (want_array && s[fbx_json_skip_ws(s, n, 0)] != '[')) {
		put_str(b, fallback);
		return;
	}
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\r') {
			put(b, s + run, i - run);
			put(b, " ", 1);
			run = i + 1;
		}
	}
	put(b, s + run, n - run);
}

static double finite_or_zero(double v)
{
	return isfinite(v) ? v : 0.0;
}

static void put_report(struct buf *b, const struct fbx_report *r)
{
	char sigbuf[32];

	put_fmt(b, ",\"report\":{\"duration_ms\":%.3f,\"max_rss_kb\":%ld,",
		finite_or_zero(r->duration_ms), r->max_rss_kb);
	put_fmt(b, "\"cpu_ms\":%.3f,\"exit\":", finite_or_zero(r->cpu_ms));
	if (r->exited) {
		put_fmt(b, "{\"code\":%d}", r->exit_code);
	} else if (r->exit_signal > 0) {
		put_str(b, "{\"signal\":");
		put_cstring(
		    b, fbx_signal_name(r->exit_signal, sigbuf, sizeof(sigbuf)));
		put_str(b, "}");
	} else {
		put_str(b, "null");
	}
	if (r->zygote_restarted)
		put_str(b, ",\"zygote_restarted\":true");
	if (r->orphans_killed)
		put_fmt(b, ",\"orphans_killed\":%u", r->orphans_killed);
	if (r->syscalls) {
		put_str(b, ",\"syscalls\":[");
		for (size_t i = 0; i < r->n_syscalls; i++) {
			if (i)
				put_str(b, ",");
			put_cstring(b, r->syscalls[i]);
		}
		put_str(b, "]");
	}
	put_str(b, "}");
}

char *fbx_response_build(const struct fbx_response *resp)
{
	struct buf b = {0};

	if (!resp)
		return NULL;
	put_str(&b, "{\"id\":");
	put_raw(&b, resp->id_json, resp->id_json ? strlen(resp->id_json) : 0,
		"null", false);
	if (resp->request_id) {
		put_str(&b, ",\"request_id\":");
		put_cstring(&b, resp->request_id);
	}
	if (!resp->error_type) {
		put_str(&b, ",\"status\":\"ok\",\"result\":");
		put_raw(&b, resp->result_json, resp->result_len, "null", false);
	} else {
		put_str(&b, ",\"status\":\"error\",\"error\":{\"errorType\":");
		put_cstring(&b, resp->error_type);
		put_str(&b, ",\"errorMessage\":");
		put_cstring(&b, resp->error_message);
		put_str(&b, ",\"stackTrace\":");
		put_raw(&b, resp->stack_trace_json,
			resp->stack_trace_json ? strlen(resp->stack_trace_json)
					       : 0,
			"[]", true);
		if (resp->syscall) {
			put_str(&b, ",\"syscall\":");
			put_cstring(&b, resp->syscall);
		}
		put_str(&b, "}");
	}
	put_str(&b, ",\"logs\":");
	put_json_string(&b, resp->logs ? resp->logs : "",
			resp->logs ? resp->logs_len : 0);
	if (resp->report)
		put_report(&b, resp->report);
	put_str(&b, "}");
	return buf_finish(&b);
}

char *fbx_error_response(const char *id_json, const char *error_type,
			 const char *message)
{
	struct fbx_response resp = {
	    .id_json = id_json,
	    .error_type = error_type ? error_type : "Forkbox.InternalError",
	    .error_message = message,
	    .logs = "",
	};
	return fbx_response_build(&resp);
}

bool fbx_json_is_valid(const char *text, size_t len)
{
	if (!text || memchr(text, '\0', len))
		return false;
	return fbx_utf8_valid(text, len, NULL) &&
	       fbx_json_validate(text, len, NULL);
}

static const char *const signal_names[] = {
    [SIGHUP] = "SIGHUP",       [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT",
    [SIGILL] = "SIGILL",       [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
    [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",   [SIGKILL] = "SIGKILL",
    [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE",     [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
#ifdef SIGSTKFLT
    [SIGSTKFLT] = "SIGSTKFLT",
#endif
    [SIGCHLD] = "SIGCHLD",     [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP",
    [SIGTSTP] = "SIGTSTP",     [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
    [SIGURG] = "SIGURG",       [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
    [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
    [SIGIO] = "SIGIO",
#ifdef SIGPWR
    [SIGPWR] = "SIGPWR",
#endif
    [SIGSYS] = "SIGSYS",
};

const char *fbx_signal_name(int sig, char *buf, size_t size)
{
	size_t n = sizeof(signal_names) / sizeof(signal_names[0]);
	if (sig > 0 && (size_t)sig < n && signal_names[sig])
		return signal_names[sig];
	if (!buf || !size)
		return "unknown signal";
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		if (sig == SIGRTMIN)
			snprintf(buf, size, "SIGRTMIN");
		else
			snprintf(buf, size, "SIGRTMIN+%d", sig - SIGRTMIN);
	} else {
		snprintf(buf, size, "signal %d", sig);
	}
	return buf;
}
