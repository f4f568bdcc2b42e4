/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a guide's hook script does that the scripts hook-run new writes do too. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "hook-run.h"

/* What a guide's start.sh or revert.sh does that the scripts hook-run new writes do too. */
static const struct {
	const char *needle[3];
	const char *what;
} guide_steps[] = {
	{ { "display-manager", "lightdm", "gdm" }, "the display manager" },
	{ { "sddm", NULL, NULL }, "the display manager" },
	{ { "/sys/class/vtconsole/", NULL, NULL }, "the consoles" },
	{ { "efi-framebuffer", "simple-framebuffer", "vesa-framebuffer" }, "the framebuffer" },
	{ { "nodedev-detach", "nodedev-reattach", NULL }, "the devices (virsh nodedev-*)" },
	{ { "modprobe", NULL, NULL }, "the modules (modprobe)" },
};

#define WRITTEN_BY_NEW "Written by hook-run new"

enum hr_author hr_guide_work(const char *path, char *what, size_t size)
{
	char buf[65536], *save = NULL;
	bool seen[VU_ARRAY_SIZE(guide_steps)] = { false };
	ssize_t n;
	int fd;

	what[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return HR_THEIRS;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (strstr(buf, WRITTEN_BY_NEW))
		return strstr(buf, "vfio-bind") || strstr(buf, "vfio-unbind") ? HR_OURS_HANDOVER
									      : HR_OURS;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l += strspn(l, " \t");
		for (size_t i = 0; *l != '#' && i < VU_ARRAY_SIZE(guide_steps); i++)
			for (size_t k = 0; k < 3 && guide_steps[i].needle[k]; k++)
				seen[i] = seen[i] || strstr(l, guide_steps[i].needle[k]);
	}
	for (size_t i = 0; i < VU_ARRAY_SIZE(guide_steps); i++) {
		size_t len = strlen(what);

		/* One name a step, however many ways it matched. */
		if (seen[i] && !strstr(what, guide_steps[i].what))
			snprintf(what + len, size - len, "%s%s", len ? ", " : "",
				 guide_steps[i].what);
	}
	return HR_THEIRS;
}
