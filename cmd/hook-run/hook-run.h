/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook-run's parts: the dispatcher (hook-run.c) and its commands, one a file. */
#ifndef VU_HOOK_RUN_H
#define VU_HOOK_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "domxml.h"

/* Where hook-run's own program is, resolved: 0, or -errno. */
int hr_self_path(char *buf, size_t size);
/* Whether PATH leads, through any links, to this very program. */
bool hr_is_self(const char *path);
/* Whether the qemu hook at PATH (one that is not hook-run) runs qemu.d's scripts itself. */
bool hr_foreign_dispatcher(const char *path);
/*
 * What libvirt at URI says of GUEST: its PCI host devices into X (may be
 * NULL; none when it cannot be asked), and whether it is defined at all: 1
 * yes, 0 no, -1 not known (said, with UNKNOWN: what that means).
 */
int hr_ask_domain(const char *uri, const char *guest, struct vu_domxml *x, const char *unknown);

/* The commands: each returns the exit status. */
/* Who wrote a hook script: the user (or a guide), or hook-run new, its hand-over or another. */
enum hr_author { HR_THEIRS, HR_OURS_HANDOVER, HR_OURS };
/*
 * What the script at PATH does of a guide's steps (the display manager, the
 * consoles, the framebuffer, virsh nodedev-*, modprobe), outside its
 * comments, into WHAT ("" for none); who wrote it.
 */
enum hr_author hr_guide_work(const char *path, char *what, size_t size);
int hr_install(bool force);
/*
 * Exactly what install did, undone: hook-run's link removed, and the hook
 * it kept aside as qemu.orig put back. Another program's hook is left alone.
 */
int hr_uninstall(void);
int hr_check(const char *uri);
int hr_list(const char *only, const char *uri, bool json);
int hr_new(const char *guest, const char *gpu, bool force, bool move_aside, const char *uri);

#endif
