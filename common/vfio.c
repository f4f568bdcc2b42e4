/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Handing devices to vfio-pci and back, the way libvirt does, with what was there remembered. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "run.h"
#include "holders.h"
#include "msg.h"
#include "sysfs.h"
#include "util.h"
#include "vfio.h"

static long long now_ms(void)
{
	return (long long)(vu_now() * 1000);
}

static const char *const files[] = { VU_STATE_DEVICES, VU_STATE_MODULES, VU_STATE_LOADED };

static struct vu_records *file_recs(struct vu_vfio *v, int i)
{
	return i == 0 ? &v->devices : i == 1 ? &v->modules : &v->inserted;
}

/* File I read again, as it is now: what this run saw before is stale. */
static int reread(struct vu_vfio *v, int i, bool again)
{
	struct vu_records *recs = file_recs(v, i);
	int err;

	vu_records_free(recs);
	/* a damage said once */
	err = again ? vu_state_reread(files[i], recs) : vu_state_load(files[i], recs);
	if (again && err < 0 && err != -EBADMSG)
		vu_errc(err, "/run/vfio-utils/%s: cannot read", files[i]);
	if (err < 0 && err != -EBADMSG)
		return err;
	return vu_records_copy(&v->base[i], recs) < 0 ? -ENOMEM : 0;
}

int vu_vfio_begin(struct vu_vfio *v, int timeout_ms)
{
	int lock = -1;

	v->timeout_ms = timeout_ms;
	v->owner = vu_vfio_owner();
	v->modules_lock = -1;
	/*
	 * The three read at one moment, under the shared lock for the read
	 * alone; a lock that cannot be taken (the directory a link, open to
	 * others) stops the run before anything changes.
	 */
	if (!vu_dry_run && (lock = vu_state_lock_said(timeout_ms)) < 0)
		return lock;
	for (int i = 0; i < 3; i++) {
		int err = reread(v, i, false);

		if (err < 0 && !vu_dry_run) {
			vu_state_unlock(lock);
			vu_vfio_free(v);
			return err;
		}
	}
	vu_state_unlock(lock);
	return 0;
}

