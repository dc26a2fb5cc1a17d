/* Unit tests for the policy compiler (policy_compile.c): compiled filters,
 * the summary, syscall names and the shipped policies.
 *
 * Compiled filters are run in-process through a small classic-BPF
 * interpreter against many argument values (fast, exhaustive over edge
 * cases); test_policy_load.c loads them for real in forked children. Both
 * harnesses are in policy_test_util.h. */
#include <errno.h>
#include <limits.h>
#include <linux/audit.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy_consts.h"
#include "policy_test_util.h"
#include "zygote.h"

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

/* The zygote's carve-out of its, its janitor's and the host's pids from the
 * signal syscalls: ahead of every rule, so that a policy that allows, logs
 * or defaults to letting signals through keeps it; the pid compared as the
 * kernel reads it, an int (a high word set does not make another pid);
 * groups (-pid) and -1 refused too. Other pids go on to the rules. */
static void test_zygote_guards_signal_targets(void **state)
{
	static const char *const policies[] = {
	    "tgkill\ntkill: arg1 == 9 || arg1 == 15\nrt_sigqueueinfo\n"
	    "rt_tgsigqueueinfo\nkill: arg0 > 0 && arg0 <= 0x7fffffff && "
	    "arg1 != 1 && arg1 != 2 && arg1 != 3 && arg1 != 4 && arg1 != 5 && "
	    "arg1 != 6 && arg1 != 7 && arg1 != 8 && arg1 != 10 && "
	    "arg1 != 11 && arg1 != 12 && arg1 != 13 && arg1 != 14 && "
	    "arg1 != 16; return EPERM\n",
	    "@default log\n",
	    "@default errno EPERM\nkill: log\ntgkill: log\ntkill\n"};
	/* For a pid not guarded, in the order of senders below. */
	static const uint32_t want_other[3][5] = {
	    {SECCOMP_RET_ALLOW, SECCOMP_RET_ALLOW, SECCOMP_RET_ALLOW,
	     SECCOMP_RET_ALLOW, SECCOMP_RET_ALLOW},
	    {SECCOMP_RET_LOG, SECCOMP_RET_LOG, SECCOMP_RET_LOG, SECCOMP_RET_LOG,
	     SECCOMP_RET_LOG},
	    {SECCOMP_RET_LOG, SECCOMP_RET_ALLOW, SECCOMP_RET_LOG,
	     RET_ERRNO(EPERM), RET_ERRNO(EPERM)}};
	static const char *const senders[] = {
	    "tgkill", "tkill", "kill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"};
	static const int64_t guarded[] = {4242,	 4343,	4444, -4242,
					  -4343, -4444, -1};
	static const uint64_t high[] = {0, 1ull << 32, 0xffffffffull << 32};
	for (size_t pol = 0; pol < 3; pol++) {
		struct fbx_policy *p = parse_ok(policies[pol]);
		struct fbx_error err = {0};
		assert_int_equal(
		    fbx_zygote_amend_policy(p, 4242, 4343, 4444, &err), 0);
		struct fbx_bpf b;
		assert_int_equal(fbx_policy_compile(p, 0, &b, &err), 0);
		for (size_t s = 0; s < 5; s++) {
			for (size_t g = 0; g < 7; g++) {
				for (size_t h = 0; h < 3; h++) {
					uint64_t args[6] = {
					    ((uint64_t)guarded[g] &
					     0xffffffffu) |
						high[h],
					    9, 9};
					uint32_t v =
					    verdict(&b, nr_of(senders[s]),
						    NATIVE_ARCH, args);
					if (v != RET_ERRNO(EPERM))
						fail_msg(
						    "policy %zu: %s(0x%llx) "
						    "gave 0x%x",
						    pol, senders[s],
						    (unsigned long long)args[0],
						    v);
				}
			}
			uint64_t other[6] = {4245, 9, 9};
			assert_int_equal(
			    verdict(&b, nr_of(senders[s]), NATIVE_ARCH, other),
			    want_other[pol][s]);
		}
		fbx_bpf_free(&b);
		fbx_policy_free(p);
	}
}

