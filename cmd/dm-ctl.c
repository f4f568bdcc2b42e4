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
#include "holders.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "run.h"
#include "state.h"
#include "sysfs.h"
#include "util.h"

#define STATE "dm"

enum {
	OPT_ISOLATE = VU_OPT_CMD,
	OPT_TIMEOUT,
};

enum init { INIT_UNKNOWN, INIT_SYSTEMD, INIT_OPENRC, INIT_RUNIT };

static const char *const init_names[] = { "unknown", "systemd", "openrc", "runit" };

/* Display managers runit users enable, by service name. */
static const char *const known_dms[] = { "gdm", "gdm3", "sddm",	  "lightdm", "lxdm",
					 "xdm", "slim", "greetd", "ly",	     "emptty" };

struct dm {
	enum init init;
	char service[128]; /* gdm.service; display-manager (OpenRC); sddm (runit); "" none */
	char name[64];	   /* gdm, sddm: what the user knows it by */
	bool active;
	int err; /* a query that could not be run (reported): no answer is a guess */
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
	      "  status             init system, display manager, who holds the GPU (default)\n"
	      "  stop               remember and stop it, then wait for the GPU to be free\n"
	      "  start              start what stop stopped\n"
	      "\n"
	      "Options:\n"
	      "      --isolate      systemd: switch to multi-user.target (stop) and\n"
	      "                     graphical.target (start) instead\n"
	      "      --timeout SECONDS  how long stop waits for the GPU to be free (20)\n"
	      "  -n, --dry-run      print the commands that would do it, change nothing\n"
	      "      --json         report as JSON (vfio-utils(7))\n" VU_USAGE_COMMON "\n"
	      "Exit status: 0 done (or nothing to do), 1 failed or the GPU stayed held,\n"
	      "2 usage error.\n"
	      "See dm-ctl(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

/* A name into a field; one that does not fit is no name of ours. */
static bool set(char *dst, size_t size, const char *src, const char *suffix)
{
	size_t len = strlen(src), slen = strlen(suffix);

	if (len + slen >= size) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, src, len);
	memcpy(dst + len, suffix, slen + 1);
	return true;
}

static enum init detect_init(void)
{
	if (vu_systemd_booted())
		return INIT_SYSTEMD;
	if (vu_existsf("/run/openrc"))
		return INIT_OPENRC;
	if (vu_existsf("/run/runit") || vu_existsf("/etc/runit/runsvdir"))
		return INIT_RUNIT;
	return INIT_UNKNOWN;
}

static int run_tool(const char *name, char *const args[], char *out, size_t size);

/* A question to the init system's tool; a tool that cannot be run fails the command. */
static int query(struct dm *dm, const char *name, char *const args[], char *out, size_t size)
{
	int r = run_tool(name, args, out, size);

	if (r < 0 && !dm->err)
		dm->err = r;
	return r;
}

/*
 * Run the init system's tool NAME with ARGS (a change waits as long as the
 * init system itself lets it take); its exit status or -errno (reported).
 */
