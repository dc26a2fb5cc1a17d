/* forkboxd: the long-lived front ends of forkbox. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "diag.h"
#include "frontends.h"
#include "options.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: forkboxd COMMAND [OPTIONS]\n\n"
	    "Runs untrusted modules, one fresh sandboxed child per "
	    "invocation.\n\n"
	    "Commands:\n"
	    "  stdio    JSON Lines requests on stdin, responses on stdout\n\n"
	    "Run 'forkboxd COMMAND --help' for the options of a command.\n");
}

/* Says loudly which isolation layers this machine does not give, and
 * which ones were turned off. */
static void report_layers(fbx_sandbox *sb, unsigned disabled)
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
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *command = argv[1];
	if (strcmp(command, "stdio") != 0) {
		fprintf(stderr, "forkboxd: unknown command '%s'\n", command);
		usage(stderr);
		return 2;
	}
	/* Modules may run under our uid (always in Lambda): without this they
	 * could read our environment (AWS credentials) and memory through
	 * /proc/<pid>/environ and /proc/<pid>/mem. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		perror("forkboxd: prctl(PR_SET_DUMPABLE)");
		return 1;
	}
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
	report_layers(sb, o.cfg.disable_layers);
	rc = fbxd_run_stdio(sb, &o);
	fbx_close(sb);
	fbxd_options_free(&o);
	return rc;
}
