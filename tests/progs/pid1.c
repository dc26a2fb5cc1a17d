/* A small init for the test namespaces: runs the command as its only
 * child, reaps every orphan, passes SIGTERM/SIGINT on, and when the
 * command ends kills whatever is left in the namespace. Exits with the
 * command's status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pid1 COMMAND [ARGS...]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("pid1: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror("pid1: exec");
		_exit(127);
	}
	child_pid = pid;
	signal(SIGTERM, forward);
	signal(SIGINT, forward);
	int code = 1;
	for (;;) {
		int status;
		pid_t r = wait(&status);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: nothing left */
		}
		if (r == pid) {
			code = WIFEXITED(status) ? WEXITSTATUS(status)
						 : 128 + WTERMSIG(status);
			/* Anything the tests left behind dies with the
			 * namespace. */
			kill(-1, SIGKILL);
		}
	}
	return code;
}
