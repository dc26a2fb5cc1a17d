/* Diagnostics: one JSON object a line, written to an fd the caller chose
 * (never stdout by default, and nothing at all when the fd is -1). */
#ifndef FORKBOX_LOG_H
#define FORKBOX_LOG_H

void fbx_log_write(int fd, const char *level, const char *func, int line,
		   int errnum, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#define fbx_log(fd, level, ...)                                                \
	fbx_log_write((fd), (level), __func__, __LINE__, 0, __VA_ARGS__)
/* Adds "errno": strerror(errnum) to the line. */
#define fbx_log_errno(fd, level, errnum, ...)                                  \
	fbx_log_write((fd), (level), __func__, __LINE__, (errnum), __VA_ARGS__)

#endif
