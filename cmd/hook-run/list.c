/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook-run list: what would run, in order, for each event. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domxml.h"
#include "hooks.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "sysfs.h"
#include "virt.h"
#include "hook-run.h"

/*
 * What libvirt says of GUEST: its PCI host devices into X (none when it
 * cannot be asked), and whether it is defined at all: 1 yes, 0 no, -1 not known
 * (said, with UNKNOWN: what that means). X may be NULL.
 */
int hr_ask_domain(const char *uri, const char *guest, struct vu_domxml *x, const char *unknown)
{
	struct vu_virt_domains doms;
	const struct vu_virt_domain *d;
	char why[512];
	int known;

	if (x)
		memset(x, 0, sizeof(*x));
	if (vu_virt_list(uri, &doms, why, sizeof(why)) < 0) {
		vu_report("cannot ask libvirt (%s): %s", why, unknown);
		return -1;
	}
	d = vu_virt_find(&doms, guest);
	known = d != NULL;
	if (x && d && d->xml && vu_domxml_parse(d->xml, strlen(d->xml), guest, x) < 0)
		if (x)
			memset(x, 0, sizeof(*x));
	vu_virt_free(&doms);
	return known;
}

static void list_text(const struct vu_rec *doc)
{
	const struct vu_list *l = vu_rec_l(doc, "scripts");

	for (size_t i = 0; i < vu_list_len(l); i++) {
		const struct vu_rec *r = vu_list_rec(l, i);
		char esc[2][PATH_MAX * 4];

		printf("%s\t%s %s\t%s\n", vu_esc(vu_rec_s(r, "guest"), esc[0], sizeof(esc[0])),
		       vu_rec_s(r, "op"), vu_rec_s(r, "subop"),
		       vu_esc(vu_rec_s(r, "path"), esc[1], sizeof(esc[1])));
	}
}

/* The scripts of ONLY (NULL: every guest), per event; URI: the libvirt that knows ONLY. */
int hr_list(const char *only, const char *uri, bool json)
{
	char base[PATH_MAX], path[PATH_MAX + 16];
	struct vu_rec *doc = vu_out_new("hook-run", json);
	struct vu_list *l = vu_rec_list(doc, "scripts");
	struct vu_names guests;
	int shown = 0;

	vu_path(base, sizeof(base), "/etc/libvirt/hooks");
	snprintf(path, sizeof(path), "%s/qemu.d", base);
	if (only && !vu_hook_name_safe(only))
		vu_usage_error("%s: not a name a hook directory can have", only);
	if (vu_listdir(path, &guests) < 0)
		guests.n = 0;
	for (size_t i = 0; i < guests.n; i++) {
		if (only && strcmp(only, guests.v[i]) != 0)
			continue;
		for (size_t e = 0; e < vu_hook_nevents; e++) {
			const struct vu_hook_event *ev = &vu_hook_events[e];
			struct vu_names scripts;

			if (vu_hook_scripts(base, guests.v[i], ev->op, ev->subop, &scripts, NULL) <
			    0)
				continue;
			for (size_t k = 0; k < scripts.n; k++, shown++) {
				struct vu_rec *r = vu_list_obj(l);

				vu_rec_str(r, "guest", guests.v[i]);
				vu_rec_str(r, "op", ev->op);
				vu_rec_str(r, "subop", ev->subop);
				vu_rec_str(r, "path", scripts.v[k] + strlen(base) + 1);
			}
			vu_names_free(&scripts);
		}
	}
	vu_names_free(&guests);
	/* A misspelt name lists nothing, or scripts no event runs: libvirt says which exist. */
	if (only && uri && hr_ask_domain(uri, only, NULL, "the name is not checked") == 0) {
		if (!shown) {
			vu_err(
			    "%s: no such domain at %s, and no scripts (a typo? the name is case-sensitive)",
			    only, uri);
			return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
		}
		vu_warn(
		    "%s: no such domain at %s: no event runs these (a typo? the name is case-sensitive)",
		    only, uri);
	}
	if (!shown)
		vu_report("%s%s: nothing would run", only ? "qemu.d/" : "qemu.d", only ? only : "");
	return vu_out_finish(doc, list_text, VU_EXIT_OK);
}
