/* Policy compiler: struct fbx_policy -> classic BPF for seccomp, through
 * libseccomp (everything libseccomp-related lives in this file; turning
 * policies and filters into text for people is policy_export.c).
 *
 * The filter is for the native architecture only. Other ABIs are killed by
 * the kernel, not filtered: SCMP_FLTATR_ACT_BADARCH is KILL_PROCESS, so an
 * i386 `int 0x80` call (arch AUDIT_ARCH_I386) is killed, and for x86_64
 * libseccomp 2.5 already emits "nr >= __X32_SYSCALL_BIT (and != -1) ->
 * bad-arch action" when x32 is not among the filter's arches, so x32 calls
 * are killed too (checked with seccomp_export_pfc/bpf; the unit tests make
 * both calls and expect SIGSYS).
 *
 * What libseccomp cannot express is compiled by hand into a short BPF block
 * placed in front of libseccomp's program ("the prefix"):
 *  - "EXPR; return ERRNO": libseccomp has no per-syscall fallback action
 *    (an unconditional rule replaces the conditional ones), and negating
 *    EXPR would need several comparisons of one argument in one rule;
 *  - clauses comparing the same argument twice (libseccomp allows one
 *    comparison per argument per rule);
 *  - clauses whose '&' values would expand to too many rules (see below);
 *  - @unknown errno N: syscall numbers above the highest one this
 *    libseccomp knows for the native architecture (up to 1024 above it:
 *    new syscalls are numbered sequentially; anything further is not a
 *    syscall on any kernel and gets the default action) return ERRNO(N);
 *  - kill(0, SIGSTOP) allowed, first of all, when a flag asks for it
 *    (FBX_POLICY_ALLOW_GROUP_STOP, policy.h).
 * The prefix checks the architecture first and otherwise falls through to
 * libseccomp's program, which starts by reloading everything it needs.
 *
 * `argN & V` (any flag of V set) is compiled by libseccomp as one rule per
 * bit of V, each SCMP_CMP_MASKED_EQ(bit, bit), since libseccomp has no
 * "masked != 0" test; `argN in V` is SCMP_CMP_MASKED_EQ(~V, 0). */
#include "policy.h"
#include "policy_consts.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* libseccomp rules one clause may expand to before it goes to the prefix. */
#define MAX_EXPANSION 64
#define UNKNOWN_SPAN  FBX_POLICY_UNKNOWN_SPAN

int fbx_policy_resolve_name(const char *name, int *nr)
{
	/* Other architectures a policy may be shared with. */
	static const uint32_t arches[] = {
	    SCMP_ARCH_X86_64,  SCMP_ARCH_X86,	SCMP_ARCH_X32,
	    SCMP_ARCH_AARCH64, SCMP_ARCH_ARM,	SCMP_ARCH_RISCV64,
	    SCMP_ARCH_PPC64LE, SCMP_ARCH_S390X, SCMP_ARCH_MIPSEL64,
	};
	/* For names of other architectures libseccomp returns negative
	 * pseudo numbers, hence >= 0. */
	*nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);
	if (*nr >= 0)
		return 0;
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
		if (seccomp_syscall_resolve_name_arch(arches[i], name) >= 0)
			return 1;
	}
	return -1;
}

int fbx_policy_max_known_syscall(void)
{
	/* libseccomp has no "highest number" call; its tables are searched
	 * for every number up to a bound that covers the numbering of every
	 * architecture it supports (MIPS starts at 4000-6000). ~3 ms, once
	 * at start-up. */
	int max = -1;
	for (int nr = 0; nr < 8192; nr++) {
		char *name =
		    seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name) {
			max = nr;
			free(name);
		}
	}
	return max;
}

const char *fbx_syscall_name(int nr, char *buf, size_t size)
{
	char *name =
	    nr >= 0 ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr)
		    : NULL;
	if (name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "syscall %d", nr);
	free(name);
	return buf;
}

