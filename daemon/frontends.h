/* forkboxd's front ends; each runs until its input ends. */
#ifndef FORKBOXD_FRONTENDS_H
#define FORKBOXD_FRONTENDS_H

#include "forkbox.h"
#include "options.h"

/* JSON Lines on stdin/stdout. Returns the process exit code. */
int fbxd_run_stdio(fbx_sandbox *sb, const struct fbxd_options *o);

/* The Lambda custom runtime: reads its own settings (argv[0] is the
 * command's name), opens the sandbox, serves the Runtime API until
 * SIGTERM or a fatal API answer. Returns the process exit code. */
int fbxd_run_lambda(int argc, char **argv);

/* Logs which isolation layers the handle's children get and, loudly,
 * which ones they do not. */
int fbxd_report_layers(fbx_sandbox *sb, unsigned disabled, unsigned required);
int fbxd_check_concurrency(fbx_sandbox *sb, const char *runtime, unsigned jobs);

#endif
