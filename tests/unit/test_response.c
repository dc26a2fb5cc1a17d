/* Response building, JSON validity and signal names (sandbox/response.c),
 * from inline strings. Every built response is parsed back with cJSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forkbox.h"
#include "response.h"

/* Checks that out is one line of valid JSON (ours and cJSON's opinion) and
 * returns cJSON's tree of it. */
static cJSON *parse_back(const char *out)
{
	assert_non_null(out);
	size_t n = strlen(out);
	if (memchr(out, '\n', n) || memchr(out, '\r', n))
		fail_msg("response is not one line: %s", out);
	assert_true(fbx_json_is_valid(out, n));
	cJSON *j = cJSON_ParseWithLengthOpts(out, n + 1, NULL, 1);
	if (!j)
		fail_msg("cJSON cannot parse: %s", out);
	return j;
}

static const char *str_at(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void test_ok_response(void **state)
{
	const char *result = "{\"big\": 12345678901234567890, \"f\": 1e400}";
	struct fbx_report rep = {.duration_ms = 0.41,
				 .max_rss_kb = 1880,
				 .cpu_ms = 0.2,
				 .exited = true,
				 .exit_code = 0};
	struct fbx_response resp = {
	    .id_json = "\"req-1\"",
	    .request_id = "0b6c6f9e-3a34-4d5b-a1a8-2f4cf6c0f1a1",
	    .result_json = result,
	    .result_len = strlen(result),
	    .logs = "hello\n",
	    .logs_len = 6,
	    .report = &rep,
	};
	char *out = fbx_response_build(&resp);
	assert_string_equal(
	    out, "{\"id\":\"req-1\",\"request_id\":\"0b6c6f9e-3a34-4d5b-a1a8-"
		 "2f4cf6c0f1a1\",\"status\":\"ok\",\"result\":{\"big\": "
		 "12345678901234567890, \"f\": 1e400},\"logs\":\"hello\\n\","
		 "\"report\":{\"duration_ms\":0.410,\"max_rss_kb\":1880,"
		 "\"cpu_ms\":0.200,\"exit\":{\"code\":0}}}");
	cJSON_Delete(parse_back(out));
	free(out);
}

static void test_error_response(void **state)
{
	struct fbx_report rep = {.duration_ms = 12,
				 .max_rss_kb = 5,
				 .cpu_ms = 1.5,
				 .exit_signal = SIGSYS,
				 .zygote_restarted = true};
	struct fbx_response resp = {
	    .id_json = "[1, {\"a\": null}]",
	    .request_id = "r",
	    .error_type = "Forkbox.SyscallDenied",
	    .error_message = "the module called ptrace",
	    .stack_trace_json = "[\"frame 1\", \"frame 2\"]",
	    .syscall = "ptrace",
	    .logs = NULL,
	    .report = &rep,
	};
	char *out = fbx_response_build(&resp);
	assert_string_equal(
	    out, "{\"id\":[1, {\"a\": null}],\"request_id\":\"r\",\"status\":"
		 "\"error\",\"error\":{\"errorType\":\"Forkbox."
		 "SyscallDenied\",\"errorMessage\":\"the module called "
		 "ptrace\",\"stackTrace\":[\"frame 1\", \"frame 2\"],"
		 "\"syscall\":\"ptrace\"},\"logs\":\"\",\"report\":{"
		 "\"duration_ms\":12.000,\"max_rss_kb\":5,\"cpu_ms\":1.500,"
		 "\"exit\":{\"signal\":\"SIGSYS\"},\"zygote_restarted\":true}"
		 "}");
	cJSON_Delete(parse_back(out));
	free(out);
}

static void test_minimal_and_defaults(void **state)
{
	struct fbx_response resp = {0};
	char *out = fbx_response_build(&resp);
	assert_string_equal(
	    out,
	    "{\"id\":null,\"status\":\"ok\",\"result\":null,\"logs\":\"\"}");
	free(out);

	struct fbx_report rep = {.duration_ms = NAN, .cpu_ms = INFINITY};
	resp.error_type = "Runtime.ExitError";
	resp.report = &rep;
	out = fbx_response_build(&resp);
	assert_string_equal(
	    out, "{\"id\":null,\"status\":\"error\",\"error\":{\"errorType\":"
		 "\"Runtime.ExitError\",\"errorMessage\":\"\",\"stackTrace\":"
		 "[]},\"logs\":\"\",\"report\":{\"duration_ms\":0.000,"
		 "\"max_rss_kb\":0,\"cpu_ms\":0.000,\"exit\":null}}");
	cJSON_Delete(parse_back(out));
	free(out);

	assert_null(fbx_response_build(NULL));
}

static void test_raw_pieces_one_line(void **state)
{
	const char *result = "{\n  \"a\": [1,\r\n 2],\n  \"s\": \"x\\ny\"\n}\n";
	struct fbx_response resp = {
	    .id_json = "{\n\"k\": 1}",
	    .result_json = result,
	    .result_len = strlen(result),
	};
	char *out = fbx_response_build(&resp);
	assert_string_equal(out, "{\"id\":{ \"k\": 1},\"status\":\"ok\","
				 "\"result\":{   \"a\": [1,   2],   \"s\": "
				 "\"x\\ny\" } ,\"logs\":\"\"}");
	cJSON *j = parse_back(out);
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "result");
	assert_string_equal(str_at(r, "s"), "x\ny");
	cJSON_Delete(j);
	free(out);

	/* The result's length is honoured: no NUL needed after it. */
	resp.id_json = NULL;
	resp.result_json = "[1][garbage";
	resp.result_len = 3;
	out = fbx_response_build(&resp);
	assert_string_equal(out,
			    "{\"id\":null,\"status\":\"ok\",\"result\":[1],"
			    "\"logs\":\"\"}");
	free(out);
}

