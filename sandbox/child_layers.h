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

/* Moves the setup socket to FBX_CHILD_FD_SETUP, /dev/null onto 0-3 until
 * the job's pipes arrive, and closes everything else. */
int fbx_layer_fds_arrange(int setup_fd);

/* Keeps the inherited (already allow-listed) environment and adds TMPDIR,
 * HOME, PWD and FORKBOX_TMP_DIR, all c->tmp_dir: a spare does this ahead,
 * its dir's final name being known when it is forked. */
int fbx_layer_env_dir(const struct fbx_child *c);

/* The invocation's own: FORKBOX_REQUEST_ID, FORKBOX_DEADLINE_MS and
 * _X_AMZN_TRACE_ID. */
int fbx_layer_env_job(const struct fbx_child *c);

/* Address space, CPU time from the timeout, open files, file size, no core
 * dumps, processes. */
int fbx_layer_rlimits_apply(const struct fbx_msg_init *cfg,
			    uint32_t timeout_ms);

/* Lowers the CPU limit to one request's timeout (lowering needs no
 * privilege, so this runs after the uid drop). */
int fbx_layer_cpu_limit(uint32_t timeout_ms);

/* Supplementary groups cleared, then gid and uid (real, effective, saved):
 * with them go all capabilities. Verified afterwards. */
int fbx_layer_drop_uid(uid_t uid, gid_t gid);

/* The Landlock ABI this kernel gives, 0 when none (child_landlock.c). */
int fbx_landlock_abi(void);

/* Writes only beneath the cwd (the private dir) and a few devices, reads
 * anywhere; from ABI 6 on, signals and abstract unix sockets only within
 * the child's own process tree. Sets no_new_privs. */
int fbx_layer_landlock(int abi);

#endif
