/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook-run new: start and release scripts for a guest's GPU. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act.h"
#include "device.h"
#include "util.h"
#include "domxml.h"
#include "hooks.h"
#include "msg.h"
#include "opts.h"
#include "pciaddr.h"
#include "sysfs.h"
#include "virt.h"
#include "hook-run.h"

static const struct vu_dev *pick_gpu(const struct vu_devs *devs, const char *arg)
{
	const struct vu_dev *pick = NULL;
	struct vu_dev **named;
	size_t n, ngpu = 0, nother = 0;
	int err;

	if (arg) {
		char *args[] = { (char *)arg };

		if ((err = vu_devs_resolve(devs, args, 1, false, &named, &n)) == -EINVAL)
			vu_errtryhelp();
		if (err < 0)
			return NULL;
		pick = named[0];
		free(named);
		return pick;
	}
	/* The only GPU; else the one the firmware did not boot on (the host keeps that). */
	for (size_t i = 0; i < devs->n; i++) {
		if (!vu_dev_is_display(&devs->v[i]))
			continue;
		ngpu++;
		if (!vu_dev_boot_vga(&devs->v[i]) && nother++ == 0)
			pick = &devs->v[i];
	}
	if (ngpu == 1)
		for (size_t i = 0; i < devs->n && !pick; i++)
			if (vu_dev_is_display(&devs->v[i]))
				pick = &devs->v[i];
	if (ngpu == 0)
		vu_err("no GPU (display controller) on this machine: name the device with --gpu");
	else if (nother > 1)
		vu_err("%zu GPUs the host does not boot on: name one with --gpu", nother);
	return ngpu && nother <= 1 ? pick : NULL;
}

/* One scaffolded script, written or, under dry run, shown as the shell that writes it. */
static int write_script(const char *path, const char *text, bool force)
{
	char dir[PATH_MAX], qdir[PATH_MAX * 4 + 8], qpath[PATH_MAX * 4 + 8];
	int fd, err = 0;
	FILE *f;

	if (!force && vu_exists(path)) {
		vu_err("%s: exists already: edit it, or --force replaces it", vu_unrooted(path));
		return -EEXIST;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	if (vu_dry_run) {
		vu_shell_word(qdir, sizeof(qdir), dir);
		vu_shell_word(qpath, sizeof(qpath), path);
		printf("mkdir -p %s\ncat > %s <<'EOF'\n%sEOF\nchmod 0755 %s\n", qdir, qpath, text,
		       qpath);
		return 0;
	}
	if ((err = vu_mkdir_p(dir)) < 0) {
		vu_errc(err, "%s: cannot create", vu_unrooted(dir));
		return err;
	}
	/* A link in the script's place is not followed: it could point anywhere. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0755);
	if (fd < 0 || fchmod(fd, 0755) < 0 || !(f = fdopen(fd, "w"))) {
		err = errno == ELOOP ? -ELOOP : -errno;
		if (fd >= 0)
			close(fd);
	} else {
		bool short_write = fputs(text, f) < 0;

		/* Closed whatever happened: fclose reports a write it had to buffer. */
		if (fclose(f) != 0 || short_write)
			err = errno ? -errno : -EIO;
	}
	if (err) {
		vu_errc(err, "%s: cannot write%s", vu_unrooted(path),
			err == -ELOOP ? " (a symbolic link)" : "");
		return err;
	}
	vu_report("wrote %s", vu_unrooted(path));
	return 0;
}

/* What the domain passes, as libvirt has it: how the start script takes its devices. */
enum hostdevs { HOSTDEVS_UNKNOWN, HOSTDEVS_MANAGED, HOSTDEVS_UNMANAGED };

/*
 * The start and release scripts. They name the commands, which hook-run
 * finds beside itself (first on their PATH): a move between a source build
 * and a package leaves them working.
 */
