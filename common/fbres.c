/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the firmware framebuffer holds of a GPU's memory, as /proc/iomem shows it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbres.h"
#include "sysfs.h"
#include "util.h"

static const char *const names[] = { "BOOTFB", "efifb", "vesafb", "simplefb", "simpledrm" };

static bool fb_name(const char *name)
{
	for (size_t i = 0; i < VU_ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Which of DEV's BARs holds [S, E] whole, from its resource file; -1 none. */
static int bar_of(const char *dev, unsigned long long s, unsigned long long e)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	int bar = -1;
	FILE *f;

	if (vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", dev) < 0 ||
	    !(f = fopen(path, "re")))
		return -1;
	for (int i = 0; i < 6 && bar < 0 && getline(&line, &cap, f) > 0; i++) {
		unsigned long long bs, be;

		if (vu_hex_range(line, ' ', &bs, &be) && be && s >= bs && e <= be)
			bar = i;
	}
	free(line);
	fclose(f);
	return bar;
}

int vu_fbres_scan(struct vu_fbres **out, size_t *n)
{
	char path[PATH_MAX], *line = NULL, owner[VU_NAME_MAX] = "";
	unsigned long long s, e, os = 0, oe = 0;
	size_t cap = 0;
	FILE *in;

	*out = NULL;
	*n = 0;
	if (vu_path(path, sizeof(path), "/proc/iomem") < 0 || !(in = fopen(path, "re")))
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, in) > 0) {
		const char *rest = vu_hex_range(line, '-', &s, &e);
		char name[64];
		struct vu_addr a;
		struct vu_fbres *v;

		if (!rest || strncmp(rest, " : ", 3) != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(rest + 3, "\n"), rest + 3);
		/* A device's range: what follows inside it is its own. */
		if (vu_addr_from_name(name, &a) == 0) {
			vu_addr_name(&a, owner);
			os = s;
			oe = e;
			continue;
		}
		if (!fb_name(name))
			continue;
		if (!(v = realloc(*out, (*n + 1) * sizeof(*v)))) {
			free(line);
			fclose(in);
			return -ENOMEM;
		}
		*out = v;
		v = &v[(*n)++];
		memset(v, 0, sizeof(*v));
		snprintf(v->name, sizeof(v->name), "%.15s", name);
		v->start = s;
		v->end = e;
		v->bar = -1;
		if (owner[0] && s >= os && e <= oe) {
			snprintf(v->dev, sizeof(v->dev), "%s", owner);
			v->bar = bar_of(owner, s, e);
		}
	}
	free(line);
	fclose(in);
	return 0;
}

int vu_kernel_version(void)
{
	char release[128], *end;
	long major, minor;

	if (vu_readf(release, sizeof(release), "/proc/sys/kernel/osrelease") <= 0)
		return 0;
	major = strtol(release, &end, 10);
	if (*end != '.')
		return 0;
	minor = strtol(end + 1, &end, 10);
	return major > 0 && major < 1000 && minor >= 0 && minor < 1000 ? (int)(major * 1000 + minor)
								       : 0;
}

bool vu_fbres_evicted(unsigned dev_class)
{
	return (dev_class >> 8) == 0x0300 && vu_kernel_version() >= 6000;
}
