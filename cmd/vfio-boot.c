/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-boot: every guide's first step, done through the distribution's own
 * tools and undone exactly: the IOMMU's kernel parameters in the
 * bootloader's configuration, and devices given to vfio-pci from boot. What
 * it changed is remembered in /var/lib/vfio-utils/boot (it outlives a boot).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <unistd.h>

#include "act.h"
#include "cmdline.h"
#include "device.h"
#include "inuse.h"
#include "kmod.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "state.h"
#include "sysfs.h"
#include "util.h"
#include "vfio-boot/boot.h"

#define LOCK "boot.lock"

static noreturn void usage(void)
{
	fputs("Usage: vfio-boot [options] [status]\n"
	      "       vfio-boot [options] iommu on|off\n"
	      "       vfio-boot [options] bind|unbind DEVICE...\n"
	      "       vfio-boot [options] undo\n"
	      "\n"
	      "The kernel command line and the initramfs, through the distribution's own\n"
	      "tools (update-grub, kernel-install, grubby, kernelstub; update-initramfs,\n"
	      "dracut, mkinitcpio), each change remembered and undone exactly.\n"
	      "\n"
	      "Commands:\n"
	      "  status                 this boot's and the next boot's parameters and devices\n"
	      "  iommu                  on: the IOMMU's parameters for the next boot; off: take\n"
	      "                         away those vfio-boot added\n"
	      "  bind                   give DEVICE to vfio-pci from the next boot on, before\n"
	      "                         any other driver: by its IDs, or by its address when\n"
	      "                         another device shares them\n"
	      "  unbind                 leave DEVICE to its usual driver from the next boot on\n"
	      "  undo                   give back everything vfio-boot changed\n"
	      "\n"
	      "Options:\n"
	      "  -n, --dry-run          print the changes and the commands, change nothing\n"
	      "      --json             report as JSON (vfio-utils(7))\n" VU_USAGE_COMMON "\n"
	      "Exit status: 0 done (or nothing to do), 1 failed or refused, 2 usage error.\n"
	      "See vfio-boot(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

/* boot.lock, for the whole run: two runs never edit the same files at once. Not under dry run. */
static int lock_take(void)
{
	char path[PATH_MAX];
	int fd;

	if (vu_dry_run)
		return -1;
	fd = vu_state_lock_named(LOCK, 10000);
	if (fd >= 0 && vu_path(path, sizeof(path), BOOT_STATE ".new") == 0)
		unlink(path); /* a save killed before its rename left it */
	if (fd == -ETIMEDOUT)
		vu_err("/run/vfio-utils/" LOCK ": another vfio-boot has held it for 10 s");
	else if (fd < 0)
		vu_errc(fd, "/run/vfio-utils/" LOCK ": cannot take the lock");
	return fd;
}

/* The state: records of parameters (kind=param) and devices (kind=device). */
static int state_read(struct vu_records *recs)
{
	char path[PATH_MAX];
	int err;
	FILE *f;

	memset(recs, 0, sizeof(*recs));
	if ((err = vu_path(path, sizeof(path), BOOT_STATE)) < 0)
		return err;
	if (!(f = fopen(path, "re")))
		return errno == ENOENT ? 0
				       : (vu_errc(errno, "%s: cannot read", BOOT_STATE), -errno);
	err = vu_state_parse(f, BOOT_STATE, recs);
	fclose(f);
	if (recs->damaged) {
		vu_err("%s: damaged: nothing changed (move it aside to start afresh)", BOOT_STATE);
		return -EBADMSG;
	}
	return err < 0 ? err : 0;
}

static int state_write(const struct vu_records *recs)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (vu_dry_run)
		return 0;
	if ((err = vu_path(path, sizeof(path), BOOT_STATE)) < 0)
		return err;
	if (!recs->n)
		return file_remove(path);
	if (!(f = open_memstream(&text, &len)))
		return -ENOMEM;
	vu_state_format(f, "boot", recs);
	fclose(f);
	err = file_write(path, text, 0644);
	free(text);
	return err;
}

static bool is_kind(const struct vu_record *r, const char *kind)
{
	const char *k = vu_record_get(r, "kind");

	return k && strcmp(k, kind) == 0;
}

/* The IOMMU is on in the running kernel: it made groups. */
static int running_groups(void)
{
	struct vu_names g = { 0 };
	char path[PATH_MAX];
	int n;

	if (vu_path(path, sizeof(path), "/sys/kernel/iommu_groups") < 0 || vu_listdir(path, &g) < 0)
		return 0;
	n = (int)g.n;
	vu_names_free(&g);
	return n;
}

/* The IOMMU's parameters for this CPU: Intel's is off unless asked; AMD's is on already. */
static size_t iommu_params(struct param_change *p)
{
	char cpu[8192] = "";
	size_t n = 0;

	if (vu_readf(cpu, sizeof(cpu), "/proc/cpuinfo") == -EOVERFLOW)
		cpu[sizeof(cpu) - 1] = '\0';
	if (strstr(cpu, "GenuineIntel"))
		p[n++] = (struct param_change){ "intel_iommu", "on" };
	p[n++] = (struct param_change){ "iommu", "pt" };
	return n;
}

static void param_line(const struct param_change *p, size_t n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s%s%s", i ? " " : "", p[i].name,
					p[i].value && *p[i].value ? "=" : "",
					p[i].value ? p[i].value : "");
}

