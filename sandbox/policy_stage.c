/* "@after-load": the policy reader's second stage (see policy.h). Kept
 * apart from the grammar in policy_parse.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* "@after-load": every rule after it, in reading order, forms a second
 * filter added once the module is loaded, before its entry runs. */
int fbx_policy_parse_after_load(struct cursor *c, size_t at)
{
	struct reader *r = c->r;
	if (r->main)
		return fbx_policy_fail(
		    c, at, "@after-load given twice (first at %s:%u)",
		    r->after_load_at.file, r->after_load_at.line);
	int rc = fbx_policy_expect_end(c, "@after-load");
	if (rc)
		return rc;
	struct fbx_policy *stage = calloc(1, sizeof(*stage));
	if (!stage)
		return fbx_error_set(r->err, ENOMEM, "out of memory");
	stage->default_action = r->p->default_action;
	stage->default_errno = r->p->default_errno;
	stage->unknown_errno = -1;
	snprintf(r->after_load_at.file, sizeof(r->after_load_at.file), "%s",
		 c->file);
	r->after_load_at.line = c->line;
	r->main = r->p;
	r->main->after_load = stage;
	r->p = stage;
	/* The stage is a policy of its own: names may repeat the loader's,
	 * and it may have its own @default and @unknown. */
	free(r->skipped_at);
	r->skipped_at = NULL;
	memset(&r->default_at, 0, sizeof(r->default_at));
	memset(&r->unknown_at, 0, sizeof(r->unknown_at));
	return 0;
}
