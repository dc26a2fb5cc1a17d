/* Tiny event readers for test modules: they get flat JSON objects from the
 * tests and must not depend on a JSON library. */
#ifndef FORKBOX_TEST_EVENT_ARG_H
#define FORKBOX_TEST_EVENT_ARG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies the string value of "key" into out; returns out or NULL. */
static inline char *event_str(const char *event, const char *key, char *out, size_t size)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(event, pat);
	if (!p)
		return NULL;
	p = strchr(p + strlen(pat), ':');
	if (!p)
		return NULL;
	while (*++p == ' ')
		;
	if (*p != '"')
		return NULL;
	size_t n = 0;
	for (p++; *p && *p != '"' && n + 1 < size; p++)
		out[n++] = *p;
	out[n] = '\0';
	return out;
}

static inline long long event_num(const char *event, const char *key, long long dflt)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(event, pat);
	if (!p)
		return dflt;
	p = strchr(p + strlen(pat), ':');
	return p ? strtoll(p + 1, NULL, 10) : dflt;
}

#endif
