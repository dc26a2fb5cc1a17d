/* The trap forkbox removes, shown in C: a warm process dlopen()s the same
 * path again after the file was replaced, and gets the object it loaded
 * first. Reads a path per line on stdin, prints what handler() returns.
 * Used by `make demo` for the side-by-side. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char path[4096];
	while (fgets(path, sizeof(path), stdin)) {
		path[strcspn(path, "\n")] = '\0';
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		char *(*fn)(const char *, size_t, void *) =
		    h ? (char *(*)(const char *, size_t, void *))dlsym(
			    h, "handler")
		      : NULL;
		char *r = fn ? fn("{}", 2, NULL) : NULL;
		printf("%s\n", r ? r : dlerror());
		fflush(stdout);
		free(r);
	}
	return 0;
}
