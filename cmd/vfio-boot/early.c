/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-pci from boot: a modprobe.d file of our own (vfio-pci's IDs, a
 * driver_override for devices that share theirs with one the host keeps, a
 * softdep that loads vfio-pci before each device's usual driver), and the
 * generator's own way to put vfio-pci and that file in the initramfs.
 */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act.h"
#include "boot.h"
#include "msg.h"
#include "sysfs.h"
#include "util.h"

static const char *const itools_argv[] = { "update-initramfs", "-u", "-k", "all", NULL };
static const char *const dracut_argv[] = { "dracut", "--regenerate-all", "--force", NULL };
static const char *const mkinitcpio_argv[] = { "mkinitcpio", "-P", NULL };

bool initramfs_detect(struct initramfs *g)
{
	if (vu_existsf("/etc/initramfs-tools/initramfs.conf"))
		*g = (struct initramfs){ "initramfs-tools", "/etc/initramfs-tools/hooks/vfio-utils",
					 itools_argv };
	else if (vu_existsf("/etc/dracut.conf") || vu_existsf("/etc/dracut.conf.d"))
		*g = (struct initramfs){ "dracut", "/etc/dracut.conf.d/vfio-utils.conf",
					 dracut_argv };
	else if (vu_existsf("/etc/mkinitcpio.conf"))
		*g = (struct initramfs){ "mkinitcpio", "/etc/mkinitcpio.conf.d/vfio-utils.conf",
					 mkinitcpio_argv };
	else
		return false;
	return true;
}

bool early_present(const struct initramfs *g)
{
	return vu_existsf(EARLY_MODPROBE) && (!g || vu_existsf("%s", g->config));
}

/* Append to the growing text *T (of *LEN bytes); -ENOMEM remembered in *ERR. */
static void add(char **t, size_t *len, int *err, const char *fmt, ...) VU_PRINTF(4, 5);
static void add(char **t, size_t *len, int *err, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL, *n;
	int l;

	va_start(ap, fmt);
	l = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (l < 0 || !(n = realloc(*t, *len + (size_t)l + 1))) {
		free(line);
		*err = -ENOMEM;
		return;
	}
	memcpy(n + *len, line, (size_t)l + 1);
	*t = n;
	*len += (size_t)l;
	free(line);
}

/*
 * The modprobe.d file. By ID: vfio-pci.ids as an option. By address: the
 * install command writes driver_override for each before vfio-pci loads,
 * as the kernel's driver_override is the one way to pick a device out of
 * several with the same IDs. The softdeps load vfio-pci first wherever the
 * usual driver would load: udev's coldplug in the initramfs or after it.
 */
static char *modprobe_text(const struct early *e, size_t n)
{
	char *t = NULL;
	size_t len = 0;
	int err = 0, ids = 0, addrs = 0;

	add(&t, &len, &err, "%s: vfio-pci takes these devices at boot.\n", BOOT_MARK);
	add(&t, &len, &err,
	    "# 'vfio-boot unbind' and 'vfio-boot undo' change or remove it; an edit here is lost.\n");
	for (size_t i = 0; i < n; i++)
		add(&t, &len, &err, "# %s [%s] %s\n", e[i].address, e[i].ids,
		    e[i].by_address ? "by address: another device has its IDs" : "by ID");
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t k = 0; k < i; k++)
			seen |= !e[k].by_address && strcmp(e[k].ids, e[i].ids) == 0;
		if (!e[i].by_address && !seen)
			add(&t, &len, &err, "%s%s",
			    ids++ ? "," : "options vfio-pci ids=", e[i].ids);
	}
	if (ids)
		add(&t, &len, &err, "\n");
	for (size_t i = 0; i < n; i++)
		if (e[i].by_address)
			add(&t, &len, &err, "%s%s", addrs++ ? " " : "install vfio-pci for d in ",
			    e[i].address);
	if (addrs)
		add(&t, &len, &err,
		    "; do [ -e /sys/bus/pci/devices/$d ] && echo vfio-pci >/sys/bus/pci/devices/$d/driver_override; done; exec /sbin/modprobe --ignore-install vfio-pci $CMDLINE_OPTS\n");
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t k = 0; k < i; k++)
			seen |= e[k].module && e[i].module && strcmp(e[k].module, e[i].module) == 0;
		if (e[i].module && !seen)
			add(&t, &len, &err, "softdep %s pre: vfio-pci\n", e[i].module);
	}
	if (err < 0) {
		free(t);
		return NULL;
	}
	return t;
}