/* A lock of its own for NAME, waiting until DEADLINE (ms, CLOCK_MONOTONIC) at most. */
static int lock_until(const char *name, const char *what, long long deadline, int timeout_ms)
{
	long long left = deadline - now_ms();
	int fd = vu_state_lock_named(name, left > 0 ? (int)left : 0);

	if (fd == -ETIMEDOUT)
		vu_err("%s: another vfio-bind or vfio-unbind has held it for %d s (/run/vfio-utils/%s)",
		       what, timeout_ms / 1000, name);
	else if (fd < 0)
		vu_errc(fd, "/run/vfio-utils/%s: cannot take the lock", name);
	return fd;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vu_vfio_lock(struct vu_vfio *v, struct vu_dev *const *devs, size_t n)
{
	long long deadline = now_ms() + v->timeout_ms;
	int err = 0;

	if (vu_dry_run)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (vu_names_add_unique(&v->locked, devs[i]->name) < 0)
			return -ENOMEM;
	/* In one order for every run: two runs that want the same two never wait on each other. */
	if (v->locked.n)
		qsort(v->locked.v, v->locked.n, sizeof(*v->locked.v), by_name);
	if (!(v->dev_locks = calloc(v->locked.n + 1, sizeof(*v->dev_locks))))
		return -ENOMEM;
	for (size_t i = 0; i < v->locked.n; i++)
		v->dev_locks[i] = -1;
	for (size_t i = 0; i < v->locked.n && !err; i++) {
		char name[VU_STATE_TEXT + 16];

		snprintf(name, sizeof(name), "dev-%s.lock", v->locked.v[i]);
		if ((v->dev_locks[i] = lock_until(name, v->locked.v[i], deadline, v->timeout_ms)) < 0)
			err = v->dev_locks[i];
	}
	for (int i = 0; i < 3 && !err; i++)
		err = reread(v, i, true);
	return err;
}

int vu_vfio_lock_modules(struct vu_vfio *v)
{
	int err = 0;

	if (vu_dry_run || v->modules_lock >= 0)
		return 0;
	v->modules_lock = lock_until("modules.lock", "the vfio modules", now_ms() + v->timeout_ms,
				     v->timeout_ms);
	if (v->modules_lock < 0)
		return v->modules_lock;
	for (int i = 1; i < 3 && !err; i++)
		err = reread(v, i, true);
	return err;
}

/*
 * The devices file is shared, a key per device: this run's changes go into
 * what it holds now. The module files are whole under the modules' lock,
 * written as this run has them: their order is the load order, which a
 * removal follows backwards (irqbypass after vfio_pci_core that uses it).
 */
static int save_file(struct vu_vfio *v, int i)
{
	int err;

	if (i == 0)
		return vu_state_save_changes(files[i], &v->base[i], file_recs(v, i));
	if ((err = vu_state_save(files[i], file_recs(v, i))) == 0 &&
	    vu_records_copy(&v->base[i], file_recs(v, i)) < 0)
		err = -ENOMEM;
	return err;
}

int vu_vfio_unlock_modules(struct vu_vfio *v)
{
	int err = 0;

	if (vu_dry_run || v->modules_lock < 0)
		return 0;
	for (int i = 1; i < 3 && !err; i++)
		err = save_file(v, i);
	vu_state_unlock(v->modules_lock);
	v->modules_lock = -1;
	return err;
}

const char *vu_vfio_others(const struct vu_vfio *v)
{
	static char other[VU_STATE_TEXT];
	struct vu_records now = { 0 };
	const char *found = NULL;

	/* As the file is now: a run that began after this one read it may be binding. */
	if (vu_state_reread(VU_STATE_DEVICES, &now) < 0 && !now.n)
		return NULL;
	for (size_t i = 0; i < now.n && !found; i++) {
		bool mine = false;

		for (size_t k = 0; k < v->locked.n && !mine; k++)
			mine = strcmp(v->locked.v[k], now.v[i].key) == 0;
		if (!mine) {
			snprintf(other, sizeof(other), "%s", now.v[i].key);
			found = other;
		}
	}
	vu_records_free(&now);
	return found;
}

bool vu_vfio_damaged(const struct vu_vfio *v, const char **name)
{
	const struct vu_records *recs[] = { &v->devices, &v->modules, &v->inserted };

	for (int i = 0; i < 3; i++)
		if (recs[i]->damaged) {
			*name = files[i];
			return true;
		}
	return false;
}

int vu_vfio_keep_aside(struct vu_vfio *v)
{
	int err = 0, lock = vu_state_lock(VU_STATE_SAVE_WAIT_MS);

	if (lock < 0) {
		vu_errc(lock, "/run/vfio-utils: cannot take the lock");
		return -EIO;
	}
	for (int i = 0; i < 3; i++) {
		struct vu_records *recs = file_recs(v, i), now = { 0 };

		if (!recs->damaged)
			continue;
		/* Another run may have kept it aside, and written it anew, meanwhile. */
		if (vu_state_reread(files[i], &now) == -EBADMSG && vu_state_keep_aside(files[i], &now) < 0)
			err = -EIO;
		vu_records_free(&now);
		if (err)
			break;
		/* What could be read of it is written as this run's own. */
		recs->damaged = false;
		vu_records_free(&v->base[i]);
	}
	vu_state_unlock(lock);
	return err;
}

int vu_vfio_save(struct vu_vfio *v)
{
	int err = 0;

	if (vu_dry_run)
		return 0;
	for (int i = 0; i < 3 && !err; i++)
		/* the module files are written by their lock's holder alone */
		if (i == 0 || v->modules_lock >= 0)
			err = save_file(v, i);
	return err;
}

void vu_vfio_free(struct vu_vfio *v)
{
	if (v->modules_lock >= 0)
		vu_state_unlock(v->modules_lock);
	v->modules_lock = -1;
	for (size_t i = 0; v->dev_locks && i < v->locked.n; i++)
		vu_state_unlock(v->dev_locks[i]);
	free(v->dev_locks);
	v->dev_locks = NULL;
	vu_names_free(&v->locked);
	vu_names_free(&v->loaded);
	vu_records_free(&v->devices);
	vu_records_free(&v->modules);
	vu_records_free(&v->inserted);
	for (int i = 0; i < 3; i++)
		vu_records_free(&v->base[i]);
}

int vu_vfio_end(struct vu_vfio *v)
{
	int err = vu_vfio_save(v), e2 = vu_vfio_unlock_modules(v);

	vu_vfio_free(v);
	return err ? err : e2;
}

const char *vu_vfio_owner(void)
{
	static char owner[VU_STATE_TEXT];
	const char *guest = getenv("VFIO_UTILS_GUEST");

	if (!guest || !*guest || !getenv("VFIO_UTILS_HOOK"))
		return NULL;
	vu_state_key(guest, owner);
	return owner;
}

bool vu_vfio_owns(const struct vu_vfio *v, const struct vu_record *r)
{
	const char *dom = vu_record_get(r, "domain");

	return !v->owner || (dom && strcmp(dom, v->owner) == 0);
}

void vu_dev_refresh_driver(struct vu_dev *d)
{
	char path[PATH_MAX];

	if (vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", d->name) < 0 ||
	    vu_link_name(path, d->driver, sizeof(d->driver)) < 0)
		d->driver[0] = '\0';
}

static bool driver_registered(const char *driver)
{
	return vu_existsf("/sys/bus/pci/drivers/%s", driver);
}

/* In removal order; iommufd (6.2 and later, where the kernel has it) is vfio's dependency. */
const char *const vu_vfio_modules[] = { "vfio_pci",    "vfio_pci_core", "vfio_iommu_type1",
					"vfio_virqfd", "vfio",		"iommufd",
					NULL };

/*
 * The load's child is forked, not yet loading: the vfio modules not loaded now
 * are remembered as vfio-bind's, in load order, with the child's PID. Killed
 * in the middle of modprobe, or left to the kernel past the deadline, a run
 * leaves nothing loaded that vfio-unbind does not know of, and vfio-unbind
 * sees the load may still go on while that process lives.
 */
static int remember_intent(void *arg, pid_t loader)
{
	struct vu_vfio *v = arg;
	char pid[16];
	size_t n = 0;

	snprintf(pid, sizeof(pid), "%d", (int)loader);
	while (vu_vfio_modules[n])
		n++;
	for (size_t i = n; i-- > 0;)
		if (vu_mod_state(v->kmod, vu_vfio_modules[i]) == VU_MOD_UNLOADED &&
		    !vu_records_set(&v->inserted, vu_vfio_modules[i], "by", "vfio-bind", "pid",
				    pid, (char *)NULL))
			return -EINVAL;
	v->loader = loader;
	return save_file(v, 2);
}

/* After it: of this load's intent, only what it inserted stays remembered, in its order. */
static void settle_intent(struct vu_vfio *v)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)v->loader);
	for (size_t i = v->inserted.n; i-- > 0;) {
		const char *p = vu_record_get(&v->inserted.v[i], "pid");

		if (p && strcmp(p, pid) == 0)
			vu_records_del(&v->inserted, v->inserted.v[i].key);
	}
	for (size_t i = 0; i < v->loaded.n; i++)
		vu_records_set(&v->inserted, v->loaded.v[i], "by", "vfio-bind", (char *)NULL);
}

