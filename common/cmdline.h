/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel command line's words: a parameter's value, and one set or taken away. */
#ifndef VU_CMDLINE_H
#define VU_CMDLINE_H

#include <stddef.h>

/* The longest command line handled: the kernel's own limit on x86 (COMMAND_LINE_SIZE). */
#define VU_CMDLINE_MAX 4096

/*
 * PARAM's value in the words of CMDLINE ("" for a bare flag) into BUF, or
 * NULL when absent; the last occurrence, as the kernel takes it.
 */
const char *vu_cmdline_get(const char *cmdline, const char *param, char *buf, size_t size);
/*
 * PARAM set to VALUE ("" a bare flag; NULL: every occurrence removed) in the
 * words of CMDLINE, which holds SIZE bytes: the first occurrence takes the
 * new value in its place, the others go, a new one goes last; the words come
 * out one blank apart. 0, or -ENOSPC.
 */
int vu_cmdline_set(char *cmdline, size_t size, const char *param, const char *value);

#endif
