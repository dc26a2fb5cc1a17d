#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Appends s to out as the body of a JSON string; returns the new length.
 * Truncates rather than overflow: a diagnostic is never worth a crash. */
static size_t json_escape_into(char *out, size_t len, size_t size,
			       const char *s)
{
	for (; *s && len + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[len++] = '\\';
			out[len++] = (char)c;
		} else if (c < 0x20) {
			len += (size_t)snprintf(out + len, size - len,
						"\\u%04x", c);
		} else {
			out[len++] = (char)c;
		}
	}
	return len;
}

void fbx_log_write(int fd, const char *level, const char *func, int line,
		   int errnum, const char *fmt, ...)
{
	if (fd < 0)
		return;
	int saved_errno = errno;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char out[2048];
	size_t len =
	    (size_t)snprintf(out, sizeof(out),
			     "{\"ts\":%lld.%03ld,\"level\":\"%s\",\"pid\":%d,"
			     "\"at\":\"%s:%d\",\"msg\":\"",
			     (long long)ts.tv_sec, ts.tv_nsec / 1000000, level,
			     (int)getpid(), func, line);
	if (len >= sizeof(out))
		len = sizeof(out) - 1;
	len = json_escape_into(out, len, sizeof(out) - 64, msg);
	out[len++] = '"';
	if (errnum > 0) {
		len += (size_t)snprintf(out + len, sizeof(out) - len,
					",\"errno\":\"");
		len = json_escape_into(out, len, sizeof(out) - 8,
				       strerror(errnum));
		out[len++] = '"';
	}
	out[len++] = '}';
	out[len++] = '\n';
	/* One write() per line so lines from several threads never interleave.
	 */
	ssize_t n;
	do
		n = write(fd, out, len);
	while (n < 0 && errno == EINTR);
	errno = saved_errno;
}
