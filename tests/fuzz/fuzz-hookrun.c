/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hook-run's argument and name handling: libvirt's GUEST OPERATION
 * SUB-OPERATION (NUL-separated in the input), the names it decides are safe
 * path components, the scripts it would look for, and the shell words
 * hook-run new writes paths as.
 */
#include <limits.h>

#include "act.h"
#include "fuzz.h"
#include "hooks.h"

#define BASE "/nonexistent/vfio-utils-fuzz/hooks"

/* The shell's reading of a word vu_shell_word wrote: plain, or '...' runs and \'. */
static char *shell_read(const char *w)
{
	char *out = malloc(strlen(w) + 1), *o = out;

	CHECK(out);
	while (*w) {
		if (*w == '\'') {
			const char *end = strchr(w + 1, '\'');

			CHECK(end);
			memcpy(o, w + 1, (size_t)(end - w - 1));
			o += end - w - 1;
			w = end + 1;
		} else if (*w == '\\') {
			CHECK(w[1]);
			*o++ = w[1];
			w += 2;
		} else {
			/* Unquoted: only characters the shell takes literally. */
			CHECK(strchr(
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/@+=,-",
			    *w));
			*o++ = *w++;
		}
	}
	*o = '\0';
	return out;
}

static void check_name(const char *s)
{
	if (!vu_hook_name_safe(s))
		return;
	CHECK(*s && !strchr(s, '/') && !strchr(s, '\n'));
	CHECK(strcmp(s, ".") != 0 && strcmp(s, "..") != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *args[3] = { "", "", "" }, word[1024];
	size_t n = 0;

	CHECK(copy);
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; n < 3 && p <= copy + size; p += strlen(p) + 1)
		args[n++] = p;
	for (int i = 0; i < 3; i++)
		check_name(args[i]);
	vu_hook_name_skipped(args[0]);
	if (vu_hook_event(args[1], args[2]))
		CHECK(vu_hook_op_known(args[1]));
	if (vu_hook_name_safe(args[0]) && vu_hook_name_safe(args[1]) &&
	    vu_hook_name_safe(args[2])) {
		struct vu_names scripts, skipped;

		/* Nothing exists below BASE: no scripts, whatever the names. */
		CHECK(vu_hook_scripts(BASE, args[0], args[1], args[2], &scripts, &skipped) <= 0);
		CHECK(scripts.n == 0 && skipped.n == 0);
		vu_names_free(&scripts);
		vu_names_free(&skipped);
	}
	/* Every argument as a shell word: read back exactly, or refused for length. */
	for (int i = 0; i < 3; i++) {
		if (vu_shell_word(word, sizeof(word), args[i]) == 0) {
			char *back = shell_read(word);

			CHECK(strcmp(back, args[i]) == 0);
			free(back);
		} else {
			CHECK(word[0] == '\0');
		}
	}
	free(copy);
	return 0;
}
