/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook-run: where hook-run is, and whether a qemu hook is hook-run or a dispatcher of its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "hook-run.h"

/* Where hook-run's own program is, resolved: 0, or -errno. */
int hr_self_path(char *buf, size_t size)
{
	char real[PATH_MAX];

	if (!realpath("/proc/self/exe", real))
		return errno ? -errno : -ENOENT;
	snprintf(buf, size, "%s", real);
	return 0;
}

/* Whether PATH leads, through any links, to this very program. */
bool hr_is_self(const char *path)
{
	char self[PATH_MAX], target[PATH_MAX];

	return hr_self_path(self, sizeof(self)) == 0 && realpath(path, target) &&
	       strcmp(self, target) == 0;
}

/*
 * Whether the qemu hook at PATH, not hook-run, runs qemu.d's scripts itself:
 * the guides' dispatcher names qemu.d in its first lines.
 */
bool hr_foreign_dispatcher(const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd;

	if (access(path, X_OK) < 0)
		return false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, "qemu.d") != NULL;
}
