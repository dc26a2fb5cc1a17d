/* A shared object without FORKBOX_MODULE(): must be refused at load. */
#include <string.h>
char *handler(const char *event, unsigned long len, void *ctx)
{
	return strdup("1");
}
