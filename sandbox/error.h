/* Error reporting shared by every part of libforkbox.
 *
 * Library functions return 0 or a negative errno and, on failure, fill a
 * struct fbx_error (declared in the public forkbox.h) with a message a user
 * can act on. The library never prints, exits or aborts. */
#ifndef FORKBOX_ERROR_H
#define FORKBOX_ERROR_H

#include "forkbox.h"

/* Fills err (when non-NULL) and returns -code, so call sites can write
 * `return fbx_error_set(err, ENOENT, "...", ...);`. code must be positive. */
int fbx_error_set(struct fbx_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, with ": <strerror(code)>" appended. */
int fbx_error_errno(struct fbx_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void fbx_error_clear(struct fbx_error *err);

#endif
