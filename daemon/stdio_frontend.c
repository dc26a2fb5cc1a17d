/* forkboxd stdio: JSON Lines in, JSON Lines out, in request order.
 *
 * One reader (the calling thread) cuts stdin into lines, -j workers invoke
 * and print: the worker that finishes the oldest unprinted request prints
 * it and every later one already answered, in sequence. No writer thread:
 * a hand-over to one is a wake-up on every answer's path (tens of
 * microseconds on a VM whose CPUs sleep between requests, more when the
 * woken thread queues behind another). A bounded ring of slots keeps
 * memory flat however fast requests arrive: the reader waits when the
 * oldest unanswered request is a ring's length behind. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "frontends.h"

/* Set by SIGTERM/SIGINT: stop reading, answer what was read, exit. The
 * one piece of global state here: a signal handler has nowhere else. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct slot {
	char *line;
	size_t len;
	bool oversized;
	char *response;
	bool done;
};

struct pipeline {
	fbx_sandbox *sb;
	size_t max_line;
	pthread_mutex_t lock;
	pthread_cond_t work, space;
	struct slot *ring;
	size_t ring_size;
	uint64_t next_seq, next_take, next_print;
	bool eof;
	bool out_broken;
	bool printing;	 /* a worker is writing responses out */
	bool no_workers; /* -j 1: the reader answers each request */
};

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static char *answer(struct pipeline *p, struct slot *s)
{
	char *resp = NULL;
	if (s->oversized) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "request line exceeds the limit of %zu bytes",
			 p->max_line);
		return fbx_error_response(NULL, "Forkbox.InvalidRequest", msg);
	}
	struct fbx_error err = {0};
	int rc = fbx_invoke(p->sb, s->line, s->len, &resp, &err);
	if (rc < 0) {
		fbxd_diag("error", "the sandbox failed an invocation: %s",
			  err.msg);
		if (!resp)
			resp = fbx_error_response(NULL, "Forkbox.InternalError",
						  err.msg);
	}
	return resp;
}

/* With the lock held: prints, in order, every answered request from the
 * oldest unprinted one on, unless another worker is at it (it will see
 * ours too: it looks again after each write). */
static void print_answered(struct pipeline *p)
{
	while (!p->printing) {
		struct slot *s = &p->ring[p->next_print % p->ring_size];
		if (!(p->next_print < p->next_seq && s->done))
			return;
		p->printing = true;
		char *resp = s->response;
		pthread_mutex_unlock(&p->lock);
		int rc = -ENOMEM;
		if (resp) {
			size_t n = strlen(resp);
			resp[n] = '\n'; /* replaces the NUL; length known */
			rc = write_all(STDOUT_FILENO, resp, n + 1);
		}
		free(resp);
		pthread_mutex_lock(&p->lock);
		if (rc < 0)
			p->out_broken = true;
		free(s->line);
		memset(s, 0, sizeof(*s));
		p->next_print++;
		p->printing = false;
		pthread_cond_broadcast(&p->space);
	}
}

/* With the lock held and a request waiting: answers the oldest one not
 * taken, then prints what is in order. */
static void answer_next(struct pipeline *p)
{
	struct slot *s = &p->ring[p->next_take++ % p->ring_size];
	pthread_mutex_unlock(&p->lock);
	char *resp = answer(p, s);
	pthread_mutex_lock(&p->lock);
	s->response = resp;
	s->done = true;
	print_answered(p);
}

