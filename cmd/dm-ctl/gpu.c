/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dm-ctl's GPUs: their device nodes, who holds them, and whether they are back from vfio-pci. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "act.h"
#include "dm-ctl.h"
#include "holders.h"
#include "msg.h"
#include "out.h"
#include "run.h"
#include "state.h"
#include "sysfs.h"
#include "util.h"

/* Every GPU node: DRM cards and render nodes, nvidia's. */
static void gpu_nodes(struct vu_names *out)
{
	char path[PATH_MAX];
	struct vu_names l;

	out->v = NULL;
	out->n = 0;
	if (vu_path(path, sizeof(path), "/dev/dri") == 0 && vu_listdir(path, &l) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			char node[300];
			char **v = realloc(out->v, (out->n + 1) * sizeof(*v));

			if (!v)
				break;
			out->v = v;
			snprintf(node, sizeof(node), "/dev/dri/%s", l.v[i]);
			out->v[out->n++] = strdup(node);
		}
		vu_names_free(&l);
	}
	if (vu_path(path, sizeof(path), "/dev") == 0 && vu_listdir(path, &l) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			char node[300];
			char **v;

			if (strncmp(l.v[i], "nvidia", 6) != 0 ||
			    !(v = realloc(out->v, (out->n + 1) * sizeof(*v))))
				continue;
			out->v = v;
			snprintf(node, sizeof(node), "/dev/%s", l.v[i]);
			out->v[out->n++] = strdup(node);
		}
		vu_names_free(&l);
	}
}

void dm_holders(struct vu_holders *h)
{
	struct vu_names nodes;

	gpu_nodes(&nodes);
	vu_holders_find(&nodes, h);
	vu_names_free(&nodes);
}

int dm_wait_free(const struct vu_names *nodes, const struct vu_names *also,
		 struct vu_holders *also_held, int timeout_ms)
{
	struct timespec tick = { 0, 10L * 1000 * 1000 };
	double start = vu_now();
	struct vu_names gpus = { 0 }, all = { 0 };
	struct vu_holders h = { 0 }, seen = { 0 };
	bool waited = false;
	int st = VU_EXIT_FAIL;
	char who[1024];

	if (!nodes)
		gpu_nodes(&gpus);
	nodes = nodes ? nodes : &gpus;
	/* One walk of /proc for both: the nodes waited for, and ALSO's holders. */
	for (size_t i = 0; i < nodes->n; i++)
		vu_names_add_unique(&all, nodes->v[i]);
	for (size_t i = 0; also && i < also->n; i++)
		vu_names_add_unique(&all, also->v[i]);
	for (;;) {
		vu_holders_find_each(&all, &seen);
		for (size_t i = 0; i < seen.n; i++) {
			/* the nodes waited for name each process once, as vu_holders_find does */
			struct vu_holders *to = vu_names_has(nodes, seen.v[i].node) ? &h : also_held;
			struct vu_holder *v;

			if (!to || (to == &h && h.n && h.v[h.n - 1].pid == seen.v[i].pid) ||
			    !(v = realloc(to->v, (to->n + 1) * sizeof(*v))))
				continue;
			to->v = v;
			to->v[to->n++] = seen.v[i];
		}
		vu_holders_free(&seen);
		if (h.n == 0) {
			/* Said only when something held it: the wait is the news. */
			if (waited)
				vu_report("the GPU is free (after %.2f s)", vu_now() - start);
			st = VU_EXIT_OK;
			break;
		}
		waited = true;
		if ((vu_now() - start) * 1000 >= timeout_ms) {
			vu_holders_format(&h, who, sizeof(who));
			vu_err(
			    "%s is still held open after %d s by %s: they keep the GPU (a user session, nvidia-persistenced?)",
			    h.v[0].node, timeout_ms / 1000, who);
			break;
		}
		vu_holders_free(&h);
		if (also_held)
			vu_holders_free(also_held);
		nanosleep(&tick, NULL);
	}
	vu_holders_free(&h);
	vu_names_free(&all);
	vu_names_free(&gpus);
	return st;
}

void dm_held_gpus(const struct vu_devs *devs, char *buf, size_t size)
{
	struct vu_names all = { 0 }, *each;
	struct vu_holders h = { 0 };

	buf[0] = '\0';
	/* Every display device's nodes, and one walk of /proc for all of them. */
	if (!(each = calloc(devs->n + 1, sizeof(*each))))
		return;
	for (size_t i = 0; i < devs->n; i++)
		if (vu_dev_is_display(&devs->v[i]) && vu_dev_nodes(&devs->v[i], &each[i]) == 0)
			for (size_t j = 0; j < each[i].n; j++)
				vu_names_add_unique(&all, each[i].v[j]);
	vu_holders_find_each(&all, &h);
	for (size_t i = 0; i < devs->n; i++) {
		size_t len = strlen(buf);

		if (vu_holders_hold(&h, &each[i]) && len + strlen(devs->v[i].name) + 2 <= size)
			snprintf(buf + len, size - len, "%s%s", len ? "+" : "", devs->v[i].name);
		vu_names_free(&each[i]);
	}
	free(each);
	vu_holders_free(&h);
	vu_names_free(&all);
}

bool dm_gpus_back(const char *gpus)
{
	char list[VU_STATE_TEXT], *save = NULL;

	if (!gpus || strcmp(gpus, "-") == 0)
		return true;
	snprintf(list, sizeof(list), "%s", gpus);
	for (char *a = strtok_r(list, "+", &save); a; a = strtok_r(NULL, "+", &save)) {
		struct vu_dev d;

		/* A GPU gone since (hot-unplugged) is nothing to wait for. */
		if (!vu_existsf("/sys/bus/pci/devices/%s", a) || vu_dev_read(a, &d) < 0)
			continue;
		if (!d.driver[0] || strcmp(d.driver, "vfio-pci") == 0 ||
		    strcmp(d.driver, "pci-stub") == 0) {
			vu_err(
			    "%s: %s: the display manager would start without its GPU (vfio-unbind --restore first)",
			    a, d.driver[0] ? d.driver : "no driver");
			return false;
		}
	}
	return true;
}

bool dm_modules_back(void)
{
	struct vu_records mods;
	bool back = true;

	if (vu_state_read("modules", &mods) < 0 && mods.n == 0)
		return true; /* unreadable: vfio-unbind says so; nothing to go by here */
	for (size_t i = 0; back && i < mods.n; i++)
		if (!vu_existsf("/sys/module/%s", mods.v[i].key)) {
			vu_err(
			    "%s: removed by vfio-bind --unload and not loaded again: the display manager would start without it (vfio-unbind --restore first)",
			    mods.v[i].key);
			back = false;
		}
	vu_records_free(&mods);
	return back;
}
