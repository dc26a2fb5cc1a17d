/* forkbox latency benchmark. Every figure comes from this one run, side by
 * side with its baseline, bare fork()+_exit()+waitpid() of this small
 * process, because absolute times on a shared VM mean little.
 *
 *   bench BUILD_DIR [N]
 *
 * Prints median and p99 per invocation of a no-op native module through
 * the library (back to back, and 1 ms apart as a real caller's requests
 * come, next to a bare fork paced the same way) and through `forkboxd
 * stdio`, the ratios to the baseline, and the throughput of `forkboxd
 * stdio -j 2` with requests pipelined. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forkbox.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct stats {
	double median, p99;
};

static struct stats summarize(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	struct stats s = {v[n / 2], v[(int)((n - 1) * 0.99)]};
	return s;
}

static struct stats bench_fork(int n, useconds_t gap_us)
{
	double *v = calloc((size_t)n, sizeof(double));
	for (int i = 0; i < n; i++) {
		if (gap_us)
			usleep(gap_us);
		double t = now_us();
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		waitpid(pid, NULL, 0);
		v[i] = now_us() - t;
	}
	struct stats s = summarize(v, n);
	free(v);
	return s;
}

/* gap_us: the time between one answer and the next request (0: back to
 * back); real callers leave one, and an idle CPU then has to wake. */
static struct stats bench_library(const char *build, const char *tmp_base,
				  int n, useconds_t gap_us, bool recycle)
{
	char module[4096], zygote[4096];
	snprintf(module, sizeof(module), "%s/tests/modules/noop.so", build);
	snprintf(zygote, sizeof(zygote), "%s/forkbox-zygote", build);
	struct fbx_config cfg;
	fbx_config_init(&cfg);
	cfg.module_path = module;
	cfg.zygote_path = zygote;
	cfg.policy_dir = "policies";
	cfg.tmp_base = tmp_base;
	cfg.recycle_dirs = recycle;
	cfg.log_fd = 2;
	fbx_sandbox *sb;
	struct fbx_error err;
	if (fbx_open(&cfg, &sb, &err) < 0) {
		fprintf(stderr, "bench: fbx_open: %s\n", err.msg);
		exit(1);
	}
	double *v = calloc((size_t)n, sizeof(double));
	const char *req = "{\"event\": {}}";
	for (int i = -20; i < n; i++) { /* 20 warm-up calls */
		char *resp = NULL;
		if (gap_us)
			usleep(gap_us);
		double t = now_us();
		if (fbx_invoke(sb, req, strlen(req), &resp, &err) < 0 ||
		    !strstr(resp, "\"ok\"")) {
			fprintf(stderr, "bench: invoke failed: %s %s\n",
				err.msg, resp ? resp : "");
			exit(1);
		}
		if (i >= 0)
			v[i] = now_us() - t;
		free(resp);
	}
	fbx_close(sb);
	struct stats s = summarize(v, n);
	free(v);
	return s;
}

struct daemon {
	pid_t pid;
	FILE *in, *out;
};

