/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-audit: is this domain set up for passthrough? Findings before the start that fails. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/stat.h>

#include "device.h"
#include "domxml.h"
#include "hooks.h"
#include "hugepages.h"
#include "inuse.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "sysfs.h"
#include "util.h"
#include "virt.h"

enum { OPT_DOMAIN_XML = VU_OPT_CMD, OPT_STRICT };

struct audit {
	struct vu_devs devs;
	struct vu_inuse_list inuse; /* what the host uses: iommu-groups --check's view */
	char hooks[PATH_MAX];	    /* /etc/libvirt/hooks, rooted */
	struct vu_list *findings;
	int errors, warnings;
};

/* One domain as the audit sees it: its XML read, its devices found on this host. */
struct domain {
	const char *name; /* as shown: its <name>, or the file */
	struct vu_domxml x;
	struct vu_dev **dev; /* parallel to x.pci; NULL where the host has no such device */
	bool active;
};

static noreturn void usage(void)
{
	fputs("Usage: vfio-audit [options] [DOMAIN...]\n"
	      "\n"
	      "Check libvirt domains for what makes a passthrough start fail, or the guest\n"
	      "boot to nothing: each finding with why, and the XML that fixes it.\n"
	      "Without DOMAIN, every domain libvirt has.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --connect URI      libvirt's URI (default: libvirt's own)\n"
	      "      --domain-xml FILE  audit this XML instead of asking libvirt ('-': stdin,\n"
	      "                         as a hook gets it)\n"
	      "      --strict           warnings fail too (exit 1)\n"
	      "      --json             one JSON document (vfio-utils(7))\n"
	      "\n" VU_USAGE_COMMON "\n"
	      "Exit status: 0 no errors, 1 an error found (or, with --strict, a warning)\n"
	      "or the domains could not be read, 2 usage error.\n"
	      "See vfio-audit(1).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

/* A finding: ID names it for scripts, WHAT and WHY for people, FIX is the XML (or NULL). */
static void finding(struct audit *a, const struct domain *d, bool error, const char *id,
		    const char *fix, const char *fmt, ...) VU_PRINTF(6, 7);

static void finding(struct audit *a, const struct domain *d, bool error, const char *id,
		    const char *fix, const char *fmt, ...)
{
	struct vu_rec *r = vu_list_obj(a->findings);
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	vu_rec_str(r, "domain", d->name);
	vu_rec_str(r, "id", id);
	vu_rec_str(r, "severity", error ? "error" : "warning");
	vu_rec_str(r, "message", msg ? msg : id);
	vu_rec_str(r, "fix", fix);
	free(msg);
	if (error)
		a->errors++;
	else
		a->warnings++;
}

static void findings_text(const struct vu_rec *doc)
{
	const struct vu_list *l = vu_rec_l(doc, "findings");
	const struct vu_list *doms = vu_rec_l(doc, "domains");
	size_t errors = 0;

	for (size_t i = 0; i < vu_list_len(l); i++) {
		const struct vu_rec *f = vu_list_rec(l, i);
		const char *fix = vu_rec_s(f, "fix");
		bool error = strcmp(vu_rec_s(f, "severity"), "error") == 0;
		char esc[4096];

		errors += error;
		/* -q, as a hook's first line: errors alone, where libvirt shows them */
		if (vu_verbosity < VU_NORMAL) {
			if (error)
				vu_err("%s: %s", vu_rec_s(f, "domain"), vu_rec_s(f, "message"));
			continue;
		}
		/* A domain's name and its XML are anyone's who can define one: printed escaped. */
		printf("%s: ", vu_esc(vu_rec_s(f, "domain"), esc, sizeof(esc)));
		printf("%s: %s [%s]\n", vu_rec_s(f, "severity"),
		       vu_esc(vu_rec_s(f, "message"), esc, sizeof(esc)), vu_rec_s(f, "id"));
		if (fix)
			printf("  fix: %s\n", vu_esc(fix, esc, sizeof(esc)));
	}
	if (vu_verbosity < VU_NORMAL)
		return;
	printf("%zu domain%s: %zu error%s, %zu warning%s\n", vu_list_len(doms),
	       vu_list_len(doms) == 1 ? "" : "s", errors, errors == 1 ? "" : "s",
	       vu_list_len(l) - errors, vu_list_len(l) - errors == 1 ? "" : "s");
}

static void hostdev_xml(const struct vu_addr *p, char *buf, size_t size)
{
	snprintf(
	    buf, size,
	    "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/></source></hostdev>",
	    p->domain, p->bus, p->dev, p->func);
}

static bool passes(const struct domain *d, const struct vu_dev *dev)
{
	for (size_t i = 0; i < d->x.npci; i++)
		if (d->dev[i] == dev)
			return true;
	return false;
}

/*
 * The kernel lets a group open only when each member is on vfio-pci, on no
 * driver, or on a driver it allows beside (pci-stub, pcieport); QEMU says
 * "group N is not viable" otherwise. libvirt detaches what the domain passes.
 */
static void groups(struct audit *a, const struct domain *d)
{
	/* hook-run new's prepare script binds the whole group before libvirt's detach */
	bool whole = vu_hook_says(a->hooks, d->x.name, "prepare", "begin", vu_hook_binds_groups);

	for (size_t i = 0; i < d->x.npci; i++) {
		const struct vu_dev *dev = d->dev[i];
		char name[VU_NAME_MAX], fix[512];

		vu_addr_name(&d->x.pci[i], name);
		if (!dev) {
			finding(
			    a, d, true, "no-such-device", NULL,
			    "%s: passed, but this host has no such PCI device: QEMU cannot start (a card moved to another slot?)",
			    name);
			continue;
		}
		if (vu_inuse_why(&a->inuse, dev->name))
			finding(a, d, true, "host-needs-it", NULL,
				"%s: %s: libvirt's detach takes it from the host", name,
				vu_inuse_why(&a->inuse, dev->name));
		if (dev->group < 0) {
			finding(
			    a, d, true, "no-iommu-group", NULL,
			    "%s: in no IOMMU group: the IOMMU is off, and no device can be passed (iommu-groups --status)",
			    name);
			continue;
		}
		/* Each group once: at its first device the domain passes. */
		for (size_t k = 0; k < i; k++)
			if (d->dev[k] && d->dev[k]->group == dev->group)
				goto next;
		for (size_t m = 0; m < a->devs.n; m++) {
			const struct vu_dev *o = &a->devs.v[m];

			if (whole || o->group != dev->group || passes(d, o) ||
			    vu_dev_is_bridge(o) || !o->driver[0] ||
			    strcmp(o->driver, "vfio-pci") == 0 ||
			    strcmp(o->driver, "pci-stub") == 0 ||
			    strcmp(o->driver, "pcieport") == 0)
				continue;
			hostdev_xml(&o->addr, fix, sizeof(fix));
			finding(
			    a, d, true, "group-not-viable", fix,
			    "IOMMU group %d: %s shares it, is not passed and is on %s: QEMU fails with \"group %d is not viable\"",
			    dev->group, o->name, o->driver, dev->group);
		}
	next:;
	}
}

/* The first device D passes that IS, on this host; NULL without one. */
static const struct vu_dev *first(const struct domain *d, bool (*is)(const struct vu_dev *))
{
	for (size_t i = 0; i < d->x.npci; i++)
		if (d->dev[i] && is(d->dev[i]))
			return d->dev[i];
	return NULL;
}

/* The boot GPU passed while no prepare script hands the screen over: the host hangs on it. */
static void screen(struct audit *a, const struct domain *d)
{
	const struct vu_dev *gpu = first(d, vu_dev_boot_vga);

	if (gpu && !vu_hook_says(a->hooks, d->x.name, "prepare", "begin", vu_hook_hands_over))
		finding(
		    a, d, true, "boot-vga-no-handover",
		    "hook-run new --gpu ADDRESS NAME (its prepare script stops the display manager and unbinds the consoles and framebuffer)",
		    "%s: the host's boot GPU is passed, and no prepare/begin script hands the screen over: the host's console and display manager keep it, and the start hangs or the screen stays black",
		    gpu->name);
}

/* A managed='no' device libvirt will not detach: something must bind it, or the start fails. */
static void unmanaged(struct audit *a, const struct domain *d)
{
	for (size_t i = 0; i < d->x.npci; i++) {
		if (d->x.managed[i] || !d->dev[i] || strcmp(d->dev[i]->driver, "vfio-pci") == 0 ||
		    vu_hook_says(a->hooks, d->x.name, "prepare", "begin", vu_hook_binds))
			continue;
		finding(
		    a, d, true, "unmanaged-not-bound",
		    "managed='yes' on the <hostdev>, or 'vfio-bind --domain-xml -' in prepare/begin",
		    "%s: managed='no', not on vfio-pci, and no prepare/begin script binds it: libvirt refuses to start the domain",
		    d->dev[i]->name);
	}
}

static void machine(struct audit *a, const struct domain *d)
{
	const char *fw = d->x.firmware;
	bool efi = strcmp(fw, "efi") == 0 || strcasestr(d->x.loader, "ovmf") ||
		   strcasestr(d->x.loader, "edk2") || strcasestr(d->x.loader, "efi");

	if (!strstr(d->x.machine, "q35"))
		finding(
		    a, d, false, "machine-not-q35", "<type arch='x86_64' machine='q35'>hvm</type>",
		    "machine type %s: no PCI Express, so a GPU's driver may not find the link it expects; the guides use Q35",
		    d->x.machine[0] ? d->x.machine : "pc (libvirt's default)");
	if (!efi)
		finding(
		    a, d, false, "firmware-not-uefi", "<os firmware='efi'>",
		    "firmware %s: a GPU shows its screen at boot through its UEFI GOP; the guides use OVMF",
		    fw[0] ? fw : "BIOS (SeaBIOS, libvirt's default)");
	if (strcmp(d->x.cpu_mode, "host-passthrough") != 0)
		finding(a, d, false, "cpu-not-host-passthrough", "<cpu mode='host-passthrough'/>",
			"CPU mode %s: the guest sees a model, not this CPU, and runs slower",
			d->x.cpu_mode[0] ? d->x.cpu_mode : "unset");
}

/* A ROM QEMU cannot read stops the start; QEMU does not run as root. */
static void roms(struct audit *a, const struct domain *d)
{
	for (size_t i = 0; i < d->x.npci; i++) {
		const char *rom = d->x.rom[i];
		char path[PATH_MAX];
		struct stat st;

		if (!rom)
			continue;
		if (vu_path(path, sizeof(path), "%s", rom) < 0 || stat(path, &st) < 0)
			finding(a, d, true, "rom-missing", NULL,
				"%s: no ROM file %s: QEMU cannot start",
				d->dev[i] ? d->dev[i]->name : "?", rom);
		else if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IROTH))
			finding(
			    a, d, true, "rom-unreadable", NULL,
			    "%s: ROM file %s is not a file everyone can read: QEMU, which does not run as root, cannot read it (chmod 644)",
			    d->dev[i] ? d->dev[i]->name : "?", rom);
	}
}