static int no_loader(const struct param_change *p, size_t n)
{
	char want[256];

	param_line(p, n, want, sizeof(want));
	vu_err(
	    "no bootloader vfio-boot knows (GRUB, systemd-boot or UKIs through kernel-install, grubby, kernelstub): add %s to the kernel command line by hand",
	    want);
	return VU_EXIT_FAIL;
}

static void param_rec(struct vu_list *l, const char *name, const char *value, const char *was,
		      const char *result)
{
	struct vu_rec *r = vu_list_obj(l);

	vu_rec_str(r, "name", name);
	vu_rec_str(r, "value", value);
	vu_rec_str(r, "was", was);
	vu_rec_str(r, "result", result);
}

static int iommu_on(struct vu_rec *doc)
{
	struct param_change want[2], change[2];
	bool added[2] = { false, false };
	struct vu_list *out = vu_rec_list(doc, "params");
	struct vu_records recs;
	char words[BOOT_CMDLINE_MAX], cur[256], line[256];
	struct loader l;
	size_t nw = iommu_params(want), nc = 0;
	int groups = running_groups(), st, lock, err;

	param_line(want, nw, line, sizeof(line));
	vu_rec_str(doc, "bootloader", NULL);
	if (groups > 0) {
		vu_report("the running kernel has its IOMMU on (%d groups): nothing changed",
			  groups);
		return VU_EXIT_OK;
	}
	if (!loader_detect(&l))
		return no_loader(want, nw);
	vu_rec_str(doc, "bootloader", l.name);
	if ((lock = lock_take()) < 0 && !vu_dry_run)
		return VU_EXIT_FAIL;
	if (state_read(&recs) < 0 ||
	    ((err = loader_configured(&l, words, sizeof(words))) < 0 && err != -ENOENT)) {
		st = VU_EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < nw; i++) {
		const char *was = vu_cmdline_get(words, want[i].name, cur, sizeof(cur));

		if (was && strcmp(was, want[i].value) == 0) {
			param_rec(out, want[i].name, want[i].value, was, "unchanged");
			continue;
		}
		added[nc] = !vu_records_find(&recs, want[i].name);
		change[nc++] = want[i];
		if (added[nc - 1])
			vu_records_set(&recs, want[i].name, "kind", "param", "value", want[i].value,
				       "had", was ? "yes" : "no", "was", was && *was ? was : "-",
				       "loader", l.name, (char *)NULL);
		param_rec(out, want[i].name, want[i].value, was, vu_dry_run ? "planned" : "added");
	}
	if (!nc) {
		vu_report("%s: already in the next boot's command line (%s): reboot to apply", line,
			  l.config ? l.config : l.name);
		st = VU_EXIT_OK;
		goto out;
	}
	/* Remembered first: a run killed after the edit leaves a record its undo can trust. */
	if (state_write(&recs) < 0) {
		st = VU_EXIT_FAIL;
		goto out;
	}
	st = loader_apply(&l, change, nc);
	if (st == BOOT_UNSEEN) {
		st = VU_EXIT_FAIL; /* made and remembered: undo takes it back */
	} else if (st != VU_EXIT_OK) {
		for (size_t i = 0; i < nc; i++)
			if (added[i]) /* a record of an earlier run stays */
				vu_records_del(&recs, change[i].name);
		state_write(&recs);
	} else if (!vu_dry_run) {
		vu_report("%s: in the next boot's command line: reboot to apply", line);
	}
out:
	vu_records_free(&recs);
	if (lock >= 0)
		vu_state_unlock(lock);
	return st;
}

