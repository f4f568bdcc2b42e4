/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the fuzz harnesses. Each defines LLVMFuzzerTestOneInput; built
 * with clang -fsanitize=fuzzer it is a libFuzzer target (make fuzz), built
 * with replay.c it runs the kept inputs (make check).
 */
#ifndef VU_FUZZ_H
#define VU_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the harness checks: a violation is a finding, like a crash. */
#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* DATA as a NUL-terminated string, NULL when it holds a NUL (not an argument). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s;

	if (memchr(data, '\0', size) || !(s = malloc(size + 1)))
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
