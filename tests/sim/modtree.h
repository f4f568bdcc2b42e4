/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A module tree for the simulated kernel: fake .ko objects that real depmod indexes. */
#ifndef SIM_MODTREE_H
#define SIM_MODTREE_H

#include "machine.h"

/*
 * Write ROOT/lib/modules/VERSION: one ELF object per available or loaded
 * module, modules.builtin for built-in ones, then run depmod on it. Each
 * module exports NAME_sym and references DEP_sym for each dependency, so
 * depmod finds the dependencies itself; aliases come from the devices its
 * driver matches. Returns 0, or -1 after printing why.
 */
int modtree_write(const struct machine *m, const char *root);
/* The module name recorded in a .ko image ("name=" in .modinfo). */
int modtree_image_name(const void *image, size_t len, char *name, size_t size);

#endif