static void *worker(void *arg)
{
	struct pipeline *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->next_take == p->next_seq && !p->eof)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->next_take == p->next_seq)
			break;
		answer_next(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void enqueue(struct pipeline *p, char *line, size_t len, bool oversized)
{
	pthread_mutex_lock(&p->lock);
	while (p->next_seq - p->next_print >= p->ring_size)
		pthread_cond_wait(&p->space, &p->lock);
	struct slot *s = &p->ring[p->next_seq % p->ring_size];
	s->line = line;
	s->len = len;
	s->oversized = oversized;
	p->next_seq++;
	/* One at a time (-j 1): the reader answers it itself, sparing a
	 * hand-over to a worker on every request's path; the next line
	 * waits in the pipe meanwhile. */
	if (p->no_workers)
		answer_next(p);
	else
		pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

/* Cuts stdin into lines of at most max_line bytes; longer ones are
 * discarded up to their newline and answered with an error. */
static int read_lines(struct pipeline *p)
{
	size_t cap = 65536, len = 0;
	char *line = malloc(cap);
	bool oversized = false;
	char buf[65536];
	if (!line)
		return -ENOMEM;
	for (;;) {
		if (stop_requested)
			break;
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue; /* the signal, if it was ours, is seen above
				   */
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n;) {
			char *nl = memchr(buf + i, '\n', (size_t)(n - i));
			size_t chunk =
			    nl ? (size_t)(nl - (buf + i)) : (size_t)(n - i);
			if (!oversized && len + chunk > p->max_line)
				oversized = true;
			if (!oversized) {
				if (len + chunk + 1 > cap) {
					while (len + chunk + 1 > cap)
						cap *= 2;
					char *grown = realloc(line, cap);
					if (!grown) {
						free(line);
						return -ENOMEM;
					}
					line = grown;
				}
				memcpy(line + len, buf + i, chunk);
				len += chunk;
			}
			i += (ssize_t)chunk;
			if (!nl)
				break;
			i++; /* the newline */
			line[oversized ? 0 : len] = '\0';
			bool blank = !oversized && strspn(line, " \t\r") == len;
			if (!blank) {
				enqueue(p, oversized ? NULL : line,
					oversized ? 0 : len, oversized);
				if (!oversized) {
					cap = 65536;
					line = malloc(cap);
					if (!line)
						return -ENOMEM;
				}
			}
			len = 0;
			oversized = false;
		}
	}
	/* A last line without a newline is still a request. */
	if (oversized || (len > 0 && strspn(line, " \t\r") < len)) {
		line[oversized ? 0 : len] = '\0';
		enqueue(p, oversized ? NULL : line, oversized ? 0 : len,
			oversized);
		if (!oversized)
			line = NULL;
	}
	free(line);
	return 0;
}

int fbxd_run_stdio(fbx_sandbox *sb, const struct fbxd_options *o)
{
	struct pipeline p = {.sb = sb, .max_line = o->cfg.max_request_bytes};
	p.ring_size = (size_t)o->jobs * 4;
	p.ring = calloc(p.ring_size, sizeof(*p.ring));
	if (!p.ring)
		return 1;
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.work, NULL);
	pthread_cond_init(&p.space, NULL);
	/* A reader that went away must not kill us before cleanup. */
	signal(SIGPIPE, SIG_IGN);
	/* SIGTERM/SIGINT interrupt the reader only (no SA_RESTART; blocked
	 * in the other threads, which inherit the mask set here). */
	sigset_t stop_set, old_mask;
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGINT);
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0 ||
	    pthread_sigmask(SIG_BLOCK, &stop_set, &old_mask) != 0) {
		free(p.ring);
		return 1;
	}

	pthread_t *workers = calloc(o->jobs, sizeof(pthread_t));
	if (!workers) {
		free(p.ring);
		return 1;
	}
	unsigned started = 0;
	p.no_workers = o->jobs == 1;
	for (; !p.no_workers && started < o->jobs; started++)
		if (pthread_create(&workers[started], NULL, worker, &p) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	int rc = started || p.no_workers ? read_lines(&p) : -EAGAIN;
	if (stop_requested)
		fbxd_diag("info", "stopping on a signal: requests already read "
				  "are answered first");
	pthread_mutex_lock(&p.lock);
	p.eof = true;
	pthread_cond_broadcast(&p.work);
	pthread_mutex_unlock(&p.lock);
	/* Each worker prints what it answered before it exits: when the last
	 * one is joined, everything read has been printed. */
	for (unsigned i = 0; i < started; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	free(p.ring);
	return rc < 0 || p.out_broken ? 1 : 0;
}
