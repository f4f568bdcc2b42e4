/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Libraries loaded only on the code paths that need them (libxml2, libvirt). */
#include <dlfcn.h>

#include "dl.h"
#include "msg.h"

void *vu_dl_open(const char *library, const struct vu_dlsym *syms, size_t n, const char *why)
{
	void *h = dlopen(library, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		vu_err("%s: cannot load it, which %s needs (install it): %s", library, why,
		       dlerror());
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		*syms[i].ptr = dlsym(h, syms[i].name);
		if (!*syms[i].ptr) {
			vu_err("%s: has no %s: too old for %s", library, syms[i].name, why);
			dlclose(h);
			return NULL;
		}
	}
	return h;
}
