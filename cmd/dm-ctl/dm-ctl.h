/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dm-ctl's parts: the commands and the record (dm-ctl.c), init systems, GPUs, sound servers. */
#ifndef VU_DM_CTL_H
#define VU_DM_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "holders.h"
#include "state.h"
#include "sysfs.h"

#define STATE "dm"

enum init { INIT_UNKNOWN, INIT_SYSTEMD, INIT_OPENRC, INIT_RUNIT };

extern const char *const dm_init_names[];

struct dm {
	enum init init;
	char service[128]; /* gdm.service; display-manager (OpenRC); sddm (runit); "" none */
	char name[64];	   /* gdm, sddm: what the user knows it by */
	bool active;
	int err; /* a query that could not be run (reported): no answer is a guess */
};

/* init.c */
/* A name into a field; one that does not fit is no name of ours. */
bool dm_set(char *dst, size_t size, const char *src, const char *suffix);
/*
 * Run the init system's tool NAME with ARGS (a change waits as long as the
 * init system itself lets it take); its exit status or -errno (reported).
 */
int dm_run_tool(const char *name, char *const args[], char *out, size_t size);
/* detect, and --isolate only where it means something: a usage error elsewhere. */
int dm_detect(struct dm *dm, bool isolate);
/* Stop or start DM through its init system's tool (ISOLATE: systemd's targets); 0 or -EIO. */
int dm_act(const struct dm *dm, bool stop, bool isolate);
/* gpu.c */
/* Who holds the GPUs' nodes now. */
void dm_holders(struct vu_holders *h);
/*
 * Until no process holds one of NODES (every GPU node when NULL): what
 * 'sleep 5' hoped for, checked instead of guessed. ALSO's nodes are looked
 * for in the same walks of /proc, never waited for: their holders at the
 * last walk go to ALSO_HELD.
 */
int dm_wait_free(const struct vu_names *nodes, const struct vu_names *also,
		 struct vu_holders *also_held, int timeout_ms);
/*
 * The GPUs among DEVS whose nodes are held now, as the running display
 * manager's X server holds them: "+"-joined addresses (as many as a state
 * value holds).
 */
void dm_held_gpus(const struct vu_devs *devs, char *buf, size_t size);
/*
 * Whether each GPU the display manager held when stopped has a host driver
 * again: started without it, X finds no screen and the user a black one.
 */
bool dm_gpus_back(const char *gpus);
/*
 * Whether the modules vfio-bind --unload removed are loaded again: without
 * nvidia_drm, nvidia's GPU has no /dev/dri card, and X starts on nothing.
 */
bool dm_modules_back(void);
/* audio.c */
/* The sound nodes of the audio functions beside GPUS among DEVS ("+"-joined; every GPU when "-"). */
void dm_audio_nodes(const struct vu_devs *devs, const char *gpus, struct vu_names *out);
/*
 * After the display manager: the sound servers that hold NODES (the audio
 * function of a GPU it held), remembered (under the lock), stopped, waited
 * for. HELD: who holds them, when the caller has looked (else NULL).
 */
int dm_stop_audio(const struct vu_names *nodes, const struct vu_holders *held, int timeout_ms);
/* A sound server stop stopped, started again: a failure is said, and never keeps the screen. */
int dm_start_audio(const struct vu_record *r);

#endif