static void test_invalid_raw_pieces_replaced(void **state)
{
	struct fbx_response resp = {
	    .id_json = "{\"a\":",
	    .result_json = "01",
	    .result_len = 2,
	};
	char *out = fbx_response_build(&resp);
	assert_string_equal(
	    out,
	    "{\"id\":null,\"status\":\"ok\",\"result\":null,\"logs\":\"\"}");
	free(out);

	resp.error_type = "E";
	resp.stack_trace_json = "{\"not\": \"an array\"}";
	out = fbx_response_build(&resp);
	assert_non_null(strstr(out, "\"stackTrace\":[]"));
	cJSON_Delete(parse_back(out));
	free(out);

	resp.stack_trace_json = "[\"a\xff\"]"; /* invalid UTF-8 */
	out = fbx_response_build(&resp);
	assert_non_null(strstr(out, "\"stackTrace\":[]"));
	free(out);

	resp.stack_trace_json = " [\"ok\"] ";
	out = fbx_response_build(&resp);
	assert_non_null(strstr(out, "\"stackTrace\": [\"ok\"] },"));
	cJSON_Delete(parse_back(out));
	free(out);
}

static void test_escaping_logs(void **state)
{
	static const char logs[] =
	    "a\0b\x01\x1f\"q\"\\\n\r\t\b\f\x7f|"
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|" /* valid: é € 😀 */
	    "\xff|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82|\x80\x80|"
	    "\xf0\x9f\x98";
	struct fbx_response resp = {.logs = logs, .logs_len = sizeof(logs) - 1};
	char *out = fbx_response_build(&resp);
	const char *want =
	    "\"logs\":\"a\\u0000b\\u0001\\u001f\\\"q\\\"\\\\\\n\\r\\t"
	    "\\u0008\\u000c\\u007f|\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|"
	    "\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\"";
	if (!strstr(out, want))
		fail_msg("got %s", out);
	cJSON *j = parse_back(out);
	const char *l = str_at(j, "logs");
	assert_int_equal(l[0], 'a'); /* cJSON stops at the decoded NUL */
	cJSON_Delete(j);
	free(out);
}

