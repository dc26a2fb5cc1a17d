/* runtime "exec": any executable or script, for any language (SPEC). The
 * event is on its stdin, its stdout is the result (raw JSON text, read by
 * the host to end of file), its stderr the logs; the environment carries
 * FORKBOX_REQUEST_ID, FORKBOX_DEADLINE_MS, FORKBOX_TMP_DIR and TMPDIR.
 *
 * The executable is staged into the private dir like any module and
 * exec'd from there, under the policy (which must allow execve: see
 * policies/exec.policy). Until the execve succeeds, a failure is reported
 * as a normal error frame on the result pipe; the host recognises a frame
 * by its magic, and otherwise takes what the program printed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frame.h"
#include "runtime.h"

extern char **environ;

static int exec_stage(struct fbx_child *c)
{
	return fbx_runtime_stage(c, true);
}

/* stdin: a memfd holding exactly the event, read from its start. */
static int event_on_stdin(const struct fbx_job *j)
{
	int fd = memfd_create("forkbox-event", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	const char *p = j->event;
	size_t left = j->event_len;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		p += w;
		left -= (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, STDIN_FILENO) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

static int exec_run(struct fbx_child *c)
{
	const struct fbx_job *j = &c->job;
	char path[PATH_MAX + 256];
	const char *name = fbx_runtime_staged_path(c, path, sizeof(path));
	int rc = event_on_stdin(j);
	if (rc < 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "putting the event on stdin: %s",
			 strerror(-rc));
		fbx_frame_write_error(c->result_fd, "Forkbox.InternalError",
				      msg);
		return 126;
	}
	/* stdout becomes the result pipe; fd 3 stays (close-on-exec) for a
	 * frame should execve fail. */
	if (dup2(c->result_fd, STDOUT_FILENO) < 0 ||
	    fcntl(c->result_fd, F_SETFD, FD_CLOEXEC) < 0)
		return 126;
	if (fbx_runtime_enter_after_load(c) < 0)
		return 126;
	char *argv[] = {(char *)name, NULL};
	execve(path, argv, environ);
	fbx_runtime_import_error(c, "Unable to run module '%s': %s", name,
				 strerror(errno));
	return 0;
}

const struct fbx_runtime_ops fbx_runtime_exec = {
    .name = "exec",
    .zygote_init = NULL,
    .stage = exec_stage,
    .run = exec_run,
};
