/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device model: PCI functions, their class, IOMMU group and bound driver. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "msg.h"
#include "sysfs.h"

/* Attributes are read relative to the device's directory, opened once. */
struct devdir {
	int fd;
	char path[PATH_MAX];
};

static int read_hex(const struct devdir *dd, const char *attr, unsigned *val)
{
	unsigned long v;
	int err = vu_read_ulong_at(dd->fd, attr, &v);

	if (err == -EINVAL) {
		vu_err("%s/%s: unexpected contents", dd->path, attr);
		return err;
	}
	if (err) {
		vu_errc(err, "%s/%s: cannot read", dd->path, attr);
		return err;
	}
	*val = (unsigned)v;
	return 0;
}

static int read_link(const struct devdir *dd, const char *attr, char *buf, size_t size)
{
	int n = vu_link_name_at(dd->fd, attr, buf, size);

	if (n == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	if (n < 0) {
		vu_errc(n, "%s/%s: cannot read link", dd->path, attr);
		return n;
	}
	return 0;
}

/* Kernels before 4.11 have no "revision" attribute: config space byte 8 holds it. */
static int read_revision(const struct devdir *dd, unsigned *rev)
{
	unsigned char config[9];
	ssize_t n;
	int fd;

	if (faccessat(dd->fd, "revision", F_OK, 0) == 0)
		return read_hex(dd, "revision", rev);
	fd = openat(dd->fd, "config", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, config, sizeof(config));
	if (n < 0) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		vu_errc(err, "%s/config: cannot read", dd->path);
		return err;
	}
	close(fd);
	*rev = n == (ssize_t)sizeof(config) ? config[8] : 0;
	return 0;
}

int vu_dev_read(const char *name, struct vu_dev *d)
{
	struct devdir dd;
	char group[32];
	char *end;
	int err;

	memset(d, 0, sizeof(*d));
	if (vu_addr_from_name(name, &d->addr) < 0)
		return -EINVAL;
	vu_addr_name(&d->addr, d->name);
	if ((err = vu_path(dd.path, sizeof(dd.path), "/sys/bus/pci/devices/%s", name)) < 0)
		return err;
	dd.fd = open(dd.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dd.fd < 0) {
		err = -errno;
		vu_errc(err, "%s: cannot open", dd.path);
		return err;
	}
	if ((err = read_hex(&dd, "vendor", &d->vendor)) < 0 ||
	    (err = read_hex(&dd, "device", &d->device)) < 0 ||
	    (err = read_hex(&dd, "class", &d->class)) < 0 ||
	    (err = read_revision(&dd, &d->rev)) < 0 ||
	    (err = read_link(&dd, "driver", d->driver, sizeof(d->driver))) < 0 ||
	    (err = read_link(&dd, "iommu_group", group, sizeof(group))) < 0) {
		close(dd.fd);
		return err;
	}
	close(dd.fd);
	d->group = -1;
	if (group[0]) {
		long g = strtol(group, &end, 10);

		if (*end || g < 0 || g > 0x7fffffff) {
			vu_err("%s/iommu_group: not a group: %s", dd.path, group);
			return -EINVAL;
		}
		d->group = (int)g;
	}
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return vu_addr_cmp(&((const struct vu_dev *)a)->addr, &((const struct vu_dev *)b)->addr);
}

int vu_devs_scan(struct vu_devs *out)
{
	struct vu_names names;
	char path[PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	err = vu_path(path, sizeof(path), "/sys/bus/pci/devices");
	if (!err)
		err = vu_listdir(path, &names);
	if (err) {
		vu_errc(err, "%s: cannot list PCI devices", path);
		return err;
	}
	out->v = calloc(names.n ? names.n : 1, sizeof(*out->v));
	if (!out->v) {
		vu_names_free(&names);
		vu_errc(ENOMEM, "cannot list PCI devices");
		return -ENOMEM;
	}
	for (size_t i = 0; i < names.n; i++) {
		struct vu_addr a;

		/* Anything that is not a PCI function name is not ours to read. */
		if (vu_addr_from_name(names.v[i], &a) < 0)
			continue;
		err = vu_dev_read(names.v[i], &out->v[out->n]);
		if (err) {
			vu_names_free(&names);
			vu_devs_free(out);
			return err;
		}
		if (a.domain)
			out->domains = true;
		out->n++;
	}
	vu_names_free(&names);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_dev);
	return 0;
}

void vu_devs_free(struct vu_devs *devs)
{
	free(devs->v);
	memset(devs, 0, sizeof(*devs));
}

struct vu_dev *vu_devs_find(const struct vu_devs *devs, const char *name)
{
	struct vu_dev key = { 0 };

	if (vu_addr_from_name(name, &key.addr) < 0)
		return NULL;
	return bsearch(&key, devs->v, devs->n, sizeof(*devs->v), cmp_dev);
}

static int cmp_member(const void *a, const void *b)
{
	return cmp_dev(*(struct vu_dev *const *)a, *(struct vu_dev *const *)b);
}

