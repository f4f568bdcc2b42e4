/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook-run install: become the qemu hook, keeping the one there aside. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act.h"
#include "msg.h"
#include "opts.h"
#include "sysfs.h"
#include "virt.h"
#include "hook-run.h"

#define BACKUP "qemu.orig"

int hr_install(bool force)
{
	char dir[PATH_MAX], hook[PATH_MAX + 8], backup[PATH_MAX + 16], self[PATH_MAX],
	    target[PATH_MAX];
	const char *daemon;
	struct stat st;
	int err;

	if (hr_self_path(self, sizeof(self)) < 0) {
		vu_errc(errno, "/proc/self/exe: cannot tell where hook-run is");
		return VU_EXIT_FAIL;
	}
	vu_path(dir, sizeof(dir), "/etc/libvirt/hooks");
	snprintf(hook, sizeof(hook), "%s/qemu", dir);
	snprintf(backup, sizeof(backup), "%s/%s", dir, BACKUP);
	if (realpath(hook, target) && strcmp(target, self) == 0) {
		vu_report("%s: already hook-run", vu_unrooted(hook));
		return VU_EXIT_OK;
	}
	if (lstat(hook, &st) == 0) {
		if (lstat(backup, &st) == 0 && !force) {
			vu_err(
			    "%s: exists already: the hook there now would replace it (--force does)",
			    vu_unrooted(backup));
			return VU_EXIT_FAIL;
		}
		vu_act_command("mv %s %s", hook, backup);
		if (!vu_dry_run && rename(hook, backup) < 0) {
			vu_errc(errno, "%s: cannot keep it aside", hook);
			return VU_EXIT_FAIL;
		}
		vu_report("kept the previous hook as %s (qemu.d keeps working with hook-run)",
			  vu_unrooted(backup));
	}
	vu_act_command("mkdir -p %s", dir);
	vu_act_command("ln -s %s %s", self, hook);
	if (vu_dry_run)
		return VU_EXIT_OK;
	if ((err = hr_mkdir_p(dir)) < 0) {
		vu_errc(err, "%s: cannot install", vu_unrooted(dir));
		return VU_EXIT_FAIL;
	}
	if (symlink(self, hook) < 0) {
		vu_errc(errno, "%s: cannot install", vu_unrooted(hook));
		return VU_EXIT_FAIL;
	}
	daemon = vu_virt_daemon();
	vu_report(
	    "installed %s -> %s; libvirt notices a new hook only when its daemon starts: systemctl restart %s",
	    vu_unrooted(hook), self, daemon ? daemon : "libvirtd (or virtqemud)");
	return VU_EXIT_OK;
}
