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

/* Signals name their target in arg0 (kill's pid, tgkill's tgid, tkill's
 * tid, the queueinfo calls' tgid; the zygote, its janitor and the host are
 * processes whose main thread id is their pid). The compiled filter refuses
 * those aimed at them (policy.h, guarded_pids) ahead of every rule: a
 * policy that allows, logs or defaults to letting signals through keeps
 * the guard. Without a uid of its own (no root, as in Lambda) this is
 * what keeps a module from killing the process that serves every other
 * invocation. */
static void guard_signals(struct fbx_policy *p, const pid_t *guarded,
			  size_t n_guarded)
{
	p->n_guarded = 0;
	for (size_t g = 0; g < n_guarded && g < FBX_POLICY_MAX_GUARDED; g++)
		p->guarded_pids[p->n_guarded++] = (int32_t)guarded[g];
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
	guard_signals(p, guarded, n);
	if (p->after_load)
		guard_signals(p->after_load, guarded, n);
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
