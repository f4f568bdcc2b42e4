/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vm-nosleep: a logind sleep inhibitor that names a domain, in a transient unit, while it runs. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "act.h"
#include "domcmd.h"
#include "domxml.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "run.h"
#include "state.h"
#include "util.h"
#include "vm-nosleep/bus.h"
#include "vm-nosleep/watch.h"

#define STATE	 "nosleep"
#define UNIT_MAX 256 /* systemd's UNIT_NAME_MAX, with the NUL */

/* A run's own: the domain's unit, and what the host's sleep and shutdown do to its guest. */
struct nosleep {
	char unit[UNIT_MAX];
	struct policy p;
};

static noreturn void usage(void)
{
	fputs(
	    "Usage: vm-nosleep [options] [status]\n"
	    "       vm-nosleep [options] hold|release [--domain-xml FILE|- | DOMAIN]\n"
	    "       vm-nosleep delay [options] [SECONDS|default]\n"
	    "\n"
	    "Keep the host from sleeping while a domain runs: a logind sleep inhibitor\n"
	    "that names it, held by a transient systemd unit (no process is left as the\n"
	    "hook's child), and gone again at release.\n"
	    "\n"
	    "Commands:\n"
	    "  status                 the inhibitors vm-nosleep holds, as logind lists\n"
	    "                         them (the default)\n"
	    "  hold                   start the domain's unit, and wait until logind\n"
	    "                         lists its inhibitor\n"
	    "  release                stop it\n"
	    "  delay                  how long logind waits for a guest to go first:\n"
	    "                         SECONDS, or default (vm-nosleep delay --help)\n"
	    "  watch                  what the unit runs with a policy (not for hooks)\n"
	    "\n"
	    "Options:\n"
	    "      --domain-xml FILE  the domain's XML ('-': stdin, as a hook gets it)\n"
	    "      --timeout SECONDS  wait at most this long for logind, and for another run (20)\n"
	    "      --on-sleep WHAT    at host sleep: block (the default: no sleep), or the\n"
	    "                         guest first: suspend (to RAM) or hibernate\n"
	    "      --on-shutdown WHAT at host shutdown: none (the default), or the guest\n"
	    "                         first: shutdown or hibernate\n"
	    "      --if-late WHAT     a guest not there in time: pause (the default) or leave\n"
	    "      --wait SECONDS     the guest's time to get there (logind's delay, 5 s)\n"
	    "      --connect URI      the libvirt the guest is asked through\n"
	    "  -n, --dry-run          print the commands that would do it, change nothing\n"
	    "      --json             print the report as JSON (vfio-utils(7))\n" VU_USAGE_COMMON
	    "\n"
	    "Exit status: 0 done (or nothing to do), 1 the inhibitor could not be taken or\n"
	    "let go (its unit stopped), 2 usage error.\n"
	    "See vm-nosleep(8).\n",
	    stdout);
	vu_exit(VU_EXIT_OK);
}

/*
 * The domain's unit: "vfio-utils-nosleep-NAME.service", NAME escaped as
 * systemd-escape does (bytes outside [A-Za-z0-9:_.], and a leading '.', as
 * \xNN), so that any libvirt name gives one unit; -ENAMETOOLONG past systemd's
 * limit.
 */
static int unit_name(const char *domain, char *buf, size_t size)
{
	static const char prefix[] = "vfio-utils-nosleep-", suffix[] = ".service";
	size_t len = sizeof(prefix) - 1;

	if (size < UNIT_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, prefix, len);
	for (const unsigned char *p = (const unsigned char *)domain; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == ':' || *p == '_' ||
			     (*p == '.' && p != (const unsigned char *)domain);

		if (len + 4 + sizeof(suffix) > UNIT_MAX)
			return -ENAMETOOLONG;
		len += plain ? (size_t)snprintf(buf + len, size - len, "%c", *p)
			     : (size_t)snprintf(buf + len, size - len, "\\x%02x", *p);
	}
	memcpy(buf + len, suffix, sizeof(suffix));
	return 0;
}

/* When the run's --timeout is up: no call to systemd or logind goes past it. */
static double deadline;

