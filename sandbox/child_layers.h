/* Isolation layers applied inside the child, one function each
 * (child_layers.c). Each returns 0 or -errno; all run after fork() in a
 * single-threaded process. */
#ifndef FORKBOX_CHILD_LAYERS_H
#define FORKBOX_CHILD_LAYERS_H

#include <signal.h>
#include <sys/types.h>

#include "child.h"

/* Default dispositions for the signals in changed (those the zygote set
 * since its exec) and an empty mask. */
int fbx_layer_signals_reset(const sigset_t *changed);

/* Moves the channels to the FBX_CHILD_FD_* numbers, /dev/null on stdin,
 * the log pipe on stdout and stderr, and closes everything else. */
int fbx_layer_fds_arrange(const struct fbx_child_args *a);

/* Keeps the inherited (already allow-listed) environment and adds TMPDIR,
 * HOME, PWD and the invocation's FORKBOX_* / _X_AMZN_TRACE_ID. */
int fbx_layer_env_apply(const struct fbx_child *c);

/* Address space, CPU time from the timeout, open files, file size, no core
 * dumps, processes. */
int fbx_layer_rlimits_apply(const struct fbx_msg_init *cfg, uint32_t timeout_ms);

/* Supplementary groups cleared, then gid and uid (real, effective, saved):
 * with them go all capabilities. Verified afterwards. */
int fbx_layer_drop_uid(uid_t uid, gid_t gid);

#endif
