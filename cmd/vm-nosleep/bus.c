/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-nosleep's questions to systemd and logind on the system bus (bus.h):
 * the calls systemd-run, systemctl and systemd-inhibit --list make, made from
 * this process.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "msg.h"
#include "sysfs.h"
#include "util.h"
#include "bus.h"

#define SYSTEMD1	 "org.freedesktop.systemd1"
#define SYSTEMD1_PATH	 "/org/freedesktop/systemd1"
#define SYSTEMD1_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD1_UNIT	 "org.freedesktop.systemd1.Unit"
#define SYSTEMD1_SERVICE "org.freedesktop.systemd1.Service"
#define LOGIN1		 "org.freedesktop.login1"
#define LOGIN1_PATH	 "/org/freedesktop/login1"
#define LOGIN1_MANAGER	 "org.freedesktop.login1.Manager"

static uint64_t usec(int timeout_ms)
{
	return (uint64_t)(timeout_ms > 0 ? timeout_ms : 1) * 1000;
}

int bus_open(sd_bus **bus, const char *who)
{
	char addr[4200];
	int r;

	if (!vu_sysroot()[0]) {
		if ((r = sd_bus_open_system(bus)) < 0)
			vu_errc(r, "%s%sthe system bus", who ? who : "", who ? ": " : "");
		return r < 0 ? r : 0;
	}
	/* below a sysroot, the tree's own system bus, never the host's */
	snprintf(addr, sizeof(addr), "unix:path=%s/run/dbus/system_bus_socket", vu_sysroot());
	if ((r = sd_bus_new(bus)) < 0 || (r = sd_bus_set_address(*bus, addr)) < 0 ||
	    (r = sd_bus_set_bus_client(*bus, 1)) < 0 || (r = sd_bus_start(*bus)) < 0) {
		*bus = sd_bus_unref(*bus);
		vu_errc(r, "%s%sthe system bus, %s", who ? who : "", who ? ": " : "",
			addr + strlen("unix:path="));
	}
	return r < 0 ? r : 0;
}

/* The error of a failed call, said after WHAT; its -errno. */
static int said(int r, const sd_bus_error *err, const char *unit, const char *what)
{
	vu_err("%s: %s: %s", unit, what, err->message ? err->message : strerror(-r));
	return r;
}

int bus_unit(sd_bus *bus, const char *unit, struct unit_state *st, int timeout_ms)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path, *state = "", *text = "";
	uint32_t pid = 0;
	int r;

	memset(st, 0, sizeof(*st));
	(void)sd_bus_set_method_call_timeout(bus, usec(timeout_ms));
	r = sd_bus_call_method(bus, SYSTEMD1, SYSTEMD1_PATH, SYSTEMD1_MANAGER, "GetUnit", &err,
			       &reply, "s", unit);
	if (r < 0) {
		/* not loaded: never started, or stopped and collected */
		if (sd_bus_error_has_name(&err, "org.freedesktop.systemd1.NoSuchUnit"))
			r = 0;
		else
			said(r, &err, unit, "systemd did not say whether it runs");
		goto out;
	}
	if ((r = sd_bus_message_read(reply, "o", &path)) < 0)
		goto out;
	/* Its state, then its service's main process and status line. */
	{
		sd_bus_message *m = NULL;
		char *s = NULL, *t = NULL;

		r = sd_bus_get_property_string(bus, SYSTEMD1, path, SYSTEMD1_UNIT, "ActiveState",
					       &err, &s);
		if (r >= 0)
			r = sd_bus_get_property(bus, SYSTEMD1, path, SYSTEMD1_SERVICE, "MainPID",
						&err, &m, "u");
		if (r >= 0 && (r = sd_bus_message_read(m, "u", &pid)) >= 0)
			r = sd_bus_get_property_string(bus, SYSTEMD1, path, SYSTEMD1_SERVICE,
						       "StatusText", &err, &t);
		if (r < 0)
			said(r, &err, unit, "systemd did not say whether it runs");
		state = s ? s : "";
		text = t ? t : "";
		st->active = strcmp(state, "active") == 0 || strcmp(state, "activating") == 0 ||
			     strcmp(state, "reloading") == 0;
		st->pid = pid;
		snprintf(st->text, sizeof(st->text), "%s", text);
		free(s);
		free(t);
		sd_bus_message_unref(m);
	}