/* The generator's own file: vfio-pci, with its dependencies, and the modprobe.d file inside. */
static char *initramfs_text(const struct initramfs *g)
{
	char *t = NULL;
	int n;

	if (strcmp(g->name, "initramfs-tools") == 0)
		n = asprintf(&t,
			     "#!/bin/sh\n"
			     "%s: vfio-pci in the initramfs, loaded early\n"
			     "# (mkinitramfs copies /etc/modprobe.d, " EARLY_MODPROBE " with it).\n"
			     "PREREQ=\"\"\n"
			     "prereqs() { echo \"$PREREQ\"; }\n"
			     "case $1 in prereqs) prereqs; exit 0 ;; esac\n"
			     ". /usr/share/initramfs-tools/hook-functions\n"
			     "manual_add_modules vfio_pci\n"
			     "force_load vfio_pci\n",
			     BOOT_MARK);
	else if (strcmp(g->name, "dracut") == 0)
		n = asprintf(&t,
			     "%s: vfio-pci and " EARLY_MODPROBE " in the initramfs.\n"
			     "force_drivers+=\" vfio_pci \"\n"
			     "install_items+=\" " EARLY_MODPROBE " \"\n",
			     BOOT_MARK);
	else
		n = asprintf(&t,
			     "%s: vfio-pci and " EARLY_MODPROBE " in the initramfs.\n"
			     "MODULES+=(vfio_pci vfio vfio_iommu_type1)\n"
			     "FILES+=(" EARLY_MODPROBE ")\n",
			     BOOT_MARK);
	return n < 0 ? NULL : t;
}

/* PATH is vfio-boot's to write: absent, or with our mark in its first lines. */
static bool ours(const struct saved *s)
{
	const char *mark = s->text ? strstr(s->text, BOOT_MARK) : NULL;

	if (!s->text || (mark && mark - s->text < 64))
		return true;
	vu_err("%s: not written over: it is not vfio-boot's (no \"%s\" line at its top)",
	       vu_unrooted(s->path), BOOT_MARK);
	return false;
}

/* TEXT (NULL: none) as the file S was taken from; under dry run, the shell that would do it. */
static int put(const struct saved *s, const char *text, unsigned mode)
{
	const char *path = vu_unrooted(s->path);

	if (!text) {
		if (!s->text)
			return vu_dry_run ? 0 : file_remove(s->path);
		if (vu_dry_run) {
			vu_act_command("rm -f %s", path);
			return 0;
		}
		vu_verbose("removing %s", path);
		return file_remove(s->path);
	}
	if (s->text && strcmp(s->text, text) == 0)
		return 0;
	if (vu_dry_run) {
		vu_act_command("cat >%s <<'EOF'\n%sEOF", path, text);
		if (mode & 0111)
			vu_act_command("chmod %o %s", mode, path);
		return 0;
	}
	vu_verbose("writing %s", path);
	return file_write(s->path, text, mode);
}

int early_apply(const struct initramfs *g, const struct early *e, size_t n)
{
	struct saved mp = { 0 }, gc = { 0 };
	char path[PATH_MAX];
	char *mtext = NULL, *gtext = NULL;
	int st = VU_EXIT_FAIL;

	if (vu_path(path, sizeof(path), EARLY_MODPROBE) < 0 || saved_take(&mp, path) < 0)
		return VU_EXIT_FAIL;
	if (g && (vu_path(path, sizeof(path), "%s", g->config) < 0 || saved_take(&gc, path) < 0))
		goto out;
	if (!ours(&mp) || (g && !ours(&gc)))
		goto out;
	if (n && (!(mtext = modprobe_text(e, n)) || (g && !(gtext = initramfs_text(g))))) {
		vu_errc(ENOMEM, "%s", EARLY_MODPROBE);
		goto out;
	}
	if (put(&mp, mtext, 0644) < 0 ||
	    (g && put(&gc, gtext, strcmp(g->name, "initramfs-tools") == 0 ? 0755 : 0644) < 0))
		goto restore;
	if (!g || gen_run((char *const *)g->argv) == 0) {
		st = 0;
		goto out;
	}
restore:
	if (!vu_dry_run && saved_restore(&mp) == 0 && (!g || saved_restore(&gc) == 0))
		vu_err("%s%s%s: put back as they were", EARLY_MODPROBE, g ? ", " : "",
		       g ? g->config : "");
out:
	free(mtext);
	free(gtext);
	saved_free(&mp);
	saved_free(&gc);
	return st;
}
