/* Policy reader: text -> struct fbx_policy (SPEC "Policies").
 *
 * Pure apart from reading the files it is asked to read (policy_include.c,
 * which owns files, @include paths and include cycles), and free of
 * libseccomp: syscall names are resolved by fbx_policy_resolve_name()
 * (policy_compile.c), which owns everything libseccomp.
 *
 * A line is cut at '#' (the grammar has no strings, so '#' is always a
 * comment), then parsed by a cursor that knows its file and line, so every
 * error can say file:line:column. Any error frees everything read so far:
 * a bad policy never half-loads. */
#include "policy_consts.h"
#include "policy_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds that keep the compiled filter well under BPF_MAXINSNS. */
#define MAX_CLAUSES 32
#define MAX_CMPS    16

int fbx_policy_fail_code(const struct cursor *c, size_t pos, int code,
			 const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return fbx_error_set(c->r->err, code, "%s:%u:%zu: %s", c->file, c->line,
			     pos + 1, what);
}

/* The short name, for the many call sites here. */
#define fail(c, pos, ...) fbx_policy_fail(c, pos, __VA_ARGS__)

static bool is_word_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_';
}

static void skip_ws(struct cursor *c)
{
	while (c->pos < c->len &&
	       (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' ||
		c->s[c->pos] == '\r'))
		c->pos++;
}

/* Length of the word at the cursor (0 when none); does not advance. */
static size_t word_len(const struct cursor *c)
{
	size_t n = 0;
	while (c->pos + n < c->len && is_word_char(c->s[c->pos + n]))
		n++;
	return n;
}

static bool word_is(const struct cursor *c, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(c->s + c->pos, w, n) == 0;
}

static bool looking_at(const struct cursor *c, const char *tok)
{
	size_t n = strlen(tok);
	return c->pos + n <= c->len && memcmp(c->s + c->pos, tok, n) == 0;
}

/* What the cursor is looking at, for "expected X, got Y" messages. */
#define GOT(c) fbx_policy_token((c)->s, (c)->len, (c)->pos, (char[64]){0}, 64)

int fbx_policy_expect_end(struct cursor *c, const char *after)
{
	skip_ws(c);
	if (c->pos < c->len)
		return fail(c, c->pos, "expected end of line after %s, got %s",
			    after, GOT(c));
	return 0;
}

static int grow(void *arrp, size_t *cap, size_t n, size_t elem)
{
	void **arr = arrp;
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *na = realloc(*arr, ncap * elem);
	if (!na)
		return -ENOMEM;
	memset((char *)na + *cap * elem, 0, (ncap - *cap) * elem);
	*arr = na;
	*cap = ncap;
	return 0;
}

/* VALUE and ERRNO tokens are read by policy_consts.c, which knows the names;
 * these wrappers only add the location to its messages. */
static int parse_value(struct cursor *c, uint64_t *out)
{
	char msg[200];
	if (fbx_policy_read_value(c->s, c->len, &c->pos, out, msg, sizeof(msg)))
		return fail(c, c->pos, "%s", msg);
	return 0;
}

static int parse_errno(struct cursor *c, int *out)
{
	char msg[200];
	if (fbx_policy_read_errno(c->s, c->len, &c->pos, out, msg, sizeof(msg)))
		return fail(c, c->pos, "%s", msg);
	return 0;
}

