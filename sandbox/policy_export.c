/* Policies and compiled filters as text for people: the summary of
 * `forkbox policy check`, and the PFC text and BPF listing of `forkbox
 * policy dump`. libseccomp itself stays in policy_compile.c: this file only
 * asks it for PFC text (fbx_policy_write_pfc) and formats the rest. */
#include "policy.h"
#include "policy_consts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void close_fdp(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define AUTO_FD __attribute__((cleanup(close_fdp)))

static void freep(void *p)
{
	free(*(void **)p);
}
#define AUTO_FREE __attribute__((cleanup(freep)))

static const char *action_text(enum fbx_action action, int errno_value,
			       char *buf, size_t size)
{
	static const char *const words[] = {
	    [FBX_ACTION_ALLOW] = "allow",
	    [FBX_ACTION_KILL] = "kill",
	    [FBX_ACTION_TRAP] = "trap",
	    [FBX_ACTION_LOG] = "log",
	};
	if (action != FBX_ACTION_ERRNO)
		return words[action];
	const char *name = fbx_errno_name(errno_value);
	if (name)
		snprintf(buf, size, "errno %s", name);
	else
		snprintf(buf, size, "errno %d", errno_value);
	return buf;
}

static void print_condition(FILE *f, const struct fbx_policy_rule *r)
{
	static const char *const ops[] = {
	    [FBX_CMP_EQ] = "==",	[FBX_CMP_NE] = "!=",
	    [FBX_CMP_LT] = "<",		[FBX_CMP_LE] = "<=",
	    [FBX_CMP_GT] = ">",		[FBX_CMP_GE] = ">=",
	    [FBX_CMP_MASKED_SET] = "&", [FBX_CMP_IN] = "in",
	};
	for (size_t i = 0; i < r->n_clauses; i++) {
		const struct fbx_policy_clause *cl = &r->clauses[i];
		fputs(i ? " || " : "allow if ", f);
		for (size_t k = 0; k < cl->n_cmps; k++) {
			const struct fbx_policy_cmp *c = &cl->cmps[k];
			fprintf(f,
				c->value < 4096 ? "%sarg%u %s %llu"
						: "%sarg%u %s 0x%llx",
				k ? " && " : "", c->arg, ops[c->op],
				(unsigned long long)c->value);
		}
	}
}

/* "name (nr): what  [file:line]\n" */
static void print_rule(FILE *f, const struct fbx_policy_rule *r)
{
	char buf[32];
	fprintf(f, "%s (%d): ", r->name, r->nr);
	if (r->n_clauses)
		print_condition(f, r);
	else
		fputs(action_text(r->action, r->errno_value, buf, sizeof(buf)),
		      f);
	if (r->else_errno >= 0)
		fprintf(f, "; else %s",
			action_text(FBX_ACTION_ERRNO, r->else_errno, buf,
				    sizeof(buf)));
	if (r->line)
		fprintf(f, "  [%s:%u]\n", r->file, r->line);
	else
		fprintf(f, "  [%s]\n", r->file);
}

static void print_unknown(FILE *f, const struct fbx_policy *p)
{
	char buf[32];
	int max = fbx_policy_max_known_syscall();
	fprintf(
	    f, "unknown syscalls (%d to %d): %s\n", max + 1,
	    max + FBX_POLICY_UNKNOWN_SPAN,
	    action_text(FBX_ACTION_ERRNO, p->unknown_errno, buf, sizeof(buf)));
}

/* Closes a memstream; *text is the result, or NULL and -ENOMEM. */
static int close_stream(FILE *f, char **text)
{
	if (fclose(f) || !*text) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}

int fbx_policy_summary(const struct fbx_policy *p, char **out)
{
	char *text = NULL, buf[32];
	size_t size = 0;
	*out = NULL;
	FILE *f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	fprintf(
	    f, "default: %s\n",
	    action_text(p->default_action, p->default_errno, buf, sizeof(buf)));
	if (p->unknown_errno >= 0)
		print_unknown(f, p);
	if (p->n_skipped)
		fputs("skipped (not on this architecture):", f);
	for (size_t i = 0; i < p->n_skipped; i++)
		fprintf(f, " %s%s", p->skipped[i],
			i + 1 == p->n_skipped ? "\n" : "");
	for (size_t i = 0; i < p->n_rules; i++)
		print_rule(f, &p->rules[i]);
	int rc = close_stream(f, &text);
	*out = text;
	return rc;
}

/* The whole of a memfd as a string. */
static int read_back(int fd, char **text, struct fbx_error *err)
{
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return fbx_error_errno(err, errno, "lseek on the PFC memfd");
	char *buf = malloc((size_t)size + 1);
	if (!buf)
		return fbx_error_set(err, ENOMEM, "out of memory");
	size_t got = 0;
	while (got < (size_t)size) {
		ssize_t n =
		    pread(fd, buf + got, (size_t)size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return fbx_error_errno(err, n < 0 ? errno : EIO,
					       "reading the PFC text back");
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*text = buf;
	return 0;
}

/* Comment lines naming what runs before libseccomp's program. */
static void print_by_hand(FILE *f, const struct fbx_policy *p)
{
	bool any = p->unknown_errno >= 0;
	for (size_t i = 0; i < p->n_rules && !any; i++)
		any = fbx_policy_rule_by_hand(&p->rules[i]);
	if (!any) {
		fputs("# no rules compiled by hand: this program is the whole "
		      "filter\n",
		      f);
		return;
	}
	fputs("# rules compiled by hand (listed below) run before this "
	      "program;\n"
	      "# a syscall they do not decide, and any other architecture, "
	      "falls through to it:\n",
	      f);
	for (size_t i = 0; i < p->n_rules; i++) {
		if (!fbx_policy_rule_by_hand(&p->rules[i]))
			continue;
		fputs("#   ", f);
		print_rule(f, &p->rules[i]);
	}
	if (p->unknown_errno >= 0) {
		fputs("#   ", f);
		print_unknown(f, p);
	}
}

int fbx_policy_export_pfc(const struct fbx_policy *p, unsigned flags,
			  char **text, struct fbx_error *err)
{
	*text = NULL;
	AUTO_FD int fd = memfd_create("forkbox-pfc", MFD_CLOEXEC);
	if (fd < 0)
		return fbx_error_errno(err, errno, "memfd_create");
	int rc = fbx_policy_write_pfc(p, flags, fd, err);
	AUTO_FREE char *pfc = NULL;
	if (!rc)
		rc = read_back(fd, &pfc, err);
	if (rc)
		return rc;
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	if (!f)
		return fbx_error_set(err, ENOMEM, "out of memory");
	print_by_hand(f, p);
	fputs(pfc, f);
	if (close_stream(f, &out))
		return fbx_error_set(err, ENOMEM, "out of memory");
	*text = out;
	return 0;
}

int fbx_bpf_listing(const struct fbx_bpf *bpf, char **text)
{
	char *out = NULL;
	size_t size = 0;
	*text = NULL;
	FILE *f = open_memstream(&out, &size);
	if (!f)
		return -ENOMEM;
	for (unsigned i = 0; i < bpf->len; i++) {
		const struct sock_filter *in = &bpf->insns[i];
		fprintf(f, "%04u: code=0x%02x jt=%u jf=%u k=0x%08x\n", i,
			in->code, in->jt, in->jf, in->k);
	}
	int rc = close_stream(f, &out);
	*text = out;
	return rc;
}
