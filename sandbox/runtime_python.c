/* runtime "python": CPython embedded in its own zygote helper
 * (forkbox-zygote-python), initialised once, preloaded and warmed; each
 * child imports the module from its private dir, calls the entry and
 * exits, taking sys.modules and everything else the module touched with
 * it.
 *
 * The Python half (sandbox/python/forkbox_runtime.py, compiled in) does
 * the importing, calling and error formatting; this half owns the
 * interpreter's life cycle around fork and writes the frames. The module
 * handle below is process-wide state because the interpreter is: one per
 * zygote process, inherited by every child. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forkbox_runtime_py.h" /* generated: fbx_python_runtime_source */
#include "frame.h"
#include "log.h"
#include "runtime.h"
#include "tmpdir.h"

extern char **environ;

static PyObject *runtime_module; /* forkbox_runtime, set by zygote_init */

/* The pending Python exception as "Type: message", cleared. */
static void exception_text(char *out, size_t size)
{
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	snprintf(out, size, "unknown error");
	if (!type)
		return;
	PyObject *s = value ? PyObject_Str(value) : NULL;
	const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
	snprintf(out, size, "%s: %s",
		 PyType_Check(type) ? ((PyTypeObject *)type)->tp_name : "?",
		 msg ? msg : "(unprintable)");
	Py_XDECREF(s);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	PyErr_Clear();
}

/* A preloaded module that started a thread would leave it behind in the
 * zygote, and a fork while it holds a lock (malloc's, the GIL, a module's)
 * deadlocks every child. Count the kernel's threads, not threading's: C
 * libraries (OpenBLAS) start threads Python does not know of. */
static int zygote_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -errno;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A relocatable bundle (the Lambda zip) ships the stdlib beside us, in
 * <our dir>/../lib/pythonX.Y; anywhere else it is the build machine's. */
static void python_home(char *out, size_t size)
{
	char exe[PATH_MAX], landmark[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	snprintf(out, size, "%s", FBX_PYTHON_HOME);
	if (n <= 0)
		return;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(landmark, sizeof(landmark), "%s/../lib/python%d.%d/os.py", exe,
		 PY_MAJOR_VERSION, PY_MINOR_VERSION);
	char real[PATH_MAX];
	if (access(landmark, R_OK) == 0 && realpath(exe, real) &&
	    strlen(real) + 4 <= size)
		snprintf(out, size, "%.*s/..", (int)(size - 4), real);
}

static int interpreter_start(struct fbx_error *err)
{
	PyConfig config;
	/* Isolated: no PYTHON* variables, no user site, no script dir on
	 * sys.path; site-packages stay, for preloading installed packages. */
	PyConfig_InitIsolatedConfig(&config);
	config.install_signal_handlers = 0; /* the zygote owns its signals */
	config.write_bytecode = 0;
	config.parse_argv = 0;
	config.use_hash_seed = 0; /* a fresh random hash secret per zygote */
	/* Never derived from $PATH (see the Makefile): the stdlib must be the
	 * one of the libpython we run. */
	char home[PATH_MAX];
	python_home(home, sizeof(home));
	PyStatus st = PyConfig_SetBytesString(&config, &config.home, home);
	if (!PyStatus_Exception(st))
		st = PyConfig_SetBytesString(&config, &config.executable,
					     FBX_PYTHON_EXECUTABLE);
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(st))
		return fbx_error_set(
		    err, EINVAL, "starting the Python interpreter: %s%s%s",
		    st.func ? st.func : "", st.func ? ": " : "",
		    st.err_msg ? st.err_msg : "failed");
	PyObject *code = Py_CompileString(fbx_python_runtime_source,
					  "forkbox_runtime.py", Py_file_input);
	if (code)
		runtime_module = PyImport_ExecCodeModuleEx(
		    "forkbox_runtime", code, "forkbox_runtime.py");
	Py_XDECREF(code);
	if (!runtime_module) {
		char why[512];
		exception_text(why, sizeof(why));
		return fbx_error_set(
		    err, EINVAL, "loading forkbox's Python runtime: %s", why);
	}
	return 0;
}

