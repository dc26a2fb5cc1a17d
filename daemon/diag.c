#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void fbxd_diag(const char *level, const char *fmt, ...)
{
	char msg[1024], line[2400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	size_t n = (size_t)snprintf(
	    line, sizeof(line),
	    "{\"ts\":%lld.%03ld,\"level\":\"%s\",\"pid\":%d,\"msg\":\"",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000000, level, (int)getpid());
	for (const char *c = msg; *c && n + 8 < sizeof(line); c++) {
		unsigned char u = (unsigned char)*c;
		if (u == '"' || u == '\\')
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      "\\%c", u);
		else if (u < 0x20)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      "\\u%04x", u);
		else
			line[n++] = (char)u;
	}
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\"}\n");
	/* One write per line: lines from several threads never interleave. */
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to complain to. */
	}
}
