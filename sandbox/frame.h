/* The child's result channel: one length-prefixed frame, written after the
 * entry returns. End of file on the pipe only comes after the child's whole
 * address space is torn down, so the length tells the host when the answer
 * is complete without waiting for that. */
#ifndef FORKBOX_FRAME_H
#define FORKBOX_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FBX_FRAME_MAGIC 0x31584246u /* "FBX1" */

enum fbx_frame_kind {
	FBX_FRAME_RESULT = 1, /* payload: the result's JSON text */
	FBX_FRAME_ERROR =
	    2, /* payload: {"errorType","errorMessage","stackTrace"} */
};

struct fbx_frame_header {
	uint32_t magic;
	uint32_t kind;
	uint64_t len;
};

/* Writes one frame; returns 0 or -errno (EPIPE when the host stopped
 * listening, e.g. because the result was too large). */
int fbx_frame_write(int fd, enum fbx_frame_kind kind, const char *payload,
		    size_t len);

/* Writes an error frame built from its parts (strings are escaped). */
int fbx_frame_write_error(int fd, const char *error_type, const char *message);

#endif
