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
#include "msg.h"
#include "opts.h"
#include "out.h"
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
	      "  status                 which exists, its driver, the GPU it sits on (the default)\n"
	      "  unbind                 unbind it from its driver and remember; none is fine\n"
	      "  bind                   bind again what unbind remembered\n"
	      "\n"
	      "Options:\n"
	      "      --timeout SECONDS  give up on a write the kernel does not finish (20)\n"
	      "  -n, --dry-run          print the commands that would do it, change nothing\n"
	      "      --json             report as JSON (vfio-utils(7))\n" VU_USAGE_COMMON "\n"
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

/* F as a framebuffer of the schema; DRIVER is its driver now, RESULT what became of it. */
static void fb_rec(struct vu_list *l, const struct fb *f, const char *driver, const char *result)
{
	struct vu_rec *r = vu_list_obj(l);

	vu_rec_str(r, "name", f->name);
	vu_rec_str(r, "driver", driver && driver[0] ? driver : NULL);
	vu_rec_str(r, "gpu", f->parent[0] ? f->parent : NULL);
	if (result)
		vu_rec_str(r, "result", result);
}

/* What releases a reservation in a GPU's BAR, which fails its VM until then. */
static const char *release(const struct vu_fbres *r)
{
	struct vu_dev d;

	if (vu_dev_read(r->dev, &d) == 0 && vu_fbres_evicted(d.class))
		return "vfio-pci"; /* Linux 6.0 and later */
	return strcmp(r->name, "BOOTFB") == 0 ? "reboot" : "unbind";
}

static void status(const struct fb *fbs, size_t n, struct vu_rec *doc)
{
	struct vu_list *l = vu_rec_list(doc, "framebuffers");
	struct vu_fbres *res;
	size_t nres;

	for (size_t i = 0; fbs && i < n; i++)
		fb_rec(l, &fbs[i], fbs[i].driver, NULL);
	/* A reservation can outlive its framebuffer's driver; it fails the VM just the same. */
	if (vu_fbres_scan(&res, &nres) < 0)
		nres = 0;
	l = vu_rec_list(doc, "reservations");
	for (size_t i = 0; i < nres; i++) {
		struct vu_rec *r = vu_list_obj(l);

		vu_rec_str(r, "name", res[i].name);
		vu_rec_strf(r, "range", "%llx-%llx", res[i].start, res[i].end);
		vu_rec_str(r, "gpu", res[i].dev[0] ? res[i].dev : NULL);
		if (res[i].bar >= 0)
			vu_rec_int(r, "bar", res[i].bar);
		else
			vu_rec_null(r, "bar");
		vu_rec_str(r, "release", res[i].dev[0] ? release(&res[i]) : NULL);
	}
	free(res);
}

