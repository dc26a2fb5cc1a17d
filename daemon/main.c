/* forkboxd: the long-lived front ends of forkbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "diag.h"
#include "fbxd_version.h" /* generated: FORKBOXD_VERSION */
#include "frontends.h"
#include "options.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: forkboxd COMMAND [OPTIONS]\n"
	    "       forkboxd --version\n\n"
	    "Runs untrusted modules, one fresh sandboxed child per "
	    "invocation.\n\n"
	    "Commands:\n"
	    "  stdio    JSON Lines requests on stdin, responses on stdout\n"
	    "  lambda   AWS Lambda custom runtime (bootstrap): the Runtime API "
	    "loop;\n"
	    "           also what runs when started as 'bootstrap', or with no "
	    "command\n"
	    "           and AWS_LAMBDA_RUNTIME_API set\n\n"
	    "Run 'forkboxd COMMAND --help' for the options of a command.\n");
}

/* Says loudly which isolation layers this machine does not give, and
 * which ones were turned off; -1 when one of required is missing (said as
 * an error). */
int fbxd_report_layers(fbx_sandbox *sb, unsigned disabled, unsigned required)
{
	unsigned have = fbx_layers(sb);
	char on[256] = "";
	for (unsigned bit = 1; fbx_layer_name(bit); bit <<= 1) {
		const char *name = fbx_layer_name(bit);
		if (have & bit) {
			strcat(on, on[0] ? "," : "");
			strcat(on, name);
		} else if (bit == FBX_LAYER_PIDNS && (disabled & bit)) {
			fbxd_diag("info", "layer 'pidns' is off (opt in with "
					  "--enable-layer pidns)");
		} else if (disabled & bit) {
			fbxd_diag("warn",
				  "running WITHOUT isolation layer '%s': "
				  "disabled on the command line",
				  name);
		} else {
			fbxd_diag("warn",
				  "running WITHOUT isolation layer '%s': this "
				  "machine does not give it",
				  name);
		}
	}
	fbxd_diag("info", "sandbox ready; layers: %s", on);
	unsigned missing = required & ~have;
	for (unsigned bit = 1; fbx_layer_name(bit); bit <<= 1)
		if (missing & bit)
			fbxd_diag(
			    "error",
			    "isolation layer '%s' is required (--require) "
			    "but not in place",
			    fbx_layer_name(bit));
	return missing ? -1 : 0;
}

/* A program the exec runtime runs is dumpable again after execve (every
 * other child keeps the zygote's "not dumpable"): under one shared uid,
 * without Landlock's ptrace rule, an invocation running beside it could
 * read its memory and descriptors through /proc. -1 (said as an error)
 * for that combination. */
int fbxd_check_concurrency(fbx_sandbox *sb, const char *runtime, unsigned jobs)
{
	unsigned have = fbx_layers(sb);
	if (!runtime || strcmp(runtime, "exec") != 0 || jobs <= 1 ||
	    (have & (FBX_LAYER_UID_DROP | FBX_LAYER_LANDLOCK)))
		return 0;
	fbxd_diag(
	    "error",
	    "the exec runtime with %u invocations at once needs a uid per "
	    "invocation (run as root) or Landlock: without them one "
	    "exec'd program could read another's memory through /proc; "
	    "use -j 1",
	    jobs);
	return -1;
}

/* Modules may run under our uid (always in Lambda): without this they
 * could read our environment (AWS credentials) and memory through
 * /proc/<pid>/environ and /proc/<pid>/mem. */
static int not_dumpable(void)
{
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		perror("forkboxd: prctl(PR_SET_DUMPABLE)");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("forkboxd %s\n", FORKBOXD_VERSION);
		return 0;
	}
	/* Lambda runs a custom runtime as $LAMBDA_TASK_ROOT/bootstrap with
	 * no arguments: a symlink (or copy) of forkboxd by that name is the
	 * runtime, whatever follows. */
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	if (strcmp(base, "bootstrap") == 0 || (argc < 2 && api && *api))
		return not_dumpable() < 0 ? 1 : fbxd_run_lambda(argc, argv);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *command = argv[1];
	if (strcmp(command, "lambda") == 0)
		return not_dumpable() < 0 ? 1
					  : fbxd_run_lambda(argc - 1, argv + 1);
	if (strcmp(command, "stdio") != 0) {
		fprintf(stderr, "forkboxd: unknown command '%s'\n", command);
		usage(stderr);
		return 2;
	}
	if (not_dumpable() < 0)
		return 1;
	struct fbxd_options o;
	int rc = fbxd_options_parse(&o, argc - 1, argv + 1, command);
	if (rc != 0) {
		fbxd_options_free(&o);
		return rc > 0 ? 0 : 2;
	}
	struct fbx_error err = {0};
	fbx_sandbox *sb = NULL;
	if (fbx_open(&o.cfg, &sb, &err) < 0) {
		fbxd_diag("fatal", "cannot start the sandbox: %s", err.msg);
		fbxd_options_free(&o);
		return 1;
	}
	if (fbxd_report_layers(sb, o.cfg.disable_layers, o.required_layers) <
		0 ||
	    fbxd_check_concurrency(sb, o.cfg.runtime, o.jobs) < 0) {
		fbx_close(sb);
		fbxd_options_free(&o);
		return 1;
	}
	rc = fbxd_run_stdio(sb, &o);
	fbx_close(sb);
	fbxd_options_free(&o);
	return rc;
}
