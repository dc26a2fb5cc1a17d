/* Seccomp policy files: reading (pure) and compiling to BPF (libseccomp).
 *
 * Format (SPEC "Policies"), one rule per line:
 *   # comment
 *   @include other.policy        relative to the including file
 *   @default kill|trap|log|errno NAME
 *   @unknown errno ENOSYS
 *   read                         allow
 *   read: 1                      allow
 *   ptrace: return EPERM         fail with errno (name or number)
 *   ptrace: kill | trap | log
 *   write: EXPR                  allow when EXPR holds (see policy_expr)
 *   socket: EXPR; return EACCES
 *
 * Comparisons see the whole 64-bit register: "argN & V" holds when any flag
 * of V is set, "argN in V" when no flag outside V is set. A rule has at most
 * 32 '||' alternatives of at most 16 comparisons.
 *
 * Errors name file:line:column. */
#ifndef FORKBOX_POLICY_H
#define FORKBOX_POLICY_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum fbx_action {
	FBX_ACTION_ALLOW,
	FBX_ACTION_ERRNO, /* with an errno value */
	FBX_ACTION_KILL,  /* kill the process; reported as Forkbox.SyscallDenied
			   */
	FBX_ACTION_TRAP,  /* SIGSYS to the thread */
	FBX_ACTION_LOG,	  /* allow and log */
};

enum fbx_cmp_op {
	FBX_CMP_EQ,
	FBX_CMP_NE,
	FBX_CMP_LT,
	FBX_CMP_LE,
	FBX_CMP_GT,
	FBX_CMP_GE,
	FBX_CMP_MASKED_SET, /* argN & VALUE: any of the flags set */
	FBX_CMP_IN,	    /* argN in VALUE: no flag outside VALUE set */
};

/* Comparisons a clause may hold (the parser allows 16). Beyond it
 * compilation fails; nothing is ever dropped. */
#define FBX_POLICY_MAX_CLAUSE_CMPS 24

#define FBX_POLICY_MAX_GUARDED 4

struct fbx_policy_cmp {
	unsigned arg; /* 0..5 */
	enum fbx_cmp_op op;
	uint64_t value;
};

/* A conjunction of comparisons; a rule's condition is an OR of these. */
struct fbx_policy_clause {
	struct fbx_policy_cmp *cmps;
	size_t n_cmps;
};

struct fbx_policy_rule {
	char name[64];		/* syscall name as written */
	int nr;			/* native syscall number */
	enum fbx_action action; /* when the condition holds (or no condition) */
	int errno_value;	/* for FBX_ACTION_ERRNO */
	/* Condition: empty means unconditional. When a condition is given and
	 * does not hold, the policy's default action applies, unless
	 * else_errno >= 0 ("EXPR; return ERRNO"). */
	struct fbx_policy_clause *clauses;
	size_t n_clauses;
	int else_errno; /* -1 when none */
	char file[256];
	unsigned line;
};

struct fbx_policy {
	struct fbx_policy_rule *rules;
	size_t n_rules;
	enum fbx_action default_action; /* FBX_ACTION_KILL unless @default */
	int default_errno;
	int unknown_errno; /* @unknown errno; -1 when not given */
	/* Names skipped because unknown on this architecture, for notices. */
	char **skipped;
	size_t n_skipped;
	/* Rules after "@after-load": a second filter, added once the module
	 * is loaded and before its entry runs (seccomp filters only ever
	 * narrow, so this stage can only take away). NULL when absent. Its
	 * default action is its own @default, else this policy's. */
	struct fbx_policy *after_load;
	/* Pids no signal may reach, whatever the rules and the default say
	 * (the zygote's, its janitor's, the host's: zygote_policy.c). The
	 * filter refuses kill, tkill, tgkill, rt_sigqueueinfo and
	 * rt_tgsigqueueinfo aimed at them with EPERM ahead of every rule,
	 * comparing the pid as the kernel reads it, an int. */
	int32_t guarded_pids[FBX_POLICY_MAX_GUARDED];
	size_t n_guarded;
};

