/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The qemu.d hook tree: libvirt's events, which scripts an event runs, which are safe. */
#ifndef VU_HOOKS_H
#define VU_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "sysfs.h"

struct vu_hook_event {
	const char *op, *subop;
	bool stop_on_failure; /* start side: the first failure stops the run, libvirt aborts */
};

/* Every event libvirt's qemu driver sends, in the order a domain's life sees them. */
extern const struct vu_hook_event vu_hook_events[];
extern const size_t vu_hook_nevents;

/* The event OP SUBOP, NULL for one libvirt does not send. */
const struct vu_hook_event *vu_hook_event(const char *op, const char *subop);
/* True when libvirt sends OP with some sub-operation. */
bool vu_hook_op_known(const char *op);
/* A name used as a path component: not empty, no '/' or newline, not "." or "..". */
bool vu_hook_name_safe(const char *name);
/* Dotfiles and the leftovers of editors and package managers: never run. */
bool vu_hook_name_skipped(const char *name);

/*
 * Why running PATH as root is unsafe: owned by someone else, or writable by
 * group or others, the script or any directory from BASE/qemu.d down to it;
 * or, resolving it from / through every symbolic link of the chain, a
 * directory a name is looked up in that another user can change (owned by
 * them, or writable without the sticky bit; sticky, an entry of theirs);
 * or the same of the interpreter its "#!" line names, and of that one's.
 * NULL when it is safe; otherwise WHY, filled in. With FD, the checked file
 * stays open there (close-on-exec) for fexecve: what runs is what was checked.
 */
const char *vu_hook_unsafe(const char *base, const char *path, char *why, size_t size, int *fd);

/*
 * The scripts of BASE/qemu.d/GUEST/OP/SUBOP: that file alone if it is an
 * executable regular file, else the executable regular files of that
 * directory in strcmp order, skipped names left out. Files left out for
 * another reason (not executable, not regular) go to SKIPPED when given.
 * A missing path is no scripts.
 */
int vu_hook_scripts(const char *base, const char *guest, const char *op, const char *subop,
		    struct vu_names *scripts, struct vu_names *skipped);

/*
 * Whether a script of GUEST's OP SUBOP says one of WORDS (NULL-terminated):
 * what a hook does, read from it as a person would.
 */
bool vu_hook_says(const char *base, const char *guest, const char *op, const char *subop,
		  const char *const *words);
/* Words of a line that binds devices to vfio-pci: vfio-bind, virsh nodedev-detach. */
extern const char *const vu_hook_binds[];
/* Words of a line that binds whole IOMMU groups: vfio-bind --group. */
extern const char *const vu_hook_binds_groups[];
/* Words of a line that hands the host's screen over: dm-ctl, vtcon, efifb, the guides' own. */
extern const char *const vu_hook_hands_over[];
/* Words of a line that reserves huge pages: vm-hugepages reserve, the guides' nr_hugepages. */
extern const char *const vu_hook_reserves_huge[];
extern const char *const vu_hook_sets_priority[];
/* Words of a line that asks the guest's agent at host sleep or shutdown: vm-nosleep's policies. */
extern const char *const vu_hook_needs_agent[];

#endif