static int scripts(const char *guest, const struct vu_dev *gpu, bool screen, enum hostdevs hd,
		   char **start, char **release)
{
	char root[PATH_MAX * 4 + 8];
	const char *skip = screen ? "" : "# ";
	size_t len;
	FILE *f;

	/* The sysroot goes into shell scripts: as a word the shell reads back unchanged. */
	if (vu_shell_word(root, sizeof(root), vu_sysroot()) < 0) {
		vu_err("%s: path too long for a script", vu_sysroot());
		return -ENAMETOOLONG;
	}

	f = open_memstream(start, &len);
	fprintf(f,
		"#!/bin/sh\n# %s: before the VM starts. Written by hook-run new; yours to edit.\n"
		"# hook-run puts the directory of the commands first on PATH.\n",
		guest);
	fprintf(f, "# GPU %s [%04x:%04x], IOMMU group %d%s.\nset -e\n", gpu->name, gpu->vendor,
		gpu->device, gpu->group,
		screen ? ", the host's screen: hand the display over first"
		       : "; the host keeps its screen on another GPU");
	if (hd == HOSTDEVS_MANAGED)
		fputs(
		    "# The domain passes its PCI devices managed: libvirt would detach them itself\n"
		    "# after this script; vfio-bind takes them first, their whole IOMMU groups,\n"
		    "# refusing what would hang or harm the host, and remembers what they had.\n",
		    f);
	else if (hd == HOSTDEVS_UNMANAGED)
		fputs(
		    "# The domain passes some PCI devices unmanaged (managed='no'): libvirt starts\n"
		    "# it only once this script has bound them.\n",
		    f);
	if (*vu_sysroot())
		fprintf(f, "export VFIO_UTILS_SYSROOT=%s\n", root);
	/* Audited before anything changes: a start that cannot work leaves the screen alone. */
	fputs("# The domain's XML from stdin, read once for each line that needs it; audited\n"
	      "# first: an error (a group QEMU refuses, a ROM missing) stops the start here.\n"
	      "xml=$(cat)\n"
	      "printf '%s\\n' \"$xml\" | vfio-audit -q --domain-xml -\n",
	      f);
	fprintf(f, "%sdm-ctl stop\n%svtcon unbind\n%sefifb unbind\n", skip, skip, skip);
	/* The domain's own devices, from the XML libvirt gives the hook: no address to go stale. */
	if (hd != HOSTDEVS_UNKNOWN)
		fputs("printf '%s\\n' \"$xml\" | vfio-bind --group --domain-xml -\n", f);
	else
		fprintf(f, "vfio-bind --group %s\n", gpu->name);
	fclose(f);

	f = open_memstream(release, &len);
	fprintf(
	    f,
	    "#!/bin/sh\n# %s: after the VM is gone. Written by hook-run new; yours to edit.\n"
	    "# Every line runs, whatever failed before it: this also undoes a half-done start.\n",
	    guest);
	if (*vu_sysroot())
		fprintf(f, "export VFIO_UTILS_SYSROOT=%s\n", root);
	fprintf(f, "vfio-unbind --restore\n%sefifb bind\n%svtcon bind\n%sdm-ctl start\n", skip,
		skip, skip);
	fclose(f);
	return 0;
}

/* A resource's pair of scripts: what it is, its command, and where each goes. */
struct pair {
	const char *what, *cmd, *take, *give, *when;
	const char *paths[2];
};

/*
 * Host sleep held off first (05) and allowed again last (95): a host that
 * sleeps under a running VM loses the devices passed through; huge pages
 * reserved before the devices go (40) and given back after they return (60);
 * the host kept off a pinned domain's CPUs (45, 55); its vCPU threads'
 * priority once QEMU runs (started), put back at release.
 */
static const struct pair pairs[] = {
	{ "no host sleep while it runs", "vm-nosleep", "hold", "release", "before it starts",
	  { "prepare/begin/05-nosleep", "release/end/95-nosleep" } },
	{ "its huge pages", "vm-hugepages", "reserve", "release", "before QEMU starts",
	  { "prepare/begin/40-hugepages", "release/end/60-hugepages" } },
	{ "the host kept off its CPUs", "vm-cpus", "isolate", "release", "before QEMU starts",
	  { "prepare/begin/45-cpus", "release/end/55-cpus" } },
	{ "its vCPU threads' priority", "vm-prio", "set", "reset", "once its QEMU runs",
	  { "started/begin/50-prio", "release/end/50-prio" } },
};

/*
 * Each pair's scripts, reading the XML hook-run gives every script: the
 * first fails the start, saying why, when it cannot be done whole.
 */
static int pair_scripts(const char *guest, const struct pair *p, char **start, char **release)
{
	char root[PATH_MAX * 4 + 8];
	const char *when[] = { p->when, "after the VM is gone" };
	const char *verb[] = { p->take, p->give };
	char **out[] = { start, release };
	size_t len;

	if (vu_shell_word(root, sizeof(root), vu_sysroot()) < 0) {
		vu_err("%s: path too long for a script", vu_sysroot());
		return -ENAMETOOLONG;
	}
	for (int i = 0; i < 2; i++) {
		FILE *f = open_memstream(out[i], &len);

		fprintf(f, "#!/bin/sh\n# %s: %s, %s. Written by hook-run new; yours to edit.\n",
			guest, p->what, when[i]);
		if (i == 0)
			fputs("# Fails the start, saying why, when it cannot be done whole.\n", f);
		if (*vu_sysroot())
			fprintf(f, "export VFIO_UTILS_SYSROOT=%s\n", root);
		fprintf(f, "%s %s --domain-xml -\n", p->cmd, verb[i]);
		fclose(f);
	}
	return 0;
}

