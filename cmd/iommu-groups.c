/* SPDX-License-Identifier: GPL-2.0-or-later */
/* iommu-groups: list IOMMU groups as the guides' loop does, and judge them for passthrough. */
#include <errno.h>
#include <limits.h>
#include <pci/pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include "cmdline.h"
#include "device.h"
#include "inuse.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "pcinames.h"
#include "sysfs.h"
#include "util.h"

enum mode { LIST, IDS, VIRSH, CHECK, STATUS };

struct ctx {
	enum mode mode;
	bool gpu, driver, all;
	struct vu_devs devs;
	struct vu_groups groups;
	struct pci_access *pacc;
	struct vu_inuse_list inuse;
	bool *selected;	       /* per group, parallel to groups.v */
	const char *slot, *id; /* lspci's -s and -d */
};

enum {
	OPT_IDS = VU_OPT_CMD,
	OPT_VIRSH,
	OPT_STATUS,
};

static noreturn void usage(void)
{
	fputs(
	    "Usage: iommu-groups [options] [DEVICE|GROUP...]\n"
	    "\n"
	    "List IOMMU groups and their devices, as the guides' shell loop prints them,\n"
	    "and tell whether a device's group can be passed to a virtual machine.\n"
	    "\n"
	    "Selection:\n"
	    "  DEVICE                 the group holding DEVICE (0000:01:00.0, 01:00.0,\n"
	    "                         pci_0000_01_00_0 or vendor:device like 10de:1f03)\n"
	    "  GROUP                  the group with that number\n"
	    "  -s, --slot [[DOMAIN:]BUS:][SLOT][.FUNC]\n"
	    "                         groups holding a device there, as lspci -s selects\n"
	    "  -d, --device-id [VENDOR]:[DEVICE][:CLASS]\n"
	    "                         groups holding such a device, as lspci -d selects\n"
	    "  -G, --gpu              groups holding a display controller\n"
	    "  -a, --all              a vendor:device may match several devices\n"
	    "\n"
	    "Output:\n"
	    "  -k, --driver           append the driver in use, and what the host uses\n"
	    "                         the device for\n"
	    "      --ids              the vfio-pci.ids= list of the selected groups\n"
	    "      --virsh            the virsh node-device names of the selected groups\n"
	    "  -C, --check            can the named devices' groups be passed through?\n"
	    "                         (exit 1: no)\n"
	    "      --status           is the IOMMU on, and what the kernel and GPUs say about it\n"
	    "      --json             machine-readable output\n"
	    "\n" VU_USAGE_COMMON "\n"
	    "Exit status: 0 done, 1 failed (no IOMMU groups, unknown device, group not\n"
	    "passable), 2 usage error.\n"
	    "See iommu-groups(1).\n",
	    stdout);
	vu_exit(VU_EXIT_OK);
}

static bool has_display(const struct vu_group *g)
{
	for (size_t i = 0; i < g->n; i++)
		if (vu_dev_is_display(g->members[i]))
			return true;
	return false;
}

static bool is_group_number(const char *s, int *num)
{
	char *end;
	long n;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	n = strtol(s, &end, 10);
	*num = n > 0x7fffffff ? -1 : (int)n;
	return true;
}

static void no_iommu_hint(void)
{
	vu_err("no IOMMU groups: the IOMMU is off or unsupported (run 'iommu-groups --status')");
}

/* Mark the groups named by arguments (devices or numbers) and --gpu. */
/* -s and -d: the groups holding a device both select; 1 when none does. */
static int select_filtered(struct ctx *c)
{
	struct pci_filter f;
	const char *why = vu_pci_filter(c->pacc, &f, c->slot, c->id);
	bool found = false;

	if (why)
		vu_usage_error("%s", why);
	for (size_t g = 0; g < c->groups.n; g++)
		for (size_t i = 0; i < c->groups.v[g].n; i++)
			if (vu_pci_match(c->pacc, &f, c->groups.v[g].members[i]))
				found = c->selected[g] = true;
	if (found)
		return VU_EXIT_OK;
	vu_err("%s%s%s: no such device in an IOMMU group", c->slot ? c->slot : "",
	       c->slot && c->id ? " " : "", c->id ? c->id : "");
	return VU_EXIT_FAIL;
}

