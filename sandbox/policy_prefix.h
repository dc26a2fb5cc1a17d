/* The hand-written prefix of a compiled policy (policy_prefix.c). */
#ifndef FORKBOX_POLICY_PREFIX_H
#define FORKBOX_POLICY_PREFIX_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

/* A growing BPF program; nomem once an allocation failed. */
struct fbx_prog {
	struct sock_filter *insns;
	size_t n, cap;
	bool nomem;
};

/* Appends the prefix for policy p and flags (FBX_POLICY_*) to out, or
 * nothing when p needs none. 0, -ENOMEM, or -E2BIG when a clause holds
 * more than FBX_POLICY_MAX_CLAUSE_CMPS comparisons. */
int fbx_policy_build_prefix(const struct fbx_policy *p, unsigned flags,
			    struct fbx_prog *out);

#endif