int vu_vfio_pending_load(const struct vu_vfio *v)
{
	for (size_t i = 0; i < v->inserted.n; i++) {
		const char *p = vu_record_get(&v->inserted.v[i], "pid");
		long pid = p ? strtol(p, NULL, 10) : 0;
		int err;

		if (pid > 0 && pid <= INT_MAX &&
		    (err = vu_proc_wait_gone((pid_t)pid, "vfio-bind", v->timeout_ms)) < 0) {
			if (err == -ETIMEDOUT)
				vu_err("vfio-pci: a load of the vfio modules (PID %ld) is still in the kernel after %d s: they stay remembered; try again once it is done",
				       pid, v->timeout_ms / 1000);
			else
				vu_errc(err, "vfio-pci: the load of PID %ld", pid);
			return err;
		}
	}
	return 0;
}

static int load(struct vu_vfio *v)
{
	struct vu_names *loaded = &v->loaded;
	enum vu_modstate st = vu_mod_state(v->kmod, "vfio_pci");
	int err;

	if (st == VU_MOD_LOADED || st == VU_MOD_BUILTIN || driver_registered("vfio-pci"))
		return 0;
	if (st == VU_MOD_UNKNOWN) {
		vu_err(
		    "vfio-pci: no such module for this kernel: install the kernel's vfio modules");
		return -ENOENT;
	}
	vu_act_command("%s vfio-pci", vu_act_modprobe());
	if (vu_dry_run)
		return 0;
	/* An earlier load left to the kernel: wait for it, not beside it. */
	if ((err = vu_vfio_pending_load(v)) < 0)
		return err;
	if (vu_mod_state(v->kmod, "vfio_pci") == VU_MOD_LOADED)
		return 0;
	v->loader = 0;
	err = vu_mod_load_timeout(v->kmod, "vfio-pci", loaded, v->timeout_ms, remember_intent, v);
	/* Timed out, what the load inserted is not known: the intent stays remembered. */
	if (err != -ETIMEDOUT && v->loader)
		settle_intent(v);
	if (err < 0) {
		if (err == -ETIMEDOUT)
			vu_err(
			    "vfio-pci: loading the module did not finish in %d s: left to the kernel",
			    v->timeout_ms / 1000);
		else
			vu_errc(err, "vfio-pci: cannot load the module");
		vu_vfio_unload_loaded(v);
	} else if (loaded->n) {
		char list[512];
		size_t len = 0;

		for (size_t i = 0; i < loaded->n; i++)
			len +=
			    (size_t)snprintf(list + len, sizeof(list) - len, " %s", loaded->v[i]);
		vu_report("loaded%s", list);
	}
	return err;
}

