/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel modules through libkmod: look-ups from the module tree, state from the sysroot. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <libkmod.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kmod.h"
#include "msg.h"
#include "run.h"
#include "sysfs.h"

struct vu_kmod {
	struct kmod_ctx *ctx;
};

static void kmod_quiet(void *data, int priority, const char *file, int line, const char *fn,
		       const char *format, va_list args)
{
	(void)data, (void)priority, (void)file, (void)line, (void)fn, (void)format, (void)args;
}

int vu_kmod_open(struct vu_kmod **out)
{
	char release[256];
	struct utsname u;

	/* The sysroot's kernel, which need not be the one running. */
	if (vu_readf(release, sizeof(release), "/proc/sys/kernel/osrelease") <= 0) {
		if (uname(&u) < 0)
			return -errno;
		snprintf(release, sizeof(release), "%s", u.release);
	}
	return vu_kmod_open_release(release, out);
}

int vu_kmod_open_release(const char *release, struct vu_kmod **out)
{
	char dir[PATH_MAX];
	static const char *const confs[] = { "/etc/modprobe.d", "/run/modprobe.d",
					     "/usr/local/lib/modprobe.d", "/lib/modprobe.d" };
	char conf[4][PATH_MAX];
	const char *confv[5] = { NULL };
	struct vu_kmod *k;

	if (vu_path(dir, sizeof(dir), "/lib/modules/%s", release) < 0)
		return -ENAMETOOLONG;
	for (int i = 0; i < 4 && *vu_sysroot(); i++) {
		vu_path(conf[i], sizeof(conf[i]), "%s", confs[i]);
		confv[i] = conf[i];
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->ctx = kmod_new(dir, *vu_sysroot() ? confv : NULL);
	if (!k->ctx) {
		free(k);
		return -ENOMEM;
	}
	/* Failures are ours to report, once, with the device they concern. */
	kmod_set_log_fn(k->ctx, kmod_quiet, NULL);
	kmod_load_resources(k->ctx);
	*out = k;
	return 0;
}

void vu_kmod_close(struct vu_kmod *k)
{
	if (!k)
		return;
	kmod_unref(k->ctx);
	free(k);
}

static void normalize(const char *name, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < size - 1 && name[i]; i++)
		buf[i] = (char)(name[i] == '-' ? '_' : name[i]);
	buf[i] = '\0';
}

enum vu_modstate vu_mod_state(struct vu_kmod *k, const char *name)
{
	char mod[128], state[32];
	struct kmod_module *m;
	enum vu_modstate st = VU_MOD_UNKNOWN;

	normalize(name, mod, sizeof(mod));
	/* What the (simulated) kernel says, below the sysroot. */
	if (vu_readf(state, sizeof(state), "/sys/module/%s/initstate", mod) > 0)
		return strcmp(state, "going") == 0 ? VU_MOD_UNLOADED : VU_MOD_LOADED;
	if (vu_existsf("/sys/module/%s", mod))
		return VU_MOD_BUILTIN; /* built-in modules show their parameters only */
	if (kmod_module_new_from_name(k->ctx, mod, &m) < 0)
		return VU_MOD_UNKNOWN;
	/* Only the built-in index is asked: its load state is not libkmod's to tell here. */
	if (kmod_module_get_initstate(m) == KMOD_MODULE_BUILTIN)
		st = VU_MOD_BUILTIN;
	else if (kmod_module_get_path(m))
		st = VU_MOD_UNLOADED;
	kmod_module_unref(m);
	return st;
}

static int load_one(struct vu_kmod *k, struct kmod_module *m, struct vu_names *loaded, int depth);

static void load_soft(struct vu_kmod *k, struct kmod_list *list, struct vu_names *loaded, int depth)
{
	struct kmod_list *l;

	/* As modprobe does, a soft dependency that fails does not stop the load. */
	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);

		load_one(k, m, loaded, depth + 1);
		kmod_module_unref(m);
	}
}

static int load_one(struct vu_kmod *k, struct kmod_module *m, struct vu_names *loaded, int depth)
{
	struct kmod_list *deps, *pre = NULL, *post = NULL, *l;
	const char *name = kmod_module_get_name(m);
	enum vu_modstate st = vu_mod_state(k, name);
	int err = 0;

	if (depth > 32)
		return -ELOOP;
	if (st == VU_MOD_LOADED || st == VU_MOD_BUILTIN)
		return 0;
	if (st == VU_MOD_UNKNOWN)
		return -ENOENT;
	kmod_module_get_softdeps(m, &pre, &post);
	load_soft(k, pre, loaded, depth);
	deps = kmod_module_get_dependencies(m);
	kmod_list_foreach(l, deps)
	{
		struct kmod_module *d = kmod_module_get_module(l);

		if (!err)
			err = load_one(k, d, loaded, depth + 1);
		kmod_module_unref(d);
	}
	kmod_module_unref_list(deps);
	if (!err) {
		err = kmod_module_insert_module(m, 0, kmod_module_get_options(m));
		if (err == -EEXIST)
			err = 0;
		else if (err == 0)
			err = vu_names_add(loaded, name);
	}
	if (!err)
		load_soft(k, post, loaded, depth);
	kmod_module_unref_list(pre);
	kmod_module_unref_list(post);
	return err;
}