static int select_groups(struct ctx *c, char **args, int nargs)
{
	int status = VU_EXIT_OK, err;
	bool any = c->gpu || c->slot || c->id;

	if ((c->slot || c->id) && c->groups.n)
		status = select_filtered(c);

	for (int i = 0; i < nargs; i++) {
		struct vu_dev **devs;
		size_t n;
		int num;

		any = true;
		if (is_group_number(args[i], &num)) {
			const struct vu_group *g = vu_groups_find(&c->groups, num);

			if (!g) {
				vu_err("%s: no such IOMMU group", args[i]);
				status = VU_EXIT_FAIL;
				continue;
			}
			c->selected[g - c->groups.v] = true;
			continue;
		}
		if ((err = vu_devs_resolve(&c->devs, &args[i], 1, c->all, &devs, &n)) < 0) {
			if (err == -EINVAL)
				vu_errtryhelp();
			status = VU_EXIT_FAIL;
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			const struct vu_group *g = vu_groups_find(&c->groups, devs[k]->group);

			if (!g) {
				vu_dev_err_no_group(devs[k]);
				status = VU_EXIT_FAIL;
				continue;
			}
			c->selected[g - c->groups.v] = true;
		}
		free(devs);
	}
	for (size_t g = 0; g < c->groups.n; g++)
		if (!any || (c->gpu && has_display(&c->groups.v[g])))
			c->selected[g] = true;
	return status;
}

/* lspci prints a domain only when some device lies outside domain 0. */
static bool domains;

/* ADDRESS (of a record) as lspci prints it. */
static const char *slot(const char *address)
{
	return domains ? address : strchr(address, ':') + 1;
}

/* D in L, with what lspci -nn knows of it and what the host uses it for. */
static struct vu_rec *dev_rec(struct ctx *c, struct vu_list *l, const struct vu_dev *d)
{
	char desc[512], cls[VU_PCI_NAME_MAX], ven[VU_PCI_NAME_MAX], dev[VU_PCI_NAME_MAX];
	struct vu_rec *r = vu_dev_rec(l, d);

	vu_rec_strf(r, "class", "%04x", d->class >> 8);
	vu_rec_strf(r, "vendor", "%04x", d->vendor);
	vu_rec_strf(r, "device", "%04x", d->device);
	vu_rec_strf(r, "revision", "%02x", d->rev);
	vu_pci_describe(c->pacc, d, desc, sizeof(desc));
	vu_rec_str(r, "description", desc);
	vu_rec_str(r, "class_name", vu_pci_class_name(c->pacc, d, cls, sizeof(cls)));
	vu_rec_str(r, "vendor_name", vu_pci_vendor_name(c->pacc, d, ven, sizeof(ven)));
	vu_rec_str(r, "device_name", vu_pci_device_name(c->pacc, d, dev, sizeof(dev)));
	vu_rec_bool(r, "bridge", vu_dev_is_bridge(d));
	vu_rec_bool(r, "display", vu_dev_is_display(d));
	vu_rec_str(r, "in_use", vu_inuse_why(&c->inuse, d->name));
	return r;
}

/* -k: the listing annotated, as lspci -k puts the driver after the device. */
static bool annotate;

static void list_text(const struct vu_rec *doc)
{
	const struct vu_list *groups = vu_rec_l(doc, "groups");

	for (size_t g = 0; g < vu_list_len(groups); g++) {
		const struct vu_rec *grp = vu_list_rec(groups, g);
		const struct vu_list *devs = vu_rec_l(grp, "devices");

		printf("IOMMU Group %lld:\n", vu_rec_i(grp, "group"));
		for (size_t i = 0; i < vu_list_len(devs); i++) {
			const struct vu_rec *d = vu_list_rec(devs, i);
			const char *why = vu_rec_s(d, "in_use");
			char esc[VU_INUSE_WHY * 4];

			printf("\t%s %s", slot(vu_rec_s(d, "address")), vu_rec_s(d, "description"));
			if (annotate) {
				if (vu_rec_has(d, "driver"))
					printf(" (driver: %s)", vu_rec_s(d, "driver"));
				else
					printf(" (no driver)");
				/* A mount point comes from a label anyone can write on a stick. */
				if (why)
					printf(" (in use: %s)", vu_esc(why, esc, sizeof(esc)));
			}
			putchar('\n');
		}
	}
}

