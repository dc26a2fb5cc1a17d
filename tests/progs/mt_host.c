/* A multithreaded host using libforkbox: THREADS threads x CALLS
 * invocations, either on one shared handle or one handle each. Each thread
 * asks for module value_<k>.so and must get k back. Afterwards the
 * process must hold exactly the fds it had before and the tmp base must be
 * empty.
 *
 *   mt_host MODULE_DIR TMP_BASE shared|each [THREADS CALLS] */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forkbox.h"

static const char *module_dir;
static const char *tmp_base;
static int calls = 100;
static fbx_sandbox *shared;

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

static fbx_sandbox *open_handle(void)
{
	struct fbx_config cfg;
	fbx_config_init(&cfg);
	cfg.allow_request_modules = true;
	cfg.tmp_base = tmp_base;
	cfg.log_fd = 2;
	fbx_sandbox *sb = NULL;
	struct fbx_error err = {0};
	if (fbx_open(&cfg, &sb, &err) < 0) {
		fprintf(stderr, "fbx_open: %s\n", err.msg);
		return NULL;
	}
	return sb;
}

static void *run(void *arg)
{
	long k = (long)arg;
	fbx_sandbox *sb = shared ? shared : open_handle();
	long bad = 0;
	if (!sb)
		return (void *)(long)calls;
	char req[4096], want[64];
	snprintf(req, sizeof(req),
		 "{\"event\": {}, \"module\": {\"path\": \"%s/value_%ld.so\"}}",
		 module_dir, k);
	snprintf(want, sizeof(want), "\"result\":%ld,", k);
	for (int i = 0; i < calls; i++) {
		char *resp = NULL;
		struct fbx_error err = {0};
		int rc = fbx_invoke(sb, req, strlen(req), &resp, &err);
		if (rc < 0 || !resp || !strstr(resp, want)) {
			fprintf(stderr, "thread %ld call %d: rc %d %s: %s\n", k,
				i, rc, err.msg, resp ? resp : "(none)");
			bad++;
		}
		free(resp);
	}
	if (!shared)
		fbx_close(sb);
	return (void *)bad;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: mt_host MODULE_DIR TMP_BASE "
				"shared|each [THREADS CALLS]\n");
		return 2;
	}
	module_dir = argv[1];
	tmp_base = argv[2];
	int threads = argc > 4 ? atoi(argv[4]) : 8;
	calls = argc > 5 ? atoi(argv[5]) : 100;
	if (threads < 1 || threads > 9)
		threads = 8;
	int fds_before = count_entries("/proc/self/fd");
	if (strcmp(argv[3], "shared") == 0 && !(shared = open_handle()))
		return 1;
	pthread_t t[9];
	for (long i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run, (void *)(i + 1));
	long bad = 0;
	for (int i = 0; i < threads; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	fbx_close(shared);
	int fds_after = count_entries("/proc/self/fd");
	int left = count_entries(tmp_base);
	printf("calls=%d bad=%ld fds_before=%d fds_after=%d "
	       "private_dirs_left=%d\n",
	       threads * calls, bad, fds_before, fds_after, left);
	return bad == 0 && fds_before == fds_after && left == 0 ? 0 : 1;
}
