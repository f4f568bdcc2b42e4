/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dm-ctl: stop the display manager and wait until the GPU is free; start it again. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "act.h"
#include "dm-ctl/dm-ctl.h"
#include "holders.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "run.h"
#include "state.h"
#include "sysfs.h"
#include "util.h"

enum {
	OPT_ISOLATE = VU_OPT_CMD,
	OPT_TIMEOUT,
};

static noreturn void usage(void)
{
	fputs("Usage: dm-ctl [options] [status|stop|start]\n"
	      "\n"
	      "Stop the display manager before its GPU goes to a VM, wait until no process\n"
	      "holds the GPU's device nodes (the real replacement for 'sleep 5'), and start\n"
	      "it again after. Works with systemd, OpenRC and runit, through their own tools.\n"
	      "\n"
	      "Commands:\n"
	      "  status                 init system, display manager, who holds the GPU (default)\n"
	      "  stop                   remember and stop it, then wait for the GPU to be free\n"
	      "  start                  start what stop stopped\n"
	      "\n"
	      "Options:\n"
	      "      --isolate          systemd: switch to multi-user.target (stop) and\n"
	      "                         graphical.target (start) instead\n"
	      "      --timeout SECONDS  how long stop waits for the GPU to be free (20)\n"
	      "  -n, --dry-run          print the commands that would do it, change nothing\n"
	      "      --json             report as JSON (vfio-utils(7))\n" VU_USAGE_COMMON "\n"
	      "Exit status: 0 done (or nothing to do), 1 failed or the GPU stayed held,\n"
	      "2 usage error.\n"
	      "See dm-ctl(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

/*
 * Remember what stop is about to stop (first: start knows what to bring back
 * even after a crash); false when there is nothing to stop, or it cannot be
 * remembered.
 */
static int plan_stop(const struct dm *dm, const struct vu_devs *devs, struct vu_records *recs,
		     bool isolate, bool *needed, char *gpus, size_t size)
{
	*needed = false;
	gpus[0] = '\0';
	if (!dm->service[0]) {
		vu_report("no display manager configured: nothing to stop");
		return VU_EXIT_OK;
	}
	if (!dm->active) {
		vu_report("%s is not running: nothing to stop", dm->service);
		return VU_EXIT_OK;
	}
	dm_held_gpus(devs, gpus, size);
	if (!vu_records_set(recs, dm->name, "init", dm_init_names[dm->init], "service", dm->service,
			    "how", isolate ? "isolate" : "stop", "gpus", gpus, (char *)NULL))
		return VU_EXIT_FAIL;
	*needed = true;
	return VU_EXIT_OK;
}

/* The records start may act on now: their GPUs and modules are back. */
static int plan_start(const struct vu_records *recs, bool *ready)
{
	int status = VU_EXIT_OK;
	bool modules = dm_modules_back();

	if (recs->n == 0)
		vu_report("nothing stopped by dm-ctl: nothing to start");
	for (size_t i = 0; i < recs->n; i++) {
		ready[i] = modules && dm_gpus_back(vu_record_get(&recs->v[i], "gpus"));
		if (!ready[i])
			status = VU_EXIT_FAIL;
	}
	return status;
}

/* The init system a record names (stop wrote the one that ran); INIT_UNKNOWN for none. */
static enum init record_init(const struct vu_record *r)
{
	const char *name = vu_record_get(r, "init");

	for (int i = INIT_SYSTEMD; name && i <= INIT_RUNIT; i++)
		if (strcmp(name, dm_init_names[i]) == 0)
			return (enum init)i;
	return INIT_UNKNOWN;
}

/*
 * Whether start has all it needs in the records: each display manager's
 * init system and service, as stop found them in this boot. Then nothing
 * is asked of the init system before the start itself (systemctl show is
 * ~0.1 s under emulation, in every VM's release).
 */
static bool records_suffice(const struct vu_records *recs)
{
	for (size_t i = 0; i < recs->n; i++)
		if (!vu_record_get(&recs->v[i], "unit") &&
		    (record_init(&recs->v[i]) == INIT_UNKNOWN ||
		     !vu_record_get(&recs->v[i], "service")))
			return false;
	return true;
}

/* Start what record R says was stopped; 0 or -EIO. */
static int start_one(struct dm *dm, const struct vu_record *r)
{
	const char *service = vu_record_get(r, "service"), *how = vu_record_get(r, "how");
	enum init init = record_init(r);

	if (vu_record_get(r, "unit"))
		return dm_start_audio(r);
	if (init != INIT_UNKNOWN)
		dm->init = init;
	if (service)
		dm_set(dm->service, sizeof(dm->service), service, "");
	return dm_act(dm, false, how && strcmp(how, "isolate") == 0);
}

/* The records started, dropped under the lock again: unless another stop wrote them anew. */
static int forget_started(const struct vu_records *done, int timeout_ms)
{
	struct vu_records now;
	int lock = vu_state_begin(STATE, &now, timeout_ms);

	if (lock < 0 && !vu_dry_run)
		return VU_EXIT_FAIL;
	for (size_t i = 0; i < done->n; i++) {
		struct vu_record *r = vu_records_find(&now, done->v[i].key);

		if (r && memcmp(r, &done->v[i], sizeof(*r)) == 0)
			vu_records_del(&now, done->v[i].key);
	}
	return vu_state_end(STATE, &now, lock) < 0 ? VU_EXIT_FAIL : VU_EXIT_OK;
}

/* The init system, its display manager and who holds the GPU, into the report. */
static void status(const struct dm *dm, struct vu_rec *doc)
{
	struct vu_holders h = { 0 };
	struct vu_rec *r;
	struct vu_list *l;

	vu_rec_str(doc, "init", dm_init_names[dm->init]);
	if (dm->service[0]) {
		r = vu_rec_obj(doc, "display_manager");
		vu_rec_str(r, "name", dm->name);
		vu_rec_str(r, "service", dm->service);
		vu_rec_bool(r, "active", dm->active);
	} else {
		vu_rec_null(doc, "display_manager");
	}
	dm_holders(&h);
	l = vu_rec_list(doc, "holders");
	for (size_t i = 0; i < h.n; i++) {
		r = vu_list_obj(l);
		vu_rec_int(r, "pid", h.v[i].pid);
		vu_rec_str(r, "name", h.v[i].comm);
		vu_rec_str(r, "node", h.v[i].node);
	}
	vu_holders_free(&h);
}

static void status_text(const struct vu_rec *doc)
{
	const struct vu_rec *dm = vu_rec_o(doc, "display_manager");
	const struct vu_list *l = vu_rec_l(doc, "holders");
	char who[1024], esc[sizeof(who) * 4];
	size_t len = 0;

	printf("init system:     %s\n", vu_rec_s(doc, "init"));
	if (dm)
		printf("display manager: %s (%s, %s)\n", vu_rec_s(dm, "name"),
		       vu_rec_s(dm, "service"), vu_rec_b(dm, "active") ? "running" : "stopped");
	else
		printf("display manager: none configured\n");
	who[0] = '\0';
	for (size_t i = 0; i < vu_list_len(l) && len < sizeof(who); i++)
		len += (size_t)snprintf(who + len, sizeof(who) - len, "%s%s (%lld)", i ? ", " : "",
					vu_rec_s(vu_list_rec(l, i), "name"),
					vu_rec_i(vu_list_rec(l, i), "pid"));
	/* Any user can hold a render node, under any name prctl gives it. */
	printf("GPU held by:     %s\n", len ? vu_esc(who, esc, sizeof(esc)) : "nobody");
}

/* stop or start: WHAT, under dm-ctl's lock. */
static int change(const char *what, bool isolate, int timeout_ms)
{
	struct vu_records recs = { 0 };
	struct dm dm = { 0 };
	bool damaged;
	int st, lock, err;

	/*
	 * The state lock covers the change to what is remembered, never the wait
	 * for systemctl or for the GPU: another VM's vfio-bind may need it
	 * meanwhile. dm-ctl's own lock, held to the end, keeps a start from
	 * running between a stop's record and its systemctl.
	 */
	if (!vu_dry_run && (err = vu_state_lock_named("dm.lock", timeout_ms)) < 0) {
		if (err == -ETIMEDOUT)
			vu_err("/run/vfio-utils/dm.lock: another dm-ctl has held it for %d s",
			       timeout_ms / 1000);
		else
			vu_errc(err, "/run/vfio-utils: cannot take the lock");
		return VU_EXIT_FAIL;
	}
	lock = vu_state_begin(STATE, &recs, timeout_ms);
	if (lock < 0 && !vu_dry_run)
		return VU_EXIT_FAIL;
	if (recs.damaged && strcmp(what, "stop") == 0)
		return vu_state_refuse_damaged(STATE, &recs, lock, "dm-ctl start");
	damaged = recs.damaged;
	if (damaged && !vu_dry_run)
		vu_state_keep_aside(STATE, &recs);
	/*
	 * Asked under the lock: another run may have started or stopped it
	 * meanwhile. A start goes by the records alone when they say enough.
	 */
	if ((strcmp(what, "stop") == 0 || damaged || isolate || !records_suffice(&recs)) &&
	    dm_detect(&dm, isolate) < 0) {
		vu_state_unlock(lock);
		vu_records_free(&recs);
		return VU_EXIT_FAIL;
	}
	if (strcmp(what, "stop") == 0) {
		bool needed;

		char gpus[VU_STATE_TEXT];

		struct vu_devs devs = { 0 };
		struct vu_names sound = { 0 };
		struct vu_holders sound_held = { 0 };
		/* systemd runs the users' sound servers: only there are they its to stop. */
		bool audio = dm.init == INIT_SYSTEMD, looked = false;

		if (vu_devs_scan(&devs) < 0)
			devs.n = 0;
		st = plan_stop(&dm, &devs, &recs, isolate, &needed, gpus, sizeof(gpus));
		if (vu_state_end(STATE, &recs, lock) < 0)
			st = VU_EXIT_FAIL;
		if (audio)
			dm_audio_nodes(&devs, gpus[0] ? gpus : "-", &sound);
		vu_devs_free(&devs);
		if (st == VU_EXIT_OK && needed && dm_act(&dm, true, isolate) < 0)
			st = VU_EXIT_FAIL;
		/* The GPUs free, and who holds their sound nodes: one walk of /proc. */
		if (st == VU_EXIT_OK && !vu_dry_run) {
			st = dm_wait_free(NULL, &sound, &sound_held, timeout_ms);
			looked = true;
		}
		if (st == VU_EXIT_OK && audio)
			st = dm_stop_audio(&sound, looked ? &sound_held : NULL, timeout_ms);
		vu_holders_free(&sound_held);
		vu_names_free(&sound);
		return st;
	}
	/* Nothing to go by: the display manager the system has, if it is not running. */
	if (damaged && dm.service[0] && !dm.active)
		vu_records_set(&recs, dm.name, "init", dm_init_names[dm.init], "service",
			       dm.service, "how", "stop", (char *)NULL);
	{
		bool ready[recs.n + 1];
		struct vu_records done = { 0 };

		st = plan_start(&recs, ready);
		/* A damaged file was kept aside: what it held is started, not saved again. */
		if (damaged)
			st = VU_EXIT_FAIL;
		vu_state_unlock(lock);
		for (size_t i = recs.n; i-- > 0;) {
			if (!ready[i])
				continue;
			if (start_one(&dm, &recs.v[i]) < 0 || !vu_records_put(&done, &recs.v[i]))
				st = VU_EXIT_FAIL;
		}
		if (done.n && !damaged && forget_started(&done, timeout_ms) != VU_EXIT_OK)
			st = VU_EXIT_FAIL;
		vu_records_free(&done);
		vu_records_free(&recs);
	}
	return st;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "isolate", no_argument, NULL, OPT_ISOLATE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct vu_rec *doc;
	const char *what;
	bool isolate = false;
	int opt, st, timeout_ms = 20000;
	struct dm dm = { 0 };

	while ((opt = getopt_long(argc, argv, "nvqhV", longopts, NULL)) != -1) {
		if (vu_common_opt(opt, optarg))
			continue;
		switch (opt) {
		case OPT_ISOLATE:
			isolate = true;
			break;
		case OPT_TIMEOUT:
			timeout_ms = vu_timeout_opt(optarg);
			break;
		case 'h':
			usage();
		default:
			vu_errtryhelp();
		}
	}
	what = vu_subcommand(argc, argv, (const char *const[]){ "status", "stop", "start", NULL });
	vu_common_done();

	doc = vu_out_new("dm-ctl", vu_opt_json);
	if (strcmp(what, "status") == 0) {
		if (dm_detect(&dm, isolate) < 0)
			return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
		status(&dm, doc);
		return vu_out_finish(doc, status_text, VU_EXIT_OK);
	}
	st = change(what, isolate, timeout_ms);
	/* What the display manager is now, for --json. */
	if (vu_opt_json && dm_detect(&dm, isolate) == 0)
		status(&dm, doc);
	return vu_out_finish(doc, NULL, st);
}
