/* SPDX-License-Identifier: GPL-2.0-or-later */
/* efifb: release and restore the firmware framebuffer, whichever kind the kernel made. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include "act.h"
#include "device.h"
#include "fbres.h"
#include "json.h"
#include "msg.h"
#include "opts.h"
#include "pciaddr.h"
#include "state.h"
#include "sysfs.h"
#include "util.h"

enum {
	OPT_TIMEOUT = VU_OPT_CMD,
};

#define STATE "efifb"

/* Every platform device the kernel may make for the firmware's framebuffer. */
static const char *const kinds[] = { "efi-framebuffer", "simple-framebuffer", "vesa-framebuffer",
				     "vga-framebuffer", "platform-framebuffer" };

struct fb {
	char name[64];		  /* efi-framebuffer.0 */
	char driver[64];	  /* "" when unbound */
	char parent[VU_NAME_MAX]; /* the PCI device sysfs puts it under, "" when none */
};

static noreturn void usage(void)
{
	fputs("Usage: efifb [options] [status|unbind|bind]\n"
	      "\n"
	      "Release the firmware framebuffer before its GPU goes to a VM, and restore it\n"
	      "after: efi-framebuffer.N, simple-framebuffer.N (simplefb, simpledrm),\n"
	      "vesa-, vga- or platform-framebuffer.N, whichever the kernel made.\n"
	      "\n"
	      "Commands:\n"
	      "  status             which exists, its driver, the GPU it sits on (the default)\n"
	      "  unbind             unbind it from its driver and remember; none is fine\n"
	      "  bind               bind again what unbind remembered\n"
	      "\n"
	      "Options:\n"
	      "      --timeout SECONDS  give up on a write the kernel does not finish (20)\n"
	      "  -n, --dry-run      print the commands that would do it, change nothing\n"
	      "      --json         status as JSON\n" VU_USAGE_COMMON "\n"
	      "Exit status: 0 done (or nothing to do), 1 failed, 2 usage error.\n"
	      "See efifb(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

static bool is_fb(const char *name)
{
	for (size_t i = 0; i < VU_ARRAY_SIZE(kinds); i++) {
		size_t len = strlen(kinds[i]);

		if (strncmp(name, kinds[i], len) == 0 && name[len] == '.')
			return true;
	}
	return false;
}

/* The last PCI address in a device's real sysfs path: its parent, where the kernel says. */
static void pci_parent(const char *path, char out[VU_NAME_MAX])
{
	char real[PATH_MAX], *save, *c;

	out[0] = '\0';
	if (!realpath(path, real))
		return;
	for (c = strtok_r(real, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		struct vu_addr a;

		if (vu_addr_from_name(c, &a) == 0)
			vu_addr_name(&a, out);
	}
}

static int find_fbs(struct fb **out, size_t *n)
{
	struct vu_names devs;
	char path[PATH_MAX];
	int err;

	*out = NULL;
	*n = 0;
	if ((err = vu_path(path, sizeof(path), "/sys/bus/platform/devices")) < 0)
		return err;
	if ((err = vu_listdir(path, &devs)) < 0 && err != -ENOENT) {
		vu_errc(err, "%s: cannot list", path);
		return err;
	}
	*out = calloc(devs.n + 1, sizeof(**out));
	for (size_t i = 0; *out && i < devs.n; i++) {
		struct fb *f = &(*out)[*n];

		if (!is_fb(devs.v[i]))
			continue;
		snprintf(f->name, sizeof(f->name), "%s", devs.v[i]);
		if (vu_path(path, sizeof(path), "/sys/bus/platform/devices/%s/driver", f->name) <
			0 ||
		    vu_link_name(path, f->driver, sizeof(f->driver)) < 0)
			f->driver[0] = '\0';
		vu_path(path, sizeof(path), "/sys/bus/platform/devices/%s", f->name);
		pci_parent(path, f->parent);
		(*n)++;
	}
	vu_names_free(&devs);
	return *out ? 0 : -ENOMEM;
}

/* What a reservation in a GPU's BAR means for its VM, and what releases it. */
static void explain(const struct vu_fbres *r)
{
	char bar[16] = "a BAR";
	struct vu_dev d;

	if (r->bar >= 0)
		snprintf(bar, sizeof(bar), "BAR %d", r->bar);
	printf(
	    "%s reserves %llx-%llx in %s of %s: QEMU will fail to map that BAR (\"%s: can't reserve\") ",
	    r->name, r->start, r->end, bar, r->dev, bar);
	if (vu_dev_read(r->dev, &d) == 0 && vu_fbres_evicted(d.class))
		printf("unless vfio-pci takes the GPU, which releases it (Linux 6.0 and later)\n");
	else if (strcmp(r->name, "BOOTFB") == 0)
		printf(
		    "until a reboot with initcall_blacklist=sysfb_init: unbinding the framebuffer does not release it\n");
	else
		printf("while it is there: 'efifb unbind' releases it\n");
}

static int status(const struct fb *fbs, size_t n, bool json)
{
	struct vu_fbres *res;
	size_t nres;
	struct vu_json j;

	/* A reservation can outlive its framebuffer's driver; it fails the VM just the same. */
	if (vu_fbres_scan(&res, &nres) < 0)
		nres = 0;
	if (json) {
		vu_json_init(&j, stdout);
		vu_json_obj(&j, NULL);
		vu_json_arr(&j, "framebuffers");
		for (size_t i = 0; i < n; i++) {
			vu_json_obj(&j, NULL);
			vu_json_str(&j, "name", fbs[i].name);
			vu_json_str(&j, "driver", fbs[i].driver[0] ? fbs[i].driver : NULL);
			vu_json_str(&j, "device", fbs[i].parent[0] ? fbs[i].parent : NULL);
			vu_json_end(&j);
		}
		vu_json_end(&j);
		vu_json_arr(&j, "reservations");
		for (size_t i = 0; i < nres; i++) {
			char range[48];

			snprintf(range, sizeof(range), "%llx-%llx", res[i].start, res[i].end);
			vu_json_obj(&j, NULL);
			vu_json_str(&j, "name", res[i].name);
			vu_json_str(&j, "range", range);
			vu_json_str(&j, "device", res[i].dev[0] ? res[i].dev : NULL);
			if (res[i].bar >= 0)
				vu_json_int(&j, "bar", res[i].bar);
			else
				vu_json_null(&j, "bar");
			vu_json_end(&j);
		}
		vu_json_end(&j);
		vu_json_end(&j);
		free(res);
		return VU_EXIT_OK;
	}
	if (n == 0)
		printf(
		    "no firmware framebuffer (a GPU driver took over, or the kernel made none)\n");
	for (size_t i = 0; i < n; i++)
		printf("%s: %s%s%s%s\n", fbs[i].name, fbs[i].driver[0] ? "bound to " : "unbound",
		       fbs[i].driver, fbs[i].parent[0] ? ", on " : "", fbs[i].parent);
	for (size_t i = 0; i < nres; i++)
		if (res[i].dev[0])
			explain(&res[i]);
		else
			printf("%s reserves %llx-%llx\n", res[i].name, res[i].start, res[i].end);
	free(res);
	return VU_EXIT_OK;
}

static int set_driver(const struct fb *f, const char *driver, bool bind, int timeout_ms)
{
	char path[PATH_MAX];
	int err;

	if ((err = vu_path(path, sizeof(path), "/sys/bus/platform/drivers/%s/%s", driver,
			   bind ? "bind" : "unbind")) < 0)
		return err;
	/* A driver's probe or remove can wait on the console lock or the GPU: a deadline. */
	if ((err = vu_act_write_timeout(path, f->name, timeout_ms)) == -ETIMEDOUT) {
		vu_err("%s: the kernel did not finish the %s in %d s: left to it, still remembered",
		       f->name, bind ? "bind" : "unbind", timeout_ms / 1000);
		return err;
	}
	if (err < 0) {
		vu_errc(err, "%s: %s %s failed", f->name, bind ? "bind to" : "unbind from", driver);
		return err;
	}
	return 0;
}

static int unbind(const struct fb *fbs, size_t n, struct vu_records *recs, int timeout_ms)
{
	int status = VU_EXIT_OK;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		const struct fb *f = &fbs[i];
		char path[PATH_MAX];

		if (!f->driver[0])
			continue;
		any = true;
		/* Remembered before the write: a kill in between leaves a way back. */
		if ((!vu_records_find(recs, f->name) &&
		     !vu_records_set(recs, f->name, "driver", f->driver, (char *)NULL)) ||
		    vu_state_save(STATE, recs) < 0 ||
		    set_driver(f, f->driver, false, timeout_ms) < 0) {
			status = VU_EXIT_FAIL;
			continue;
		}
		if (vu_dry_run)
			continue;
		vu_path(path, sizeof(path), "/sys/bus/platform/devices/%s/driver", f->name);
		if (vu_exists(path)) {
			vu_err("%s: still bound to %s after the unbind", f->name, f->driver);
			status = VU_EXIT_FAIL;
			continue;
		}
		vu_report("%s: unbound from %s", f->name, f->driver);
	}
	if (!any)
		vu_report("%s", n ? "the firmware framebuffer is not bound: nothing to unbind"
				  : "no firmware framebuffer: nothing to unbind");
	return status;
}

/* A framebuffer kind's platform driver: the device's name, but vga16fb's. */
static const char *kind_driver(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s", (int)strcspn(name, "."), name);
	return strcmp(buf, "vga-framebuffer") == 0 ? "vga16fb" : buf;
}

static void remember_unbound(const struct fb *fbs, size_t n, struct vu_records *recs)
{
	for (size_t i = 0; i < n; i++) {
		char buf[64];

		if (!fbs[i].driver[0] && !vu_records_find(recs, fbs[i].name))
			vu_records_set(recs, fbs[i].name, "driver",
				       kind_driver(fbs[i].name, buf, sizeof(buf)), (char *)NULL);
	}
}

static int bind(const struct fb *fbs, size_t n, struct vu_records *recs, int timeout_ms)
{
	int status = VU_EXIT_OK;

	if (recs->n == 0)
		vu_report("no framebuffer remembered: nothing to bind");
	for (size_t i = recs->n; i-- > 0;) {
		const char *name = recs->v[i].key, *driver = vu_record_get(&recs->v[i], "driver");
		const struct fb *f = NULL;
		char path[PATH_MAX];

		for (size_t k = 0; k < n && !f; k++)
			if (strcmp(fbs[k].name, name) == 0)
				f = &fbs[k];
		if (!f) {
			/* Linux 6.0+: vfio-pci taking the GPU unregisters it until reboot. */
			vu_report(
			    "%s: gone (the kernel removed it, as it does when vfio-pci takes its GPU): the console comes back with the GPU's own driver",
			    name);
			vu_records_del(recs, name);
			continue;
		}
		if (f->driver[0]) {
			vu_report("%s: already bound to %s", name, f->driver);
			vu_records_del(recs, name);
			continue;
		}
		if (!driver || set_driver(f, driver, true, timeout_ms) < 0) {
			status = VU_EXIT_FAIL;
			continue;
		}
		if (!vu_dry_run) {
			vu_path(path, sizeof(path), "/sys/bus/platform/devices/%s/driver", name);
			if (!vu_exists(path)) {
				vu_err("%s: %s did not take it", name, driver);
				status = VU_EXIT_FAIL;
				continue;
			}
			vu_report("%s: bound to %s", name, driver);
		}
		vu_records_del(recs, name);
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct vu_records recs = { 0 };
	const char *what;
	bool json = false, damaged;
	struct fb *fbs;
	size_t n;
	int opt, st, lock, timeout_ms = 20000;

	while ((opt = getopt_long(argc, argv, "nvqhV", longopts, NULL)) != -1) {
		if (vu_common_opt(opt, optarg))
			continue;
		switch (opt) {
		case OPT_TIMEOUT:
			timeout_ms = vu_timeout_opt(optarg);
			break;
		case 'n':
			vu_dry_run = true;
			break;
		case VU_OPT_JSON:
			json = true;
			break;
		case 'h':
			usage();
		default:
			vu_errtryhelp();
		}
	}
	what = vu_subcommand(argc, argv, (const char *const[]){ "status", "unbind", "bind", NULL });
	vu_common_done();

	if (strcmp(what, "status") == 0) {
		if (find_fbs(&fbs, &n) < 0)
			return VU_EXIT_FAIL;
		st = status(fbs, n, json);
		free(fbs);
		return st;
	}
	lock = vu_state_begin(STATE, &recs, timeout_ms);
	if (lock < 0 && !vu_dry_run)
		return VU_EXIT_FAIL;
	if (recs.damaged && strcmp(what, "unbind") == 0)
		return vu_state_refuse_damaged(STATE, &recs, lock, "efifb bind");
	damaged = recs.damaged;
	if (damaged && !vu_dry_run)
		vu_state_keep_aside(STATE, &recs);
	/* Found under the lock: another run may change them while this one waits. */
	if (find_fbs(&fbs, &n) < 0) {
		st = VU_EXIT_FAIL;
		fbs = NULL;
	} else if (strcmp(what, "unbind") == 0) {
		st = unbind(fbs, n, &recs, timeout_ms);
	} else {
		/* Nothing to go by: every framebuffer without a driver gets its own kind's. */
		if (damaged)
			remember_unbound(fbs, n, &recs);
		st = bind(fbs, n, &recs, timeout_ms);
		st = damaged ? VU_EXIT_FAIL : st;
	}
	if (vu_state_end(STATE, &recs, lock) < 0)
		st = VU_EXIT_FAIL;
	free(fbs);
	return st;
}
