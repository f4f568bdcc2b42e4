/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-bind: hand devices, or their whole IOMMU groups, to vfio-pci, all or nothing. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include "act.h"
#include "device.h"
#include "domxml.h"
#include "fbres.h"
#include "holders.h"
#include "inuse.h"
#include "kmod.h"
#include "msg.h"
#include "opts.h"
#include "sysfs.h"
#include "vfio.h"

enum {
	OPT_DOMAIN_XML = VU_OPT_CMD,
	OPT_UNLOAD,
	OPT_TIMEOUT,
};

struct opts {
	bool group, all, unload, force;
	int timeout_ms;
	const char *xml;
};

struct result {
	struct vu_dev *dev;
	char from[VU_DRIVER_MAX];
	/* "bound", "already bound", "failed", "rolled back"; NULL: not reached */
	const char *outcome;
};

static noreturn void usage(void)
{
	fputs(
	    "Usage: vfio-bind [options] DEVICE...\n"
	    "       vfio-bind [options] --domain-xml FILE|-\n"
	    "\n"
	    "Hand PCI devices to vfio-pci for a virtual machine, the way libvirt does:\n"
	    "driver_override, unbind, drivers_probe, then check. All or nothing: when one\n"
	    "device fails, those already done go back to their drivers.\n"
	    "\n"
	    "DEVICE is 0000:01:00.0, 01:00.0, pci_0000_01_00_0 or vendor:device (10de:1f03).\n"
	    "\n"
	    "Options:\n"
	    "  -g, --group            every device of each one's IOMMU group too (bridges aside)\n"
	    "      --domain-xml FILE  the PCI host devices of a libvirt domain ('-': stdin)\n"
	    "  -a, --all              let a vendor:device match several devices\n"
	    "      --unload           then remove the modules of the drivers they had\n"
	    "      --timeout SECONDS  give up on an unbind or probe after this long (20)\n"
	    "  -f, --force            do it even though the host uses the group or a node\n"
	    "  -n, --dry-run          print the commands that would do it, change nothing\n"
	    "      --json             report as JSON (vfio-utils(7))\n" VU_USAGE_COMMON "\n"
	    "Exit status: 0 done (or already so), 1 failed or refused (nothing changed),\n"
	    "2 usage error.\n"
	    "See vfio-bind(8).\n",
	    stdout);
	vu_exit(VU_EXIT_OK);
}

/* --group: each device's group members, bridges left out, in address order. */
static int expand_groups(const struct vu_devs *devs, struct vu_dev ***targets, size_t *n)
{
	struct vu_dev **out = NULL;
	size_t nout = 0;
	int status = VU_EXIT_OK;

	for (size_t i = 0; i < devs->n; i++) {
		struct vu_dev *d = &devs->v[i];
		bool in = false;

		for (size_t k = 0; k < *n && !in; k++)
			in = (*targets)[k] == d ||
			     (d->group >= 0 && (*targets)[k]->group == d->group &&
			      !vu_dev_is_bridge(d));
		if (in && vu_devs_add_unique(&out, &nout, d) < 0) {
			free(out);
			return VU_EXIT_FAIL;
		}
	}
	for (size_t k = 0; k < *n; k++)
		if ((*targets)[k]->group < 0) {
			vu_dev_err_no_group((*targets)[k]);
			status = VU_EXIT_FAIL;
		}
	free(*targets);
	*targets = out;
	*n = nout;
	return status;
}

/*
 * Without --group: the group's other endpoints left on a host driver. QEMU
 * opens a group only when each of them is on vfio-pci (or on none).
 */
static void warn_group_left(const struct vu_devs *devs, struct vu_dev **targets, size_t n)
{
	for (size_t i = 0; i < devs->n; i++) {
		const struct vu_dev *d = &devs->v[i];
		const struct vu_dev *by = NULL;

		if (d->group < 0 || vu_dev_is_bridge(d) || !d->driver[0] ||
		    strcmp(d->driver, "vfio-pci") == 0)
			continue;
		for (size_t k = 0; k < n && by != d; k++)
			if (targets[k] == d)
				by = d;
			else if (!by && targets[k]->group == d->group)
				by = targets[k];
		if (by && by != d)
			vu_warn(
			    "%s: %s of its IOMMU group %d stays on %s: QEMU refuses the group until it is on vfio-pci too (--group takes it)",
			    by->name, d->name, d->group, d->driver);
	}
}