static int parse_cmp(struct cursor *c, struct fbx_policy_cmp *cmp)
{
	skip_ws(c);
	size_t start = c->pos, n = word_len(c);
	if (n != 4 || memcmp(c->s + start, "arg", 3) != 0 ||
	    c->s[start + 3] < '0' || c->s[start + 3] > '9')
		return fail(c, start, "expected argN (N from 0 to 5), got %s",
			    GOT(c));
	cmp->arg = (unsigned)(c->s[start + 3] - '0');
	if (cmp->arg > 5)
		return fail(c, start, "argument index must be 0 to 5, got %.4s",
			    c->s + start);
	c->pos += n;
	skip_ws(c);
	static const struct {
		const char *tok;
		enum fbx_cmp_op op;
	} ops[] = {
	    {"==", FBX_CMP_EQ}, {"!=", FBX_CMP_NE}, {"<=", FBX_CMP_LE},
	    {">=", FBX_CMP_GE}, {"<", FBX_CMP_LT},  {">", FBX_CMP_GT},
	};
	size_t op_pos = c->pos;
	bool found = false;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && !found; i++) {
		if (looking_at(c, ops[i].tok)) {
			cmp->op = ops[i].op;
			c->pos += strlen(ops[i].tok);
			found = true;
		}
	}
	if (!found && looking_at(c, "&") && !looking_at(c, "&&")) {
		cmp->op = FBX_CMP_MASKED_SET;
		c->pos++;
		found = true;
	}
	if (!found && word_is(c, word_len(c), "in")) {
		cmp->op = FBX_CMP_IN;
		c->pos += 2;
		found = true;
	}
	if (!found)
		return fail(c, op_pos,
			    "expected an operator (== != < <= > >= & in) after "
			    "%.4s, got %s",
			    c->s + start, GOT(c));
	skip_ws(c);
	size_t value_pos = c->pos;
	int rc = parse_value(c, &cmp->value);
	if (rc)
		return rc;
	if (cmp->op == FBX_CMP_MASKED_SET && cmp->value == 0)
		return fail(c, value_pos,
			    "'&' needs a non-zero value (no flag is ever set "
			    "in 0)");
	return 0;
}

/* EXPR [; return ERRNO]: an OR of ANDs of comparisons. */
static int parse_expr(struct cursor *c, struct fbx_policy_rule *rule)
{
	size_t cap = 0;
	for (;;) {
		skip_ws(c);
		if (rule->n_clauses == MAX_CLAUSES)
			return fail(c, c->pos, "more than %d '||' alternatives",
				    MAX_CLAUSES);
		if (grow(&rule->clauses, &cap, rule->n_clauses,
			 sizeof(*rule->clauses)))
			return fbx_error_set(c->r->err, ENOMEM,
					     "out of memory");
		struct fbx_policy_clause *cl =
		    &rule->clauses[rule->n_clauses++];
		size_t ccap = 0;
		for (;;) {
			skip_ws(c);
			if (cl->n_cmps == MAX_CMPS)
				return fail(c, c->pos,
					    "more than %d '&&' comparisons",
					    MAX_CMPS);
			if (grow(&cl->cmps, &ccap, cl->n_cmps,
				 sizeof(*cl->cmps)))
				return fbx_error_set(c->r->err, ENOMEM,
						     "out of memory");
			int rc = parse_cmp(c, &cl->cmps[cl->n_cmps]);
			if (rc)
				return rc;
			cl->n_cmps++;
			skip_ws(c);
			if (!looking_at(c, "&&"))
				break;
			c->pos += 2;
		}
		if (!looking_at(c, "||"))
			break;
		c->pos += 2;
	}
	skip_ws(c);
	if (c->pos == c->len)
		return 0;
	if (c->s[c->pos] != ';')
		return fail(c, c->pos,
			    "expected '&&', '||', ';' or end of line, got %s",
			    GOT(c));
	c->pos++;
	skip_ws(c);
	if (!word_is(c, word_len(c), "return"))
		return fail(c, c->pos,
			    "expected 'return ERRNO' after ';', got %s",
			    GOT(c));
	c->pos += 6;
	int rc = parse_errno(c, &rule->else_errno);
	return rc ? rc : fbx_policy_expect_end(c, "the errno");
}

