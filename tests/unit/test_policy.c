/* Unit tests for the policy reader (policy_parse.c, policy_consts.c) and
 * compiler (policy_compile.c).
 *
 * Grammar and error messages are tested from inline strings; includes from
 * files written to a fresh temporary directory. Compiled filters are checked
 * two ways: run in-process through a small classic-BPF interpreter against
 * many argument values (fast, exhaustive over edge cases), and loaded for
 * real in forked children that then make allowed, denied, errno, x32 and
 * i386 syscalls and report through their wait status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>
#include <setjmp.h> /* cmocka.h needs setjmp.h, stdarg.h, stddef.h first */

#include <cmocka.h>

#include "policy.h"
#include "policy_consts.h"

/* --- helpers ------------------------------------------------------------- */

static struct fbx_policy *parse_ok(const char *text)
{
	struct fbx_error err = {0};
	struct fbx_policy *p = NULL;
	int rc = fbx_policy_parse(text, "t.policy", NULL, &p, &err);
	if (rc)
		fail_msg("unexpected error %d: %s", rc, err.msg);
	return p;
}

static void parse_err(const char *text, const char *msg)
{
	struct fbx_error err = {0};
	struct fbx_policy *p = (void *)1;
	int rc = fbx_policy_parse(text, "t.policy", NULL, &p, &err);
	if (rc >= 0)
		fail_msg("no error for \"%s\"", text);
	assert_null(p);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("for \"%s\"\n  got:  %s\n  want: %s", text, err.msg,
			 msg);
}

static const struct fbx_policy_rule *rule(const struct fbx_policy *p,
					  const char *name)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		if (strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	}
	fail_msg("no rule for %s", name);
	return NULL;
}

static bool has_rule(const struct fbx_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		if (strcmp(p->rules[i].name, name) == 0)
			return true;
	}
	return false;
}

static int nr_of(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);
	assert_true(nr >= 0);
	return nr;
}

/* A temporary directory for include tests; files are removed at teardown. */
struct tmpdir {
	char path[64];
	char files[40][128];
	int n_files;
	char dirs[8][128];
	int n_dirs;
};

static void tmp_mkdir(struct tmpdir *t, const char *rel)
{
	char base[sizeof(t->path)];
	memcpy(base, t->path, sizeof(base));
	snprintf(t->dirs[t->n_dirs], sizeof(t->dirs[0]), "%s/%s", base, rel);
	assert_int_equal(mkdir(t->dirs[t->n_dirs], 0700), 0);
	t->n_dirs++;
}

static void tmp_write(struct tmpdir *t, const char *rel, const char *text)
{
	char *path = t->files[t->n_files++], base[sizeof(t->path)];
	memcpy(base, t->path, sizeof(base));
	snprintf(path, sizeof(t->files[0]), "%s/%s", base, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int tmp_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "/tmp/fbx-policy-XXXXXX");
	if (!t || !mkdtemp(t->path))
		return -1;
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmpdir *t = *state;
	for (int i = 0; i < t->n_files; i++)
		unlink(t->files[i]);
	for (int i = t->n_dirs - 1; i >= 0; i--)
		rmdir(t->dirs[i]);
	rmdir(t->path);
	free(t);
	return 0;
}

/* Loads rel and expects an error with code and message fmt (%1$s = the tmp
 * dir); fmt NULL expects success. */
static void load_err(struct tmpdir *t, const char *rel, int code,
		     const char *fmt)
{
	char path[160], want[600] = "";
	snprintf(path, sizeof(path), "%s/%s", t->path, rel);
	/* fmt uses %1$s for the directory, possibly several times */
	if (fmt)
		snprintf(want, sizeof(want), fmt, t->path);
	struct fbx_error err = {0};
	struct fbx_policy *p = NULL;
	int rc = fbx_policy_load(path, &p, &err);
	if (!fmt) { /* expect success */
		if (rc)
			fail_msg("%s: %s", path, err.msg);
		fbx_policy_free(p);
		return;
	}
	assert_null(p);
	assert_int_equal(rc, -code);
	if (strcmp(err.msg, want) != 0)
		fail_msg("got:  %s\nwant: %s", err.msg, want);
}

/* --- grammar ------------------------------------------------------------- */

static void test_allow_forms(void **state)
{
	struct fbx_policy *p = parse_ok("read\nwrite: 1\n  close  :  1  \n");
	assert_int_equal(p->default_action, FBX_ACTION_KILL);
	assert_int_equal(p->unknown_errno, -1);
	const char *names[] = {"read", "write", "close"};
	for (unsigned i = 0; i < 3; i++) {
		const struct fbx_policy_rule *r = rule(p, names[i]);
		assert_int_equal(r->action, FBX_ACTION_ALLOW);
		assert_int_equal(r->n_clauses, 0);
		assert_int_equal(r->else_errno, -1);
		assert_int_equal(r->nr, nr_of(names[i]));
		assert_string_equal(r->file, "t.policy");
		assert_int_equal(r->line, i + 1);
	}
	fbx_policy_free(p);
}

static void test_comments_and_blanks(void **state)
{
	struct fbx_policy *p = parse_ok("# header\n\n \t \n"
					"read # allow reading\n"
					"write:1#tight\r\n"
					"   # indented comment\n"
					"close");
	assert_int_equal(p->n_rules, 4); /* + built-in clone3 */
	assert_int_equal(rule(p, "write")->line, 5);
	assert_int_equal(rule(p, "close")->line, 7);
	fbx_policy_free(p);
}

static void test_actions(void **state)
{
	struct fbx_policy *p =
	    parse_ok("ptrace: return EPERM\n"
		     "mount: return 13\n"
		     "umount2: return 0\n"
		     "reboot: kill\nacct: trap\nsyslog: log\n");
	assert_int_equal(rule(p, "ptrace")->action, FBX_ACTION_ERRNO);
	assert_int_equal(rule(p, "ptrace")->errno_value, EPERM);
	assert_int_equal(rule(p, "mount")->errno_value, 13);
	assert_int_equal(rule(p, "umount2")->errno_value, 0);
	assert_int_equal(rule(p, "reboot")->action, FBX_ACTION_KILL);
	assert_int_equal(rule(p, "acct")->action, FBX_ACTION_TRAP);
	assert_int_equal(rule(p, "syslog")->action, FBX_ACTION_LOG);
	fbx_policy_free(p);
}