int vu_vfio_load(struct vu_vfio *v)
{
	/*
	 * Under the modules' lock even when loaded: a vfio-unbind removing them
	 * (nothing of this run's on vfio-pci yet) is done first, and this run's
	 * devices, remembered before, tell a later one that they are coming.
	 */
	int err = vu_vfio_lock_modules(v);

	if (!err)
		err = load(v);
	if (vu_vfio_unlock_modules(v) < 0 && !err)
		err = -EIO;
	return err;
}

void vu_vfio_unload_loaded(struct vu_vfio *v)
{
	bool held = v->modules_lock >= 0;
	const char *other;

	if (!v->loaded.n || (!held && vu_vfio_lock_modules(v) < 0))
		return;
	/* Another VM's devices came to vfio-pci meanwhile: the modules stay, remembered. */
	if ((other = vu_vfio_others(v)))
		vu_warn("vfio-pci: %s is being taken for another VM: the vfio modules stay loaded",
			other);
	for (size_t i = v->loaded.n; !other && i-- > 0;) {
		int err = vu_mod_unload(v->kmod, v->loaded.v[i]);

		/* One that stays is still remembered, for vfio-unbind to take out. */
		if (err < 0 && err != -ENOENT)
			vu_errc(err, "%s: cannot unload it again", v->loaded.v[i]);
		else
			vu_records_del(&v->inserted, v->loaded.v[i]);
	}
	vu_names_free(&v->loaded);
	if (!held)
		vu_vfio_unlock_modules(v);
}

int vu_vfio_holders(struct vu_dev *const *devs, size_t n, struct vu_holders *out)
{
	struct vu_names all = { 0 };
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		struct vu_names nodes;

		if ((err = vu_dev_nodes(devs[i], &nodes)) < 0)
			break;
		for (size_t k = 0; k < nodes.n && !err; k++) {
			char **v = realloc(all.v, (all.n + 1) * sizeof(*v));

			if (!v) {
				err = -ENOMEM;
				break;
			}
			all.v = v;
			all.v[all.n++] = nodes.v[k];
			nodes.v[k] = NULL;
		}
		vu_names_free(&nodes);
	}
	if (!err)
		err = vu_holders_find(&all, out);
	vu_names_free(&all);
	return err;
}