/*
 * Debian's and Ubuntu's AppArmor confine QEMU, and virt-aa-helper does not
 * add a ROM file to a domain's profile (libvirt 9.0): only what the
 * libvirt-qemu abstraction allows is read, /usr/share/vgabios among it.
 */
static bool apparmor_confines_qemu(void)
{
	char on[8] = "", conf[65536] = "", *save = NULL;

	if (vu_readf(on, sizeof(on), "/sys/module/apparmor/parameters/enabled") <= 0 ||
	    on[0] != 'Y')
		return false;
	if (vu_readf(conf, sizeof(conf), "/etc/libvirt/qemu.conf") == -EOVERFLOW)
		conf[sizeof(conf) - 1] = '\0';
	/* security_driver = "none", not commented out: libvirt confines nothing */
	for (char *l = strtok_r(conf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l += strspn(l, " \t");
		if (strncmp(l, "security_driver", 15) == 0 && strstr(l, "\"none\""))
			return false;
	}
	return true;
}

static void rom_confined(struct audit *a, const struct domain *d)
{
	for (size_t i = 0; i < d->x.npci; i++) {
		const char *rom = d->x.rom[i];
		char fix[PATH_MAX + 64];

		if (!rom || strncmp(rom, "/usr/share/vgabios/", 19) == 0 ||
		    !apparmor_confines_qemu())
			continue;
		snprintf(fix, sizeof(fix), "<rom file='/usr/share/vgabios/%s'/>",
			 strrchr(rom, '/') ? strrchr(rom, '/') + 1 : rom);
		finding(
		    a, d, true, "rom-apparmor", fix,
		    "%s: ROM file %s lies outside /usr/share/vgabios, and AppArmor lets QEMU read ROMs only there: QEMU cannot start",
		    d->dev[i] ? d->dev[i]->name : "?", rom);
	}
}

/*
 * Huge pages the domain asks for that the kernel has not free now, size by
 * size and node by node: QEMU cannot get its memory. A prepare hook that
 * reserves them (vm-hugepages reserve) makes them free when it runs.
 */
static void huge(struct audit *a, const struct domain *d)
{
	const char *fix =
	    "vm-hugepages reserve --domain-xml - (a prepare hook; hook-run new writes it)";
	struct vu_hugeneed need[8];
	int n;

	if (!d->x.hugepages || d->active ||
	    vu_hook_says(a->hooks, d->x.name, "prepare", "begin", vu_hook_reserves_huge))
		return;
	if ((n = vu_huge_needs(&d->x, vu_huge_default_kib(), d->x.name, need, 8)) < 0)
		return;
	for (int i = 0; i < n; i++) {
		struct vu_hugepool pool, all;
		unsigned long avail;
		char at[32] = "";

		if (need[i].node >= 0)
			snprintf(at, sizeof(at), " on node %d", need[i].node);
		if (vu_huge_read(need[i].kib, need[i].node, &pool) < 0 ||
		    vu_huge_read(need[i].kib, -1, &all) < 0) {
			finding(
			    a, d, true, "hugepages-unavailable", NULL,
			    "<hugepages> of %lu KiB%s, which this kernel does not have: QEMU cannot get its memory",
			    need[i].kib, at);
			continue;
		}
		avail = all.free > all.resv ? all.free - all.resv : 0;
		avail = need[i].node >= 0 && pool.free < avail ? pool.free : avail;
		if (avail < need[i].pages)
			finding(
			    a, d, true, "hugepages-unavailable", fix,
			    "<hugepages>: its memory needs %lu pages of %lu KiB%s, and %lu are free: QEMU cannot get its memory",
			    need[i].pages, need[i].kib, at, avail);
	}
}

static bool nvidia_gpu(const struct vu_dev *d)
{
	return d->vendor == 0x10de && vu_dev_is_display(d);
}

/* NVIDIA's driver before 465 stops with error 43 in a VM it detects. */
static void nvidia(struct audit *a, const struct domain *d)
{
	const struct vu_dev *gpu = first(d, nvidia_gpu);

	if (gpu && (!d->x.kvm_hidden || !d->x.vendor_id))
		finding(
		    a, d, false, "nvidia-not-hidden",
		    "<features><kvm><hidden state='on'/></kvm><hyperv><vendor_id state='on' value='0123456789ab'/></hyperv></features>",
		    "%s: an NVIDIA GPU, and the domain does not hide the hypervisor: guest drivers before 465 stop with error 43",
		    gpu->name);
}

static void balloon(struct audit *a, const struct domain *d)
{
	if (d->x.npci && strcmp(d->x.balloon, "none") != 0 && d->x.balloon[0])
		finding(
		    a, d, false, "memballoon", "<memballoon model='none'/>",
		    "a %s memory balloon with host devices: their DMA pins all guest memory, which the balloon then cannot reclaim",
		    d->x.balloon);
}

/* The highest CPU a list names ("0-15", "0-3,8"). */
static long highest_cpu(const char *set)
{
	long last = -1;

	while (*set) {
		char *end;
		long n;

		if (!isdigit((unsigned char)*set)) {
			set++;
			continue;
		}
		n = strtol(set, &end, 10);
		last = n > last ? n : last;
		set = end;
	}
	return last;
}

/* A pin to a CPU this host does not have: libvirt refuses the start. */
static void pins(struct audit *a, const struct domain *d)
{
	char present[256];
	long want;

	if (d->x.bad_pins) {
		finding(
		    a, d, true, "pin-no-such-cpu", NULL,
		    "<cputune> pins to '%.64s', which is no list of CPUs: libvirt refuses to start it",
		    d->x.bad_pins);
		return;
	}
	if (!d->x.pinned ||
	    vu_readf(present, sizeof(present), "/sys/devices/system/cpu/present") <= 0)
		return;
	if ((want = vu_set_last(&d->x.pin_cpus)) > highest_cpu(present))
		finding(
		    a, d, true, "pin-no-such-cpu", NULL,
		    "<cputune> pins to CPU %ld, and this host's CPUs are %s: libvirt refuses to start it",
		    want, present);
}

/*
 * vCPUs pinned to CPUs of their own and left at the host's priority: a
 * housekeeping thread that lands there takes a vCPU's time. libvirt sets a
 * real-time priority itself; a started hook's vm-prio (or chrt) does it too.
 */
static void priority(struct audit *a, const struct domain *d)
{
	if (!d->x.vcpu_pinned || d->x.vcpusched ||
	    vu_hook_says(a->hooks, d->x.name, "started", "begin", vu_hook_sets_priority))
		return;
	finding(
	    a, d, false, "vcpu-priority-default",
	    "<cputune><vcpusched vcpus='0-N' scheduler='fifo' priority='1'/></cputune>",
	    "<vcpupin> pins its vCPUs, at the host's own priority: for lower latency, libvirt's <vcpusched> (or 'vm-prio set' in the started hook) raises it");
}

/*
 * vm-nosleep told to have the guest suspend, hibernate or shut down before
 * the host does: only its agent can, through the agent's channel.
 */
static void agent(struct audit *a, const struct domain *d)
{
	if (d->x.agent ||
	    !(vu_hook_says(a->hooks, d->x.name, "prepare", "begin", vu_hook_needs_agent) ||
	      vu_hook_says(a->hooks, d->x.name, "started", "begin", vu_hook_needs_agent)))
		return;
	finding(
	    a, d, false, "sleep-policy-no-agent",
	    "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
	    "its hook has vm-nosleep put the guest to sleep (or shut it down) before the host, and it has no guest agent channel: sleep stays blocked, shutdown is not delayed");
}

/* Two domains passing one device: only one can run. */
static void shared(struct audit *a, const struct domain *doms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			for (size_t k = 0; k < doms[i].x.npci; k++) {
				if (!doms[i].dev[k] || !passes(&doms[j], doms[i].dev[k]))
					continue;
				finding(a, &doms[j], doms[i].active && doms[j].active,
					"device-in-two-domains", NULL,
					"%s: %s passes it too: only one of them can run at a time",
					doms[i].dev[k]->name, doms[i].name);
			}
}

static void audit_domain(struct audit *a, const struct domain *d)
{
	groups(a, d);
	unmanaged(a, d);
	screen(a, d);
	roms(a, d);
	rom_confined(a, d);
	huge(a, d);
	nvidia(a, d);
	machine(a, d);
	balloon(a, d);
	pins(a, d);
	priority(a, d);
	agent(a, d);
}

/* D's devices on this host; -ENOMEM. */
static int find_devices(struct audit *a, struct domain *d)
{
	if (!(d->dev = calloc(d->x.npci + 1, sizeof(struct vu_dev *))))
		return -ENOMEM;
	for (size_t i = 0; i < d->x.npci; i++) {
		char name[VU_NAME_MAX];

		vu_addr_name(&d->x.pci[i], name);
		d->dev[i] = vu_devs_find(&a->devs, name);
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct domain *)a)->name, ((const struct domain *)b)->name);
}

