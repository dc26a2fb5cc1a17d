#include "frame.h"
#include "io.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int fbx_frame_write(int fd, enum fbx_frame_kind kind, const char *payload,
		    size_t len)
{
	struct fbx_frame_header h = {
	    .magic = FBX_FRAME_MAGIC, .kind = (uint32_t)kind, .len = len};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, len}};
	return fbx_writev_all(fd, iov, 2);
}

int fbx_frame_write_error(int fd, const char *error_type, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	if (o && cJSON_AddStringToObject(o, "errorType", error_type) &&
	    cJSON_AddStringToObject(o, "errorMessage", message) &&
	    cJSON_AddArrayToObject(o, "stackTrace"))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	int rc = fbx_frame_write(fd, FBX_FRAME_ERROR, text, strlen(text));
	free(text);
	return rc;
}
