/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Libraries loaded only on the code paths that need them (libxml2, libvirt). */
#ifndef VU_DL_H
#define VU_DL_H

#include <stddef.h>

struct vu_dlsym {
	const char *name;
	void **ptr;
};

/*
 * Load LIBRARY (a soname) and resolve every symbol into its pointer: the
 * handle, or NULL with the reason in WHY.
 */
void *vu_dl_open(const char *library, const struct vu_dlsym *syms, size_t n, char *why,
		 size_t size);

#endif
