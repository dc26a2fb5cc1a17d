/* Byte-level JSON scanning: strict validation and raw spans, without
 * building a tree. Pure: no I/O, no allocation.
 *
 * The request parser uses it to hand the event and the id on as their exact
 * original text (a tree would turn 12345678901234567890 into a double), the
 * response builder to check raw pieces before pasting them in. Validation is
 * strict RFC 8259 (cJSON is lenient: it takes 01, 1., raw control characters
 * in strings and control bytes as whitespace) plus two refusals: lone UTF-16
 * surrogates in \u escapes and nesting deeper than FBX_JSON_MAX_DEPTH.
 *
 * Every function is safe on any input: it never reads outside
 * text[0..len), and nesting is tracked iteratively in a fixed bit stack. */
#ifndef FORKBOX_JSON_SCAN_H
#define FORKBOX_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* Same as cJSON's CJSON_NESTING_LIMIT. */
#define FBX_JSON_MAX_DEPTH 1000

/* Half-open byte range [start, end) of a value; for strings the quotes are
 * included. */
struct fbx_json_span {
	size_t start;
	size_t end;
};

/* Offset of the first byte at or after pos that is not JSON whitespace
 * (space, tab, LF, CR); len when there is none. */
size_t fbx_json_skip_ws(const char *text, size_t len, size_t pos);

/* Scans the one value starting exactly at text[pos] (no leading
 * whitespace). Returns 0 and sets out, or -1 and sets *err_off (when
 * non-NULL) to the offset of the first byte that is wrong (len when the
 * text ends too early). */
int fbx_json_scan_value(const char *text, size_t len, size_t pos,
			struct fbx_json_span *out, size_t *err_off);

/* True when text[0..len) is one strict JSON value, surrounding whitespace
 * allowed; on false *err_off (when non-NULL) is where it goes wrong. Does
 * not look at UTF-8: see fbx_utf8_valid. */
bool fbx_json_validate(const char *text, size_t len, size_t *err_off);

/* Iterates the members of an object, in text order:
 *
 *	struct fbx_json_iter it;
 *	struct fbx_json_span key, value;
 *	if (fbx_json_object_open(&it, text, len, pos) == 0)
 *		while ((rc = fbx_json_object_next(&it, &key, &value)) == 1)
 *			...
 *
 * open returns -1 when text[pos] is not '{'; next returns 1 with a member,
 * 0 at the closing brace, -1 on malformed text (and then keeps failing). */
struct fbx_json_iter {
	const char *text;
	size_t len;
	size_t pos;
	int state; /* 0 first member, 1 later members, -1 done or broken */
};

int fbx_json_object_open(struct fbx_json_iter *it, const char *text, size_t len,
			 size_t pos);
int fbx_json_object_next(struct fbx_json_iter *it, struct fbx_json_span *key,
			 struct fbx_json_span *value);

/* True when the (validated) string at span decodes exactly to the ASCII
 * text lit, escapes included: "\u0069d" equals "id". */
bool fbx_json_string_equals(const char *text, struct fbx_json_span str,
			    const char *lit);

/* True when the (validated) string at span holds a \u0000 escape. */
bool fbx_json_string_has_nul(const char *text, struct fbx_json_span str);

/* Length of the well-formed UTF-8 sequence at s[0..n) (1 to 4), or 0 when
 * it is ill-formed (overlong, surrogate, above U+10FFFF, truncated, stray
 * continuation byte); then *bad (when non-NULL) is the length of its
 * maximal ill-formed prefix (at least 1), the bytes one U+FFFD replaces.
 * n must be at least 1. */
size_t fbx_utf8_seq(const unsigned char *s, size_t n, size_t *bad);

/* True when s[0..n) is well-formed UTF-8; else *bad_off (when non-NULL)
 * is the offset of the first ill-formed sequence. */
bool fbx_utf8_valid(const char *s, size_t n, size_t *bad_off);

#endif