/* FBX_POLICY_ALLOW_GROUP_STOP: kill(0, SIGSTOP) passes ahead of every rule,
 * whatever the policy says of kill; nothing else about kill changes. */
static void test_compiled_group_stop(void **state)
{
	(void)state;
	const char *texts[] = {
	    "exit_group\n",
	    "exit_group\nkill: arg0 > 0; return EPERM\n",
	    "exit_group\nkill: return EPERM\n",
	};
	const uint64_t stop_group[6] = {0, SIGSTOP},
		       stop_group_hi[6] = {0xffffffff00000000ull,
					   0x100000000ull | SIGSTOP},
		       kill_group[6] = {0, SIGKILL}, stop_one[6] = {1, SIGSTOP},
		       stop_all[6] = {(uint64_t)-1, SIGSTOP};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct fbx_bpf with =
		    compile_text(texts[i], FBX_POLICY_KILL_VIA_NOTIFY |
					       FBX_POLICY_ALLOW_GROUP_STOP);
		struct fbx_bpf without =
		    compile_text(texts[i], FBX_POLICY_KILL_VIA_NOTIFY);
		int kill_nr = nr_of("kill");
		assert_int_equal(
		    verdict(&with, kill_nr, NATIVE_ARCH, stop_group),
		    SECCOMP_RET_ALLOW);
		/* The kernel reads both as int: so does the filter. */
		assert_int_equal(
		    verdict(&with, kill_nr, NATIVE_ARCH, stop_group_hi),
		    SECCOMP_RET_ALLOW);
		assert_int_not_equal(
		    verdict(&without, kill_nr, NATIVE_ARCH, stop_group),
		    SECCOMP_RET_ALLOW);
		const uint64_t *others[] = {kill_group, stop_one, stop_all};
		for (size_t k = 0; k < 3; k++)
			assert_int_equal(
			    verdict(&with, kill_nr, NATIVE_ARCH, others[k]),
			    verdict(&without, kill_nr, NATIVE_ARCH, others[k]));
		assert_int_equal(
		    verdict(&with, nr_of("getpid"), NATIVE_ARCH, NULL),
		    SECCOMP_RET_USER_NOTIF);
		/* Another ABI's kill is still the kernel's to kill. */
		assert_int_equal(
		    verdict(&with, 37, AUDIT_ARCH_I386, stop_group),
		    SECCOMP_RET_KILL_PROCESS);
		fbx_bpf_free(&with);
		fbx_bpf_free(&without);
	}
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

/* --- the shipped policies ------------------------------------------------ */

/* Inputs the fuzzer found that sent libseccomp 2.5.4 into an endless loop
 * (several libseccomp rules for one syscall sharing a non-EQ comparison);
 * such rules are now compiled by hand. alarm() turns a hang into a
 * failure instead of a stuck test run. */
static void test_libseccomp_loop_inputs(void **state)
{
	static const char *const inputs[] = {
	    "write: arg1 < 4 && arg2 == 1 || arg1 < 4 && arg3 == 2\n",
	    "write: arg1 < 4 && arg5 & 0x100000001\n",
	    "write: arg0 != 2 && arg1 != 1 || arg0 != 2 && arg2 != 1\n",
	};
	alarm(20);
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct fbx_bpf bpf = compile_text(inputs[i], 0);
		assert_true(bpf.len > 0);
		fbx_bpf_free(&bpf);
	}
	alarm(0);
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

int main(void)
{
	const struct CMUnitTest compile[] = {
	    cmocka_unit_test(test_syscall_name),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_libseccomp_loop_inputs),
	    cmocka_unit_test(test_compiled_operators),
	    cmocka_unit_test(test_compiled_expressions),
	    cmocka_unit_test(test_compiled_actions),
	    cmocka_unit_test(test_compiled_kill_via_notify),
	    cmocka_unit_test(test_compiled_group_stop),
	    cmocka_unit_test(test_zygote_guards_signal_targets),
	    cmocka_unit_test(test_compiled_unknown),
	    cmocka_unit_test(test_shipped_policies_compile),
	};
	return cmocka_run_group_tests_name("policy_compile", compile, NULL,
					   NULL);
}
