/* forkbox policy: check seccomp policy files and show what they compile
 * to, without starting a sandbox.
 * Exit code: 0 when every policy is fine, 1 when one is not (its error on
 * stderr, "file:line:column: what"), 2 for usage errors. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "forkbox.h"

static void policy_help(FILE *out)
{
	fprintf(
	    out,
	    "Usage: forkbox policy check FILE...\n"
	    "       forkbox policy dump [--bpf] FILE\n"
	    "       forkbox policy learn [--out FILE] -- RUN-OPTIONS\n\n"
	    "  check   read each policy and what it includes, compile it "
	    "as the zygote\n"
	    "          would, print 'FILE: ok' and a summary (default "
	    "action, @unknown,\n"
	    "          each rule, names skipped on this architecture, "
	    "instruction count)\n"
	    "  dump    print the compiled filter: libseccomp's PFC text "
	    "(default; the\n"
	    "          rules compiled by hand are listed first as "
	    "comments) or, with\n"
	    "          --bpf, every BPF instruction\n"
	    "  learn   run a module once (RUN-OPTIONS as for 'forkbox run': "
	    "--module,\n"
	    "          --event, ...) under a filter that records every "
	    "syscall it makes,\n"
	    "          then print a policy allowing exactly those\n\n"
	    "  -h, --help   this text\n");
}

/* The error of one file, prefixed with the file unless the message names
 * it already ("FILE:3:9: ...", "cannot read policy 'FILE'"); an error in a
 * file it includes keeps both names. */
static void print_error(const char *path, const struct fbx_error *err)
{
	if (strstr(err->msg, path))
		fprintf(stderr, "%s\n", err->msg);
	else
		fprintf(stderr, "%s: %s\n", path, err->msg);
}

/* Lines of text, each indented by two spaces. */
static void print_indented(const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		printf("  %.*s\n", (int)n, text);
		text += n + (nl != NULL);
	}
}

/* getopt_long over a subcommand's arguments (argv[0] is the subcommand);
 * sets *bpf for --bpf. Returns optind, 0 after --help, -1 on a bad
 * option. */
static int parse_options(int argc, char **argv, const char *cmd, int *bpf)
{
	static const struct option opts[] = {
	    {"bpf", no_argument, NULL, 'b'},
	    {"pfc", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			policy_help(stdout);
			return 0;
		}
		if ((c == 'b' || c == 'p') && bpf) {
			*bpf = c == 'b';
			continue;
		}
		if (c == 'b' || c == 'p')
			fprintf(stderr, "forkbox policy %s: --%s is for dump\n",
				cmd, c == 'b' ? "bpf" : "pfc");
		fprintf(stderr, "Try 'forkbox policy --help'.\n");
		return -1;
	}
	return optind;
}

static int check(int argc, char **argv)
{
	int first = parse_options(argc, argv, "check", NULL);
	if (first <= 0)
		return first < 0 ? 2 : 0;
	if (first == argc) {
		fprintf(stderr, "forkbox policy check: no policy file given\n"
				"Try 'forkbox policy --help'.\n");
		return 2;
	}
	int code = 0;
	for (int i = first; i < argc; i++) {
		struct fbx_error err = {0};
		char *summary = NULL;
		if (fbx_policy_check(argv[i], &summary, &err) < 0) {
			print_error(argv[i], &err);
			code = 1;
			continue;
		}
		printf("%s: ok\n", argv[i]);
		print_indented(summary);
		free(summary);
	}
	return code;
}

static int dump(int argc, char **argv)
{
	int bpf = 0;
	int first = parse_options(argc, argv, "dump", &bpf);
	if (first <= 0)
		return first < 0 ? 2 : 0;
	if (argc - first != 1) {
		fprintf(stderr, "forkbox policy dump: give exactly one policy "
				"file\nTry 'forkbox policy --help'.\n");
		return 2;
	}
	struct fbx_error err = {0};
	char *text = NULL;
	if (fbx_policy_dump(argv[first], !bpf, &text, &err) < 0) {
		print_error(argv[first], &err);
		return 1;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}

int fbxc_policy(int argc, char **argv)
{
	if (argc < 2) {
		policy_help(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		policy_help(stdout);
		return 0;
	}
	if (strcmp(cmd, "check") == 0)
		return check(argc - 1, argv + 1);
	if (strcmp(cmd, "dump") == 0)
		return dump(argc - 1, argv + 1);
	if (strcmp(cmd, "learn") == 0)
		return fbxc_policy_learn(argc - 1, argv + 1);
	fprintf(stderr,
		"forkbox policy: unknown command '%s'\n"
		"Try 'forkbox policy --help'.\n",
		cmd);
	return 2;
}
