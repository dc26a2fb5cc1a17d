/* Unit tests for the policy compiler (policy_compile.c): compiled filters,
 * the summary, syscall names and the shipped policies.
 *
 * Compiled filters are checked two ways: run in-process through a small
 * classic-BPF interpreter against many argument values (fast, exhaustive
 * over edge cases), and loaded for real in forked children that then make
 * allowed, denied, errno, x32 and i386 syscalls and report through their
 * wait status. Both harnesses are in policy_test_util.h. */
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

/* Loaded for real: a child in a process group of its own stops itself
 * under a policy that allows nothing of kill; kill(0, SIGCONT) still
 * kills it. */
static void test_load_group_stop(void **state)
{
	SKIP_WITHOUT_SECCOMP();
	struct fbx_bpf b =
	    compile_text("exit_group\n", FBX_POLICY_ALLOW_GROUP_STOP);
	static const int sigs[] = {SIGSTOP, SIGCONT};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int sig = sigs[i];
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct sock_fprog prog = {.len = b.len,
						  .filter = b.insns};
			if (setpgid(0, 0) < 0 ||
			    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
			    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
				    &prog) < 0)
				_exit(100);
			syscall(SYS_kill, 0, sig);
			syscall(SYS_exit_group, 101);
		}
		int status;
		assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
		if (sig == SIGSTOP) {
			assert_true(WIFSTOPPED(status));
			assert_int_equal(WSTOPSIG(status), SIGSTOP);
			assert_int_equal(kill(pid, SIGKILL), 0);
			assert_int_equal(waitpid(pid, &status, 0), pid);
		} else {
			assert_true(WIFSIGNALED(status));
			assert_int_equal(WTERMSIG(status), SIGSYS);
		}
	}
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
 * (BUILD/tests/test_policy_compile), else from the working directory. */
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
	    cmocka_unit_test_setup(test_load_rules, seccomp_setup),
	    cmocka_unit_test_setup(test_load_x32, seccomp_setup),
	    cmocka_unit_test_setup(test_load_i386, seccomp_setup),
	    cmocka_unit_test_setup(test_load_unknown_and_notify, seccomp_setup),
	    cmocka_unit_test_setup(test_load_group_stop, seccomp_setup),
	    cmocka_unit_test_setup(test_native_policy_in_child, seccomp_setup),
	};
	return cmocka_run_group_tests_name("policy_compile", compile, NULL,
					   NULL);
}