static void test_expression_shape(void **state)
{
	/* && binds tighter than || */
	struct fbx_policy *p = parse_ok(
	    "write: arg0 == 1 || arg0 == 2 && arg1 != 3 || arg5 >= 4\n");
	const struct fbx_policy_rule *r = rule(p, "write");
	assert_int_equal(r->action, FBX_ACTION_ALLOW);
	assert_int_equal(r->n_clauses, 3);
	assert_int_equal(r->clauses[0].n_cmps, 1);
	assert_int_equal(r->clauses[1].n_cmps, 2);
	assert_int_equal(r->clauses[2].n_cmps, 1);
	const struct fbx_policy_cmp *c = &r->clauses[1].cmps[1];
	assert_int_equal(c->arg, 1);
	assert_int_equal(c->op, FBX_CMP_NE);
	assert_int_equal(c->value, 3);
	assert_int_equal(r->clauses[2].cmps[0].arg, 5);
	assert_int_equal(r->else_errno, -1);
	fbx_policy_free(p);
}

static void test_operators(void **state)
{
	static const struct {
		const char *text;
		enum fbx_cmp_op op;
	} cases[] = {
	    {"read: arg0 == 7", FBX_CMP_EQ},
	    {"read: arg0 != 7", FBX_CMP_NE},
	    {"read: arg0 < 7", FBX_CMP_LT},
	    {"read: arg0 <= 7", FBX_CMP_LE},
	    {"read: arg0 > 7", FBX_CMP_GT},
	    {"read: arg0 >= 7", FBX_CMP_GE},
	    {"read: arg0 & 7", FBX_CMP_MASKED_SET},
	    {"read: arg0 in 7", FBX_CMP_IN},
	    {"read: arg0==7", FBX_CMP_EQ},
	    {"read: arg0&7", FBX_CMP_MASKED_SET},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fbx_policy *p = parse_ok(cases[i].text);
		const struct fbx_policy_cmp *c =
		    &rule(p, "read")->clauses[0].cmps[0];
		assert_int_equal(c->op, cases[i].op);
		assert_int_equal(c->value, 7);
		fbx_policy_free(p);
	}
}

static void test_values(void **state)
{
	static const struct {
		const char *value;
		uint64_t want;
	} cases[] = {
	    {"42", 42},
	    {"0x2A", 42},
	    {"0o52", 42},
	    {"0", 0},
	    {"-1", UINT64_MAX},
	    {"18446744073709551615", UINT64_MAX},
	    {"AF_UNIX", AF_UNIX},
	    {"PROT_READ|PROT_WRITE", 3},
	    {"PROT_READ | PROT_WRITE | 0x100", 0x103},
	    {"AT_FDCWD", (uint64_t)(int64_t)-100},
	    {"TIOCSTI", TIOCSTI},
	    {"CLONE_NEWUSER|CLONE_NEWNS", CLONE_NEWUSER | CLONE_NEWNS},
	    {"O_RDONLY|O_CLOEXEC", O_CLOEXEC},
	    {"SIGKILL", SIGKILL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "read: arg2 == %s\n",
			 cases[i].value);
		struct fbx_policy *p = parse_ok(text);
		const struct fbx_policy_cmp *c =
		    &rule(p, "read")->clauses[0].cmps[0];
		if (c->value != cases[i].want)
			fail_msg("%s: got 0x%llx", cases[i].value,
				 (unsigned long long)c->value);
		fbx_policy_free(p);
	}
	/* '|' inside a value and '||' after it */
	struct fbx_policy *p =
	    parse_ok("mmap: arg2 in PROT_READ|PROT_WRITE||arg2 == 0");
	const struct fbx_policy_rule *r = rule(p, "mmap");
	assert_int_equal(r->n_clauses, 2);
	assert_int_equal(r->clauses[0].cmps[0].value, 3);
	assert_int_equal(r->clauses[0].cmps[0].op, FBX_CMP_IN);
	fbx_policy_free(p);
}

static void test_else_errno(void **state)
{
	struct fbx_policy *p =
	    parse_ok("socket: arg0 == AF_UNIX; return EACCES\n"
		     "ioctl: arg1 != TIOCSTI ;return 1\n");
	const struct fbx_policy_rule *r = rule(p, "socket");
	assert_int_equal(r->action, FBX_ACTION_ALLOW);
	assert_int_equal(r->clauses[0].cmps[0].value, AF_UNIX);
	assert_int_equal(r->else_errno, EACCES);
	assert_int_equal(rule(p, "ioctl")->else_errno, 1);
	fbx_policy_free(p);
}

static void test_default_directive(void **state)
{
	static const struct {
		const char *text;
		enum fbx_action action;
		int errno_value;
	} cases[] = {
	    {"read", FBX_ACTION_KILL, 0},
	    {"@default kill", FBX_ACTION_KILL, 0},
	    {"@default trap", FBX_ACTION_TRAP, 0},
	    {"@default log  # noisy", FBX_ACTION_LOG, 0},
	    {"@default errno EPERM", FBX_ACTION_ERRNO, EPERM},
	    {"  @default\terrno 38", FBX_ACTION_ERRNO, 38},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fbx_policy *p = parse_ok(cases[i].text);
		assert_int_equal(p->default_action, cases[i].action);
		if (cases[i].action == FBX_ACTION_ERRNO)
			assert_int_equal(p->default_errno,
					 cases[i].errno_value);
		fbx_policy_free(p);
	}
}

static void test_unknown_directive(void **state)
{
	struct fbx_policy *p = parse_ok("@unknown errno ENOSYS\nread\n");
	assert_int_equal(p->unknown_errno, ENOSYS);
	fbx_policy_free(p);
	p = parse_ok("@unknown errno 95\n");
	assert_int_equal(p->unknown_errno, 95);
	fbx_policy_free(p);
}

static void test_clone3_default(void **state)
{
	struct fbx_policy *p = parse_ok("read\n");
	const struct fbx_policy_rule *r = rule(p, "clone3");
	assert_int_equal(r->action, FBX_ACTION_ERRNO);
	assert_int_equal(r->errno_value, ENOSYS);
	assert_int_equal(r->nr, nr_of("clone3"));
	assert_string_equal(r->file, FBX_POLICY_BUILTIN_FILE);
	assert_int_equal(r->line, 0);
	fbx_policy_free(p);

	p = parse_ok("clone3: return EPERM\n");
	assert_int_equal(p->n_rules, 1);
	assert_int_equal(rule(p, "clone3")->errno_value, EPERM);
	fbx_policy_free(p);

	p = parse_ok("clone3\n");
	assert_int_equal(p->n_rules, 1);
	assert_int_equal(rule(p, "clone3")->action, FBX_ACTION_ALLOW);
	fbx_policy_free(p);
}

/* Names of the other architecture in the pair x86_64 / aarch64. */
#if defined(__x86_64__)
#define FOREIGN_1 "mmap2"	     /* i386, arm */
#define FOREIGN_2 "arm_fadvise64_64" /* arm only */
#else
#define FOREIGN_1 "arch_prctl"
#define FOREIGN_2 "mmap2"
#endif

