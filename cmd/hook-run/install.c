/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook-run install and uninstall: become the qemu hook, keeping the one there aside; and back. */
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

/* Where hook-run is, and the paths install and uninstall change: 0, or -1 (said). */
struct paths {
	char self[PATH_MAX], dir[PATH_MAX], hook[PATH_MAX + 8], backup[PATH_MAX + 16];
};

static int paths(struct paths *p)
{
	if (hr_self_path(p->self, sizeof(p->self)) < 0) {
		vu_errc(errno, "/proc/self/exe: cannot tell where hook-run is");
		return -1;
	}
	vu_path(p->dir, sizeof(p->dir), "/etc/libvirt/hooks");
	snprintf(p->hook, sizeof(p->hook), "%s/qemu", p->dir);
	snprintf(p->backup, sizeof(p->backup), "%s/%s", p->dir, BACKUP);
	return 0;
}

int hr_install(bool force)
{
	struct paths p;
	char *dir = p.dir, *hook = p.hook, *backup = p.backup, *self = p.self, target[PATH_MAX];
	const char *daemon;
	struct stat st;
	int err;

	if (paths(&p) < 0)
		return VU_EXIT_FAIL;
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
	if ((err = vu_mkdir_p(dir)) < 0) {
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

/*
 * Whether the hook at HOOK is hook-run's: a link to this program, or to one
 * named hook-run that is gone (a package removed before its hook was).
 */
static bool ours(const char *hook, const char *self)
{
	char target[PATH_MAX], real[PATH_MAX];
	ssize_t n = readlink(hook, target, sizeof(target) - 1);
	const char *base;

	if (n <= 0)
		return false;
	target[n] = '\0';
	if (realpath(hook, real))
		return strcmp(real, self) == 0 || hr_is_self(real);
	base = strrchr(target, '/');
	return strcmp(base ? base + 1 : target, "hook-run") == 0;
}

int hr_uninstall(void)
{
	struct paths p;
	const char *hook = p.hook, *backup = p.backup, *daemon;
	struct stat st;
	bool here, kept;

	if (paths(&p) < 0)
		return VU_EXIT_FAIL;
	here = lstat(hook, &st) == 0;
	kept = lstat(backup, &st) == 0;
	if (here && !ours(hook, p.self)) {
		if (kept) {
			vu_err("%s: not hook-run's: left alone, and %s with it", vu_unrooted(hook),
			       vu_unrooted(backup));
			return VU_EXIT_FAIL;
		}
		vu_report("%s: not hook-run's: nothing to undo", vu_unrooted(hook));
		return VU_EXIT_OK;
	}
	if (!here && !kept) {
		vu_report("%s: no hook: nothing to undo", vu_unrooted(hook));
		return VU_EXIT_OK;
	}
	if (here) {
		vu_act_command("rm %s", hook);
		if (!vu_dry_run && unlink(hook) < 0) {
			vu_errc(errno, "%s: cannot remove", vu_unrooted(hook));
			return VU_EXIT_FAIL;
		}
	}
	if (kept) {
		vu_act_command("mv %s %s", backup, hook);
		if (!vu_dry_run && rename(backup, hook) < 0) {
			vu_errc(errno, "%s: cannot put back", vu_unrooted(backup));
			return VU_EXIT_FAIL;
		}
	}
	if (vu_dry_run)
		return VU_EXIT_OK;
	daemon = vu_virt_daemon();
	vu_report("%s%s; libvirt notices it only when its daemon starts: systemctl restart %s",
		  kept ? "put the previous hook back as " : "removed ", vu_unrooted(hook),
		  daemon ? daemon : "libvirtd (or virtqemud)");
	return VU_EXIT_OK;
}