static int run_tool(const char *name, char *const args[], char *out, size_t size)
{
	char *argv[18];
	int i;

	argv[0] = (char *)name;
	for (i = 0; i < 16 && args[i]; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	return vu_run(argv, out, size, out ? VU_RUN_ASK_MS : VU_RUN_CHANGE_MS);
}

static void strip_service(const char *unit, char *name, size_t size)
{
	const char *dot = strrchr(unit, '.');

	snprintf(name, size, "%.*s", (int)(dot ? (size_t)(dot - unit) : strlen(unit)), unit);
}

static void detect_systemd(struct dm *dm)
{
	char out[256], path[PATH_MAX], link[PATH_MAX], *base;

	/* The alias systemd itself resolves; the link and Debian's file where it cannot. */
	if (query(dm, "systemctl",
		  (char *[]){ "show", "-P", "Id", "display-manager.service", NULL }, out,
		  sizeof(out)) == 0 &&
	    out[0] && strcmp(out, "display-manager.service") != 0) {
		set(dm->service, sizeof(dm->service), out, "");
	} else if (vu_path(path, sizeof(path), "/etc/systemd/system/display-manager.service") ==
		       0 &&
		   vu_readlink(path, link, sizeof(link)) > 0) {
		base = strrchr(link, '/');
		set(dm->service, sizeof(dm->service), base ? base + 1 : link, "");
	} else if (vu_readf(link, sizeof(link), "/etc/X11/default-display-manager") > 0) {
		base = strrchr(link, '/');
		set(dm->service, sizeof(dm->service), base ? base + 1 : link, ".service");
	}
	if (!dm->service[0])
		return;
	strip_service(dm->service, dm->name, sizeof(dm->name));
	if (dm->err)
		return;
	dm->active = query(dm, "systemctl", (char *[]){ "is-active", dm->service, NULL }, out,
			   sizeof(out)) == 0;
}

static void detect_openrc(struct dm *dm)
{
	char conf[512], out[256], *v;

	if (vu_readf(conf, sizeof(conf), "/etc/conf.d/display-manager") <= 0 ||
	    !(v = strstr(conf, "DISPLAYMANAGER=")))
		return;
	v += strlen("DISPLAYMANAGER=");
	v += *v == '"';
	snprintf(dm->name, sizeof(dm->name), "%.*s", (int)strcspn(v, "\"\n"), v);
	snprintf(dm->service, sizeof(dm->service), "display-manager");
	dm->active = query(dm, "rc-service", (char *[]){ "display-manager", "status", NULL }, out,
			   sizeof(out)) == 0;
}

static void detect_runit(struct dm *dm)
{
	static const char *const dirs[] = { "/var/service", "/etc/runit/runsvdir/default",
					    "/run/runit/service" };
	char path[PATH_MAX], out[256];

	for (size_t d = 0; d < VU_ARRAY_SIZE(dirs) && !dm->service[0]; d++) {
		struct vu_names enabled;

		if (vu_path(path, sizeof(path), "%s", dirs[d]) < 0 ||
		    vu_listdir(path, &enabled) < 0)
			continue;
		for (size_t i = 0; i < enabled.n && !dm->service[0]; i++)
			for (size_t k = 0; k < VU_ARRAY_SIZE(known_dms); k++)
				if (strcmp(enabled.v[i], known_dms[k]) == 0)
					snprintf(dm->service, sizeof(dm->service), "%s",
						 known_dms[k]);
		vu_names_free(&enabled);
	}
	if (!dm->service[0])
		return;
	set(dm->name, sizeof(dm->name), dm->service, "");
	dm->active =
	    query(dm, "sv", (char *[]){ "status", dm->service, NULL }, out, sizeof(out)) == 0 &&
	    strncmp(out, "run:", 4) == 0;
}

static int detect(struct dm *dm)
{
	memset(dm, 0, sizeof(*dm));
	dm->init = detect_init();
	switch (dm->init) {
	case INIT_SYSTEMD:
		detect_systemd(dm);
		break;
	case INIT_OPENRC:
		detect_openrc(dm);
		break;
	case INIT_RUNIT:
		detect_runit(dm);
		break;
	case INIT_UNKNOWN:
		vu_err(
		    "cannot tell the init system: none of /run/systemd/system, /run/openrc, /run/runit");
		return -ENOSYS;
	}
	return dm->err;
}

/* detect, and --isolate only where it means something: a usage error elsewhere. */
static int detect_for(struct dm *dm, bool isolate)
{
	int err = detect(dm);

	if (err == 0 && isolate && dm->init != INIT_SYSTEMD)
		vu_usage_error("--isolate is systemd's, and this is %s", init_names[dm->init]);
	return err;
}

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

static void holders(struct vu_holders *h)
{
	struct vu_names nodes;

	gpu_nodes(&nodes);
	vu_holders_find(&nodes, h);
	vu_names_free(&nodes);
}

/*
 * Until no process holds one of NODES (every GPU node when NULL): what
 * 'sleep 5' hoped for, checked instead of guessed.
 */
static int wait_free(const struct vu_names *nodes, int timeout_ms)
{
	struct timespec tick = { 0, 10L * 1000 * 1000 };
	double start = vu_now();
	struct vu_holders h = { 0 };
	bool waited = false;
	char who[1024];

	for (;;) {
		if (nodes)
			vu_holders_find(nodes, &h);
		else
			holders(&h);
		if (h.n == 0) {
			/* Said only when something held it: the wait is the news. */
			if (waited)
				vu_report("the GPU is free (after %.2f s)", vu_now() - start);
			return VU_EXIT_OK;
		}
		waited = true;
		if ((vu_now() - start) * 1000 >= timeout_ms)
			break;
		vu_holders_free(&h);
		nanosleep(&tick, NULL);
	}
	vu_holders_format(&h, who, sizeof(who));
	vu_err(
	    "%s is still held open after %d s by %s: they keep the GPU (a user session, nvidia-persistenced?)",
	    h.v[0].node, timeout_ms / 1000, who);
	vu_holders_free(&h);
	return VU_EXIT_FAIL;
}

static int act(const struct dm *dm, bool stop, bool isolate)
{
	char *args[4] = { NULL };
	const char *name;
	int r;

	switch (dm->init) {
	case INIT_SYSTEMD:
		name = "systemctl";
		args[0] = isolate ? "isolate" : stop ? "stop" : "start";
		args[1] = isolate ? (stop ? "multi-user.target" : "graphical.target")
				  : (char *)dm->service;
		break;
	case INIT_OPENRC:
		name = "rc-service";
		args[0] = (char *)dm->service;
		args[1] = stop ? "stop" : "start";
		break;
	default:
		name = "sv";
		args[0] = stop ? "stop" : "start";
		args[1] = (char *)dm->service;
		break;
	}
	vu_act_command("%s %s %s", name, args[0], args[1]);
	if (vu_dry_run)
		return 0;
	r = run_tool(name, args, NULL, 0);
	if (r > 0)
		vu_err("%s %s %s: failed (exit status %d)", name, args[0], args[1], r);
	if (r == 0)
		vu_report("%s %s", stop ? "stopped" : "started", isolate ? args[1] : dm->service);
	return r == 0 ? 0 : -EIO;
}

/*
 * The GPUs whose nodes are held now, as the running display manager's X
 * server holds them: "+"-joined addresses (as many as a state value holds).
 */
static void held_gpus(char *buf, size_t size)
{
	struct vu_devs devs;

	buf[0] = '\0';
	if (vu_devs_scan(&devs) < 0)
		return;
	for (size_t i = 0; i < devs.n; i++) {
		struct vu_names nodes;
		struct vu_holders h = { 0 };
		size_t len = strlen(buf);

		if (!vu_dev_is_display(&devs.v[i]) || vu_dev_nodes(&devs.v[i], &nodes) < 0)
			continue;
		vu_holders_find(&nodes, &h);
		if (h.n > 0 && len + strlen(devs.v[i].name) + 2 <= size)
			snprintf(buf + len, size - len, "%s%s", len ? "+" : "", devs.v[i].name);
		vu_holders_free(&h);
		vu_names_free(&nodes);
	}
	vu_devs_free(&devs);
}

/*
 * Whether each GPU the display manager held when stopped has a host driver
 * again: started without it, X finds no screen and the user a black one.
 */
static bool gpus_back(const char *gpus)
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

/*
 * The users' sound servers. PipeWire (with WirePlumber and its PulseAudio
 * server) or PulseAudio keeps the GPU's HDMI audio card open, and
 * snd_hda_intel's remove waits, deaf to signals, until every file of the
 * card is closed: the unbind would hang. They run as the users' systemd
 * services, stopped and started again through those, never killed; each
 * socket goes first, or it would start its service again.
 */
static const struct {
	const char *service, *socket;
} audio_units[] = {
	{ "pipewire.service", "pipewire.socket" },
	{ "pipewire-pulse.service", "pipewire-pulse.socket" },
	{ "wireplumber.service", NULL },
	{ "pulseaudio.service", "pulseaudio.socket" },
};

/* The sound nodes of the audio functions beside GPUS ("+"-joined; every GPU when "-"). */
static void audio_nodes(const char *gpus, struct vu_names *out)
{
	struct vu_devs devs;

	out->v = NULL;
	out->n = 0;
	if (vu_devs_scan(&devs) < 0)
		return;
	for (size_t g = 0; g < devs.n; g++) {
		const struct vu_dev *gpu = &devs.v[g];
		char list[VU_STATE_TEXT + 2];

		snprintf(list, sizeof(list), "+%s+", gpus);
		if (!vu_dev_is_display(gpu) || (strcmp(gpus, "-") != 0 && !strstr(list, gpu->name)))
			continue;
		for (size_t i = 0; i < devs.n; i++) {
			struct vu_names nodes;

			if (((devs.v[i].class >> 8) != 0x0403 &&
			     (devs.v[i].class >> 8) != 0x0401) ||
			    !vu_addr_same_slot(&devs.v[i].addr, &gpu->addr) ||
			    vu_dev_nodes(&devs.v[i], &nodes) < 0)
				continue;
			for (size_t k = 0; k < nodes.n; k++)
				if (strncmp(nodes.v[k], "/dev/snd/", 9) == 0)
					vu_names_add_unique(out, nodes.v[k]);
			vu_names_free(&nodes);
		}
	}
	vu_devs_free(&devs);
}

/*
 * The user service running PID, from its cgroup (".../user@UID.service/
 * .../UNIT"): true, with UID and the audio_units index, when it is one of
 * the sound servers.
 */
static bool audio_unit(pid_t pid, int *uid, size_t *which)
{
	char cg[1024], *at, *unit;

	if (vu_readf(cg, sizeof(cg), "/proc/%d/cgroup", (int)pid) <= 0 ||
	    !(at = strstr(cg, "/user@")))
		return false;
	*uid = (int)strtol(at + 6, NULL, 10);
	unit = strrchr(cg, '/') + 1;
	unit[strcspn(unit, "\n")] = '\0';
	for (size_t i = 0; i < VU_ARRAY_SIZE(audio_units); i++)
		if (strcmp(unit, audio_units[i].service) == 0) {
			*which = i;
			return true;
		}
	return false;
}

/* The user's name, as systemctl --machine wants it: the system's passwd, else the UID. */
static void user_name(const char *uid, char *buf, size_t size)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0, len = strlen(uid);
	FILE *f;

	snprintf(buf, size, "%s", uid);
	if (vu_path(path, sizeof(path), "/etc/passwd") < 0 || !(f = fopen(path, "re")))
		return;
	while (getline(&line, &cap, f) > 0) {
		char *c = strchr(line, ':');

		/* name:x:UID:... */
		if (c && (c = strchr(c + 1, ':')) && strncmp(c + 1, uid, len) == 0 &&
		    c[1 + len] == ':') {
			snprintf(buf, size, "%.*s", (int)strcspn(line, ":"), line);
			break;
		}
	}
	free(line);
	fclose(f);
}

