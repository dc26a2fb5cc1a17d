#ifndef FORKBOX_CLIENT_COMMANDS_H
#define FORKBOX_CLIENT_COMMANDS_H

/* Each returns the process exit code. */
int fbxc_run(int argc, char **argv);
int fbxc_policy(int argc, char **argv);
int fbxc_probe(int argc, char **argv);

/* forkbox run's options, shared with forkbox policy learn (run.c). */
#include "forkbox.h"
struct fbxc_run_options {
	struct fbx_config cfg;
	char *request; /* malloc'd request envelope */
};

/* 0 when parsed, 1 after --help, 2 on a usage error (printed), 3 when
 * out of memory. */
int fbxc_run_options(int argc, char **argv, const char *cmd,
		     struct fbxc_run_options *o);

/* One invocation; *response is malloc'd (or NULL). 0 when the module
 * succeeded, 1 when it failed, 3 when the sandbox did. */
int fbxc_run_invoke(struct fbxc_run_options *o, const char *cmd,
		    char **response);

int fbxc_policy_learn(int argc, char **argv);

#endif