/*
 * Below a sysroot, a module system call would load into (or take out of)
 * this machine's kernel, not the tree's: it is made there only where the
 * simulator's trap (kmodtrap.so, preloaded) takes it. 0, or -EPERM, reported.
 */
static int kernel_guard(const char *what)
{
	if (!*vu_sysroot() || dlsym(RTLD_DEFAULT, "vu_kmodtrap_active"))
		return 0;
	vu_err(
	    "%s: not loaded or unloaded: the module system call would reach this machine's kernel, not %s's",
	    what, vu_sysroot());
	return -EPERM;
}

int vu_mod_load(struct vu_kmod *k, const char *what, struct vu_names *loaded)
{
	struct kmod_list *list = NULL, *filtered = NULL, *l;
	char name[128];
	int err;

	if ((err = kernel_guard(what)) < 0)
		return err;
	normalize(what, name, sizeof(name));
	err = kmod_module_new_from_lookup(k->ctx, strchr(what, ':') ? what : name, &list);
	if (err < 0)
		return err;
	if (!list)
		return -ENOENT;
	/* An alias loads what the system would load at boot: blacklisted modules stay out. */
	if (strchr(what, ':')) {
		err = kmod_module_apply_filter(k->ctx, KMOD_FILTER_BLACKLIST, list, &filtered);
		kmod_module_unref_list(list);
		if (err < 0)
			return err;
		list = filtered;
		if (!list)
			return -ENOENT;
	}
	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);

		if (!err)
			err = load_one(k, m, loaded, 0);
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	return err;
}

int vu_mod_for_alias(struct vu_kmod *k, const char *alias, const char *skip, char *buf, size_t size)
{
	struct kmod_list *list = NULL, *filtered = NULL, *l;
	int err = -ENOENT;

	if (kmod_module_new_from_lookup(k->ctx, alias, &list) < 0 || !list)
		return -ENOENT;
	if (kmod_module_apply_filter(k->ctx, KMOD_FILTER_BLACKLIST, list, &filtered) < 0)
		filtered = NULL;
	kmod_module_unref_list(list);
	kmod_list_foreach(l, filtered)
	{
		struct kmod_module *m = kmod_module_get_module(l);
		char name[128];

		normalize(kmod_module_get_name(m), name, sizeof(name));
		if (err < 0 && (!skip || strcmp(name, skip) != 0)) {
			snprintf(buf, size, "%s", name);
			err = 0;
		}
		kmod_module_unref(m);
	}
	kmod_module_unref_list(filtered);
	return err;
}

int vu_mod_load_timeout(struct vu_kmod *k, const char *what, struct vu_names *loaded,
			int timeout_ms, int (*started)(void *arg, pid_t loader), void *arg)
{
	struct vu_names mine = { 0 };
	char buf[4096], go;
	int r = -1, w = -1, status, err;
	pid_t pid;

	if ((err = kernel_guard(what)) < 0)
		return err;
	if ((pid = vu_fork_detached(&r, &w)) < 0)
		return pid;
	if (pid == 0) {
		/* The caller gone before it said go: nothing loaded that it does not know of. */
		if (started && read(w, &go, 1) != 1)
			_exit(ECANCELED);
		err = vu_mod_load(k, what, &mine);
		for (size_t i = 0; i < mine.n; i++)
			dprintf(w, "%s\n", mine.v[i]);
		_exit(-err);
	}
	if (started && ((err = started(arg, pid)) < 0 || send(r, "", 1, MSG_NOSIGNAL) != 1)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(r);
		return err < 0 ? err : -EPIPE;
	}
	if ((status = vu_wait_read(pid, r, timeout_ms, buf, sizeof(buf), NULL)) < 0)
		return status;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); loaded && l;
	     l = strtok_r(NULL, "\n", &save))
		vu_names_add(loaded, l);
	return WIFEXITED(status) ? -WEXITSTATUS(status) : -EINTR;
}

int vu_mod_unload(struct vu_kmod *k, const char *name)
{
	struct kmod_module *m;
	char mod[128];
	int err;

	if ((err = kernel_guard(name)) < 0)
		return err;
	normalize(name, mod, sizeof(mod));
	err = kmod_module_new_from_name(k->ctx, mod, &m);
	if (err < 0)
		return err;
	err = kmod_module_remove_module(m, 0);
	kmod_module_unref(m);
	return err;
}

int vu_mod_holders(const char *name, struct vu_names *out)
{
	char path[PATH_MAX], mod[128];
	int err;

	normalize(name, mod, sizeof(mod));
	err = vu_path(path, sizeof(path), "/sys/module/%s/holders", mod);
	if (!err)
		err = vu_listdir(path, out);
	if (err == -ENOENT)
		err = 0;
	return err;
}

int vu_driver_module(const char *driver, char *buf, size_t size)
{
	char path[PATH_MAX];
	int n;

	if (vu_path(path, sizeof(path), "/sys/bus/pci/drivers/%s/module", driver) < 0)
		return -ENAMETOOLONG;
	n = vu_link_name(path, buf, size);
	if (n == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return n < 0 ? n : 0;
}
