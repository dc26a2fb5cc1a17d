/* The public policy API (forkbox.h): check a policy file and show what it
 * compiles to, as the zygote would compile it, without starting one. The
 * reading, compiling and formatting are policy_*.c; this file only puts
 * them in the zygote's order (zygote_init.c: load, amend, compile). */
#include "forkbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "policy.h"
#include "zygote.h"

/* Stand-ins for the pids the zygote's signal guards carve out: the real
 * ones exist only once a zygote runs. They change constants in the filter,
 * not its shape (all are > 1, so every guard is compiled, as for a real
 * host and janitor). */
#define STAND_IN_ZYGOTE_PID  2
#define STAND_IN_HOST_PID    3
#define STAND_IN_JANITOR_PID 4

/* The flags zygote_init.c compiles with where user notification works;
 * the @after-load stage, added after module code ran, kills plainly. */
#define ZYGOTE_FLAGS	 (FBX_POLICY_KILL_VIA_NOTIFY | FBX_POLICY_ALLOW_GROUP_STOP)
#define AFTER_LOAD_FLAGS FBX_POLICY_ALLOW_GROUP_STOP

/* Where a dump goes on to the @after-load stage's filter. */
#define AFTER_LOAD_LINE                                                        \
	"# after load: a second filter, added once the module is loaded\n"

static void policy_freep(struct fbx_policy **p)
{
	fbx_policy_free(*p);
}
#define AUTO_POLICY __attribute__((cleanup(policy_freep)))

static void freep(void *p)
{
	free(*(void **)p);
}
#define AUTO_FREE __attribute__((cleanup(freep)))

/* Adds the zygote's rules; *n_before is the rule count before them, so
 * that p->rules[*n_before..] are the hand-over rules it added. */
static int amend(struct fbx_policy *p, size_t *n_before, struct fbx_error *err)
{
	*n_before = p->n_rules;
	return fbx_zygote_amend_policy(p, STAND_IN_ZYGOTE_PID,
				       STAND_IN_HOST_PID, STAND_IN_JANITOR_PID,
				       err);
}

/* The summary's last lines: what the zygote added, how big the filter is. */
static void print_zygote_part(FILE *f, const struct fbx_policy *p,
			      size_t n_before, const struct fbx_bpf *bpf)
{
	if (p->n_rules > n_before) {
		fputs("added by the zygote for the job hand-over:", f);
		for (size_t i = n_before; i < p->n_rules; i++)
			fprintf(f, " %s", p->rules[i].name);
		fputc('\n', f);
	}
	if (p->n_guarded)
		fputs("guarded by the zygote, whatever the rules say (EPERM "
		      "when aimed at its pid, its janitor's or the host's, "
		      "their groups, or -1): kill tkill tgkill rt_sigqueueinfo "
		      "rt_tgsigqueueinfo\n",
		      f);
	fprintf(f,
		"bpf: %u instructions (with the zygote's hand-over rules and "
		"signal guards)\n",
		bpf->len);
}

/* The @after-load stage's part of the summary, indented under a heading. */
static void print_after_load(FILE *f, const char *described,
			     const struct fbx_bpf *bpf)
{
	fputs("after load (a second filter, added once the module is loaded; "
	      "its kills are plain SIGSYS):\n",
	      f);
	for (const char *line = described; *line;) {
		const char *nl = strchrnul(line, '\n');
		fprintf(f, "  %.*s\n", (int)(nl - line), line);
		line = *nl ? nl + 1 : nl;
	}
	fprintf(f, "  bpf: %u instructions\n", bpf->len);
}

/* Both filters, compiled with the flags zygote_init.c uses for each. */
static int compile_both(const struct fbx_policy *p, struct fbx_bpf *bpf,
			struct fbx_bpf *after, struct fbx_error *err)
{
	*after = (struct fbx_bpf){0};
	int rc = fbx_policy_compile(p, ZYGOTE_FLAGS, bpf, err);
	if (!rc && p->after_load &&
	    (rc = fbx_policy_compile(p->after_load, AFTER_LOAD_FLAGS, after,
				     err)))
		fbx_bpf_free(bpf);
	return rc;
}