static void status_text(const struct vu_rec *doc)
{
	const struct vu_list *fbs = vu_rec_l(doc, "framebuffers"),
			     *res = vu_rec_l(doc, "reservations");

	if (vu_list_len(fbs) == 0)
		printf(
		    "no firmware framebuffer (a GPU driver took over, or the kernel made none)\n");
	for (size_t i = 0; i < vu_list_len(fbs); i++) {
		const struct vu_rec *f = vu_list_rec(fbs, i);
		const char *driver = vu_rec_s(f, "driver"), *gpu = vu_rec_s(f, "gpu");

		printf("%s: %s%s%s%s\n", vu_rec_s(f, "name"), driver ? "bound to " : "unbound",
		       driver ? driver : "", gpu ? ", on " : "", gpu ? gpu : "");
	}
	for (size_t i = 0; i < vu_list_len(res); i++) {
		const struct vu_rec *r = vu_list_rec(res, i);
		const char *gpu = vu_rec_s(r, "gpu"), *how = vu_rec_s(r, "release");
		char bar[16] = "a BAR";

		if (!gpu) {
			printf("%s reserves %s\n", vu_rec_s(r, "name"), vu_rec_s(r, "range"));
			continue;
		}
		if (vu_rec_has(r, "bar"))
			snprintf(bar, sizeof(bar), "BAR %lld", vu_rec_i(r, "bar"));
		printf(
		    "%s reserves %s in %s of %s: QEMU will fail to map that BAR (\"%s: can't reserve\") %s\n",
		    vu_rec_s(r, "name"), vu_rec_s(r, "range"), bar, gpu, bar,
		    strcmp(how, "vfio-pci") == 0
			? "unless vfio-pci takes the GPU, which releases it (Linux 6.0 and later)"
		    : strcmp(how, "reboot") == 0
			? "until a reboot with initcall_blacklist=sysfb_init: unbinding the framebuffer does not release it"
			: "while it is there: 'efifb unbind' releases it");
	}
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

static int unbind(const struct fb *fbs, size_t n, struct vu_records *recs, int timeout_ms,
		  struct vu_list *out)
{
	int status = VU_EXIT_OK;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		const struct fb *f = &fbs[i];

		if (!f->driver[0])
			continue;
		any = true;
		/* Remembered before the write: a kill in between leaves a way back. */
		if ((!vu_records_find(recs, f->name) &&
		     !vu_records_set(recs, f->name, "driver", f->driver, (char *)NULL)) ||
		    vu_state_save(STATE, recs) < 0 ||
		    set_driver(f, f->driver, false, timeout_ms) < 0) {
			fb_rec(out, f, f->driver, "failed");
			status = VU_EXIT_FAIL;
			continue;
		}
		if (vu_dry_run) {
			fb_rec(out, f, f->driver, "planned");
			continue;
		}
		if (vu_existsf("/sys/bus/platform/devices/%s/driver", f->name)) {
			vu_err("%s: still bound to %s after the unbind", f->name, f->driver);
			fb_rec(out, f, f->driver, "failed");
			status = VU_EXIT_FAIL;
			continue;
		}
		vu_report("%s: unbound from %s", f->name, f->driver);
		fb_rec(out, f, NULL, "unbound");
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

static int bind(const struct fb *fbs, size_t n, struct vu_records *recs, int timeout_ms,
		struct vu_list *out)
{
	int status = VU_EXIT_OK;

	if (recs->n == 0)
		vu_report("no framebuffer remembered: nothing to bind");
	for (size_t i = recs->n; i-- > 0;) {
		const char *name = recs->v[i].key, *driver = vu_record_get(&recs->v[i], "driver");
		const struct fb *f = NULL;
		struct fb gone;

		for (size_t k = 0; k < n && !f; k++)
			if (strcmp(fbs[k].name, name) == 0)
				f = &fbs[k];
		if (!f) {
			/* Linux 6.0+: vfio-pci taking the GPU unregisters it until reboot. */
			vu_report(
			    "%s: gone (the kernel removed it, as it does when vfio-pci takes its GPU): the console comes back with the GPU's own driver",
			    name);
			gone = (struct fb){ 0 };
			snprintf(gone.name, sizeof(gone.name), "%s", name);
			fb_rec(out, &gone, NULL, "gone");
			vu_records_del(recs, name);
			continue;
		}
		if (f->driver[0]) {
			vu_report("%s: already bound to %s", name, f->driver);
			fb_rec(out, f, f->driver, "already bound");
			vu_records_del(recs, name);
			continue;
		}
		if (!driver || set_driver(f, driver, true, timeout_ms) < 0) {
			fb_rec(out, f, NULL, "failed");
			status = VU_EXIT_FAIL;
			continue;
		}
		if (!vu_dry_run) {
			if (!vu_existsf("/sys/bus/platform/devices/%s/driver", name)) {
				vu_err("%s: %s did not take it", name, driver);
				fb_rec(out, f, NULL, "failed");
				status = VU_EXIT_FAIL;
				continue;
			}
			vu_report("%s: bound to %s", name, driver);
		}
		fb_rec(out, f, vu_dry_run ? NULL : driver, vu_dry_run ? "planned" : "bound");
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
	struct vu_list *out;
	struct vu_rec *doc;
	const char *what;
	bool damaged;
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
		case 'h':
			usage();
		default:
			vu_errtryhelp();
		}
	}
	what = vu_subcommand(argc, argv, (const char *const[]){ "status", "unbind", "bind", NULL });
	vu_common_done();

	doc = vu_out_new("efifb", vu_opt_json);
	if (strcmp(what, "status") == 0) {
		if (find_fbs(&fbs, &n) < 0)
			return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
		status(fbs, n, doc);
		free(fbs);
		return vu_out_finish(doc, status_text, VU_EXIT_OK);
	}
	out = vu_rec_list(doc, "framebuffers");
	/* Its own lock: the framebuffer's unbind may wait in the kernel, the shared one never does. */
	lock = vu_state_begin_own(STATE, &recs, timeout_ms);
	if (lock < 0 && !vu_dry_run)
		return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
	if (recs.damaged && strcmp(what, "unbind") == 0)
		return vu_out_finish(doc, NULL,
				     vu_state_refuse_damaged(STATE, &recs, lock, "efifb bind"));
	damaged = recs.damaged;
	if (damaged && !vu_dry_run)
		vu_state_keep_aside(STATE, &recs);
	/* Found under the lock: another run may change them while this one waits. */
	if (find_fbs(&fbs, &n) < 0) {
		st = VU_EXIT_FAIL;
		fbs = NULL;
	} else if (strcmp(what, "unbind") == 0) {
		st = unbind(fbs, n, &recs, timeout_ms, out);
	} else {
		/* Nothing to go by: every framebuffer without a driver gets its own kind's. */
		if (damaged)
			remember_unbound(fbs, n, &recs);
		st = bind(fbs, n, &recs, timeout_ms, out);
		st = damaged ? VU_EXIT_FAIL : st;
	}
	if (vu_state_end(STATE, &recs, lock) < 0)
		st = VU_EXIT_FAIL;
	free(fbs);
	return vu_out_finish(doc, NULL, st);
}
