#include "job.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Layout: the magic, then for each field in enum order a u64 length and
 * that many bytes followed by a NUL (so the child can use them as C
 * strings in place), then the two numbers. A NULL string has length
 * UINT64_MAX and no bytes. Host and child come from one build. */
#define JOB_MAGIC     "FBXJOB2\n"
#define JOB_MAGIC_LEN 8
#define JOB_ABSENT    UINT64_MAX

enum job_field {
	F_REQUEST_ID,
	F_FUNCTION_NAME,
	F_ARN,
	F_TRACE_ID,
	F_CLIENT_CONTEXT,
	F_COGNITO,
	F_RUNTIME,
	F_MODULE_PATH,
	F_MODULE_NAME,
	F_SOURCE,
	F_ENTRY,
	F_EVENT,
	F_COUNT
};

static char **field(struct fbx_job *job, enum job_field f)
{
	switch (f) {
	case F_REQUEST_ID:
		return &job->request_id;
	case F_FUNCTION_NAME:
		return &job->function_name;
	case F_ARN:
		return &job->invoked_function_arn;
	case F_TRACE_ID:
		return &job->trace_id;
	case F_CLIENT_CONTEXT:
		return &job->client_context;
	case F_COGNITO:
		return &job->cognito_identity;
	case F_RUNTIME:
		return &job->runtime;
	case F_MODULE_PATH:
		return &job->module_path;
	case F_MODULE_NAME:
		return &job->module_name;
	case F_SOURCE:
		return &job->module_source;
	case F_ENTRY:
		return &job->entry;
	default:
		return &job->event;
	}
}

static size_t field_len(const struct fbx_job *job, enum job_field f,
			const char *s)
{
	if (f == F_SOURCE)
		return job->module_source_len;
	if (f == F_EVENT)
		return job->event_len;
	return strlen(s);
}

int fbx_job_to_memfd(const struct fbx_job *job, struct fbx_error *err)
{
	struct fbx_job copy = *job;
	uint64_t lens[F_COUNT];
	int64_t nums[2] = {job->deadline_ms, job->memory_mb};
	static const char nul = '\0';
	struct iovec iov[3 * F_COUNT + 2];
	int n = 0;
	iov[n++] = (struct iovec){(void *)JOB_MAGIC, JOB_MAGIC_LEN};
	for (int f = 0; f < F_COUNT; f++) {
		const char *s = *field(&copy, (enum job_field)f);
		lens[f] = s ? field_len(job, (enum job_field)f, s) : JOB_ABSENT;
		iov[n++] = (struct iovec){&lens[f], sizeof(lens[f])};
		if (s) {
			iov[n++] = (struct iovec){(void *)s, (size_t)lens[f]};
			iov[n++] = (struct iovec){(void *)&nul, 1};
		}
	}
	iov[n++] = (struct iovec){nums, sizeof(nums)};

	int fd = memfd_create("forkbox-job", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return fbx_error_errno(err, errno, "memfd_create for a job");
	int rc = fbx_writev_all(fd, iov, n);
	/* Sealed so that nothing the host does later can change what the
	 * child maps. */
	if (!rc &&
	    fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		rc = -errno;
	if (rc) {
		close(fd);
		return fbx_error_errno(err, -rc, "writing a job memfd");
	}
	return fd;
}

int fbx_job_from_fd(int fd, struct fbx_job *job, struct fbx_error *err)
{
	memset(job, 0, sizeof(*job));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fbx_error_errno(err, errno, "reading the job");
	size_t size = (size_t)st.st_size;
	if (size < JOB_MAGIC_LEN)
		return fbx_error_set(err, EPROTO, "job too short");
	char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return fbx_error_errno(err, errno, "mapping the job");
	job->map = m;
	job->map_len = size;
	if (memcmp(m, JOB_MAGIC, JOB_MAGIC_LEN) != 0)
		goto bad;
	size_t off = JOB_MAGIC_LEN;
	for (int f = 0; f < F_COUNT; f++) {
		uint64_t len;
		if (size - off < sizeof(len))
			goto bad;
		memcpy(&len, m + off, sizeof(len));
		off += sizeof(len);
		if (len == JOB_ABSENT)
			continue;
		if (len >= size - off || m[off + len] != '\0')
			goto bad;
		*field(job, (enum job_field)f) = m + off;
		if (f == F_SOURCE)
			job->module_source_len = (size_t)len;
		if (f == F_EVENT)
			job->event_len = (size_t)len;
		off += (size_t)len + 1;
	}
	int64_t nums[2];
	if (size - off < sizeof(nums))
		goto bad;
	memcpy(nums, m + off, sizeof(nums));
	job->deadline_ms = nums[0];
	job->memory_mb = nums[1];
	if (!job->event)
		goto bad;
	return 0;
bad:
	fbx_job_unmap(job);
	return fbx_error_set(err, EPROTO, "malformed job");
}

void fbx_job_unmap(struct fbx_job *job)
{
	if (job->map)
		munmap(job->map, job->map_len);
	memset(job, 0, sizeof(*job));
}