/* systemctl --user --machine=USER@.host VERB UNIT [SOCKET] for record R; its status. */
static int user_units(const struct vu_record *r, bool start)
{
	const char *uid = vu_record_get(r, "user"), *unit = vu_record_get(r, "unit");
	const char *socket = vu_record_get(r, "socket");
	char name[128], machine[160];
	char *args[6] = { "--user", machine, start ? "start" : "stop", NULL, NULL, NULL };
	int n = 3, st;

	user_name(uid ? uid : "0", name, sizeof(name));
	snprintf(machine, sizeof(machine), "--machine=%s@.host", name);
	if (socket && strcmp(socket, "-") != 0)
		args[n++] = (char *)socket;
	args[n++] = (char *)unit;
	vu_act_command("systemctl --user --machine=%s@.host %s %s%s%s", name, args[2], args[3],
		       args[4] ? " " : "", args[4] ? args[4] : "");
	if (vu_dry_run)
		return 0;
	st = run_tool("systemctl", args, NULL, 0);
	if (st > 0)
		vu_err("systemctl --user --machine=%s@.host %s %s: failed (exit status %d)", name,
		       args[2], unit, st);
	else if (st == 0)
		vu_report("%s %s of %s", start ? "started" : "stopped", unit, name);
	return st;
}

