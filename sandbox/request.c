/* The invocation request envelope: parsing and validation; see request.h.
 *
 * The text is checked as a whole first (size, NUL, UTF-8, strict JSON, an
 * object), then the json_scan walker finds the raw spans of the known
 * fields, so "id" and "event" are copied byte for byte. cJSON only decodes
 * the module object, after the walker has checked that it holds nothing but
 * strings: a cJSON tree of a whole 6 MiB event would cost ~80 bytes a value
 * (hundreds of MB for [0,0,0,...]) and would round big integers. */
#include "request.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"

enum { TOP_ID, TOP_EVENT, TOP_MODULE, TOP_TIMEOUT, TOP_COUNT };
static const char *const top_names[TOP_COUNT] = {"id", "event", "module",
						 "timeout_ms"};

enum { MOD_RUNTIME, MOD_NAME, MOD_SOURCE, MOD_PATH, MOD_ENTRY, MOD_COUNT };
static const char *const module_names[MOD_COUNT] = {"runtime", "name", "source",
						    "path", "entry"};

#define MAX_FIELDS MOD_COUNT

/* The known members of one object, found by walk_object. */
struct members {
	struct fbx_json_span value[MAX_FIELDS];
	size_t index[MAX_FIELDS]; /* position among all members */
	bool found[MAX_FIELDS];
	bool twice[MAX_FIELDS];
	bool has_unknown;
	struct fbx_json_span
	    unknown; /* the first unknown key, quotes included */
};

/* For messages: "got an array". */
static const char *type_name(char first)
{
	switch (first) {
	case '{':
		return "an object";
	case '[':
		return "an array";
	case '"':
		return "a string";
	case 't':
	case 'f':
		return "a boolean";
	case 'n':
		return "null";
	default:
		return "a number";
	}
}

/* How many bytes of text[0..n) to quote in a message: at most max, cut on
 * a UTF-8 character boundary. */
static int quote_len(const char *text, size_t n, size_t max)
{
	if (n <= max)
		return (int)n;
	while (max > 0 && ((unsigned char)text[max] & 0xC0) == 0x80)
		max--;
	return (int)max;
}

static char *dup_span(const char *text, struct fbx_json_span sp)
{
	size_t n = sp.end - sp.start;
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, text + sp.start, n);
		p[n] = '\0';
	}
	return p;
}

/* Walks the object at text[pos] (already validated), recording the members
 * named in names[0..n). */
static int walk_object(const char *text, size_t len, size_t pos,
		       const char *const *names, size_t n, struct members *m)
{
	struct fbx_json_iter it;
	struct fbx_json_span key, value;
	size_t index = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	if (fbx_json_object_open(&it, text, len, pos))
		return -1;
	while ((rc = fbx_json_object_next(&it, &key, &value)) == 1) {
		size_t i = 0;
		while (i < n && !fbx_json_string_equals(text, key, names[i]))
			i++;
		if (i == n) {
			if (!m->has_unknown) {
				m->has_unknown = true;
				m->unknown = key;
			}
		} else if (m->found[i]) {
			m->twice[i] = true;
		} else {
			m->found[i] = true;
			m->value[i] = value;
			m->index[i] = index;
		}
		index++;
	}
	return rc;
}

/* Size aside, everything that makes text unusable as a whole. */
static int check_text(const char *text, size_t len, struct fbx_error *err)
{
	size_t off;
	const char *nul = memchr(text, '\0', len);

	if (nul)
		return fbx_error_set(
		    err, EINVAL, "request contains a NUL byte at offset %zu",
		    (size_t)(nul - text));
	if (!fbx_utf8_valid(text, len, &off))
		return fbx_error_set(
		    err, EINVAL, "request is not valid UTF-8 at byte %zu", off);
	size_t pos = fbx_json_skip_ws(text, len, 0);
	if (pos == len)
		return fbx_error_set(err, EINVAL, "request is empty");
	if (!fbx_json_validate(text, len, &off))
		return fbx_error_set(err, EINVAL,
				     "request is not valid JSON near byte %zu",
				     off);
	if (text[pos] != '{')
		return fbx_error_set(err, EINVAL,
				     "request must be a JSON object, got %s",
				     type_name(text[pos]));
	return 0;
}

static int parse_timeout(const char *text, struct fbx_json_span sp, long *out,
			 struct fbx_error *err)
{
	const char *raw = text + sp.start;
	size_t n = sp.end - sp.start;
	long v = 0;