bool vu_vfio_held(const struct vu_holders *h, const struct vu_dev *d, char *why, size_t size)
{
	struct vu_holders mine = { 0 };
	struct vu_names nodes;
	bool held;

	if (vu_dev_nodes(d, &nodes) < 0)
		return false;
	mine.v = calloc(h->n + 1, sizeof(*mine.v));
	for (size_t i = 0; mine.v && i < h->n; i++)
		for (size_t k = 0; k < nodes.n; k++)
			if (strcmp(h->v[i].node, nodes.v[k]) == 0) {
				mine.v[mine.n++] = h->v[i];
				break;
			}
	held = mine.n > 0;
	if (held) {
		char who[512];

		vu_holders_format(&mine, who, sizeof(who));
		snprintf(why, size, "%s is held open by %s", mine.v[0].node, who);
	}
	free(mine.v);
	vu_names_free(&nodes);
	return held;
}

static int dev_path(char *buf, size_t size, const struct vu_dev *d, const char *attr)
{
	return vu_path(buf, size, "/sys/bus/pci/devices/%s/%s", d->name, attr);
}

/* Why vfio-pci did not take D after the probe. */
static void why_not_vfio(const struct vu_dev *d)
{
	if (d->group < 0)
		vu_err(
		    "%s: vfio-pci refused it: it is in no IOMMU group, so the IOMMU is probably off (see 'iommu-groups --status')",
		    d->name);
	else if (!driver_registered("vfio-pci"))
		vu_err("%s: no driver took it: vfio-pci is not loaded", d->name);
	else if (d->driver[0])
		vu_err("%s: %s took it instead of vfio-pci", d->name, d->driver);
	else
		vu_err(
		    "%s: vfio-pci did not take it; the kernel log says why (dmesg | grep -i vfio)",
		    d->name);
}

/*
 * A write that did not finish in time: the kernel is still at it and holds
 * the device lock (a driver's remove() waiting for the device to be let go),
 * so every other write to the device would wait too. Say who holds it; it
 * is left to the kernel, and its record kept for a later --restore.
 */
static void report_stuck(const struct vu_dev *d, const char *what, const char *driver,
			 int timeout_ms)
{
	struct vu_dev as = *d;
	struct vu_holders h = { 0 };
	char held[768], why[800] = "";

	/* Its nodes as the driver the kernel is still removing made them. */
	snprintf(as.driver, sizeof(as.driver), "%s", driver);
	if (vu_vfio_holders((struct vu_dev *[]){ &as }, 1, &h) == 0 &&
	    vu_vfio_held(&h, &as, held, sizeof(held)))
		snprintf(why, sizeof(why), ": %s", held);
	vu_holders_free(&h);
	vu_err(
	    "%s: stuck: %s %s did not finish in %d s, the kernel is still at it%s; left alone and still remembered ('vfio-unbind --restore' once they let go)",
	    d->name, what, driver, timeout_ms / 1000, why);
}

static void report_write_error(const struct vu_dev *d, int err, const char *what,
			       const char *driver, int timeout_ms)
{
	if (err == -ETIMEDOUT)
		report_stuck(d, what, driver, timeout_ms);
	else
		vu_errc(err, "%s: %s %s failed", d->name, what, driver);
}

/*
 * driver_override takes the device lock: behind a remove() still running
 * (the driver link already gone) it waits as long as that does.
 */
static int set_override(struct vu_vfio *v, const struct vu_dev *d, const char *val,
			const char *driver)
{
	char path[PATH_MAX];
	int err;

	if (dev_path(path, sizeof(path), d, "driver_override") < 0)
		return -ENAMETOOLONG;
	if ((err = vu_act_write_timeout(path, val, v->timeout_ms)) == -ETIMEDOUT)
		report_stuck(d, "the unbind from", driver, v->timeout_ms);
	else if (err < 0)
		vu_errc(err, "%s: cannot %s driver_override", d->name, *val ? "set" : "reset");
	return err;
}