static void test_escaping_message(void **state)
{
	const char *msg = "bad \"x\"\n\tat \\path\x01 \xfe\xc3\xa9";
	char *out = fbx_error_response("7", "Forkbox.InvalidRequest", msg);
	assert_string_equal(
	    out, "{\"id\":7,\"status\":\"error\",\"error\":{\"errorType\":"
		 "\"Forkbox.InvalidRequest\",\"errorMessage\":\"bad "
		 "\\\"x\\\"\\n\\tat \\\\path\\u0001 \xef\xbf\xbd\xc3\xa9\","
		 "\"stackTrace\":[]},\"logs\":\"\"}");
	cJSON *j = parse_back(out);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	assert_string_equal(str_at(e, "errorMessage"),
			    "bad \"x\"\n\tat \\path\x01 \xef\xbf\xbd\xc3\xa9");
	cJSON_Delete(j);
	free(out);

	/* Strings are escaped in every field, not only logs. */
	struct fbx_response resp = {
	    .request_id = "r\"\n", .error_type = "T\\", .syscall = "s\x02"};
	out = fbx_response_build(&resp);
	j = parse_back(out);
	assert_string_equal(str_at(j, "request_id"), "r\"\n");
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	assert_string_equal(str_at(e, "errorType"), "T\\");
	assert_string_equal(str_at(e, "syscall"), "s\x02");
	cJSON_Delete(j);
	free(out);
}

static void test_error_response_api(void **state)
{
	char *out = fbx_error_response(NULL, NULL, NULL);
	assert_string_equal(
	    out, "{\"id\":null,\"status\":\"error\",\"error\":{\"errorType\":"
		 "\"Forkbox.InternalError\",\"errorMessage\":\"\","
		 "\"stackTrace\":[]},\"logs\":\"\"}");
	free(out);
	out = fbx_error_response("{\"x\":\n12345678901234567890}",
				 "Forkbox.Busy", "try later");
	assert_non_null(strstr(out, "{\"id\":{\"x\": 12345678901234567890},"));
	cJSON_Delete(parse_back(out));
	free(out);
}

/* Random bytes as logs and messages always give valid one-line JSON. */
static void test_random_logs(void **state)
{
	uint32_t rnd = 99;
	size_t n = 1u << 20;
	char *logs = malloc(n);
	assert_non_null(logs);
	for (int iter = 0; iter < 8; iter++) {
		for (size_t i = 0; i < n; i++) {
			rnd = rnd * 1103515245u + 12345u;
			logs[i] = (char)(rnd >> 16);
		}
		size_t len = n >> iter;
		logs[len - 1] = '\0'; /* also as a truncated C string */
		struct fbx_response resp = {.logs = logs,
					    .logs_len = len,
					    .error_type = "E",
					    .error_message = logs};
		char *out = fbx_response_build(&resp);
		cJSON_Delete(parse_back(out));
		free(out);
	}
	free(logs);
}

static void test_signal_names(void **state)
{
	char buf[32];
	assert_string_equal(fbx_signal_name(SIGSEGV, buf, sizeof(buf)),
			    "SIGSEGV");
	assert_string_equal(fbx_signal_name(SIGKILL, NULL, 0), "SIGKILL");
	assert_string_equal(fbx_signal_name(SIGSYS, buf, sizeof(buf)),
			    "SIGSYS");
	assert_string_equal(fbx_signal_name(SIGHUP, buf, sizeof(buf)),
			    "SIGHUP");
	assert_string_equal(fbx_signal_name(SIGXCPU, buf, sizeof(buf)),
			    "SIGXCPU");
	assert_string_equal(fbx_signal_name(SIGABRT, buf, sizeof(buf)),
			    "SIGABRT");
	assert_string_equal(fbx_signal_name(SIGRTMIN, buf, sizeof(buf)),
			    "SIGRTMIN");
	assert_string_equal(fbx_signal_name(SIGRTMIN + 3, buf, sizeof(buf)),
			    "SIGRTMIN+3");
	assert_string_equal(fbx_signal_name(77, buf, sizeof(buf)), "signal 77");
	assert_string_equal(fbx_signal_name(0, buf, sizeof(buf)), "signal 0");
	assert_string_equal(fbx_signal_name(-1, buf, sizeof(buf)), "signal -1");
	assert_string_equal(fbx_signal_name(77, buf, 4), "sig");
	assert_string_equal(fbx_signal_name(77, NULL, 0), "unknown signal");
}