/*
 * After the display manager: the sound servers that hold the audio function
 * of a GPU it held, remembered (under the lock), stopped, waited for.
 */
static int stop_audio(const char *gpus, int timeout_ms)
{
	struct vu_names nodes;
	struct vu_holders h = { 0 };
	struct vu_records recs, mine = { 0 };
	int lock, st = VU_EXIT_OK;

	audio_nodes(gpus[0] ? gpus : "-", &nodes);
	if (nodes.n == 0)
		return VU_EXIT_OK;
	vu_holders_find(&nodes, &h);
	for (size_t i = 0; i < h.n; i++) {
		char key[VU_STATE_TEXT], uid[16];
		size_t which;
		int u;

		if (!audio_unit(h.v[i].pid, &u, &which))
			continue;
		snprintf(uid, sizeof(uid), "%d", u);
		snprintf(key, sizeof(key), "audio:%d:%s", u, audio_units[which].service);
		vu_records_set(&mine, key, "user", uid, "unit", audio_units[which].service,
			       "socket", audio_units[which].socket, (char *)NULL);
	}
	vu_holders_free(&h);
	if (mine.n) {
		/* Remembered first: start brings them back whatever happens next. */
		if ((lock = vu_state_begin(STATE, &recs, timeout_ms)) < 0 && !vu_dry_run) {
			vu_records_free(&mine);
			vu_names_free(&nodes);
			return VU_EXIT_FAIL;
		}
		for (size_t i = 0; i < mine.n; i++)
			vu_records_put(&recs, &mine.v[i]);
		if (vu_state_end(STATE, &recs, lock) < 0)
			st = VU_EXIT_FAIL;
		for (size_t i = 0; st == VU_EXIT_OK && i < mine.n; i++)
			if (user_units(&mine.v[i], false) != 0)
				st = VU_EXIT_FAIL;
	}
	vu_records_free(&mine);
	/* Whatever else holds the card is named when time runs out. */
	if (st == VU_EXIT_OK && !vu_dry_run)
		st = wait_free(&nodes, timeout_ms);
	vu_names_free(&nodes);
	return st;
}