/* What follows "name:". */
static int parse_body(struct cursor *c, struct fbx_policy_rule *rule)
{
	skip_ws(c);
	size_t n = word_len(c);
	if (word_is(c, n, "1")) {
		c->pos++;
		return fbx_policy_expect_end(c, "'1'");
	}
	if (word_is(c, n, "return")) {
		c->pos += n;
		rule->action = FBX_ACTION_ERRNO;
		int rc = parse_errno(c, &rule->errno_value);
		return rc ? rc : fbx_policy_expect_end(c, "the errno");
	}
	static const struct {
		const char *word;
		enum fbx_action action;
	} actions[] = {{"kill", FBX_ACTION_KILL},
		       {"trap", FBX_ACTION_TRAP},
		       {"log", FBX_ACTION_LOG}};
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (word_is(c, n, actions[i].word)) {
			c->pos += n;
			rule->action = actions[i].action;
			return fbx_policy_expect_end(c, actions[i].word);
		}
	}
	if (n >= 3 && memcmp(c->s + c->pos, "arg", 3) == 0)
		return parse_expr(c, rule);
	return fail(c, c->pos,
		    "expected 1, 'return ERRNO', kill, trap, log or an "
		    "expression (argN OP VALUE) after ':', got %s",
		    GOT(c));
}

static void free_rule(struct fbx_policy_rule *rule)
{
	for (size_t i = 0; i < rule->n_clauses; i++)
		free(rule->clauses[i].cmps);
	free(rule->clauses);
	rule->clauses = NULL;
	rule->n_clauses = 0;
}

/* Whether a name was listed before (a rule or a skipped name), and where. */
static bool find_listed(const struct reader *r, const char *name,
			struct place *where)
{
	const struct fbx_policy *p = r->p;
	for (size_t i = 0; i < p->n_rules; i++) {
		if (strcmp(p->rules[i].name, name) == 0) {
			snprintf(where->file, sizeof(where->file), "%s",
				 p->rules[i].file);
			where->line = p->rules[i].line;
			return true;
		}
	}
	for (size_t i = 0; i < p->n_skipped; i++) {
		if (strcmp(p->skipped[i], name) == 0) {
			/* Places are kept for the stage being read only. */
			if (r->skipped_at)
				*where = r->skipped_at[i];
			else
				memset(where, 0, sizeof(*where));
			return true;
		}
	}
	return false;
}

static int add_skipped(struct reader *r, const char *name,
		       const struct cursor *c)
{
	struct fbx_policy *p = r->p;
	char **ns = realloc(p->skipped, (p->n_skipped + 1) * sizeof(*ns));
	if (!ns)
		return fbx_error_set(r->err, ENOMEM, "out of memory");
	p->skipped = ns;
	struct place *np =
	    realloc(r->skipped_at, (p->n_skipped + 1) * sizeof(*np));
	if (!np)
		return fbx_error_set(r->err, ENOMEM, "out of memory");
	r->skipped_at = np;
	ns[p->n_skipped] = strdup(name);
	if (!ns[p->n_skipped])
		return fbx_error_set(r->err, ENOMEM, "out of memory");
	snprintf(np[p->n_skipped].file, sizeof(np->file), "%s", c->file);
	np[p->n_skipped].line = c->line;
	p->n_skipped++;
	return 0;
}

static int parse_rule(struct cursor *c)
{
	struct reader *r = c->r;
	size_t name_pos = c->pos, n = word_len(c);
	if (!n)
		return fail(c, c->pos,
			    "expected a syscall name or a directive, got %s",
			    GOT(c));
	struct fbx_policy_rule rule = {
	    .action = FBX_ACTION_ALLOW, .else_errno = -1, .line = c->line};
	if (n >= sizeof(rule.name))
		return fail(c, name_pos, "syscall name too long");
	memcpy(rule.name, c->s + name_pos, n);
	snprintf(rule.file, sizeof(rule.file), "%s", c->file);
	c->pos += n;

	struct place first;
	if (find_listed(r, rule.name, &first))
		return fail(c, name_pos, "'%s' listed twice (first at %s:%u)",
			    rule.name, first.file, first.line);
	if (fbx_policy_resolve_name(rule.name, &rule.nr) < 0)
		return fail(c, name_pos, "unknown syscall '%s'", rule.name);

	skip_ws(c);
	int rc = 0;
	if (c->pos < c->len) {
		if (c->s[c->pos] != ':')
			return fail(c, c->pos,
				    "expected ':' or end of line after the "
				    "syscall name, got %s",
				    GOT(c));
		c->pos++;
		rc = parse_body(c, &rule);
	}
	struct fbx_policy *p = r->p;
	if (!rc && rule.nr < 0) {
		/* Still parsed in full, so that a policy checked on one
		 * architecture has no syntax errors on another. */
		free_rule(&rule);
		return add_skipped(r, rule.name, c);
	}
	if (!rc) {
		struct fbx_policy_rule *nr =
		    realloc(p->rules, (p->n_rules + 1) * sizeof(*nr));
		if (!nr)
			rc = fbx_error_set(r->err, ENOMEM, "out of memory");
		else
			p->rules = nr;
	}
	if (rc) {
		free_rule(&rule);
		return rc;
	}
	p->rules[p->n_rules++] = rule;
	return 0;
}

