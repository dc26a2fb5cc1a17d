/* Command-line options shared by forkboxd's front ends. */
#ifndef FORKBOXD_OPTIONS_H
#define FORKBOXD_OPTIONS_H

#include <stdbool.h>

#include "forkbox.h"

struct fbxd_options {
	struct fbx_config cfg;
	unsigned jobs;		  /* -j: invocations at once */
	unsigned required_layers; /* --require: FBX_LAYER_* bits */
	bool runtime_given;	  /* --runtime was on the command line */
	const char *handler;	  /* --handler file.entry */
	const char
	    *task_root;	  /* where --handler looks; $LAMBDA_TASK_ROOT or cwd */
	char *module_buf; /* owned: module path derived from --handler */
	const char **env_allow; /* owned array, strings point into argv */
	char *env_allow_buf;
};

/* Parses argv (after the subcommand). Returns 0, 1 when --help was shown,
 * or -1 after printing a usage error to stderr. */
int fbxd_options_parse(struct fbxd_options *o, int argc, char **argv,
		       const char *command);

void fbxd_options_free(struct fbxd_options *o);

void fbxd_options_help(const char *command);

#endif
