/* Unit tests for the policy reader (policy_parse.c, policy_include.c,
 * policy_consts.c): grammar, error messages, directives and includes.
 *
 * Grammar and error messages are tested from inline strings; includes from
 * files written to a fresh temporary directory. Helpers shared with
 * test_policy_compile.c are in policy_test_util.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "policy_test_util.h"

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
		     "@include, @default, @unknown or @after-load)"},
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

/* "@after-load": a second stage with its own names and @default, whose
 * default is otherwise the loader's, settled at the end of reading. */
static void test_after_load_stage(void **state)
{
	struct fbx_policy *p = parse_ok("@default errno EPERM\n"
					"read\nwrite\nmmap\n"
					"@after-load\n"
					"read\nexit_group\n");
	assert_non_null(p->after_load);
	const struct fbx_policy *st = p->after_load;
	assert_non_null(rule(p, "mmap"));
	assert_int_equal(st->default_action, FBX_ACTION_ERRNO);
	assert_int_equal(st->default_errno, EPERM);
	/* read may be named in both stages; mmap is not in the second. */
	bool has_read = false, has_mmap = false;
	for (size_t i = 0; i < st->n_rules; i++) {
		has_read |= strcmp(st->rules[i].name, "read") == 0;
		has_mmap |= strcmp(st->rules[i].name, "mmap") == 0;
	}
	assert_true(has_read);
	assert_false(has_mmap);
	assert_null(st->after_load);
	fbx_policy_free(p);

	p = parse_ok("read\n@after-load\n@default kill\nread\n");
	assert_int_equal(p->after_load->default_action, FBX_ACTION_KILL);
	fbx_policy_free(p);

	p = parse_ok("read\n");
	assert_null(p->after_load);
	fbx_policy_free(p);

	parse_err(
	    "read\n@after-load\nwrite\n@after-load\n",
	    "t.policy:4:1: @after-load given twice (first at t.policy:2)");
	parse_err(
	    "@after-load now\n",
	    "t.policy:1:13: expected end of line after @after-load, got 'now'");
	parse_err("@after-loader\n",
		  "t.policy:1:1: unknown directive '@after-loader' (expected "
		  "@include, @default, @unknown or @after-load)");
}

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
	    cmocka_unit_test(test_after_load_stage),
	    cmocka_unit_test_setup_teardown(test_include_relative, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_include_cycles, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_include_errors, tmp_setup,
					    tmp_teardown),
	};
	return cmocka_run_group_tests_name("policy_parse", grammar, NULL, NULL);
}
