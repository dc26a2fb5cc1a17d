/* Policy files and @include: reading a file, resolving an include against
 * the directory of the file that names it, and refusing cycles and
 * includes nested too deep. The grammar itself is policy_parse.c.
 *
 * Cycles are found by realpath, so "./self.policy" and "../x/self.policy"
 * are the same file; messages name the files as they were written. */
#include "policy_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_POLICY_BYTES (1 << 20)

static int read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int rc = buf ? 0 : -ENOMEM;
	while (!rc) {
		if (n == cap) {
			char *nb = cap >= MAX_POLICY_BYTES
				       ? NULL
				       : realloc(buf, cap * 2);
			if (!nb) {
				rc = cap >= MAX_POLICY_BYTES ? -EFBIG : -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			rc = -errno;
		else if (got == 0)
			break;
		else
			n += (size_t)got;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = n;
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int fbx_policy_read_file(struct reader *r, const char *path,
			 const struct cursor *c, size_t pos)
{
	char *real = realpath(path, NULL);
	if (!real) {
		int e = errno;
		return c ? fbx_policy_fail_code(c, pos, e,
						"cannot read '%s': %s", path,
						strerror(e))
			 : fbx_error_errno(r->err, e, "cannot read policy '%s'",
					   path);
	}
	int rc = 0;
	for (unsigned i = 0; c && i < r->depth && !rc; i++) {
		if (!r->chain_real[i] || strcmp(r->chain_real[i], real) != 0)
			continue;
		char chain[300] = "";
		size_t used = 0;
		for (unsigned k = i; k < r->depth && used < sizeof(chain); k++)
			used +=
			    (size_t)snprintf(chain + used, sizeof(chain) - used,
					     "%s -> ", r->chain[k]);
		rc =
		    fbx_policy_fail(c, pos, "include cycle: %s%s", chain, path);
	}
	if (!rc && c && r->depth > MAX_INCLUDE_DEPTH)
		rc = fbx_policy_fail(c, pos, "includes nested deeper than %d",
				     MAX_INCLUDE_DEPTH);
	char *text = NULL, *dir = NULL;
	size_t len = 0;
	if (!rc) {
		rc = read_file(path, &text, &len);
		if (rc == -EFBIG)
			rc = fbx_error_set(r->err, EFBIG,
					   "%s: policy larger than %d bytes",
					   path, MAX_POLICY_BYTES);
		else if (rc && c)
			rc = fbx_policy_fail_code(c, pos, -rc,
						  "cannot read '%s': %s", path,
						  strerror(-rc));
		else if (rc)
			rc = fbx_error_errno(r->err, -rc,
					     "cannot read policy '%s'", path);
	}
	if (!rc && !(dir = dir_of(path)))
		rc = fbx_error_set(r->err, ENOMEM, "out of memory");
	if (!rc)
		rc = fbx_policy_parse_text(r, text, len, path, dir, real);
	free(dir);
	free(text);
	free(real);
	return rc;
}

int fbx_policy_include(const struct cursor *c, size_t start, size_t n)
{
	if (!c->dir)
		return fbx_policy_fail(c, start,
				       "@include needs a base directory (this "
				       "policy was not read from a file)");
	char *path;
	int rc;
	if (c->s[start] == '/')
		rc = asprintf(&path, "%.*s", (int)n, c->s + start);
	else
		rc = asprintf(&path, "%s/%.*s", c->dir, (int)n, c->s + start);
	if (rc < 0)
		return fbx_error_set(c->r->err, ENOMEM, "out of memory");
	rc = fbx_policy_read_file(c->r, path, c, start);
	free(path);
	return rc;
}