/* Add D's record unless one exists: the driver from the first time stays. */
static int remember(struct vu_vfio *v, const struct vu_dev *d)
{
	char path[PATH_MAX], override[VU_STATE_TEXT], module[VU_STATE_TEXT] = "";
	int err;

	if (vu_records_find(&v->devices, d->name) || strcmp(d->driver, "vfio-pci") == 0)
		return 0;
	if (dev_path(path, sizeof(path), d, "driver_override") < 0)
		return -ENAMETOOLONG;
	/* Reading it takes the device lock too: a remove() under way holds it. */
	if ((err = vu_read_timeout(path, override, sizeof(override), v->timeout_ms)) ==
	    -ETIMEDOUT) {
		report_stuck(d, "the unbind from", d->driver[0] ? d->driver : "its driver",
			     v->timeout_ms);
		return err;
	}
	override[strcspn(override, "\n")] = '\0';
	if (err < 0 || strcmp(override, "(null)") == 0 || !vu_state_valid_text(override))
		snprintf(override, sizeof(override), "-");
	if (d->driver[0] && vu_driver_module(d->driver, module, sizeof(module)) < 0)
		module[0] = '\0';
	/* A hook's guest owns what it took: its release gives back that, and no other's. */
	if (!vu_records_set(&v->devices, d->name, "driver", d->driver, "module", module, "override",
			    override, v->owner ? "domain" : (char *)NULL, v->owner, (char *)NULL))
		return -EINVAL;
	return 1;
}

int vu_vfio_remember(struct vu_vfio *v, struct vu_dev *const *devs, size_t n)
{
	int added = 0, err;

	for (size_t i = 0; i < n; i++) {
		if ((err = remember(v, devs[i])) < 0)
			return err;
		added += err;
	}
	return added ? save_file(v, 0) : 0;
}

