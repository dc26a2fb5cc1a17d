/* forkboxd's front ends; each runs until its input ends. */
#ifndef FORKBOXD_FRONTENDS_H
#define FORKBOXD_FRONTENDS_H

#include "forkbox.h"
#include "options.h"

/* JSON Lines on stdin/stdout. Returns the process exit code. */
int fbxd_run_stdio(fbx_sandbox *sb, const struct fbxd_options *o);

#endif