	if (raw[0] == 'n')
		return 0; /* null: absent */
	if (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9'))
		return fbx_error_set(
		    err, EINVAL,
		    "\"timeout_ms\" must be a positive integer, got %s",
		    type_name(raw[0]));
	for (size_t i = 0; i < n; i++) {
		if (raw[i] < '0' || raw[i] > '9')
			return fbx_error_set(
			    err, EINVAL,
			    "\"timeout_ms\" must be a positive "
			    "integer, got %.*s",
			    quote_len(raw, n, 32), raw);
		int d = raw[i] - '0';
		if (v > (LONG_MAX - d) / 10)
			return fbx_error_set(
			    err, EINVAL, "\"timeout_ms\" is too large: %.*s",
			    quote_len(raw, n, 32), raw);
		v = v * 10 + d;
	}
	if (v == 0)
		return fbx_error_set(
		    err, EINVAL,
		    "\"timeout_ms\" must be a positive integer, got 0");
	*out = v;
	return 0;
}

/* Type checks on the module's members, before anything is decoded. */
static int check_module_members(const char *text, const struct members *m,
				struct fbx_error *err)
{
	if (m->has_unknown) {
		const char *key = text + m->unknown.start;
		size_t n = m->unknown.end - m->unknown.start;
		return fbx_error_set(err, EINVAL,
				     "unknown field %.*s in \"module\" (known: "
				     "runtime, name, source, path, entry)",
				     quote_len(key, n, 64), key);
	}
	for (size_t i = 0; i < MOD_COUNT; i++) {
		if (m->twice[i])
			return fbx_error_set(
			    err, EINVAL,
			    "\"module\" has more than one \"%s\" field",
			    module_names[i]);
		if (!m->found[i])
			continue;
		char first = text[m->value[i].start];
		if (first != '"' && first != 'n')
			return fbx_error_set(err, EINVAL,
					     "\"module.%s\" must be a string, "
					     "got %s",
					     module_names[i], type_name(first));
		if (first == '"' && fbx_json_string_has_nul(text, m->value[i]))
			return fbx_error_set(err, EINVAL,
					     "\"module.%s\" contains \\u0000",
					     module_names[i]);
	}
	return 0;
}

/* Decodes the module's strings with cJSON; the walker's member order and
 * cJSON's child order are the same text order. */
static int decode_module(const char *text, struct fbx_json_span sp,
			 const struct members *m, char **fields[MOD_COUNT],
			 struct fbx_error *err)
{
	size_t n = sp.end - sp.start;
	char *copy = dup_span(text, sp);
	if (!copy)
		return fbx_error_set(err, ENOMEM,
				     "out of memory parsing the request");
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(copy, n + 1, &end, 1);
	if (!root) {
		size_t at = end ? (size_t)(end - copy) : 0;
		free(copy);
		return fbx_error_set(
		    err, EINVAL,
		    "request's \"module\" could not be decoded "
		    "near byte %zu",
		    sp.start + at);
	}
	int rc = 0;
	for (size_t i = 0; i < MOD_COUNT && !rc; i++) {
		if (!m->found[i] || text[m->value[i].start] != '"')
			continue;
		cJSON *child = root->child;
		for (size_t k = 0; child && k < m->index[i]; k++)
			child = child->next;
		if (!cJSON_IsString(child) || !child->valuestring) {
			rc = fbx_error_set(err, EINVAL,
					   "request's \"module.%s\" could not "
					   "be decoded",
					   module_names[i]);
			break;
		}
		*fields[i] = child->valuestring; /* taken from the tree */
		child->valuestring = NULL;
	}
	cJSON_Delete(root);
	free(copy);
	return rc;
}

static int parse_module(const char *text, struct fbx_json_span sp,
			struct fbx_request *out, struct fbx_error *err)
{
	struct members m;
	char first = text[sp.start];

	if (first == 'n')
		return 0; /* null: absent */
	if (first != '{')
		return fbx_error_set(err, EINVAL,
				     "\"module\" must be an object, got %s",
				     type_name(first));
	if (walk_object(text, sp.end, sp.start, module_names, MOD_COUNT, &m))
		return fbx_error_set(err, EINVAL,
				     "request's \"module\" is not valid JSON");
	int rc = check_module_members(text, &m, err);
	if (rc)
		return rc;
	char **fields[MOD_COUNT] = {
	    [MOD_RUNTIME] = &out->module_runtime,
	    [MOD_NAME] = &out->module_name,
	    [MOD_SOURCE] = &out->module_source,
	    [MOD_PATH] = &out->module_path,
	    [MOD_ENTRY] = &out->module_entry,
	};
	rc = decode_module(text, sp, &m, fields, err);
	if (rc)
		return rc;
	out->has_module = true;
	if (out->module_source)
		out->module_source_len = strlen(out->module_source);

