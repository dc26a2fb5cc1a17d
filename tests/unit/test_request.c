/* Request envelope parsing (sandbox/request.c, sandbox/json_scan.c), from
 * inline strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"
#include "request.h"

#define LIMIT (6u << 20)

static int parse_n(const char *text, size_t len, struct fbx_request *r,
		   struct fbx_error *e)
{
	fbx_error_clear(e);
	return fbx_request_parse(text, len, LIMIT, r, e);
}

static int parse(const char *text, struct fbx_request *r, struct fbx_error *e)
{
	return parse_n(text, strlen(text), r, e);
}

/* Parses text, expects it refused with -code and exactly msg, and checks
 * that everything but id_json is left empty. */
static void refused_n(const char *text, size_t len, int code, const char *msg,
		      const char *id)
{
	struct fbx_request r;
	struct fbx_error e;
	int rc = parse_n(text, len, &r, &e);
	if (rc != -code || strcmp(e.msg, msg) != 0)
		print_error("input: %.*s\nrc %d, message: %s\n",
			    (int)(len < 200 ? len : 200), text, rc, e.msg);
	assert_int_equal(rc, -code);
	assert_int_equal(e.code, code);
	assert_string_equal(e.msg, msg);
	if (id)
		assert_string_equal(r.id_json, id);
	else
		assert_null(r.id_json);
	assert_null(r.event_json);
	assert_null(r.module_name);
	assert_null(r.module_source);
	assert_false(r.has_module);
	fbx_request_free(&r);
}

static void refused(const char *text, const char *msg)
{
	refused_n(text, strlen(text), EINVAL, msg, NULL);
}

static void refused_id(const char *text, const char *msg, const char *id)
{
	refused_n(text, strlen(text), EINVAL, msg, id);
}

static void test_minimal(void **state)
{
	struct fbx_request r;
	struct fbx_error e;
	assert_int_equal(parse("{}", &r, &e), 0);
	assert_null(r.id_json);
	assert_string_equal(r.event_json, "{}");
	assert_int_equal(r.event_len, 2);
	assert_false(r.has_module);
	assert_int_equal(r.timeout_ms, 0);
	fbx_request_free(&r);
	assert_null(r.event_json);
	fbx_request_free(&r); /* twice is harmless */
}

static void test_exact_passthrough(void **state)
{
	const char *event =
	    "{ \"n\" : 12345678901234567890 ,\t\"f\": 1e400,"
	    "\r\n \"g\": -0.000000000000000000001E-7,"
	    " \"s\": \"\\u00e9\\ud83d\\ude00\\/\\\"\","
	    " \"u\": \"\xc3\xa9\xf0\x9f\x98\x80\", \"a\": [ ] }";
	char text[512];
	snprintf(text, sizeof(text),
		 "  {\"id\" :  12345678901234567890 , \"event\":%s, "
		 "\"timeout_ms\": 3000}\n",
		 event);
	struct fbx_request r;
	struct fbx_error e;
	assert_int_equal(parse(text, &r, &e), 0);
	assert_string_equal(r.id_json, "12345678901234567890");
	assert_string_equal(r.event_json, event);
	assert_int_equal(r.event_len, strlen(event));
	assert_int_equal(r.timeout_ms, 3000);
	fbx_request_free(&r);
}

static void test_id_variants(void **state)
{
	static const struct {
		const char *text, *id;
	} cases[] = {
	    {"{\"id\":\"a\\\"b\\u0041\"}", "\"a\\\"b\\u0041\""},
	    {"{\"id\":null}", "null"},
	    {"{\"id\":[1, {\"x\": 2}]}", "[1, {\"x\": 2}]"},
	    {"{\"id\":1.5e-3}", "1.5e-3"},
	    {"{\"\\u0069d\":5}", "5"},	 /* escaped key */
	    {"{\"id\\u0000\":5}", NULL}, /* not "id": ignored */
	    {"{\"ID\":5}", NULL},	 /* keys are case-sensitive */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fbx_request r;
		struct fbx_error e;
		assert_int_equal(parse(cases[i].text, &r, &e), 0);
		if (cases[i].id)
			assert_string_equal(r.id_json, cases[i].id);
		else
			assert_null(r.id_json);
		fbx_request_free(&r);
	}
}

