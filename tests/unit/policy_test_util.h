/* Helpers for the policy tests (test_policy_parse.c, test_policy_compile.c):
 * reading policies from strings and files, running compiled filters through
 * a small classic-BPF interpreter, and loading them in forked children.
 *
 * Each tests/unit/test_*.c is its own binary, so everything here is static
 * inline: a binary that uses only some of it gets no unused-function
 * warnings for the rest. */
#ifndef FORKBOX_POLICY_TEST_UTIL_H
#define FORKBOX_POLICY_TEST_UTIL_H

#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>
#include <setjmp.h> /* cmocka.h needs setjmp.h, stdarg.h, stddef.h first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy.h"

/* --- reading policies ---------------------------------------------------- */

static inline struct fbx_policy *parse_ok(const char *text)
{
	struct fbx_error err = {0};
	struct fbx_policy *p = NULL;
	int rc = fbx_policy_parse(text, "t.policy", NULL, &p, &err);
	if (rc)
		fail_msg("unexpected error %d: %s", rc, err.msg);
	return p;
}

static inline void parse_err(const char *text, const char *msg)
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

static inline const struct fbx_policy_rule *rule(const struct fbx_policy *p,
						 const char *name)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		if (strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	}
	fail_msg("no rule for %s", name);
	return NULL;
}

static inline bool has_rule(const struct fbx_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		if (strcmp(p->rules[i].name, name) == 0)
			return true;
	}
	return false;
}

static inline int nr_of(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);
	assert_true(nr >= 0);
	return nr;
}

/* Names of the other architecture in the pair x86_64 / aarch64. */
#if defined(__x86_64__)
#define FOREIGN_1 "mmap2"	     /* i386, arm */
#define FOREIGN_2 "arm_fadvise64_64" /* arm only */
#else
#define FOREIGN_1 "arch_prctl"
#define FOREIGN_2 "mmap2"
#endif

/* --- policy files in a temporary directory ------------------------------- */

/* A temporary directory for include tests; files are removed at teardown. */
struct tmpdir {
	char path[64];
	char files[40][128];
	int n_files;
	char dirs[8][128];
	int n_dirs;
};

static inline void tmp_mkdir(struct tmpdir *t, const char *rel)
{
	char base[sizeof(t->path)];
	memcpy(base, t->path, sizeof(base));
	snprintf(t->dirs[t->n_dirs], sizeof(t->dirs[0]), "%s/%s", base, rel);
	assert_int_equal(mkdir(t->dirs[t->n_dirs], 0700), 0);
	t->n_dirs++;
}

static inline void tmp_write(struct tmpdir *t, const char *rel,
			     const char *text)
{
	char *path = t->files[t->n_files++], base[sizeof(t->path)];
	memcpy(base, t->path, sizeof(base));
	snprintf(path, sizeof(t->files[0]), "%s/%s", base, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static inline int tmp_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "/tmp/fbx-policy-XXXXXX");
	if (!t || !mkdtemp(t->path))
		return -1;
	*state = t;
	return 0;
}

static inline int tmp_teardown(void **state)
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
static inline void load_err(struct tmpdir *t, const char *rel, int code,
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

/* --- running a compiled filter in-process -------------------------------- */

/* The subset of classic BPF that libseccomp and the prefix emit. Returns
 * the filter's verdict, or 0xdeadbeef for anything else (a test failure). */
static inline uint32_t run_bpf(const struct fbx_bpf *b,
			       const struct seccomp_data *d)
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

static inline uint32_t verdict(const struct fbx_bpf *b, int nr, uint32_t arch,
			       const uint64_t args[6])
{
	struct seccomp_data d = {.nr = nr, .arch = arch};
	if (args)
		memcpy(d.args, args, sizeof(d.args));
	return run_bpf(b, &d);
}

static inline struct fbx_bpf compile_text(const char *text, unsigned flags)
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

/* --- the shipped policies ------------------------------------------------ */

/* policies/ of this source tree: found from the test binary
 * (BUILD/tests/test_policy_*), else from the working directory. */
static inline void policy_path(const char *name, char *buf, size_t size)
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

static inline struct fbx_policy *load_shipped(const char *name)
{
	char path[PATH_MAX + 32];
	policy_path(name, path, sizeof(path));
	struct fbx_error err = {0};
	struct fbx_policy *p = NULL;
	if (fbx_policy_load(path, &p, &err))
		fail_msg("%s: %s", path, err.msg);
	return p;
}

#define NATIVE_ARCH  seccomp_arch_native()
#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))

/* --- loading a compiled filter in a child -------------------------------- */

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

static inline void *thread_fn(void *arg)
{
	return (void *)42;
}

/* Makes the call; returns 0 or -errno. Runs after the filter is loaded. */
static inline long do_try(const struct try *t)
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
static inline int run_in_child(const struct sock_filter *insns,
			       unsigned short len, const struct try *t)
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

static inline void check_try(const struct fbx_bpf *b, const struct try *t)
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
static inline int seccomp_setup(void **state)
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

static inline bool int80_works(void)
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

#endif
