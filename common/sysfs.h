/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sysroot-aware access to sysfs, procfs and the other system trees. */
#ifndef VU_SYSFS_H
#define VU_SYSFS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "msg.h"

/*
 * Run-wide, like chroot(2): set once from --sysroot or VFIO_UTILS_SYSROOT
 * (the option wins). Every path under /sys, /proc, /dev, /run, /etc and
 * /lib/modules is looked up below it. Returns 0 or -errno for a directory
 * that cannot be used.
 */
int vu_sysroot_set(const char *dir);
/* "" for the real root, else the directory without a trailing slash. */
const char *vu_sysroot(void);

/* Rooted path from a format: "/sys/..." becomes "<sysroot>/sys/...". */
int vu_path(char *buf, size_t size, const char *fmt, ...) VU_PRINTF(3, 4);
/* The path as the user knows it, without the sysroot prefix. */
const char *vu_unrooted(const char *path);

/* Whole small file, trailing newline stripped; length or -errno. */
int vu_read(const char *path, char *buf, size_t size);
/* The same, relative to an open directory: one path walk for many attributes. */
int vu_read_at(int dirfd, const char *name, char *buf, size_t size);
int vu_read_ulong_at(int dirfd, const char *name, unsigned long *val);
int vu_link_name_at(int dirfd, const char *name, char *buf, size_t size);

/* A number in any base strtoul accepts ("0x10de", "1"); 0 or -errno. */
int vu_read_ulong(const char *path, unsigned long *val);
/*
 * "START<SEP>END" in hexadecimal, leading blanks skipped, as /proc/iomem and
 * a device's resource file give ranges: what follows it, or NULL.
 */
const char *vu_hex_range(const char *s, char sep, unsigned long long *start,
			 unsigned long long *end);
/* One write(2) of VAL; 0 or the kernel's -errno. */
int vu_write(const char *path, const char *val);
/* Target of a symlink; length or -errno. */
int vu_readlink(const char *path, char *buf, size_t size);
/* Last component of a symlink's target ("driver" -> "nvidia"); length or -errno. */
int vu_link_name(const char *path, char *buf, size_t size);
bool vu_exists(const char *path);
/* mkdir -p DIR (0755), DIR as given (rooted already): 0, or -errno of the first that failed. */
int vu_mkdir_p(const char *dir);
/*
 * PATH (rooted already) replaced whole: FILL writes the new content into
 * PATH.new (MODE), which is synced and renamed over PATH. 0, or -errno with
 * PATH as it was.
 */
int vu_file_replace(const char *path, mode_t mode, void (*fill)(FILE *f, const void *arg),
		    const void *arg);
/* TEXT as PATH (rooted already), MODE, written so; its directory made first. 0 or -errno. */
int vu_file_write_text(const char *path, mode_t mode, const char *text);
/* vu_read and vu_exists of a rooted path from a format, as vu_path makes it. */
int vu_readf(char *buf, size_t size, const char *fmt, ...) VU_PRINTF(3, 4);
bool vu_existsf(const char *fmt, ...) VU_PRINTF(1, 2);

/* Entries of a directory without dot entries, in version order (sort -V). */
struct vu_names {
	char **v;
	size_t n;
};
int vu_listdir(const char *path, struct vu_names *out);
/* Append a copy of S (L NULL: nothing to do); 0 or -ENOMEM. */
int vu_names_add(struct vu_names *l, const char *s);
/* Whether L holds S. */
bool vu_names_has(const struct vu_names *l, const char *s);
/* The same unless L holds S already. */
int vu_names_add_unique(struct vu_names *l, const char *s);
void vu_names_free(struct vu_names *l);

#endif
