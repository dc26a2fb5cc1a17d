/* forkboxd lambda's settings, turned into forkboxd's own flags.
 *
 * Every source becomes command-line flags placed before the real ones, in
 * order from weakest to strongest, and one pass of fbxd_options_parse()
 * reads them all: the last flag wins, so precedence is just order, and
 * each setting is checked by the same code as its flag. */
#include "lambda_config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

#define CONF_NAME "forkbox.conf"
/* What wrapping a payload as {"event": ...} adds to its size: an event at
 * Lambda's own limit must still fit the request limit. */
#define ENVELOPE_OVERHEAD 16
/* Lambda's longest function timeout. */
#define LAMBDA_MAX_TIMEOUT_MS 900000u

enum kind { K_STR, K_NUM, K_BOOL, K_PATH };

/* The forkbox.conf keys; each is also the variable FORKBOX_<KEY>. */
static const struct setting {
	const char *key;
	const char *flag;
	enum kind kind;
} settings[] = {
    {"runtime", "--runtime", K_STR},
    {"timeout_ms", "--timeout-ms", K_NUM},
    {"memory_mb", "--memory-mb", K_NUM},
    {"policy", "--policy", K_PATH},
    {"env_allow", "--env-allow", K_STR},
    {"allow_request_modules", "--allow-request-modules", K_BOOL},
    {"tmp_base", "--tmp-base", K_PATH},
    {"spares", "--spares", K_NUM},
    {"recycle_dirs", "--recycle-dirs", K_BOOL},
    {"preload", "--preload", K_STR},
    {"function_name", "--function-name", K_STR},
    {"file_size_mb", "--file-size-mb", K_NUM},
    {"max_open_files", "--max-open-files", K_NUM},
    {"max_processes", "--max-processes", K_NUM},
    {"max_request_bytes", "--max-request-bytes", K_NUM},
    {"max_result_bytes", "--max-result-bytes", K_NUM},
    {"max_log_bytes", "--max-log-bytes", K_NUM},
    {"zygote_max_invocations", "--zygote-max-invocations", K_NUM},
    {"zygote_max_age", "--zygote-max-age", K_NUM},
    {"disable_layer", "--disable-layer", K_STR},
    {"enable_layer", "--enable-layer", K_STR},
    {"require", "--require", K_STR},
};
#define N_SETTINGS (sizeof(settings) / sizeof(*settings))

struct merged {
	char *value[N_SETTINGS];
	char source[N_SETTINGS][128]; /* where it came from, for messages */
};

static int setting_index(const char *key)
{
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (strcmp(settings[i].key, key) == 0)
			return (int)i;
	return -1;
}