static void list(struct ctx *c, struct vu_rec *doc)
{
	struct vu_list *groups = vu_rec_list(doc, "groups");

	for (size_t g = 0; g < c->groups.n; g++) {
		const struct vu_group *grp = &c->groups.v[g];
		struct vu_rec *r;
		struct vu_list *devs;

		if (!c->selected[g])
			continue;
		r = vu_list_obj(groups);
		vu_rec_int(r, "group", grp->num);
		devs = vu_rec_list(r, "devices");
		for (size_t i = 0; i < grp->n; i++)
			dev_rec(c, devs, grp->members[i]);
	}
}

/*
 * vfio-pci.ids= takes every device with an ID, wherever it is: a device
 * outside the selection with the ID of D (a second, identical GPU, the
 * host's own) goes too. The first such, or NULL.
 */
static const struct vu_dev *also_taken(const struct ctx *c, const struct vu_dev *d)
{
	for (size_t g = 0; g < c->groups.n; g++)
		for (size_t k = 0; !c->selected[g] && k < c->groups.v[g].n; k++) {
			const struct vu_dev *o = c->groups.v[g].members[k];

			if (o->vendor == d->vendor && o->device == d->device)
				return o;
		}
	return NULL;
}

static void ids_text(const struct vu_rec *doc)
{
	const struct vu_list *ids = vu_rec_l(doc, "ids");

	for (size_t i = 0; i < vu_list_len(ids); i++)
		printf("%s%s", i ? "," : "", vu_list_s(ids, i));
	if (vu_list_len(ids))
		putchar('\n');
}

static void virsh_text(const struct vu_rec *doc)
{
	const struct vu_list *devs = vu_rec_l(doc, "devices");

	for (size_t i = 0; i < vu_list_len(devs); i++)
		printf("%s\n", vu_rec_s(vu_list_rec(devs, i), "nodedev"));
}

/* Two functions with one ID need one vfio-pci.ids= entry: the kernel matches by ID. */
static bool id_listed(const struct ctx *c, size_t g, const struct vu_dev *d)
{
	for (size_t h = 0; h <= g; h++)
		for (size_t k = 0; c->selected[h] && k < c->groups.v[h].n; k++) {
			const struct vu_dev *o = c->groups.v[h].members[k];

			if (o == d)
				return false;
			if (!vu_dev_is_bridge(o) && o->vendor == d->vendor &&
			    o->device == d->device)
				return true;
		}
	return false;
}

/* --ids and --virsh: what a VM takes from the selected groups, bridges left out. */
static void members(struct ctx *c, struct vu_rec *doc)
{
	struct vu_list *out = vu_rec_list(doc, c->mode == IDS ? "ids" : "devices");
	char name[VU_NAME_MAX + 8];

	for (size_t g = 0; g < c->groups.n; g++) {
		const struct vu_group *grp = &c->groups.v[g];

		for (size_t i = 0; c->selected[g] && i < grp->n; i++) {
			const struct vu_dev *d = grp->members[i], *twin;

			if (vu_dev_is_bridge(d))
				continue;
			if (c->mode == VIRSH) {
				vu_addr_virsh(&d->addr, name);
				vu_rec_str(dev_rec(c, out, d), "nodedev", name);
				continue;
			}
			if (id_listed(c, g, d))
				continue;
			snprintf(name, sizeof(name), "%04x:%04x", d->vendor, d->device);
			if ((twin = also_taken(c, d)))
				vu_warn(
				    "%s: %s has this ID too, and vfio-pci.ids= would take it as well: bind by address instead (vfio-bind, or driver_override)",
				    name, twin->name);
			vu_list_str(out, name);
		}
	}
}

