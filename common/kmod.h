/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel modules through libkmod: look-ups from the module tree, state from the sysroot. */
#ifndef VU_KMOD_H
#define VU_KMOD_H

#include <stddef.h>
#include <sys/types.h>

#include "sysfs.h"

struct vu_kmod;

enum vu_modstate {
	VU_MOD_UNKNOWN,	 /* no such module in the tree */
	VU_MOD_UNLOADED, /* in the tree, not loaded */
	VU_MOD_LOADED,
	VU_MOD_BUILTIN, /* built in: always there, counts as loaded */
};

/* libkmod on <sysroot>/lib/modules/<the sysroot's kernel version>. */
int vu_kmod_open(struct vu_kmod **out);
/* The same on <sysroot>/lib/modules/RELEASE. */
int vu_kmod_open_release(const char *release, struct vu_kmod **out);
void vu_kmod_close(struct vu_kmod *k);

enum vu_modstate vu_mod_state(struct vu_kmod *k, const char *name);
/*
 * Load a module by name or alias, as modprobe does: soft pre-dependencies,
 * dependencies, the module with its modprobe.d options, soft post-
 * dependencies; a module already loaded or built in is left alone, and for an
 * alias blacklisted modules are skipped. LOADED gets the modules inserted.
 */
int vu_mod_load(struct vu_kmod *k, const char *what, struct vu_names *loaded);
/*
 * The same with a deadline: a driver's probe can wait for a device lock a
 * stuck remove() holds. Done in a child holding nothing of ours; after
 * TIMEOUT_MS it is left to the kernel and -ETIMEDOUT returned (what it
 * inserted by then is not known, and it may go on: a process killed in
 * init_module ends only when the call returns). STARTED (or NULL) is called
 * with the child's PID before it begins, for the caller to remember it; its
 * error stops the child before it has loaded anything.
 */
int vu_mod_load_timeout(struct vu_kmod *k, const char *what, struct vu_names *loaded,
			int timeout_ms, int (*started)(void *arg, pid_t loader), void *arg);
/* Remove one module: -EWOULDBLOCK while other modules or processes hold it. */
int vu_mod_unload(struct vu_kmod *k, const char *name);
/* Loaded modules that use NAME (its holders in sysfs). */
int vu_mod_holders(const char *name, struct vu_names *out);
/*
 * The first module ALIAS (a device's modalias) resolves to, other than
 * SKIP (NULL: none), blacklisted ones left out, as udev would load it:
 * into BUF; -ENOENT when none.
 */
int vu_mod_for_alias(struct vu_kmod *k, const char *alias, const char *skip, char *buf,
		     size_t size);
/* The module registering DRIVER; "" for a driver built into the kernel. */
int vu_driver_module(const char *driver, char *buf, size_t size);

#endif