/* What is left of the run's time for one call (a last second, to say why it failed). */
static int left_ms(void)
{
	double left = (deadline - vu_now()) * 1000;

	return left > 1000 ? (int)left : 1000;
}

static sd_bus *sysbus;

static void bus_close(void)
{
	sysbus = sd_bus_flush_close_unref(sysbus);
}

/* The system bus, opened at the first question; NULL (said once) when it cannot be. */
static sd_bus *bus(void)
{
	static int failed;

	if (sysbus || failed)
		return sysbus;
	if ((failed = bus_open(&sysbus, NULL)) == 0)
		atexit(bus_close);
	return sysbus;
}

/* What systemd says of UNIT; -errno (said) when it cannot be asked. */
static int unit_state(const char *unit, struct unit_state *st)
{
	memset(st, 0, sizeof(*st));
	return bus() ? bus_unit(bus(), unit, st, left_ms()) : -ENOTCONN;
}

static bool unit_active(const char *unit)
{
	struct unit_state st;

	return unit_state(unit, &st) == 0 && st.active;
}

/* Whether logind lists a sleep inhibitor taken by PID. */
static bool listed(long pid)
{
	return bus() && bus_listed(bus(), pid, left_ms());
}

static long main_pid(const char *unit)
{
	struct unit_state st;

	return unit_state(unit, &st) == 0 ? st.pid : 0;
}

/* 0 stopped, 1 nothing ran, -errno (said). */
static int stop_unit(const char *unit)
{
	char qunit[4 * UNIT_MAX], why[1024];
	int r;

	vu_shell_word(qunit, sizeof(qunit), unit);
	vu_act_command("systemctl stop %s", qunit);
	if (vu_dry_run)
		return 0;
	if (!bus())
		return -ENOTCONN;
	if ((r = bus_stop(bus(), unit, left_ms(), why, sizeof(why))) < 0)
		vu_err("%s", why);
	return r;
}

/* UNIT runs already (hold twice, or a record lost): the same unit, the same lock. */
static int held_already(const char *domain, const char *key, const char *unit,
			struct vu_records *recs, struct vu_rec *doc)
{
	vu_report("%s: %s already holds sleep off", domain, unit);
	vu_rec_str(doc, "result", "held");
	return vu_records_set(recs, key, "by", "vm-nosleep", (char *)NULL) ? VU_EXIT_OK
									   : VU_EXIT_FAIL;
}

/*
 * What the unit runs: systemd-inhibit's block lock, or with a policy for the
 * guest the watcher (this program's "watch"), which tells systemd once it
 * holds its lock (Type=notify). ARGV gets systemd-run's words, TEXT them as
 * a shell reads them back: a dry run is a script that does the same. What
 * systemd is asked for is the same unit: ARGV + *CMD is its command, and
 * *DESC its description.
 */
static int unit_command(const char *domain, const struct nosleep *ns, char *argv[], size_t n,
			size_t *cmd, const char **desc_out, char *text, size_t size)
{
	static char desc[512], why[512], self[4096], wait[16];
	size_t i = 0, len = 0;

	snprintf(desc, sizeof(desc), "vfio-utils: no host sleep while the VM \"%s\" runs", domain);
	snprintf(why, sizeof(why), "--why=the VM \"%s\" is running", domain);
	argv[i++] = "systemd-run";
	argv[i++] = "--quiet";
	argv[i++] = "--collect";
	argv[i++] = policy_plain(&ns->p) ? "--property=Type=exec" : "--property=Type=notify";
	argv[i++] = "--unit";
	argv[i++] = (char *)ns->unit;
	argv[i++] = "--description";
	argv[i++] = desc;
	argv[i++] = "--";
	*cmd = i;
	*desc_out = desc;
	if (policy_plain(&ns->p)) {
		char *inhibit[] = { "systemd-inhibit", "--what=sleep", "--who=vfio-utils", why,
				    "--mode=block",    "sleep",	       "infinity" };

		for (size_t k = 0; k < VU_ARRAY_SIZE(inhibit); k++)
			argv[i++] = inhibit[k];
	} else {
		ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (l <= 0) {
			vu_errc(errno, "/proc/self/exe: cannot tell where vm-nosleep is");
			return -1;
		}
		self[l] = '\0';
		argv[i++] = self;
		argv[i++] = "watch";
		argv[i++] = "--on-sleep";
		argv[i++] = (char *)on_sleep_names[ns->p.sleep];
		argv[i++] = "--on-shutdown";
		argv[i++] = (char *)on_shutdown_names[ns->p.shutdown];
		argv[i++] = "--if-late";
		argv[i++] = (char *)if_late_names[ns->p.late];
		if (ns->p.wait_s) {
			snprintf(wait, sizeof(wait), "%d", ns->p.wait_s);
			argv[i++] = "--wait";
			argv[i++] = wait;
		}
		if (ns->p.uri) {
			argv[i++] = "--connect";
			argv[i++] = (char *)ns->p.uri;
		}
		argv[i++] = "--";
		argv[i++] = (char *)domain;
	}
	argv[i] = NULL;
	if (i >= n)
		abort();
	text[0] = '\0';
	for (size_t k = 0; k < i && len < size; k++) {
		char word[4 * 4096];

		vu_shell_word(word, sizeof(word), argv[k]);
		len += (size_t)snprintf(text + len, size - len, "%s%s", k ? " " : "", word);
	}
	return 0;
}