static int group_read(const struct vu_devs *devs, const char *num, struct vu_group *g)
{
	struct vu_names names;
	char path[PATH_MAX];
	char *end;
	int err;

	g->num = (int)strtol(num, &end, 10);
	if (*end || g->num < 0)
		return 1; /* not a group directory */
	err = vu_path(path, sizeof(path), "/sys/kernel/iommu_groups/%s/devices", num);
	if (!err)
		err = vu_listdir(path, &names);
	if (err) {
		vu_errc(err, "%s: cannot list", path);
		return err;
	}
	g->members = calloc(names.n ? names.n : 1, sizeof(struct vu_dev *));
	if (!g->members) {
		vu_names_free(&names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < names.n; i++) {
		struct vu_dev *d = vu_devs_find(devs, names.v[i]);

		/* Platform devices can share a group on some machines; only PCI is ours. */
		if (d)
			g->members[g->n++] = d;
	}
	vu_names_free(&names);
	if (g->n)
		qsort(g->members, g->n, sizeof(struct vu_dev *), cmp_member);
	return 0;
}

int vu_groups_scan(const struct vu_devs *devs, struct vu_groups *out)
{
	struct vu_names names;
	char path[PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	err = vu_path(path, sizeof(path), "/sys/kernel/iommu_groups");
	if (!err)
		err = vu_listdir(path, &names);
	if (err == -ENOENT)
		return 0;
	if (err) {
		vu_errc(err, "%s: cannot list", path);
		return err;
	}
	out->v = calloc(names.n ? names.n : 1, sizeof(*out->v));
	if (!out->v) {
		vu_names_free(&names);
		return -ENOMEM;
	}
	/* Version order of the names is numeric order: the guides' sort -V. */
	for (size_t i = 0; i < names.n; i++) {
		err = group_read(devs, names.v[i], &out->v[out->n]);
		if (err < 0) {
			vu_names_free(&names);
			vu_groups_free(out);
			return err;
		}
		if (err == 0)
			out->n++;
	}
	vu_names_free(&names);
	return 0;
}

void vu_groups_free(struct vu_groups *groups)
{
	for (size_t i = 0; i < groups->n; i++)
		free(groups->v[i].members);
	free(groups->v);
	memset(groups, 0, sizeof(*groups));
}

const struct vu_group *vu_groups_find(const struct vu_groups *groups, int num)
{
	for (size_t i = 0; i < groups->n; i++)
		if (groups->v[i].num == num)
			return &groups->v[i];
	return NULL;
}

bool vu_dev_is_bridge(const struct vu_dev *d)
{
	unsigned cls = d->class >> 8;

	return cls == 0x0600 || cls == 0x0604 || cls == 0x0609;
}

bool vu_dev_is_display(const struct vu_dev *d)
{
	return (d->class >> 16) == 0x03;
}

bool vu_dev_boot_vga(const struct vu_dev *d)
{
	char path[PATH_MAX];
	unsigned long boot = 0;

	return vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/boot_vga", d->name) == 0 &&
	       vu_read_ulong(path, &boot) == 0 && boot == 1;
}

void vu_dev_err_no_group(const struct vu_dev *d)
{
	vu_err("%s: in no IOMMU group: the IOMMU is off (see 'iommu-groups --status')", d->name);
}

int vu_devs_add_unique(struct vu_dev ***out, size_t *n, struct vu_dev *d)
{
	struct vu_dev **v;

	for (size_t i = 0; i < *n; i++)
		if ((*out)[i] == d)
			return 0;
	v = realloc(*out, (*n + 1) * sizeof(struct vu_dev *));
	if (!v)
		return -ENOMEM;
	v[(*n)++] = d;
	*out = v;
	return 0;
}

static int resolve_id(const struct vu_devs *devs, const char *arg, const struct vu_devarg *da,
		      bool all, struct vu_dev ***out, size_t *nout)
{
	char list[256] = "";
	size_t matches = 0, len = 0;

	for (size_t i = 0; i < devs->n; i++) {
		if (devs->v[i].vendor != da->vendor || devs->v[i].device != da->device)
			continue;
		matches++;
		if (len < sizeof(list) - VU_NAME_MAX - 8)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						len ? ", " : "", devs->v[i].name);
	}
	if (!matches) {
		vu_err("%s: no PCI device with this vendor:device ID", arg);
		return -ENODEV;
	}
	if (matches > 1 && !all) {
		vu_err("%s: matches %zu devices (%s); name one by address, or use --all", arg,
		       matches, list);
		return -ENODEV;
	}
	for (size_t i = 0; i < devs->n; i++)
		if (devs->v[i].vendor == da->vendor && devs->v[i].device == da->device &&
		    vu_devs_add_unique(out, nout, &devs->v[i]) < 0)
			return -ENOMEM;
	return 0;
}

int vu_devs_resolve(const struct vu_devs *devs, char *const *args, int nargs, bool all,
		    struct vu_dev ***out, size_t *nout)
{
	int failed = 0, err;

	*out = NULL;
	*nout = 0;
	for (int i = 0; i < nargs; i++) {
		struct vu_devarg da;
		char name[VU_NAME_MAX];
		struct vu_dev *d;

		if (vu_devarg_parse(args[i], &da) < 0) {
			vu_err("%s: not a PCI device (expected %s)", args[i], VU_DEVARG_HELP);
			return -EINVAL;
		}
		if (da.kind == VU_DEVARG_ID) {
			if ((err = resolve_id(devs, args[i], &da, all, out, nout)) < 0)
				failed = err;
			continue;
		}
		vu_addr_name(&da.addr, name);
		d = vu_devs_find(devs, name);
		if (!d) {
			vu_err("%s: no such PCI device", args[i]);
			failed = -ENODEV;
		} else if (vu_devs_add_unique(out, nout, d) < 0) {
			vu_errc(ENOMEM, "%s", args[i]);
			failed = -ENOMEM;
		}
	}
	return failed;
}

struct vu_rec *vu_dev_rec(struct vu_list *l, const struct vu_dev *d)
{
	struct vu_rec *r = vu_list_obj(l);

	vu_rec_str(r, "address", d->name);
	if (d->group >= 0)
		vu_rec_int(r, "group", d->group);
	else
		vu_rec_null(r, "group");
	vu_rec_str(r, "driver", d->driver[0] ? d->driver : NULL);
	return r;
}
