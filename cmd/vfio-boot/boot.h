/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-boot's parts: the bootloader's command line, and vfio-pci from boot. */
#ifndef VU_BOOT_H
#define VU_BOOT_H

#include <stdbool.h>
#include <stddef.h>

#include "cmdline.h"
#include "state.h"

/* What vfio-boot remembers: it outlives a boot. */
#define BOOT_STATE_DIR "/var/lib/vfio-utils"
#define BOOT_STATE     BOOT_STATE_DIR "/boot"
/* The first line of every file vfio-boot writes whole: one without it is someone else's. */
#define BOOT_MARK "# Written by vfio-boot (vfio-utils)"
/* How long a generator (update-grub, update-initramfs -k all, dracut) may take. */
#define BOOT_GEN_MS	 900000
#define BOOT_CMDLINE_MAX VU_CMDLINE_MAX

/* A bootloader, and how its kernel command line is written. */
struct loader {
	const char *name;   /* "grub", "kernel-install", "grubby", "kernelstub" */
	const char *config; /* the file edited (/etc/default/grub), NULL where a tool edits */
	const char *tool;   /* what makes the boot entries from it: "update-grub" */
	char output[64];    /* what that makes: /boot/grub/grub.cfg, "" when nothing to read */
};

/* Which bootloader this system boots with, from its files; false when none known. */
bool loader_detect(struct loader *l);
/*
 * The command line the bootloader is configured with (its config's words),
 * into BUF: 0, -ENOENT without one, -EBADMSG when it cannot be read as
 * vfio-boot edits it (said).
 */
int loader_configured(const struct loader *l, char *buf, size_t size);
/* The command line the next boot gets, from what the tool made: 0, -ENOENT. */
int loader_next_boot(const struct loader *l, char *buf, size_t size);
/*
 * Set (VALUE not NULL) or remove each of NPARAM parameters in the
 * bootloader's configuration, then run its tool; the file is written whole,
 * a copy of it kept first, the change printed as a diff. Under dry run, the
 * diff and the commands only. A failing tool puts the file back: 0,
 * VU_EXIT_FAIL or BOOT_UNSEEN, said.
 */
/* loader_apply's: the change is made, but what the tool made does not have it (said). */
#define BOOT_UNSEEN 3
struct param_change {
	const char *name;
	const char *value; /* NULL: remove it */
};
int loader_apply(const struct loader *l, const struct param_change *c, size_t n);

/* The initramfs generator of this system. */
struct initramfs {
	const char *name;	 /* "initramfs-tools", "dracut", "mkinitcpio" */
	const char *config;	 /* vfio-boot's file for it */
	const char *const *argv; /* the command that makes the images again */
};
bool initramfs_detect(struct initramfs *g);

/* A device vfio-pci takes at boot, as remembered. */
struct early {
	const char *address; /* 0000:01:00.0 */
	const char *ids;     /* 1234:1111 */
	bool by_address;     /* another device shares its IDs */
	const char *module;  /* its usual driver's module, for the softdep; NULL when none */
};
/*
 * Write (N > 0) or remove (N == 0) the files that give E's devices to
 * vfio-pci at boot, for G, then run G's generator. A failing generator puts
 * the files back. 0 or VU_EXIT_FAIL, said.
 */
int early_apply(const struct initramfs *g, const struct early *e, size_t n);
/* The modprobe.d file's path, and whether vfio-boot's file for G is there. */
#define EARLY_MODPROBE "/etc/modprobe.d/vfio-utils.conf"
bool early_present(const struct initramfs *g);

/*
 * Files, written whole or put back. SAVE reads PATH (rooted) into a saved
 * copy (absent is remembered too); RESTORE writes it back as it was.
 */
struct saved {
	char path[4096];
	char *text; /* NULL: there was no file */
	size_t len;
	unsigned mode;
};
int saved_take(struct saved *s, const char *rooted);
int saved_restore(const struct saved *s);
void saved_free(struct saved *s);
/* TEXT as PATH (rooted), MODE, whole or not at all, its directory made first; said. */
int file_write(const char *rooted, const char *text, unsigned mode);
/* PATH (rooted) removed, and PATH.new that a killed write left; said. 0 or -1. */
int file_remove(const char *rooted);
/* Run ARGV (a host tool) for a generator; its failure said. 0 or -1. */
int gen_run(char *const argv[]);

#endif
