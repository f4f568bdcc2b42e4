/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kmodcall: load or remove one module through real libkmod, for the
 * simulator's tests (modprobe -r asks the host's /sys/module whether a
 * module is loaded; this asks nothing and just makes the call).
 * Usage: kmodcall MODDIR insert NAME | remove NAME
 */
#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct kmod_module *mod = NULL;
	struct kmod_list *list = NULL;
	struct kmod_ctx *ctx;
	int err;

	if (argc != 4 || (strcmp(argv[2], "insert") != 0 && strcmp(argv[2], "remove") != 0)) {
		fprintf(stderr, "usage: kmodcall MODDIR insert|remove NAME\n");
		return 2;
	}
	ctx = kmod_new(argv[1], NULL);
	if (!ctx)
		return 1;
	if (argv[2][0] == 'i') {
		err = kmod_module_new_from_lookup(ctx, argv[3], &list);
		if (err == 0 && list) {
			mod = kmod_module_get_module(list);
			err = kmod_module_insert_module(mod, 0, NULL);
		} else if (err == 0) {
			err = -ENOENT;
		}
	} else {
		err = kmod_module_new_from_name(ctx, argv[3], &mod);
		if (err == 0)
			err = kmod_module_remove_module(mod, 0);
	}
	if (err < 0)
		fprintf(stderr, "kmodcall: %s %s: %s\n", argv[2], argv[3], strerror(-err));
	if (mod)
		kmod_module_unref(mod);
	kmod_module_unref_list(list);
	kmod_unref(ctx);
	return err < 0 ? 1 : 0;
}
