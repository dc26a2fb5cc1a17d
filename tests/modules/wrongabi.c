/* Claims a module ABI from the future: must be refused at load. */
#include <stdint.h>
#include <string.h>
__attribute__((visibility("default"), used))
const uint32_t forkbox_module_abi_version = 999;
char *handler(const char *event, unsigned long len, void *ctx)
{
	return strdup("1");
}