/* The file name is read here, as any other token; what it names is
 * policy_include.c's business. */
static int parse_include(struct cursor *c)
{
	skip_ws(c);
	size_t start = c->pos;
	while (c->pos < c->len && c->s[c->pos] != ' ' && c->s[c->pos] != '\t' &&
	       c->s[c->pos] != '\r')
		c->pos++;
	if (c->pos == start)
		return fail(c, start, "expected a file name after @include");
	size_t n = c->pos - start;
	int rc = fbx_policy_expect_end(c, "the file name");
	return rc ? rc : fbx_policy_include(c, start, n);
}

/* @default and @unknown may each be given once in a policy and its
 * includes; a second one is more likely a mistake than an override. */
static int once(struct cursor *c, size_t at, struct place *given,
		const char *what)
{
	if (given->line)
		return fail(c, at, "%s given twice (first at %s:%u)", what,
			    given->file, given->line);
	snprintf(given->file, sizeof(given->file), "%s", c->file);
	given->line = c->line;
	return 0;
}

static int parse_directive(struct cursor *c)
{
	struct fbx_policy *p = c->r->p;
	size_t at = c->pos++;
	size_t n = word_len(c);
	bool is_default = word_is(c, n, "default");
	if (word_is(c, n, "include")) {
		c->pos += n;
		return parse_include(c);
	}
	if (word_is(c, n, "after") && c->pos + 10 <= c->len &&
	    memcmp(c->s + c->pos, "after-load", 10) == 0 &&
	    (c->pos + 10 == c->len || !is_word_char(c->s[c->pos + 10]))) {
		c->pos += 10;
		return fbx_policy_parse_after_load(c, at);
	}
	if (!is_default && !word_is(c, n, "unknown")) {
		while (c->pos + n < c->len && (is_word_char(c->s[c->pos + n]) ||
					       c->s[c->pos + n] == '-'))
			n++; /* name the whole token, dashes included */
		return fail(c, at,
			    "unknown directive '@%.*s' (expected @include, "
			    "@default, @unknown or @after-load)",
			    (int)n, c->s + c->pos);
	}
	c->pos += n;
	int rc = once(c, at, is_default ? &c->r->default_at : &c->r->unknown_at,
		      is_default ? "@default" : "@unknown");
	if (rc)
		return rc;
	skip_ws(c);
	n = word_len(c);
	if (word_is(c, n, "errno")) {
		c->pos += n;
		int e;
		rc = parse_errno(c, &e);
		if (rc)
			return rc;
		if (is_default) {
			p->default_action = FBX_ACTION_ERRNO;
			p->default_errno = e;
		} else {
			p->unknown_errno = e;
		}
		return fbx_policy_expect_end(c, "the errno");
	}
	if (!is_default)
		return fail(c, c->pos,
			    "expected 'errno ERRNO' after @unknown, "
			    "got %s",
			    GOT(c));
	if (word_is(c, n, "kill"))
		p->default_action = FBX_ACTION_KILL;
	else if (word_is(c, n, "trap"))
		p->default_action = FBX_ACTION_TRAP;
	else if (word_is(c, n, "log"))
		p->default_action = FBX_ACTION_LOG;
	else
		return fail(c, c->pos,
			    "expected kill, trap, log or 'errno ERRNO' after "
			    "@default, got %s",
			    GOT(c));
	c->pos += n;
	return fbx_policy_expect_end(c, "the action");
}

