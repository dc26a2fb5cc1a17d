/* Counts the words of the event's "text", using its private dir as
 * scratch space the way Lambda code uses /tmp: the file it writes is gone
 * after the call, and the next call starts empty.
 *
 *   forkbox run --module build/examples/wordcount.so \
 *       --event-json '{"text": "to be or not to be"}'
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <forkbox_module.h>

FORKBOX_MODULE();

char *handler(const char *event, size_t len, fbx_context *ctx)
{
	const char *p = strstr(event, "\"text\"");
	if (!p || !(p = strchr(p + 6, '"'))) {
		fbx_fail(ctx, "InvalidEvent", "event has no \"text\" string");
		return NULL;
	}
	/* Scratch file in the private dir (also cwd, TMPDIR and HOME). */
	FILE *scratch = fopen("scratch.txt", "w+");
	if (!scratch) {
		fbx_fail(ctx, "IOError", "scratch file: %s", strerror(errno));
		return NULL;
	}
	long words = 0;
	int in_word = 0;
	for (p++; *p && *p != '"'; p++) {
		fputc(*p, scratch);
		if (isspace((unsigned char)*p)) {
			in_word = 0;
		} else if (!in_word) {
			in_word = 1;
			words++;
		}
	}
	long bytes = ftell(scratch);
	fclose(scratch);
	int already_there = access("previous.txt", F_OK) == 0;
	FILE *mark = fopen("previous.txt", "w");
	if (mark)
		fclose(mark);
	char *out = malloc(160);
	if (out)
		snprintf(out, 160,
			 "{\"words\": %ld, \"scratch_bytes\": %ld, "
			 "\"saw_previous_call\": %s}",
			 words, bytes, already_there ? "true" : "false");
	return out;
}