static bool named(struct vu_dev **devs, size_t n, const struct vu_dev *d)
{
	for (size_t i = 0; i < n; i++)
		if (devs[i] == d)
			return true;
	return false;
}

static bool same_slot_as_named(struct vu_dev **devs, size_t n, const struct vu_dev *d)
{
	for (size_t i = 0; i < n; i++)
		if (vu_addr_same_slot(&devs[i]->addr, &d->addr))
			return true;
	return false;
}

/* Why member D keeps the group from passing with DEVS named; NULL if it does not. */
static const char *offence(struct ctx *c, struct vu_dev **devs, size_t n, const struct vu_dev *d,
			   char *buf, size_t size)
{
	const char *why = vu_inuse_why(&c->inuse, d->name);

	if (vu_dev_is_bridge(d)) {
		if (named(devs, n, d)) {
			snprintf(buf, size, "is a bridge: vfio-pci never takes bridges");
			return buf;
		}
		return NULL;
	}
	if (why) {
		snprintf(buf, size, "%s: the host needs it", why);
		return buf;
	}
	if (named(devs, n, d) || same_slot_as_named(devs, n, d))
		return NULL;
	snprintf(
	    buf, size,
	    "shares the group: pass it through too, or move the card to a slot with its own group");
	return buf;
}

static void check_text(const struct vu_rec *doc)
{
	const struct vu_list *groups = vu_rec_l(doc, "groups");

	for (size_t g = 0; g < vu_list_len(groups); g++) {
		const struct vu_rec *grp = vu_list_rec(groups, g);
		bool ok = vu_rec_b(grp, "passable");
		const struct vu_list *devs = vu_rec_l(grp, ok ? "pass" : "offenders");

		if (ok)
			vu_report("IOMMU group %lld is passable: pass these together:",
				  vu_rec_i(grp, "group"));
		else
			vu_report("IOMMU group %lld is not passable:", vu_rec_i(grp, "group"));
		for (size_t i = 0; i < vu_list_len(devs); i++) {
			const struct vu_rec *d = vu_list_rec(devs, i);
			const char *cn = vu_rec_s(d, "class_name");
			char cls[16];

			if (!cn) {
				snprintf(cls, sizeof(cls), "Class %s", vu_rec_s(d, "class"));
				cn = cls;
			}
			vu_report("\t%s %s%s%s", slot(vu_rec_s(d, "address")), cn, ok ? "" : " ",
				  ok ? "" : vu_rec_s(d, "reason"));
		}
	}
}

static int check(struct ctx *c, struct vu_rec *doc, char **args, int nargs)
{
	struct vu_list *groups = vu_rec_list(doc, "groups");
	struct vu_dev **devs;
	size_t n;
	int status;

	if (nargs == 0)
		vu_usage_error("--check needs the devices to pass through");
	status = vu_devs_resolve(&c->devs, args, nargs, c->all, &devs, &n);
	if (status == -EINVAL)
		vu_errtryhelp();
	if (status < 0)
		return VU_EXIT_FAIL;
	for (size_t g = 0; g < c->groups.n; g++) {
		const struct vu_group *grp = &c->groups.v[g];
		struct vu_list *pass, *offenders;
		bool involved = false, ok = true;
		struct vu_rec *r;
		char buf[256];

		for (size_t i = 0; i < grp->n; i++)
			involved = involved || named(devs, n, grp->members[i]);
		if (!involved)
			continue;
		for (size_t i = 0; i < grp->n; i++)
			ok = ok && !offence(c, devs, n, grp->members[i], buf, sizeof(buf));
		if (!ok)
			status = VU_EXIT_FAIL;
		r = vu_list_obj(groups);
		vu_rec_int(r, "group", grp->num);
		vu_rec_bool(r, "passable", ok);
		pass = vu_rec_list(r, "pass");
		offenders = vu_rec_list(r, "offenders");
		for (size_t i = 0; i < grp->n; i++) {
			const struct vu_dev *d = grp->members[i];
			const char *why = offence(c, devs, n, d, buf, sizeof(buf));

			if (!vu_dev_is_bridge(d))
				dev_rec(c, pass, d);
			if (why)
				vu_rec_str(dev_rec(c, offenders, d), "reason", why);
		}
	}
	vu_out_print(doc, check_text);
	for (size_t i = 0; i < n; i++) {
		if (devs[i]->group >= 0)
			continue;
		vu_dev_err_no_group(devs[i]);
		status = VU_EXIT_FAIL;
	}
	free(devs);
	return status;
}

