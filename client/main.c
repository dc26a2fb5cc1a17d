/* forkbox: command-line client. Uses only the public API (forkbox.h). */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: forkbox COMMAND [OPTIONS]\n\n"
	    "Commands:\n"
	    "  run      one invocation through libforkbox, no daemon:\n"
	    "           forkbox run --module m.so --event e.json\n"
	    "  policy   check seccomp policy files, show what they compile "
	    "to:\n"
	    "           forkbox policy check policies/native.policy\n"
	    "           forkbox policy dump [--bpf] policies/native.policy\n"
	    "  probe    which isolation layers this machine gives:\n"
	    "           forkbox probe\n\n"
	    "Run 'forkbox COMMAND --help' for its options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return fbxc_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "policy") == 0)
		return fbxc_policy(argc - 1, argv + 1);
	if (strcmp(argv[1], "probe") == 0)
		return fbxc_probe(argc - 1, argv + 1);
	fprintf(stderr, "forkbox: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
