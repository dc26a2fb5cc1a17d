/* forkbox native module ABI.
 *
 *   #include <forkbox_module.h>
 *   FORKBOX_MODULE();
 *   char *handler(const char *event, size_t event_len, fbx_context *ctx)
 *   {
 *           return strdup("{\"ok\": true}");
 *   }
 *
 * The module is a shared object loaded into a fresh child that exits after
 * the call. `event` is the event's JSON text, NUL-terminated. Return a
 * malloc'd NUL-terminated JSON text (the result), or NULL to fail; call
 * fbx_fail() first to say why. Nothing here needs linking against forkbox. */
#ifndef FORKBOX_MODULE_H
#define FORKBOX_MODULE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of fbx_context or the entry signature;
 * a module built against another version is refused at load. */
#define FORKBOX_ABI_VERSION 1u

typedef struct fbx_context {
	uint32_t abi_version; /* FORKBOX_ABI_VERSION of the loader */
	uint32_t size;	      /* sizeof(fbx_context) of the loader */
	const char *request_id;
	const char *function_name;
	const char *invoked_function_arn;
	const char *trace_id;	      /* "" when none */
	const char *client_context;   /* JSON text or "" */
	const char *cognito_identity; /* JSON text or "" */
	int64_t deadline_ms;	      /* Unix epoch milliseconds */
	int64_t memory_limit_mb;
	const char *tmp_dir; /* the private dir, also cwd, TMPDIR, HOME */
	/* Set through fbx_fail(). */
	int failed;
	char error_type[128];
	char error_message[1024];
} fbx_context;

typedef char *(*fbx_entry_fn)(const char *event, size_t event_len,
			      fbx_context *ctx);

/* Marks a shared object as a forkbox module of this ABI version. */
#define FORKBOX_MODULE()                                                       \
	__attribute__((visibility("default"), used))                           \
	const uint32_t forkbox_module_abi_version = FORKBOX_ABI_VERSION

static inline __attribute__((format(printf, 3, 4))) void
fbx_fail(fbx_context *ctx, const char *error_type, const char *fmt, ...)
{
	va_list ap;
	ctx->failed = 1;
	snprintf(ctx->error_type, sizeof(ctx->error_type), "%s",
		 error_type ? error_type : "Function.Error");
	va_start(ap, fmt);
	vsnprintf(ctx->error_message, sizeof(ctx->error_message), fmt, ap);
	va_end(ap);
}

/* Milliseconds left before the invocation is killed. */
static inline int64_t fbx_remaining_ms(const fbx_context *ctx)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	return ctx->deadline_ms > now_ms ? ctx->deadline_ms - now_ms : 0;
}

#ifdef __cplusplus
}
#endif
#endif
