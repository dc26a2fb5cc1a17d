/* Unit tests for the job memfd (job.c): what the host writes is what the
 * child maps, byte for byte, and anything malformed is refused. */
#include <errno.h>
#include <setjmp.h> /* cmocka.h needs these first */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "job.h"

static void test_round_trip(void **state)
{
	static const char src[] = "a\0b binary source";
	static const char event[] = "{\"n\": 12345678901234567890}";
	struct fbx_job in = {
	    .request_id = "rid",
	    .function_name = "fn",
	    .trace_id = "Root=1-2",
	    .runtime = "exec",
	    .module_name = "func.sh",
	    .module_source = (char *)src,
	    .module_source_len = sizeof(src) - 1,
	    .entry = "handler",
	    .event = (char *)event,
	    .event_len = sizeof(event) - 1,
	    .deadline_ms = 1796305210263,
	    .memory_mb = 512,
	};
	struct fbx_error err = {0};
	int fd = fbx_job_to_memfd(&in, &err);
	assert_true(fd >= 0);
	/* Sealed: the host cannot change it under the child. */
	assert_int_equal(write(fd, "x", 1), -1);
	assert_int_equal(errno, EPERM);

	struct fbx_job out;
	assert_int_equal(fbx_job_from_fd(fd, &out, &err), 0);
	close(fd); /* the mapping outlives the fd */
	assert_string_equal(out.request_id, "rid");
	assert_string_equal(out.function_name, "fn");
	assert_string_equal(out.trace_id, "Root=1-2");
	assert_string_equal(out.runtime, "exec");
	assert_string_equal(out.module_name, "func.sh");
	assert_string_equal(out.entry, "handler");
	assert_null(out.invoked_function_arn);
	assert_null(out.module_path);
	assert_int_equal(out.module_source_len, sizeof(src) - 1);
	assert_memory_equal(out.module_source, src, sizeof(src) - 1);
	assert_int_equal(out.event_len, sizeof(event) - 1);
	assert_string_equal(out.event, event); /* NUL-terminated in place */
	assert_int_equal(out.deadline_ms, 1796305210263);
	assert_int_equal(out.memory_mb, 512);
	fbx_job_unmap(&out);
	assert_null(out.map);
}

static int memfd_with(const void *bytes, size_t len)
{
	int fd = memfd_create("t", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	return fd;
}

static void test_malformed_refused(void **state)
{
	struct fbx_job in = {.event = "{}", .event_len = 2};
	struct fbx_error err = {0};
	int good = fbx_job_to_memfd(&in, &err);
	assert_true(good >= 0);
	off_t size = lseek(good, 0, SEEK_END);
	char *bytes = malloc((size_t)size);
	assert_int_equal(pread(good, bytes, (size_t)size, 0), size);
	close(good);

	struct fbx_job out;
	/* Every truncation is refused, never read past the end. */
	for (off_t n = 0; n < size; n++) {
		int fd = memfd_with(bytes, (size_t)n);
		assert_int_equal(fbx_job_from_fd(fd, &out, &err), -EPROTO);
		assert_null(out.map);
		close(fd);
	}
	/* A wrong magic, and a length that runs off the end. */
	bytes[0] ^= 1;
	int fd = memfd_with(bytes, (size_t)size);
	assert_int_equal(fbx_job_from_fd(fd, &out, &err), -EPROTO);
	close(fd);
	bytes[0] ^= 1;
	memset(bytes + 8, 0x7f, 8); /* the first field's length */
	fd = memfd_with(bytes, (size_t)size);
	assert_int_equal(fbx_job_from_fd(fd, &out, &err), -EPROTO);
	assert_string_equal(err.msg, "malformed job");
	close(fd);
	free(bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_malformed_refused),
	};
	return cmocka_run_group_tests_name("job", tests, NULL, NULL);
}
