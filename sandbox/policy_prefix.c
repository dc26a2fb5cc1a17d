/* The hand-written part of a compiled policy: a short BPF block placed in
 * front of libseccomp's program (policy_compile.c), for
 *  - "EXPR; return ERRNO": libseccomp has no per-syscall fallback action
 *    (an unconditional rule replaces the conditional ones), and negating
 *    EXPR would need several comparisons of one argument in one rule;
 *  - clauses comparing the same argument twice (libseccomp allows one
 *    comparison per argument per rule);
 *  - clauses whose '&' values would expand to too many rules
 *    (policy_compile.c);
 *  - @unknown errno N: syscall numbers above the highest one this
 *    libseccomp knows for the native architecture (up to 1024 above it:
 *    new syscalls are numbered sequentially; anything further is not a
 *    syscall on any kernel and gets the default action) return ERRNO(N);
 *  - kill(0, SIGSTOP) allowed, first of all, when a flag asks for it
 *    (FBX_POLICY_ALLOW_GROUP_STOP, policy.h);
 *  - the zygote's signal guards, ahead of every rule (policy.h,
 *    guarded_pids).
 * The prefix checks the architecture first and otherwise falls through to
 * libseccomp's program, which starts by reloading everything it needs. */
#include "policy_prefix.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>

static size_t emit(struct fbx_prog *p, uint16_t code, uint8_t jt, uint8_t jf,
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
static void patch(struct fbx_prog *p, size_t at, bool jt, size_t to)
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
static void emit_cmp(struct fbx_prog *p, const struct fbx_policy_cmp *c,
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
static void emit_rule(struct fbx_prog *p, const struct fbx_policy_rule *r,
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
static void emit_group_stop(struct fbx_prog *p)
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
static void emit_signal_guards(struct fbx_prog *p, const struct fbx_policy *pol)
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

int fbx_policy_build_prefix(const struct fbx_policy *p, unsigned flags,
			    struct fbx_prog *out)
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
		JMP(out, BPF_JGT, max + FBX_POLICY_UNKNOWN_SPAN, 2, 0);
		JMP(out, BPF_JGT, max, 0, 1);
		RET(out, SECCOMP_RET_ERRNO |
			     ((uint32_t)p->unknown_errno & SECCOMP_RET_DATA));
	}
	for (size_t i = 0; i < n_to_end; i++)
		patch(out, to_end[i], false, out->n);
	free(to_end);
	return out->nomem ? -ENOMEM : 0;
}
