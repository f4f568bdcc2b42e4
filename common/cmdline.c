/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel command line's words: a parameter's value, and one set or taken away. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmdline.h"

const char *vu_cmdline_get(const char *words, const char *param, char *buf, size_t size)
{
	size_t plen = strlen(param);
	const char *found = NULL;

	for (const char *p = words + strspn(words, " \t\n"); *p;) {
		size_t wlen = strcspn(p, " \t\n");

		if (wlen >= plen && strncmp(p, param, plen) == 0 &&
		    (wlen == plen || p[plen] == '=')) {
			size_t vlen = wlen == plen ? 0 : wlen - plen - 1;

			snprintf(buf, size, "%.*s", (int)vlen, p + plen + (wlen > plen));
			found = buf; /* the kernel honours the last */
		}
		p += wlen;
		p += strspn(p, " \t\n");
	}
	return found;
}

int vu_cmdline_set(char *words, size_t size, const char *param, const char *value)
{
	char out[VU_CMDLINE_MAX] = "";
	size_t plen = strlen(param), len = 0;
	bool set = false;

	for (const char *p = words + strspn(words, " \t\n"); *p;) {
		size_t wlen = strcspn(p, " \t\n");
		bool mine = wlen >= plen && strncmp(p, param, plen) == 0 &&
			    (wlen == plen || p[plen] == '=');

		/* The first occurrence takes the new value in its place; the others go. */
		if (mine && value && !set) {
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s%s%s",
						len ? " " : "", param, *value ? "=" : "", value);
			set = true;
		} else if (!mine) {
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%.*s",
						len ? " " : "", (int)wlen, p);
		}
		if (len >= sizeof(out))
			return -ENOSPC;
		p += wlen;
		p += strspn(p, " \t\n");
	}
	if (value && !set)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s%s%s", len ? " " : "",
					param, *value ? "=" : "", value);
	if (len >= sizeof(out) || len >= size)
		return -ENOSPC;
	memcpy(words, out, len + 1);
	return 0;
}
