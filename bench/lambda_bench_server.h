/* lambda_bench's Runtime API server and raw client (lambda_bench_server.c):
 * a poll() loop in the benchmark process that answers GET /next with a
 * fixed event and POST .../response with 202, recording when each /next
 * arrived. */
#ifndef FORKBOX_LAMBDA_BENCH_SERVER_H
#define FORKBOX_LAMBDA_BENCH_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#define WARMUP	  200
#define MAX_CONNS 16
#define BUF_SIZE  65536
#define PREFIX	  "/2018-06-01"

struct conn {
	int fd; /* -1: free */
	size_t len;
	char buf[BUF_SIZE];
};

struct lb_server {
	int listen_fd;
	int port;
	struct conn conns[MAX_CONNS];
};

/* One runtime's run against the server. */
struct phase {
	unsigned total;	   /* /next to answer: WARMUP + n + 1 */
	unsigned handed;   /* /next answered so far */
	unsigned answered; /* /response received so far */
	double *t_next;	   /* arrival of each answered /next */
	double cpu_start;  /* this process's CPU time (the server's) at */
	double cpu_end;	   /* the first and after the last measured one */
	char failure[600]; /* the first thing that went wrong */
};

double lb_cpu_us(void);
double lb_now_us(void);
long long lb_epoch_ms(void);
int lb_cmp_double(const void *a, const void *b);
bool lb_write_all(int fd, const char *p, size_t n);

/* Records the first failure of a phase. */
void lb_fail(struct phase *ph, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lb_conn_close(struct conn *c);
/* One poll() round: accepts, reads and answers. */
void lb_serve_once(struct lb_server *srv, struct phase *ph, int timeout_ms);
/* The floor: GET /next + POST /response over one socket, pre-formatted,
 * forever (exits when the server closes). */
__attribute__((noreturn)) void lb_raw_client(int port);

#endif