/* The GPU among the domain's devices: the first display controller, else the first device. */
static const struct vu_dev *domain_gpu(const struct vu_devs *devs, const struct vu_domxml *x)
{
	const struct vu_dev *first = NULL;

	for (size_t i = 0; i < x->npci; i++) {
		char name[VU_NAME_MAX];
		const struct vu_dev *d;

		vu_addr_name(&x->pci[i], name);
		if (!(d = vu_devs_find(devs, name)))
			continue;
		if (vu_dev_is_display(d))
			return d;
		first = first ? first : d;
	}
	return first;
}

/* The scripts a domain's resources get besides its devices': each pair's start, release. */
struct extra {
	char *s[VU_ARRAY_SIZE(pairs)][2];
};

static void extra_free(struct extra *e)
{
	for (size_t i = 0; i < VU_ARRAY_SIZE(pairs); i++)
		for (int k = 0; k < 2; k++)
			free(e->s[i][k]);
}

/* No sleep for every domain; huge pages for one backed by them; CPUs and priority for a pinned one. */
static int extra_scripts(const char *guest, const struct vu_domxml *x, struct extra *e)
{
	bool wants[] = { true, x->hugepages, x->pinned, x->pinned };

	memset(e, 0, sizeof(*e));
	for (size_t i = 0; i < VU_ARRAY_SIZE(pairs); i++)
		if (wants[i] && pair_scripts(guest, &pairs[i], &e->s[i][0], &e->s[i][1]) < 0)
			return -ENOMEM;
	return 0;
}

static int extra_write(const char *base, const char *guest, const struct extra *e, bool force)
{
	char path[PATH_MAX * 2];
	int err = 0;

	for (size_t i = 0; i < VU_ARRAY_SIZE(pairs); i++)
		for (int k = 0; k < 2 && !err && e->s[i][k]; k++) {
			snprintf(path, sizeof(path), "%s/qemu.d/%s/%s", base, guest, pairs[i].paths[k]);
			err = write_script(path, e->s[i][k], force);
		}
	return err;
}

/* Where --move-aside keeps a guide's scripts: beside qemu.d, never run, put back with mv. */
#define ASIDE "vfio-utils-aside"

/*
 * The scripts of GUEST's prepare and release events, not written here, that
 * do the hand-over's work too: the guides' start.sh and revert.sh. Refused
 * (both would run), or with MOVE kept in ASIDE. 0, or -EEXIST / -errno (said).
 */
static int guide_scripts(const char *base, const char *guest, bool move)
{
	static const char *const events[][2] = { { "prepare", "begin" }, { "release", "end" } };
	char what[256], dest[PATH_MAX * 2], dir[PATH_MAX * 2];
	struct vu_names scripts, skipped;
	int err = 0;

	/* Every one refused is named; a move that fails stops there. */
	for (size_t e = 0; e < VU_ARRAY_SIZE(events) && (!err || err == -EEXIST); e++) {
		if (vu_hook_scripts(base, guest, events[e][0], events[e][1], &scripts, &skipped) <
		    0)
			continue;
		for (size_t i = 0; i < scripts.n && (!err || err == -EEXIST); i++) {
			const char *path = scripts.v[i], *rel = path + strlen(base) + 1;

			if (hr_guide_work(path, what, sizeof(what)) != HR_THEIRS || !what[0])
				continue;
			snprintf(dest, sizeof(dest), "%s/%s/%s", base, ASIDE,
				 rel + strlen("qemu.d/"));
			snprintf(dir, sizeof(dir), "%s", dest);
			*strrchr(dir, '/') = '\0';
			if (!move) {
				vu_err(
				    "%s: a guide's script that does what hook-run new writes (%s): both would run (--move-aside keeps it in %s)",
				    vu_unrooted(path), what, vu_unrooted(dir));
				err = -EEXIST;
				continue;
			}
			vu_act_command("mkdir -p %s", dir);
			vu_act_command("mv %s %s", path, dest);
			if (!vu_dry_run && (err = vu_mkdir_p(dir)) == 0 && rename(path, dest) < 0)
				err = -errno;
			if (err) {
				vu_errc(err, "%s: cannot move aside", vu_unrooted(path));
				break;
			}
			if (!vu_dry_run)
				vu_report("moved %s aside to %s (mv it back to run it again)",
					  vu_unrooted(path), vu_unrooted(dest));
		}
		vu_names_free(&scripts);
		vu_names_free(&skipped);
	}
	return err;
}

/*
 * The GPU a guide's kvm.conf names (VIRSH_GPU_VIDEO=pci_0000_0a_00_0), as
 * an address in BUF: 0, or -ENOENT.
 */
