/* Policy compiler: struct fbx_policy -> classic BPF for seccomp, through
 * libseccomp (every libseccomp rule is made in this file; the hand-written
 * block in front is policy_prefix.c; turning policies and filters into
 * text for people is policy_export.c).
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
 * placed in front of libseccomp's program (policy_prefix.c).
 *
 * `argN & V` (any flag of V set) is compiled by libseccomp as one rule per
 * bit of V, each SCMP_CMP_MASKED_EQ(bit, bit), since libseccomp has no
 * "masked != 0" test; `argN in V` is SCMP_CMP_MASKED_EQ(~V, 0). */
#include "policy.h"
#include "policy_consts.h"
#include "policy_prefix.h"

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

/* --- putting it together ------------------------------------------------ */

static int export_bpf(scmp_filter_ctx ctx, struct fbx_prog *out,
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
	struct fbx_prog prog = {0};
	int prefix_rc = fbx_policy_build_prefix(policy, flags, &prog);
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