	if (out->module_name && !fbx_module_name_valid(out->module_name))
		return fbx_error_set(
		    err, EINVAL,
		    "\"module.name\" must be a plain file name "
		    "(1 to 255 bytes, no '/', not \".\" or "
		    "\"..\", no leading '-'), got \"%.*s\"",
		    quote_len(out->module_name, strlen(out->module_name), 64),
		    out->module_name);
	static const int nonempty[] = {MOD_RUNTIME, MOD_PATH, MOD_ENTRY};
	for (size_t i = 0; i < sizeof(nonempty) / sizeof(nonempty[0]); i++)
		if (*fields[nonempty[i]] && !**fields[nonempty[i]])
			return fbx_error_set(err, EINVAL,
					     "\"module.%s\" must not be empty",
					     module_names[nonempty[i]]);
	if (out->module_path && out->module_source)
		return fbx_error_set(err, EINVAL,
				     "\"module\" gives both \"path\" and "
				     "\"source\"; give one");
	if (out->module_source && !out->module_name)
		return fbx_error_set(err, EINVAL,
				     "\"module.source\" needs \"module.name\", "
				     "the file name to write it under");
	return 0;
}

/* Everything after the id is known; fills out except id_json. */
static int parse_fields(const char *text, const struct members *top,
			struct fbx_request *out, struct fbx_error *err)
{
	for (size_t i = 0; i < TOP_COUNT; i++)
		if (top->twice[i])
			return fbx_error_set(
			    err, EINVAL,
			    "request has more than one \"%s\" field",
			    top_names[i]);
	if (top->found[TOP_EVENT]) {
		out->event_json = dup_span(text, top->value[TOP_EVENT]);
		out->event_len =
		    top->value[TOP_EVENT].end - top->value[TOP_EVENT].start;
	} else {
		out->event_json = strdup("{}");
		out->event_len = 2;
	}
	if (!out->event_json)
		return fbx_error_set(err, ENOMEM,
				     "out of memory parsing the request");
	if (top->found[TOP_TIMEOUT]) {
		int rc = parse_timeout(text, top->value[TOP_TIMEOUT],
				       &out->timeout_ms, err);
		if (rc)
			return rc;
	}
	if (top->found[TOP_MODULE])
		return parse_module(text, top->value[TOP_MODULE], out, err);
	return 0;
}

int fbx_request_parse(const char *text, size_t len, size_t max_len,
		      struct fbx_request *out, struct fbx_error *err)
{
	struct members top;

	if (!out)
		return fbx_error_set(err, EINVAL, "no request to fill");
	memset(out, 0, sizeof(*out));
	if (!text && len)
		return fbx_error_set(err, EINVAL, "request text is missing");
	if (!text)
		text = "";

	int rc = check_text(text, len, err);
	if (!rc) {
		size_t pos = fbx_json_skip_ws(text, len, 0);
		if (walk_object(text, len, pos, top_names, TOP_COUNT, &top))
			rc = fbx_error_set(err, EINVAL,
					   "request is not valid JSON");
	}
	if (!rc && top.found[TOP_ID] && !top.twice[TOP_ID]) {
		out->id_json = dup_span(text, top.value[TOP_ID]);
		if (!out->id_json)
			rc = fbx_error_set(err, ENOMEM,
					   "out of memory parsing the request");
	}
	if (rc != -ENOMEM && max_len && len > max_len)
		rc =
		    fbx_error_set(err, E2BIG,
				  "request is %zu bytes, over the limit of %zu "
				  "bytes",
				  len, max_len);
	if (!rc)
		rc = parse_fields(text, &top, out, err);
	if (rc) {
		char *id = out->id_json;
		out->id_json = NULL;
		fbx_request_free(out);
		out->id_json = id;
	}
	return rc;
}

void fbx_request_free(struct fbx_request *req)
{
	if (!req)
		return;
	free(req->id_json);
	free(req->event_json);
	free(req->module_runtime);
	free(req->module_name);
	free(req->module_source);
	free(req->module_path);
	free(req->module_entry);
	memset(req, 0, sizeof(*req));
}

bool fbx_module_name_valid(const char *name)
{
	if (!name || !name[0] || name[0] == '-')
		return false;
	size_t n = strnlen(name, 256);
	if (n > 255 || strchr(name, '/'))
		return false;
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}
