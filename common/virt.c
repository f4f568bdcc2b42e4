/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Asking libvirt, read-only, which domains exist and what they pass: libvirt is loaded only here.
 */
#include <errno.h>
#include <limits.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "run.h"
#include "sysfs.h"
#include "virt.h"
#include "util.h"

/* Linking libvirt costs ~14 ms at every start (57 libraries): it is opened only on this path. */
static typeof(virConnectOpenReadOnly) *v_open;
static typeof(virConnectListAllDomains) *v_list;
static typeof(virDomainGetName) *v_name;
static typeof(virDomainGetXMLDesc) *v_xml;
static typeof(virDomainIsActive) *v_active;
static typeof(virDomainFree) *v_free;
static typeof(virConnectClose) *v_close;
static typeof(virGetLastErrorMessage) *v_error;
static typeof(virSetErrorFunc) *v_set_error;

static void quiet(void *data, virErrorPtr err)
{
	(void)data, (void)err;
}

int vu_virt_list(const char *uri, struct vu_virt_domains *out, char *why, size_t size)
{
	static const struct vu_dlsym syms[] = {
		{ "virConnectOpenReadOnly", (void **)&v_open },
		{ "virConnectListAllDomains", (void **)&v_list },
		{ "virDomainGetName", (void **)&v_name },
		{ "virDomainGetXMLDesc", (void **)&v_xml },
		{ "virDomainIsActive", (void **)&v_active },
		{ "virDomainFree", (void **)&v_free },
		{ "virConnectClose", (void **)&v_close },
		{ "virGetLastErrorMessage", (void **)&v_error },
		{ "virSetErrorFunc", (void **)&v_set_error },
	};
	virDomainPtr *doms = NULL;
	virConnectPtr conn;
	int n;

	out->v = NULL;
	out->n = 0;
	if (!v_open && !vu_dl_open("libvirt.so.0", syms, VU_ARRAY_SIZE(syms), why, size))
		return -ENOSYS;
	/* Errors are ours to report, once, in our words. */
	v_set_error(NULL, quiet);
	if (!(conn = v_open(uri))) {
		snprintf(why, size, "%s: %s", uri ? uri : "libvirt", v_error());
		return -ECONNREFUSED;
	}
	n = v_list(conn, &doms, 0);
	if (n < 0) {
		snprintf(why, size, "%s: %s", uri ? uri : "libvirt", v_error());
		v_close(conn);
		return -EIO;
	}
	out->v = calloc((size_t)n + 1, sizeof(*out->v));
	for (int i = 0; i < n; i++) {
		struct vu_virt_domain *d = out->v ? &out->v[out->n] : NULL;

		if (d && (d->name = strdup(v_name(doms[i])))) {
			d->xml = v_xml(doms[i], 0);
			d->active = v_active(doms[i]) == 1;
			out->n++;
		}
		v_free(doms[i]);
	}
	free(doms);
	v_close(conn);
	return out->v ? 0 : -ENOMEM;
}

const struct vu_virt_domain *vu_virt_find(const struct vu_virt_domains *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].name, name) == 0)
			return &d->v[i];
	return NULL;
}

void vu_virt_free(struct vu_virt_domains *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].xml);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static bool systemctl_says(const char *verb, const char *unit, const char *want)
{
	char out[64];
	char *argv[] = { "systemctl", (char *)verb, NULL, NULL, NULL, NULL };

	if (strcmp(verb, "show") == 0) {
		argv[2] = "-P";
		argv[3] = "LoadState";
		argv[4] = (char *)unit;
	} else {
		argv[2] = (char *)unit;
	}
	return vu_run(argv, out, sizeof(out), VU_RUN_ASK_MS) >= 0 && strcmp(out, want) == 0;
}

const char *vu_virt_daemon(void)
{
	static const char *const running[][2] = { { "libvirtd.service", "libvirtd" },
						  { "virtqemud.service", "virtqemud" },
						  { "virtqemud.socket", "virtqemud" } };

	if (!vu_systemd_booted())
		return NULL;
	for (size_t i = 0; i < VU_ARRAY_SIZE(running); i++)
		if (systemctl_says("is-active", running[i][0], "active"))
			return running[i][1];
	if (systemctl_says("show", "libvirtd.service", "loaded"))
		return "libvirtd";
	if (systemctl_says("show", "virtqemud.service", "loaded"))
		return "virtqemud";
	return NULL;
}
