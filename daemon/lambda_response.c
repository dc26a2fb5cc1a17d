/* libforkbox's response, read for the Lambda front end.
 *
 * The top level is walked by a small scanner rather than parsed whole: the
 * result may be megabytes and is posted byte for byte as the module wrote
 * it, so only the small members (error, logs, report) go through cJSON. */
#include "lambda_response.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len &&
	       (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* Each skip_* returns the index just past the value starting at s[i], or
 * 0 when it is malformed (0 is never past a value). */
static size_t skip_string(const char *s, size_t i, size_t len)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

static size_t skip_value(const char *s, size_t i, size_t len)
{
	if (i >= len)
		return 0;
	if (s[i] == '"')
		return skip_string(s, i, len);
	if (s[i] == '{' || s[i] == '[') {
		size_t depth = 0;
		while (i < len) {
			char c = s[i];
			if (c == '"') {
				if (!(i = skip_string(s, i, len)))
					return 0;
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return 0;
	}
	size_t start = i;
	while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
	       s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
		i++;
	return i > start ? i : 0;
}

int fbxd_json_member(const char *json, size_t len, const char *key,
		     size_t *start, size_t *end)
{
	size_t klen = strlen(key);
	size_t i = skip_ws(json, 0, len);
	if (i >= len || json[i] != '{')
		return -EINVAL;
	i = skip_ws(json, i + 1, len);
	if (i < len && json[i] == '}')
		return -ENOENT;
	for (;;) {
		if (i >= len || json[i] != '"')
			return -EINVAL;
		size_t kend = skip_string(json, i, len);
		if (!kend)
			return -EINVAL;
		bool match = kend - i - 2 == klen &&
			     memcmp(json + i + 1, key, klen) == 0;
		i = skip_ws(json, kend, len);
		if (i >= len || json[i] != ':')
			return -EINVAL;
		i = skip_ws(json, i + 1, len);
		size_t vend = skip_value(json, i, len);
		if (!vend)
			return -EINVAL;
		if (match) {
			*start = i;
			*end = vend;
			return 0;
		}
		i = skip_ws(json, vend, len);
		if (i < len && json[i] == '}')
			return -ENOENT;
		if (i >= len || json[i] != ',')
			return -EINVAL;
		i = skip_ws(json, i + 1, len);
	}
}

/* The member "key" parsed by cJSON, or NULL when absent or malformed. */
static cJSON *member(const char *json, size_t len, const char *key)
{
	size_t s, e;
	if (fbxd_json_member(json, len, key, &s, &e) < 0)
		return NULL;
	return cJSON_ParseWithLength(json + s, e - s);
}

static const char *string_of(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* Lambda's three keys first, with the types its clients expect (a
 * stackTrace of strings), then whatever else forkbox said ("syscall"). */
static char *build_error_body(const cJSON *err, const char *type,
			      const char *message)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *trace = cJSON_CreateArray();
	bool ok = body && trace &&
		  cJSON_AddStringToObject(body, "errorMessage", message) &&
		  cJSON_AddStringToObject(body, "errorType", type);
	const cJSON *frames =
	    err ? cJSON_GetObjectItemCaseSensitive(err, "stackTrace") : NULL;
	if (!cJSON_IsArray(frames))
		frames = NULL;
	const cJSON *f;
	cJSON_ArrayForEach(f, frames)
	{
		char *text =
		    cJSON_IsString(f) ? NULL : cJSON_PrintUnformatted(f);
		cJSON *s = cJSON_CreateString(cJSON_IsString(f) ? f->valuestring
					      : text		? text
								: "");
		free(text);
		ok = ok && s && cJSON_AddItemToArray(trace, s);
		if (!ok)
			cJSON_Delete(s);
	}
	if (ok && cJSON_AddItemToObject(body, "stackTrace", trace))
		trace = NULL;
	else
		ok = false;
	cJSON_ArrayForEach(f, err)
	{
		if (!ok || !f->string ||
		    strcmp(f->string, "errorMessage") == 0 ||
		    strcmp(f->string, "errorType") == 0 ||
		    strcmp(f->string, "stackTrace") == 0)
			continue;
		cJSON *copy = cJSON_Duplicate(f, true);
		ok = copy && cJSON_AddItemToObject(body, f->string, copy);
		if (!ok)
			cJSON_Delete(copy);
	}
	char *text = ok ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(trace);
	cJSON_Delete(body);
	return text;
}

char *fbxd_error_body(const char *type, const char *message)
{
	return build_error_body(NULL, type, message);
}

int fbxd_outcome_parse(const char *response, struct fbxd_outcome *out)
{
	memset(out, 0, sizeof(*out));
	size_t len = strlen(response), s, e;
	if (fbxd_json_member(response, len, "status", &s, &e) < 0)
		return -EINVAL;
	out->ok = e - s == 4 && memcmp(response + s, "\"ok\"", 4) == 0;
	if (out->ok) {
		if (fbxd_json_member(response, len, "result", &s, &e) < 0)
			return -EINVAL;
		out->result = response + s;
		out->result_len = e - s;
	} else {
		cJSON *err = member(response, len, "error");
		const char *type = string_of(err, "errorType");
		const char *msg = string_of(err, "errorMessage");
		out->error_type =
		    strdup(type && *type ? type : "Forkbox.InternalError");
		out->error_body = build_error_body(
		    err, out->error_type ? out->error_type : "",
		    msg ? msg : "");
		cJSON_Delete(err);
		if (!out->error_type || !out->error_body) {
			fbxd_outcome_free(out);
			return -ENOMEM;
		}
	}
	cJSON *logs = member(response, len, "logs");
	out->logs = strdup(cJSON_IsString(logs) ? logs->valuestring : "");
	cJSON_Delete(logs);
	cJSON *report = member(response, len, "report");
	const cJSON *d =
	    cJSON_GetObjectItemCaseSensitive(report, "duration_ms");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(report, "max_rss_kb");
	out->duration_ms = cJSON_IsNumber(d) ? d->valuedouble : 0;
	out->max_rss_kb = cJSON_IsNumber(r) ? (long)r->valuedouble : 0;
	cJSON_Delete(report);
	if (!out->logs) {
		fbxd_outcome_free(out);
		return -ENOMEM;
	}
	return 0;
}

void fbxd_outcome_free(struct fbxd_outcome *out)
{
	free(out->error_type);
	free(out->error_body);
	free(out->logs);
	memset(out, 0, sizeof(*out));
}

char *fbxd_prefix_lines(const char *request_id, const char *logs, size_t *len)
{
	*len = 0;
	size_t n = strlen(logs), lines = 0, idlen = strlen(request_id);
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		lines += logs[i] == '\n';
	lines += logs[n - 1] != '\n'; /* a last line without its newline */
	char *out = malloc(n + lines * (idlen + 1) + 2);
	if (!out)
		return NULL;
	size_t k = 0;
	for (const char *p = logs; *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		memcpy(out + k, request_id, idlen);
		k += idlen;
		out[k++] = '\t';
		memcpy(out + k, p, l);
		k += l;
		out[k++] = '\n';
		p += l + (nl != NULL);
	}
	out[k] = '\0';
	*len = k;
	return out;
}

size_t fbxd_report_line(char *buf, size_t size, const char *request_id,
			double duration_ms, unsigned memory_mb, long max_rss_kb)
{
	/* Lambda bills whole milliseconds, rounded up, at least one. */
	long long billed = (long long)duration_ms;
	if ((double)billed < duration_ms || billed < 1)
		billed++;
	int n = snprintf(buf, size,
			 "REPORT RequestId: %s\tDuration: %.2f ms\tBilled "
			 "Duration: %lld ms\tMemory Size: %u MB\tMax Memory "
			 "Used: %ld MB\n",
			 request_id, duration_ms, billed, memory_mb,
			 (max_rss_kb + 1023) / 1024);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}