/* The parameters vfio-boot added, as the changes that take them away. */
static size_t param_undo(const struct vu_records *recs, struct param_change *c, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < recs->n && n < max; i++) {
		const struct vu_record *r = &recs->v[i];
		const char *had = vu_record_get(r, "had"), *was = vu_record_get(r, "was");

		if (!is_kind(r, "param"))
			continue;
		c[n].name = r->key;
		c[n].value =
		    had && strcmp(had, "yes") == 0 ? (strcmp(was, "-") != 0 ? was : "") : NULL;
		n++;
	}
	return n;
}

static int iommu_off(struct vu_rec *doc, struct vu_records *recs)
{
	struct vu_list *out = vu_rec_list(doc, "params");
	struct param_change c[16];
	struct loader l;
	size_t n = param_undo(recs, c, VU_ARRAY_SIZE(c));
	int st;

	if (!n) {
		vu_report("vfio-boot added no kernel parameters: nothing to take away");
		return VU_EXIT_OK;
	}
	if (!loader_detect(&l))
		return no_loader(c, n);
	vu_rec_str(doc, "bootloader", l.name);
	if ((st = loader_apply(&l, c, n)) != VU_EXIT_OK && st != BOOT_UNSEEN)
		return st;
	for (size_t i = 0; i < n; i++) {
		const struct vu_record *r = vu_records_find(recs, c[i].name);

		param_rec(out, c[i].name, vu_record_get(r, "value"), c[i].value,
			  vu_dry_run ? "planned" : "removed");
	}
	if (!vu_dry_run) {
		char keys[VU_ARRAY_SIZE(c)][VU_STATE_TEXT];

		for (size_t i = 0; i < n; i++)
			snprintf(keys[i], sizeof(keys[i]), "%s", c[i].name);
		for (size_t i = 0; i < n; i++)
			vu_records_del(recs, keys[i]);
		if (state_write(recs) < 0)
			return VU_EXIT_FAIL;
		if (st == VU_EXIT_OK)
			vu_report(
			    "the kernel parameters vfio-boot added are gone from the next boot's command line: reboot to apply");
	}
	return st == VU_EXIT_OK ? VU_EXIT_OK : VU_EXIT_FAIL;
}

/* The devices remembered, as early's view of them (pointing into RECS). */
static size_t early_list(const struct vu_records *recs, struct early *e, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < recs->n && n < max; i++) {
		const struct vu_record *r = &recs->v[i];
		const char *by = vu_record_get(r, "by"), *mod = vu_record_get(r, "module");

		if (!is_kind(r, "device"))
			continue;
		e[n++] = (struct early){ r->key, vu_record_get(r, "ids"),
					 by && strcmp(by, "address") == 0,
					 mod && strcmp(mod, "-") != 0 ? mod : NULL };
	}
	return n;
}

/* Write the files for the devices in RECS and run the generator: the one way both sides change
 * them. */
