/* Hostile: tries to outlive its report by way of its own end.
 *
 * forkbox's runtime ends an answered child with kill(0, SIGSTOP), and the
 * zygote reports from the stopped process. A stop is not an end: this
 * module writes its answer itself, arranges for a SIGCONT to reach it once
 * the host drains its log pipe (which the host does after the report:
 * O_ASYNC with F_SETSIG on the pipe's write end), stops itself, and on
 * SIGCONT forks a child named after the event's "arg" that stays. Nothing
 * of it may be alive once the answer is out. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../../sandbox/frame.h"
#include "event_arg.h"
#include "forkbox_module.h"

FORKBOX_MODULE();

static char name[16] = "fbx-escapee";
static volatile sig_atomic_t armed;

static void on_cont(int sig)
{
	(void)sig;
	if (!armed)
		return;
	armed = 0;
	if (fork() == 0) {
		(void)setsid();
		(void)prctl(PR_SET_NAME, name);
		for (;;)
			pause();
	}
}

char *handler(const char *event, size_t len, fbx_context *ctx)
{
	(void)len;
	(void)ctx;
	event_str(event, "arg", name, sizeof(name));
	struct sigaction sa = {.sa_handler = on_cont};
	if (sigaction(SIGCONT, &sa, NULL) < 0)
		return NULL;
	static const char answer[] = "{\"stopping\": 1}";
	struct fbx_frame_header h = {FBX_FRAME_MAGIC, FBX_FRAME_RESULT,
				     sizeof(answer) - 1};
	if (write(3, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    write(3, answer, sizeof(answer) - 1) != (ssize_t)sizeof(answer) - 1)
		return NULL;
	/* The host has the answer and waits for the report: what is written
	 * to the log now stays in the pipe until after it. */
	usleep(50000);
	if (write(1, "x", 1) != 1 || fcntl(1, F_SETOWN, getpid()) < 0 ||
	    fcntl(1, F_SETSIG, SIGCONT) < 0 ||
	    fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_ASYNC) < 0)
		return NULL;
	armed = 1;
	(void)kill(0, SIGSTOP);
	for (;;)
		pause();
}