static void test_other_arch_names_skipped(void **state)
{
	struct fbx_policy *p = parse_ok("read\n" FOREIGN_1 "\n" FOREIGN_2
					": arg0 == 1; return EPERM\n");
	assert_int_equal(p->n_skipped, 2);
	assert_string_equal(p->skipped[0], FOREIGN_1);
	assert_string_equal(p->skipped[1], FOREIGN_2);
	assert_false(has_rule(p, FOREIGN_1));
	assert_true(has_rule(p, "read"));
	fbx_policy_free(p);
	/* a skipped rule is still checked for syntax */
	parse_err(FOREIGN_1 ": arg0 ==",
		  "t.policy:1:"
#if defined(__x86_64__)
		  "15"
#else
		  "20"
#endif
		  ": expected a number or a constant, got end of line");
}

static void test_unknown_everywhere(void **state)
{
	parse_err("read\n  frobnicate: 1\n",
		  "t.policy:2:3: unknown syscall 'frobnicate'");
}

static void test_duplicates(void **state)
{
	parse_err("read\nwrite\n\tread: return EPERM\n",
		  "t.policy:3:2: 'read' listed twice (first at t.policy:1)");
	parse_err(FOREIGN_1 "\n" FOREIGN_1 ": kill\n",
		  "t.policy:2:1: '" FOREIGN_1
		  "' listed twice (first at t.policy:1)");
	parse_err("clone3\nclone3\n",
		  "t.policy:2:1: 'clone3' listed twice (first at t.policy:1)");
}