static bool wanted(char **names, int n, const char *name)
{
	if (n == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* The domains to audit: FILE alone, or NAMES (all without) from libvirt at URI. */
static int load(const char *uri, const char *file, char **names, int n, struct domain **out,
		size_t *count)
{
	struct vu_virt_domains all = { 0 };
	struct domain *doms;
	char why[512];
	int status = VU_EXIT_OK;

	if (file) {
		if (!(doms = calloc(1, sizeof(*doms)))) {
			vu_errc(ENOMEM, "%s: cannot audit", file);
			return VU_EXIT_FAIL;
		}
		*out = doms;
		if (vu_domxml_read(file, &doms->x) < 0)
			return VU_EXIT_FAIL;
		doms->name = doms->x.name[0] ? doms->x.name : file;
		*count = 1;
		return VU_EXIT_OK;
	}
	if (vu_virt_list(uri, &all, why, sizeof(why)) < 0) {
		vu_err(
		    "cannot ask libvirt for its domains: %s (--domain-xml FILE reads one without it)",
		    why);
		return VU_EXIT_FAIL;
	}
	for (int i = 0; i < n; i++)
		if (!vu_virt_find(&all, names[i])) {
			vu_err("%s: no such domain at %s", names[i], uri ? uri : "libvirt");
			status = VU_EXIT_FAIL;
		}
	if (!(doms = calloc(all.n + 1, sizeof(*doms)))) {
		vu_errc(ENOMEM, "cannot audit the domains");
		vu_virt_free(&all);
		return VU_EXIT_FAIL;
	}
	*out = doms;
	for (size_t i = 0; i < all.n; i++) {
		struct domain *d = &doms[*count];

		if (!wanted(names, n, all.v[i].name) || !all.v[i].xml)
			continue;
		if (vu_domxml_parse(all.v[i].xml, strlen(all.v[i].xml), all.v[i].name, &d->x) < 0) {
			status = VU_EXIT_FAIL;
			continue;
		}
		if (!(d->name = strdup(all.v[i].name))) {
			vu_errc(ENOMEM, "%s: cannot audit", all.v[i].name);
			vu_domxml_free(&d->x);
			status = VU_EXIT_FAIL;
			continue;
		}
		d->active = all.v[i].active;
		(*count)++;
	}
	vu_virt_free(&all);
	/* libvirt lists them in no fixed order: by name, the same every run. */
	qsort(doms, *count, sizeof(*doms), by_name);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "domain-xml", required_argument, NULL, OPT_DOMAIN_XML },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *uri = NULL, *file = NULL;
	struct audit a = { .errors = 0 };
	bool strict = false;
	struct domain *doms = NULL;
	struct vu_list *names;
	struct vu_rec *doc;
	size_t n = 0;
	int opt, status;

	while ((opt = getopt_long(argc, argv, "c:vqhV", longopts, NULL)) != -1) {
		if (vu_common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'c':
			uri = optarg;
			break;
		case OPT_DOMAIN_XML:
			file = optarg;
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case 'h':
			usage();
		default:
			vu_errtryhelp();
		}
	}
	if (file && (optind < argc || uri))
		vu_usage_error("--domain-xml audits that file: no DOMAIN or --connect with it");
	vu_common_done();

	doc = vu_out_new("vfio-audit", vu_opt_json);
	names = vu_rec_list(doc, "domains");
	a.findings = vu_rec_list(doc, "findings");
	vu_path(a.hooks, sizeof(a.hooks), "/etc/libvirt/hooks");
	if (vu_devs_scan(&a.devs) < 0)
		return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
	vu_inuse_scan(&a.inuse);
	status = load(uri, file, argv + optind, argc - optind, &doms, &n);
	for (size_t i = 0; i < n; i++) {
		vu_list_str(names, doms[i].name);
		if (find_devices(&a, &doms[i]) < 0) {
			vu_errc(ENOMEM, "%s: cannot audit", doms[i].name);
			status = VU_EXIT_FAIL;
			continue;
		}
		audit_domain(&a, &doms[i]);
	}
	shared(&a, doms, n);
	if (a.errors || (strict && a.warnings))
		status = VU_EXIT_FAIL;
	status = vu_out_finish(doc, findings_text, status);
	for (size_t i = 0; i < n; i++) {
		vu_domxml_free(&doms[i].x);
		free(doms[i].dev);
		if (!file)
			free((char *)doms[i].name);
	}
	free(doms);
	vu_inuse_free(&a.inuse);
	vu_devs_free(&a.devs);
	return status;
}