static void test_json_is_valid(void **state)
{
	static const char *const good[] = {
	    "0",
	    "-0",
	    "1.5e+10",
	    "-12345678901234567890",
	    "1E-2",
	    "true",
	    "false",
	    "null",
	    "\"\"",
	    " \"\\u00e9\\ud83d\\ude00\\\\\\/\" ",
	    "[]",
	    "{}",
	    "\t[ 1 , { \"a\" : [ ] } ]\r\n",
	    "\"\xc3\xa9\"",
	    "{\"a\":{\"a\":{\"a\":null}}}",
	    "\"\xf4\x8f\xbf\xbf\"",
	};
	static const char *const bad[] = {
	    "",
	    " ",
	    "01",
	    "1.",
	    ".5",
	    "+1",
	    "1e",
	    "1e+",
	    "-",
	    "0x10",
	    "NaN",
	    "Infinity",
	    "tru",
	    "nulll",
	    "[1,]",
	    "[1 2]",
	    "{\"a\"}",
	    "{\"a\":1,}",
	    "{a:1}",
	    "{1:1}",
	    "'a'",
	    "\"a",
	    "\"\\x\"",
	    "\"\\u12\"",
	    "\"\\u12g4\"",
	    "\"\\ud800\"",
	    "\"\\ud800\\u0041\"",
	    "\"\\udc00\"",
	    "\"a\nb\"",
	    "\"\x01\"",
	    "\x0b[]",
	    "[] []",
	    "[]]",
	    "[",
	    "{",
	    "\xef\xbb\xbf[]",
	    "\"\xff\"",
	    "\"\xc0\xaf\"",
	    "\"\xed\xa0\x80\"",
	    "\"\xf4\x90\x80\x80\"",
	    "\"\xe2\x82\"",
	    "\"\xf8\x88\x80\x80\x80\"",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!fbx_json_is_valid(good[i], strlen(good[i])))
			fail_msg("refused %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (fbx_json_is_valid(bad[i], strlen(bad[i])))
			fail_msg("accepted %s", bad[i]);
	assert_false(fbx_json_is_valid("[\"\0\"]", 5)); /* raw NUL */
	assert_false(fbx_json_is_valid("[1]\0", 4));
	assert_true(fbx_json_is_valid("[1]xx", 3));
	assert_false(fbx_json_is_valid(NULL, 0));

	/* Depth: 1000 levels fit, 1001 do not, 10^6 do not crash. */
	size_t n = 1000000;
	char *deep = malloc(2 * n);
	assert_non_null(deep);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	assert_true(fbx_json_is_valid(deep + n - 1000, 2000));
	assert_false(fbx_json_is_valid(deep + n - 1001, 2002));
	assert_false(fbx_json_is_valid(deep, 2 * n));
	assert_false(fbx_json_is_valid(deep, n));
	free(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok_response),
	    cmocka_unit_test(test_error_response),
	    cmocka_unit_test(test_minimal_and_defaults),
	    cmocka_unit_test(test_raw_pieces_one_line),
	    cmocka_unit_test(test_invalid_raw_pieces_replaced),
	    cmocka_unit_test(test_escaping_logs),
	    cmocka_unit_test(test_escaping_message),
	    cmocka_unit_test(test_error_response_api),
	    cmocka_unit_test(test_random_logs),
	    cmocka_unit_test(test_signal_names),
	    cmocka_unit_test(test_json_is_valid),
	};
	return cmocka_run_group_tests_name("response", tests, NULL, NULL);
}