static int early_sync(const struct vu_records *recs)
{
	struct early e[64];
	struct initramfs g;
	bool have = initramfs_detect(&g);
	size_t n = early_list(recs, e, VU_ARRAY_SIZE(e));

	if (!have && n)
		vu_warn(
		    "no initramfs generator vfio-boot knows (initramfs-tools, dracut, mkinitcpio): only %s is written",
		    EARLY_MODPROBE);
	return early_apply(have ? &g : NULL, e, n);
}

/* The module of D's usual driver: the one bound now, else the one its modalias names. */
static void usual_module(struct vu_kmod *k, const struct vu_dev *d, char *buf, size_t size)
{
	char alias[256];

	buf[0] = '\0';
	if (*d->driver && strcmp(d->driver, "vfio-pci") != 0) {
		if (vu_driver_module(d->driver, buf, size) == 0 && !*buf)
			vu_warn(
			    "%s: its driver %s is built into the kernel: vfio-pci can take it at boot only if it is built in as well",
			    d->name, d->driver);
		return;
	}
	if (k && vu_readf(alias, sizeof(alias), "/sys/bus/pci/devices/%s/modalias", d->name) > 0) {
		alias[strcspn(alias, "\n")] = '\0';
		if (vu_mod_for_alias(k, alias, "vfio_pci", buf, size) < 0)
			buf[0] = '\0';
	}
}

/*
 * libkmod on the running kernel's modules. In a chroot (a system being
 * installed, the tests' Debian) the running kernel is the host's, with no
 * modules here: the newest tree installed, which the initramfs is made for.
 */
static struct vu_kmod *modules_open(void)
{
	struct vu_names trees = { 0 };
	struct vu_kmod *k = NULL;
	char release[256] = "", path[PATH_MAX];

	if (vu_readf(release, sizeof(release), "/proc/sys/kernel/osrelease") > 0)
		release[strcspn(release, "\n")] = '\0';
	if (!*release || !vu_existsf("/lib/modules/%s/modules.alias", release)) {
		release[0] = '\0';
		if (vu_path(path, sizeof(path), "/lib/modules") == 0 &&
		    vu_listdir(path, &trees) == 0)
			for (size_t i = trees.n; !*release && i-- > 0;)
				if (vu_existsf("/lib/modules/%s/modules.alias", trees.v[i]))
					snprintf(release, sizeof(release), "%s", trees.v[i]);
		vu_names_free(&trees);
		if (*release)
			vu_verbose("no modules of the running kernel: those of %s", release);
	}
	if (!*release || vu_kmod_open_release(release, &k) < 0)
		return NULL;
	return k;
}

static bool targeted(struct vu_dev **t, size_t n, const struct vu_dev *d)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] == d)
			return true;
	return false;
}

/* What keeps a device from vfio-pci at boot: the host needs it. Said; nothing changed yet. */
static int refusals(const struct vu_devs *devs, struct vu_dev **t, size_t n)
{
	struct vu_inuse_list inuse;
	int refused = 0;

	vu_inuse_scan(&inuse);
	for (size_t i = 0; i < n; i++) {
		const struct vu_dev *d = t[i];
		size_t others = 0;

		if (vu_dev_is_bridge(d)) {
			vu_err("%s: is a PCI bridge: vfio-pci never takes bridges", d->name);
			refused = 1;
		}
		for (size_t k = 0; k < devs->n; k++) {
			const struct vu_dev *o = &devs->v[k];
			const char *w = vu_inuse_why(&inuse, o->name);

			if (w && (o == d || (d->group >= 0 && o->group == d->group))) {
				vu_err("%s: %s%s, which %s: the host needs it", d->name,
				       o == d ? "it" : "its IOMMU group holds ",
				       o == d ? "" : o->name, w);
				refused = 1;
			}
			others += vu_dev_is_display(o) && !targeted(t, n, o);
		}
		if (vu_dev_is_display(d) && vu_dev_boot_vga(d)) {
			vu_err(
			    "%s: is the GPU the firmware shows the boot on: from boot on the host would have no screen (a single GPU goes to its VM through the hooks, hook-run new)",
			    d->name);
			refused = 1;
		} else if (vu_dev_is_display(d) && !others) {
			vu_err(
			    "%s: with it vfio-pci would take every display controller: from boot on the host would have no screen",
			    d->name);
			refused = 1;
		}
	}
	vu_inuse_free(&inuse);
	if (refused)
		vu_err("nothing changed");
	return refused ? VU_EXIT_FAIL : VU_EXIT_OK;
}

