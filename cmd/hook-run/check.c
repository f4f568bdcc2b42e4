/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook-run check: audit the hooks for what would silently not run, or hang libvirt. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domxml.h"
#include "hooks.h"
#include "msg.h"
#include "opts.h"
#include "pciaddr.h"
#include "sysfs.h"
#include "virt.h"
#include "util.h"
#include "hook-run.h"

struct audit {
	char base[PATH_MAX];
	int problems, notes;
};

/* What is worth knowing but keeps nothing from working: said, and counted apart. */
static void note(struct audit *a, const char *fmt, const char *arg)
{
	char line[PATH_MAX * 2 + 512], esc[sizeof(line) * 4];

	snprintf(line, sizeof(line), fmt, arg);
	printf("note: %s\n", vu_esc(line, esc, sizeof(esc)));
	a->notes++;
}

static void problem(struct audit *a, const char *path, const char *fmt, const char *arg)
{
	char line[PATH_MAX * 2 + 512], esc[sizeof(line) * 4];
	int n = snprintf(line, sizeof(line), "%s: ", path + strlen(a->base) + 1);

	snprintf(line + n, sizeof(line) - (size_t)n, fmt, arg);
	/* A file name may hold a newline or an escape: one line each, whatever it is. */
	printf("%s\n", vu_esc(line, esc, sizeof(esc)));
	a->problems++;
}