/* Modules to remove for --unload, holders first; those still driving other devices stay. */
static void unload_plan(const struct vu_devs *devs, struct vu_dev **targets, size_t n,
			struct vu_names *plan);

static void holders_first(const char *mod, struct vu_names *plan, int depth)
{
	struct vu_names h;

	if (depth > 16 || vu_mod_holders(mod, &h) < 0)
		return;
	for (size_t i = 0; i < h.n; i++)
		holders_first(h.v[i], plan, depth + 1);
	vu_names_free(&h);
	vu_names_add_unique(plan, mod);
}

static bool is_target(struct vu_dev **targets, size_t n, const struct vu_dev *d)
{
	for (size_t i = 0; i < n; i++)
		if (targets[i] == d)
			return true;
	return false;
}

static void unload_plan(const struct vu_devs *devs, struct vu_dev **targets, size_t n,
			struct vu_names *plan)
{
	plan->v = NULL;
	plan->n = 0;
	for (size_t i = 0; i < n; i++) {
		char mod[VU_STATE_TEXT], other[VU_STATE_TEXT];
		const struct vu_dev *user = NULL;

		if (!targets[i]->driver[0] || strcmp(targets[i]->driver, "vfio-pci") == 0 ||
		    vu_driver_module(targets[i]->driver, mod, sizeof(mod)) < 0 || !mod[0])
			continue;
		/* A module that still drives a device of the host stays. */
		for (size_t k = 0; k < devs->n && !user; k++)
			if (devs->v[k].driver[0] && !is_target(targets, n, &devs->v[k]) &&
			    vu_driver_module(devs->v[k].driver, other, sizeof(other)) == 0 &&
			    strcmp(other, mod) == 0)
				user = &devs->v[k];
		if (user)
			vu_report("%s: still drives %s: left loaded", mod, user->name);
		else
			holders_first(mod, plan, 0);
	}
}

/* A module held by something other than modules: an open node, a process. */
static bool module_busy(const char *mod, char *why, size_t size)
{
	char path[PATH_MAX];
	unsigned long refcnt;
	struct vu_names h;
	size_t nholders = 0;

	if (vu_path(path, sizeof(path), "/sys/module/%s/refcnt", mod) < 0 ||
	    vu_read_ulong(path, &refcnt) < 0)
		return false;
	if (vu_mod_holders(mod, &h) == 0) {
		nholders = h.n;
		vu_names_free(&h);
	}
	if (refcnt <= nholders)
		return false;
	snprintf(why, size, "module %s is in use (%lu users besides modules)", mod,
		 refcnt - (unsigned long)nholders);
	return true;
}

/*
 * A firmware framebuffer's range in a target's BAR: vfio-pci binds all the
 * same, and QEMU fails later, when it maps the BAR, after the screen went
 * dark. Unless binding releases it (a VGA device, Linux 6.0 and later), say
 * so now, with what releases it. 1 when one is held.
 */
static int framebuffer_held(struct vu_dev **targets, size_t n)
{
	struct vu_fbres *res;
	size_t nres;
	int held = 0;

	if (vu_fbres_scan(&res, &nres) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nres; k++) {
			const struct vu_fbres *r = &res[k];
			char bar[16] = "a BAR";

			if (strcmp(r->dev, targets[i]->name) != 0 ||
			    vu_fbres_evicted(targets[i]->class))
				continue;
			if (r->bar >= 0)
				snprintf(bar, sizeof(bar), "BAR %d", r->bar);
			vu_err(
			    "%s: %s reserves [mem %#llx-%#llx] in its %s: vfio-pci would take it, but QEMU would fail to map that BAR ('%s: can't reserve'): %s",
			    targets[i]->name, r->name, r->start, r->end, bar, bar,
			    strcmp(r->name, "BOOTFB") == 0
				? "on a kernel before 6.0 only a reboot with initcall_blacklist=sysfb_init releases it"
				: "run 'efifb unbind' first");
			held = 1;
		}
	free(res);
	return held;
}

