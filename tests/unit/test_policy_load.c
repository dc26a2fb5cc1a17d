/* Unit tests for compiled policies loaded for real (policy_compile.c): in
 * forked children that make allowed, denied, errno, x32 and i386 syscalls
 * and report through their wait status (harness in policy_test_util.h).
 * test_policy_compile.c checks the same filters in-process. */
#include <errno.h>
#include <fcntl.h>
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
		SYS("fcntl F_SETOWN", SYS_fcntl, ARGS(0, F_SETOWN, self),
		    ERR(EPERM)),
		SYS("fcntl F_SETSIG", SYS_fcntl, ARGS(0, F_SETSIG, SIGKILL),
		    ERR(EPERM)),
		SYS("fcntl F_GETFL", SYS_fcntl, ARGS(0, F_GETFL)),
		SYS("fchmod set-uid", SYS_fchmod, ARGS(0, 04755), ERR(EPERM)),
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
	const struct CMUnitTest load[] = {
	    cmocka_unit_test_setup(test_load_rules, seccomp_setup),
	    cmocka_unit_test_setup(test_load_x32, seccomp_setup),
	    cmocka_unit_test_setup(test_load_i386, seccomp_setup),
	    cmocka_unit_test_setup(test_load_unknown_and_notify, seccomp_setup),
	    cmocka_unit_test_setup(test_load_group_stop, seccomp_setup),
	    cmocka_unit_test_setup(test_native_policy_in_child, seccomp_setup),
	};
	return cmocka_run_group_tests_name("policy_load", load, NULL, NULL);
}