/* preload: "mod1,mod2" as a list of str. */
static PyObject *preload_list(const char *preload)
{
	PyObject *list = PyList_New(0);
	const char *p = preload;
	while (list && p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len > 0) {
			PyObject *s = PyUnicode_FromStringAndSize(p, len);
			if (!s || PyList_Append(list, s) < 0) {
				Py_XDECREF(s);
				Py_CLEAR(list);
				break;
			}
			Py_DECREF(s);
		}
		p = comma ? comma + 1 : p + len;
	}
	return list;
}

static int python_zygote_init(const struct fbx_msg_init *cfg, int base_fd,
			      int log_fd, struct fbx_error *err)
{
	/* Numeric libraries start thread pools on import; one thread each
	 * keeps them preloadable (see zygote_threads) and stays the default
	 * in children, which inherit the environment. */
	static const char *const single_thread[] = {
	    "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
	    "NUMEXPR_NUM_THREADS"};
	for (size_t i = 0; i < sizeof(single_thread) / sizeof(*single_thread);
	     i++)
		if (setenv(single_thread[i], "1", 0) < 0)
			return fbx_error_errno(err, errno, "setenv");
	int rc = interpreter_start(err);
	if (rc < 0)
		return rc;

	/* Warm-up writes a module into a dir of the tmp base named like a
	 * retired private dir: should we die here, the next start sweeps
	 * it. */
	char name[FBX_TMPDIR_NAME_LEN + 1], warm[FBX_TMPDIR_TRASH_LEN + 1];
	char warm_path[PATH_MAX + 64];
	fbx_tmpdir_new_name(name);
	snprintf(warm, sizeof(warm), "%s%s", FBX_TMPDIR_TRASH_PREFIX, name);
	if ((rc = fbx_tmpdir_create(base_fd, warm, (uid_t)-1, (gid_t)-1, err)) <
	    0)
		return rc;
	snprintf(warm_path, sizeof(warm_path), "%s/%s", cfg->tmp_base, warm);

	PyObject *list = preload_list(cfg->preload);
	PyObject *res =
	    list ? PyObject_CallMethod(runtime_module, "zygote_init", "Oss",
				       list, warm_path, cfg->module_dir)
		 : NULL;
	Py_XDECREF(list);
	(void)fbx_tmpdir_remove(base_fd, warm, NULL);
	if (!res) {
		char why[512];
		exception_text(why, sizeof(why));
		return fbx_error_set(
		    err, EINVAL, "initialising the Python runtime: %s", why);
	}
	/* (None or why it must not start, what Python printed meanwhile) */
	const char *why = NULL, *printed = NULL;
	PyObject *why_obj = NULL;
	if (!PyArg_ParseTuple(res, "Oz", &why_obj, &printed)) {
		PyErr_Clear();
		Py_DECREF(res);
		return fbx_error_set(err, EPROTO,
				     "the Python runtime's start-up answered "
				     "something unexpected");
	}
	if (printed && *printed)
		fbx_log(log_fd, "warn", "Python printed at start-up: %.900s",
			printed);
	if (why_obj != Py_None)
		why = PyUnicode_AsUTF8(why_obj);
	if (why || PyErr_Occurred()) {
		rc = fbx_error_set(err, EINVAL, "%s",
				   why ? why : "the Python runtime failed");
		PyErr_Clear();
		Py_DECREF(res);
		return rc;
	}
	Py_DECREF(res);

	int threads = zygote_threads();
	if (threads > 1)
		return fbx_error_set(
		    err, EDEADLK,
		    "the Python zygote has %d threads after preloading '%s': "
		    "a preloaded module started threads, and forking a "
		    "multithreaded process can deadlock its children; preload "
		    "only modules that do not start threads at import",
		    threads, cfg->preload);
	if (threads < 0)
		fbx_log(log_fd, "warn",
			"cannot count the zygote's threads (/proc not "
			"mounted?): %s",
			strerror(-threads));
	return 0;
}

static int python_child_init(int job_fd, struct fbx_error *err)
{
	/* Re-initialises the interpreter's locks and thread state for the
	 * one thread left and runs the at-fork hooks (random re-seeds
	 * itself). Before seccomp: this is the zygote's code, not the
	 * module's. */
	PyOS_AfterFork_Child();
	PyObject *r =
	    PyObject_CallMethod(runtime_module, "child_init", "i", job_fd);
	if (!r) {
		char why[512];
		exception_text(why, sizeof(why));
		return fbx_error_set(err, EINVAL,
				     "the Python runtime's set-up of the "
				     "child: %s",
				     why);
	}
	Py_DECREF(r);
	return 0;
}

