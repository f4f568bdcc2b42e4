/* SPDX-License-Identifier: GPL-2.0-or-later */
/* iommu-groups: list IOMMU groups as the guides' loop does, and judge them for passthrough. */
#include <errno.h>
#include <limits.h>
#include <pci/pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include "device.h"
#include "inuse.h"
#include "json.h"
#include "msg.h"
#include "opts.h"
#include "pcinames.h"
#include "sysfs.h"
#include "util.h"

enum mode { LIST, IDS, VIRSH, CHECK, STATUS };

struct ctx {
	enum mode mode;
	bool gpu, driver, json, all;
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
	    "  DEVICE             the group holding DEVICE (0000:01:00.0, 01:00.0,\n"
	    "                     pci_0000_01_00_0 or vendor:device like 10de:1f03)\n"
	    "  GROUP              the group with that number\n"
	    "  -s, --slot [[DOMAIN:]BUS:][SLOT][.FUNC]\n"
	    "                     groups holding a device there, as lspci -s selects\n"
	    "  -d, --device-id [VENDOR]:[DEVICE][:CLASS]\n"
	    "                     groups holding such a device, as lspci -d selects\n"
	    "  -g, --gpu          groups holding a display controller\n"
	    "  -a, --all          a vendor:device may match several devices\n"
	    "\n"
	    "Output:\n"
	    "  -k, --driver       append the driver in use, and what the host uses the device for\n"
	    "      --ids          the vfio-pci.ids= list of the selected groups\n"
	    "      --virsh        the virsh node-device names of the selected groups\n"
	    "  -c, --check        can the named devices' groups be passed through? (exit 1: no)\n"
	    "      --status       is the IOMMU on, and what the kernel and GPUs say about it\n"
	    "      --json         machine-readable output\n"
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

static void slot(const struct ctx *c, const struct vu_dev *d, char buf[VU_NAME_MAX])
{
	vu_addr_slot(&d->addr, c->devs.domains, buf);
}

static void json_dev(struct ctx *c, struct vu_json *j, const struct vu_dev *d)
{
	char desc[512], cls[VU_PCI_NAME_MAX], ven[VU_PCI_NAME_MAX], dev[VU_PCI_NAME_MAX], hex[8];

	vu_json_obj(j, NULL);
	vu_json_str(j, "slot", d->name);
	snprintf(hex, sizeof(hex), "%04x", d->class >> 8);
	vu_json_str(j, "class", hex);
	snprintf(hex, sizeof(hex), "%04x", d->vendor);
	vu_json_str(j, "vendor", hex);
	snprintf(hex, sizeof(hex), "%04x", d->device);
	vu_json_str(j, "device", hex);
	snprintf(hex, sizeof(hex), "%02x", d->rev);
	vu_json_str(j, "revision", hex);
	vu_pci_describe(c->pacc, d, desc, sizeof(desc));
	vu_json_str(j, "description", desc);
	vu_json_str(j, "class_name", vu_pci_class_name(c->pacc, d, cls, sizeof(cls)));
	vu_json_str(j, "vendor_name", vu_pci_vendor_name(c->pacc, d, ven, sizeof(ven)));
	vu_json_str(j, "device_name", vu_pci_device_name(c->pacc, d, dev, sizeof(dev)));
	vu_json_str(j, "driver", d->driver[0] ? d->driver : NULL);
	vu_json_bool(j, "bridge", vu_dev_is_bridge(d));
	vu_json_bool(j, "display", vu_dev_is_display(d));
	vu_json_str(j, "in_use", vu_inuse_why(&c->inuse, d->name));
	vu_json_end(j);
}

static int list(struct ctx *c)
{
	char s[VU_NAME_MAX], desc[512];
	struct vu_json j;

	if (c->json) {
		vu_json_init(&j, stdout);
		vu_json_obj(&j, NULL);
		vu_json_arr(&j, "groups");
	}
	for (size_t g = 0; g < c->groups.n; g++) {
		const struct vu_group *grp = &c->groups.v[g];

		if (!c->selected[g])
			continue;
		if (c->json) {
			vu_json_obj(&j, NULL);
			vu_json_int(&j, "group", grp->num);
			vu_json_arr(&j, "devices");
			for (size_t i = 0; i < grp->n; i++)
				json_dev(c, &j, grp->members[i]);
			vu_json_end(&j);
			vu_json_end(&j);
			continue;
		}
		printf("IOMMU Group %d:\n", grp->num);
		for (size_t i = 0; i < grp->n; i++) {
			const struct vu_dev *d = grp->members[i];
			const char *why;
			char esc[VU_INUSE_WHY * 4];

			slot(c, d, s);
			vu_pci_describe(c->pacc, d, desc, sizeof(desc));
			printf("\t%s %s", s, desc);
			if (c->driver) {
				if (d->driver[0])
					printf(" (driver: %s)", d->driver);
				else
					printf(" (no driver)");
				/* A mount point comes from a label anyone can write on a stick. */
				if ((why = vu_inuse_why(&c->inuse, d->name)))
					printf(" (in use: %s)", vu_esc(why, esc, sizeof(esc)));
			}
			putchar('\n');
		}
	}
	if (c->json) {
		vu_json_end(&j);
		vu_json_end(&j);
	}
	return VU_EXIT_OK;
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

/* --ids and --virsh: what a VM takes from the selected groups, bridges left out. */
static int members(struct ctx *c)
{
	char name[VU_NAME_MAX + 8];
	struct vu_json j;
	bool first = true;

	if (c->json) {
		vu_json_init(&j, stdout);
		vu_json_obj(&j, NULL);
		vu_json_arr(&j, c->mode == IDS ? "ids" : "devices");
	}
	for (size_t g = 0; g < c->groups.n; g++) {
		const struct vu_group *grp = &c->groups.v[g];

		for (size_t i = 0; c->selected[g] && i < grp->n; i++) {
			const struct vu_dev *d = grp->members[i], *twin;
			bool dup = false;

			if (vu_dev_is_bridge(d))
				continue;
			if (c->mode == VIRSH) {
				vu_addr_virsh(&d->addr, name);
			} else {
				snprintf(name, sizeof(name), "%04x:%04x", d->vendor, d->device);
				/* Two functions with one ID need one entry: the kernel matches by
				 * ID. */
				for (size_t h = 0; h <= g && !dup; h++)
					for (size_t k = 0; c->selected[h] && k < c->groups.v[h].n;
					     k++) {
						const struct vu_dev *o = c->groups.v[h].members[k];

						if (o == d)
							break;
						dup = dup || (!vu_dev_is_bridge(o) &&
							      o->vendor == d->vendor &&
							      o->device == d->device);
					}
				if (dup)
					continue;
				if ((twin = also_taken(c, d)))
					vu_warn(
					    "%s: %s has this ID too, and vfio-pci.ids= would take it as well: bind by address instead (vfio-bind, or driver_override)",
					    name, twin->name);
			}
			if (c->json)
				vu_json_str(&j, NULL, name);
			else if (c->mode == VIRSH)
				printf("%s\n", name);
			else
				printf("%s%s", first ? "" : ",", name);
			first = false;
		}
	}
	if (c->json) {
		vu_json_end(&j);
		vu_json_end(&j);
	} else if (c->mode == IDS && !first) {
		putchar('\n');
	}
	return VU_EXIT_OK;
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

static void short_name(struct ctx *c, const struct vu_dev *d, char *buf, size_t size)
{
	char s[VU_NAME_MAX], cls[VU_PCI_NAME_MAX];
	const char *cn = vu_pci_class_name(c->pacc, d, cls, sizeof(cls));

	slot(c, d, s);
	if (cn)
		snprintf(buf, size, "%s %s", s, cn);
	else
		snprintf(buf, size, "%s Class %04x", s, d->class >> 8);
}

static int check(struct ctx *c, char **args, int nargs)
{
	struct vu_dev **devs;
	struct vu_json j;
	size_t n;
	int status;

	if (nargs == 0)
		vu_usage_error("--check needs the devices to pass through");
	status = vu_devs_resolve(&c->devs, args, nargs, c->all, &devs, &n);
	if (status == -EINVAL)
		vu_errtryhelp();
	if (status < 0)
		return VU_EXIT_FAIL;
	if (c->json) {
		vu_json_init(&j, stdout);
		vu_json_obj(&j, NULL);
		vu_json_arr(&j, "groups");
	}
	for (size_t g = 0; g < c->groups.n; g++) {
		const struct vu_group *grp = &c->groups.v[g];
		char buf[256], name[VU_PCI_NAME_MAX + VU_NAME_MAX + 8];
		bool involved = false, ok = true;

		for (size_t i = 0; i < grp->n; i++)
			involved = involved || named(devs, n, grp->members[i]);
		if (!involved)
			continue;
		for (size_t i = 0; i < grp->n; i++)
			ok = ok && !offence(c, devs, n, grp->members[i], buf, sizeof(buf));
		if (!ok)
			status = VU_EXIT_FAIL;
		if (c->json) {
			vu_json_obj(&j, NULL);
			vu_json_int(&j, "group", grp->num);
			vu_json_bool(&j, "passable", ok);
			vu_json_arr(&j, "pass");
			for (size_t i = 0; i < grp->n; i++)
				if (!vu_dev_is_bridge(grp->members[i]))
					vu_json_str(&j, NULL, grp->members[i]->name);
			vu_json_end(&j);
			vu_json_arr(&j, "offenders");
		} else if (ok) {
			vu_report("IOMMU group %d is passable: pass these together:", grp->num);
		} else {
			vu_report("IOMMU group %d is not passable:", grp->num);
		}
		for (size_t i = 0; i < grp->n; i++) {
			const struct vu_dev *d = grp->members[i];
			const char *why = offence(c, devs, n, d, buf, sizeof(buf));

			short_name(c, d, name, sizeof(name));
			if (c->json && why) {
				vu_json_obj(&j, NULL);
				vu_json_str(&j, "slot", d->name);
				vu_json_str(&j, "reason", why);
				vu_json_end(&j);
			} else if (!c->json && ok && !vu_dev_is_bridge(d)) {
				vu_report("\t%s", name);
			} else if (!c->json && why) {
				vu_report("\t%s %s", name, why);
			}
		}
		if (c->json) {
			vu_json_end(&j);
			vu_json_end(&j);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (devs[i]->group >= 0)
			continue;
		vu_dev_err_no_group(devs[i]);
		status = VU_EXIT_FAIL;
	}
	if (c->json) {
		vu_json_end(&j);
		vu_json_end(&j);
	}
	free(devs);
	return status;
}

/* --status */

static const char *const cmdline_params[] = {
	"intel_iommu", "amd_iommu",	     "iommu", "pcie_acs_override", "vfio-pci.ids",
	"video",       "initcall_blacklist",
};

/* PARAM's value on the kernel command line ("" for a bare flag), or NULL. */
static const char *cmdline_value(const char *cmdline, const char *param, char *buf, size_t size)
{
	size_t plen = strlen(param);
	const char *found = NULL;

	for (const char *p = cmdline; *p;) {
		size_t wlen = strcspn(p, " \t\n");

		if (wlen >= plen && strncmp(p, param, plen) == 0 &&
		    (p[plen] == '=' || wlen == plen)) {
			size_t vlen = wlen == plen ? 0 : wlen - plen - 1;

			snprintf(buf, size, "%.*s", (int)vlen, p + plen + (wlen > plen));
			found = buf; /* the kernel honours the last occurrence */
		}
		p += wlen;
		p += strspn(p, " \t\n");
	}
	return found;
}

static int read_sys(char *buf, size_t size, const char *path)
{
	char p[PATH_MAX];

	if (vu_path(p, sizeof(p), "%s", path) < 0)
		return -ENAMETOOLONG;
	return vu_read(p, buf, size);
}

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
	const char *val = cmdline_value(cmdline, param, v, sizeof(v));

	if (val && strcmp(val, "off") == 0)
		vu_err("no IOMMU groups: the kernel command line has %s=off: remove it and reboot",
		       param);
	else if (intel && !(val && strcmp(val, "on") == 0))
		vu_err(
		    "no IOMMU groups: enable VT-d in the firmware setup, add intel_iommu=on iommu=pt to the kernel command line and reboot");
	else
		vu_err("no IOMMU groups: enable %s in the firmware setup and reboot",
		       intel ? "VT-d" : "the IOMMU (AMD-Vi, often under AMD CBS or NBIO)");
}

static int show_status(struct ctx *c)
{
	char cmdline[4096] = "", cpu[8192] = "", buf[256], units[256] = "", s[VU_NAME_MAX];
	char desc[512];
	struct vu_names iommu = { 0 };
	char path[PATH_MAX];
	struct vu_json j;
	int ir = interrupt_remapping();
	size_t len = 0;

	read_sys(cmdline, sizeof(cmdline), "/proc/cmdline");
	if (read_sys(cpu, sizeof(cpu), "/proc/cpuinfo") == -EOVERFLOW)
		cpu[sizeof(cpu) - 1] = '\0';
	if (vu_path(path, sizeof(path), "/sys/class/iommu") == 0)
		vu_listdir(path, &iommu);
	for (size_t i = 0; i < iommu.n; i++)
		len += (size_t)snprintf(units + len, sizeof(units) - len, "%s%s", i ? " " : "",
					iommu.v[i]);
	if (c->json) {
		vu_json_init(&j, stdout);
		vu_json_obj(&j, NULL);
		vu_json_bool(&j, "iommu", c->groups.n > 0);
		vu_json_int(&j, "groups", (long long)c->groups.n);
		vu_json_arr(&j, "units");
		for (size_t i = 0; i < iommu.n; i++)
			vu_json_str(&j, NULL, iommu.v[i]);
		vu_json_end(&j);
		vu_json_obj(&j, "cmdline");
		for (size_t i = 0; i < VU_ARRAY_SIZE(cmdline_params); i++)
			vu_json_str(&j, cmdline_params[i],
				    cmdline_value(cmdline, cmdline_params[i], buf, sizeof(buf)));
		vu_json_end(&j);
		if (ir < 0)
			vu_json_null(&j, "interrupt_remapping");
		else
			vu_json_bool(&j, "interrupt_remapping", ir);
		vu_json_arr(&j, "gpus");
	} else {
		if (c->groups.n)
			printf("IOMMU:               on, %zu groups%s%s\n", c->groups.n,
			       *units ? "; units: " : "", units);
		else
			printf("IOMMU:               off (no IOMMU groups)\n");
		len = 0;
		for (size_t i = 0; i < VU_ARRAY_SIZE(cmdline_params); i++) {
			const char *v = cmdline_value(cmdline, cmdline_params[i], buf, sizeof(buf));

			if (v)
				len +=
				    (size_t)printf("%s%s%s%s", len ? " " : "Kernel parameters:   ",
						   cmdline_params[i], *v ? "=" : "", v);
		}
		printf(
		    "%s\n",
		    len ? ""
			: "Kernel parameters:   none of intel_iommu, amd_iommu, iommu, pcie_acs_override");
		printf("Interrupt remapping: %s\n", ir < 0 ? "unknown" : ir ? "on" : "off");
	}
	for (size_t i = 0; i < c->devs.n; i++) {
		const struct vu_dev *d = &c->devs.v[i];
		char methods[128] = "";
		bool reset, boot;

		if (!vu_dev_is_display(d))
			continue;
		boot = vu_dev_boot_vga(d);
		vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method", d->name);
		if (vu_read(path, methods, sizeof(methods)) < 0)
			methods[0] = '\0';
		vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", d->name);
		reset = vu_exists(path);
		vu_pci_describe(c->pacc, d, desc, sizeof(desc));
		if (c->json) {
			vu_json_obj(&j, NULL);
			vu_json_str(&j, "slot", d->name);
			vu_json_str(&j, "description", desc);
			if (d->group >= 0)
				vu_json_int(&j, "group", d->group);
			else
				vu_json_null(&j, "group");
			vu_json_str(&j, "driver", d->driver[0] ? d->driver : NULL);
			vu_json_bool(&j, "boot_vga", boot);
			vu_json_bool(&j, "reset", reset);
			vu_json_str(&j, "reset_method", methods[0] ? methods : NULL);
			vu_json_end(&j);
			continue;
		}
		slot(c, d, s);
		snprintf(buf, sizeof(buf), "GPU %s:", s);
		printf("%-21s%s\n", buf, desc);
		printf("%-21s", "");
		if (d->group >= 0)
			printf("group %d, ", d->group);
		else
			printf("no group, ");
		printf("driver %s%s, reset: %s\n", d->driver[0] ? d->driver : "none",
		       boot ? ", boot VGA (the firmware's screen)" : "",
		       methods[0] ? methods
		       : reset	  ? "available"
				  : "none (a VM may not reset it)");
	}
	if (c->json) {
		vu_json_end(&j);
		vu_json_end(&j);
	}
	vu_names_free(&iommu);
	if (c->groups.n == 0) {
		next_step(cpu, cmdline);
		return VU_EXIT_FAIL;
	}
	return VU_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "gpu", no_argument, NULL, 'g' },
		{ "slot", required_argument, NULL, 's' },
		{ "device-id", required_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'a' },
		{ "driver", no_argument, NULL, 'k' },
		{ "ids", no_argument, NULL, OPT_IDS },
		{ "virsh", no_argument, NULL, OPT_VIRSH },
		{ "check", no_argument, NULL, 'c' },
		{ "status", no_argument, NULL, OPT_STATUS },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { .mode = LIST };
	int opt, modes = 0, status;

	while ((opt = getopt_long(argc, argv, "gs:d:akcvqhV", longopts, NULL)) != -1) {
		if (vu_common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'g':
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
			c.mode = CHECK;
			modes++;
			break;
		case OPT_STATUS:
			c.mode = STATUS;
			modes++;
			break;
		case VU_OPT_JSON:
			c.json = true;
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

	if (vu_devs_scan(&c.devs) < 0 || vu_groups_scan(&c.devs, &c.groups) < 0)
		return VU_EXIT_FAIL;
	c.selected = calloc(c.groups.n + 1, sizeof(*c.selected));
	if (!c.selected) {
		vu_errc(ENOMEM, "cannot list groups");
		return VU_EXIT_FAIL;
	}
	/* Only the annotated outputs need to know what the host uses. */
	if (c.driver || c.json || c.mode == CHECK)
		vu_inuse_scan(&c.inuse);
	c.pacc = vu_pci_open();

	if (c.mode == STATUS) {
		status = show_status(&c);
	} else if (c.mode == CHECK) {
		status = check(&c, argv + optind, argc - optind);
	} else {
		status = select_groups(&c, argv + optind, argc - optind);
		if (c.groups.n == 0 && status == VU_EXIT_OK) {
			no_iommu_hint();
			status = VU_EXIT_FAIL;
		}
		if (c.mode == LIST)
			list(&c);
		else
			members(&c);
	}
	vu_pci_close(c.pacc);
	vu_inuse_free(&c.inuse);
	free(c.selected);
	vu_groups_free(&c.groups);
	vu_devs_free(&c.devs);
	return status;
}
