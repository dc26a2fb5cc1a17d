/* forkboxd lambda's settings: Lambda's environment (_HANDLER,
 * LAMBDA_TASK_ROOT, AWS_LAMBDA_*), forkbox's own FORKBOX_* variables, an
 * optional forkbox.conf in the task root, and the command line. */
#ifndef FORKBOXD_LAMBDA_CONFIG_H
#define FORKBOXD_LAMBDA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

struct fbxd_lambda_config {
	struct fbxd_options opts; /* opts.jobs = pollers */
	/* The payload is the event, not SPEC's request envelope (inline
	 * modules off). */
	bool wrap_event;
	/* Used when /next gives no usable deadline; a usable one governs. */
	unsigned fallback_timeout_ms;
	bool opts_parsed;
	/* the argv the settings were turned into; opts points into it */
	char **argv;
	size_t argc, cap;
};

/* Builds the configuration from, weakest first: defaults, Lambda's
 * AWS_LAMBDA_* variables, forkbox.conf, FORKBOX_* variables, _HANDLER and
 * the command line (argv[0] is the command's name). Returns 0; 1 when
 * --help was shown; -1 with *error_type (a Lambda "Runtime.*" name) and
 * why filled. */
int fbxd_lambda_config_load(struct fbxd_lambda_config *lc, int argc,
			    char **argv, const char **error_type, char *why,
			    size_t why_size);

void fbxd_lambda_config_free(struct fbxd_lambda_config *lc);

#endif
