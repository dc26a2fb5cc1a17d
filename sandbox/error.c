#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int error_vset(struct fbx_error *err, int code, int with_errno,
		      const char *fmt, va_list ap)
{
	if (code <= 0)
		code = EINVAL;
	if (!err)
		return -code;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s",
			 strerror(code));
	return -code;
}

int fbx_error_set(struct fbx_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = error_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return rc;
}

int fbx_error_errno(struct fbx_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = error_vset(err, code, 1, fmt, ap);
	va_end(ap);
	return rc;
}

void fbx_error_clear(struct fbx_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