int fbx_policy_parse_text(struct reader *r, const char *text, size_t len,
			  const char *file, const char *dir, const char *real)
{
	r->chain[r->depth] = file;
	r->chain_real[r->depth] = real;
	r->depth++;
	struct cursor c = {.r = r, .file = file, .dir = dir};
	int rc = 0;
	for (size_t off = 0; off < len && !rc;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *hash = memchr(text + off, '#', end - off);
		c.s = text + off;
		c.len = hash ? (size_t)(hash - c.s) : end - off;
		c.pos = 0;
		c.line++;
		skip_ws(&c);
		if (c.pos < c.len)
			rc = c.s[c.pos] == '@' ? parse_directive(&c)
					       : parse_rule(&c);
		off = end + 1;
	}
	r->depth--;
	return rc;
}

void fbx_policy_free(struct fbx_policy *policy)
{
	if (!policy)
		return;
	for (size_t i = 0; i < policy->n_rules; i++)
		free_rule(&policy->rules[i]);
	free(policy->rules);
	for (size_t i = 0; i < policy->n_skipped; i++)
		free(policy->skipped[i]);
	free(policy->skipped);
	fbx_policy_free(policy->after_load);
	free(policy);
}

/* clone3 passes its flags in memory, where seccomp cannot look, so a policy
 * that says nothing about it gets ENOSYS and glibc falls back to clone(2),
 * whose flags the filter can check. */
static int add_clone3_default(struct reader *r)
{
	struct place first;
	int nr;
	if (fbx_policy_resolve_name("clone3", &nr) != 0 ||
	    find_listed(r, "clone3", &first))
		return 0;
	struct fbx_policy *p = r->p;
	struct fbx_policy_rule *nrules =
	    realloc(p->rules, (p->n_rules + 1) * sizeof(*nrules));
	if (!nrules)
		return fbx_error_set(r->err, ENOMEM, "out of memory");
	p->rules = nrules;
	struct fbx_policy_rule *rule = &p->rules[p->n_rules++];
	*rule = (struct fbx_policy_rule){.nr = nr,
					 .action = FBX_ACTION_ERRNO,
					 .errno_value = ENOSYS,
					 .else_errno = -1};
	snprintf(rule->name, sizeof(rule->name), "clone3");
	snprintf(rule->file, sizeof(rule->file), FBX_POLICY_BUILTIN_FILE);
	return 0;
}

static int read_top(const char *path, const char *text, const char *name,
		    const char *base_dir, struct fbx_policy **out,
		    struct fbx_error *err)
{
	*out = NULL;
	struct reader r = {.err = err};
	r.p = calloc(1, sizeof(*r.p));
	if (!r.p)
		return fbx_error_set(err, ENOMEM, "out of memory");
	r.p->default_action = FBX_ACTION_KILL;
	r.p->unknown_errno = -1;
	int rc = path ? fbx_policy_read_file(&r, path, NULL, 0)
		      : fbx_policy_parse_text(&r, text, strlen(text), name,
					      base_dir, NULL);
	if (!rc)
		rc = add_clone3_default(&r);
	free(r.skipped_at);
	r.skipped_at = NULL;
	struct fbx_policy *top = r.main ? r.main : r.p;
	if (!rc && r.main) {
		/* The stage without an @default of its own kills what the
		 * loader would (its @default may come after @after-load's
		 * line in an include, so this is settled at the end). */
		if (!r.default_at.line) {
			r.p->default_action = top->default_action;
			r.p->default_errno = top->default_errno;
		}
		r.p = top;
		rc = add_clone3_default(&r);
		free(r.skipped_at);
	}
	if (rc) {
		fbx_policy_free(top);
		return rc;
	}
	*out = top;
	return 0;
}

int fbx_policy_load(const char *path, struct fbx_policy **out,
		    struct fbx_error *err)
{
	return read_top(path, NULL, NULL, NULL, out, err);
}

int fbx_policy_parse(const char *text, const char *name, const char *base_dir,
		     struct fbx_policy **out, struct fbx_error *err)
{
	return read_top(NULL, text, name ? name : "<string>", base_dir, out,
			err);
}