static uint32_t scmp_action(enum fbx_action action, int errno_value,
			    unsigned flags)
{
	switch (action) {
	case FBX_ACTION_ALLOW:
		return SCMP_ACT_ALLOW;
	case FBX_ACTION_ERRNO:
		return SCMP_ACT_ERRNO((uint32_t)errno_value);
	case FBX_ACTION_TRAP:
		return SCMP_ACT_TRAP;
	case FBX_ACTION_LOG:
		return SCMP_ACT_LOG;
	case FBX_ACTION_KILL:
		break;
	}
	return (flags & FBX_POLICY_KILL_VIA_NOTIFY) ? SCMP_ACT_NOTIFY
						    : SCMP_ACT_KILL_PROCESS;
}

static unsigned popcount64(uint64_t v)
{
	return (unsigned)__builtin_popcountll(v);
}

/* Whether the rule goes to the hand-written prefix (see the top). */
bool fbx_policy_rule_by_hand(const struct fbx_policy_rule *rule)
{
	if (rule->else_errno >= 0)
		return true;
	/* Several libseccomp rules for one syscall can send libseccomp 2.5.4
	 * into an endless loop in seccomp_rule_add_array when they share a
	 * non-EQ comparison (the fuzzer found it; see tests/fuzz/crashes):
	 * a rule that would take more than one is compiled by hand. */
	if (rule->n_clauses > 1)
		return true;
	for (size_t i = 0; i < rule->n_clauses; i++) {
		const struct fbx_policy_clause *cl = &rule->clauses[i];
		for (size_t k = 0; k < cl->n_cmps; k++)
			if (cl->cmps[k].op == FBX_CMP_MASKED_SET &&
			    popcount64(cl->cmps[k].value) > 1)
				return true;
	}
	for (size_t i = 0; i < rule->n_clauses; i++) {
		const struct fbx_policy_clause *cl = &rule->clauses[i];
		unsigned seen = 0, expansion = 1;
		for (size_t k = 0; k < cl->n_cmps; k++) {
			if (seen & (1u << cl->cmps[k].arg))
				return true;
			seen |= 1u << cl->cmps[k].arg;
			if (cl->cmps[k].op == FBX_CMP_MASKED_SET)
				expansion *= popcount64(cl->cmps[k].value);
			if (expansion > MAX_EXPANSION)
				return true;
		}
	}
	return false;
}

static int rule_error(struct fbx_error *err, const struct fbx_policy_rule *r,
		      int rc)
{
	return fbx_error_set(err, -rc,
			     "%s:%u:1: libseccomp refused the rule "
			     "for '%s': %s",
			     r->file, r->line, r->name, strerror(-rc));
}

/* One clause as libseccomp rules: the cartesian product over the bits of
 * its '&' comparisons. */
static int add_clause(scmp_filter_ctx ctx, const struct fbx_policy_rule *rule,
		      const struct fbx_policy_clause *cl)
{
	struct scmp_arg_cmp cmps[6];
	uint64_t bits[6] = {0}; /* bits still to iterate for '&' */
	for (size_t k = 0; k < cl->n_cmps; k++)
		bits[k] = cl->cmps[k].value;
	for (;;) {
		for (size_t k = 0; k < cl->n_cmps; k++) {
			const struct fbx_policy_cmp *c = &cl->cmps[k];
			static const enum scmp_compare ops[] = {
			    [FBX_CMP_EQ] = SCMP_CMP_EQ,
			    [FBX_CMP_NE] = SCMP_CMP_NE,
			    [FBX_CMP_LT] = SCMP_CMP_LT,
			    [FBX_CMP_LE] = SCMP_CMP_LE,
			    [FBX_CMP_GT] = SCMP_CMP_GT,
			    [FBX_CMP_GE] = SCMP_CMP_GE,
			};
			uint64_t low = bits[k] & -bits[k];
			if (c->op == FBX_CMP_MASKED_SET)
				cmps[k] = SCMP_CMP(c->arg, SCMP_CMP_MASKED_EQ,
						   low, low);
			else if (c->op == FBX_CMP_IN)
				cmps[k] = SCMP_CMP(c->arg, SCMP_CMP_MASKED_EQ,
						   ~c->value, 0);
			else
				cmps[k] =
				    SCMP_CMP(c->arg, ops[c->op], c->value, 0);
		}
		int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, rule->nr,
						(unsigned)cl->n_cmps, cmps);
		if (rc)
			return rc;
		/* Next combination: an odometer over the set bits. */
		size_t k = 0;
		for (; k < cl->n_cmps; k++) {
			if (cl->cmps[k].op != FBX_CMP_MASKED_SET)
				continue;
			bits[k] &= bits[k] - 1;
			if (bits[k])
				break;
			bits[k] = cl->cmps[k].value;
		}
		if (k == cl->n_cmps)
			return 0;
	}
}

