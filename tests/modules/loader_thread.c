/* Hostile: a thread started while the module loads (a constructor), that
 * acts only once the entry runs. The policy's after-load stage must cover
 * it as it covers the entry: under policies/strict.policy, which lets the
 * entry read, write and exit only, its open of a file must fail the
 * invocation, not feed the entry. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "forkbox_module.h"

FORKBOX_MODULE();

static volatile int go, done;
static volatile ssize_t got = -1;

static void *opener(void *arg)
{
	(void)arg;
	struct timespec pause = {0, 1000000};
	while (!go)
		nanosleep(&pause, NULL);
	char buf[64];
	int fd = open("/etc/passwd", O_RDONLY);
	got = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	done = 1;
	return NULL;
}

__attribute__((constructor)) static void start_at_load(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, opener, NULL) == 0)
		pthread_detach(t);
}

char *handler(const char *event, size_t len, fbx_context *ctx)
{
	(void)event;
	(void)len;
	(void)ctx;
	go = 1;
	while (!done)
		; /* no futex wait: the stage may refuse it */
	static char out[64];
	snprintf(out, sizeof(out), "{\"read_by_loader_thread\": %zd}", got);
	char *r = malloc(sizeof(out)); /* from the heap already there */
	if (r)
		snprintf(r, sizeof(out), "%s", out);
	return r;
}
