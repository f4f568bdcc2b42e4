/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Handing devices to vfio-pci and back, the way libvirt does, with what was there remembered. */
#ifndef VU_VFIO_H
#define VU_VFIO_H

#include <stdbool.h>
#include <sys/types.h>

#include "device.h"
#include "kmod.h"
#include "state.h"

/* State files: the devices vfio-bind took (with their original driver), the modules it removed. */
#define VU_STATE_DEVICES "devices"
#define VU_STATE_MODULES "modules"
/* The vfio modules vfio-bind loaded: vfio-unbind removes them once nothing uses vfio-pci. */
#define VU_STATE_LOADED "loaded"

struct vu_vfio {
	struct vu_kmod *kmod;
	int timeout_ms;
	/*
	 * The guest whose hook runs this command (VFIO_UTILS_GUEST from
	 * hook-run), as a state value: its records are its own. NULL outside a hook.
	 */
	const char *owner;
	struct vu_records devices;
	struct vu_records modules;
	struct vu_records inserted; /* VU_STATE_LOADED, in load order */
	struct vu_records base[3];  /* the three as read or last written: a save writes the change */
	struct vu_names loaded;	    /* modules this run inserted, for a rollback */
	pid_t loader;		    /* the child that loads them */
	/* The locks this run holds: its devices' (their names in locked), the modules'. */
	int *dev_locks;
	struct vu_names locked;
	int modules_lock;
};

/*
 * Read the three state files, no lock held: each save is a rename, read
 * whole. 0, or -errno after reporting. A damaged file has been reported and
 * is marked so: see vu_vfio_damaged.
 */
int vu_vfio_begin(struct vu_vfio *v, int timeout_ms);
/*
 * Lock each of the N devices this run changes, in address order, within the
 * timeout (/run/vfio-utils/dev-ADDRESS.lock, held to vu_vfio_end: another
 * run that changes the same device waits, one that changes others goes
 * on), then read the state again: it may have changed meanwhile. 0 or
 * -errno, reported. Nothing under dry run.
 */
int vu_vfio_lock(struct vu_vfio *v, struct vu_dev *const *devs, size_t n);
/*
 * The vfio modules and the host drivers' modules change hands under a lock
 * of their own, /run/vfio-utils/modules.lock: taken (the two module files
 * read again) and released (what changed saved). 0 or -errno, reported.
 */
int vu_vfio_lock_modules(struct vu_vfio *v);
int vu_vfio_unlock_modules(struct vu_vfio *v);
/* What this run changed, saved (not under dry run); 0 or -errno, reported. */
int vu_vfio_save(struct vu_vfio *v);
/* Save, release the locks, free; 0 or -errno. */
int vu_vfio_end(struct vu_vfio *v);
/* Release the locks and free, without writing: nothing was changed. */
void vu_vfio_free(struct vu_vfio *v);
/* Whether a state file was damaged; NAME, the first such. */
bool vu_vfio_damaged(const struct vu_vfio *v, const char **name);
/* Keep every damaged state file aside (vu_state_keep_aside); 0 or -EIO. */
int vu_vfio_keep_aside(struct vu_vfio *v);
/*
 * A device another run has taken or is taking for vfio-pci: a record of
 * one this run has not locked. NULL when there is none.
 */
const char *vu_vfio_others(const struct vu_vfio *v);
/* The guest of the hook this runs in, escaped for the state file; NULL outside a hook. */
const char *vu_vfio_owner(void);
/* Whether record R is this run's to give back: every record outside a hook, its guest's in one. */
bool vu_vfio_owns(const struct vu_vfio *v, const struct vu_record *r);

/* The vfio modules, in removal order; NULL-terminated. */
extern const char *const vu_vfio_modules[];
/*
 * vfio-pci and what it needs, loaded (built in counts); what it inserted is
 * remembered (before the load, so that a kill leaves nothing unknown) for
 * vfio-unbind to take out again.
 */
int vu_vfio_load(struct vu_vfio *v);
/*
 * An earlier vfio-bind's load left to the kernel past its deadline (a
 * remembered module with the PID of the process loading it): waited for, at
 * most the timeout. 0 once none is at it, else reported, -ETIMEDOUT.
 */
int vu_vfio_pending_load(const struct vu_vfio *v);
/* Remove, newest first, the modules vu_vfio_load inserted: a failed run leaves none. */
void vu_vfio_unload_loaded(struct vu_vfio *v);
/* Remember the driver and driver_override of each device not yet on vfio-pci, in one write. */
int vu_vfio_remember(struct vu_vfio *v, struct vu_dev *const *devs, size_t n);
/*
 * D to vfio-pci: remember its driver and driver_override (first, so that a
 * kill at any later point can be undone), write vfio-pci to driver_override,
 * unbind, drivers_probe, then check the driver link. Reports what it did or
 * what failed; 0 or -errno. D->driver follows.
 */
int vu_vfio_bind(struct vu_vfio *v, struct vu_dev *d);
/*
 * D back to the driver it had: driver_override as it was, unbind from
 * vfio-pci, the driver's module loaded (from the record, else by modalias),
 * reprobe, check. A device vfio-bind never took is left alone. 0 or -errno.
 */
int vu_vfio_restore(struct vu_vfio *v, struct vu_dev *d);

struct vu_holders;
/* One scan of every process for the nodes of all N devices. */
int vu_vfio_holders(struct vu_dev *const *devs, size_t n, struct vu_holders *out);
/*
 * Processes of H holding D's nodes open ("/dev/nvidia0 is held open by Xorg
 * (1234)") into WHY: an unbind would block in the kernel until they let go.
 * True when there are any.
 */
bool vu_vfio_held(const struct vu_holders *h, const struct vu_dev *d, char *why, size_t size);

/* Re-read D's driver link. */
void vu_dev_refresh_driver(struct vu_dev *d);

#endif
