/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An in-memory file tree: what the simulator serves and mkroot writes out. */
#ifndef SIM_TREE_H
#define SIM_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum t_type { T_DIR, T_FILE, T_LINK };

struct t_node {
	char *name;
	enum t_type type;
	mode_t mode;
	struct t_node *parent;
	struct t_node **kids; /* sorted by name */
	size_t nkids;
	char *data; /* file contents or link target */
	size_t len;
	int kind;  /* what the simulated kernel does on access; 0: plain file */
	void *obj; /* the device, driver, console... the attribute belongs to */
	unsigned long ino;
	bool removed; /* unlinked; kept because the kernel may still name its inode */
};

struct t_node *t_new_root(void);
/* Path relative to root ("/sys/bus/pci"), without following links. */
struct t_node *t_lookup(struct t_node *root, const char *path);
struct t_node *t_child(struct t_node *dir, const char *name);
/* Path relative to root, following symlinks as path resolution does. */
struct t_node *t_resolve(struct t_node *root, const char *path);
struct t_node *t_mkdir(struct t_node *root, const char *path);
/* Create or replace a file; parents are created. */
struct t_node *t_file(struct t_node *root, const char *path, mode_t mode, const char *data,
		      size_t len);
struct t_node *t_filef(struct t_node *root, const char *path, mode_t mode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A symlink at PATH to the absolute tree path TARGET, stored relative as sysfs does. */
struct t_node *t_link(struct t_node *root, const char *path, const char *target);
void t_set_data(struct t_node *n, const char *data, size_t len);
/* Detach from the tree (the node stays allocated, marked removed). */
void t_remove(struct t_node *n);
void t_free(struct t_node *n);
/* Absolute tree path of N. */
void t_path(const struct t_node *n, char *buf, size_t size);
struct t_node *t_by_ino(unsigned long ino);
/* Write the tree below DIR on disk. */
int t_dump(struct t_node *root, const char *dir);

#endif
