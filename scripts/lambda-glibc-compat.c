/* Linked into the Lambda zip's forkbox-zygote-python only (see
 * scripts/lambda-zip.sh and scripts/lambda-glibc.py).
 *
 * Debian 12's libexpat (pyexpat: xml.etree, plistlib, xmlrpc) and libcrypt
 * (the crypt module) call arc4random_buf, which glibc has only since 2.36;
 * Amazon Linux 2023 has 2.34. The zip's copies of those libraries have
 * their need of GLIBC_2.36 made weak, and this definition, exported from
 * the executable (first in every lookup scope, dlopen()ed extension
 * modules included), is what they bind to on any glibc. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

void arc4random_buf(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		p += got;
		n -= (size_t)got;
	}
	if (n == 0)
		return;
	/* No getrandom (ENOSYS or a policy): /dev/urandom; arc4random_buf
	 * cannot fail, so neither can this. */
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && n > 0) {
		ssize_t got = read(fd, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		p += got;
		n -= (size_t)got;
	}
	if (fd >= 0)
		close(fd);
	if (n > 0)
		abort();
}