/* --status */

/* The parameters --status shows, and their keys in JSON, where jq needs no brackets. */
static const struct {
	const char *param, *key;
} cmdline_params[] = {
	{ "intel_iommu", "intel_iommu" },
	{ "amd_iommu", "amd_iommu" },
	{ "iommu", "iommu" },
	{ "pcie_acs_override", "pcie_acs_override" },
	{ "vfio-pci.ids", "vfio_pci_ids" },
	{ "video", "video" },
	{ "initcall_blacklist", "initcall_blacklist" },
};

/* "IR-PCI-MSI" chips in /proc/interrupts: interrupt remapping is in use. */
static int interrupt_remapping(void)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f;

	if (vu_path(path, sizeof(path), "/proc/interrupts") < 0 || !(f = fopen(path, "re")))
		return -1;
	while (!found && getline(&line, &cap, f) > 0)
		found = strstr(line, " IR-") != NULL;
	free(line);
	fclose(f);
	return found;
}

static void next_step(const char *cpu, const char *cmdline)
{
	char v[64];
	bool intel = strstr(cpu, "GenuineIntel") != NULL;
	const char *param = intel ? "intel_iommu" : "amd_iommu";
	const char *val = vu_cmdline_get(cmdline, param, v, sizeof(v));

	if (val && strcmp(val, "off") == 0)
		vu_err("no IOMMU groups: the kernel command line has %s=off: remove it and reboot",
		       param);
	else if (intel && !(val && strcmp(val, "on") == 0))
		vu_err(
		    "no IOMMU groups: enable VT-d in the firmware setup, run 'vfio-boot iommu on' (intel_iommu=on iommu=pt on the kernel command line) and reboot");
	else
		vu_err("no IOMMU groups: enable %s in the firmware setup and reboot",
		       intel ? "VT-d" : "the IOMMU (AMD-Vi, often under AMD CBS or NBIO)");
}

static void status_text(const struct vu_rec *doc)
{
	const struct vu_list *units = vu_rec_l(doc, "units"), *gpus = vu_rec_l(doc, "gpus");
	const struct vu_rec *cmdline = vu_rec_o(doc, "cmdline");
	char buf[VU_NAME_MAX + 8];
	size_t len = 0;

	if (vu_rec_b(doc, "iommu")) {
		printf("IOMMU:               on, %lld groups", vu_rec_i(doc, "group_count"));
		for (size_t i = 0; i < vu_list_len(units); i++)
			printf("%s%s", i ? " " : "; units: ", vu_list_s(units, i));
		putchar('\n');
	} else {
		printf("IOMMU:               off (no IOMMU groups)\n");
	}
	for (size_t i = 0; i < VU_ARRAY_SIZE(cmdline_params); i++) {
		const char *v = vu_rec_s(cmdline, cmdline_params[i].key);

		if (v)
			len += (size_t)printf("%s%s%s%s", len ? " " : "Kernel parameters:   ",
					      cmdline_params[i].param, *v ? "=" : "", v);
	}
	printf(
	    "%s\n",
	    len ? ""
		: "Kernel parameters:   none of intel_iommu, amd_iommu, iommu, pcie_acs_override");
	printf("Interrupt remapping: %s\n", !vu_rec_has(doc, "interrupt_remapping") ? "unknown"
					    : vu_rec_b(doc, "interrupt_remapping")  ? "on"
										    : "off");
	for (size_t i = 0; i < vu_list_len(gpus); i++) {
		const struct vu_rec *d = vu_list_rec(gpus, i);
		const struct vu_list *methods = vu_rec_l(d, "reset_method");

		snprintf(buf, sizeof(buf), "GPU %s:", slot(vu_rec_s(d, "address")));
		printf("%-21s%s\n", buf, vu_rec_s(d, "description"));
		printf("%-21s", "");
		if (vu_rec_has(d, "group"))
			printf("group %lld, ", vu_rec_i(d, "group"));
		else
			printf("no group, ");
		printf("driver %s%s, reset: ",
		       vu_rec_has(d, "driver") ? vu_rec_s(d, "driver") : "none",
		       vu_rec_b(d, "boot_vga") ? ", boot VGA (the firmware's screen)" : "");
		for (size_t k = 0; k < vu_list_len(methods); k++)
			printf("%s%s", k ? " " : "", vu_list_s(methods, k));
		if (!vu_list_len(methods))
			printf("%s",
			       vu_rec_b(d, "reset") ? "available" : "none (a VM may not reset it)");
		putchar('\n');
	}
}

