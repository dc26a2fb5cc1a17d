/* forkboxd's diagnostics: one JSON object a line on stderr, with a level. */
#ifndef FORKBOXD_DIAG_H
#define FORKBOXD_DIAG_H

void fbxd_diag(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