static void test_event_variants(void **state)
{
	static const struct {
		const char *text, *event;
	} cases[] = {
	    {"{\"event\":null}", "null"},
	    {"{\"event\":\"x\"}", "\"x\""},
	    {"{\"event\":-0}", "-0"},
	    {"{\"event\":[true,false]}", "[true,false]"},
	    {"{\"event\":{\"a\":{\"b\":{\"c\":[[[]]]}}}}",
	     "{\"a\":{\"b\":{\"c\":[[[]]]}}}"},
	    {"{\"other\":{\"event\":1},\"event\":2}", "2"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fbx_request r;
		struct fbx_error e;
		assert_int_equal(parse(cases[i].text, &r, &e), 0);
		assert_string_equal(r.event_json, cases[i].event);
		fbx_request_free(&r);
	}
}

static void test_not_nul_terminated(void **state)
{
	struct fbx_request r;
	struct fbx_error e;
	const char text[] = "{\"event\":1}garbage";
	assert_int_equal(parse_n(text, 11, &r, &e), 0);
	assert_string_equal(r.event_json, "1");
	fbx_request_free(&r);
}

static void test_module_inline(void **state)
{
	struct fbx_request r;
	struct fbx_error e;
	assert_int_equal(
	    parse("{\"module\": {\"runtime\": \"python\", \"name\": "
		  "\"func.py\", \"source\": \"def handler(e, c):\\n\\treturn "
		  "\\\"\\u00e9\\\\u0000\\\"\", \"entry\": \"handler\"}}",
		  &r, &e),
	    0);
	assert_true(r.has_module);
	assert_string_equal(r.module_runtime, "python");
	assert_string_equal(r.module_name, "func.py");
	const char *src = "def handler(e, c):\n\treturn \"\xc3\xa9\\u0000\"";
	assert_string_equal(r.module_source, src);
	assert_int_equal(r.module_source_len, strlen(src));
	assert_null(r.module_path);
	assert_string_equal(r.module_entry, "handler");
	fbx_request_free(&r);
}

static void test_module_path_and_nulls(void **state)
{
	struct fbx_request r;
	struct fbx_error e;
	assert_int_equal(parse("{\"module\": {\"path\": \"/opt/m.so\", "
			       "\"source\": null, \"runtime\": null}}",
			       &r, &e),
			 0);
	assert_true(r.has_module);
	assert_string_equal(r.module_path, "/opt/m.so");
	assert_null(r.module_source);
	assert_null(r.module_runtime);
	fbx_request_free(&r);

	assert_int_equal(
	    parse("{\"module\": null, \"timeout_ms\": null}", &r, &e), 0);
	assert_false(r.has_module);
	assert_int_equal(r.timeout_ms, 0);
	fbx_request_free(&r);

	assert_int_equal(parse("{\"module\": {\"entry\": \"other\"}}", &r, &e),
			 0);
	assert_true(r.has_module);
	assert_string_equal(r.module_entry, "other");
	fbx_request_free(&r);
}

static void test_unknown_top_level_ignored(void **state)
{
	struct fbx_request r;
	struct fbx_error e;
	assert_int_equal(parse("{\"future\": [1, {\"module\": 5}], \"x\": 1, "
			       "\"x\": 2, \"event\": 1}",
			       &r, &e),
			 0);
	assert_string_equal(r.event_json, "1");
	assert_false(r.has_module);
	fbx_request_free(&r);
}

static void test_over_limit(void **state)
{
	size_t n = 10u << 20;
	char *text = malloc(n);
	assert_non_null(text);
	const char *head = "{\"id\":\"big\",\"event\":\"";
	memcpy(text, head, strlen(head));
	memset(text + strlen(head), 'x', n - strlen(head) - 2);
	memcpy(text + n - 2, "\"}", 2);
	char msg[128];
	snprintf(msg, sizeof(msg),
		 "request is %zu bytes, over the limit of %u bytes", n, LIMIT);
	refused_n(text, n, E2BIG, msg, "\"big\""); /* the id is echoed */
	text[5] = '\0';				   /* broken: no id */
	refused_n(text, n, E2BIG, msg, NULL);
	free(text);

	struct fbx_request r;
	struct fbx_error e;
	assert_int_equal(fbx_request_parse("{}", 2, 2, &r, &e), 0);
	fbx_request_free(&r);
	assert_int_equal(fbx_request_parse("{} ", 3, 2, &r, &e), -E2BIG);
	fbx_request_free(&r);
	assert_int_equal(fbx_request_parse("{} ", 3, 0, &r, &e), 0); /* none */
	fbx_request_free(&r);
}

static void test_nul_byte(void **state)
{
	const char text[] = "{\"event\":\"a\0b\"}";
	refused_n(text, sizeof(text) - 1, EINVAL,
		  "request contains a NUL byte at offset 11", NULL);
	refused_n("{}\0", 3, EINVAL, "request contains a NUL byte at offset 2",
		  NULL);
}

static void test_invalid_utf8(void **state)
{
	refused("{\"event\":\"\xff\"}",
		"request is not valid UTF-8 at byte 10");
	refused("{\"event\":\"\xc0\xaf\"}", /* overlong '/' */
		"request is not valid UTF-8 at byte 10");
	refused("{\"event\":\"ab\xed\xa0\x80\"}", /* surrogate */
		"request is not valid UTF-8 at byte 12");
	refused("{\"event\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
		"request is not valid UTF-8 at byte 10");
	refused("{\"event\":\"\xe2\x82\"}", /* truncated */
		"request is not valid UTF-8 at byte 10");
	refused("{\"event\":\"\x80\"}",
		"request is not valid UTF-8 at byte 10");
}

static void test_invalid_json(void **state)
{
	refused("", "request is empty");
	refused(" \n\t", "request is empty");
	refused("{\"a\":}", "request is not valid JSON near byte 5");
	refused("{} x", "request is not valid JSON near byte 3");
	refused("{}{}", "request is not valid JSON near byte 2");
	refused("{\"event\": 01}", "request is not valid JSON near byte 11");
	refused("{\"event\": 1.}", "request is not valid JSON near byte 12");
	refused("{\"event\": [1,]}", "request is not valid JSON near byte 13");
	refused("{\"event\": \"a\nb\"}",
		"request is not valid JSON near byte 12");
	refused("{\"event\": \"\\x\"}",
		"request is not valid JSON near byte 12");
	refused("{\"event\": \"\\ud800\"}", /* lone surrogate */
		"request is not valid JSON near byte 11");
	refused("{\"event\": \"\\udc00\"}",
		"request is not valid JSON near byte 11");
	refused("{\"event\": \"abc", "request is not valid JSON near byte 14");
	refused("{\"event\": tru}", "request is not valid JSON near byte 13");
	refused("\xef\xbb\xbf{}", "request is not valid JSON near byte 0");
	refused("\x01{}", "request is not valid JSON near byte 0");
	refused("{'a': 1}", "request is not valid JSON near byte 1");
}

static void test_not_an_object(void **state)
{
	refused("[1, 2]", "request must be a JSON object, got an array");
	refused(" \"x\" ", "request must be a JSON object, got a string");
	refused("42", "request must be a JSON object, got a number");
	refused("null", "request must be a JSON object, got null");
	refused("true", "request must be a JSON object, got a boolean");
}

static void test_wrong_types(void **state)
{
	refused("{\"module\": \"x.so\"}",
		"\"module\" must be an object, got a string");
	refused("{\"module\": []}",
		"\"module\" must be an object, got an array");
	refused("{\"module\": {\"name\": 5}}",
		"\"module.name\" must be a string, got a number");
	refused("{\"module\": {\"path\": [\"/x\"]}}",
		"\"module.path\" must be a string, got an array");
	refused("{\"module\": {\"entry\": true}}",
		"\"module.entry\" must be a string, got a boolean");
	refused("{\"module\": {\"nmae\": \"x\"}}",
		"unknown field \"nmae\" in \"module\" (known: runtime, name, "
		"source, path, entry)");
	refused("{\"module\": {\"path\": \"/x\", \"Path\": \"/y\"}}",
		"unknown field \"Path\" in \"module\" (known: runtime, name, "
		"source, path, entry)");
}

static void test_timeout(void **state)
{
	refused("{\"timeout_ms\": \"100\"}",
		"\"timeout_ms\" must be a positive integer, got a string");
	refused("{\"timeout_ms\": -5}",
		"\"timeout_ms\" must be a positive integer, got -5");
	refused("{\"timeout_ms\": 1.5}",
		"\"timeout_ms\" must be a positive integer, got 1.5");
	refused("{\"timeout_ms\": 1e3}",
		"\"timeout_ms\" must be a positive integer, got 1e3");
	refused("{\"timeout_ms\": 0}",
		"\"timeout_ms\" must be a positive integer, got 0");
	refused("{\"timeout_ms\": 99999999999999999999999}",
		"\"timeout_ms\" is too large: 99999999999999999999999");
	struct fbx_request r;
	struct fbx_error e;
	assert_int_equal(parse("{\"timeout_ms\": 1}", &r, &e), 0);
	assert_int_equal(r.timeout_ms, 1);
	fbx_request_free(&r);
}

static void test_module_rules(void **state)
{
	const char *bad_name =
	    "\"module.name\" must be a plain file name (1 to 255 bytes, no "
	    "'/', not \".\" or \"..\", no leading '-'), got ";
	static const char *const names[] = {"", ".", "..", "../x", "a/b", "-x"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char text[128], msg[256];
		snprintf(text, sizeof(text),
			 "{\"module\": {\"name\": \"%s\", \"source\": \"\"}}",
			 names[i]);
		snprintf(msg, sizeof(msg), "%s\"%s\"", bad_name, names[i]);
		refused(text, msg);
	}
	refused("{\"module\": {\"path\": \"/a\", \"name\": \"a\", \"source\": "
		"\"x\"}}",
		"\"module\" gives both \"path\" and \"source\"; give one");
	refused("{\"module\": {\"source\": \"x\"}}",
		"\"module.source\" needs \"module.name\", the file name to "
		"write it under");
	refused("{\"module\": {\"path\": \"\"}}",
		"\"module.path\" must not be empty");
	refused("{\"module\": {\"entry\": \"\"}}",
		"\"module.entry\" must not be empty");
	refused("{\"module\": {\"runtime\": \"\"}}",
		"\"module.runtime\" must not be empty");
}

static void test_module_nul_escape(void **state)
{
	static const char *const fields[] = {"runtime", "name", "source",
					     "path", "entry"};
	for (size_t i = 0; i < 5; i++) {
		char text[128], msg[128];
		snprintf(text, sizeof(text),
			 "{\"module\": {\"%s\": \"a\\u0000b\"}}", fields[i]);
		snprintf(msg, sizeof(msg), "\"module.%s\" contains \\u0000",
			 fields[i]);
		refused(text, msg);
	}
}

static void test_duplicates(void **state)
{
	refused_id("{\"id\": 1, \"event\": 1, \"event\": 2}",
		   "request has more than one \"event\" field", "1");
	refused("{\"id\": 1, \"\\u0069d\": 2}",
		"request has more than one \"id\" field");
	refused("{\"module\": {}, \"module\": {}}",
		"request has more than one \"module\" field");
	refused("{\"module\": {\"name\": \"a\", \"n\\u0061me\": \"b\"}}",
		"\"module\" has more than one \"name\" field");
}

static void test_id_echoed_on_failure(void **state)
{
	refused_id("{\"id\": \"abc\", \"module\": 5}",
		   "\"module\" must be an object, got a number", "\"abc\"");
	refused_id("{\"id\": \"abc\", \"module\": 5",
		   "request is not valid JSON near byte 25", NULL);
}

static char *nested(size_t depth, const char *prefix, const char *suffix)
{
	size_t p = strlen(prefix), s = strlen(suffix);
	char *t = malloc(p + 2 * depth + s + 1);
	assert_non_null(t);
	memcpy(t, prefix, p);
	memset(t + p, '[', depth);
	memset(t + p + depth, ']', depth);
	memcpy(t + p + 2 * depth, suffix, s + 1);
	return t;
}

static void test_deep_nesting(void **state)
{
	struct fbx_request r;
	struct fbx_error e;
	/* The envelope is level 1: 999 more fit. */
	char *t = nested(FBX_JSON_MAX_DEPTH - 1, "{\"event\":", "}");
	assert_int_equal(parse(t, &r, &e), 0);
	assert_int_equal(r.event_len, 2 * (FBX_JSON_MAX_DEPTH - 1));
	fbx_request_free(&r);
	free(t);

	t = nested(FBX_JSON_MAX_DEPTH, "{\"event\":", "}");
	refused(t, "request is not valid JSON near byte 1008");
	free(t);

	t = nested(1000000, "{\"id\":1,\"event\":", "}");
	refused(t, "request is not valid JSON near byte 1015");
	free(t);

	t = nested(1000000, "", "");
	t[1000000] = '\0'; /* unclosed */
	refused(t, "request is not valid JSON near byte 1000");
	free(t);
}

static void test_module_name_valid(void **state)
{
	char longname[300];
	memset(longname, 'a', sizeof(longname));
	longname[255] = '\0';
	assert_true(fbx_module_name_valid(longname));
	longname[255] = 'a';
	longname[256] = '\0';
	assert_false(fbx_module_name_valid(longname));
	assert_true(fbx_module_name_valid("func.so"));
	assert_true(fbx_module_name_valid("...")); /* a plain, odd, name */
	assert_true(fbx_module_name_valid("a-b"));
	assert_false(fbx_module_name_valid(NULL));
	assert_false(fbx_module_name_valid(""));
	assert_false(fbx_module_name_valid("."));
	assert_false(fbx_module_name_valid(".."));
	assert_false(fbx_module_name_valid("/abs"));
	assert_false(fbx_module_name_valid("a/"));
	assert_false(fbx_module_name_valid("-rf"));
}

static void test_null_arguments(void **state)
{
	struct fbx_request r;
	struct fbx_error e;
	assert_int_equal(fbx_request_parse(NULL, 0, LIMIT, &r, &e), -EINVAL);
	assert_string_equal(e.msg, "request is empty");
	fbx_request_free(&r);
	assert_int_equal(fbx_request_parse(NULL, 5, LIMIT, &r, &e), -EINVAL);
	fbx_request_free(&r);
	assert_int_equal(fbx_request_parse("{}", 2, LIMIT, NULL, &e), -EINVAL);
	assert_int_equal(fbx_request_parse("{}", 2, LIMIT, &r, NULL), 0);
	fbx_request_free(&r);
	fbx_request_free(NULL);
}

/* Mutations of a valid request: each must parse or be refused, with no
 * crash, leak or out-of-bounds read (run under ASan by make check-asan);
 * an accepted one has a valid event. */
static void test_mutations(void **state)
{
	const char *seed =
	    "{\"id\":[1,\"x\"],\"event\":{\"a\":[1.5e3,true,null,"
	    "\"\\u00e9\\ud83d\\ude00\"]},\"module\":{\"name\":"
	    "\"f.py\",\"source\":\"s\"},\"timeout_ms\":10}";
	static const char bytes[] = "{}[]\",:\\u0e-.1 \n\x80\xc3\xa9\xff";
	size_t n = strlen(seed);
	uint32_t rnd = 12345;
	for (int iter = 0; iter < 20000; iter++) {
		char *t = malloc(n);
		assert_non_null(t);
		memcpy(t, seed, n);
		size_t len = n;
		for (int k = 0; k < 1 + iter % 3; k++) {
			rnd = rnd * 1103515245u + 12345u;
			size_t at = (rnd >> 8) % len;
			rnd = rnd * 1103515245u + 12345u;
			if (rnd % 7 == 0)
				len = at; /* truncate */
			else
				t[at] = bytes[(rnd >> 8) % (sizeof(bytes) - 1)];
			if (!len)
				break;
		}
		struct fbx_request r;
		struct fbx_error e;
		int rc = parse_n(t, len, &r, &e);
		if (rc == 0) {
			assert_non_null(r.event_json);
			size_t off;
			assert_true(
			    fbx_json_validate(r.event_json, r.event_len, &off));
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_true(strlen(e.msg) > 0);
		}
		fbx_request_free(&r);
		free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_exact_passthrough),
	    cmocka_unit_test(test_id_variants),
	    cmocka_unit_test(test_event_variants),
	    cmocka_unit_test(test_not_nul_terminated),
	    cmocka_unit_test(test_module_inline),
	    cmocka_unit_test(test_module_path_and_nulls),
	    cmocka_unit_test(test_unknown_top_level_ignored),
	    cmocka_unit_test(test_over_limit),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_invalid_json),
	    cmocka_unit_test(test_not_an_object),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_module_rules),
	    cmocka_unit_test(test_module_nul_escape),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_id_echoed_on_failure),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_module_name_valid),
	    cmocka_unit_test(test_null_arguments),
	    cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
