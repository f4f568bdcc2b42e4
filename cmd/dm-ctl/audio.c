/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dm-ctl's sound servers: the users' services holding a GPU's audio card, stopped and started. */
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

/* Each audio function in a GPU's slot: its /dev/snd nodes. */
void dm_audio_nodes(const struct vu_devs *devs, const char *gpus, struct vu_names *out)
{
	out->v = NULL;
	out->n = 0;
	for (size_t g = 0; g < devs->n; g++) {
		const struct vu_dev *gpu = &devs->v[g];
		char list[VU_STATE_TEXT + 2];

		snprintf(list, sizeof(list), "+%s+", gpus);
		if (!vu_dev_is_display(gpu) || (strcmp(gpus, "-") != 0 && !strstr(list, gpu->name)))
			continue;
		for (size_t i = 0; i < devs->n; i++) {
			struct vu_names nodes;

			if (((devs->v[i].class >> 8) != 0x0403 &&
			     (devs->v[i].class >> 8) != 0x0401) ||
			    !vu_addr_same_slot(&devs->v[i].addr, &gpu->addr) ||
			    vu_dev_nodes(&devs->v[i], &nodes) < 0)
				continue;
			for (size_t k = 0; k < nodes.n; k++)
				if (strncmp(nodes.v[k], "/dev/snd/", 9) == 0)
					vu_names_add_unique(out, nodes.v[k]);
			vu_names_free(&nodes);
		}
	}
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
	st = dm_run_tool("systemctl", args, NULL, 0);
	if (st > 0)
		vu_err("systemctl --user --machine=%s@.host %s %s: failed (exit status %d)", name,
		       args[2], unit, st);
	else if (st == 0)
		vu_report("%s %s of %s", start ? "started" : "stopped", unit, name);
	return st;
}

int dm_stop_audio(const struct vu_names *nodes, const struct vu_holders *held, int timeout_ms)
{
	struct vu_holders found = { 0 };
	const struct vu_holders *h = held ? held : &found;
	struct vu_records recs, mine = { 0 };
	int lock, st = VU_EXIT_OK;

	if (nodes->n == 0)
		return VU_EXIT_OK;
	if (!held)
		vu_holders_find(nodes, &found);
	/* Nothing holds them: nothing to stop, and nothing to wait for. */
	if (h->n == 0)
		return VU_EXIT_OK;
	for (size_t i = 0; i < h->n; i++) {
		char key[VU_STATE_TEXT], uid[16];
		size_t which;
		int u;

		if (!audio_unit(h->v[i].pid, &u, &which))
			continue;
		snprintf(uid, sizeof(uid), "%d", u);
		snprintf(key, sizeof(key), "audio:%d:%s", u, audio_units[which].service);
		vu_records_set(&mine, key, "user", uid, "unit", audio_units[which].service,
			       "socket", audio_units[which].socket, (char *)NULL);
	}
	vu_holders_free(&found);
	if (mine.n) {
		/* Remembered first: start brings them back whatever happens next. */
		if ((lock = vu_state_begin(STATE, &recs, timeout_ms)) < 0 && !vu_dry_run) {
			vu_records_free(&mine);
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
		st = dm_wait_free(nodes, NULL, NULL, timeout_ms);
	return st;
}

int dm_start_audio(const struct vu_record *r)
{
	if (user_units(r, true) != 0)
		vu_warn("%s: not started again: the user's session starts it at the next login",
			vu_record_get(r, "unit"));
	return 0;
}
