/* forkbox run: one invocation through the library, printed as JSON.
 * Exit code: 0 when the module succeeded, 1 when it failed, 2 for usage
 * errors, 3 when the sandbox itself failed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "commands.h"
#include "forkbox.h"

static void run_help(void)
{
	printf("Usage: forkbox run --module PATH [--event FILE | --event-json "
	       "TEXT] [OPTIONS]\n\n"
	       "  --module PATH        the module (.so for the native runtime, "
	       ".py for python,\n"
	       "                       any executable for exec)\n"
	       "  --entry NAME         entry symbol (default: handler)\n"
	       "  --runtime NAME       native (default), python or exec\n"
	       "  --event FILE         event JSON from a file ('-' for stdin; "
	       "default {})\n"
	       "  --event-json TEXT    event JSON given inline\n"
	       "  --policy FILE        seccomp policy (default: "
	       "<policies>/<runtime>.policy)\n"
	       "  --timeout-ms N       wall-clock limit (default 3000)\n"
	       "  --memory-mb N        address-space limit (default 512)\n"
	       "  --tmp-base DIR       parent of the private dir\n"
	       "  -h, --help           this text\n");
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			break;
		if (n == cap) {
			char *grown = realloc(buf, cap * 2);
			if (!grown) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

int fbxc_run_options(int argc, char **argv, const char *cmd,
		     struct fbxc_run_options *o)
{
	static const struct option opts[] = {
	    {"module", required_argument, NULL, 'm'},
	    {"entry", required_argument, NULL, 'e'},
	    {"runtime", required_argument, NULL, 'r'},
	    {"event", required_argument, NULL, 'v'},
	    {"event-json", required_argument, NULL, 'J'},
	    {"policy", required_argument, NULL, 'p'},
	    {"timeout-ms", required_argument, NULL, 't'},
	    {"memory-mb", required_argument, NULL, 'M'},
	    {"tmp-base", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	fbx_config_init(&o->cfg);
	o->cfg.log_fd = STDERR_FILENO;
	const char *event_file = NULL, *event_json = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->cfg.module_path = optarg;
			break;
		case 'e':
			o->cfg.entry = optarg;
			break;
		case 'r':
			o->cfg.runtime = optarg;
			break;
		case 'v':
			event_file = optarg;
			break;
		case 'J':
			event_json = optarg;
			break;
		case 'p':
			o->cfg.policy_path = optarg;
			break;
		case 'T':
			o->cfg.tmp_base = optarg;
			break;
		case 't':
			o->cfg.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'M':
			o->cfg.memory_mb = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			run_help();
			return 1;
		default:
			fprintf(stderr, "Try 'forkbox %s --help'.\n", cmd);
			return 2;
		}
	}
	if (!o->cfg.module_path || optind < argc || o->cfg.timeout_ms == 0) {
		fprintf(stderr,
			"forkbox %s: --module is required (and a "
			"positive --timeout-ms)\n",
			cmd);
		return 2;
	}
	char *event = NULL;
	size_t event_len = 0;
	if (event_file) {
		event = read_file(event_file, &event_len);
		if (!event) {
			fprintf(stderr, "forkbox %s: cannot read %s: %s\n", cmd,
				event_file, strerror(errno));
			return 2;
		}
	} else {
		event = strdup(event_json ? event_json : "{}");
		event_len = event ? strlen(event) : 0;
	}
	/* The request envelope; the library validates the event's JSON. */
	if (!event || asprintf(&o->request, "{\"event\": %.*s}", (int)event_len,
			       event) < 0) {
		o->request = NULL;
		free(event);
		return 3;
	}
	free(event);
	return 0;
}

int fbxc_run_invoke(struct fbxc_run_options *o, const char *cmd,
		    char **response)
{
	*response = NULL;
	/* As in forkboxd: no module running under our uid may read our
	 * environment or memory through /proc. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		fprintf(stderr, "forkbox %s: prctl(PR_SET_DUMPABLE): %s\n", cmd,
			strerror(errno));
		return 3;
	}
	fbx_sandbox *sb = NULL;
	struct fbx_error err = {0};
	if (fbx_open(&o->cfg, &sb, &err) < 0) {
		fprintf(stderr, "forkbox %s: %s\n", cmd, err.msg);
		return 3;
	}
	int rc = fbx_invoke(sb, o->request, strlen(o->request), response, &err);
	fbx_close(sb);
	if (rc < 0) {
		fprintf(stderr, "forkbox %s: %s\n", cmd, err.msg);
		return 3;
	}
	return *response && strstr(*response, "\"status\":\"ok\"") ? 0 : 1;
}

int fbxc_run(int argc, char **argv)
{
	struct fbxc_run_options o;
	int code = fbxc_run_options(argc, argv, "run", &o);
	if (code)
		return code == 1 ? 0 : code;
	char *response = NULL;
	code = fbxc_run_invoke(&o, "run", &response);
	if (response)
		printf("%s\n", response);
	free(response);
	free(o.request);
	return code;
}
