/* forkboxd lambda's reading of libforkbox responses (daemon/
 * lambda_response.c), from inline strings: the result posted byte for
 * byte, error bodies in Lambda's shape, prefixed logs, REPORT lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/lambda_response.h"

static void member_is(const char *json, const char *key, const char *want)
{
	size_t s, e;
	int rc = fbxd_json_member(json, strlen(json), key, &s, &e);
	if (!want) {
		assert_int_equal(rc, -ENOENT);
		return;
	}
	assert_int_equal(rc, 0);
	char got[256];
	snprintf(got, sizeof(got), "%.*s", (int)(e - s), json + s);
	assert_string_equal(got, want);
}

static void test_json_member(void **state)
{
	(void)state;
	const char *j =
	    "{\"a\": 1, \"b\" : {\"x\": [1, \"}\"], \"y\": \"\\\"\"},"
	    "\"c\":\"s,}\" , \"d\":[{},[]], \"e\":true}";
	member_is(j, "a", "1");
	member_is(j, "b", "{\"x\": [1, \"}\"], \"y\": \"\\\"\"}");
	member_is(j, "c", "\"s,}\"");
	member_is(j, "d", "[{},[]]");
	member_is(j, "e", "true");
	member_is(j, "x", NULL); /* nested keys are not top-level */
	member_is("{}", "a", NULL);
	size_t s, e;
	static const char *const bad[] = {"",
					  "[1]",
					  "{\"a\" 1}",
					  "{\"a\": }",
					  "{\"a\": \"open}",
					  "{\"a\": [1, 2}",
					  "{\"a\": 1 \"b\": 2}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(
		    fbxd_json_member(bad[i], strlen(bad[i]), "b", &s, &e),
		    -EINVAL);
}

static void test_ok_result_is_kept_verbatim(void **state)
{
	(void)state;
	const char *resp =
	    "{\"id\":null,\"request_id\":\"r1\",\"status\":\"ok\","
	    "\"result\":{\"big\": 123456789012345678901234567890, \"f\": "
	    "1.10},\"logs\":\"one\\ntwo\\u0021\",\"report\":{\"duration_ms\":"
	    "1.5,\"max_rss_kb\":2049,\"cpu_ms\":1,\"exit\":{\"code\":0}}}";
	struct fbxd_outcome o;
	assert_int_equal(fbxd_outcome_parse(resp, &o), 0);
	assert_true(o.ok);
	char got[128];
	snprintf(got, sizeof(got), "%.*s", (int)o.result_len, o.result);
	assert_string_equal(
	    got, "{\"big\": 123456789012345678901234567890, \"f\": 1.10}");
	assert_string_equal(o.logs, "one\ntwo!");
	assert_true(o.duration_ms > 1.49 && o.duration_ms < 1.51);
	assert_int_equal(o.max_rss_kb, 2049);
	assert_null(o.error_type);
	fbxd_outcome_free(&o);
}

static void test_error_body_has_lambdas_shape(void **state)
{
	(void)state;
	const char *resp =
	    "{\"id\":null,\"status\":\"error\",\"error\":{\"errorType\":"
	    "\"Forkbox.SyscallDenied\",\"errorMessage\":\"ptrace\","
	    "\"stackTrace\":"
	    "[\"frame 1\", 7],\"syscall\":\"ptrace\"},\"logs\":\"\"}";
	struct fbxd_outcome o;
	assert_int_equal(fbxd_outcome_parse(resp, &o), 0);
	assert_false(o.ok);
	assert_string_equal(o.error_type, "Forkbox.SyscallDenied");
	cJSON *b = cJSON_Parse(o.error_body);
	assert_non_null(b);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(b, "errorType")->valuestring,
	    "Forkbox.SyscallDenied");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(b, "errorMessage")->valuestring,
	    "ptrace");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(b, "stackTrace");
	assert_int_equal(cJSON_GetArraySize(st), 2);
	/* Every frame a string, as Lambda's clients expect. */
	assert_string_equal(cJSON_GetArrayItem(st, 0)->valuestring, "frame 1");
	assert_string_equal(cJSON_GetArrayItem(st, 1)->valuestring, "7");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(b, "syscall")->valuestring,
	    "ptrace");
	cJSON_Delete(b);
	assert_string_equal(o.logs, "");
	fbxd_outcome_free(&o);

	/* No error object at all: still a well-formed body. */
	assert_int_equal(fbxd_outcome_parse("{\"status\":\"error\"}", &o), 0);
	assert_string_equal(o.error_type, "Forkbox.InternalError");
	b = cJSON_Parse(o.error_body);
	assert_true(
	    cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(b, "stackTrace")));
	assert_true(cJSON_IsString(
	    cJSON_GetObjectItemCaseSensitive(b, "errorMessage")));
	cJSON_Delete(b);
	fbxd_outcome_free(&o);
}

static void test_not_a_response(void **state)
{
	(void)state;
	struct fbxd_outcome o;
	assert_int_equal(fbxd_outcome_parse("nonsense", &o), -EINVAL);
	assert_int_equal(fbxd_outcome_parse("{\"status\":\"ok\"}", &o),
			 -EINVAL);
	assert_int_equal(fbxd_outcome_parse("{\"result\":1}", &o), -EINVAL);
}

static void test_error_body_escapes(void **state)
{
	(void)state;
	char *body = fbxd_error_body("Runtime.InitError", "a \"quoted\"\nline");
	cJSON *b = cJSON_Parse(body);
	assert_non_null(b);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(b, "errorMessage")->valuestring,
	    "a \"quoted\"\nline");
	assert_int_equal(cJSON_GetArraySize(
			     cJSON_GetObjectItemCaseSensitive(b, "stackTrace")),
			 0);
	cJSON_Delete(b);
	free(body);
}

static void test_prefix_lines(void **state)
{
	(void)state;
	size_t len;
	char *out = fbxd_prefix_lines("id", "a\n\nb", &len);
	assert_string_equal(out, "id\ta\nid\t\nid\tb\n");
	assert_int_equal(len, strlen(out));
	free(out);
	out = fbxd_prefix_lines("id", "only\n", &len);
	assert_string_equal(out, "id\tonly\n");
	free(out);
	assert_null(fbxd_prefix_lines("id", "", &len));
	assert_int_equal(len, 0);
}

static void test_report_line(void **state)
{
	(void)state;
	char buf[256];
	size_t n = fbxd_report_line(buf, sizeof(buf), "r-1", 12.001, 128, 1025);
	assert_string_equal(buf, "REPORT RequestId: r-1\tDuration: 12.00 ms\t"
				 "Billed Duration: 13 ms\tMemory Size: 128 MB\t"
				 "Max Memory Used: 2 MB\n");
	assert_int_equal(n, strlen(buf));
	fbxd_report_line(buf, sizeof(buf), "r-2", 0.2, 512, 0);
	assert_non_null(strstr(buf, "Billed Duration: 1 ms\t"));
	fbxd_report_line(buf, sizeof(buf), "r-3", 3.0, 512, 1024);
	assert_non_null(strstr(buf, "Billed Duration: 3 ms\t"));
	assert_non_null(strstr(buf, "Max Memory Used: 1 MB\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_member),
	    cmocka_unit_test(test_ok_result_is_kept_verbatim),
	    cmocka_unit_test(test_error_body_has_lambdas_shape),
	    cmocka_unit_test(test_not_a_response),
	    cmocka_unit_test(test_error_body_escapes),
	    cmocka_unit_test(test_prefix_lines),
	    cmocka_unit_test(test_report_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