static int set_value(struct merged *m, int i, const char *value,
		     const char *source)
{
	char *copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	free(m->value[i]);
	m->value[i] = copy;
	snprintf(m->source[i], sizeof(m->source[i]), "%s", source);
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Lambda's own variables, the weakest source. */
static int from_lambda_env(struct merged *m, char *why, size_t n)
{
	const char *mem = getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
	const char *tmo = getenv("AWS_LAMBDA_FUNCTION_TIMEOUT");
	const char *name = getenv("AWS_LAMBDA_FUNCTION_NAME");
	if (mem && *mem &&
	    set_value(m, setting_index("memory_mb"), mem,
		      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE") < 0)
		return -1;
	if (tmo && *tmo) {
		/* Seconds there, milliseconds here; Lambda allows 900 s. */
		if (!all_digits(tmo) || strlen(tmo) > 6) {
			snprintf(why, n,
				 "AWS_LAMBDA_FUNCTION_TIMEOUT: wants seconds, "
				 "got '%s'",
				 tmo);
			return -1;
		}
		char ms[32];
		snprintf(ms, sizeof(ms), "%lld", atoll(tmo) * 1000);
		if (set_value(m, setting_index("timeout_ms"), ms,
			      "AWS_LAMBDA_FUNCTION_TIMEOUT") < 0)
			return -1;
	}
	if (name && *name &&
	    set_value(m, setting_index("function_name"), name,
		      "AWS_LAMBDA_FUNCTION_NAME") < 0)
		return -1;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int conf_line(struct merged *m, const char *root, const char *path,
		     unsigned lineno, char *line, char *why, size_t n)
{
	char *s = trim(line);
	if (!*s || *s == '#')
		return 0;
	char *eq = strchr(s, '=');
	if (!eq) {
		snprintf(why, n, "%s:%u: expected 'key = value'", path, lineno);
		return -1;
	}
	*eq = '\0';
	char *key = trim(s), *value = trim(eq + 1);
	int i = setting_index(key);
	if (i < 0) {
		snprintf(why, n,
			 "%s:%u: unknown key '%s' (see forkboxd "
			 "lambda --help)",
			 path, lineno, key);
		return -1;
	}
	char source[128], joined[PATH_MAX];
	snprintf(source, sizeof(source), CONF_NAME ":%u", lineno);
	/* Paths in the file are the task root's, wherever we run from. */
	if (settings[i].kind == K_PATH && value[0] && value[0] != '/') {
		if (snprintf(joined, sizeof(joined), "%s/%s", root, value) >=
		    (int)sizeof(joined)) {
			snprintf(why, n, "%s: path too long", source);
			return -1;
		}
		value = joined;
	}
	return set_value(m, i, value, source);
}

/* forkbox.conf in the task root: optional. */
static int from_file(struct merged *m, const char *root, char *why, size_t n)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/" CONF_NAME, root) >=
	    (int)sizeof(path)) {
		snprintf(why, n, "LAMBDA_TASK_ROOT is too long");
		return -1;
	}
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, n, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, f) >= 0)
		rc = conf_line(m, root, path, ++lineno, line, why, n);
	if (rc == 0 && ferror(f)) {
		snprintf(why, n, "cannot read %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

static int from_env(struct merged *m)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		char name[64];
		int k = snprintf(name, sizeof(name), "FORKBOX_");
		for (const char *c = settings[i].key;
		     *c && k + 1 < (int)sizeof(name); c++)
			name[k++] = (char)toupper((unsigned char)*c);
		name[k] = '\0';
		const char *v = getenv(name);
		if (v && *v && set_value(m, (int)i, v, name) < 0)
			return -1;
	}
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*out = strcasecmp(v, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

static int push(struct fbxd_lambda_config *lc, const char *s)
{
	if (lc->argc + 2 > lc->cap) {
		size_t cap = lc->cap ? lc->cap * 2 : 32;
		char **grown = realloc(lc->argv, cap * sizeof(char *));
		if (!grown)
			return -1;
		lc->argv = grown;
		lc->cap = cap;
	}
	if (!(lc->argv[lc->argc] = strdup(s)))
		return -1;
	lc->argv[++lc->argc] = NULL;
	return 0;
}

/* The merged settings as flags; *allow_req gets the inline-module switch. */
static int emit(struct fbxd_lambda_config *lc, const struct merged *m,
		bool *allow_req, char *why, size_t n)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		const char *v = m->value[i];
		if (!v)
			continue;
		bool on = false;
		switch (settings[i].kind) {
		case K_BOOL:
			if (parse_bool(v, &on) < 0) {
				snprintf(why, n,
					 "%s: wants 1 or 0 (true/false), got "
					 "'%s'",
					 m->source[i], v);
				return -1;
			}
			if (strcmp(settings[i].key, "allow_request_modules") ==
			    0)
				*allow_req = on;
			if (on && push(lc, settings[i].flag) < 0)
				return -ENOMEM;
			continue;
		case K_NUM:
			if (!all_digits(v)) {
				snprintf(why, n, "%s: wants a number, got '%s'",
					 m->source[i], v);
				return -1;
			}
			break;
		case K_STR:
		case K_PATH:
			break;
		}
		if (push(lc, settings[i].flag) < 0 || push(lc, v) < 0)
			return -ENOMEM;
	}
	const char *conc = getenv("AWS_LAMBDA_MAX_CONCURRENCY");
	if (conc && *conc) {
		if (!all_digits(conc) || atoi(conc) < 1 || strlen(conc) > 4) {
			snprintf(why, n,
				 "AWS_LAMBDA_MAX_CONCURRENCY: wants a number "
				 "from 1 to 1024, got '%s'",
				 conc);
			return -1;
		}
		if (push(lc, "-j") < 0 || push(lc, conc) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* _HANDLER=file.entry: the first of file.so (native), file.py (python) and
 * an executable file (exec) in the task root, unless the runtime is set. */
static int resolve_handler(struct fbxd_lambda_config *lc, const char *handler,
			   const char *root, const char *runtime,
			   bool allow_req, const char **etype, char *why,
			   size_t n)
{
	static const struct {
		const char *runtime, *ext;
		int mode;
	} kinds[] = {{"native", ".so", R_OK},
		     {"python", ".py", R_OK},
		     {"exec", "", X_OK}};
	const char *dot = strrchr(handler, '.');
	if (!dot || dot == handler || !dot[1]) {
		*etype = "Runtime.MalformedHandlerName";
		snprintf(why, n, "_HANDLER '%s' is not FILE.ENTRY", handler);
		return -1;
	}
	int flen = (int)(dot - handler);
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
		if (runtime && strcmp(runtime, kinds[i].runtime) != 0)
			continue;
		struct stat st;
		snprintf(path, sizeof(path), "%s/%.*s%s", root, flen, handler,
			 kinds[i].ext);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
		    access(path, kinds[i].mode) < 0)
			continue;
		if (push(lc, "--module") < 0 || push(lc, path) < 0 ||
		    push(lc, "--entry") < 0 || push(lc, dot + 1) < 0 ||
		    push(lc, "--runtime") < 0 || push(lc, kinds[i].runtime) < 0)
			return -ENOMEM;
		return 0;
	}
	if (allow_req) {
		fbxd_diag("info",
			  "_HANDLER '%s': no such module in %s; every "
			  "invocation must carry its own",
			  handler, root);
		return 0;
	}
	*etype = "Runtime.ImportModuleError";
	if (runtime)
		snprintf(why, n,
			 "_HANDLER '%s': no module %.*s%s for runtime %s in %s",
			 handler, flen, handler,
			 strcmp(runtime, "native") == 0	  ? ".so"
			 : strcmp(runtime, "python") == 0 ? ".py"
							  : "",
			 runtime, root);
	else
		snprintf(why, n,
			 "_HANDLER '%s': none of %.*s.so, %.*s.py or an "
			 "executable %.*s in %s",
			 handler, flen, handler, flen, handler, flen, handler,
			 root);
	return -1;
}

static void print_env_help(void)
{
	printf(
	    "\nEnvironment (weakest first: Lambda's variables, forkbox.conf, "
	    "FORKBOX_*, flags):\n"
	    "  AWS_LAMBDA_RUNTIME_API   HOST:PORT of the Runtime API "
	    "(required)\n"
	    "  _HANDLER=FILE.ENTRY      module FILE.so, FILE.py or the "
	    "executable FILE in\n"
	    "                           the task root, entry ENTRY; the "
	    "runtime "
	    "is the kind of\n"
	    "                           file found, unless FORKBOX_RUNTIME "
	    "names one\n"
	    "  LAMBDA_TASK_ROOT         where _HANDLER and forkbox.conf are "
	    "(default .)\n"
	    "  AWS_LAMBDA_FUNCTION_MEMORY_SIZE  MiB: each child's "
	    "address-space "
	    "limit\n"
	    "  AWS_LAMBDA_FUNCTION_TIMEOUT      seconds: the timeout when "
	    "/next "
	    "has no usable\n"
	    "                                   deadline\n"
	    "  AWS_LAMBDA_FUNCTION_NAME         context.function_name\n"
	    "  AWS_LAMBDA_MAX_CONCURRENCY       N pollers, N invocations at "
	    "once (-j N)\n"
	    "  FORKBOX_<KEY>            any key below in capitals, e.g. "
	    "FORKBOX_TIMEOUT_MS=3000,\n"
	    "                           FORKBOX_ALLOW_REQUEST_MODULES=1, "
	    "FORKBOX_ENV_ALLOW=PATH,TZ\n"
	    "forkbox.conf in the task root: 'key = value' lines ('#' starts a "
	    "comment line);\n"
	    "relative paths are the task root's. Keys and the flags they "
	    "stand for:\n");
	for (size_t i = 0; i < N_SETTINGS; i++)
		printf("  %-24s %s%s\n", settings[i].key, settings[i].flag,
		       settings[i].kind == K_BOOL ? " (1 or 0)" : "");
}

int fbxd_lambda_config_load(struct fbxd_lambda_config *lc, int argc,
			    char **argv, const char **error_type, char *why,
			    size_t why_size)
{
	memset(lc, 0, sizeof(*lc));
	*error_type = "Runtime.InitError";
	why[0] = '\0';
	/* The command line alone first: for --help, and to learn whether it
	 * names the module or the runtime itself. */
	struct fbxd_options cli;
	int rc = fbxd_options_parse(&cli, argc, argv, "lambda");
	if (rc == 1)
		print_env_help();
	bool cli_module = cli.cfg.module_path != NULL;
	bool cli_allow = cli.cfg.allow_request_modules;
	/* Both point into argv, which outlives this function. */
	const char *cli_runtime = cli.runtime_given ? cli.cfg.runtime : NULL;
	const char *root = cli.task_root;
	fbxd_options_free(&cli);
	if (rc != 0) {
		snprintf(why, why_size, "invalid command line (see the log)");
		return rc > 0 ? 1 : -1;
	}
	if (!root || !*root)
		root = getenv("LAMBDA_TASK_ROOT");
	if (!root || !*root)
		root = ".";

	struct merged m;
	memset(&m, 0, sizeof(m));
	bool allow_req = false;
	rc = -1;
	if (from_lambda_env(&m, why, why_size) < 0 ||
	    from_file(&m, root, why, why_size) < 0 || from_env(&m) < 0 ||
	    push(lc, argv[0]) < 0 || emit(lc, &m, &allow_req, why, why_size))
		goto out;
	allow_req = allow_req || cli_allow;
	const char *handler = getenv("_HANDLER");
	const char *runtime =
	    cli_runtime ? cli_runtime : m.value[setting_index("runtime")];
	if (!cli_module && handler && *handler &&
	    resolve_handler(lc, handler, root, runtime, allow_req, error_type,
			    why, why_size) < 0)
		goto out;
	for (int i = 1; i < argc; i++)
		if (push(lc, argv[i]) < 0)
			goto out;
	lc->opts_parsed = true;
	if (fbxd_options_parse(&lc->opts, (int)lc->argc, lc->argv, "lambda") !=
	    0) {
		snprintf(why, why_size,
			 "invalid forkbox setting (the log above says which "
			 "flag; see forkboxd lambda --help for the variable)");
		goto out;
	}
	if (!lc->opts.cfg.module_path && !lc->opts.cfg.allow_request_modules) {
		*error_type = "Runtime.ImportModuleError";
		snprintf(why, why_size,
			 "no module: set _HANDLER (FILE.ENTRY in "
			 "LAMBDA_TASK_ROOT), or allow modules in requests "
			 "with FORKBOX_ALLOW_REQUEST_MODULES=1");
		goto out;
	}
	/* Each invocation's deadline comes from /next, set by the function's
	 * own timeout in Lambda; the configured timeout stands in only when
	 * that deadline is unusable. The library only ever lowers a deadline
	 * to its timeout, so that is Lambda's longest. */
	lc->fallback_timeout_ms = lc->opts.cfg.timeout_ms;
	lc->opts.cfg.timeout_ms = LAMBDA_MAX_TIMEOUT_MS;
	lc->wrap_event = !lc->opts.cfg.allow_request_modules;
	if (lc->wrap_event)
		lc->opts.cfg.max_request_bytes += ENVELOPE_OVERHEAD;
	rc = 0;
out:
	for (size_t i = 0; i < N_SETTINGS; i++)
		free(m.value[i]);
	if (rc < 0 && !why[0])
		snprintf(why, why_size, "out of memory");
	return rc;
}

void fbxd_lambda_config_free(struct fbxd_lambda_config *lc)
{
	if (lc->opts_parsed)
		fbxd_options_free(&lc->opts);
	for (size_t i = 0; i < lc->argc; i++)
		free(lc->argv[i]);
	free(lc->argv);
	memset(lc, 0, sizeof(*lc));
}
