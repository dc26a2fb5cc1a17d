#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	OPT_MODULE = 256,
	OPT_RUNTIME,
	OPT_ENTRY,
	OPT_HANDLER,
	OPT_ALLOW_REQ,
	OPT_RECYCLE_DIRS,
	OPT_TMP_BASE,
	OPT_TIMEOUT,
	OPT_MEMORY,
	OPT_POLICY,
	OPT_ENV_ALLOW,
	OPT_FILE_SIZE,
	OPT_MAX_REQUEST,
	OPT_MAX_RESULT,
	OPT_MAX_LOG,
	OPT_FUNCTION_NAME,
	OPT_TASK_ROOT,
	OPT_NOFILE,
	OPT_NPROC,
	OPT_DISABLE,
	OPT_ENABLE,
	OPT_REQUIRE,
	OPT_SPARES,
	OPT_ZYGOTE_MAX_INV,
	OPT_ZYGOTE_MAX_AGE,
	OPT_PRELOAD,
};

static const struct option long_opts[] = {
    {"module", required_argument, NULL, OPT_MODULE},
    {"runtime", required_argument, NULL, OPT_RUNTIME},
    {"entry", required_argument, NULL, OPT_ENTRY},
    {"handler", required_argument, NULL, OPT_HANDLER},
    {"task-root", required_argument, NULL, OPT_TASK_ROOT},
    {"allow-request-modules", no_argument, NULL, OPT_ALLOW_REQ},
    {"recycle-dirs", no_argument, NULL, OPT_RECYCLE_DIRS},
    {"tmp-base", required_argument, NULL, OPT_TMP_BASE},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"memory-mb", required_argument, NULL, OPT_MEMORY},
    {"file-size-mb", required_argument, NULL, OPT_FILE_SIZE},
    {"max-open-files", required_argument, NULL, OPT_NOFILE},
    {"max-processes", required_argument, NULL, OPT_NPROC},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"env-allow", required_argument, NULL, OPT_ENV_ALLOW},
    {"max-request-bytes", required_argument, NULL, OPT_MAX_REQUEST},
    {"max-result-bytes", required_argument, NULL, OPT_MAX_RESULT},
    {"max-log-bytes", required_argument, NULL, OPT_MAX_LOG},
    {"function-name", required_argument, NULL, OPT_FUNCTION_NAME},
    {"disable-layer", required_argument, NULL, OPT_DISABLE},
    {"enable-layer", required_argument, NULL, OPT_ENABLE},
    {"require", required_argument, NULL, OPT_REQUIRE},
    {"spares", required_argument, NULL, OPT_SPARES},
    {"zygote-max-invocations", required_argument, NULL, OPT_ZYGOTE_MAX_INV},
    {"zygote-max-age", required_argument, NULL, OPT_ZYGOTE_MAX_AGE},
    {"preload", required_argument, NULL, OPT_PRELOAD},
    {"jobs", required_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void fbxd_options_help(const char *command)
{
	printf("Usage: forkboxd %s [OPTIONS]\n\n", command);
	if (strcmp(command, "stdio") == 0)
		printf("Reads one JSON request a line on stdin and writes one "
		       "JSON response a\n"
		       "line on stdout, in request order. Diagnostics go to "
		       "stderr as JSON lines.\n\n");
	else if (strcmp(command, "lambda") == 0)
		printf("An AWS Lambda custom runtime (bootstrap): polls the "
		       "Runtime API at\n"
		       "$AWS_LAMBDA_RUNTIME_API and runs each invocation in a "
		       "fresh sandboxed child.\n"
		       "Also started when run as 'bootstrap', or as 'forkboxd' "
		       "with no command and\n"
		       "AWS_LAMBDA_RUNTIME_API set. Flags win over the "
		       "environment and forkbox.conf\n"
		       "(see the end); -j N polls N invocations at once.\n\n");
	printf(
	    "Module:\n"
	    "  --module PATH            default module (a .so for --runtime "
	    "native, a .py for\n"
	    "                           python, any executable for exec)\n"
	    "  --entry NAME             entry symbol of the module "
	    "(default: handler)\n"
	    "  --handler FILE.ENTRY     Lambda style: module FILE.so (FILE.py,"
	    " FILE) in the task\n"
	    "                           root, entry ENTRY\n"
	    "  --task-root DIR          where --handler looks (default: "
	    "$LAMBDA_TASK_ROOT or .)\n"
	    "  --runtime NAME           native (default), python or exec\n"
	    "  --preload A,B,...        python: modules the zygote imports "
	    "once, before any fork\n"
	    "  --allow-request-modules  accept a request's \"module\" field "
	    "(refused otherwise)\n"
	    "Sandbox:\n"
	    "  --policy FILE            seccomp policy (default: "
	    "<policies>/<runtime>.policy)\n"
	    "  --tmp-base DIR           parent of the private dirs "
	    "(default: $TMPDIR/forkbox-UID)\n"
	    "  --recycle-dirs           root only: empty a private dir and "
	    "reuse it when it is then as new,\n"
	    "                           once no invocation runs (faster on "
	    "ext4; README, Isolation, says what it gives up)\n"
	    "  --timeout-ms N           wall-clock limit per invocation "
	    "(default 3000)\n"
	    "  --memory-mb N            address-space limit (default 512)\n"
	    "  --file-size-mb N         largest file a module may write "
	    "(default 512)\n"
	    "  --max-open-files N       RLIMIT_NOFILE (default 256)\n"
	    "  --max-processes N        RLIMIT_NPROC (default 256)\n"
	    "  --env-allow A,B,...      host variables passed to modules "
	    "(default: PATH, LANG,\n"
	    "                           LC_ALL, TZ, AWS_REGION and Lambda's "
	    "non-secret ones)\n"
	    "  --disable-layer L,...    do without layers: uid-drop, "
	    "seccomp-notify, landlock,\n"
	    "                           landlock-scope\n"
	    "  --require L,...          refuse to start without these layers "
	    "(names as above,\n"
	    "                           and seccomp, subreaper)\n"
	    "  --enable-layer pidns     a PID namespace per invocation (off "
	    "by default: the\n"
	    "                           module becomes its init, which "
	    "ignores SIGXFSZ etc.)\n"
	    "Limits:\n"
	    "  --max-request-bytes N    largest request (default 6291456)\n"
	    "  --max-result-bytes N     largest result (default 6291456)\n"
	    "  --max-log-bytes N        kept tail of the module's "
	    "stdout+stderr (default 65536)\n"
	    "Front end:\n"
	    "  -j, --jobs N             invocations at once (default 1); "
	    "responses stay in order\n"
	    "  --spares N               children forked and set up before "
	    "requests arrive\n"
	    "                           (default 2; 0 forks each one on "
	    "demand)\n"
	    "  --zygote-max-invocations N\n"
	    "                           replace the zygote by a freshly "
	    "exec'd one after N\n"
	    "                           invocations (new ASLR layout, hash "
	    "secret, random\n"
	    "                           state; default 0: never)\n"
	    "  --zygote-max-age SECONDS the same after SECONDS (default 0: "
	    "never)\n"
	    "  --function-name NAME     context.function_name (default: "
	    "forkbox)\n"
	    "  -h, --help               this text\n");
}

static int parse_uint(const char *opt, const char *s, unsigned long long max,
		      unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr,
			"forkboxd: %s wants a number up to %llu, got '%s'\n",
			opt, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int split_env_allow(struct fbxd_options *o, const char *list)
{
	free(o->env_allow_buf);
	free(o->env_allow);
	o->env_allow_buf = strdup(list);
	size_t n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	o->env_allow = calloc(n + 1, sizeof(char *));
	if (!o->env_allow_buf || !o->env_allow)
		return -1;
	size_t k = 0;
	for (char *save, *tok = strtok_r(o->env_allow_buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		o->env_allow[k++] = tok;
	o->cfg.env_allow = o->env_allow;
	return 0;
}

/* The FBX_LAYER_* bits of a comma-separated list of layer names, into
 * *bits; -1 after saying which name is not a layer (for flag). Only
 * --require may name seccomp and subreaper: they cannot be turned off. */
static int layer_bits(const char *flag, const char *list, bool any,
		      unsigned *bits)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", list);
	*bits = 0;
	for (char *save, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned bit = 1;
		while (fbx_layer_name(bit) &&
		       strcmp(fbx_layer_name(bit), tok) != 0)
			bit <<= 1;
		if (!fbx_layer_name(bit) ||
		    (!any && (bit == FBX_LAYER_SECCOMP ||
			      bit == FBX_LAYER_SUBREAPER))) {
			fprintf(stderr,
				"forkboxd: %s: '%s' is not one of %s"
				"pidns, uid-drop, seccomp-notify, landlock, "
				"landlock-scope\n",
				flag, tok, any ? "seccomp, subreaper, " : "");
			return -1;
		}
		*bits |= bit;
	}
	return 0;
}

/* --handler func.handler: module func.so in the task root, entry handler. */
static int apply_handler(struct fbxd_options *o)
{
	const char *dot = strrchr(o->handler, '.');
	if (!dot || dot == o->handler || !dot[1]) {
		fprintf(stderr,
			"forkboxd: --handler wants FILE.ENTRY, got '%s'\n",
			o->handler);
		return -1;
	}
	const char *root =
	    o->task_root ? o->task_root : getenv("LAMBDA_TASK_ROOT");
	if (!root || !*root)
		root = ".";
	const char *ext = strcmp(o->cfg.runtime, "native") == 0	  ? ".so"
			  : strcmp(o->cfg.runtime, "python") == 0 ? ".py"
								  : "";
	if (asprintf(&o->module_buf, "%s/%.*s%s", root, (int)(dot - o->handler),
		     o->handler, ext) < 0)
		return -1;
	o->cfg.module_path = o->module_buf;
	o->cfg.entry = dot + 1;
	return 0;
}

int fbxd_options_parse(struct fbxd_options *o, int argc, char **argv,
		       const char *command)
{
	memset(o, 0, sizeof(*o));
	fbx_config_init(&o->cfg);
	o->jobs = 1;
	o->cfg.log_fd = STDERR_FILENO;
	int c;
	unsigned long long v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_MODULE:
			o->cfg.module_path = optarg;
			break;
		case OPT_RUNTIME:
			o->cfg.runtime = optarg;
			o->runtime_given = true;
			break;
		case OPT_ENTRY:
			o->cfg.entry = optarg;
			break;
		case OPT_HANDLER:
			o->handler = optarg;
			break;
		case OPT_TASK_ROOT:
			o->task_root = optarg;
			break;
		case OPT_RECYCLE_DIRS:
			o->cfg.recycle_dirs = true;
			break;
		case OPT_ALLOW_REQ:
			o->cfg.allow_request_modules = true;
			break;
		case OPT_TMP_BASE:
			o->cfg.tmp_base = optarg;
			break;
		case OPT_POLICY:
			o->cfg.policy_path = optarg;
			break;
		case OPT_FUNCTION_NAME:
			o->cfg.function_name = optarg;
			break;
		case OPT_ENV_ALLOW:
			if (split_env_allow(o, optarg) < 0)
				return -1;
			break;
		case OPT_TIMEOUT:
			if (parse_uint("--timeout-ms", optarg, 900000, &v) <
				0 ||
			    v == 0)
				return -1;
			o->cfg.timeout_ms = (unsigned)v;
			break;
		case OPT_MEMORY:
			if (parse_uint("--memory-mb", optarg, 1u << 20, &v) < 0)
				return -1;
			o->cfg.memory_mb = (unsigned)v;
			break;
		case OPT_FILE_SIZE:
			if (parse_uint("--file-size-mb", optarg, 1u << 20, &v) <
			    0)
				return -1;
			o->cfg.file_size_mb = (unsigned)v;
			break;
		case OPT_NOFILE:
			if (parse_uint("--max-open-files", optarg, 1u << 20,
				       &v) < 0)
				return -1;
			o->cfg.max_open_files = (unsigned)v;
			break;
		case OPT_NPROC:
			if (parse_uint("--max-processes", optarg, 1u << 22,
				       &v) < 0)
				return -1;
			o->cfg.max_processes = (unsigned)v;
			break;
		case OPT_MAX_REQUEST:
			if (parse_uint("--max-request-bytes", optarg,
				       1ull << 30, &v) < 0)
				return -1;
			o->cfg.max_request_bytes = (size_t)v;
			break;
		case OPT_MAX_RESULT:
			if (parse_uint("--max-result-bytes", optarg, 1ull << 30,
				       &v) < 0)
				return -1;
			o->cfg.max_result_bytes = (size_t)v;
			break;
		case OPT_MAX_LOG:
			if (parse_uint("--max-log-bytes", optarg, 1ull << 30,
				       &v) < 0)
				return -1;
			o->cfg.max_log_bytes = (size_t)v;
			break;
		case OPT_DISABLE:
		case OPT_ENABLE: {
			unsigned bits;
			if (layer_bits(c == OPT_ENABLE ? "--enable-layer"
						       : "--disable-layer",
				       optarg, false, &bits) < 0)
				return -1;
			if (c == OPT_ENABLE)
				o->cfg.disable_layers &= ~bits;
			else
				o->cfg.disable_layers |= bits;
			break;
		}
		case OPT_REQUIRE: {
			unsigned bits;
			if (layer_bits("--require", optarg, true, &bits) < 0)
				return -1;
			o->required_layers |= bits;
			break;
		}
		case OPT_PRELOAD:
			o->cfg.preload = optarg;
			break;
		case OPT_SPARES:
			if (parse_uint("--spares", optarg, 64, &v) < 0)
				return -1;
			o->cfg.spares = (unsigned)v;
			break;
		case OPT_ZYGOTE_MAX_INV:
			if (parse_uint("--zygote-max-invocations", optarg,
				       UINT_MAX, &v) < 0)
				return -1;
			o->cfg.zygote_max_invocations = (unsigned)v;
			break;
		case OPT_ZYGOTE_MAX_AGE:
			if (parse_uint("--zygote-max-age", optarg,
				       100ull * 365 * 86400, &v) < 0)
				return -1;
			o->cfg.zygote_max_age_s = (unsigned)v;
			break;
		case 'j':
			if (parse_uint("-j", optarg, 1024, &v) < 0 || v == 0)
				return -1;
			o->jobs = (unsigned)v;
			break;
		case 'h':
			fbxd_options_help(command);
			return 1;
		default:
			fprintf(stderr, "Try 'forkboxd %s --help'.\n", command);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "forkboxd: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (o->handler && o->cfg.module_path) {
		fprintf(stderr,
			"forkboxd: give --handler or --module, not both\n");
		return -1;
	}
	if (o->handler && apply_handler(o) < 0)
		return -1;
	return 0;
}

void fbxd_options_free(struct fbxd_options *o)
{
	free(o->module_buf);
	free(o->env_allow);
	free(o->env_allow_buf);
}