int fbx_policy_check(const char *path, char **summary, struct fbx_error *err)
{
	*summary = NULL;
	AUTO_POLICY struct fbx_policy *p = NULL;
	int rc = fbx_policy_load(path, &p, err);
	if (rc)
		return rc;
	/* Summarised as written, before the zygote's additions. */
	AUTO_FREE char *described = NULL, *described_after = NULL;
	if (fbx_policy_summary(p, &described) ||
	    (p->after_load &&
	     fbx_policy_summary(p->after_load, &described_after)))
		return fbx_error_set(err, ENOMEM, "out of memory");
	size_t n_before;
	struct fbx_bpf bpf, after;
	if ((rc = amend(p, &n_before, err)) ||
	    (rc = compile_both(p, &bpf, &after, err)))
		return rc;
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (f) {
		fputs(described, f);
		print_zygote_part(f, p, n_before, &bpf);
		if (described_after)
			print_after_load(f, described_after, &after);
	}
	fbx_bpf_free(&bpf);
	fbx_bpf_free(&after);
	if (!f || fclose(f) || !text) {
		free(text);
		return fbx_error_set(err, ENOMEM, "out of memory");
	}
	*summary = text;
	return 0;
}

static int dump_bpf(const struct fbx_policy *p, char **text,
		    struct fbx_error *err)
{
	struct fbx_bpf bpf, after;
	int rc = compile_both(p, &bpf, &after, err);
	if (rc)
		return rc;
	AUTO_FREE char *main_text = NULL, *after_text = NULL;
	if (fbx_bpf_listing(&bpf, &main_text) ||
	    (after.len && fbx_bpf_listing(&after, &after_text)) ||
	    asprintf(text, "%s%s%s", main_text,
		     after_text ? AFTER_LOAD_LINE : "",
		     after_text ? after_text : "") < 0) {
		*text = NULL;
		rc = fbx_error_set(err, ENOMEM, "out of memory");
	}
	fbx_bpf_free(&bpf);
	fbx_bpf_free(&after);
	return rc;
}

static int dump_pfc(const struct fbx_policy *p, char **text,
		    struct fbx_error *err)
{
	AUTO_FREE char *pfc = NULL, *after = NULL;
	int rc = fbx_policy_export_pfc(p, ZYGOTE_FLAGS, &pfc, err);
	if (!rc && p->after_load)
		rc = fbx_policy_export_pfc(p->after_load, AFTER_LOAD_FLAGS,
					   &after, err);
	if (rc)
		return rc;
	if (asprintf(text,
		     "# as the zygote compiles it: its hand-over rules added; "
		     "in its signal guards\n"
		     "# pids %d, %d and %d stand for the zygote's, the host's "
		     "and the janitor's;\n# a killed syscall is "
		     "reported through seccomp user notification "
		     "(SECCOMP_RET_USER_NOTIF, 0x7fc00000)\n%s%s%s",
		     STAND_IN_ZYGOTE_PID, STAND_IN_HOST_PID,
		     STAND_IN_JANITOR_PID, pfc, after ? AFTER_LOAD_LINE : "",
		     after ? after : "") < 0) {
		*text = NULL;
		return fbx_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

int fbx_policy_dump(const char *path, int pfc, char **text,
		    struct fbx_error *err)
{
	*text = NULL;
	AUTO_POLICY struct fbx_policy *p = NULL;
	int rc = fbx_policy_load(path, &p, err);
	size_t n_before;
	if (!rc)
		rc = amend(p, &n_before, err);
	if (rc)
		return rc;
	return pfc ? dump_pfc(p, text, err) : dump_bpf(p, text, err);
}