/* What is inside a script that keeps it from working, or hangs libvirt. */
static void audit_script(struct audit *a, const char *path)
{
	char buf[65536], why[PATH_MAX + 128];
	ssize_t n;
	int fd;

	if (vu_hook_unsafe(a->base, path, why, sizeof(why), NULL)) {
		size_t len = strlen(path);

		/* The script's own path is said once, at the start of the line. */
		problem(a, path, "unsafe: %s",
			strncmp(why, path, len) == 0 && strncmp(why + len, ": ", 2) == 0
			    ? why + len + 2
			    : why);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (memcmp(buf, "\177ELF", 4) == 0)
		return;
	if (strncmp(buf, "#!", 2) != 0)
		problem(a, path, "%s", "no #! line: the kernel cannot run it (Exec format error)");
	if (strstr(buf, "\r\n"))
		problem(
		    a, path, "%s",
		    "CRLF line endings: '#!/bin/bash\\r' fails with 'bad interpreter' (dos2unix)");
	for (char *v = buf; (v = strstr(v, "virsh")); v += 5)
		if ((v == buf || strchr(" \t\n;|&(`$", v[-1])) && strchr(" \t\n", v[5])) {
			problem(
			    a, path, "%s",
			    "calls virsh: a hook that calls back into libvirt deadlocks it (vfio-bind and vfio-unbind do nodedev-detach's work)");
			break;
		}
}

/*
 * A guide's script beside one hook-run new wrote, in the same event: both
 * run, and the second acts on what the first handed over already.
 */
static void audit_twice(struct audit *a, const struct vu_names *scripts)
{
	char (*what)[256] = calloc(scripts->n ? scripts->n : 1, sizeof(*what));
	const char *ours = NULL;

	/* Each script read once: who wrote it, and what of a guide's work it does. */
	for (size_t i = 0; what && i < scripts->n; i++)
		if (hr_guide_work(scripts->v[i], what[i], sizeof(what[i])) == HR_OURS_HANDOVER &&
		    !ours)
			ours = scripts->v[i];
	for (size_t i = 0; what && ours && i < scripts->n; i++) {
		char line[sizeof(what[i]) + PATH_MAX + 256];
		const char *base = strrchr(ours, '/');

		/* hr_guide_work says nothing of the scripts new wrote: WHAT stays "". */
		if (!what[i][0])
			continue;
		snprintf(line, sizeof(line),
			 "does what %s (written by hook-run new) does too: %s. Both would run, the second on what the first handed over already: move it aside",
			 base ? base + 1 : ours, what[i]);
		problem(a, scripts->v[i], "%s", line);
	}
	free(what);
}

static void audit_event(struct audit *a, const char *guest, const char *op, const char *subop)
{
	struct vu_names scripts, skipped;

	if (vu_hook_scripts(a->base, guest, op, subop, &scripts, &skipped) < 0)
		return;
	for (size_t i = 0; i < skipped.n; i++) {
		struct stat st;

		if (stat(skipped.v[i], &st) == 0 && S_ISREG(st.st_mode))
			problem(a, skipped.v[i], "%s", "not executable: it never runs (chmod +x)");
	}
	for (size_t i = 0; i < scripts.n; i++)
		audit_script(a, scripts.v[i]);
	audit_twice(a, &scripts);
	vu_names_free(&scripts);
	vu_names_free(&skipped);
}

static void audit_guest(struct audit *a, const char *guest)
{
	struct vu_names ops, subs;
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/qemu.d/%s", a->base, guest);
	if (vu_listdir(path, &ops) < 0)
		return;
	for (size_t i = 0; i < ops.n; i++) {
		snprintf(path, sizeof(path), "%s/qemu.d/%s/%s", a->base, guest, ops.v[i]);
		if (strcmp(ops.v[i], "attach") == 0) {
			problem(a, path, "%s",
				"libvirt stopped sending 'attach' in 5.5: it never runs");
			continue;
		}
		if (!vu_hook_op_known(ops.v[i])) {
			problem(
			    a, path, "%s",
			    "libvirt sends no such event (prepare, start, started, stopped, release, migrate, restore, reconnect): a typo?");
			continue;
		}
		if (vu_listdir(path, &subs) < 0) {
			problem(a, path, "%s", "a file: scripts go in OPERATION/SUB-OPERATION");
			continue;
		}
		for (size_t k = 0; k < subs.n; k++) {
			char sub[PATH_MAX * 2 + 64];

			snprintf(sub, sizeof(sub), "%s/%s", path, subs.v[k]);
			if (!vu_hook_event(ops.v[i], subs.v[k])) {
				const char *expect = "begin";

				for (size_t e = 0; e < vu_hook_nevents; e++)
					if (strcmp(vu_hook_events[e].op, ops.v[i]) == 0)
						expect = vu_hook_events[e].subop;
				problem(a, sub, "libvirt sends this event with '%s': it never runs",
					expect);
				continue;
			}
			audit_event(a, guest, ops.v[i], subs.v[k]);
		}
		vu_names_free(&subs);
	}
	vu_names_free(&ops);
}

/*
 * A domain passing a PCI device with managed='no' starts only if that device
 * is on vfio-pci already: libvirt refuses otherwise ("must be manually
 * detached"). Something has to bind it: its prepare hook.
 */
static void unmanaged_unbound(struct audit *a, const struct vu_virt_domain *d)
{
	char path[PATH_MAX * 2], dev[VU_NAME_MAX];
	struct vu_domxml x;
	int unmanaged = -1;

	if (!d->xml || vu_domxml_parse(d->xml, strlen(d->xml), d->name, &x) < 0)
		return;
	for (size_t i = 0; i < x.npci && unmanaged < 0; i++)
		if (!x.managed[i])
			unmanaged = (int)i;
	if (unmanaged >= 0 && !vu_hook_says(a->base, d->name, "prepare", "begin", vu_hook_binds)) {
		vu_addr_name(&x.pci[unmanaged], dev);
		snprintf(path, sizeof(path), "%s/qemu.d/%s", a->base, d->name);
		problem(
		    a, path,
		    "passes %s unmanaged (managed='no') and no prepare script binds it: libvirt refuses to start it ('vfio-bind --domain-xml -' in prepare/begin does)",
		    dev);
	}
	vu_domxml_free(&x);
}

/*
 * Who runs the scripts: the qemu hook, or libvirt itself through hook-run's
 * link in qemu.d (libvirt 6.5 and later run each executable file there).
 */
static void audit_hook(struct audit *a, const struct vu_names *guests)
{
	char qemu[PATH_MAX + 16], link[PATH_MAX * 2];
	bool linked = false;

	for (size_t i = 0; i < guests->n && !linked; i++) {
		snprintf(link, sizeof(link), "%s/qemu.d/%s", a->base, guests->v[i]);
		linked = hr_is_self(link);
	}
	snprintf(qemu, sizeof(qemu), "%s/qemu", a->base);
	if (!vu_exists(qemu)) {
		if (!linked)
			problem(
			    a, qemu, "%s",
			    "missing: no hook runs anything (hook-run install, or the link qemu.d/vfio-utils -> hook-run that the package installs)");
		return;
	}
	if (hr_is_self(qemu))
		return;
	if (!linked)
		note(
		    a, "%s",
		    "qemu: not hook-run (the guides' dispatcher? hook-run install keeps it aside)");
	else if (hr_foreign_dispatcher(qemu))
		note(
		    a, "%s",
		    "qemu: a dispatcher of its own runs qemu.d's scripts, and hook-run in qemu.d leaves them to it (hook-run install puts hook-run in its place)");
}

int hr_check(const char *uri)
{
	struct audit a = { .problems = 0 };
	char path[PATH_MAX + 16], why[512];
	struct vu_virt_domains domains = { 0 };
	struct vu_names guests;
	bool asked, qemu_d;

	vu_path(a.base, sizeof(a.base), "/etc/libvirt/hooks");
	snprintf(path, sizeof(path), "%s/qemu.d", a.base);
	qemu_d = vu_listdir(path, &guests) == 0;
	audit_hook(&a, &guests);
	asked = vu_virt_list(uri, &domains, why, sizeof(why)) == 0;
	if (!qemu_d)
		note(&a, "%s", "qemu.d: none: no scripts to run");
	else if (!asked)
		note(&a, "cannot ask libvirt (%s): domain names not checked", why);
	for (size_t i = 0; i < guests.n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/qemu.d/%s", a.base, guests.v[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (!hr_is_self(path))
				note(
				    &a,
				    "qemu.d/%s: libvirt 6.5 and later runs files directly in qemu.d itself, for every event of every domain",
				    guests.v[i]);
			continue;
		}
		if (asked && !vu_virt_find(&domains, guests.v[i]))
			problem(&a, path,
				"no such domain at %s (a typo? the name is case-sensitive)",
				uri ? uri : "libvirt");
		audit_guest(&a, guests.v[i]);
	}
	for (size_t k = 0; k < domains.n; k++)
		unmanaged_unbound(&a, &domains.v[k]);
	vu_names_free(&guests);
	vu_virt_free(&domains);
	if (a.problems)
		printf("%d problem%s", a.problems, a.problems == 1 ? "" : "s");
	else
		printf("no problems");
	if (a.notes)
		printf(", %d note%s", a.notes, a.notes == 1 ? "" : "s");
	putchar('\n');
	return a.problems ? VU_EXIT_FAIL : VU_EXIT_OK;
}