static struct daemon start_daemon(const char *build, const char *jobs,
				  const char *tmp_base, bool recycle)
{
	int to[2], from[2];
	if (pipe(to) < 0 || pipe(from) < 0)
		exit(1);
	struct daemon d;
	d.pid = fork();
	if (d.pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		char exe[4096], module[4096];
		snprintf(exe, sizeof(exe), "%s/forkboxd", build);
		snprintf(module, sizeof(module), "%s/tests/modules/noop.so",
			 build);
		const char *argv[12] = {"forkboxd", "stdio", "--module",
					module,	    "-j",    jobs};
		int k = 6;
		if (tmp_base) {
			argv[k++] = "--tmp-base";
			argv[k++] = tmp_base;
		}
		if (recycle)
			argv[k++] = "--recycle-dirs";
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	d.in = fdopen(to[1], "w");
	d.out = fdopen(from[0], "r");
	return d;
}

static void stop_daemon(struct daemon *d)
{
	fclose(d->in);
	fclose(d->out);
	waitpid(d->pid, NULL, 0);
}

static struct stats bench_stdio(const char *build, const char *tmp_base, int n,
				bool recycle)
{
	struct daemon d = start_daemon(build, "1", tmp_base, recycle);
	double *v = calloc((size_t)n, sizeof(double));
	char line[65536];
	for (int i = -20; i < n; i++) {
		double t = now_us();
		fputs("{\"event\": {}}\n", d.in);
		fflush(d.in);
		if (!fgets(line, sizeof(line), d.out) ||
		    !strstr(line, "\"ok\"")) {
			fprintf(stderr, "bench: bad stdio response: %s\n",
				line);
			exit(1);
		}
		if (i >= 0)
			v[i] = now_us() - t;
	}
	stop_daemon(&d);
	struct stats s = summarize(v, n);
	free(v);
	return s;
}

static double bench_throughput(const char *build, const char *jobs,
			       const char *tmp_base, int n, bool recycle)
{
	struct daemon d = start_daemon(build, jobs, tmp_base, recycle);
	char line[65536];
	/* Warm up, then write all requests from a child while reading here. */
	fputs("{\"event\": {}}\n", d.in);
	fflush(d.in);
	if (!fgets(line, sizeof(line), d.out))
		exit(1);
	double t = now_us();
	pid_t writer = fork();
	if (writer == 0) {
		for (int i = 0; i < n; i++)
			fputs("{\"event\": {}}\n", d.in);
		fflush(d.in);
		_exit(0);
	}
	for (int i = 0; i < n; i++)
		if (!fgets(line, sizeof(line), d.out) ||
		    !strstr(line, "\"ok\"")) {
			fprintf(stderr,
				"bench: bad response in throughput run\n");
			exit(1);
		}
	double elapsed = now_us() - t;
	waitpid(writer, NULL, 0);
	stop_daemon(&d);
	return n / (elapsed / 1e6);
}

int main(int argc, char **argv)
{
	const char *build = argc > 1 ? argv[1] : "build";
	int n = argc > 2 ? atoi(argv[2]) : 1000;
	if (n < 10)
		n = 10;
	signal(SIGPIPE, SIG_IGN);
	/* The default tmp base is under $TMPDIR or /tmp; a tmpfs one is shown
	 * beside it because file creation and removal dominate on a busy
	 * ext4 (the tmp base is a flag away). */
	const char *shm =
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm/forkbox-bench" : NULL;
	struct stats base = bench_fork(n, 0);
	/* --recycle-dirs needs a uid per slot (root); elsewhere its rows
	 * repeat the default's. */
	bool root = geteuid() == 0;
	struct stats lib = bench_library(build, NULL, n, 0, false);
	struct stats lib_rec =
	    root ? bench_library(build, NULL, n, 0, true) : lib;
	struct stats lib_shm =
	    shm ? bench_library(build, shm, n, 0, false) : lib;
	struct stats lib_gap = bench_library(build, NULL, n, 1000, false);
	struct stats fork_gap = bench_fork(n, 1000);
	struct stats io = bench_stdio(build, NULL, n, false);
	struct stats io_rec = root ? bench_stdio(build, NULL, n, true) : io;
	struct stats io_shm = shm ? bench_stdio(build, shm, n, false) : io;
	struct stats base2 =
	    bench_fork(n, 0); /* the machine may have drifted */
	double tput1 = bench_throughput(build, "1", NULL, n * 2, false);
	double tput1_rec =
	    root ? bench_throughput(build, "1", NULL, n * 2, true) : tput1;
	double tput2 = bench_throughput(build, "2", NULL, n * 2, false);
	double tput2_rec =
	    root ? bench_throughput(build, "2", NULL, n * 2, true) : tput2;
	double tput2_shm =
	    shm ? bench_throughput(build, "2", shm, n * 2, false) : tput2;
	double floor_med = (base.median + base2.median) / 2;
	double floor_p99 = (base.p99 + base2.p99) / 2;

	printf("forkbox benchmark: %d invocations each of a no-op native "
	       "module\n\n",
	       n);
	printf("%-46s %10s %10s %8s\n", "path", "median us", "p99 us",
	       "x fork");
	printf("%-46s %10.0f %10.0f %8.2f\n",
	       "bare fork+_exit+waitpid (baseline)", floor_med, floor_p99, 1.0);
	printf("%-46s %10.0f %10.0f %8.2f\n", "library: fbx_invoke", lib.median,
	       lib.p99, lib.median / floor_med);
	if (root)
		printf("%-46s %10.0f %10.0f %8.2f\n", "library, --recycle-dirs",
		       lib_rec.median, lib_rec.p99, lib_rec.median / floor_med);
	if (shm)
		printf("%-46s %10.0f %10.0f %8.2f\n",
		       "library, tmp base on tmpfs", lib_shm.median,
		       lib_shm.p99, lib_shm.median / floor_med);
	printf("%-46s %10.0f %10.0f %8.2f\n", "library, requests 1 ms apart",
	       lib_gap.median, lib_gap.p99, lib_gap.median / floor_med);
	printf("%-46s %10.0f %10.0f %8.2f\n",
	       "  (bare fork, 1 ms apart, for comparison)", fork_gap.median,
	       fork_gap.p99, fork_gap.median / floor_med);
	printf("%-46s %10.0f %10.0f %8.2f\n",
	       "forkboxd stdio, one request at a time", io.median, io.p99,
	       io.median / floor_med);
	if (root)
		printf("%-46s %10.0f %10.0f %8.2f\n",
		       "forkboxd stdio, --recycle-dirs", io_rec.median,
		       io_rec.p99, io_rec.median / floor_med);
	if (shm)
		printf("%-46s %10.0f %10.0f %8.2f\n",
		       "forkboxd stdio, tmp base on tmpfs", io_shm.median,
		       io_shm.p99, io_shm.median / floor_med);
	printf("\nthroughput, requests pipelined into forkboxd stdio "
	       "(per second):\n");
	printf("  -j 1: %.0f", tput1);
	if (root)
		printf("   -j 1, --recycle-dirs: %.0f", tput1_rec);
	printf("\n  -j 2: %.0f", tput2);
	if (root)
		printf("   -j 2, --recycle-dirs: %.0f", tput2_rec);
	if (shm)
		printf("   -j 2, tmpfs tmp base: %.0f", tput2_shm);
	printf("\n");
	return 0;
}
