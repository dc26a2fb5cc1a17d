/* Unit tests for the public policy API (sandbox/policy_api.c, with the text
 * it formats in policy_export.c): fbx_policy_check and fbx_policy_dump on
 * small policy files written to a fresh mkdtemp directory per test. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h> /* cmocka.h needs setjmp.h, stdarg.h, stddef.h first */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "forkbox.h"
#include "policy.h" /* fbx_policy_resolve_name, to pick a foreign name */

struct fx {
	char dir[PATH_MAX];
	char path[PATH_MAX]; /* scratch for put() */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/fbx-policy-api-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Writes <dir>/name (its directory made if needed); returns its path,
 * valid until the next put(). */
static const char *put(struct fx *f, const char *name, const char *text)
{
	int n = snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	assert_true(n > 0 && (size_t)n < sizeof(f->path));
	char *slash = strrchr(f->path, '/');
	*slash = '\0';
	mkdir(f->path, 0755); /* EEXIST for the top dir */
	*slash = '/';
	int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return f->path;
}

static char *check_ok(const char *path)
{
	struct fbx_error err = {0};
	char *summary = NULL;
	int rc = fbx_policy_check(path, &summary, &err);
	if (rc)
		fail_msg("check %s: %d: %s", path, rc, err.msg);
	assert_non_null(summary);
	return summary;
}

static void has(const char *text, const char *what)
{
	if (!strstr(text, what))
		fail_msg("no \"%s\" in:\n%s", what, text);
}

/* The error of a broken policy, with the summary left NULL. */
static void check_err(const char *path, int code, const char *msg)
{
	struct fbx_error err = {0};
	char *summary = (char *)1;
	assert_int_equal(fbx_policy_check(path, &summary, &err), -code);
	assert_null(summary);
	assert_int_equal(err.code, code);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("got:  %s\nwant: %s", err.msg, msg);
}

/* "name (nr): " with the native number, for the summary's rule lines. */
static const char *rule(const char *name, char *buf, size_t size)
{
	int nr;
	assert_int_equal(fbx_policy_resolve_name(name, &nr), 0);
	snprintf(buf, size, "%s (%d): ", name, nr);
	return buf;
}

/* has(text, rule(name) + rest) */
static void has_rule(const char *text, const char *name, const char *rest)
{
	char head[96], want[256];
	snprintf(want, sizeof(want), "%s%s", rule(name, head, sizeof(head)),
		 rest);
	has(text, want);
}

static unsigned instructions_in(const char *summary)
{
	const char *at = strstr(summary, "bpf: ");
	assert_non_null(at);
	unsigned n = 0;
	assert_int_equal(sscanf(at, "bpf: %u instructions", &n), 1);
	return n;
}

static void test_check_summary(void **state)
{
	struct fx *f = *state;
	char *s = check_ok(put(f, "t.policy",
			       "# a comment\n"
			       "@default errno EPERM\n"
			       "@unknown errno ENOSYS\n"
			       "read\n"
			       "write: arg0 == 1 || arg0 == 2\n"
			       "mmap: arg2 in PROT_READ|PROT_WRITE\n"
			       "socket: arg0 == AF_UNIX; return EACCES\n"
			       "ptrace: kill\n"
			       "kill\n"));
	has(s, "default: errno EPERM\n");
	has(s, "): errno ENOSYS\n"); /* unknown syscalls (N to M) */
	has_rule(s, "read", "allow  [");
	has_rule(s, "write", "allow if arg0 == 1 || arg0 == 2  [");
	has_rule(s, "mmap", "allow if arg2 in 3  [");
	has_rule(s, "socket", "allow if arg0 == 1; else errno EACCES  [");
	has_rule(s, "ptrace", "kill  [");
	has(s, "t.policy:9]\n"); /* where each rule came from */
	has_rule(s, "clone3", "errno ENOSYS  [<built-in>]\n");
	/* What the zygote adds: the hand-over rules the policy leaves out,
	 * and a guard on the signal sender it allows. */
	has(s, "added by the zygote for the job hand-over: sendmsg recvmsg "
	       "dup2 dup3 prlimit64\n");
	has(s, "or -1): kill tkill tgkill rt_sigqueueinfo rt_tgsigqueueinfo\n");
	assert_true(instructions_in(s) > 10);
	free(s);
}

static void test_check_include_relative_to_the_file(void **state)
{
	struct fx *f = *state;
	put(f, "common/io.policy", "read\nwrite\n");
	put(f, "sub/inc.policy", "@include ../common/io.policy\nclose\n");
	char *s = check_ok(put(f, "sub/top.policy", "@include inc.policy\n"));
	has(s, "common/io.policy:1]\n");
	has(s, "sub/inc.policy:2]\n");
	free(s);
}

static void test_check_skips_foreign_names(void **state)
{
	struct fx *f = *state;
	/* A name only other architectures have: arm_fadvise64_64 everywhere
	 * but 32-bit ARM, arch_prctl there. */
	const char *foreign = NULL;
	static const char *const candidates[] = {"arm_fadvise64_64",
						 "arch_prctl"};
	for (size_t i = 0; i < 2 && !foreign; i++) {
		int nr;
		if (fbx_policy_resolve_name(candidates[i], &nr) == 1)
			foreign = candidates[i];
	}
	assert_non_null(foreign);
	char text[128], want[128];
	snprintf(text, sizeof(text), "read\n%s\nwrite\n", foreign);
	char *s = check_ok(put(f, "t.policy", text));
	snprintf(want, sizeof(want), "skipped (not on this architecture): %s\n",
		 foreign);
	has(s, want);
	has_rule(s, "write", "allow");
	free(s);
}

static void test_check_errors_are_located(void **state)
{
	struct fx *f = *state;
	char want[PATH_MAX + 200];
	const char *p = put(f, "bad.policy", "read\nwrite: arg0 ==\n");
	snprintf(want, sizeof(want),
		 "%s:2:15: expected a number or a constant, got end of line",
		 p);
	check_err(p, EINVAL, want);

	p = put(f, "dup.policy", "read\n\n  read\n");
	snprintf(want, sizeof(want),
		 "%s:3:3: 'read' listed twice (first at %s:1)", p, p);
	check_err(p, EINVAL, want);

	/* An error in an included file names that file. */
	put(f, "inc/c.policy", "read\nno_such_syscall\n");
	p = put(f, "top.policy", "@include inc/c.policy\n");
	struct fbx_error err = {0};
	char *s = NULL;
	assert_int_equal(fbx_policy_check(p, &s, &err), -EINVAL);
	has(err.msg, "inc/c.policy:2:1: unknown syscall 'no_such_syscall'");

	p = put(f, "missing.policy", "@include nowhere.policy\n");
	assert_int_equal(fbx_policy_check(p, &s, &err), -ENOENT);
	has(err.msg, "missing.policy:1:10: cannot read");

	snprintf(want, sizeof(want), "%s/absent.policy", f->dir);
	assert_int_equal(fbx_policy_check(want, &s, &err), -ENOENT);
	has(err.msg, "absent.policy");
	assert_null(s);
}

static void test_dump_pfc(void **state)
{
	struct fx *f = *state;
	struct fbx_error err = {0};
	char *text = NULL;
	const char *p = put(f, "t.policy",
			    "read\nwrite: arg0 == 1\n"
			    "prctl: arg0 == PR_SET_NAME; return EPERM\n");
	assert_int_equal(fbx_policy_dump(p, 1, &text, &err), 0);
	has(text, "# rules compiled by hand (listed below) run before this "
		  "program");
	char head[96], want[200];
	snprintf(want, sizeof(want),
		 "#   %sallow if arg0 == 15; else errno EPERM  [",
		 rule("prctl", head, sizeof(head)));
	has(text, want);
	has(text, "# pseudo filter code start");
	has(text, "# filter for syscall \"read\"");
	has(text, "if ($a0.hi32 == 0)"); /* write's arg0 == 1 */
	/* prctl is the prefix's, not libseccomp's. */
	assert_null(strstr(text, "\"prctl\""));
	free(text);

	p = put(f, "plain.policy", "read\nwrite\n");
	assert_int_equal(fbx_policy_dump(p, 1, &text, &err), 0);
	has(text, "# no rules compiled by hand: this program is the whole "
		  "filter\n");
	free(text);
}

static void test_dump_bpf_matches_check(void **state)
{
	struct fx *f = *state;
	const char *p = put(f, "t.policy",
			    "@unknown errno ENOSYS\nread\n"
			    "kill: arg0 > 0; return EPERM\n"
			    "ioctl: arg1 in 0xffffffff && arg1 != TIOCSTI\n");
	char *summary = check_ok(p);
	unsigned want = instructions_in(summary);
	free(summary);
	struct fbx_error err = {0};
	char *text = NULL;
	assert_int_equal(fbx_policy_dump(p, 0, &text, &err), 0);
	unsigned n = 0, last_code = 0;
	for (const char *line = text; *line; n++) {
		unsigned idx, code, jt, jf, k;
		int used = 0;
		assert_int_equal(sscanf(line,
					"%4u: code=0x%x jt=%u jf=%u "
					"k=0x%8x\n%n",
					&idx, &code, &jt, &jf, &k, &used),
				 5);
		assert_true(used > 0);
		assert_int_equal(idx, n);
		last_code = code;
		line += used;
	}
	assert_int_equal(n, want);
	/* Starts by loading the architecture, ends with a return. */
	assert_true(
	    strncmp(text, "0000: code=0x20 jt=0 jf=0 k=0x00000004\n", 39) == 0);
	assert_int_equal(last_code, 0x06);
	free(text);
}

/* A policy with an @after-load stage: the zygote compiles a second
 * filter, and check and dump show it after the first. */
static void test_after_load_stage(void **state)
{
	struct fx *f = *state;
	const char *p = put(f, "t.policy",
			    "@default errno EPERM\nread\nwrite\nopenat\n"
			    "@after-load\nread\nwrite\nexit_group\n");
	char *s = check_ok(p);
	const char *after = strstr(s, "after load (");
	assert_non_null(after);
	has_rule(after, "exit_group", "allow  [");
	assert_null(strstr(after, "openat"));
	unsigned n_after = 0;
	const char *count = strstr(after, "\n  bpf: ");
	assert_non_null(count);
	assert_int_equal(sscanf(count, "\n  bpf: %u instructions", &n_after),
			 1);
	assert_true(n_after > 0);
	free(s);

	struct fbx_error err = {0};
	char *text = NULL;
	assert_int_equal(fbx_policy_dump(p, 0, &text, &err), 0);
	const char *sep = strstr(text, "\n# after load: ");
	assert_non_null(sep);
	const char *second = strchr(sep + 1, '\n') + 1;
	assert_true(strncmp(second, "0000: ", 6) == 0);
	unsigned lines = 0;
	for (const char *c = second; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, n_after);
	free(text);

	assert_int_equal(fbx_policy_dump(p, 1, &text, &err), 0);
	sep = strstr(text, "\n# after load: ");
	assert_non_null(sep);
	has(sep, "# pseudo filter code start");
	free(text);
}

static void test_dump_errors(void **state)
{
	struct fx *f = *state;
	struct fbx_error err = {0};
	char *text = (char *)1;
	const char *p = put(f, "t.policy", "@default nothing\n");
	assert_int_equal(fbx_policy_dump(p, 1, &text, &err), -EINVAL);
	assert_null(text);
	has(err.msg, "t.policy:1:10: expected kill, trap, log or 'errno ERRNO' "
		     "after @default, got 'nothing'");
	text = (char *)1;
	assert_int_equal(fbx_policy_dump(p, 0, &text, NULL), -EINVAL);
	assert_null(text);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_check_summary),
	    T(test_check_include_relative_to_the_file),
	    T(test_check_skips_foreign_names),
	    T(test_check_errors_are_located),
	    T(test_dump_pfc),
	    T(test_dump_bpf_matches_check),
	    T(test_after_load_stage),
	    T(test_dump_errors),
	};
	return cmocka_run_group_tests_name("policy_api", tests, NULL, NULL);
}
