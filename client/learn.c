/* forkbox policy learn: run a module once under a filter that lets every
 * syscall through and records it (seccomp user notification in the
 * zygote), then print a policy that allows exactly those syscalls.
 *
 *   forkbox policy learn --out my.policy -- --module m.so --event e.json
 *
 * The policy is a starting point: one run sees one path through the
 * module. Run it through every path that matters, merge, review. Argument
 * conditions are not learned; tighten by hand where it pays. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "forkbox.h"

static void learn_help(void)
{
	printf("Usage: forkbox policy learn [--out FILE] -- RUN-OPTIONS\n\n"
	       "Runs the module once, as 'forkbox run RUN-OPTIONS' would, but "
	       "under a\n"
	       "filter that records every syscall instead of enforcing a "
	       "policy, and\n"
	       "prints (or writes to FILE) a policy allowing exactly those.\n\n"
	       "  --out FILE   write the policy to FILE instead of stdout\n");
}

static int write_policy(FILE *out, const cJSON *names, const char *module)
{
	time_t now = time(NULL);
	char when[64];
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	fprintf(
	    out,
	    "# Learned by 'forkbox policy learn' from one run of %s, %s.\n"
	    "# Every syscall that run made (forkbox's loading of the module\n"
	    "# included), nothing more: run the module's other paths through\n"
	    "# learn too, and review before use. forkbox adds its own job\n"
	    "# hand-over rules and signal guards when it loads a policy.\n"
	    "@default kill\n"
	    "@unknown errno ENOSYS\n",
	    module, when);
	const cJSON *n;
	cJSON_ArrayForEach(n, names)
	{
		if (cJSON_IsString(n))
			fprintf(out, "%s\n", n->valuestring);
	}
	return ferror(out) ? -1 : 0;
}

int fbxc_policy_learn(int argc, char **argv)
{
	const char *out_path = NULL;
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			learn_help();
			return 0;
		}
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			out_path = argv[++i];
			continue;
		}
		fprintf(stderr,
			"forkbox policy learn: unexpected '%s'\n"
			"Try 'forkbox policy learn --help'.\n",
			argv[i]);
		return 2;
	}
	if (i >= argc) {
		fprintf(stderr, "forkbox policy learn: expected '--' and the "
				"run options\n");
		return 2;
	}
	/* argv[i] is "--": it stands in for the program name. */
	struct fbxc_run_options o;
	int code = fbxc_run_options(argc - i, argv + i, "policy learn", &o);
	if (code)
		return code == 1 ? 0 : code;
	o.cfg.learn = true;
	char *response = NULL;
	code = fbxc_run_invoke(&o, "policy learn", &response);
	free(o.request);
	if (code == 3 || !response) {
		free(response);
		return 3;
	}
	cJSON *r = cJSON_Parse(response);
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(r, "report"), "syscalls");
	if (!cJSON_IsArray(names)) {
		fprintf(stderr,
			"forkbox policy learn: no syscalls recorded: %s\n",
			response);
		cJSON_Delete(r);
		free(response);
		return 3;
	}
	if (code == 1)
		fprintf(stderr,
			"forkbox policy learn: the module failed this run "
			"(the policy covers the path it took): %s\n",
			response);
	FILE *out = out_path ? fopen(out_path, "w") : stdout;
	int rc = out ? write_policy(out, names, o.cfg.module_path) : -1;
	if (out && out != stdout && fclose(out) != 0)
		rc = -1;
	if (rc < 0)
		perror(out_path ? out_path : "stdout");
	cJSON_Delete(r);
	free(response);
	return rc < 0 ? 3 : 0;
}
