/* The benchmark's own Runtime API server and the raw-socket client: see
 * lambda_bench.c for how they are used. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lambda_bench_server.h"

double lb_cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double lb_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

long long lb_epoch_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

bool lb_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

void lb_fail(struct phase *ph, const char *fmt, ...)
{
	if (ph->failure[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ph->failure, sizeof(ph->failure), fmt, ap);
	va_end(ap);
}

void lb_conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void reply(struct conn *c, const char *text)
{
	if (!lb_write_all(c->fd, text, strlen(text)))
		lb_conn_close(c);
}

static void handle(struct phase *ph, struct conn *c, const char *method,
		   const char *path, const char *body, size_t body_len)
{
	char out[1024];
	if (strcmp(method, "GET") == 0 &&
	    strcmp(path, PREFIX "/runtime/invocation/next") == 0) {
		if (ph->handed >= ph->total)
			return; /* held: the runtime waits, as when idle */
		ph->t_next[ph->handed] = lb_now_us();
		/* The server's CPU over exactly the measured invocations:
		 * from the /next that starts the first to the one after the
		 * last (total - 1). */
		if (ph->handed == WARMUP)
			ph->cpu_start = lb_cpu_us();
		else if (ph->handed == ph->total - 1)
			ph->cpu_end = lb_cpu_us();
		snprintf(out, sizeof(out),
			 "HTTP/1.1 200 OK\r\n"
			 "Content-Type: application/json\r\n"
			 "Lambda-Runtime-Aws-Request-Id: bench-%08u\r\n"
			 "Lambda-Runtime-Deadline-Ms: %lld\r\n"
			 "Lambda-Runtime-Invoked-Function-Arn: "
			 "arn:aws:lambda:us-east-1:000000000000:function:"
			 "bench\r\n"
			 "Content-Length: 2\r\n\r\n{}",
			 ph->handed, lb_epoch_ms() + 60000);
		ph->handed++;
		reply(c, out);
		return;
	}
	static const char accepted[] = "HTTP/1.1 202 Accepted\r\n"
				       "Content-Type: application/json\r\n"
				       "Content-Length: 15\r\n\r\n"
				       "{\"status\":\"OK\"}";
	size_t plen = strlen(path), slen = strlen("/response");
	if (strcmp(method, "POST") == 0 && plen > slen &&
	    strncmp(path, PREFIX "/runtime/invocation/",
		    strlen(PREFIX "/runtime/invocation/")) == 0 &&
	    strcmp(path + plen - slen, "/response") == 0) {
		ph->answered++;
		reply(c, accepted);
		return;
	}
	if (strcmp(method, "POST") == 0) /* /error, /init/error */
		lb_fail(ph, "the runtime posted %s: %.*s", path,
			(int)(body_len > 400 ? 400 : body_len), body);
	else
		lb_fail(ph, "unexpected request %s %s", method, path);
	reply(c, strcmp(method, "POST") == 0
		     ? accepted
		     : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

/* Handles every complete request in c->buf. */
static void parse(struct phase *ph, struct conn *c)
{
	for (;;) {
		c->buf[c->len] = '\0';
		char *end = strstr(c->buf, "\r\n\r\n");
		if (!end)
			return;
		size_t head = (size_t)(end - c->buf) + 4, body_len = 0;
		for (char *h = strstr(c->buf, "\r\n"); h && h < end;
		     h = strstr(h + 2, "\r\n"))
			if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
				body_len = strtoul(h + 17, NULL, 10);
		if (head + body_len >= BUF_SIZE) {
			lb_fail(ph, "a request over %d bytes", BUF_SIZE);
			lb_conn_close(c);
			return;
		}
		if (c->len < head + body_len)
			return;
		char method[8] = "", path[512] = "";
		if (sscanf(c->buf, "%7s %511s", method, path) != 2) {
			lb_fail(ph, "unparsable request line");
			lb_conn_close(c);
			return;
		}
		handle(ph, c, method, path, c->buf + head, body_len);
		if (c->fd < 0)
			return;
		memmove(c->buf, c->buf + head + body_len,
			c->len - head - body_len);
		c->len -= head + body_len;
	}
}

void lb_serve_once(struct lb_server *srv, struct phase *ph, int timeout_ms)
{
	struct pollfd p[MAX_CONNS + 1];
	int idx[MAX_CONNS + 1], n = 0;
	p[n] = (struct pollfd){.fd = srv->listen_fd, .events = POLLIN};
	idx[n++] = -1;
	for (int i = 0; i < MAX_CONNS; i++)
		if (srv->conns[i].fd >= 0) {
			p[n] = (struct pollfd){.fd = srv->conns[i].fd,
					       .events = POLLIN};
			idx[n++] = i;
		}
	if (poll(p, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (int k = 0; k < n; k++) {
		if (!p[k].revents)
			continue;
		if (idx[k] < 0) {
			int fd =
			    accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			int i = 0;
			while (i < MAX_CONNS && srv->conns[i].fd >= 0)
				i++;
			if (i == MAX_CONNS) {
				close(fd);
				continue;
			}
			srv->conns[i].fd = fd;
			srv->conns[i].len = 0;
			continue;
		}
		struct conn *c = &srv->conns[idx[k]];
		ssize_t r = read(c->fd, c->buf + c->len, BUF_SIZE - 1 - c->len);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			lb_conn_close(c);
			continue;
		}
		c->len += (size_t)r;
		parse(ph, c);
	}
}

/* --- the raw client ---------------------------------------------------- */

/* Reads one response; returns the request id header's value in id. */
static bool read_response(int fd, char *buf, size_t size, size_t *have,
			  char *id, size_t id_size)
{
	for (;;) {
		buf[*have] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end) {
			size_t head = (size_t)(end - buf) + 4, body = 0;
			char *h = strcasestr(buf, "\r\nContent-Length:");
			if (h && h < end)
				body = strtoul(h + 17, NULL, 10);
			if (*have >= head + body) {
				h = strcasestr(buf, "\r\nLambda-Runtime-Aws-"
						    "Request-Id: ");
				if (id && h && h < end) {
					h += strlen("\r\nLambda-Runtime-Aws-"
						    "Request-Id: ");
					size_t l = strcspn(h, "\r");
					if (l >= id_size)
						l = id_size - 1;
					memcpy(id, h, l);
					id[l] = '\0';
				}
				memmove(buf, buf + head + body,
					*have - head - body);
				*have -= head + body;
				return true;
			}
		}
		ssize_t r = read(fd, buf + *have, size - 1 - *have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		*have += (size_t)r;
	}
}

void lb_raw_client(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		_exit(1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	char get[256], post[512], buf[8192], id[128] = "";
	size_t have = 0;
	int glen =
	    snprintf(get, sizeof(get),
		     "GET " PREFIX "/runtime/invocation/next HTTP/1.1\r\n"
		     "Host: 127.0.0.1:%d\r\n\r\n",
		     port);
	for (;;) {
		if (!lb_write_all(fd, get, (size_t)glen) ||
		    !read_response(fd, buf, sizeof(buf), &have, id, sizeof(id)))
			_exit(0);
		int plen =
		    snprintf(post, sizeof(post),
			     "POST " PREFIX "/runtime/invocation/%s/"
			     "response HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			     "Content-Type: application/json\r\n"
			     "Content-Length: 1\r\n\r\n0",
			     id, port);
		if (!lb_write_all(fd, post, (size_t)plen) ||
		    !read_response(fd, buf, sizeof(buf), &have, NULL, 0))
			_exit(0);
	}
}