/* A sound server stop stopped, started again: a failure is said, and never keeps the screen. */
static int start_audio(const struct vu_record *r)
{
	if (user_units(r, true) != 0)
		vu_warn("%s: not started again: the user's session starts it at the next login",
			vu_record_get(r, "unit"));
	return 0;
}

/*
 * Remember what stop is about to stop (first: start knows what to bring back
 * even after a crash); false when there is nothing to stop, or it cannot be
 * remembered.
 */
static int plan_stop(const struct dm *dm, struct vu_records *recs, bool isolate, bool *needed,
		     char *gpus, size_t size)
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
	held_gpus(gpus, size);
	if (!vu_records_set(recs, dm->name, "init", init_names[dm->init], "service", dm->service,
			    "how", isolate ? "isolate" : "stop", "gpus", gpus, (char *)NULL))
		return VU_EXIT_FAIL;
	*needed = true;
	return VU_EXIT_OK;
}

/*
 * Whether the modules vfio-bind --unload removed are loaded again: without
 * nvidia_drm, nvidia's GPU has no /dev/dri card, and X starts on nothing.
 */
static bool modules_back(void)
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

/* The records start may act on now: their GPUs and modules are back. */
static int plan_start(const struct vu_records *recs, bool *ready)
{
	int status = VU_EXIT_OK;
	bool modules = modules_back();

	if (recs->n == 0)
		vu_report("nothing stopped by dm-ctl: nothing to start");
	for (size_t i = 0; i < recs->n; i++) {
		ready[i] = modules && gpus_back(vu_record_get(&recs->v[i], "gpus"));
		if (!ready[i])
			status = VU_EXIT_FAIL;
	}
	return status;
}

/* Start what record R says was stopped; 0 or -EIO. */
static int start_one(struct dm *dm, const struct vu_record *r)
{
	const char *service = vu_record_get(r, "service"), *how = vu_record_get(r, "how");

	if (vu_record_get(r, "unit"))
		return start_audio(r);
	if (service)
		set(dm->service, sizeof(dm->service), service, "");
	return act(dm, false, how && strcmp(how, "isolate") == 0);
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

	vu_rec_str(doc, "init", init_names[dm->init]);
	if (dm->service[0]) {
		r = vu_rec_obj(doc, "display_manager");
		vu_rec_str(r, "name", dm->name);
		vu_rec_str(r, "service", dm->service);
		vu_rec_bool(r, "active", dm->active);
	} else {
		vu_rec_null(doc, "display_manager");
	}
	holders(&h);
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
	/* Asked under the lock: another run may have started or stopped it meanwhile. */
	if (detect_for(&dm, isolate) < 0) {
		vu_state_unlock(lock);
		vu_records_free(&recs);
		return VU_EXIT_FAIL;
	}
	if (strcmp(what, "stop") == 0) {
		bool needed;

		char gpus[VU_STATE_TEXT];

		st = plan_stop(&dm, &recs, isolate, &needed, gpus, sizeof(gpus));
		if (vu_state_end(STATE, &recs, lock) < 0)
			st = VU_EXIT_FAIL;
		if (st == VU_EXIT_OK && needed && act(&dm, true, isolate) < 0)
			st = VU_EXIT_FAIL;
		if (st == VU_EXIT_OK && !vu_dry_run)
			st = wait_free(NULL, timeout_ms);
		/* systemd runs the users' sound servers: only there are they its to stop. */
		if (st == VU_EXIT_OK && dm.init == INIT_SYSTEMD)
			st = stop_audio(gpus, timeout_ms);
		return st;
	}
	/* Nothing to go by: the display manager the system has, if it is not running. */
	if (damaged && dm.service[0] && !dm.active)
		vu_records_set(&recs, dm.name, "init", init_names[dm.init], "service", dm.service,
			       "how", "stop", (char *)NULL);
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
		if (detect_for(&dm, isolate) < 0)
			return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
		status(&dm, doc);
		return vu_out_finish(doc, status_text, VU_EXIT_OK);
	}
	st = change(what, isolate, timeout_ms);
	/* What the display manager is now, for --json. */
	if (vu_opt_json && detect_for(&dm, isolate) == 0)
		status(&dm, doc);
	return vu_out_finish(doc, NULL, st);
}
