/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Asking libvirt, read-only, which domains exist: libvirt is loaded only here. */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "virt.h"

/* Linking libvirt costs ~14 ms at every start (57 libraries): it is opened only on this path. */
static typeof(virConnectOpenReadOnly) *v_open;
static typeof(virConnectListAllDomains) *v_list;
static typeof(virDomainGetName) *v_name;
static typeof(virDomainFree) *v_free;
static typeof(virConnectClose) *v_close;
static typeof(virGetLastErrorMessage) *v_error;
static typeof(virSetErrorFunc) *v_set_error;

static void quiet(void *data, virErrorPtr err)
{
	(void)data, (void)err;
}

int vu_virt_domains(const char *uri, struct vu_names *names, char *why, size_t size)
{
	static const struct vu_dlsym syms[] = {
		{ "virConnectOpenReadOnly", (void **)&v_open },
		{ "virConnectListAllDomains", (void **)&v_list },
		{ "virDomainGetName", (void **)&v_name },
		{ "virDomainFree", (void **)&v_free },
		{ "virConnectClose", (void **)&v_close },
		{ "virGetLastErrorMessage", (void **)&v_error },
		{ "virSetErrorFunc", (void **)&v_set_error },
	};
	virDomainPtr *doms = NULL;
	virConnectPtr conn;
	int n;

	names->v = NULL;
	names->n = 0;
	if (!v_open && !vu_dl_open("libvirt.so.0", syms, sizeof(syms) / sizeof(*syms), why, size))
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
	names->v = calloc((size_t)n + 1, sizeof(*names->v));
	for (int i = 0; i < n; i++) {
		if (names->v && (names->v[names->n] = strdup(v_name(doms[i]))))
			names->n++;
		v_free(doms[i]);
	}
	free(doms);
	v_close(conn);
	return names->v ? 0 : -ENOMEM;
}
