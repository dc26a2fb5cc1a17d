/* try_syscall as a program, for the exec runtime's policy tests: reads the
 * event on stdin, makes the syscall it names, prints the result JSON. */
#include "../try_syscall.c"

int main(void)
{
	static char event[65536];
	size_t n = fread(event, 1, sizeof(event) - 1, stdin);
	event[n] = '\0';
	fbx_context ctx = {0};
	char *out = handler(event, n, &ctx);
	if (!out) {
		fprintf(stderr, "%s: %s\n", ctx.error_type, ctx.error_message);
		return 1;
	}
	printf("%s\n", out);
	return 0;
}
