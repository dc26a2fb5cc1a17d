/* Shared by the two halves of the policy reader only: policy_parse.c (the
 * grammar) and policy_include.c (@include: files, paths, cycles). Nothing
 * here is part of the policy API (policy.h). */
#ifndef FORKBOX_POLICY_INTERNAL_H
#define FORKBOX_POLICY_INTERNAL_H

#include <errno.h>
#include <stddef.h>

#include "policy.h"

#define MAX_INCLUDE_DEPTH 16

struct place {
	char file[256];
	unsigned line;
};

struct reader {
	struct fbx_policy *p;
	struct fbx_error *err;
	struct place *skipped_at; /* parallel to p->skipped */
	/* Files being read, outermost first, for include cycles. */
	const char *chain[MAX_INCLUDE_DEPTH + 1];
	const char *chain_real[MAX_INCLUDE_DEPTH + 1];
	unsigned depth;
	struct place default_at, unknown_at; /* line 0: not given yet */
	/* Once "@after-load" is read, p is the after-load stage and main
	 * the policy it belongs to; main is NULL before. */
	struct fbx_policy *main;
	struct place after_load_at;
};

struct cursor {
	struct reader *r;
	const char *s; /* the line, comment cut off; not NUL-terminated */
	size_t len, pos;
	const char *file;
	const char *dir; /* for @include; NULL refuses includes */
	unsigned line;
};

/* Sets the reader's error to "file:line:column: message", the column being
 * that of c->s[pos], and returns -code. */
int fbx_policy_fail_code(const struct cursor *c, size_t pos, int code,
			 const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define fbx_policy_fail(c, pos, ...)                                           \
	fbx_policy_fail_code(c, pos, EINVAL, __VA_ARGS__)

/* "expected end of line after <after>" unless only blanks are left. */
int fbx_policy_expect_end(struct cursor *c, const char *after);

/* "@after-load" at c (the '@' at column at): switches the reader to the
 * after-load stage (policy_stage.c). */
int fbx_policy_parse_after_load(struct cursor *c, size_t at);

/* Parses one file's text into r (policy_parse.c). real is the file's
 * realpath for cycle detection, NULL for a policy given as a string; dir
 * resolves its relative includes (NULL refuses includes). */
int fbx_policy_parse_text(struct reader *r, const char *text, size_t len,
			  const char *file, const char *dir, const char *real);

/* Reads and parses one file (policy_include.c): a top-level policy
 * (c == NULL) or an @include at cursor position pos. */
int fbx_policy_read_file(struct reader *r, const char *path,
			 const struct cursor *c, size_t pos);

/* Reads the file an @include names: c->s[start] onwards, n bytes, relative
 * to the including file's directory unless absolute (policy_include.c). */
int fbx_policy_include(const struct cursor *c, size_t start, size_t n);

#endif