static void test_syntax_errors(void **state)
{
	static const char *const cases[][2] = {
	    {"read:", "t.policy:1:6: expected 1, 'return ERRNO', kill, "
		      "trap, log or an expression (argN OP VALUE) after "
		      "':', got end of line"},
	    {"read: 2", "t.policy:1:7: expected 1, 'return ERRNO', kill, "
			"trap, log or an expression (argN OP VALUE) after "
			"':', got '2'"},
	    {"read x", "t.policy:1:6: expected ':' or end of line after "
		       "the syscall name, got 'x'"},
	    {"read\x01", "t.policy:1:5: expected ':' or end of line after "
			 "the syscall name, got byte 0x01"},
	    {"-read", "t.policy:1:1: expected a syscall name or a "
		      "directive, got '-'"},
	    {"read: 1 x", "t.policy:1:9: expected end of line after '1', "
			  "got 'x'"},
	    {"read: kill now", "t.policy:1:12: expected end of line after "
			       "kill, got 'now'"},
	    {"read: return", "t.policy:1:13: expected an errno name or "
			     "number, got end of line"},
	    {"read: return EFOO", "t.policy:1:14: unknown errno name "
				  "'EFOO'"},
	    {"read: return 4096", "t.policy:1:14: errno 4096 out of range "
				  "0 to 4095"},
	    {"read: return 1x", "t.policy:1:14: invalid number '1x'"},
	    {"read: return EPERM EIO", "t.policy:1:20: expected end of "
				       "line after the errno, got 'EIO'"},
	    {"read: arg6 == 1", "t.policy:1:7: argument index must be 0 "
				"to 5, got arg6"},
	    {"read: argx == 1", "t.policy:1:7: expected argN (N from 0 to "
				"5), got 'argx'"},
	    {"read: arg0 = 1", "t.policy:1:12: expected an operator (== != "
			       "< <= > >= & in) after arg0, got '='"},
	    {"read: arg0 && 1", "t.policy:1:12: expected an operator (== "
				"!= < <= > >= & in) after arg0, got '&'"},
	    {"read: arg0 inn 1", "t.policy:1:12: expected an operator (== "
				 "!= < <= > >= & in) after arg0, got "
				 "'inn'"},
	    {"read: arg0 ==", "t.policy:1:14: expected a number or a "
			      "constant, got end of line"},
	    {"read: arg0 == FOO_BAR", "t.policy:1:15: unknown constant "
				      "'FOO_BAR'"},
	    {"read: arg0 == 12ab", "t.policy:1:15: invalid number '12ab'"},
	    {"read: arg0 == 0x", "t.policy:1:15: invalid number '0x'"},
	    {"read: arg0 == 99999999999999999999",
	     "t.policy:1:15: number '99999999999999999999' out of range"},
	    {"read: arg0 == 1 | ", "t.policy:1:19: expected a number or a "
				   "constant, got end of line"},
	    {"read: arg0 == 1 &&", "t.policy:1:19: expected argN (N from 0 "
				   "to 5), got end of line"},
	    {"read: arg0 == 1 ||", "t.policy:1:19: expected argN (N from 0 "
				   "to 5), got end of line"},
	    {"read: arg0 == 1 extra", "t.policy:1:17: expected '&&', '||', "
				      "';' or end of line, got 'extra'"},
	    {"read: arg0 == 1;", "t.policy:1:17: expected 'return ERRNO' "
				 "after ';', got end of line"},
	    {"read: arg0 == 1; kill", "t.policy:1:18: expected 'return "
				      "ERRNO' after ';', got 'kill'"},
	    {"read: arg0 == 1; return EPERM x",
	     "t.policy:1:31: expected end of line after the errno, got "
	     "'x'"},
	    {"read: arg0 & 0", "t.policy:1:14: '&' needs a non-zero value "
			       "(no flag is ever set in 0)"},
	    {"@foo", "t.policy:1:1: unknown directive '@foo' (expected "
		     "@include, @default or @unknown)"},
	    {"@default", "t.policy:1:9: expected kill, trap, log or 'errno "
			 "ERRNO' after @default, got end of line"},
	    {"@default allow", "t.policy:1:10: expected kill, trap, log or "
			       "'errno ERRNO' after @default, got "
			       "'allow'"},
	    {"@default kill now", "t.policy:1:15: expected end of line "
				  "after the action, got 'now'"},
	    {"@default errno", "t.policy:1:15: expected an errno name or "
			       "number, got end of line"},
	    {"@default kill\nread\n@default trap",
	     "t.policy:3:1: @default given twice (first at t.policy:1)"},
	    {"@unknown kill", "t.policy:1:10: expected 'errno ERRNO' after "
			      "@unknown, got 'kill'"},
	    {"@unknown errno ENOSYS\n@unknown errno EPERM",
	     "t.policy:2:1: @unknown given twice (first at t.policy:1)"},
	    {"@include", "t.policy:1:9: expected a file name after "
			 "@include"},
	    {"@include a.policy b.policy", "t.policy:1:19: expected end of "
					   "line after the file name, got "
					   "'b'"},
	    {"@include base.policy",
	     "t.policy:1:10: @include needs a base directory (this policy "
	     "was not read from a file)"},
	    {"read\n\n# x\nwrite: arg0 =", "t.policy:4:13: expected an "
					   "operator (== != < <= > >= & "
					   "in) after arg0, got '='"},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaa",
	     "t.policy:1:1: syscall name too long"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_err(cases[i][0], cases[i][1]);

	/* limits: 33 alternatives, 17 comparisons */
	char text[2048] = "read: arg0 == 0";
	for (int i = 1; i <= 32; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " || arg0 == %d", i);
	parse_err(text, "t.policy:1:445: more than 32 '||' alternatives");
	snprintf(text, sizeof(text), "read: arg0 == 0");
	for (int i = 1; i <= 16; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " && arg1 != %d", i);
	parse_err(text, "t.policy:1:221: more than 16 '&&' comparisons");
}

/* --- includes ------------------------------------------------------------ */

static void test_include_relative(void **state)
{
	struct tmpdir *t = *state;
	tmp_mkdir(t, "sub");
	tmp_mkdir(t, "common");
	tmp_write(t, "top.policy", "@include sub/a.policy\nread\n");
	tmp_write(t, "sub/a.policy",
		  "# a\n@include ../common/b.policy\nwrite\n");
	tmp_write(t, "common/b.policy", "@default errno EPERM\nclose\n");
	char path[160], want[200];
	snprintf(path, sizeof(path), "%s/top.policy", t->path);
	struct fbx_error err = {0};
	struct fbx_policy *p = NULL;
	assert_int_equal(fbx_policy_load(path, &p, &err), 0);
	assert_int_equal(p->default_action, FBX_ACTION_ERRNO);
	assert_int_equal(p->default_errno, EPERM);
	snprintf(want, sizeof(want), "%s/sub/../common/b.policy", t->path);
	assert_string_equal(rule(p, "close")->file, want);
	assert_int_equal(rule(p, "close")->line, 2);
	snprintf(want, sizeof(want), "%s/sub/a.policy", t->path);
	assert_string_equal(rule(p, "write")->file, want);
	assert_int_equal(rule(p, "write")->line, 3);
	assert_string_equal(rule(p, "read")->file, path);
	fbx_policy_free(p);

	/* from a string, includes resolve against base_dir */
	assert_int_equal(fbx_policy_parse("@include common/b.policy\nread",
					  "inline", t->path, &p, &err),
			 0);
	assert_true(has_rule(p, "close"));
	fbx_policy_free(p);

	/* an absolute include */
	char text[200];
	snprintf(text, sizeof(text), "@include %s/common/b.policy", t->path);
	assert_int_equal(fbx_policy_parse(text, "inline", "/", &p, &err), 0);
	assert_true(has_rule(p, "close"));
	fbx_policy_free(p);
}

static void test_include_cycles(void **state)
{
	struct tmpdir *t = *state;
	tmp_write(t, "a.policy", "@include b.policy\n");
	tmp_write(t, "b.policy", "read\n  @include a.policy\n");
	tmp_write(t, "self.policy", "@include ./self.policy\n");
	load_err(t, "a.policy", EINVAL,
		 "%1$s/b.policy:2:12: include cycle: %1$s/a.policy -> "
		 "%1$s/b.policy -> %1$s/a.policy");
	load_err(t, "self.policy", EINVAL,
		 "%1$s/self.policy:1:10: include cycle: %1$s/self.policy -> "
		 "%1$s/./self.policy");
}

static void test_include_errors(void **state)
{
	struct tmpdir *t = *state;
	tmp_write(t, "base.policy", "write\nread\n@default kill\n");
	tmp_write(t, "dup.policy", "@include base.policy\nread\n");
	tmp_write(t, "dup2.policy", "@default trap\n@include base.policy\n");
	tmp_write(t, "missing.policy", "read\n@include nope.policy\n");
	tmp_write(t, "bad.policy", "@include inner.policy\n");
	tmp_write(t, "inner.policy", "read\nwrite: arg0 === 1\n");
	load_err(t, "dup.policy", EINVAL,
		 "%1$s/dup.policy:2:1: 'read' listed twice (first at "
		 "%1$s/base.policy:2)");
	load_err(t, "dup2.policy", EINVAL,
		 "%1$s/base.policy:3:1: @default given twice (first at "
		 "%1$s/dup2.policy:1)");
	load_err(t, "missing.policy", ENOENT,
		 "%1$s/missing.policy:2:10: cannot read '%1$s/nope.policy': "
		 "No such file or directory");
	load_err(t, "bad.policy", EINVAL,
		 "%1$s/inner.policy:2:15: expected a number or a constant, "
		 "got '='");
	/* 18 files deep: d0 includes d1 ... includes d17 */
	for (int i = 0; i < 18; i++) {
		char name[16], text[40];
		snprintf(name, sizeof(name), "d%d.policy", i);
		snprintf(text, sizeof(text), "@include d%d.policy\n", i + 1);
		tmp_write(t, name, i == 17 ? "read\n" : text);
	}
	load_err(t, "d0.policy", EINVAL,
		 "%1$s/d16.policy:1:10: includes nested deeper than 16");
	load_err(t, "d1.policy", 0, NULL); /* 17 deep: fine */
	load_err(t, "absent.policy", ENOENT,
		 "cannot read policy '%1$s/absent.policy': No such file or "
		 "directory");
}

/* --- small pure helpers -------------------------------------------------- */

static void test_syscall_name(void **state)
{
	char buf[64];
	assert_string_equal(fbx_syscall_name(nr_of("read"), buf, sizeof(buf)),
			    "read");
	assert_string_equal(fbx_syscall_name(nr_of("clone3"), buf, sizeof(buf)),
			    "clone3");
	assert_string_equal(fbx_syscall_name(99999, buf, sizeof(buf)),
			    "syscall 99999");
	assert_string_equal(fbx_syscall_name(-3, buf, sizeof(buf)),
			    "syscall -3");
	assert_string_equal(fbx_errno_name(EPERM), "EPERM");
	assert_string_equal(fbx_errno_name(EAGAIN), "EAGAIN");
	assert_null(fbx_errno_name(4000));
	int nr;
	assert_int_equal(fbx_policy_resolve_name("read", &nr), 0);
	assert_int_equal(nr, nr_of("read"));
	assert_int_equal(fbx_policy_resolve_name(FOREIGN_1, &nr), 1);
	assert_int_equal(fbx_policy_resolve_name("nonsense", &nr), -1);
	assert_true(fbx_policy_max_known_syscall() >= nr_of("clone3"));
}

static void test_summary(void **state)
{
	struct fbx_policy *p = parse_ok("@default errno EPERM\nread\n"
					"ptrace: kill\n" FOREIGN_1 "\n"
					"socket: arg0 == AF_UNIX && arg1 in "
					"0x80800|1 || arg2 > 0x10000; return "
					"EACCES\n");
	char *text = NULL, want[600];
	assert_int_equal(fbx_policy_summary(p, &text), 0);
	snprintf(want, sizeof(want),
		 "default: errno EPERM\n"
		 "skipped (not on this architecture): %s\n"
		 "read (%d): allow  [t.policy:2]\n"
		 "ptrace (%d): kill  [t.policy:3]\n"
		 "socket (%d): allow if arg0 == 1 && arg1 in 0x80801 || "
		 "arg2 > 0x10000; else errno EACCES  [t.policy:5]\n"
		 "clone3 (%d): errno ENOSYS  [<built-in>]\n",
		 FOREIGN_1, nr_of("read"), nr_of("ptrace"), nr_of("socket"),
		 nr_of("clone3"));
	assert_string_equal(text, want);
	free(text);
	fbx_policy_free(p);

	p = parse_ok("@unknown errno ENOSYS");
	assert_int_equal(fbx_policy_summary(p, &text), 0);
	int max = fbx_policy_max_known_syscall();
	snprintf(want, sizeof(want),
		 "default: kill\nunknown syscalls (%d to %d): errno ENOSYS\n",
		 max + 1, max + 1024);
	assert_true(strncmp(text, want, strlen(want)) == 0);
	free(text);
	fbx_policy_free(p);
}

/* --- compiled filters, in-process ---------------------------------------- */

/* The subset of classic BPF that libseccomp and the prefix emit. Returns
 * the filter's verdict, or 0xdeadbeef for anything else (a test failure). */
static uint32_t run_bpf(const struct fbx_bpf *b, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0;
	for (size_t pc = 0; pc < b->len; pc++) {
		const struct sock_filter *f = &b->insns[pc];
		uint32_t k = f->k;
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (k > sizeof(*d) - 4)
				return 0xdeadbeef;
			memcpy(&a, (const char *)d + k, 4);
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= k;
			break;
		case BPF_MISC | BPF_TAX:
			x = a;
			break;
		case BPF_MISC | BPF_TXA:
			a = x;
			break;
		case BPF_JMP | BPF_JA:
			pc += k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & k) ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			return k;
		default:
			return 0xdeadbeef;
		}
	}
	return 0xdeadbeef;
}

