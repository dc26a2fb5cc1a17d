/* libFuzzer target for the policy reader and compiler (policy_parse.c,
 * policy_consts.c, policy_compile.c): bytes in, a policy or an error out,
 * never a crash, leak or undefined behaviour.
 *
 * The input is parsed as policy text with base_dir NULL, so @include is
 * refused and nothing touches the file system. A parsed policy and its
 * @after-load stage are compiled to BPF (flags 0, as the zygote does),
 * listed and summarised; a failure must come with an error a user can read.
 * Both are library contracts (policy.h, error.h): breaking one aborts, which
 * libFuzzer reports as a crash with the input saved.
 *
 * Build and run: make fuzz (see the Makefile's last section). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: contract broken: %s\n",        \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* A failing call returns a negative errno and says why in err. */
static void check_error(int rc, const struct fbx_error *err)
{
	CHECK(rc < 0);
	CHECK(err->code > 0 && err->code == -rc);
	CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	CHECK(err->msg[0] != '\0');
}

/* Compiles one stage, lists its BPF and describes it. */
static void compile_and_describe(const struct fbx_policy *policy)
{
	struct fbx_bpf bpf = {0};
	struct fbx_error err = {0};
	int rc = fbx_policy_compile(policy, 0, &bpf, &err);
	if (rc < 0) {
		check_error(rc, &err);
	} else {
		CHECK(bpf.insns != NULL && bpf.len > 0);
		char *listing = NULL;
		if (fbx_bpf_listing(&bpf, &listing) == 0) {
			CHECK(listing != NULL);
			free(listing);
		}
		fbx_bpf_free(&bpf);
	}

	char *summary = NULL;
	if (fbx_policy_summary(policy, &summary) == 0) {
		CHECK(summary != NULL);
		free(summary);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The reader takes a C string: an embedded NUL would only hide the
	 * bytes after it, so such inputs are not interesting. */
	if (memchr(data, '\0', size))
		return -1;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct fbx_policy *policy = NULL;
	struct fbx_error err = {0};
	int rc = fbx_policy_parse(text, "fuzz.policy", NULL, &policy, &err);
	free(text);
	if (rc < 0) {
		check_error(rc, &err);
		CHECK(policy == NULL);
		return 0;
	}
	CHECK(rc == 0 && policy != NULL);

	compile_and_describe(policy);
	if (policy->after_load)
		compile_and_describe(policy->after_load);
	fbx_policy_free(policy);
	return 0;
}