/* The GPU D in L, with what a VM needs to know: boot VGA, reset. */
static void gpu_rec(struct ctx *c, struct vu_list *l, const struct vu_dev *d)
{
	struct vu_rec *r = dev_rec(c, l, d);
	struct vu_list *methods;
	char buf[128] = "";

	vu_rec_bool(r, "boot_vga", vu_dev_boot_vga(d));
	vu_rec_bool(r, "reset", vu_existsf("/sys/bus/pci/devices/%s/reset", d->name));
	methods = vu_rec_list(r, "reset_method");
	if (vu_readf(buf, sizeof(buf), "/sys/bus/pci/devices/%s/reset_method", d->name) < 0)
		return;
	for (char *save, *m = strtok_r(buf, " \n", &save); m; m = strtok_r(NULL, " \n", &save))
		vu_list_str(methods, m);
}

static int show_status(struct ctx *c, struct vu_rec *doc)
{
	char cmdline[4096] = "", cpu[8192] = "", buf[256];
	struct vu_names iommu = { 0 };
	struct vu_list *units, *gpus;
	struct vu_rec *params;
	char path[PATH_MAX];
	int ir = interrupt_remapping();

	vu_readf(cmdline, sizeof(cmdline), "/proc/cmdline");
	if (vu_readf(cpu, sizeof(cpu), "/proc/cpuinfo") == -EOVERFLOW)
		cpu[sizeof(cpu) - 1] = '\0';
	vu_rec_bool(doc, "iommu", c->groups.n > 0);
	vu_rec_int(doc, "group_count", (long long)c->groups.n);
	units = vu_rec_list(doc, "units");
	if (vu_path(path, sizeof(path), "/sys/class/iommu") == 0)
		vu_listdir(path, &iommu);
	for (size_t i = 0; i < iommu.n; i++)
		vu_list_str(units, iommu.v[i]);
	vu_names_free(&iommu);
	params = vu_rec_obj(doc, "cmdline");
	for (size_t i = 0; i < VU_ARRAY_SIZE(cmdline_params); i++)
		vu_rec_str(params, cmdline_params[i].key,
			   vu_cmdline_get(cmdline, cmdline_params[i].param, buf, sizeof(buf)));
	if (ir < 0)
		vu_rec_null(doc, "interrupt_remapping");
	else
		vu_rec_bool(doc, "interrupt_remapping", ir);
	gpus = vu_rec_list(doc, "gpus");
	for (size_t i = 0; i < c->devs.n; i++)
		if (vu_dev_is_display(&c->devs.v[i]))
			gpu_rec(c, gpus, &c->devs.v[i]);
	vu_out_print(doc, status_text);
	if (c->groups.n == 0) {
		next_step(cpu, cmdline);
		return VU_EXIT_FAIL;
	}
	return VU_EXIT_OK;
}

/*
 * One meaning per letter across the suite: -g is --group (vfio-bind), -c is
 * --connect (hook-run, vfio-audit, as in virsh). Here they still mean what
 * they meant, with a warning, until the next release takes them.
 */
