/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Libraries loaded only on the code paths that need them (libxml2, libvirt). */
#include <dlfcn.h>
#include <stdio.h>

#include "dl.h"

void *vu_dl_open(const char *library, const struct vu_dlsym *syms, size_t n, char *why, size_t size)
{
	void *h = dlopen(library, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(why, size, "%s: cannot load it (is it installed?)", library);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		*syms[i].ptr = dlsym(h, syms[i].name);
		if (!*syms[i].ptr) {
			snprintf(why, size, "%s: has no %s: too old", library, syms[i].name);
			dlclose(h);
			return NULL;
		}
	}
	return h;
}