/* Everything that keeps the plan from being safe; nothing has changed yet. */
static int refusals(const struct vu_devs *devs, struct vu_dev **targets, size_t n,
		    const struct vu_names *unload, bool force)
{
	struct vu_inuse_list inuse;
	struct vu_holders held = { 0 };
	int refused = 0;
	char why[768];

	vu_inuse_scan(&inuse);
	vu_vfio_holders(targets, n, &held);
	for (size_t i = 0; i < n; i++) {
		const struct vu_dev *d = targets[i];

		if (d->group < 0) {
			vu_dev_err_no_group(d);
			refused |= 2;
			continue;
		}
		if (vu_dev_is_bridge(d)) {
			vu_err("%s: is a PCI bridge: vfio-pci never takes bridges", d->name);
			refused |= 1;
		}
		for (size_t k = 0; k < devs->n; k++) {
			const char *w = vu_inuse_why(&inuse, devs->v[k].name);

			if (devs->v[k].group == d->group && w) {
				vu_err(
				    "%s: its IOMMU group %d holds %s, which %s: the host needs it",
				    d->name, d->group, devs->v[k].name, w);
				refused |= 1;
			}
		}
		if (strcmp(d->driver, "vfio-pci") != 0 &&
		    vu_vfio_held(&held, d, why, sizeof(why))) {
			/*
			 * The kernel's DRM drivers unplug the device and let the files
			 * go dead (drm_dev_unplug): no wait, but the GPU is gone from
			 * under its holder (Xorg drops a second GPU, seen on 6.1 and
			 * 6.12). nvidia's remove and the sound drivers' wait instead.
			 */
			if (strncmp(why, "/dev/dri/", 9) == 0 && strcmp(d->driver, "nvidia") != 0)
				vu_err(
				    "%s: %s: an unbind would take the GPU from under them (stop them first, e.g. 'dm-ctl stop', or keep X off this GPU)",
				    d->name, why);
			else
				vu_err(
				    "%s: %s: an unbind would block in the kernel until they let go (stop them first, e.g. 'dm-ctl stop')",
				    d->name, why);
			refused |= 1;
		}
	}
	refused |= framebuffer_held(targets, n);
	for (size_t i = 0; i < unload->n; i++)
		if (module_busy(unload->v[i], why, sizeof(why))) {
			vu_err("%s: cannot be unloaded: %s", unload->v[i], why);
			refused |= 1;
		}
	vu_inuse_free(&inuse);
	vu_holders_free(&held);
	if (refused && (refused & 2 || !force)) {
		vu_err("nothing changed%s", refused & 2 ? "" : " (--force does it anyway)");
		return VU_EXIT_FAIL;
	}
	return VU_EXIT_OK;
}

/* Load again, newest first, the modules of PLAN this run removed (those marked in GONE). */
static void reload_removed(struct vu_vfio *v, const struct vu_names *plan, const bool *gone)
{
	for (size_t i = plan->n; i-- > 0;) {
		int err;

		if (!gone[i])
			continue;
		vu_act_command("%s %s", vu_act_modprobe(), plan->v[i]);
		if (vu_dry_run)
			continue;
		if ((err = vu_mod_load_timeout(v->kmod, plan->v[i], NULL, v->timeout_ms, NULL, NULL)) < 0 &&
		    err != -EEXIST)
			vu_errc(err, "%s: cannot load it again (vfio-unbind --restore tries again)",
				plan->v[i]);
		else
			vu_records_del(&v->modules, plan->v[i]);
	}
}

/*
 * --unload: remove PLAN's modules, holders first. All or nothing, as the
 * binding is: one that will not go brings back those already removed.
 */
static int unload_modules(struct vu_vfio *v, const struct vu_names *plan, const char *dev)
{
	char done[1024] = "";
	bool gone[plan->n + 1];
	size_t len = 0;

	/* Remembered before removal: vfio-unbind reloads them, whatever happens next. */
	for (size_t i = 0; i < plan->n; i++)
		if (!vu_records_set(&v->modules, plan->v[i], "dev", dev, (char *)NULL))
			return VU_EXIT_FAIL;
	if (vu_vfio_save(v) < 0)
		return VU_EXIT_FAIL;
	memset(gone, 0, sizeof(gone));
	for (size_t i = 0; i < plan->n; i++) {
		int err;

		vu_act_command("rmmod %s", plan->v[i]);
		if (vu_dry_run)
			continue;
		err = vu_mod_unload(v->kmod, plan->v[i]);
		if (err == -ENOENT)
			continue; /* already gone */
		if (err < 0) {
			vu_errc(err, "%s: cannot unload", plan->v[i]);
			/* This one and those after it are still loaded: nothing to remember. */
			for (size_t k = i; k < plan->n; k++)
				vu_records_del(&v->modules, plan->v[k]);
			reload_removed(v, plan, gone);
			return VU_EXIT_FAIL;
		}
		gone[i] = true;
		len += (size_t)snprintf(done + len, sizeof(done) - len, " %s", plan->v[i]);
	}
	if (len)
		vu_report("unloaded%s", done);
	return VU_EXIT_OK;
}