static int kvm_conf_gpu(const char *base, char *buf, size_t size)
{
	char path[PATH_MAX + 16], line[256];
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "%s/kvm.conf", base);
	if (!(f = fopen(path, "re")))
		return -ENOENT;
	while (err && fgets(line, sizeof(line), f)) {
		const char *v = line + strspn(line, " \t");

		if (strncmp(v, "VIRSH_GPU_VIDEO=", 16) != 0)
			continue;
		v += 16 + strspn(v + 16, "\"'");
		/* libvirt's node device name, pci_DDDD_BB_SS_F; --gpu's parser checks it. */
		if (strncmp(v, "pci_", 4) == 0 && strspn(v + 4, "0123456789abcdefABCDEF_") >= 12 &&
		    size > 12) {
			snprintf(buf, size, "%.4s:%.2s:%.2s.%.1s", v + 4, v + 9, v + 12, v + 15);
			err = 0;
		}
	}
	fclose(f);
	return err ? -ENOENT : 0;
}

int hr_new(const char *guest, const char *gpu_arg, bool force, bool move_aside, const char *uri)
{
	char kvm_gpu[32];
	char base[PATH_MAX], path[PATH_MAX * 2], *start = NULL, *release = NULL;
	struct extra extra;
	enum hostdevs hd = HOSTDEVS_UNKNOWN;
	const struct vu_dev *gpu = NULL;
	struct vu_domxml x;
	struct vu_devs devs;
	int err, known = -1;

	if (!vu_hook_name_safe(guest))
		vu_usage_error("%s: not a name a hook directory can have (no '/', not . or ..)",
			       guest);
	/* A misspelt name writes scripts no event ever runs: libvirt says which exist. */
	memset(&x, 0, sizeof(x));
	if (uri &&
	    (known = hr_ask_domain(uri, guest, &x, "the scripts name this machine's GPU")) == 0 &&
	    !force) {
		vu_err(
		    "%s: no such domain at %s (a typo? the name is case-sensitive; --force writes the scripts anyway)",
		    guest, uri);
		return VU_EXIT_FAIL;
	}
	if (vu_devs_scan(&devs) < 0) {
		vu_domxml_free(&x);
		return VU_EXIT_FAIL;
	}
	if (x.npci) {
		hd = HOSTDEVS_MANAGED;
		for (size_t i = 0; i < x.npci; i++)
			if (!x.managed[i])
				hd = HOSTDEVS_UNMANAGED;
		gpu = gpu_arg ? NULL : domain_gpu(&devs, &x);
	} else if (known == 1) {
		vu_report(
		    "%s passes no PCI device yet: add the GPU's functions as host devices (iommu-groups --virsh names them)",
		    guest);
	}
	if (extra_scripts(guest, &x, &extra) < 0) {
		extra_free(&extra);
		vu_domxml_free(&x);
		vu_devs_free(&devs);
		return VU_EXIT_FAIL;
	}
	vu_domxml_free(&x);
	vu_path(base, sizeof(base), "/etc/libvirt/hooks");
	/* No domain to ask: the GPU the guide's kvm.conf names for its start.sh. */
	if (!gpu && !gpu_arg && kvm_conf_gpu(base, kvm_gpu, sizeof(kvm_gpu)) == 0) {
		vu_report("the GPU kvm.conf names (VIRSH_GPU_VIDEO): %s", kvm_gpu);
		gpu_arg = kvm_gpu;
	}
	if (!gpu && !(gpu = pick_gpu(&devs, gpu_arg))) {
		extra_free(&extra);
		vu_devs_free(&devs);
		return VU_EXIT_FAIL;
	}
	if (gpu->group < 0) {
		vu_dev_err_no_group(gpu);
		extra_free(&extra);
		vu_devs_free(&devs);
		return VU_EXIT_FAIL;
	}
	/* The GPU with the host's screen: the display has to be handed over first. */
	err = scripts(guest, gpu, vu_dev_boot_vga(gpu), hd, &start, &release);
	vu_devs_free(&devs);
	if (err) {
		extra_free(&extra);
		return VU_EXIT_FAIL;
	}
	/* Before anything is written: a guide's script beside ours would do it all twice. */
	if (guide_scripts(base, guest, move_aside) < 0) {
		free(start);
		free(release);
		extra_free(&extra);
		return VU_EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/qemu.d/%s/prepare/begin/50-vfio-utils", base, guest);
	err = write_script(path, start, force);
	snprintf(path, sizeof(path), "%s/qemu.d/%s/release/end/50-vfio-utils", base, guest);
	if (!err)
		err = write_script(path, release, force);
	if (!err)
		err = extra_write(base, guest, &extra, force);
	free(start);
	free(release);
	extra_free(&extra);
	if (err)
		return VU_EXIT_FAIL;
	vu_report("check them with: hook-run check");
	return VU_EXIT_OK;
}