out:
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

/* The end of a job: JobRemoved for the job this run asked for. */
struct job {
	const char *unit;
	char removed[8][256]; /* the paths of UNIT's jobs removed so far, and their results */
	char result[8][32];
	int n;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct job *j = userdata;
	const char *path, *unit, *result;
	uint32_t id;

	(void)error;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0 ||
	    strcmp(unit, j->unit) != 0)
		return 0;
	snprintf(j->removed[j->n % 8], sizeof(j->removed[0]), "%s", path);
	snprintf(j->result[j->n % 8], sizeof(j->result[0]), "%s", result);
	j->n++;
	return 0;
}

/* The result of job PATH ("done", "failed"...), waited for until DEADLINE; NULL at it. */
static const char *job_result(sd_bus *bus, struct job *j, const char *path, double deadline)
{
	for (;;) {
		int r;

		for (int i = 0; i < j->n && i < 8; i++)
			if (strcmp(j->removed[i], path) == 0)
				return j->result[i];
		if ((r = sd_bus_process(bus, NULL)) > 0)
			continue;
		if (r < 0 || vu_now() >= deadline)
			return NULL;
		if (sd_bus_wait(bus, (uint64_t)((deadline - vu_now()) * 1e6) + 1) < 0)
			return NULL;
	}
}

/*
 * Ask systemd's manager for the job M describes (WHAT: a start or a stop of
 * UNIT; BUILT, the status of writing M) and wait for its end; M is unref'd.
 * 0 done; -EEXIST, -ENOENT (systemd's answers: UNIT there already, not
 * there); else -errno, and WHY says why.
 */
static int job(sd_bus *bus, sd_bus_message *m, int built, const char *unit, const char *what,
	       int timeout_ms, char *why, size_t size)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus_slot *slot = NULL;
	struct job j = { .unit = unit };
	double deadline = vu_now() + timeout_ms / 1000.0;
	const char *path, *result;
	int r = built;

	if (r < 0) {
		snprintf(why, size, "%s: cannot ask systemd to %s it: %s", unit, what,
			 strerror(-r));
		goto out;
	}
	/* Matched before the call: the job may end before its reply is read. */
	r = sd_bus_match_signal(bus, &slot, SYSTEMD1, SYSTEMD1_PATH, SYSTEMD1_MANAGER, "JobRemoved",
				on_job_removed, &j);
	if (r >= 0)
		r = sd_bus_call(bus, m, usec(timeout_ms), &err, &reply);
	if (r < 0) {
		if (sd_bus_error_has_name(&err, "org.freedesktop.systemd1.UnitExists"))
			r = -EEXIST;
		else if (sd_bus_error_has_name(&err, "org.freedesktop.systemd1.NoSuchUnit"))
			r = -ENOENT;
		else
			snprintf(why, size, "%s: systemd refused to %s it: %s", unit, what,
				 err.message ? err.message : strerror(-r));
		goto out;
	}
	if ((r = sd_bus_message_read(reply, "o", &path)) < 0) {
		snprintf(why, size, "%s: systemd's answer to %s it: %s", unit, what, strerror(-r));
		goto out;
	}
	if (!(result = job_result(bus, &j, path, deadline))) {
		snprintf(why, size, "%s: systemd's %s job did not end within %d s", unit, what,
			 (timeout_ms + 999) / 1000);
		r = -ETIMEDOUT;
	} else if (strcmp(result, "done") != 0) {
		snprintf(why, size, "%s: systemd's %s job ended \"%s\" (journalctl -u %s)", unit,
			 what, result, unit);
		r = -EIO;
	}