static int add_rules(scmp_filter_ctx ctx, const struct fbx_policy *p,
		     unsigned flags, uint32_t def, struct fbx_error *err)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct fbx_policy_rule *r = &p->rules[i];
		if (fbx_policy_rule_by_hand(r))
			continue;
		int rc = 0;
		if (r->n_clauses == 0) {
			uint32_t act =
			    scmp_action(r->action, r->errno_value, flags);
			/* libseccomp refuses a rule that repeats the default
			 * (EACCES); such a rule changes nothing anyway. */
			if (act != def)
				rc = seccomp_rule_add(ctx, act, r->nr, 0);
		}
		for (size_t k = 0; k < r->n_clauses && !rc; k++)
			rc = add_clause(ctx, r, &r->clauses[k]);
		if (rc)
			return rule_error(err, r, rc);
	}
	return 0;
}

/* --- the hand-written prefix --------------------------------------------- */

struct prog {
	struct sock_filter *insns;
	size_t n, cap;
	bool nomem;
};

static size_t emit(struct prog *p, uint16_t code, uint8_t jt, uint8_t jf,
		   uint32_t k)
{
	if (p->n == p->cap && !p->nomem) {
		size_t ncap = p->cap ? p->cap * 2 : 64;
		struct sock_filter *ni = realloc(p->insns, ncap * sizeof(*ni));
		if (ni) {
			p->insns = ni;
			p->cap = ncap;
		} else {
			p->nomem = true;
		}
	}
	if (p->nomem)
		return 0;
	p->insns[p->n] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
	return p->n++;
}

#define LD(p, off)	      emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, off)
#define JMP(p, op, k, jt, jf) emit(p, BPF_JMP | (op) | BPF_K, jt, jf, k)
#define JA(p)		      emit(p, BPF_JMP | BPF_JA, 0, 0, 0)
#define RET(p, k)	      emit(p, BPF_RET | BPF_K, 0, 0, k)

/* Patches the jump at index at to land on index to. */
static void patch(struct prog *p, size_t at, bool jt, size_t to)
{
	if (p->nomem)
		return;
	size_t off = to - at - 1;
	if (BPF_OP(p->insns[at].code) == BPF_JA)
		p->insns[at].k = (uint32_t)off;
	else if (jt)
		p->insns[at].jt = (uint8_t)off; /* < 255: clauses are bounded */
	else
		p->insns[at].jf = (uint8_t)off;
}

static uint32_t arg_word(unsigned arg, bool high)
{
	uint32_t off =
	    (uint32_t)(offsetof(struct seccomp_data, args) + 8 * arg);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return high ? off + 4 : off;
#else
	return high ? off : off + 4;
#endif
}

/* Code for one comparison: falls through when it holds; jumps it cannot
 * resolve yet (to the clause's failure) are appended to fails as
 * index * 2 + (1 for jt, 0 for jf). 64-bit values are compared as their
 * high word, then their low word. */