/* Each device, and the modules unloaded, into the report. */
static void report(struct vu_rec *doc, const struct result *res, size_t n,
		   const struct vu_names *unload, int status)
{
	struct vu_list *l = vu_rec_list(doc, "devices");

	for (size_t i = 0; i < n; i++) {
		struct vu_rec *r = vu_dev_rec(l, res[i].dev);

		vu_rec_str(r, "from", res[i].from[0] ? res[i].from : NULL);
		vu_rec_str(r, "result", vu_dry_run && res[i].outcome ? "planned" : res[i].outcome);
	}
	l = vu_rec_list(doc, "unloaded");
	for (size_t i = 0; status == VU_EXIT_OK && !vu_dry_run && i < unload->n; i++)
		vu_list_str(l, unload->v[i]);
}

/* Devices refused before anything changed. */
static void report_refused(struct vu_rec *doc, struct vu_dev *const *targets, size_t n)
{
	struct vu_list *l = vu_rec_list(doc, "devices");

	for (size_t i = 0; i < n; i++) {
		struct vu_rec *r = vu_dev_rec(l, targets[i]);

		vu_rec_str(r, "from", targets[i]->driver[0] ? targets[i]->driver : NULL);
		vu_rec_str(r, "result", "refused");
	}
	vu_rec_list(doc, "unloaded");
}

/* After the last device: every one this run bound goes back, and the vfio modules it loaded. */
static void roll_back(struct vu_vfio *v, struct result *res, size_t n)
{
	for (size_t k = n; k-- > 0;)
		if (res[k].outcome && strcmp(res[k].outcome, "bound") == 0 &&
		    vu_vfio_restore(v, res[k].dev) == 0)
			res[k].outcome = "rolled back";
	vu_vfio_unload_loaded(v);
	vu_err("nothing changed");
}

