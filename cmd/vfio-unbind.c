/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-unbind: give devices back from vfio-pci to the drivers they had, modules reloaded. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include "act.h"
#include "device.h"
#include "domxml.h"
#include "holders.h"
#include "kmod.h"
#include "msg.h"
#include "opts.h"
#include "sysfs.h"
#include "vfio.h"

enum {
	OPT_DOMAIN_XML = VU_OPT_CMD,
	OPT_RESTORE,
	OPT_UNLOAD_VFIO,
	OPT_TIMEOUT,
};

struct opts {
	bool restore, all, unload_vfio, force;
	int timeout_ms;
	const char *xml;
};

struct result {
	struct vu_dev *dev;
	char from[VU_DRIVER_MAX];
	const char *outcome; /* "restored", "unchanged", "in use", "stuck", "failed" */
};

static noreturn void usage(void)
{
	fputs("Usage: vfio-unbind [options] DEVICE...\n"
	      "       vfio-unbind [options] --restore\n"
	      "       vfio-unbind [options] --domain-xml FILE|-\n"
	      "\n"
	      "Give PCI devices back from vfio-pci to the drivers they had before vfio-bind:\n"
	      "driver_override as it was, unbind, the driver's module loaded, reprobe, check;\n"
	      "then reload the modules vfio-bind removed. Keeps going past a device that fails.\n"
	      "\n"
	      "Options:\n"
	      "      --restore          every device vfio-bind remembers\n"
	      "      --domain-xml FILE  the PCI host devices of a libvirt domain ('-': stdin)\n"
	      "  -a, --all              let a vendor:device match several devices\n"
	      "      --unload-vfio      then remove the vfio modules, if no device uses vfio-pci\n"
	      "      --timeout SECONDS  give up on an unbind or probe after this long (20)\n"
	      "  -f, --force            take devices back even from a running VM\n"
	      "  -n, --dry-run          print the commands that would do it, change nothing\n"
	      "      --json             report as JSON (vfio-utils(7))\n" VU_USAGE_COMMON "\n"
	      "Exit status: 0 done (or nothing to do), 1 some device or module failed,\n"
	      "2 usage error.\n"
	      "See vfio-unbind(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

/*
 * --restore: the devices remembered, those the machine still has; in a
 * hook, only those its guest took. Where the record was damaged, every
 * device the kernel shows on vfio-pci without one: by its modalias, it
 * goes back to the driver the kernel would give it.
 */
static int remembered(const struct vu_vfio *v, const struct vu_devs *devs, bool fallback,
		      struct vu_dev ***out, size_t *n)
{
	for (size_t i = 0; i < v->devices.n; i++) {
		struct vu_dev *d = vu_devs_find(devs, v->devices.v[i].key);

		if (!vu_vfio_owns(v, &v->devices.v[i]))
			continue;
		if (!d) {
			vu_warn("%s: remembered, but the machine has no such device now",
				v->devices.v[i].key);
			continue;
		}
		if (vu_devs_add_unique(out, n, d) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; fallback && i < devs->n; i++) {
		struct vu_dev *d = &devs->v[i];

		if (strcmp(d->driver, "vfio-pci") == 0 && !vu_records_find(&v->devices, d->name) &&
		    vu_devs_add_unique(out, n, d) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Modules vfio-bind removed for devices now given back, reloaded in reverse order. */
static int reload_modules(struct vu_vfio *v)
{
	char done[1024] = "";
	size_t len = 0;
	int status = VU_EXIT_OK;

	for (size_t i = v->modules.n; i-- > 0;) {
		char name[VU_STATE_TEXT];
		const char *dev = vu_record_get(&v->modules.v[i], "dev");
		enum vu_modstate st;
		int err = 0;

		snprintf(name, sizeof(name), "%s", v->modules.v[i].key);
		if (dev && vu_records_find(&v->devices, dev))
			continue; /* its device is still on vfio-pci */
		st = vu_mod_state(v->kmod, name);
		if (st == VU_MOD_UNLOADED) {
			vu_act_command("%s %s", vu_act_modprobe(), name);
			if (!vu_dry_run)
				err = vu_mod_load_timeout(v->kmod, name, NULL, v->timeout_ms, NULL, NULL);
		}
		if (err < 0) {
			vu_errc(err, "%s: cannot load it again", name);
			status = VU_EXIT_FAIL;
			continue;
		}
		if (st == VU_MOD_UNLOADED)
			len += (size_t)snprintf(done + len, sizeof(done) - len, " %s", name);
		vu_records_del(&v->modules, name);
	}
	if (len && !vu_dry_run)
		vu_report("loaded again%s", done);
	return status;
}

/* Given back by this run: under dry run only the plan says so, the driver link does not. */
static bool planned(const struct result *res, size_t n, const char *name)
{
	for (size_t i = 0; vu_dry_run && i < n; i++)
		if (strcmp(res[i].dev->name, name) == 0 && strcmp(res[i].outcome, "restored") == 0)
			return true;
	return false;
}

/*
 * A device still on vfio-pci (another VM's?), or NULL. One whose unbind from
 * vfio-pci is stuck still is: its driver link is gone, its remove() is not.
 */
static const char *vfio_user(const struct vu_devs *devs, const struct result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (res[i].outcome && strcmp(res[i].outcome, "stuck") == 0)
			return res[i].dev->name;
	for (size_t i = 0; i < devs->n; i++) {
		struct vu_dev d = devs->v[i];

		vu_dev_refresh_driver(&d);
		if (strcmp(d.driver, "vfio-pci") == 0 && !planned(res, n, d.name))
			return devs->v[i].name;
	}
	return NULL;
}

/* Remove the modules of NAMES that are loaded, in that order. */
static int remove_modules(struct vu_vfio *v, const char *const *names, size_t count)
{
	char done[512] = "";
	size_t len = 0;
	int status = VU_EXIT_OK;

	for (size_t i = 0; i < count; i++) {
		int err;

		if (vu_mod_state(v->kmod, names[i]) != VU_MOD_LOADED)
			continue;
		vu_act_command("rmmod %s", names[i]);
		if (vu_dry_run)
			continue;
		if ((err = vu_mod_unload(v->kmod, names[i])) < 0) {
			vu_errc(err, "%s: cannot unload", names[i]);
			status = VU_EXIT_FAIL;
		} else {
			len += (size_t)snprintf(done + len, sizeof(done) - len, " %s", names[i]);
		}
	}
	if (len)
		vu_report("unloaded%s", done);
	return status;
}

/*
 * --unload-vfio: every vfio module. Without it, those vfio-bind loaded, once
 * nothing is on vfio-pci: the machine is left as vfio-bind found it.
 */
static int unload_vfio(struct vu_vfio *v, const struct vu_devs *devs, const struct result *res,
		       size_t n, bool all)
{
	const char *user = vfio_user(devs, res, n), *coming = NULL;
	const char *names[32];
	size_t count = 0;
	int status;

	if (!all && v->inserted.n == 0)
		return VU_EXIT_OK;
	/* What a load left to the kernel inserts after this run would stay unknown. */
	if (!vu_dry_run && vu_vfio_pending_load(v) < 0)
		return VU_EXIT_FAIL;
	/* Another run's device on its way to vfio-pci: its probe would find no driver. */
	if (!user && !vu_dry_run)
		coming = vu_vfio_others(v);
	if (user || coming) {
		if (all && user)
			vu_err(
			    "vfio-pci still drives %s (another VM?): the vfio modules stay loaded",
			    user);
		else if (all)
			vu_err(
			    "%s is being handed to vfio-pci (another VM?): the vfio modules stay loaded",
			    coming);
		return all ? VU_EXIT_FAIL : VU_EXIT_OK;
	}
	if (all)
		for (size_t i = 0; vu_vfio_modules[i]; i++)
			names[count++] = vu_vfio_modules[i];
	else
		for (size_t i = v->inserted.n; i-- > 0 && count < 32;)
			names[count++] = v->inserted.v[i].key;
	status = remove_modules(v, names, count);
	if (status == VU_EXIT_OK)
		vu_records_free(&v->inserted);
	return status;
}

/* Each device, its driver before (from) and now, into the report. */
static void report(struct vu_rec *doc, const struct result *res, size_t n)
{
	struct vu_list *l = vu_rec_list(doc, "devices");

	for (size_t i = 0; i < n; i++) {
		struct vu_rec *r;
		bool changes = res[i].outcome && strcmp(res[i].outcome, "restored") == 0;

		/* What the kernel shows now: a dry run's restore leaves its copy as if done. */
		vu_dev_refresh_driver(res[i].dev);
		r = vu_dev_rec(l, res[i].dev);

		vu_rec_str(r, "from", res[i].from[0] ? res[i].from : NULL);
		vu_rec_str(r, "result", vu_dry_run && changes ? "planned" : res[i].outcome);
	}
}

static int restore_all(struct vu_vfio *v, struct result *res, size_t n, const struct opts *o)
{
	int status = VU_EXIT_OK, failed = 0, err;
	struct vu_dev **devs = calloc(n + 1, sizeof(struct vu_dev *));
	struct vu_holders held = { 0 };
	char why[768];

	size_t nvfio = 0;

	/* Only a running VM's group can hold up an unbind from vfio-pci. */
	for (size_t i = 0; devs && i < n; i++)
		if (strcmp(res[i].dev->driver, "vfio-pci") == 0)
			devs[nvfio++] = res[i].dev;
	if (devs && nvfio && !o->force)
		vu_vfio_holders(devs, nvfio, &held);
	free(devs);
	for (size_t i = 0; i < n; i++) {
		struct vu_dev *d = res[i].dev;
		bool on_vfio = strcmp(d->driver, "vfio-pci") == 0;

		/* A running VM holds its group: an unbind would block until it stops. */
		if (on_vfio && !o->force && vu_vfio_held(&held, d, why, sizeof(why))) {
			res[i].outcome = "in use";
			if (o->restore) {
				vu_warn("%s: %s: a VM still uses it: left on vfio-pci", d->name,
					why);
			} else {
				vu_err("%s: %s: a VM still uses it (--force takes it anyway)",
				       d->name, why);
				failed++;
			}
			continue;
		}
		if ((err = vu_vfio_restore(v, d)) < 0) {
			/* Stuck in the kernel: left there, remembered, and the others go on. */
			res[i].outcome = err == -ETIMEDOUT ? "stuck" : "failed";
			failed++;
			continue;
		}
		res[i].outcome = on_vfio ? "restored" : "unchanged";
	}
	vu_holders_free(&held);
	if (failed) {
		vu_err("%d of %zu devices not given back", failed, n);
		status = VU_EXIT_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "restore", no_argument, NULL, OPT_RESTORE },
		{ "domain-xml", required_argument, NULL, OPT_DOMAIN_XML },
		{ "all", no_argument, NULL, 'a' },
		{ "unload-vfio", no_argument, NULL, OPT_UNLOAD_VFIO },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .timeout_ms = 20000 };
	struct vu_vfio v = { 0 };
	struct vu_dev **targets = NULL;
	struct result *res = NULL;
	struct vu_devs devs = { 0 };
	struct vu_rec *doc;
	const char *damaged;
	bool fallback;
	size_t n = 0;
	int opt, status, err;

	while ((opt = getopt_long(argc, argv, "afnvqhV", longopts, NULL)) != -1) {
		if (vu_common_opt(opt, optarg))
			continue;
		switch (opt) {
		case OPT_RESTORE:
			o.restore = true;
			break;
		case OPT_DOMAIN_XML:
			o.xml = optarg;
			break;
		case 'a':
			o.all = true;
			break;
		case OPT_UNLOAD_VFIO:
			o.unload_vfio = true;
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
	if (o.restore && (optind < argc || o.xml))
		vu_usage_error("--restore takes every remembered device: name none");
	if (!o.restore && !o.xml && optind == argc && !o.unload_vfio)
		vu_usage_error("no devices: name them, or use --restore or --domain-xml");
	vu_common_done();
	doc = vu_out_new("vfio-unbind", vu_opt_json);
	vu_rec_list(doc, "devices");

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
	if (status != VU_EXIT_OK)
		goto out;
	if ((err = vu_kmod_open(&v.kmod)) < 0) {
		vu_errc(err, "cannot set up libkmod");
		status = VU_EXIT_FAIL;
		goto out;
	}
	if (vu_vfio_begin(&v, o.timeout_ms) < 0) {
		status = VU_EXIT_FAIL;
		goto out;
	}
	fallback = v.devices.damaged;
	if (o.restore && remembered(&v, &devs, fallback, &targets, &n) < 0)
		status = VU_EXIT_FAIL;
	/* These devices' own locks, the state read again: another VM's run goes on beside. */
	if (vu_vfio_lock(&v, targets, n) < 0) {
		vu_vfio_free(&v);
		status = VU_EXIT_FAIL;
		goto out;
	}
	/* Giving back: a damaged record is kept aside, and the kernel says what is on vfio-pci. */
	if (vu_vfio_damaged(&v, &damaged)) {
		if (!vu_dry_run)
			vu_vfio_keep_aside(&v);
		status = VU_EXIT_FAIL;
	}
	if (o.restore && n == 0 && v.modules.n == 0 && v.inserted.n == 0)
		vu_report("nothing remembered: nothing to restore");
	if (!(res = calloc(n + 1, sizeof(*res)))) {
		vu_errc(ENOMEM, "cannot give devices back");
		vu_vfio_end(&v);
		status = VU_EXIT_FAIL;
		goto out;
	}
	/* Another run may have changed them while we waited for the lock. */
	for (size_t i = 0; i < n; i++) {
		res[i].dev = targets[i];
		vu_dev_refresh_driver(targets[i]);
		snprintf(res[i].from, sizeof(res[i].from), "%s", targets[i]->driver);
	}
	if (n && restore_all(&v, res, n, &o) != VU_EXIT_OK)
		status = VU_EXIT_FAIL;
	/* The modules change hands under their own lock; what it guards is read again. */
	if (((v.modules.n || v.inserted.n || o.unload_vfio) && vu_vfio_lock_modules(&v) < 0) ||
	    reload_modules(&v) != VU_EXIT_OK ||
	    unload_vfio(&v, &devs, res, n, o.unload_vfio) != VU_EXIT_OK)
		status = VU_EXIT_FAIL;
	if (vu_vfio_end(&v) < 0)
		status = VU_EXIT_FAIL;
	report(doc, res, n);
out:
	vu_kmod_close(v.kmod);
	free(res);
	free(targets);
	vu_devs_free(&devs);
	return vu_out_finish(doc, NULL, status);
}