/* R as a device of the report, with the driver it has now; the report's record. */
static struct vu_rec *dev_rec(struct vu_list *l, const struct vu_record *r, const char *result)
{
	struct vu_rec *o = vu_list_obj(l);
	const char *mod = vu_record_get(r, "module");
	char driver[VU_DRIVER_MAX], path[PATH_MAX];

	vu_rec_str(o, "address", r->key);
	vu_rec_str(o, "ids", vu_record_get(r, "ids"));
	vu_rec_str(o, "by", vu_record_get(r, "by"));
	vu_rec_str(o, "module", mod && strcmp(mod, "-") != 0 ? mod : NULL);
	if (vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", r->key) == 0 &&
	    vu_link_name(path, driver, sizeof(driver)) > 0)
		vu_rec_str(o, "driver", driver);
	else
		vu_rec_str(o, "driver", NULL);
	if (result)
		vu_rec_str(o, "result", result);
	return o;
}

/* Group members the VM needs as well, left on the host: said, not refused (the user may bind them
 * later). */
static void warn_group(const struct vu_devs *devs, const struct vu_records *recs,
		       const struct vu_dev *d)
{
	for (size_t k = 0; d->group >= 0 && k < devs->n; k++) {
		const struct vu_dev *o = &devs->v[k];

		if (o != d && o->group == d->group && !vu_dev_is_bridge(o) &&
		    !vu_records_find(recs, o->name))
			vu_warn(
			    "%s: its IOMMU group %d also holds %s: a VM needs the whole group ('vfio-boot bind %s')",
			    d->name, d->group, o->name, o->name);
	}
}

static int bind(struct vu_rec *doc, char **args, int nargs)
{
	struct vu_list *out = vu_rec_list(doc, "devices");
	struct vu_devs devs = { 0 };
	struct vu_records recs = { 0 }, before = { 0 };
	struct vu_dev **t = NULL;
	struct vu_kmod *k = NULL;
	size_t n = 0;
	int st = VU_EXIT_FAIL, lock = -1, err;

	if (vu_devs_scan(&devs) < 0)
		return VU_EXIT_FAIL;
	if ((err = vu_devs_resolve(&devs, args, nargs, false, &t, &n)) < 0) {
		st = vu_exit_status(err);
		goto out;
	}
	if (refusals(&devs, t, n) != VU_EXIT_OK)
		goto out;
	if ((lock = lock_take()) < 0 && !vu_dry_run)
		goto out;
	if (state_read(&recs) < 0 || vu_records_copy(&before, &recs) < 0)
		goto out;
	k = modules_open();
	for (size_t i = 0; i < n; i++) {
		const struct vu_dev *d = t[i];
		char ids[16], module[128];
		bool shared = false;

		snprintf(ids, sizeof(ids), "%04x:%04x", d->vendor, d->device);
		for (size_t j = 0; j < devs.n; j++)
			shared |= devs.v[j].vendor == d->vendor && devs.v[j].device == d->device &&
				  !targeted(t, n, &devs.v[j]);
		usual_module(k, d, module, sizeof(module));
		vu_records_set(&recs, d->name, "kind", "device", "ids", ids, "by",
			       shared ? "address" : "ids", "module", module, (char *)NULL);
	}
	if (state_write(&recs) < 0)
		goto out;
	st = early_sync(&recs);
	if (st != VU_EXIT_OK) {
		state_write(&before);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vu_record *r = vu_records_find(&recs, t[i]->name);
		const struct vu_record *was = vu_records_find(&before, t[i]->name);

		dev_rec(out, r, vu_dry_run ? "planned" : was ? "unchanged" : "bound");
		warn_group(&devs, &recs, t[i]);
		if (!vu_dry_run)
			vu_report(
			    "%s [%s]: to vfio-pci from the next boot on, by %s: reboot to apply",
			    r->key, vu_record_get(r, "ids"),
			    strcmp(vu_record_get(r, "by"), "address") == 0
				? "address (another device has its IDs)"
				: "its IDs");
	}
out:
	vu_kmod_close(k);
	vu_records_free(&recs);
	vu_records_free(&before);
	if (lock >= 0)
		vu_state_unlock(lock);
	free(t);
	vu_devs_free(&devs);
	return st;
}