/* Reads a policy file and everything it includes. */
int fbx_policy_load(const char *path, struct fbx_policy **out,
		    struct fbx_error *err);

/* Same from a string; name is used in error messages and base_dir resolves
 * @include (may be NULL: includes are then refused). */
int fbx_policy_parse(const char *text, const char *name, const char *base_dir,
		     struct fbx_policy **out, struct fbx_error *err);

void fbx_policy_free(struct fbx_policy *policy);

/* A compiled filter, ready for seccomp(SECCOMP_SET_MODE_FILTER). */
struct fbx_bpf {
	struct sock_filter *insns;
	unsigned short len;
};

enum {
	/* Compile FBX_ACTION_KILL as SECCOMP_RET_USER_NOTIF so that a
	 * supervisor holding the listener learns the syscall and kills. */
	FBX_POLICY_KILL_VIA_NOTIFY = 1u << 0,
	/* kill(0, SIGSTOP) is let through ahead of the policy's rules: a
	 * child's last act once its answer is written (child.c, end). It
	 * stops only the caller's own process group, which holds nothing
	 * but processes of the same invocation (a group never spans
	 * sessions, and each child has its own): a module that makes the
	 * call ends its own invocation early, nothing more. */
	FBX_POLICY_ALLOW_GROUP_STOP = 1u << 1,
};

int fbx_policy_compile(const struct fbx_policy *policy, unsigned flags,
		       struct fbx_bpf *out, struct fbx_error *err);
void fbx_bpf_free(struct fbx_bpf *bpf);

/* Syscall name for a native number ("syscall 999" style text when unknown);
 * writes into buf and returns it. */
const char *fbx_syscall_name(int nr, char *buf, size_t size);

/* File name recorded in rules the reader adds itself (clone3 -> ENOSYS when
 * the policy does not mention clone3); their line is 0. */
#define FBX_POLICY_BUILTIN_FILE "<built-in>"

/* How many syscall numbers above fbx_policy_max_known_syscall() @unknown
 * covers (new syscalls are numbered sequentially). */
#define FBX_POLICY_UNKNOWN_SPAN 1024

/* Whether fbx_policy_compile compiles a rule by hand into the BPF block it
 * puts in front of libseccomp's program (rules libseccomp cannot express:
 * "EXPR; return ERRNO", an argument compared twice, ...). */
bool fbx_policy_rule_by_hand(const struct fbx_policy_rule *rule);

/* Writes to fd libseccomp's PFC text of the program fbx_policy_compile
 * builds, without the hand-compiled block (that one is not libseccomp's). */
int fbx_policy_write_pfc(const struct fbx_policy *p, unsigned flags, int fd,
			 struct fbx_error *err);

/* Text for people (policy_export.c); what *out or *text gets is malloc'd.
 *
 * fbx_policy_summary: default action, @unknown, the names skipped on this
 * architecture, one line per rule with where it came from, for `forkbox
 * policy check`. Returns 0 or -ENOMEM.
 *
 * fbx_policy_export_pfc: the PFC text of fbx_policy_write_pfc, after
 * comment lines listing the rules compiled by hand, which run first.
 *
 * fbx_bpf_listing: one line per instruction,
 * "NNNN: code=0x.. jt=.. jf=.. k=0x........". Returns 0 or -ENOMEM. */
int fbx_policy_summary(const struct fbx_policy *p, char **out);
int fbx_policy_export_pfc(const struct fbx_policy *p, unsigned flags,
			  char **text, struct fbx_error *err);
int fbx_bpf_listing(const struct fbx_bpf *bpf, char **text);

/* Resolves a syscall name for the native architecture: 0 with *nr set;
 * 1 when the name exists only on other architectures (the reader skips it
 * with a notice); -1 when no architecture knows it. */
int fbx_policy_resolve_name(const char *name, int *nr);

/* Highest syscall number this libseccomp knows for the native architecture:
 * @unknown applies to the numbers above it. */
int fbx_policy_max_known_syscall(void);

#endif
