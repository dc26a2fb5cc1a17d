/* Reports what the module can see of its sandbox: cwd, TMPDIR, HOME, the
 * private dir's entries on entry, uid, parent pid, environment, open fds.
 * Optional event fields: "sleep_ms" (hold the invocation open), "write" (create
 * a file of that name in cwd), "peek" (try to open that directory). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event_arg.h"
#include "forkbox_module.h"

FORKBOX_MODULE();

extern char **environ;

struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		while (o->len + n + 1 > o->cap)
			o->cap = o->cap ? o->cap * 2 : 4096;
		o->buf = realloc(o->buf, o->cap);
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void puts_raw(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_str(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (; s && *s; s++) {
		char esc[8];
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c < 0x20 || c >= 0x80) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(o, esc, 6);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
	put(o, "\"", 1);
}

static void put_key(struct out *o, const char *k)
{
	if (o->len > 1)
		put(o, ",", 1);
	put_str(o, k);
	put(o, ":", 1);
}

static void list_dir(struct out *o, const char *path)
{
	put(o, "[", 1);
	DIR *d = opendir(path);
	int first = 1;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!first)
			put(o, ",", 1);
		first = 0;
		put_str(o, de->d_name);
	}
	if (d)
		closedir(d);
	put(o, "]", 1);
}

char *handler(const char *event, size_t len, fbx_context *ctx)
{
	struct out o = {0};
	char cwd[4096], arg[4096], num[64];
	puts_raw(&o, "{");

	put_key(&o, "entries_on_entry");
	list_dir(&o, ".");
	put_key(&o, "cwd");
	put_str(&o, getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	put_key(&o, "TMPDIR");
	put_str(&o, getenv("TMPDIR"));
	put_key(&o, "HOME");
	put_str(&o, getenv("HOME"));
	put_key(&o, "ctx_tmp_dir");
	put_str(&o, ctx->tmp_dir);
	put_key(&o, "request_id");
	put_str(&o, ctx->request_id);
	put_key(&o, "uid");
	snprintf(num, sizeof(num), "%d", (int)getuid());
	puts_raw(&o, num);
	/* The zygote that forked it (0 inside a PID namespace). */
	put_key(&o, "ppid");
	snprintf(num, sizeof(num), "%d", (int)getppid());
	puts_raw(&o, num);

	put_key(&o, "parent_listable");
	DIR *parent = opendir("..");
	puts_raw(&o, parent ? "true" : "false");
	if (parent)
		closedir(parent);

	if (event_str(event, "write", arg, sizeof(arg))) {
		int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		put_key(&o, "wrote");
		puts_raw(&o,
			 fd >= 0 && write(fd, "x", 1) == 1 ? "true" : "false");
		if (fd >= 0)
			close(fd);
	}
	if (event_str(event, "peek", arg, sizeof(arg))) {
		DIR *d = opendir(arg);
		put_key(&o, "peek");
		put_str(&o, d ? "opened" : strerror(errno));
		if (d)
			closedir(d);
	}

	put_key(&o, "env");
	put(&o, "[", 1);
	for (char **e = environ; e && *e; e++) {
		if (e != environ)
			put(&o, ",", 1);
		put_str(&o, *e);
	}
	put(&o, "]", 1);

	put_key(&o, "fds");
	put(&o, "[", 1);
	int first = 1;
	for (int fd = 0; fd < 65536; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			continue;
		char link[64], target[512];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		char item[640];
		snprintf(item, sizeof(item), "%d:%s", fd, target);
		if (!first)
			put(&o, ",", 1);
		first = 0;
		put_str(&o, item);
	}
	put(&o, "]", 1);

	long long sleep_ms = event_num(event, "sleep_ms", 0);
	if (sleep_ms > 0) {
		struct timespec ts = {sleep_ms / 1000,
				      (sleep_ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
	put_key(&o, "entries_at_end");
	list_dir(&o, ".");
	puts_raw(&o, "}");
	return o.buf;
}