static uint32_t verdict(const struct fbx_bpf *b, int nr, uint32_t arch,
			const uint64_t args[6])
{
	struct seccomp_data d = {.nr = nr, .arch = arch};
	if (args)
		memcpy(d.args, args, sizeof(d.args));
	return run_bpf(b, &d);
}

static struct fbx_bpf compile_text(const char *text, unsigned flags)
{
	struct fbx_policy *p = parse_ok(text);
	struct fbx_error err = {0};
	struct fbx_bpf b;
	int rc = fbx_policy_compile(p, flags, &b, &err);
	if (rc)
		fail_msg("compile: %s", err.msg);
	fbx_policy_free(p);
	return b;
}

#define NATIVE_ARCH  seccomp_arch_native()
#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))

static bool reference(enum fbx_cmp_op op, uint64_t a, uint64_t v)
{
	switch (op) {
	case FBX_CMP_EQ:
		return a == v;
	case FBX_CMP_NE:
		return a != v;
	case FBX_CMP_LT:
		return a < v;
	case FBX_CMP_LE:
		return a <= v;
	case FBX_CMP_GT:
		return a > v;
	case FBX_CMP_GE:
		return a >= v;
	case FBX_CMP_MASKED_SET:
		return (a & v) != 0;
	case FBX_CMP_IN:
		return (a & ~v) == 0;
	}
	return false;
}

/* Every operator through both code paths (libseccomp rules, and the
 * hand-written prefix that "; return ERRNO" selects), on 64-bit values
 * whose high and low words both matter. */
static void test_compiled_operators(void **state)
{
	static const char *const ops[] = {
	    "==", "!=", "<", "<=", ">", ">=", "&", "in"};
	static const char *const sys[] = {"read", "write", "close", "lseek",
					  "dup",  "pipe2", "dup3",  "fcntl"};
	const uint64_t v = 0x100000005ull;
	char text[2048] = "";
	for (int i = 0; i < 8; i++) {
		/* arg3 on the prefix path; arg1 == arg1 forces the prefix
		 * too (one argument compared twice). */
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "%s: arg3 %s 0x100000005; return EPERM\n", sys[i],
			 ops[i]);
	}
	char text2[2048] = "";
	for (int i = 0; i < 8; i++)
		snprintf(text2 + strlen(text2), sizeof(text2) - strlen(text2),
			 "%s: arg3 %s 0x100000005\n", sys[i], ops[i]);
	struct fbx_bpf pre = compile_text(text, 0);
	struct fbx_bpf lib = compile_text(text2, 0);
	uint64_t values[64] = {0,
			       1,
			       4,
			       5,
			       6,
			       0xffffffff,
			       0x100000000ull,
			       0x100000004ull,
			       0x100000005ull,
			       0x100000006ull,
			       0x1ffffffffull,
			       0x200000005ull,
			       0x000000005ull | (1ull << 63),
			       ~0ull,
			       0x100000001ull,
			       0x4};
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (int i = 16; i < 64; i++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		values[i] = (i & 1) ? (seed & 0x30000000full) : seed;
	}
	for (int i = 0; i < 8; i++) {
		for (int k = 0; k < 64; k++) {
			uint64_t args[6] = {0, 0, 0, values[k], 0, 0};
			bool want = reference((enum fbx_cmp_op)i, values[k], v);
			uint32_t got_pre =
			    verdict(&pre, nr_of(sys[i]), NATIVE_ARCH, args);
			uint32_t got_lib =
			    verdict(&lib, nr_of(sys[i]), NATIVE_ARCH, args);
			if (got_pre !=
				(want ? SECCOMP_RET_ALLOW : RET_ERRNO(EPERM)) ||
			    got_lib != (want ? SECCOMP_RET_ALLOW
					     : SECCOMP_RET_KILL_PROCESS))
				fail_msg("arg3 %s 0x%llx with 0x%llx: prefix "
					 "0x%x libseccomp 0x%x, want %d",
					 ops[i], (unsigned long long)v,
					 (unsigned long long)values[k], got_pre,
					 got_lib, want);
		}
	}
	fbx_bpf_free(&pre);
	fbx_bpf_free(&lib);
}