/*
 * Whether UNIT still runs, after a short wait: its main process PID waited on
 * through PIDFD (its end is the unit stopping), so that the wait ends as soon
 * as it does; systemd asked only without a pidfd (Linux before 5.3, or no
 * main process known yet). PIDFD is vu_pidfd_open's answer: -ESRCH, gone
 * before it could be opened.
 */
static bool still_runs(const char *unit, int pidfd)
{
	struct pollfd gone = { .fd = pidfd, .events = POLLIN };
	struct timespec tick = { 0, 50L * 1000 * 1000 };

	if (pidfd >= 0)
		return poll(&gone, 1, 20) <= 0;
	if (pidfd == -ESRCH)
		return false;
	if (!unit_active(unit))
		return false;
	nanosleep(&tick, NULL);
	return true;
}

static int hold(const char *domain, const char *key, const struct nosleep *ns, int timeout_ms,
		struct vu_records *recs, struct vu_rec *doc)
{
	const char *unit = ns->unit;
	char text[16384], path[PATH_MAX], why[1024] = "", *argv[40];
	const char *desc;
	size_t cmd;
	long pid = 0;
	int st, pidfd = -1;

	/* Without systemd's bus nothing can be held, nor planned (said by bus()). */
	if (!bus()) {
		vu_rec_str(doc, "result", "failed");
		return VU_EXIT_FAIL;
	}
	/*
	 * Asked only when this domain is remembered (or for a dry run): a unit
	 * is remembered before it is started, and a unit a lost record left
	 * makes the start fail, which asks then.
	 */
	if ((vu_records_find(recs, key) || vu_dry_run) && unit_active(unit))
		return held_already(domain, key, unit, recs, doc);
	if (unit_command(domain, ns, argv, VU_ARRAY_SIZE(argv), &cmd, &desc, text, sizeof(text)) <
	    0)
		return VU_EXIT_FAIL;
	vu_act_command("%s", text);
	if (!policy_plain(&ns->p)) {
		vu_rec_str(doc, "on_sleep", on_sleep_names[ns->p.sleep]);
		vu_rec_str(doc, "on_shutdown", on_shutdown_names[ns->p.shutdown]);
	}
	if (vu_dry_run) {
		vu_rec_str(doc, "result", "planned");
		return VU_EXIT_OK;
	}
	/*
	 * systemd-run's request, made from here: the command by its path, as
	 * systemd-run finds it (below a sysroot, only a stand-in's).
	 */
	if (argv[cmd][0] == '/')
		snprintf(path, sizeof(path), "%s", argv[cmd]);
	else if (vu_tool(argv[cmd], path, sizeof(path)) < 0) {
		vu_rec_str(doc, "result", "failed");
		return VU_EXIT_FAIL;
	}
	/* Remembered first: a run killed from here on leaves a unit release knows of. */
	if (!vu_records_set(recs, key, "by", "vm-nosleep", (char *)NULL) ||
	    vu_state_save(STATE, recs) < 0)
		return VU_EXIT_FAIL;
	if ((st = bus_start(bus(), unit, desc, policy_plain(&ns->p) ? "exec" : "notify", path,
			    argv + cmd, left_ms(), why, sizeof(why))) == -EEXIST) {
		if (unit_active(unit))
			return held_already(domain, key, unit, recs, doc);
		snprintf(why, sizeof(why), "%s: systemd has a unit of that name, not running",
			 unit);
	}
	if (st != 0) {
		vu_err("%s: sleep is not held off: %s", domain, why);
		/* A start job still queued would start the unit later, unremembered: stopped. */
		if (st == -ETIMEDOUT && stop_unit(unit) < 0) {
			vu_rec_str(doc, "result", "failed");
			return VU_EXIT_FAIL;
		}
		vu_records_del(recs, key);
		vu_rec_str(doc, "result", "failed");
		return VU_EXIT_FAIL;
	}
	/*
	 * The unit has started systemd-inhibit (or the watcher), its main
	 * process for as long as it runs; logind lists the lock once it has it.
	 * Between two looks at the list: whether it still runs (still_runs).
	 */
	for (;;) {
		if (pid <= 0 && (pid = main_pid(unit)) > 0)
			pidfd = vu_pidfd_open((pid_t)pid);
		if (listed(pid))
			break;
		if (vu_now() >= deadline || !still_runs(unit, pidfd)) {
			pid = 0;
			break;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (pid <= 0) {
		vu_err("%s: logind did not list the inhibitor of %s within %d s: the unit stopped",
		       domain, unit, timeout_ms / 1000);
		if (stop_unit(unit) >= 0)
			vu_records_del(recs, key);
		vu_rec_str(doc, "result", "failed");
		return VU_EXIT_FAIL;
	}
	vu_rec_int(doc, "pid", pid);
	vu_rec_str(doc, "result", "held");
	vu_report("%s: sleep held off by %s (PID %ld)", domain, unit, pid);
	return VU_EXIT_OK;
}

static int nothing_held(const char *domain, const char *key, struct vu_records *recs,
			struct vu_rec *doc)
{
	vu_report("%s: no inhibitor held: nothing to let go", domain);
	vu_rec_str(doc, "result", "unchanged");
	vu_records_del(recs, key);
	return VU_EXIT_OK;
}

static int release(const char *domain, const char *key, const char *unit, struct vu_records *recs,
		   struct vu_rec *doc)
{
	/* A remembered unit is stopped straight away: the stop waits for its job. */
	bool remembered = vu_records_find(recs, key) && !vu_dry_run;
	int st;

	/* Without systemd's bus nothing can be let go (said by bus()): remembered still. */
	if (!bus()) {
		vu_rec_str(doc, "result", "failed");
		return VU_EXIT_FAIL;
	}
	if (!remembered && !unit_active(unit))
		return nothing_held(domain, key, recs, doc);
	if ((st = stop_unit(unit)) < 0) {
		vu_rec_str(doc, "result", "failed");
		return VU_EXIT_FAIL;
	}
	if (st > 0)
		return nothing_held(domain, key, recs, doc);
	vu_rec_str(doc, "result", vu_dry_run ? "planned" : "released");
	if (!vu_dry_run) {
		vu_records_del(recs, key);
		vu_report("%s: sleep allowed again (%s stopped)", domain, unit);
	}
	return VU_EXIT_OK;
}

/* Each remembered domain: its unit, whether it runs, and logind's line for its inhibitor. */
/* The domain a unit of ours is for: its name unescaped, as unit_name escaped it; BUF. */
static const char *unit_domain(const char *unit, char *buf, size_t size)
{
	static const char prefix[] = "vfio-utils-nosleep-", suffix[] = ".service";
	size_t len = strlen(unit);
	char middle[UNIT_MAX];

	buf[0] = '\0';
	if (strncmp(unit, prefix, sizeof(prefix) - 1) != 0 || len < sizeof(prefix) + 8 ||
	    strcmp(unit + len - 8, suffix) != 0)
		return buf;
	/* systemd's \xNN, as the state keys have them. */
	snprintf(middle, sizeof(middle), "%.*s", (int)(len - 8 - (sizeof(prefix) - 1)),
		 unit + sizeof(prefix) - 1);
	return vu_state_unkey(middle, buf, size);
}

/*
 * The domain KEY stands for. A name too long for a key keeps only its start
 * and a hash there: the unit systemd runs for it, found by its name, says
 * the rest. 0, or -ENOENT when no unit of ours is it.
 */
static int key_domain(const char *key, char *buf, size_t size)
{
	char again[VU_STATE_TEXT], out[16384], *save = NULL;

	/* vu_state_key's form for a long name: 40 characters, ':', a 64-bit hash in hex. */
	vu_state_unkey(key, buf, size);
	if (strlen(key) != 57 || key[40] != ':' || strspn(key + 41, "0123456789abcdef") != 16)
		return 0;
	if (!bus() ||
	    bus_unit_names(bus(), "vfio-utils-nosleep-*", out, sizeof(out), left_ms()) < 0)
		return -ENOENT;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		vu_state_key(unit_domain(l, buf, size), again);
		if (buf[0] && strcmp(again, key) == 0)
			return 0;
	}
	return -ENOENT;
}

static int status_of(const struct vu_records *recs, struct vu_rec *doc)
{
	struct vu_list *l = vu_rec_list(doc, "domains");
	int status = VU_EXIT_OK;

	if (recs->damaged) {
		vu_err("/run/vfio-utils/" STATE ": damaged: the domains it names are not known");
		status = VU_EXIT_FAIL;
	}
	for (size_t i = 0; i < recs->n; i++) {
		char domain[UNIT_MAX], unit[UNIT_MAX];
		struct vu_rec *r = vu_list_obj(l);
		struct unit_state st;

		if (key_domain(recs->v[i].key, domain, sizeof(domain)) < 0) {
			/* Its unit gone with its name: the record alone is left. */
			vu_state_unkey(recs->v[i].key, domain, sizeof(domain));
			vu_rec_str(r, "domain", domain);
			vu_rec_bool(r, "active", false);
			vu_rec_bool(r, "inhibitor", false);
			continue;
		}
		vu_rec_str(r, "domain", domain);
		if (unit_name(domain, unit, sizeof(unit)) < 0)
			continue;
		if (unit_state(unit, &st) < 0)
			status = VU_EXIT_FAIL;
		vu_rec_str(r, "unit", unit);
		vu_rec_bool(r, "active", st.active);
		vu_rec_bool(r, "inhibitor", st.active && listed(st.pid));
		if (st.active && st.pid > 0)
			vu_rec_int(r, "pid", st.pid);
		/* the watcher's own line: what its locks are, what the host's sleep did */
		if (st.active && st.text[0])
			vu_rec_str(r, "status", st.text);
	}
	return status;
}

static void status_text(const struct vu_rec *doc)
{
	const struct vu_list *l = vu_rec_l(doc, "domains");

	if (!vu_list_len(l))
		puts("no domain holds sleep off");

	for (size_t i = 0; i < vu_list_len(l); i++) {
		const struct vu_rec *r = vu_list_rec(l, i);

		char name[4 * UNIT_MAX], text[4096];

		/* A name is the user's: no control character of it reaches the terminal. */
		printf("%s: %s %s, %s%s%s\n", vu_esc(vu_rec_s(r, "domain"), name, sizeof(name)),
		       vu_rec_has(r, "unit") ? vu_rec_s(r, "unit") : "(no unit)",
		       vu_rec_b(r, "active") ? "active" : "inactive",
		       vu_rec_b(r, "inhibitor") ? "sleep inhibited" : "no inhibitor listed",
		       vu_rec_has(r, "status") ? ": " : "",
		       vu_rec_has(r, "status") ? vu_esc(vu_rec_s(r, "status"), text, sizeof(text))
					       : "");
	}
}

/* The domain's unit, and a host with systemd to run it: else nothing to do. */
static int prepare(struct vu_domrun *r)
{
	struct nosleep *ns = r->ctx;
	char *unit = ns->unit;

	deadline = vu_now() + r->timeout_ms / 1000.0;
	if (unit_name(r->domain, unit, UNIT_MAX) < 0) {
		vu_err("%s: too long a name for a systemd unit", r->domain);
		return VU_EXIT_FAIL;
	}
	vu_rec_str(r->doc, "unit", unit);
	if (!vu_systemd_booted()) {
		/* elogind's systems have no transient units: nothing to hold it in. */
		vu_report(
		    "%s: not booted with systemd: no logind to hold sleep off (nothing changed)",
		    r->domain);
		vu_rec_str(r->doc, "result", "unchanged");
		return VU_EXIT_OK;
	}
	return VU_DOMCMD_ON;
}

static int run_status(struct vu_domrun *r)
{
	deadline = vu_now() + r->timeout_ms / 1000.0;
	return status_of(&r->recs, r->doc);
}

static int run_hold(struct vu_domrun *r)
{
	return hold(r->domain, r->key, r->ctx, r->timeout_ms, &r->recs, r->doc);
}

static int run_release(struct vu_domrun *r)
{
	return release(r->domain, r->key, ((struct nosleep *)r->ctx)->unit, &r->recs, r->doc);
}

enum { OPT_ON_SLEEP = VU_OPT_CMD, OPT_ON_SHUTDOWN, OPT_IF_LATE, OPT_WAIT, OPT_CONNECT };

static void option(struct vu_domrun *r, int opt, const char *arg)
{
	struct policy *p = &((struct nosleep *)r->ctx)->p;

	if (opt == OPT_ON_SLEEP)
		p->sleep = word_opt("--on-sleep", on_sleep_names, arg);
	else if (opt == OPT_ON_SHUTDOWN)
		p->shutdown = word_opt("--on-shutdown", on_shutdown_names, arg);
	else if (opt == OPT_IF_LATE)
		p->late = word_opt("--if-late", if_late_names, arg);
	else if (opt == OPT_WAIT)
		p->wait_s = wait_opt(arg);
	else
		p->uri = arg;
}

int main(int argc, char **argv)
{
	static const struct vu_domsub subs[] = {
		{ "status", VU_DOMAIN_NONE, VU_DAMAGED_REFUSE, NULL },
		{ "hold", VU_DOMAIN_EITHER, VU_DAMAGED_REFUSE, run_hold },
		/* The lock is the unit's, named from its domain: release needs no record. */
		{ "release", VU_DOMAIN_EITHER, VU_DAMAGED_KEEP_ASIDE, run_release },
		{ NULL, 0, 0, NULL },
	};
	static const struct vu_domopt opts[] = {
		{ "on-sleep", required_argument, OPT_ON_SLEEP, "hold" },
		{ "on-shutdown", required_argument, OPT_ON_SHUTDOWN, "hold" },
		{ "if-late", required_argument, OPT_IF_LATE, "hold" },
		{ "wait", required_argument, OPT_WAIT, "hold" },
		{ "connect", required_argument, OPT_CONNECT, "hold" },
		{ NULL, 0, 0, NULL },
	};
	static const struct vu_domcmd cmd = {
		.name = "vm-nosleep",
		.state = STATE,
		.own_lock = true,
		.with = "hold and release",
		.fix = "vm-nosleep release",
		.subs = subs,
		.opts = opts,
		.usage = usage,
		.option = option,
		.status = run_status,
		.status_state = true,
		.status_text = status_text,
		.prepare = prepare,
	};
	struct nosleep ns = { .p = { SLEEP_BLOCK, OFF_NONE, LATE_PAUSE, 0, NULL } };

	/* The unit's main process, with a policy: its own options. */
	if (argc > 1 && strcmp(argv[1], "watch") == 0)
		return watch_main(argc - 1, argv + 1);
	/* logind's drop-in: no domain, no state of ours */
	if (argc > 1 && strcmp(argv[1], "delay") == 0)
		return delay_main(argc - 1, argv + 1);
	return vu_domcmd_main(&cmd, &ns, argc, argv);
}