out:
	sd_bus_slot_unref(slot);
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	return r < 0 ? r : 0;
}

int bus_start(sd_bus *bus, const char *unit, const char *desc, const char *type, const char *path,
	      char *const argv[], int timeout_ms, char *why, size_t size)
{
	sd_bus_message *m = NULL;
	int r;

	/* What systemd-run sends: the unit's properties, its one command, no auxiliary unit. */
	r = sd_bus_message_new_method_call(bus, &m, SYSTEMD1, SYSTEMD1_PATH, SYSTEMD1_MANAGER,
					   "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", unit, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", desc, "Type", "s",
					  type, "CollectMode", "s", "inactive-or-failed");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "ExecStart");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "a(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sasb");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", path);
	if (r >= 0)
		r = sd_bus_message_append_strv(m, (char **)argv);
	if (r >= 0)
		r = sd_bus_message_append(m, "b", 0);
	for (int i = 0; i < 5 && r >= 0; i++)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	r = job(bus, m, r, unit, "start", timeout_ms, why, size);
	if (r == -ENOENT)
		snprintf(why, size, "%s: systemd refused to start it: no such unit", unit);
	return r == -ENOENT ? -EIO : r;
}

int bus_stop(sd_bus *bus, const char *unit, int timeout_ms, char *why, size_t size)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, SYSTEMD1, SYSTEMD1_PATH, SYSTEMD1_MANAGER,
					   "StopUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", unit, "replace");
	r = job(bus, m, r, unit, "stop", timeout_ms, why, size);
	if (r == -ENOENT)
		return 1;
	if (r == -EEXIST)
		snprintf(why, size, "%s: systemd refused to stop it", unit);
	return r == -EEXIST ? -EIO : r;
}

int bus_unit_names(sd_bus *bus, const char *pattern, char *out, size_t size, int timeout_ms)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	char *none[] = { NULL }, *patterns[] = { (char *)pattern, NULL };
	const char *name, *s[7];
	uint32_t job;
	size_t len = 0;
	int r;

	out[0] = '\0';
	/* What systemctl list-units --all PATTERN asks: every state, the units the pattern names.
	 */
	r = sd_bus_message_new_method_call(bus, &m, SYSTEMD1, SYSTEMD1_PATH, SYSTEMD1_MANAGER,
					   "ListUnitsByPatterns");
	if (r >= 0)
		r = sd_bus_message_append_strv(m, none);
	if (r >= 0)
		r = sd_bus_message_append_strv(m, patterns);
	if (r >= 0)
		r = sd_bus_call(bus, m, usec(timeout_ms), &err, &reply);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(ssssssouso)", &name, &s[0], &s[1], &s[2],
						  &s[3], &s[4], &s[5], &job, &s[6], &s[6])) > 0)
		if (len + strlen(name) + 2 < size)
			len += (size_t)snprintf(out + len, size - len, "%s\n", name);
	if (r < 0)
		vu_err("%s: systemd did not list its units: %s", pattern,
		       err.message ? err.message : strerror(-r));
	sd_bus_error_free(&err);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

bool bus_listed(sd_bus *bus, long pid, int timeout_ms)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *what, *who, *why, *mode;
	uint32_t uid, by;
	bool found = false;
	int r;

	if (pid <= 0)
		return false;
	(void)sd_bus_set_method_call_timeout(bus, usec(timeout_ms));
	r = sd_bus_call_method(bus, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER, "ListInhibitors", &err,
			       &reply, "");
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "(ssssuu)");
	while (r >= 0 && !found &&
	       (r = sd_bus_message_read(reply, "(ssssuu)", &what, &who, &why, &mode, &uid, &by)) >
		   0)
		found = by == (uint32_t)pid && strstr(what, "sleep");
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	return found;
}