/* OR of ANDs, '&' over several bits, and both paths for the same rules. */
static void test_compiled_expressions(void **state)
{
	const char *exprs[] = {
	    "arg0 == 1 || arg0 == 2 && arg1 != 3 || arg2 & 0x30",
	    "arg0 & 0x11 && arg1 & 0x6",	      /* 4 libseccomp rules */
	    "arg0 & 0x1ff && arg1 & 0xff",	      /* too many: prefix */
	    "arg0 >= 3 && arg0 <= 10 || arg1 in 0x7", /* arg0 twice */
	};
	for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		char text[200];
		snprintf(text, sizeof(text), "getpid: %s\n", exprs[e]);
		struct fbx_bpf b = compile_text(text, 0);
		for (uint64_t a0 = 0; a0 < 40; a0++) {
			for (uint64_t a1 = 0; a1 < 40; a1 += 3) {
				for (uint64_t a2 = 0; a2 < 0x40; a2 += 0x10) {
					uint64_t args[6] = {a0, a1, a2};
					bool want;
					switch (e) {
					case 0:
						want = a0 == 1 ||
						       (a0 == 2 && a1 != 3) ||
						       (a2 & 0x30);
						break;
					case 1:
						want = (a0 & 0x11) && (a1 & 6);
						break;
					case 2:
						want =
						    (a0 & 0x1ff) && (a1 & 0xff);
						break;
					default:
						want = (a0 >= 3 && a0 <= 10) ||
						       !(a1 & ~7ull);
					}
					uint32_t got =
					    verdict(&b, nr_of("getpid"),
						    NATIVE_ARCH, args);
					if (got !=
					    (want ? SECCOMP_RET_ALLOW
						  : SECCOMP_RET_KILL_PROCESS))
						fail_msg("%s with %llu %llu "
							 "%llu: 0x%x",
							 exprs[e],
							 (unsigned long long)a0,
							 (unsigned long long)a1,
							 (unsigned long long)a2,
							 got);
				}
			}
		}
		fbx_bpf_free(&b);
	}
}

