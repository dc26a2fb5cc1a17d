/* forkbox probe: which isolation layers this machine gives a sandbox, as
 * forkboxd would start it (SPEC, Isolation layers). It starts a real
 * zygote, with the default native policy unless --policy says otherwise,
 * and asks it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

static const char *const what[] = {
    "seccomp: the policy's syscall filter",
    "seccomp-notify: a denied syscall is named",
    "pidns: a PID namespace per invocation (off unless enabled)",
    "uid-drop: a uid of its own per concurrent slot (root only)",
    "subreaper: orphans come back to be killed",
    "landlock: writes only inside the private dir",
    "landlock-scope: signals and abstract sockets only in its own tree",
};

int fbxc_probe(int argc, char **argv)
{
	struct fbx_config cfg;
	fbx_config_init(&cfg);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("Usage: forkbox probe [--policy FILE]\n"
			       "Starts a sandbox as forkboxd would and prints "
			       "each isolation layer: yes or no.\n"
			       "Exit code 0; 3 when no sandbox starts.\n");
			return 0;
		}
		if (!strcmp(argv[i], "--policy") && i + 1 < argc) {
			cfg.policy_path = argv[++i];
			continue;
		}
		fprintf(stderr, "forkbox probe: unknown option '%s'\n",
			argv[i]);
		return 2;
	}
	fbx_sandbox *sb = NULL;
	struct fbx_error err = {0};
	if (fbx_open(&cfg, &sb, &err) < 0) {
		fprintf(stderr, "forkbox probe: no sandbox starts: %s\n",
			err.msg);
		return 3;
	}
	unsigned have = fbx_layers(sb);
	size_t i = 0;
	for (unsigned bit = 1; fbx_layer_name(bit); bit <<= 1, i++)
		printf("%-3s %s\n", (have & bit) ? "yes" : "no",
		       i < sizeof(what) / sizeof(what[0])
			   ? what[i]
			   : fbx_layer_name(bit));
	fbx_close(sb);
	return 0;
}