/* DEVICE as the key remembered: an address in any spelling, the machine's device or not. */
static const struct vu_record *remembered(const struct vu_records *recs, const char *arg)
{
	struct vu_devarg a;
	char name[VU_NAME_MAX];

	if (vu_devarg_parse(arg, &a) < 0 || a.kind != VU_DEVARG_ADDR) {
		vu_usage_error("%s: not a PCI address (expected 0000:01:00.0 or 01:00.0)", arg);
	}
	vu_addr_name(&a.addr, name);
	return vu_records_find(recs, name);
}

/* Devices in ARGS (all remembered when NARGS is 0) taken back from vfio-pci at boot. */
static int unbind(struct vu_rec *doc, struct vu_records *recs, char **args, int nargs)
{
	struct vu_list *out = vu_rec_list(doc, "devices");
	struct vu_records before = { 0 };
	char keys[64][VU_STATE_TEXT];
	size_t n = 0;
	int st;

	for (int i = 0; i < nargs; i++) {
		const struct vu_record *r = remembered(recs, args[i]);

		if (!r || !is_kind(r, "device")) {
			vu_err("%s: vfio-boot did not give it to vfio-pci at boot", args[i]);
			return VU_EXIT_FAIL;
		}
	}
	for (size_t i = 0; i < recs->n && n < VU_ARRAY_SIZE(keys); i++) {
		const struct vu_record *r = &recs->v[i];
		bool asked = !nargs;

		for (int a = 0; a < nargs; a++)
			asked |= remembered(recs, args[a]) == r;
		if (is_kind(r, "device") && asked) {
			dev_rec(out, r, vu_dry_run ? "planned" : "unbound");
			snprintf(keys[n++], sizeof(keys[0]), "%s", r->key);
		}
	}
	if (!n) {
		vu_report("vfio-boot gave no device to vfio-pci at boot: nothing to take back");
		return VU_EXIT_OK;
	}
	if (vu_records_copy(&before, recs) < 0)
		return VU_EXIT_FAIL;
	for (size_t i = 0; i < n; i++)
		vu_records_del(recs, keys[i]);
	st = early_sync(recs);
	if (st == VU_EXIT_OK && state_write(recs) < 0)
		st = VU_EXIT_FAIL;
	if (st != VU_EXIT_OK)
		vu_records_copy(recs, &before);
	else if (!vu_dry_run)
		vu_report(
		    "%zu device%s back to %s usual driver from the next boot on: reboot to apply",
		    n, n == 1 ? "" : "s", n == 1 ? "its" : "their");
	vu_records_free(&before);
	return st;
}

/* The change sub-commands that start from the state alone. */
static int from_state(struct vu_rec *doc, const char *what, char **args, int nargs)
{
	struct vu_records recs;
	int lock, st = VU_EXIT_FAIL;

	if ((lock = lock_take()) < 0 && !vu_dry_run)
		return VU_EXIT_FAIL;
	if (state_read(&recs) < 0)
		goto out;
	if (strcmp(what, "iommu") == 0) {
		st = iommu_off(doc, &recs);
	} else if (strcmp(what, "unbind") == 0) {
		st = unbind(doc, &recs, args, nargs);
	} else {
		st = unbind(doc, &recs, NULL, 0);
		if (st == VU_EXIT_OK)
			st = iommu_off(doc, &recs);
	}
out:
	vu_records_free(&recs);
	if (lock >= 0)
		vu_state_unlock(lock);
	return st;
}