static void test_compiled_actions(void **state)
{
	struct fbx_bpf b =
	    compile_text("@default errno EACCES\n"
			 "getpid\n"
			 "getppid: return EPERM\n"
			 "getuid: trap\ngetgid: log\n"
			 "geteuid: kill\n"
			 "getegid: return EACCES\n", /* = default */
			 0);
	assert_int_equal(verdict(&b, nr_of("getpid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_ALLOW);
	assert_int_equal(verdict(&b, nr_of("getppid"), NATIVE_ARCH, NULL),
			 RET_ERRNO(EPERM));
	assert_int_equal(verdict(&b, nr_of("getuid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_TRAP);
	assert_int_equal(verdict(&b, nr_of("getgid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_LOG);
	assert_int_equal(verdict(&b, nr_of("geteuid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(verdict(&b, nr_of("getegid"), NATIVE_ARCH, NULL),
			 RET_ERRNO(EACCES));
	assert_int_equal(verdict(&b, nr_of("getsid"), NATIVE_ARCH, NULL),
			 RET_ERRNO(EACCES));
	/* clone3 built-in */
	assert_int_equal(verdict(&b, nr_of("clone3"), NATIVE_ARCH, NULL),
			 RET_ERRNO(ENOSYS));
	/* another ABI: killed, whatever the default */
	assert_int_equal(verdict(&b, nr_of("getpid"), AUDIT_ARCH_I386, NULL),
			 SECCOMP_RET_KILL_PROCESS);
#if defined(__x86_64__)
	assert_int_equal(
	    verdict(&b, 0x40000000 | nr_of("getpid"), NATIVE_ARCH, NULL),
	    SECCOMP_RET_KILL_PROCESS);
#endif
	fbx_bpf_free(&b);

	b = compile_text("@default trap\n", 0);
	assert_int_equal(verdict(&b, nr_of("getpid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_TRAP);
	fbx_bpf_free(&b);
	b = compile_text("@default log\n", 0);
	assert_int_equal(verdict(&b, nr_of("getpid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_LOG);
	fbx_bpf_free(&b);
}

static void test_compiled_kill_via_notify(void **state)
{
	const char *text = "getppid: kill\ngetpid\n"
			   "getuid: arg0 == 0; return EPERM\n";
	struct fbx_bpf b = compile_text(text, FBX_POLICY_KILL_VIA_NOTIFY);
	assert_int_equal(verdict(&b, nr_of("getppid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_USER_NOTIF);
	assert_int_equal(verdict(&b, nr_of("getgid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_USER_NOTIF);
	assert_int_equal(verdict(&b, nr_of("getpid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_ALLOW);
	/* a wrong ABI is still killed by the kernel, not notified */
	assert_int_equal(verdict(&b, nr_of("getpid"), AUDIT_ARCH_I386, NULL),
			 SECCOMP_RET_KILL_PROCESS);
	fbx_bpf_free(&b);
	b = compile_text(text, 0);
	assert_int_equal(verdict(&b, nr_of("getppid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_KILL_PROCESS);
	fbx_bpf_free(&b);
}

static void test_compiled_unknown(void **state)
{
	int max = fbx_policy_max_known_syscall();
	struct fbx_bpf b = compile_text("@unknown errno ENOSYS\ngetpid\n"
					"getuid: arg0 == 1; return EPERM\n",
					0);
	struct fbx_bpf plain = compile_text("getpid\n", 0);
	assert_int_equal(verdict(&b, max + 1, NATIVE_ARCH, NULL),
			 RET_ERRNO(ENOSYS));
	assert_int_equal(verdict(&b, max + 1024, NATIVE_ARCH, NULL),
			 RET_ERRNO(ENOSYS));
	assert_int_equal(verdict(&b, max + 1025, NATIVE_ARCH, NULL),
			 SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(verdict(&b, max, NATIVE_ARCH, NULL),
			 SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(verdict(&b, nr_of("getpid"), NATIVE_ARCH, NULL),
			 SECCOMP_RET_ALLOW);
	assert_int_equal(verdict(&b, max + 1, AUDIT_ARCH_I386, NULL),
			 SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(verdict(&b, -1, NATIVE_ARCH, NULL),
			 SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(verdict(&plain, max + 1, NATIVE_ARCH, NULL),
			 SECCOMP_RET_KILL_PROCESS);
	fbx_bpf_free(&b);
	fbx_bpf_free(&plain);
}

/* --- compiled filters, loaded in a child --------------------------------- */

enum try_mode { TRY_SYSCALL, TRY_X32, TRY_INT80, TRY_THREAD, TRY_FORK };

struct
try {
	const char *what;
	enum try_mode mode;
	long nr;
	long args[6];
	int want_errno; /* exit code: errno of the call, 0 on success */
	bool want_sigsys;
};

/* Designated initializers for struct try: SYS(what, nr, ...more fields) */
#define SYS(w, n, ...)                                                         \
	{                                                                      \
		.what = w, .mode = TRY_SYSCALL, .nr = n, __VA_ARGS__           \
	}
#define ARGS(...) .args = {__VA_ARGS__}
#define SIGSYS_	  .want_sigsys = true
#define ERR(e)	  .want_errno = e

static void *thread_fn(void *arg)
{
	return (void *)42;
}

/* Makes the call; returns 0 or -errno. Runs after the filter is loaded. */
static long do_try(const struct try *t)
{
	long r;
	switch (t->mode) {
	case TRY_SYSCALL:
		r = syscall(t->nr, t->args[0], t->args[1], t->args[2],
			    t->args[3], t->args[4], t->args[5]);
		return r == -1 ? -errno : 0;
	case TRY_X32:
		/* getpid through the x32 ABI */
		r = syscall(0x40000000L | SYS_getpid);
		return r == -1 ? -errno : 0;
	case TRY_INT80:
#if defined(__x86_64__)
		/* getpid (20) through the i386 ABI */
		r = 20;
		__asm__ volatile("int $0x80"
				 : "+a"(r)
				 :
				 : "memory", "r8", "r9", "r10", "r11");
		return r < 0 ? r : 0;
#else
		return -ENOSYS;
#endif
	case TRY_THREAD: {
		pthread_t th;
		void *ret = NULL;
		int rc = pthread_create(&th, NULL, thread_fn, NULL);
		if (!rc)
			rc = pthread_join(th, &ret);
		return rc ? -rc : ret == (void *)42 ? 0 : -EIO;
	}
	case TRY_FORK: {
		pid_t pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0)
			_exit(7);
		int st;
		if (waitpid(pid, &st, 0) < 0)
			return -errno;
		return WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : -EIO;
	}
	}
	return -EINVAL;
}

/* Wait status of a child that loads insns (NULL: none) and makes the call;
 * it exits with the call's errno (0 on success), 200 if loading failed. */
static int run_in_child(const struct sock_filter *insns, unsigned short len,
			const struct try *t)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka catches SIGSYS and friends to report a crashing
		 * test; in the child they must kill, as they would in a
		 * sandbox, not jump back into the test runner. */
		const int sigs[] = {SIGSYS, SIGSEGV, SIGILL,
				    SIGFPE, SIGBUS,  SIGABRT};
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		/* no core files from the SIGSYS deaths below */
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		struct sock_fprog prog = {
		    .len = len, .filter = (struct sock_filter *)insns};
		if (insns &&
		    (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		     syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)))
			_exit(200);
		long r = do_try(t);
		_exit(r < 0 ? (int)-r : 0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	return status;
}

static void check_try(const struct fbx_bpf *b, const struct try *t)
{
	int st = run_in_child(b->insns, b->len, t);
	if (t->want_sigsys) {
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			fail_msg("%s: want SIGSYS, got status 0x%x", t->what,
				 st);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != t->want_errno) {
		fail_msg("%s: want exit %d, got status 0x%x (%s %d)", t->what,
			 t->want_errno, st, WIFSIGNALED(st) ? "signal" : "exit",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
}

/* The ASan runtime makes syscalls of its own (sigaltstack, gettid, ...) in
 * the child, which the deliberately tiny test policies kill. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* *state is "" when filters can be loaded, else the reason they cannot. */
static int seccomp_setup(void **state)
{
#ifdef UNDER_ASAN
	*state = (void *)"ASan build: its runtime's own syscalls (sigaltstack, "
			 "gettid, ...) break the tiny test policies";
	return 0;
#else
	static const struct sock_filter allow =
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct try t = SYS("getpid", SYS_getpid);
	int st = run_in_child(&allow, 1, &t);
	*state = WIFEXITED(st) && WEXITSTATUS(st) == 0
		     ? (void *)""
		     : (void *)"seccomp filters cannot be loaded here";
	return 0;
#endif
}

static bool int80_works(void)
{
	static const struct try t = {.what = "int 0x80", .mode = TRY_INT80};
	int st = run_in_child(NULL, 0, &t);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#define SKIP_WITHOUT_SECCOMP()                                                 \
	do {                                                                   \
		if (*(const char *)*state) {                                   \
			print_message("# skipped: %s\n",                       \
				      (const char *)*state);                   \
			skip();                                                \
		}                                                              \
	} while (0)

static void test_load_rules(void **state)
{
	SKIP_WITHOUT_SECCOMP();
	struct fbx_bpf b = compile_text("@default kill\nexit_group\ngetpid\n"
					"getppid: return EPERM\n"
					"getuid: trap\n"
					"dup: arg0 == 0; return EBADF\n"
					"close: arg0 >= 100 && arg0 <= 200\n",
					0);
	const struct try tries[] = {
		SYS("allowed getpid", SYS_getpid),
		SYS("getppid errno", SYS_getppid, ERR(EPERM)),
		SYS("getuid trap", SYS_getuid, SIGSYS_),
		SYS("getgid default kill", SYS_getgid, SIGSYS_),
		SYS("dup(0) allowed", SYS_dup, ARGS(0)),
		SYS("dup(1) else errno", SYS_dup, ARGS(1), ERR(EBADF)),
		SYS("close(150) allowed", SYS_close, ARGS(150), ERR(EBADF)),
		SYS("close(50) killed", SYS_close, ARGS(50), SIGSYS_),
		SYS("clone3 built-in ENOSYS", SYS_clone3, ERR(ENOSYS)),
#if defined(__x86_64__)
		{.what = "x32 getpid", .mode = TRY_X32, SIGSYS_},
#endif
	};
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		check_try(&b, &tries[i]);
	fbx_bpf_free(&b);
}

/* Other ABIs die even when the default only returns an errno. */
static void test_load_x32(void **state)
{
	SKIP_WITHOUT_SECCOMP();
#if defined(__x86_64__)
	struct fbx_bpf b =
	    compile_text("@default errno EPERM\nexit_group\n", 0);
	const struct try getgid =
	    SYS("getgid default errno", SYS_getgid, ERR(EPERM));
	const struct try x32 = {.what = "x32 getpid", .mode = TRY_X32, SIGSYS_};
	check_try(&b, &getgid);
	check_try(&b, &x32);
	fbx_bpf_free(&b);
#else
	print_message("# skipped: x32 exists on x86_64 only\n");
	skip();
#endif
}

static void test_load_i386(void **state)
{
	SKIP_WITHOUT_SECCOMP();
#if defined(__x86_64__)
	if (!int80_works()) {
		print_message("# skipped: int 0x80 does not work here (kernel "
			      "without ia32 emulation)\n");
		skip();
	}
	struct fbx_bpf b =
	    compile_text("@default errno EPERM\nexit_group\ngetpid\n", 0);
	const struct try int80 = {
	    .what = "int 0x80 getpid", .mode = TRY_INT80, SIGSYS_};
	check_try(&b, &int80);
	fbx_bpf_free(&b);
#else
	print_message("# skipped: the i386 ABI exists on x86_64 only\n");
	skip();
#endif
}

static void test_load_unknown_and_notify(void **state)
{
	SKIP_WITHOUT_SECCOMP();
	long beyond = fbx_policy_max_known_syscall() + 1;
	struct fbx_bpf b =
	    compile_text("@unknown errno ENOSYS\nexit_group\n", 0);
	struct fbx_bpf plain = compile_text("exit_group\n", 0);
	const struct try newer = SYS("newer syscall", beyond, ERR(ENOSYS));
	const struct try newer_killed =
	    SYS("newer syscall, no @unknown", beyond, SIGSYS_);
	check_try(&b, &newer);
	check_try(&plain, &newer_killed);
	fbx_bpf_free(&b);
	fbx_bpf_free(&plain);

	/* Kill as USER_NOTIF: with no listener the kernel fails the call
	 * with ENOSYS instead of killing. */
	b = compile_text("exit_group\n", FBX_POLICY_KILL_VIA_NOTIFY);
	const struct try notified =
	    SYS("notify, no listener", SYS_getgid, ERR(ENOSYS));
	check_try(&b, &notified);
	fbx_bpf_free(&b);
}

/* --- the shipped policies ------------------------------------------------ */

/* policies/ of this source tree: found from the test binary
 * (BUILD/tests/test_policy), else from the working directory. */
static void policy_path(const char *name, char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(exe, '/');
			if (slash)
				*slash = '\0';
		}
		snprintf(buf, size, "%s/policies/%s", exe, name);
		if (access(buf, R_OK) == 0)
			return;
	}
	snprintf(buf, size, "policies/%s", name);
}

static struct fbx_policy *load_shipped(const char *name)
{
	char path[PATH_MAX + 32];
	policy_path(name, path, sizeof(path));
	struct fbx_error err = {0};
	struct fbx_policy *p = NULL;
	if (fbx_policy_load(path, &p, &err))
		fail_msg("%s: %s", path, err.msg);
	return p;
}

static void test_shipped_policies_compile(void **state)
{
	const char *names[] = {"base.policy", "native.policy"};
	for (int i = 0; i < 2; i++) {
		struct fbx_policy *p = load_shipped(names[i]);
		struct fbx_error err = {0};
		struct fbx_bpf b;
		for (unsigned flags = 0; flags < 2; flags++) {
			if (fbx_policy_compile(p, flags, &b, &err))
				fail_msg("%s: %s", names[i], err.msg);
			assert_true(b.len > 10);
			fbx_bpf_free(&b);
		}
		char *text = NULL;
		assert_int_equal(fbx_policy_summary(p, &text), 0);
		assert_non_null(strstr(text, "clone3"));
		free(text);
		fbx_policy_free(p);
	}
}

static void test_native_policy_in_child(void **state)
{
	SKIP_WITHOUT_SECCOMP();
	struct fbx_policy *p = load_shipped("native.policy");
	struct fbx_error err = {0};
	struct fbx_bpf b;
	if (fbx_policy_compile(p, 0, &b, &err))
		fail_msg("%s", err.msg);
	fbx_policy_free(p);
	long self = getpid(); /* the test runner: a live, signalable pid */
	const struct try tries[] = {
		SYS("getpid", SYS_getpid),
		SYS("socket AF_UNIX", SYS_socket, ARGS(AF_UNIX, SOCK_STREAM)),
		SYS("socket AF_INET", SYS_socket, ARGS(AF_INET, SOCK_STREAM),
		    ERR(EACCES)),
		SYS("clone CLONE_NEWUSER", SYS_clone,
		    ARGS(CLONE_NEWUSER | SIGCHLD), ERR(EPERM)),
		SYS("clone CLONE_NEWNET", SYS_clone,
		    ARGS(CLONE_NEWNET | SIGCHLD), ERR(EPERM)),
		SYS("unshare", SYS_unshare, ARGS(CLONE_NEWUSER), SIGSYS_),
		SYS("clone3", SYS_clone3, ERR(ENOSYS)),
		SYS("ioctl TIOCSTI", SYS_ioctl, ARGS(0, TIOCSTI), SIGSYS_),
		SYS("ioctl TIOCSTI, high bits", SYS_ioctl,
		    ARGS(0, 0x100000000L | TIOCSTI), SIGSYS_),
		SYS("ioctl TCGETS on a bad fd", SYS_ioctl, ARGS(-1, TCGETS),
		    ERR(EBADF)),
		SYS("kill(-1)", SYS_kill, ARGS(-1, 0), ERR(EPERM)),
		SYS("kill(0)", SYS_kill, ARGS(0, 0), ERR(EPERM)),
		SYS("kill(pid, 0)", SYS_kill, ARGS(self, 0)),
		SYS("execve", SYS_execve, SIGSYS_),
		{.what = "pthread_create", .mode = TRY_THREAD},
		{.what = "fork", .mode = TRY_FORK},
#if defined(__x86_64__)
		{.what = "x32 getpid", .mode = TRY_X32, SIGSYS_},
#endif
	};
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		check_try(&b, &tries[i]);
	fbx_bpf_free(&b);
}

int main(void)
{
	const struct CMUnitTest grammar[] = {
	    cmocka_unit_test(test_allow_forms),
	    cmocka_unit_test(test_comments_and_blanks),
	    cmocka_unit_test(test_actions),
	    cmocka_unit_test(test_expression_shape),
	    cmocka_unit_test(test_operators),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_else_errno),
	    cmocka_unit_test(test_default_directive),
	    cmocka_unit_test(test_unknown_directive),
	    cmocka_unit_test(test_clone3_default),
	    cmocka_unit_test(test_other_arch_names_skipped),
	    cmocka_unit_test(test_unknown_everywhere),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test_setup_teardown(test_include_relative, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_include_cycles, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_include_errors, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test(test_syscall_name),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_compiled_operators),
	    cmocka_unit_test(test_compiled_expressions),
	    cmocka_unit_test(test_compiled_actions),
	    cmocka_unit_test(test_compiled_kill_via_notify),
	    cmocka_unit_test(test_compiled_unknown),
	    cmocka_unit_test(test_shipped_policies_compile),
	    cmocka_unit_test_setup(test_load_rules, seccomp_setup),
	    cmocka_unit_test_setup(test_load_x32, seccomp_setup),
	    cmocka_unit_test_setup(test_load_i386, seccomp_setup),
	    cmocka_unit_test_setup(test_load_unknown_and_notify, seccomp_setup),
	    cmocka_unit_test_setup(test_native_policy_in_child, seccomp_setup),
	};
	return cmocka_run_group_tests_name("policy", grammar, NULL, NULL);
}
