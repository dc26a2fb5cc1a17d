/* Small I/O helpers shared inside libforkbox. */
#ifndef FORKBOX_IO_H
#define FORKBOX_IO_H

#include <sys/uio.h>

/* Writes all of iov[0..n) (modifying iov as it goes), retrying short
 * writes and EINTR. Returns 0 or -errno. */
int fbx_writev_all(int fd, struct iovec *iov, int n);

#endif
