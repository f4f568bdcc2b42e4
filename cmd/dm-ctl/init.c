/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dm-ctl's init systems: which one runs, its display manager, and its tool to stop and start it. */
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

const char *const dm_init_names[] = { "unknown", "systemd", "openrc", "runit" };

/* Display managers runit users enable, by service name. */
static const char *const known_dms[] = { "gdm", "gdm3", "sddm",	  "lightdm", "lxdm",
					 "xdm", "slim", "greetd", "ly",	     "emptty" };

bool dm_set(char *dst, size_t size, const char *src, const char *suffix)
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

/* A question to the init system's tool; a tool that cannot be run fails the command. */
static int query(struct dm *dm, const char *name, char *const args[], char *out, size_t size)
{
	int r = dm_run_tool(name, args, out, size);

	if (r < 0 && !dm->err)
		dm->err = r;
	return r;
}

int dm_run_tool(const char *name, char *const args[], char *out, size_t size)
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

/* PROPERTY's value in systemctl show's "NAME=value" lines; "" when absent. */
static void show_value(const char *out, const char *property, char *buf, size_t size)
{
	size_t len = strlen(property);

	buf[0] = '\0';
	for (const char *l = out; *l; l += strcspn(l, "\n"), l += *l == '\n')
		if (strncmp(l, property, len) == 0 && l[len] == '=')
			snprintf(buf, size, "%.*s", (int)strcspn(l + len + 1, "\n"), l + len + 1);
}

static void detect_systemd(struct dm *dm)
{
	char out[512], id[256], state[64] = "", path[PATH_MAX], link[PATH_MAX], *base;

	/*
	 * The alias systemd itself resolves, and its state, in one call (each
	 * systemctl is ~0.15 s on a slow host, in every VM's start); the link
	 * and Debian's file where it cannot.
	 */
	if (query(dm, "systemctl",
		  (char *[]){ "show", "-p", "Id", "-p", "ActiveState", "display-manager.service",
			      NULL },
		  out, sizeof(out)) == 0)
		show_value(out, "Id", id, sizeof(id));
	else
		id[0] = '\0';
	if (id[0] && strcmp(id, "display-manager.service") != 0) {
		dm_set(dm->service, sizeof(dm->service), id, "");
		show_value(out, "ActiveState", state, sizeof(state));
	} else if (vu_path(path, sizeof(path), "/etc/systemd/system/display-manager.service") ==
		       0 &&
		   vu_readlink(path, link, sizeof(link)) > 0) {
		base = strrchr(link, '/');
		dm_set(dm->service, sizeof(dm->service), base ? base + 1 : link, "");
	} else if (vu_readf(link, sizeof(link), "/etc/X11/default-display-manager") > 0) {
		base = strrchr(link, '/');
		dm_set(dm->service, sizeof(dm->service), base ? base + 1 : link, ".service");
	}
	if (!dm->service[0])
		return;
	strip_service(dm->service, dm->name, sizeof(dm->name));
	if (dm->err)
		return;
	/* As is-active has it: active, or reloading its configuration. */
	if (state[0])
		dm->active = strcmp(state, "active") == 0 || strcmp(state, "reloading") == 0 ||
			     strcmp(state, "refreshing") == 0;
	else
		dm->active = query(dm, "systemctl", (char *[]){ "is-active", dm->service, NULL },
				   out, sizeof(out)) == 0;
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
	dm_set(dm->name, sizeof(dm->name), dm->service, "");
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

int dm_detect(struct dm *dm, bool isolate)
{
	int err = detect(dm);

	if (err == 0 && isolate && dm->init != INIT_SYSTEMD)
		vu_usage_error("--isolate is systemd's, and this is %s", dm_init_names[dm->init]);
	return err;
}

int dm_act(const struct dm *dm, bool stop, bool isolate)
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
	r = dm_run_tool(name, args, NULL, 0);
	if (r > 0)
		vu_err("%s %s %s: failed (exit status %d)", name, args[0], args[1], r);
	if (r == 0)
		vu_report("%s %s", stop ? "stopped" : "started", isolate ? args[1] : dm->service);
	return r == 0 ? 0 : -EIO;
}