static int bind_all(struct vu_vfio *v, struct result *res, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool already = strcmp(res[i].dev->driver, "vfio-pci") == 0;
		int err = vu_vfio_bind(v, res[i].dev);

		if (err == 0) {
			res[i].outcome = already ? "already bound" : "bound";
			continue;
		}
		res[i].outcome = "failed";
		/*
		 * All or nothing: what this run changed goes back, the failed device
		 * too, unless its unbind is still pending in the kernel: that one
		 * stays remembered for vfio-unbind --restore.
		 */
		for (size_t k = i + 1; k-- > 0;) {
			const char *was = k < i ? res[k].outcome : NULL;

			/* the failed one, unless still pending; those before, if bound */
			if (was ? strcmp(was, "bound") != 0 : err == -ETIMEDOUT)
				continue;
			if (vu_vfio_restore(v, res[k].dev) == 0 && was)
				res[k].outcome = "rolled back";
		}
		if (err != -ETIMEDOUT)
			vu_vfio_unload_loaded(v);
		return VU_EXIT_FAIL;
	}
	return VU_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "group", no_argument, NULL, 'g' },
		{ "all", no_argument, NULL, 'a' },
		{ "domain-xml", required_argument, NULL, OPT_DOMAIN_XML },
		{ "unload", no_argument, NULL, OPT_UNLOAD },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .timeout_ms = 20000 };
	struct vu_names unload = { 0 };
	struct vu_vfio v = { 0 };
	struct vu_dev **targets = NULL;
	struct result *res = NULL;
	struct vu_devs devs = { 0 };
	struct vu_rec *doc;
	const char *damaged;
	size_t n = 0;
	int opt, status, err = 0;

	while ((opt = getopt_long(argc, argv, "gafnvqhV", longopts, NULL)) != -1) {
		if (vu_common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'g':
			o.group = true;
			break;
		case 'a':
			o.all = true;
			break;
		case OPT_DOMAIN_XML:
			o.xml = optarg;
			break;
		case OPT_UNLOAD:
			o.unload = true;
			break;
		case OPT_TIMEOUT:
			o.timeout_ms = vu_timeout_opt(optarg);
			break;
		case 'f':
			o.force = true;
			break;
		case 'h':
			usage();
		default:
			vu_errtryhelp();
		}
	}
	if (optind == argc && !o.xml)
		vu_usage_error("no devices: name them, or give --domain-xml");
	vu_common_done();
	doc = vu_out_new("vfio-bind", vu_opt_json);
	vu_rec_list(doc, "devices");
	vu_rec_list(doc, "unloaded");

	if (vu_devs_scan(&devs) < 0)
		return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
	if ((err = vu_devs_resolve(&devs, argv + optind, argc - optind, o.all, &targets, &n)) ==
	    -EINVAL)
		vu_errtryhelp();
	status = vu_exit_status(err);
	if (o.xml) {
		int s = vu_exit_status(vu_domxml_devices(o.xml, &devs, &targets, &n));

		status = s > status ? s : status;
	}
	if (status == VU_EXIT_OK && o.group)
		status = expand_groups(&devs, &targets, &n);
	else if (status == VU_EXIT_OK)
		warn_group_left(&devs, targets, n);
	if (status != VU_EXIT_OK || n == 0)
		goto out;
	if (o.unload)
		unload_plan(&devs, targets, n, &unload);
	if (refusals(&devs, targets, n, &unload, o.force) != VU_EXIT_OK) {
		report_refused(doc, targets, n);
		status = VU_EXIT_FAIL;
		goto out;
	}

	res = calloc(n, sizeof(*res));
	if (!res || (err = vu_kmod_open(&v.kmod)) < 0) {
		vu_errc(res ? err : -ENOMEM, "cannot set up libkmod");
		status = VU_EXIT_FAIL;
		goto out;
	}
	/* These devices' own locks: another VM's run, with other devices, goes on beside this one. */
	if (vu_vfio_begin(&v, o.timeout_ms) < 0 || vu_vfio_lock(&v, targets, n) < 0) {
		vu_vfio_free(&v);
		status = VU_EXIT_FAIL;
		goto out;
	}
	/* What it says may be another VM's devices: never written over, nothing changed. */
	if (vu_vfio_damaged(&v, &damaged)) {
		vu_err(
		    "/run/vfio-utils/%s: damaged: vfio-bind will not write over it ('vfio-unbind --restore' keeps it aside and gives back what the kernel shows on vfio-pci); nothing changed",
		    damaged);
		vu_vfio_free(&v);
		status = VU_EXIT_FAIL;
		goto out;
	}
	/* Another run may have changed them while we waited for the lock. */
	for (size_t i = 0; i < n; i++) {
		res[i].dev = targets[i];
		vu_dev_refresh_driver(targets[i]);
		snprintf(res[i].from, sizeof(res[i].from), "%s", targets[i]->driver);
	}
	if (vu_vfio_remember(&v, targets, n) < 0 || vu_vfio_load(&v) < 0)
		status = VU_EXIT_FAIL;
	else
		status = bind_all(&v, res, n);
	if (status == VU_EXIT_OK && unload.n) {
		if (vu_vfio_lock_modules(&v) < 0 ||
		    (status = unload_modules(&v, &unload, targets[0]->name)) != VU_EXIT_OK) {
			status = VU_EXIT_FAIL;
			roll_back(&v, res, n);
		}
		if (vu_vfio_unlock_modules(&v) < 0)
			status = VU_EXIT_FAIL;
	}
	/* Devices the failed run never reached are not vfio-bind's to remember. */
	for (size_t i = 0; status != VU_EXIT_OK && i < n; i++)
		if (!res[i].outcome && res[i].dev->driver[0] &&
		    strcmp(res[i].dev->driver, "vfio-pci") != 0)
			vu_records_del(&v.devices, res[i].dev->name);
	if (vu_vfio_end(&v) < 0)
		status = VU_EXIT_FAIL;
	report(doc, res, n, &unload, status);
out:
	vu_kmod_close(v.kmod);
	vu_names_free(&unload);
	free(res);
	free(targets);
	vu_devs_free(&devs);
	return vu_out_finish(doc, NULL, status);
}
