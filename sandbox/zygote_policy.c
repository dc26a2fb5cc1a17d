/* What the zygote adds to a policy before compiling it: the rules the
 * job hand-over needs on the setup socket, and guards that keep a module
 * from signalling the zygote or its host even when they share its uid. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "zygote.h"

/* Adds "name" (allowed when arg0 == arg0_value, or always when arg0_value
 * is negative) unless the policy already says something about name. */
static int add_internal_rule(struct fbx_policy *p, const char *name,
			     long arg0_value, struct fbx_error *err)
{
	int nr;
	if (fbx_policy_resolve_name(name, &nr) != 0)
		return 0; /* not a syscall on this architecture */
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].nr == nr)
			return 0;
	struct fbx_policy_rule *rules =
	    realloc(p->rules, (p->n_rules + 1) * sizeof(*rules));
	if (!rules)
		return fbx_error_set(err, ENOMEM, "out of memory");
	p->rules = rules;
	struct fbx_policy_rule *r = &p->rules[p->n_rules];
	memset(r, 0, sizeof(*r));
	if (arg0_value >= 0) {
		struct fbx_policy_clause *clause = calloc(1, sizeof(*clause));
		struct fbx_policy_cmp *cmp = calloc(1, sizeof(*cmp));
		if (!clause || !cmp) {
			free(clause);
			free(cmp);
			return fbx_error_set(err, ENOMEM, "out of memory");
		}
		*cmp = (struct fbx_policy_cmp){
		    .arg = 0, .op = FBX_CMP_EQ, .value = (uint64_t)arg0_value};
		clause->cmps = cmp;
		clause->n_cmps = 1;
		r->clauses = clause;
		r->n_clauses = 1;
	}
	p->n_rules++;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->file, sizeof(r->file), "(forkbox: job hand-over)");
	r->nr = nr;
	r->action = FBX_ACTION_ALLOW;
	r->else_errno = -1;
	return 0;
}

/* The filter is loaded in the spare before its job arrives: it must let
 * the child report ready, receive the job's descriptors on the setup
 * socket, put them in place and lower its CPU limit. Only what the policy
 * does not mention is added, on the setup socket only where it can be. */
static int add_handover_rules(struct fbx_policy *p, struct fbx_error *err)
{
	int rc = 0;
	/* READY goes out with or without a listener attached. */
	rc = add_internal_rule(p, "sendmsg", FBX_CHILD_FD_SETUP, err);
	if (!rc)
		rc = add_internal_rule(p, "recvmsg", FBX_CHILD_FD_SETUP, err);
	if (!rc)
		rc = add_internal_rule(p, "dup2", -1, err);
	if (!rc)
		rc = add_internal_rule(p, "dup3", -1, err);
	if (!rc)
		rc = add_internal_rule(p, "prlimit64", 0, err);
	/* The runtime adds the after-load stage's filter itself. */
	if (!rc && p->after_load)
		rc = add_internal_rule(p, "seccomp", -1, err);
	return rc;
}

static int append_cmp(struct fbx_policy_clause *c, enum fbx_cmp_op op,
		      uint64_t value)
{
	if (c->n_cmps >= FBX_POLICY_MAX_CLAUSE_CMPS)
		return -E2BIG;
	struct fbx_policy_cmp *cmps =
	    realloc(c->cmps, (c->n_cmps + 1) * sizeof(*cmps));
	if (!cmps)
		return -ENOMEM;
	c->cmps = cmps;
	c->cmps[c->n_cmps++] =
	    (struct fbx_policy_cmp){.arg = 0, .op = op, .value = value};
	return 0;
}

/* Signals name their target in arg0 (kill's pid, tgkill's tgid, tkill's
 * tid; the zygote, its janitor and the host are single processes whose
 * main thread id is their pid). Where the policy allows such a syscall,
 * their pids are carved out of every alternative; an unconditional allow
 * becomes "allowed unless aimed at them, else EPERM". Only the low word is
 * compared: the kernel reads the pid as an int, so (1 << 32) | pid must not
 * pass as another pid. Without a uid of its
 * own (no root, as in Lambda) this is what keeps a module from killing the
 * process that serves every other invocation. */
static int guard_signals(struct fbx_policy *p, const pid_t *guarded,
			 size_t n_guarded, struct fbx_error *err)
{
	static const char *const senders[] = {"kill", "tgkill", "tkill"};
	for (size_t s = 0; s < sizeof(senders) / sizeof(senders[0]); s++) {
		int nr;
		if (fbx_policy_resolve_name(senders[s], &nr) != 0)
			continue;
		for (size_t i = 0; i < p->n_rules; i++) {
			struct fbx_policy_rule *r = &p->rules[i];
			if (r->nr != nr || r->action != FBX_ACTION_ALLOW)
				continue;
			if (r->n_clauses == 0) {
				r->clauses = calloc(1, sizeof(*r->clauses));
				if (!r->clauses)
					return fbx_error_set(err, ENOMEM,
							     "out of memory");
				r->n_clauses = 1;
				if (r->else_errno < 0)
					r->else_errno = EPERM;
			}
			for (size_t c = 0; c < r->n_clauses; c++)
				for (size_t g = 0; g < n_guarded; g++) {
					int rc = append_cmp(
					    &r->clauses[c], FBX_CMP_NE_INT,
					    (uint32_t)guarded[g]);
					if (rc == -E2BIG)
						return fbx_error_set(
						    err, E2BIG,
						    "%s:%u: '%s' has too many "
						    "comparisons to guard the "
						    "zygote's pids (at most "
						    "%d)",
						    r->file, r->line, r->name,
						    FBX_POLICY_MAX_CLAUSE_CMPS -
							(int)n_guarded);
					if (rc < 0)
						return fbx_error_set(
						    err, ENOMEM,
						    "out of memory");
				}
		}
	}
	return 0;
}

int fbx_zygote_amend_policy(struct fbx_policy *p, pid_t zygote, pid_t host,
			    pid_t janitor, struct fbx_error *err)
{
	pid_t guarded[3];
	size_t n = 0;
	guarded[n++] = zygote;
	if (host > 1)
		guarded[n++] = host;
	if (janitor > 0)
		guarded[n++] = janitor;
	int rc = add_handover_rules(p, err);
	if (!rc)
		rc = guard_signals(p, guarded, n, err);
	if (!rc && p->after_load)
		rc = guard_signals(p->after_load, guarded, n, err);
	return rc;
}

/* Every child attaches its own filter, and the kernel prepares a per-filter
 * cache of the syscalls that filter allows whatever their arguments: it
 * emulates the filter once for each syscall number of each architecture
 * (about 900 runs). For a policy of ~200 instructions that is half the cost
 * of the attach, ~75 us per child on this kind of machine. The emulation
 * only looks at syscalls the filters before it left cacheable, so one
 * filter in the zygote that lets everything through but reads an argument
 * (which the emulator cannot predict) makes every child's attach skip it.
 * The price is that no syscall of ours or of a child is served from the
 * cache: each runs its JIT-compiled filters, tens of nanoseconds. Failure
 * costs only speed, so the caller just reports it. */
int fbx_zygote_seccomp_uncached(struct fbx_error *err)
{
	struct sock_filter allow_uncacheable[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		     offsetof(struct seccomp_data, args[0])),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = 2, .filter = allow_uncacheable};
	/* No exec follows in the zygote; its children set it anyway. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fbx_error_set(err, errno,
				     "prctl(PR_SET_NO_NEW_PRIVS): %s",
				     strerror(errno));
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return fbx_error_set(
		    err, errno, "the zygote's pass-through seccomp filter: %s",
		    strerror(errno));
	return 0;
}
