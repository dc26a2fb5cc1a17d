/* Byte-level JSON scanning; see json_scan.h. */
#include "json_scan.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the 4 hex digits at s[pos..pos+4) (all inside s[0..len)). */
static int hex4(const unsigned char *s, size_t len, size_t pos, unsigned *cp,
		size_t *err_at)
{
	unsigned v = 0;
	for (size_t i = 0; i < 4; i++) {
		if (pos + i >= len) {
			*err_at = len;
			return -1;
		}
		int h = hex_value(s[pos + i]);
		if (h < 0) {
			*err_at = pos + i;
			return -1;
		}
		v = v << 4 | (unsigned)h;
	}
	*cp = v;
	return 0;
}

size_t fbx_json_skip_ws(const char *text, size_t len, size_t pos)
{
	const unsigned char *s = (const unsigned char *)text;
	if (!text)
		return pos;
	while (pos < len && is_ws(s[pos]))
		pos++;
	return pos;
}

/* s[pos] is the opening quote; sets *end past the closing one. */
static int scan_string(const unsigned char *s, size_t len, size_t pos,
		       size_t *end, size_t *err_at)
{
	pos++;
	for (;;) {
		if (pos >= len) {
			*err_at = len;
			return -1;
		}
		unsigned char c = s[pos];
		if (c == '"') {
			*end = pos + 1;
			return 0;
		}
		if (c < 0x20) {
			*err_at = pos;
			return -1;
		}
		if (c != '\\') {
			pos++;
			continue;
		}
		if (pos + 1 >= len) {
			*err_at = len;
			return -1;
		}
		unsigned cp;
		switch (s[pos + 1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			pos += 2;
			break;
		case 'u':
			if (hex4(s, len, pos + 2, &cp, err_at))
				return -1;
			if (cp >= 0xDC00 && cp <= 0xDFFF) {
				*err_at = pos; /* low surrogate alone */
				return -1;
			}
			if (cp < 0xD800 || cp > 0xDBFF) {
				pos += 6;
				break;
			}
			/* A high surrogate needs a low one right after. */
			if (pos + 7 >= len) {
				*err_at = len;
				return -1;
			}
			if (s[pos + 6] != '\\' || s[pos + 7] != 'u') {
				*err_at = pos;
				return -1;
			}
			if (hex4(s, len, pos + 8, &cp, err_at))
				return -1;
			if (cp < 0xDC00 || cp > 0xDFFF) {
				*err_at = pos;
				return -1;
			}
			pos += 12;
			break;
		default:
			*err_at = pos + 1;
			return -1;
		}
	}
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(const unsigned char *s, size_t len, size_t pos,
		       size_t *end, size_t *err_at)
{
	if (pos < len && s[pos] == '-')
		pos++;
	if (pos < len && s[pos] == '0') {
		pos++;
	} else if (pos < len && s[pos] >= '1' && s[pos] <= '9') {
		while (pos < len && is_digit(s[pos]))
			pos++;
	} else {
		*err_at = pos;
		return -1;
	}
	if (pos < len && s[pos] == '.') {
		pos++;
		if (pos >= len || !is_digit(s[pos])) {
			*err_at = pos;
			return -1;
		}
		while (pos < len && is_digit(s[pos]))
			pos++;
	}
	if (pos < len && (s[pos] == 'e' || s[pos] == 'E')) {
		pos++;
		if (pos < len && (s[pos] == '+' || s[pos] == '-'))
			pos++;
		if (pos >= len || !is_digit(s[pos])) {
			*err_at = pos;
			return -1;
		}
		while (pos < len && is_digit(s[pos]))
			pos++;
	}
	*end = pos;
	return 0;
}

static int scan_literal(const unsigned char *s, size_t len, size_t pos,
			const char *lit, size_t *end, size_t *err_at)
{
	size_t n = strlen(lit);
	for (size_t i = 0; i < n; i++) {
		if (pos + i >= len || s[pos + i] != (unsigned char)lit[i]) {
			*err_at = pos + i;
			return -1;
		}
	}
	*end = pos + n;
	return 0;
}

/* Scans one scalar (string, number, literal) at s[pos]. */
static int scan_scalar(const unsigned char *s, size_t len, size_t pos,
		       size_t *end, size_t *err_at)
{
	switch (s[pos]) {
	case '"':
		return scan_string(s, len, pos, end, err_at);
	case 't':
		return scan_literal(s, len, pos, "true", end, err_at);
	case 'f':
		return scan_literal(s, len, pos, "false", end, err_at);
	case 'n':
		return scan_literal(s, len, pos, "null", end, err_at);
	default:
		if (s[pos] == '-' || is_digit(s[pos]))
			return scan_number(s, len, pos, end, err_at);
		*err_at = pos;
		return -1;
	}
}

enum scan_state { EXPECT_VALUE, EXPECT_KEY, AFTER_VALUE };

int fbx_json_scan_value(const char *text, size_t len, size_t pos,
			struct fbx_json_span *out, size_t *err_off)
{
	const unsigned char *s = (const unsigned char *)text;
	/* One bit a level: set for an object, clear for an array. */
	unsigned char in_object[FBX_JSON_MAX_DEPTH / CHAR_BIT + 1];
	size_t depth = 0, start = pos, end, err_at = 0;
	enum scan_state state = EXPECT_VALUE;

	if (!text)
		len = 0;
	for (;;) {
		switch (state) {
		case EXPECT_VALUE:
			if (pos >= len) {
				err_at = len;
				goto fail;
			}
			if (s[pos] != '{' && s[pos] != '[') {
				if (scan_scalar(s, len, pos, &end, &err_at))
					goto fail;
				pos = end;
				state = AFTER_VALUE;
				break;
			}
			if (depth >= FBX_JSON_MAX_DEPTH) {
				err_at = pos;
				goto fail;
			}
			bool obj = s[pos] == '{';
			unsigned char bit =
			    (unsigned char)(1u << depth % CHAR_BIT);
			if (obj)
				in_object[depth / CHAR_BIT] |= bit;
			else
				in_object[depth / CHAR_BIT] &=
				    (unsigned char)~bit;
			depth++;
			pos = fbx_json_skip_ws(text, len, pos + 1);
			if (pos < len && s[pos] == (obj ? '}' : ']')) {
				pos++;
				depth--;
				state = AFTER_VALUE;
			} else {
				state = obj ? EXPECT_KEY : EXPECT_VALUE;
			}
			break;
		case EXPECT_KEY:
			if (pos >= len || s[pos] != '"') {
				err_at = pos;
				goto fail;
			}
			if (scan_string(s, len, pos, &end, &err_at))
				goto fail;
			pos = fbx_json_skip_ws(text, len, end);
			if (pos >= len || s[pos] != ':') {
				err_at = pos;
				goto fail;
			}
			pos = fbx_json_skip_ws(text, len, pos + 1);
			state = EXPECT_VALUE;
			break;
		case AFTER_VALUE:
			if (depth == 0) {
				out->start = start;
				out->end = pos;
				return 0;
			}
			pos = fbx_json_skip_ws(text, len, pos);
			size_t top = depth - 1;
			bool in_obj =
			    in_object[top / CHAR_BIT] >> top % CHAR_BIT & 1;
			if (pos < len && s[pos] == ',') {
				pos = fbx_json_skip_ws(text, len, pos + 1);
				state = in_obj ? EXPECT_KEY : EXPECT_VALUE;
			} else if (pos < len &&
				   s[pos] == (in_obj ? '}' : ']')) {
				pos++;
				depth--;
			} else {
				err_at = pos;
				goto fail;
			}
			break;
		}
	}
fail:
	if (err_off)
		*err_off = err_at;
	return -1;
}

bool fbx_json_validate(const char *text, size_t len, size_t *err_off)
{
	struct fbx_json_span v;
	size_t pos = fbx_json_skip_ws(text, len, 0);
	if (fbx_json_scan_value(text, len, pos, &v, err_off))
		return false;
	pos = fbx_json_skip_ws(text, len, v.end);
	if (pos != len) {
		if (err_off)
			*err_off = pos;
		return false;
	}
	return true;
}

int fbx_json_object_open(struct fbx_json_iter *it, const char *text, size_t len,
			 size_t pos)
{
	it->text = text;
	it->len = text ? len : 0;
	it->pos = pos;
	it->state = -1;
	if (pos >= it->len || text[pos] != '{')
		return -1;
	it->pos = pos + 1;
	it->state = 0;
	return 0;
}

int fbx_json_object_next(struct fbx_json_iter *it, struct fbx_json_span *key,
			 struct fbx_json_span *value)
{
	const char *s = it->text;
	size_t len = it->len;

	if (it->state == 2)
		return 0;
	if (it->state < 0)
		return -1;
	size_t pos = fbx_json_skip_ws(s, len, it->pos);
	if (pos < len && s[pos] == '}') {
		it->pos = pos + 1;
		it->state = 2;
		return 0;
	}
	if (it->state == 1) {
		if (pos >= len || s[pos] != ',')
			goto broken;
		pos = fbx_json_skip_ws(s, len, pos + 1);
	}
	if (pos >= len || s[pos] != '"' ||
	    fbx_json_scan_value(s, len, pos, key, NULL))
		goto broken;
	pos = fbx_json_skip_ws(s, len, key->end);
	if (pos >= len || s[pos] != ':')
		goto broken;
	pos = fbx_json_skip_ws(s, len, pos + 1);
	if (fbx_json_scan_value(s, len, pos, value, NULL))
		goto broken;
	it->pos = value->end;
	it->state = 1;
	return 1;
broken:
	it->state = -1;
	return -1;
}

bool fbx_json_string_equals(const char *text, struct fbx_json_span str,
			    const char *lit)
{
	const unsigned char *s = (const unsigned char *)text;
	if (!text || str.end < str.start + 2 || s[str.start] != '"')
		return false;
	size_t i = str.start + 1, stop = str.end - 1;
	while (i < stop) {
		unsigned cp = s[i];
		if (cp == '\\') {
			if (i + 1 >= stop)
				return false;
			size_t err_at;
			switch (s[i + 1]) {
			case 'b':
				cp = '\b';
				break;
			case 'f':
				cp = '\f';
				break;
			case 'n':
				cp = '\n';
				break;
			case 'r':
				cp = '\r';
				break;
			case 't':
				cp = '\t';
				break;
			case 'u':
				if (hex4(s, stop, i + 2, &cp, &err_at))
					return false;
				i += 4;
				break;
			default: /* \" \\ \/ */
				cp = s[i + 1];
				break;
			}
			i += 2;
		} else {
			i++;
		}
		/* Non-ASCII cannot match: lit is ASCII. */
		if (cp == 0 || cp >= 0x80 || (unsigned char)*lit != cp)
			return false;
		lit++;
	}
	return *lit == '\0';
}

bool fbx_json_string_has_nul(const char *text, struct fbx_json_span str)
{
	if (!text || str.end < str.start + 2)
		return false;
	size_t i = str.start + 1, stop = str.end - 1;
	while (i < stop) {
		if (text[i] != '\\') {
			i++;
			continue;
		}
		if (i + 1 < stop && text[i + 1] == 'u') {
			if (i + 6 <= stop &&
			    memcmp(text + i + 2, "0000", 4) == 0)
				return true;
			i += 6;
		} else {
			i += 2;
		}
	}
	return false;
}

size_t fbx_utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
	size_t dummy, need;
	unsigned char lo = 0x80, hi = 0xBF;

	if (!bad)
		bad = &dummy;
	*bad = 1;
	if (n == 0)
		return 0;
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	/* Unicode 15 table 3-7, Well-Formed UTF-8 Byte Sequences. */
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0; /* continuation byte, C0, C1, F5..FF */
	}
	for (size_t i = 1; i < need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need;
}

bool fbx_utf8_valid(const char *s, size_t n, size_t *bad_off)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = fbx_utf8_seq(u + i, n - i, NULL);
		if (!k) {
			if (bad_off)
				*bad_off = i;
			return false;
		}
		i += k;
	}
	return true;
}
