#include "job.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOB_MAGIC     "FBXJOB1\n"
#define JOB_MAGIC_LEN 8

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int add_str(cJSON *obj, const char *key, const char *value)
{
	if (!value)
		return 0;
	return cJSON_AddStringToObject(obj, key, value) ? 0 : -ENOMEM;
}

int fbx_job_to_memfd(const struct fbx_job *job, struct fbx_error *err)
{
	cJSON *h = cJSON_CreateObject();
	if (!h)
		return fbx_error_set(err, ENOMEM,
				     "out of memory building a job");
	int rc = 0;
	rc |= add_str(h, "request_id", job->request_id);
	rc |= add_str(h, "function_name", job->function_name);
	rc |= add_str(h, "invoked_function_arn", job->invoked_function_arn);
	rc |= add_str(h, "trace_id", job->trace_id);
	rc |= add_str(h, "client_context", job->client_context);
	rc |= add_str(h, "cognito_identity", job->cognito_identity);
	rc |= add_str(h, "runtime", job->runtime);
	rc |= add_str(h, "module_path", job->module_path);
	rc |= add_str(h, "module_name", job->module_name);
	rc |= add_str(h, "entry", job->entry);
	rc |=
	    cJSON_AddNumberToObject(h, "deadline_ms", (double)job->deadline_ms)
		? 0
		: -ENOMEM;
	rc |= cJSON_AddNumberToObject(h, "memory_mb", (double)job->memory_mb)
		  ? 0
		  : -ENOMEM;
	rc |= cJSON_AddNumberToObject(h, "source_len",
				      (double)job->module_source_len)
		  ? 0
		  : -ENOMEM;
	rc |= cJSON_AddNumberToObject(h, "event_len", (double)job->event_len)
		  ? 0
		  : -ENOMEM;
	char *header = rc == 0 ? cJSON_PrintUnformatted(h) : NULL;
	cJSON_Delete(h);
	if (!header)
		return fbx_error_set(err, ENOMEM,
				     "out of memory building a job");

	int fd = memfd_create("forkbox-job", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		free(header);
		return fbx_error_errno(err, errno, "memfd_create for a job");
	}
	uint32_t hlen = (uint32_t)strlen(header);
	rc = write_all(fd, JOB_MAGIC, JOB_MAGIC_LEN);
	if (!rc)
		rc = write_all(fd, &hlen, sizeof(hlen));
	if (!rc)
		rc = write_all(fd, header, hlen);
	if (!rc && job->module_source_len)
		rc = write_all(fd, job->module_source, job->module_source_len);
	if (!rc)
		rc = write_all(fd, job->event, job->event_len);
	free(header);
	/* Sealed so that nothing the host does later can change what the
	 * child reads. */
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

static char *dup_str(const cJSON *h, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, key);
	return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static int64_t get_num(const cJSON *h, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static int read_exact(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPROTO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fbx_job_from_fd(int fd, struct fbx_job *job, struct fbx_error *err)
{
	memset(job, 0, sizeof(*job));
	char magic[JOB_MAGIC_LEN];
	uint32_t hlen;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return fbx_error_errno(err, errno, "seeking the job memfd");
	int rc = read_exact(fd, magic, sizeof(magic));
	if (!rc && memcmp(magic, JOB_MAGIC, JOB_MAGIC_LEN) != 0)
		rc = -EPROTO;
	if (!rc)
		rc = read_exact(fd, &hlen, sizeof(hlen));
	if (!rc && hlen > (64u << 20))
		rc = -EPROTO;
	char *header = rc ? NULL : malloc((size_t)hlen + 1);
	if (!rc && !header)
		rc = -ENOMEM;
	if (!rc)
		rc = read_exact(fd, header, hlen);
	if (rc) {
		free(header);
		return fbx_error_errno(err, -rc, "reading the job header");
	}
	header[hlen] = '\0';
	cJSON *h = cJSON_Parse(header);
	free(header);
	if (!h)
		return fbx_error_set(err, EPROTO, "job header is not JSON");
	job->request_id = dup_str(h, "request_id");
	job->function_name = dup_str(h, "function_name");
	job->invoked_function_arn = dup_str(h, "invoked_function_arn");
	job->trace_id = dup_str(h, "trace_id");
	job->client_context = dup_str(h, "client_context");
	job->cognito_identity = dup_str(h, "cognito_identity");
	job->runtime = dup_str(h, "runtime");
	job->module_path = dup_str(h, "module_path");
	job->module_name = dup_str(h, "module_name");
	job->entry = dup_str(h, "entry");
	job->deadline_ms = get_num(h, "deadline_ms");
	job->memory_mb = get_num(h, "memory_mb");
	size_t source_len = (size_t)get_num(h, "source_len");
	size_t event_len = (size_t)get_num(h, "event_len");
	cJSON_Delete(h);

	if (source_len) {
		job->module_source = malloc(source_len + 1);
		if (!job->module_source)
			return fbx_error_set(
			    err, ENOMEM,
			    "out of memory reading the module source");
		rc = read_exact(fd, job->module_source, source_len);
		if (rc)
			return fbx_error_errno(err, -rc,
					       "reading the module source");
		job->module_source[source_len] = '\0';
		job->module_source_len = source_len;
	}
	job->event = malloc(event_len + 1);
	if (!job->event)
		return fbx_error_set(err, ENOMEM,
				     "out of memory reading the event");
	rc = read_exact(fd, job->event, event_len);
	if (rc)
		return fbx_error_errno(err, -rc, "reading the event");
	job->event[event_len] = '\0';
	job->event_len = event_len;
	return 0;
}

void fbx_job_free(struct fbx_job *job)
{
	free(job->request_id);
	free(job->function_name);
	free(job->invoked_function_arn);
	free(job->trace_id);
	free(job->client_context);
	free(job->cognito_identity);
	free(job->runtime);
	free(job->module_path);
	free(job->module_name);
	free(job->module_source);
	free(job->entry);
	free(job->event);
	memset(job, 0, sizeof(*job));
}