/* status */

/* The parameters status compares between this boot and the next. */
static const char *const watched[] = { "intel_iommu",	    "amd_iommu",    "iommu",
				       "pcie_acs_override", "vfio-pci.ids", "vfio_pci.ids" };

static int status(struct vu_rec *doc)
{
	char running[BOOT_CMDLINE_MAX] = "", next[BOOT_CMDLINE_MAX] = "", conf[BOOT_CMDLINE_MAX];
	struct vu_list *params = vu_rec_list(doc, "params"), *devices;
	struct vu_records recs;
	struct initramfs g;
	struct loader l;
	bool have_l = loader_detect(&l), have_g = initramfs_detect(&g), reboot = false;
	bool have_next = false;
	int groups = running_groups();

	vu_readf(running, sizeof(running), "/proc/cmdline");
	running[strcspn(running, "\n")] = '\0';
	vu_rec_str(doc, "running", running);
	vu_rec_bool(doc, "iommu", groups > 0);
	vu_rec_int(doc, "group_count", groups);
	vu_rec_str(doc, "bootloader", have_l ? l.name : NULL);
	vu_rec_str(doc, "config", have_l ? l.config : NULL);
	if (have_l && loader_next_boot(&l, next, sizeof(next)) == 0)
		have_next = true;
	vu_rec_str(doc, "next_boot", have_next ? next : NULL);
	/* The configuration says more than the generated entries: the tool has not run since. */
	if (have_l && l.config && loader_configured(&l, conf, sizeof(conf)) == 0 && have_next)
		for (const char *p = conf; *p;) {
			size_t w = strcspn(p, " \t");
			char word[256], param[256], v[256];
			const char *got;

			snprintf(word, sizeof(word), "%.*s", (int)w, p);
			snprintf(param, sizeof(param), "%.*s", (int)strcspn(word, "="), word);
			got = vu_cmdline_get(next, param, v, sizeof(v));
			if (*word && (!got || strcmp(got, strchr(word, '=') ? strchr(word, '=') + 1
									    : "") != 0))
				vu_warn("%s: %s is not in %s yet: run %s", l.config, word,
					*l.output ? l.output : "the boot entries", l.tool);
			p += w;
			p += strspn(p, " \t");
		}
	for (size_t i = 0; i < VU_ARRAY_SIZE(watched); i++) {
		char a[256], b[256];
		const char *now = vu_cmdline_get(running, watched[i], a, sizeof(a));
		const char *then = have_next ? vu_cmdline_get(next, watched[i], b, sizeof(b)) : now;
		struct vu_rec *r;

		if (!now && !then)
			continue;
		r = vu_list_obj(params);
		vu_rec_str(r, "name", watched[i]);
		vu_rec_str(r, "running", now);
		vu_rec_str(r, "next_boot", then);
		reboot |=
		    (now == NULL) != (then == NULL) || (now && then && strcmp(now, then) != 0);
	}
	vu_rec_str(doc, "initramfs", have_g ? g.name : NULL);
	devices = vu_rec_list(doc, "devices");
	if (state_read(&recs) < 0)
		return VU_EXIT_FAIL;
	for (size_t i = 0; i < recs.n; i++)
		if (is_kind(&recs.v[i], "device")) {
			const char *driver = vu_rec_s(dev_rec(devices, &recs.v[i], NULL), "driver");

			reboot |= !driver || strcmp(driver, "vfio-pci") != 0;
		}
	vu_rec_bool(doc, "early_files", early_present(have_g ? &g : NULL));
	vu_rec_bool(doc, "reboot", reboot);
	vu_records_free(&recs);
	return VU_EXIT_OK;
}