static PyObject *environ_dict(void)
{
	PyObject *d = PyDict_New();
	for (char **e = environ; d && e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		PyObject *k = PyBytes_FromStringAndSize(*e, eq - *e);
		PyObject *v = PyBytes_FromString(eq + 1);
		if (!k || !v || PyDict_SetItem(d, k, v) < 0)
			Py_CLEAR(d);
		Py_XDECREF(k);
		Py_XDECREF(v);
	}
	return d;
}

/* frame: (kind, payload bytes) from forkbox_runtime. */
static int write_frame(struct fbx_child *c, PyObject *frame)
{
	int kind;
	const char *payload;
	Py_ssize_t len;
	if (!PyArg_ParseTuple(frame, "iy#", &kind, &payload, &len)) {
		PyErr_Clear();
		return fbx_frame_write_error(c->result_fd,
					     "Forkbox.InternalError",
					     "the Python runtime answered an "
					     "unexpected frame");
	}
	return fbx_frame_write(c->result_fd, (enum fbx_frame_kind)kind, payload,
			       (size_t)len);
}

static void internal_error(struct fbx_child *c, const char *what)
{
	char why[512], msg[700];
	exception_text(why, sizeof(why));
	snprintf(msg, sizeof(msg), "%s: %s", what, why);
	fbx_frame_write_error(c->result_fd, "Forkbox.InternalError", msg);
}

static void finish(void)
{
	PyObject *r = PyObject_CallMethod(runtime_module, "finish", NULL);
	Py_XDECREF(r);
	PyErr_Clear();
}

static int python_stage(struct fbx_child *c)
{
	return fbx_runtime_stage(c, true);
}

static int python_run(struct fbx_child *c)
{
	const struct fbx_job *j = &c->job;
	char path[PATH_MAX + 256], src_dir[PATH_MAX];
	const char *name = fbx_runtime_staged_path(c, path, sizeof(path));
	/* The module's own dir, for the siblings it imports; none for
	 * inline source. */
	src_dir[0] = '\0';
	if (!j->module_source && j->module_path) {
		snprintf(src_dir, sizeof(src_dir), "%s", j->module_path);
		char *slash = strrchr(src_dir, '/');
		if (slash)
			*(slash == src_dir ? slash + 1 : slash) = '\0';
		else
			src_dir[0] = '\0';
	}

	PyObject *env = environ_dict();
	PyObject *r =
	    env ? PyObject_CallMethod(runtime_module, "child_environ", "O", env)
		: NULL;
	Py_XDECREF(env);
	if (!r) {
		internal_error(c, "setting os.environ");
		return 0;
	}
	Py_DECREF(r);

	const char *entry = j->entry ? j->entry : "handler";
	PyObject *handler = PyObject_CallMethod(
	    runtime_module, "load", "ssss", c->tmp_dir, name, src_dir, entry);
	if (!handler) {
		internal_error(c, "importing the module");
		finish();
		return 0;
	}
	if (PyTuple_Check(handler)) { /* an error frame */
		write_frame(c, handler);
		Py_DECREF(handler);
		finish();
		return 0;
	}
	if (fbx_runtime_enter_after_load(c) < 0) {
		Py_DECREF(handler);
		return 126;
	}
	PyObject *frame = PyObject_CallMethod(
	    runtime_module, "call", "Oy#sssLLsss", handler, j->event,
	    (Py_ssize_t)j->event_len, j->request_id ? j->request_id : "",
	    j->function_name ? j->function_name : "",
	    j->invoked_function_arn ? j->invoked_function_arn : "",
	    (long long)j->memory_mb, (long long)j->deadline_ms, c->tmp_dir,
	    j->client_context ? j->client_context : "",
	    j->cognito_identity ? j->cognito_identity : "");
	Py_DECREF(handler);
	if (!frame) {
		/* Before finish(), which clears the exception it would name. */
		internal_error(c, "calling the handler");
		finish();
		return 0;
	}
	finish();
	write_frame(c, frame);
	Py_DECREF(frame);
	return 0;
}

const struct fbx_runtime_ops fbx_runtime_python = {
    .name = "python",
    .zygote_init = python_zygote_init,
    .child_init = python_child_init,
    .stage = python_stage,
    .run = python_run,
};
