/* One invocation's job, handed from the host to the child through a sealed
 * memfd: what to load, how to call it, and the context. The zygote never
 * reads it. The child maps it read-only and points into the mapping: no
 * parsing, no copy of the event however large, no allocation (every page
 * a child writes costs a copy-on-write fault). */
#ifndef FORKBOX_JOB_H
#define FORKBOX_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct fbx_job {
	char *request_id;
	char *function_name;
	char *invoked_function_arn;
	char *trace_id;
	char *client_context;
	char *cognito_identity;
	int64_t deadline_ms;
	int64_t memory_mb;
	char *runtime;
	char *module_path;   /* absolute; or NULL with module_source */
	char *module_name;   /* file name in the private dir */
	char *module_source; /* inline source, or NULL */
	size_t module_source_len;
	char *entry;
	char *event; /* NUL-terminated JSON text */
	size_t event_len;
	/* Set by fbx_job_from_fd: the strings above point into it. */
	void *map;
	size_t map_len;
};

/* Creates a sealed memfd holding the job; returns the fd or -errno. */
int fbx_job_to_memfd(const struct fbx_job *job, struct fbx_error *err);

/* Maps a job memfd read-only and fills job with pointers into it; the
 * mapping outlives fd. Refuses anything malformed (-EPROTO). */
int fbx_job_from_fd(int fd, struct fbx_job *job, struct fbx_error *err);

/* Unmaps what fbx_job_from_fd mapped. */
void fbx_job_unmap(struct fbx_job *job);

#endif