int vu_vfio_bind(struct vu_vfio *v, struct vu_dev *d)
{
	char path[PATH_MAX], from[VU_DRIVER_MAX];
	int err;

	if (strcmp(d->driver, "vfio-pci") == 0) {
		/* Idempotent: the driver remembered from the first time stays. */
		vu_report("%s: already on vfio-pci", d->name);
		return 0;
	}
	/* Remembered before anything changes: a kill at any later point can be undone. */
	if ((err = remember(v, d)) < 0 || (err == 1 && (err = save_file(v, 0)) < 0))
		return err;
	snprintf(from, sizeof(from), "%s", d->driver[0] ? d->driver : "no driver");
	if ((err = set_override(v, d, "vfio-pci", from)) < 0)
		return err;
	if (d->driver[0]) {
		if (vu_path(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", d->driver) < 0)
			return -ENAMETOOLONG;
		if ((err = vu_act_write_timeout(path, d->name, v->timeout_ms)) < 0) {
			report_write_error(d, err, "unbind from", d->driver, v->timeout_ms);
			return err;
		}
	}
	if (vu_path(path, sizeof(path), "/sys/bus/pci/drivers_probe") < 0)
		return -ENAMETOOLONG;
	if ((err = vu_act_write_timeout(path, d->name, v->timeout_ms)) < 0) {
		report_write_error(d, err, "probe for", "vfio-pci", v->timeout_ms);
		return err;
	}
	if (vu_dry_run)
		return 0;
	/* drivers_probe succeeds whether or not anything bound: the link tells. */
	vu_dev_refresh_driver(d);
	if (strcmp(d->driver, "vfio-pci") != 0) {
		why_not_vfio(d);
		return -ENODEV;
	}
	vu_report("%s: %s -> vfio-pci", d->name, from);
	return 0;
}

static const char *field(const struct vu_record *r, const char *name)
{
	const char *s = r ? vu_record_get(r, name) : NULL;

	return s && strcmp(s, "-") != 0 ? s : NULL;
}

static void copy_field(const struct vu_record *r, const char *name, char *buf, size_t size)
{
	const char *s = field(r, name);

	snprintf(buf, size, "%s", s ? s : "");
}

/* The module the original driver comes from, loaded; by modalias when nothing was remembered. */
static int load_driver(struct vu_vfio *v, const struct vu_dev *d, const char *driver,
		       const char *module)
{
	char path[PATH_MAX], alias[256];
	const char *what = module;
	int err;

	if (driver && driver_registered(driver))
		return 0;
	if (driver && !module) {
		vu_err("%s: %s is built into the kernel but not registered", d->name, driver);
		return -ENOENT;
	}
	if (!driver) {
		if (dev_path(path, sizeof(path), d, "modalias") < 0 ||
		    vu_read(path, alias, sizeof(alias)) <= 0)
			return 0;
		what = alias;
	}
	vu_act_command("%s '%s'", vu_act_modprobe(), what);
	if (vu_dry_run)
		return 0;
	/* Its probe takes the device lock of whatever it matches: a deadline. */
	err = vu_mod_load_timeout(v->kmod, what, NULL, v->timeout_ms, NULL, NULL);
	/* No module for the alias: some devices have no driver at all. */
	if (err == -ENOENT && !driver)
		return 0;
	if (err == -ETIMEDOUT)
		vu_err(
		    "%s: loading %s did not finish in %d s: left to the kernel (a probe waiting for a device another unbind holds?)",
		    d->name, what, v->timeout_ms / 1000);
	else if (err < 0)
		vu_errc(err, "%s: cannot load %s", d->name, what);
	return err;
}

int vu_vfio_restore(struct vu_vfio *v, struct vu_dev *d)
{
	const struct vu_record *r = vu_records_find(&v->devices, d->name);
	char path[PATH_MAX], driver[VU_DRIVER_MAX] = "", module[VU_STATE_TEXT] = "";
	char override[VU_STATE_TEXT] = "";
	bool on_vfio;
	int err;

	/* As the kernel has it now: a bind that failed after the unbind left D's copy stale. */
	vu_dev_refresh_driver(d);
	on_vfio = strcmp(d->driver, "vfio-pci") == 0;

	if (!r && !on_vfio) {
		vu_report("%s: on %s, not vfio-pci: nothing to do", d->name,
			  d->driver[0] ? d->driver : "no driver");
		return 0;
	}
	/* Copies: the record goes before the device is reprobed. */
	copy_field(r, "driver", driver, sizeof(driver));
	copy_field(r, "module", module, sizeof(module));
	copy_field(r, "override", override, sizeof(override));

	if ((err = set_override(v, d, override,
				on_vfio	    ? "vfio-pci"
				: driver[0] ? driver
					    : "its driver")) < 0)
		return err;
	if (on_vfio) {
		if (vu_path(path, sizeof(path), "/sys/bus/pci/drivers/vfio-pci/unbind") < 0)
			return -ENAMETOOLONG;
		if ((err = vu_act_write_timeout(path, d->name, v->timeout_ms)) < 0) {
			report_write_error(d, err, "unbind from", "vfio-pci", v->timeout_ms);
			return err;
		}
		d->driver[0] = '\0';
	}
	/* A device that had no driver when vfio-bind took it gets none back. */
	if (!d->driver[0] && (!r || driver[0])) {
		if ((err = load_driver(v, d, driver[0] ? driver : NULL,
				       module[0] ? module : NULL)) < 0)
			return err;
		/* Loading a driver probes its devices itself; reprobe only what is still free. */
		if (!vu_dry_run)
			vu_dev_refresh_driver(d);
		if (!d->driver[0]) {
			if (vu_path(path, sizeof(path), "/sys/bus/pci/drivers_probe") < 0)
				return -ENAMETOOLONG;
			if ((err = vu_act_write_timeout(path, d->name, v->timeout_ms)) < 0) {
				report_write_error(d, err, "probe for",
						   driver[0] ? driver : "a driver", v->timeout_ms);
				return err;
			}
		}
	}
	if (vu_dry_run)
		return 0;
	vu_dev_refresh_driver(d);
	if (driver[0] && strcmp(d->driver, driver) != 0) {
		vu_err("%s: %s did not take it back (it is on %s); the kernel log says why (dmesg)",
		       d->name, driver, d->driver[0] ? d->driver : "no driver");
		return -ENODEV;
	}
	/* Saved at the end: a record dropped late only means a restore that finds nothing to do. */
	vu_records_del(&v->devices, d->name);
	if (on_vfio)
		vu_report("%s: vfio-pci -> %s", d->name, d->driver[0] ? d->driver : "no driver");
	else
		vu_report("%s: back on %s", d->name, d->driver[0] ? d->driver : "no driver");
	return 0;
}