static void emit_cmp(struct prog *p, const struct fbx_policy_cmp *c,
		     size_t *fails, size_t *n_fails)
{
	uint32_t hi = (uint32_t)(c->value >> 32), lo = (uint32_t)c->value;
	uint32_t a_hi = arg_word(c->arg, true), a_lo = arg_word(c->arg, false);
#define FAIL_JT(i) (fails[(*n_fails)++] = (i)*2 + 1)
#define FAIL_JF(i) (fails[(*n_fails)++] = (i)*2)
	LD(p, a_hi);
	switch (c->op) {
	case FBX_CMP_EQ:
		FAIL_JF(JMP(p, BPF_JEQ, hi, 0, 0));
		LD(p, a_lo);
		FAIL_JF(JMP(p, BPF_JEQ, lo, 0, 0));
		break;
	case FBX_CMP_NE:
		JMP(p, BPF_JEQ, hi, 0, 2);
		LD(p, a_lo);
		FAIL_JT(JMP(p, BPF_JEQ, lo, 0, 0));
		break;
	case FBX_CMP_GT:
	case FBX_CMP_GE:
		JMP(p, BPF_JGT, hi, 3, 0);
		FAIL_JF(JMP(p, BPF_JEQ, hi, 0, 0));
		LD(p, a_lo);
		FAIL_JF(
		    JMP(p, c->op == FBX_CMP_GT ? BPF_JGT : BPF_JGE, lo, 0, 0));
		break;
	case FBX_CMP_LT:
	case FBX_CMP_LE:
		FAIL_JT(JMP(p, BPF_JGT, hi, 0, 0));
		JMP(p, BPF_JEQ, hi, 0, 2);
		LD(p, a_lo);
		FAIL_JT(
		    JMP(p, c->op == FBX_CMP_LT ? BPF_JGE : BPF_JGT, lo, 0, 0));
		break;
	case FBX_CMP_MASKED_SET:
		JMP(p, BPF_JSET, hi, 2, 0);
		LD(p, a_lo);
		FAIL_JF(JMP(p, BPF_JSET, lo, 0, 0));
		break;
	case FBX_CMP_IN:
		FAIL_JT(JMP(p, BPF_JSET, ~hi, 0, 0));
		LD(p, a_lo);
		FAIL_JT(JMP(p, BPF_JSET, ~lo, 0, 0));
		break;
	}
#undef FAIL_JT
#undef FAIL_JF
}

/* One syscall: ALLOW when a clause holds, else ERRNO(else_errno), else on to
 * libseccomp's program (the policy default). to_end collects the jumps to
 * the end of the prefix. */
static void emit_rule(struct prog *p, const struct fbx_policy_rule *r,
		      size_t *to_end, size_t *n_to_end)
{
	LD(p, offsetof(struct seccomp_data, nr));
	JMP(p, BPF_JEQ, (uint32_t)r->nr, 1, 0);
	size_t skip = JA(p);
	for (size_t i = 0; i < r->n_clauses; i++) {
		const struct fbx_policy_clause *cl = &r->clauses[i];
		/* Two jumps at most per comparison; build_prefix refused
		 * longer clauses. */
		size_t fails[FBX_POLICY_MAX_CLAUSE_CMPS * 2];
		size_t n_fails = 0;
		for (size_t k = 0; k < cl->n_cmps; k++)
			emit_cmp(p, &cl->cmps[k], fails, &n_fails);
		RET(p, SECCOMP_RET_ALLOW);
		for (size_t k = 0; k < n_fails; k++)
			patch(p, fails[k] / 2, fails[k] % 2, p->n);
	}
	if (r->else_errno >= 0)
		RET(p, SECCOMP_RET_ERRNO |
			   ((uint32_t)r->else_errno & SECCOMP_RET_DATA));
	else
		to_end[(*n_to_end)++] = JA(p);
	patch(p, skip, false, p->n);
}

/* kill(0, SIGSTOP) -> ALLOW; anything else falls through (two instructions
 * for every other syscall). Only the low words are compared: the kernel
 * reads both arguments as int. */
static void emit_group_stop(struct prog *p)
{
	LD(p, offsetof(struct seccomp_data, nr));
	size_t not_it[3];
	not_it[0] = JMP(p, BPF_JEQ, (uint32_t)SCMP_SYS(kill), 0, 0);
	LD(p, arg_word(0, false));
	not_it[1] = JMP(p, BPF_JEQ, 0, 0, 0);
	LD(p, arg_word(1, false));
	not_it[2] = JMP(p, BPF_JEQ, (uint32_t)SIGSTOP, 0, 0);
	RET(p, SECCOMP_RET_ALLOW);
	for (size_t i = 0; i < 3; i++)
		patch(p, not_it[i], false, p->n);
}

/* A signal aimed at a guarded pid (policy.h) -> ERRNO(EPERM); anything
 * else falls through (two instructions and a jump per sender for other
 * syscalls). kill's pid may be a group (-pid) or everything (-1): those
 * are refused too. Only the low word is compared: the kernel reads the
 * pid as an int, so (1 << 32) | pid is pid. */