static void status_text(const struct vu_rec *doc)
{
	const struct vu_list *params = vu_rec_l(doc, "params"), *devs = vu_rec_l(doc, "devices");

	printf("This boot:         %s\n", vu_rec_s(doc, "running"));
	if (vu_rec_b(doc, "iommu"))
		printf("IOMMU:             on, %lld groups\n", vu_rec_i(doc, "group_count"));
	else
		printf("IOMMU:             off (no IOMMU groups)\n");
	if (vu_rec_has(doc, "bootloader"))
		printf("Bootloader:        %s%s%s%s\n", vu_rec_s(doc, "bootloader"),
		       vu_rec_has(doc, "config") ? " (" : "",
		       vu_rec_has(doc, "config") ? vu_rec_s(doc, "config") : "",
		       vu_rec_has(doc, "config") ? ")" : "");
	else
		printf("Bootloader:        none that vfio-boot knows\n");
	printf("Next boot:         %s\n",
	       vu_rec_has(doc, "next_boot") ? vu_rec_s(doc, "next_boot") : "unknown");
	for (size_t i = 0; i < vu_list_len(params); i++) {
		const struct vu_rec *r = vu_list_rec(params, i);
		const char *now = vu_rec_s(r, "running"), *then = vu_rec_s(r, "next_boot");
		char label[64];

		snprintf(label, sizeof(label), "  %s:", vu_rec_s(r, "name"));
		printf("%-19sthis boot %s, next boot %s\n", label,
		       now ? (*now ? now : "(set)") : "(none)",
		       then ? (*then ? then : "(set)") : "(none)");
	}
	printf("Initramfs:         %s\n", vu_rec_has(doc, "initramfs")
					      ? vu_rec_s(doc, "initramfs")
					      : "none that vfio-boot knows");
	for (size_t i = 0; i < vu_list_len(devs); i++) {
		const struct vu_rec *d = vu_list_rec(devs, i);

		printf("%-19s%s [%s] by %s, now on %s\n",
		       i ? "" : "vfio-pci at boot:", vu_rec_s(d, "address"), vu_rec_s(d, "ids"),
		       vu_rec_s(d, "by"),
		       vu_rec_has(d, "driver") ? vu_rec_s(d, "driver") : "no driver");
	}
	if (vu_rec_b(doc, "reboot"))
		printf("Reboot to apply.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	static const struct vu_subcmd cmds[] = {
		{ "status", 0, 0 },  { "iommu", 1, 1 }, { "bind", 1, 64 },
		{ "unbind", 1, 64 }, { "undo", 0, 0 },	{ NULL, 0, 0 },
	};
	const struct vu_subcmd *cmd;
	struct vu_rec *doc;
	int opt, st;

	while ((opt = getopt_long(argc, argv, "nvqhV", longopts, NULL)) != -1) {
		if (vu_common_opt(opt, optarg))
			continue;
		if (opt == 'h')
			usage();
		vu_errtryhelp();
	}
	cmd = optind < argc ? vu_subcommand_args(argc, argv, cmds, NULL) : &cmds[0];
	if (strcmp(cmd->name, "iommu") == 0 && strcmp(argv[optind], "on") != 0 &&
	    strcmp(argv[optind], "off") != 0)
		vu_usage_error("iommu: %s: expected on or off", argv[optind]);
	vu_common_done();

	doc = vu_out_new("vfio-boot", vu_opt_json);
	if (strcmp(cmd->name, "status") == 0)
		return vu_out_finish(doc, status_text, status(doc));
	if (getuid() != 0 && !vu_dry_run && !*vu_sysroot())
		vu_warn("not root: the bootloader's and the initramfs' files are root's");
	if (strcmp(cmd->name, "iommu") == 0 && strcmp(argv[optind], "on") == 0)
		st = iommu_on(doc);
	else if (strcmp(cmd->name, "bind") == 0)
		st = bind(doc, argv + optind, argc - optind);
	else
		st = from_state(doc, cmd->name, argv + optind, argc - optind);
	return vu_out_finish(doc, NULL, st);
}