static void deprecated(char old, const char *now, const char *what, const char *elsewhere)
{
	vu_warn("-%c is deprecated: use -%s or --%s (-%c is %s)", old, now, what, old, elsewhere);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "gpu", no_argument, NULL, 'G' },
		{ "slot", required_argument, NULL, 's' },
		{ "device-id", required_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'a' },
		{ "driver", no_argument, NULL, 'k' },
		{ "ids", no_argument, NULL, OPT_IDS },
		{ "virsh", no_argument, NULL, OPT_VIRSH },
		{ "check", no_argument, NULL, 'C' },
		{ "status", no_argument, NULL, OPT_STATUS },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	void (*text)(const struct vu_rec *doc) = NULL;
	struct ctx c = { .mode = LIST };
	struct vu_rec *doc;
	int opt, modes = 0, status;

	while ((opt = getopt_long(argc, argv, "GgCcs:d:akvqhV", longopts, NULL)) != -1) {
		if (vu_common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'g':
			deprecated('g', "G", "gpu", "--group in vfio-bind");
			/* fall through */
		case 'G':
			c.gpu = true;
			break;
		case 's':
			c.slot = optarg;
			break;
		case 'd':
			c.id = optarg;
			break;
		case 'a':
			c.all = true;
			break;
		case 'k':
			c.driver = true;
			break;
		case OPT_IDS:
			c.mode = IDS;
			modes++;
			break;
		case OPT_VIRSH:
			c.mode = VIRSH;
			modes++;
			break;
		case 'c':
			deprecated('c', "C", "check", "--connect in hook-run and vfio-audit");
			/* fall through */
		case 'C':
			c.mode = CHECK;
			modes++;
			break;
		case OPT_STATUS:
			c.mode = STATUS;
			modes++;
			break;
		case 'h':
			usage();
		default:
			vu_errtryhelp();
		}
	}
	if (modes > 1)
		vu_usage_error("--ids, --virsh, --check and --status exclude each other");
	if ((c.slot || c.id) && (c.mode == CHECK || c.mode == STATUS))
		vu_usage_error("-s and -d select groups to list: --check takes devices by name");
	if ((c.mode == IDS || c.mode == VIRSH) && optind == argc && !c.gpu && !c.slot && !c.id)
		vu_usage_error("--%s needs a device, a group, -s, -d or --gpu",
			       c.mode == IDS ? "ids" : "virsh");
	if (c.mode == STATUS && optind < argc)
		vu_usage_error("--status takes no arguments");
	vu_common_done();
	annotate = c.driver;

	doc = vu_out_new("iommu-groups", vu_opt_json);
	if (vu_devs_scan(&c.devs) < 0 || vu_groups_scan(&c.devs, &c.groups) < 0)
		return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
	domains = c.devs.domains;
	c.selected = calloc(c.groups.n + 1, sizeof(*c.selected));
	if (!c.selected) {
		vu_errc(ENOMEM, "cannot list groups");
		return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
	}
	/* Only the annotated outputs need to know what the host uses. */
	if (c.driver || vu_opt_json || c.mode == CHECK)
		vu_inuse_scan(&c.inuse);
	c.pacc = vu_pci_open();

	if (c.mode == STATUS) {
		status = show_status(&c, doc);
	} else if (c.mode == CHECK) {
		status = check(&c, doc, argv + optind, argc - optind);
	} else {
		status = select_groups(&c, argv + optind, argc - optind);
		if (c.groups.n == 0 && status == VU_EXIT_OK) {
			no_iommu_hint();
			status = VU_EXIT_FAIL;
		}
		if (c.mode == LIST) {
			list(&c, doc);
			text = list_text;
		} else {
			members(&c, doc);
			text = c.mode == IDS ? ids_text : virsh_text;
		}
	}
	status = vu_out_finish(doc, text, status);
	vu_pci_close(c.pacc);
	vu_inuse_free(&c.inuse);
	free(c.selected);
	vu_groups_free(&c.groups);
	vu_devs_free(&c.devs);
	return status;
}