static void emit_signal_guards(struct prog *p, const struct fbx_policy *pol)
{
	static const int senders[] = {
	    SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(tgkill),
	    SCMP_SYS(rt_sigqueueinfo), SCMP_SYS(rt_tgsigqueueinfo)};
	enum { N_SENDERS = sizeof(senders) / sizeof(senders[0]) };
	size_t is_sender[N_SENDERS];
	LD(p, offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < N_SENDERS; i++)
		is_sender[i] = JMP(p, BPF_JEQ, (uint32_t)senders[i], 0, 0);
	size_t not_sender = JA(p);
	for (size_t i = 0; i < N_SENDERS; i++)
		patch(p, is_sender[i], true, p->n);
	LD(p, arg_word(0, false));
	size_t deny[2 * FBX_POLICY_MAX_GUARDED + 1];
	size_t n_deny = 0;
	deny[n_deny++] = JMP(p, BPF_JEQ, (uint32_t)-1, 0, 0);
	for (size_t g = 0; g < pol->n_guarded; g++) {
		uint32_t pid = (uint32_t)pol->guarded_pids[g];
		deny[n_deny++] = JMP(p, BPF_JEQ, pid, 0, 0);
		deny[n_deny++] = JMP(p, BPF_JEQ, (uint32_t)0 - pid, 0, 0);
	}
	size_t allowed = JA(p);
	for (size_t i = 0; i < n_deny; i++)
		patch(p, deny[i], true, p->n);
	RET(p, SECCOMP_RET_ERRNO | (uint32_t)EPERM);
	patch(p, not_sender, false, p->n);
	patch(p, allowed, false, p->n);
}

static int build_prefix(const struct fbx_policy *p, unsigned flags,
			struct prog *out)
{
	size_t n_prefix = 0;
	for (size_t i = 0; i < p->n_rules; i++) {
		n_prefix += fbx_policy_rule_by_hand(&p->rules[i]);
		for (size_t c = 0; c < p->rules[i].n_clauses; c++)
			if (p->rules[i].clauses[c].n_cmps >
			    FBX_POLICY_MAX_CLAUSE_CMPS)
				return -E2BIG;
	}
	bool group_stop = flags & FBX_POLICY_ALLOW_GROUP_STOP;
	if (!n_prefix && p->unknown_errno < 0 && !group_stop && !p->n_guarded)
		return 0;
	size_t *to_end = calloc(n_prefix + 1, sizeof(*to_end));
	if (!to_end)
		return -ENOMEM;
	size_t n_to_end = 0;
	/* Other ABIs go straight to libseccomp's program, which kills them
	 * (x32 numbers are above every nr compared here, so they need no
	 * test of their own). */
	LD(out, offsetof(struct seccomp_data, arch));
	JMP(out, BPF_JEQ, seccomp_arch_native(), 1, 0);
	to_end[n_to_end++] = JA(out);
	if (group_stop)
		emit_group_stop(out);
	if (p->n_guarded)
		emit_signal_guards(out, p);
	for (size_t i = 0; i < p->n_rules; i++) {
		if (fbx_policy_rule_by_hand(&p->rules[i]))
			emit_rule(out, &p->rules[i], to_end, &n_to_end);
	}
	if (p->unknown_errno >= 0) {
		uint32_t max = (uint32_t)fbx_policy_max_known_syscall();
		LD(out, offsetof(struct seccomp_data, nr));
		JMP(out, BPF_JGT, max + UNKNOWN_SPAN, 2, 0);
		JMP(out, BPF_JGT, max, 0, 1);
		RET(out, SECCOMP_RET_ERRNO |
			     ((uint32_t)p->unknown_errno & SECCOMP_RET_DATA));
	}
	for (size_t i = 0; i < n_to_end; i++)
		patch(out, to_end[i], false, out->n);
	free(to_end);
	return out->nomem ? -ENOMEM : 0;
}

/* --- putting it together ------------------------------------------------ */

static int export_bpf(scmp_filter_ctx ctx, struct prog *out,
		      struct fbx_error *err)
{
	int fd = memfd_create("forkbox-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return fbx_error_errno(err, errno, "memfd_create");
	int rc = seccomp_export_bpf(ctx, fd);
	off_t size = rc ? 0 : lseek(fd, 0, SEEK_END);
	if (rc)
		rc = fbx_error_set(err, -rc, "seccomp_export_bpf: %s",
				   strerror(-rc));
	else if (size <= 0 || size % (off_t)sizeof(struct sock_filter))
		rc = fbx_error_set(err, EIO,
				   "seccomp_export_bpf wrote %lld "
				   "bytes",
				   (long long)size);
	size_t count = rc ? 0 : (size_t)size / sizeof(struct sock_filter);
	struct sock_filter *insns =
	    rc ? NULL : realloc(out->insns, (out->n + count) * sizeof(*insns));
	if (!rc && !insns)
		rc = fbx_error_set(err, ENOMEM, "out of memory");
	if (!rc) {
		out->insns = insns;
		ssize_t got = pread(fd, insns + out->n, (size_t)size, 0);
		if (got != size)
			rc = fbx_error_errno(err, got < 0 ? errno : EIO,
					     "reading the exported filter");
		out->n += count;
	}
	close(fd);
	return rc;
}

/* The libseccomp context for everything but the prefix. */
static int build_ctx(const struct fbx_policy *policy, unsigned flags,
		     scmp_filter_ctx *out, struct fbx_error *err)
{
	uint32_t def =
	    scmp_action(policy->default_action, policy->default_errno, flags);
	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return fbx_error_set(err, EINVAL,
				     "seccomp_init failed (default action not "
				     "supported by this kernel?)");
	int rc = 0;
	const struct {
		enum scmp_filter_attr attr;
		uint32_t value;
	} attrs[] = {
	    {SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS},
	    {SCMP_FLTATR_CTL_NNP, 0}, /* the caller sets it itself */
	    {SCMP_FLTATR_CTL_TSYNC, 0},
	    {SCMP_FLTATR_CTL_OPTIMIZE, 2}, /* binary tree of syscalls */
	};
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]) && !rc; i++) {
		rc = seccomp_attr_set(ctx, attrs[i].attr, attrs[i].value);
		if (rc)
			rc = fbx_error_set(err, -rc, "seccomp_attr_set(%d): %s",
					   (int)attrs[i].attr, strerror(-rc));
	}
	if (!rc)
		rc = add_rules(ctx, policy, flags, def, err);
	if (rc) {
		seccomp_release(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

int fbx_policy_compile(const struct fbx_policy *policy, unsigned flags,
		       struct fbx_bpf *out, struct fbx_error *err)
{
	*out = (struct fbx_bpf){0};
	scmp_filter_ctx ctx;
	int rc = build_ctx(policy, flags, &ctx, err);
	if (rc)
		return rc;
	struct prog prog = {0};
	int prefix_rc = build_prefix(policy, flags, &prog);
	if (prefix_rc == -E2BIG)
		rc = fbx_error_set(err, E2BIG,
				   "a rule has more than %d comparisons in "
				   "one alternative",
				   FBX_POLICY_MAX_CLAUSE_CMPS);
	else if (prefix_rc)
		rc = fbx_error_set(err, ENOMEM, "out of memory");
	if (!rc)
		rc = export_bpf(ctx, &prog, err);
	seccomp_release(ctx);
	if (!rc && prog.n > BPF_MAXINSNS)
		rc = fbx_error_set(err, E2BIG,
				   "compiled filter has %zu instructions, more "
				   "than the kernel's %d",
				   prog.n, BPF_MAXINSNS);
	if (rc) {
		free(prog.insns);
		return rc;
	}
	out->insns = prog.insns;
	out->len = (unsigned short)prog.n;
	return 0;
}

int fbx_policy_write_pfc(const struct fbx_policy *policy, unsigned flags,
			 int fd, struct fbx_error *err)
{
	scmp_filter_ctx ctx;
	int rc = build_ctx(policy, flags, &ctx, err);
	if (rc)
		return rc;
	rc = seccomp_export_pfc(ctx, fd);
	if (rc)
		rc = fbx_error_set(err, -rc, "seccomp_export_pfc: %s",
				   strerror(-rc));
	seccomp_release(ctx);
	return rc;
}

void fbx_bpf_free(struct fbx_bpf *bpf)
{
	if (!bpf)
		return;
	free(bpf->insns);
	bpf->insns = NULL;
	bpf->len = 0;
}
