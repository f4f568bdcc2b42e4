/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-nosleep watch: the main process of a domain's unit when the host's sleep
 * or shutdown is to reach its guest. It holds logind's lock for the domain
 * (sd-bus): a delay lock while the guest agent is connected, a block lock
 * while it is not. On logind's PrepareForSleep or PrepareForShutdown, libvirt
 * asks the guest (its agent) to suspend, hibernate or shut down; once libvirt
 * says it has, the delay lock is let go and the host goes on. On the way back
 * the guest is woken and the lock taken again.
 *
 * libvirt's event loop is the watcher's: the bus's descriptor is one of its
 * handles, and every message on it is dispatched before each turn of the
 * loop. No signal handler: SIGTERM (release's systemctl stop) or a kill ends
 * the process, and the kernel's closing of its descriptors is logind's sign
 * that the lock is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "dl.h"
#include "msg.h"
#include "opts.h"
#include "sysfs.h"
#include "util.h"
#include "bus.h"
#include "watch.h"

const char *const on_sleep_names[] = { "block", "suspend", "hibernate", NULL };
const char *const on_shutdown_names[] = { "none", "shutdown", "hibernate", NULL };
const char *const if_late_names[] = { "pause", "leave", NULL };

int policy_word(const char *const names[], const char *name)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

#define LOGIN1	       "org.freedesktop.login1"
#define LOGIN1_PATH    "/org/freedesktop/login1"
#define LOGIN1_MANAGER "org.freedesktop.login1.Manager"
#define AGENT_CHANNEL  "org.qemu.guest_agent.0"
/* How often a lost libvirt connection is tried again. */
#define RECONNECT_MS 5000

/* libvirt: loaded here, by the watcher alone (hold, release and status never need it). */
static typeof(virConnectOpen) *v_open;
static typeof(virConnectClose) *v_close;
static typeof(virDomainLookupByName) *v_lookup;
static typeof(virDomainFree) *v_free;
static typeof(virDomainGetState) *v_state;
static typeof(virDomainGetXMLDesc) *v_xml;
static typeof(virDomainPMSuspendForDuration) *v_pmsuspend;
static typeof(virDomainPMWakeup) *v_pmwakeup;
static typeof(virDomainSuspend) *v_pause;
static typeof(virDomainResume) *v_resume;
static typeof(virDomainShutdownFlags) *v_shutdown;
static typeof(virDomainAgentSetResponseTimeout) *v_agent_timeout;
static typeof(virEventRegisterDefaultImpl) *v_event_impl;
static typeof(virEventRunDefaultImpl) *v_event_run;
static typeof(virEventAddHandle) *v_add_handle;
static typeof(virEventAddTimeout) *v_add_timeout;
static typeof(virEventUpdateTimeout) *v_update_timeout;
static typeof(virConnectDomainEventRegisterAny) *v_event_register;
static typeof(virConnectRegisterCloseCallback) *v_on_close;
static typeof(virConnectSetKeepAlive) *v_keepalive;
static typeof(virGetLastErrorMessage) *v_error;
static typeof(virSetErrorFunc) *v_set_error;

static int load_libvirt(void)
{
	static const struct vu_dlsym syms[] = {
		{ "virConnectOpen", (void **)&v_open },
		{ "virConnectClose", (void **)&v_close },
		{ "virDomainLookupByName", (void **)&v_lookup },
		{ "virDomainFree", (void **)&v_free },
		{ "virDomainGetState", (void **)&v_state },
		{ "virDomainGetXMLDesc", (void **)&v_xml },
		{ "virDomainPMSuspendForDuration", (void **)&v_pmsuspend },
		{ "virDomainPMWakeup", (void **)&v_pmwakeup },
		{ "virDomainSuspend", (void **)&v_pause },
		{ "virDomainResume", (void **)&v_resume },
		{ "virDomainShutdownFlags", (void **)&v_shutdown },
		{ "virDomainAgentSetResponseTimeout", (void **)&v_agent_timeout },
		{ "virEventRegisterDefaultImpl", (void **)&v_event_impl },
		{ "virEventRunDefaultImpl", (void **)&v_event_run },
		{ "virEventAddHandle", (void **)&v_add_handle },
		{ "virEventAddTimeout", (void **)&v_add_timeout },
		{ "virEventUpdateTimeout", (void **)&v_update_timeout },
		{ "virConnectDomainEventRegisterAny", (void **)&v_event_register },
		{ "virConnectRegisterCloseCallback", (void **)&v_on_close },
		{ "virConnectSetKeepAlive", (void **)&v_keepalive },
		{ "virGetLastErrorMessage", (void **)&v_error },
		{ "virSetErrorFunc", (void **)&v_set_error },
	};
	char why[256];

	if (!vu_dl_open("libvirt.so.0", syms, VU_ARRAY_SIZE(syms), why, sizeof(why))) {
		vu_err("%s", why);
		return -ENOSYS;
	}
	return 0;
}

static void quiet(void *data, virErrorPtr err)
{
	(void)data, (void)err;
}

/* Where the guest is in the host's sleep or shutdown. */
enum phase {
	RUNNING, /* the lock held, nothing asked */
	GOING,	 /* asked to suspend, hibernate or shut down: waiting for libvirt to say so */
	THERE,	 /* it did: the lock let go */
	LATE,	 /* it did not in time: paused or left, the lock let go */
};

struct watch {
	const struct policy *p;
	const char *domain;
	char shown[512]; /* the name fit for a log line */
	sd_bus *bus;
	virConnectPtr conn;
	virConnectPtr dead; /* closed by libvirtd's side, ours to let go */
	virDomainPtr dom;
	char conn_error[512]; /* why libvirt is not connected, "" when it never was asked */
	bool has_channel;     /* the domain has the agent's channel */
	bool agent;	      /* and the agent is connected */
	int sleep_fd;	      /* logind's sleep lock, -1 none */
	bool sleep_delay;     /* it is a delay lock (else block) */
	int off_fd;	      /* the shutdown delay lock, -1 none */
	enum phase phase;
	bool for_off;	/* the phase is the host's shutdown's, not its sleep's */
	bool suspended; /* the guest is in RAM by our asking */
	bool paused;	/* its vCPUs stopped by us */
	bool waking;	/* woken: the time until it runs is to be said */
	int wait_ms;	/* how long the guest has */
	int timer;	/* the deadline (libvirt's timeout), -1 off */
	int retry;	/* the reconnection's, -1 off */
	double t0;
	bool quit;
};

/*
 * A line for the journal, and the unit's status (systemctl status, vm-nosleep
 * status); the same line again (libvirt still down at each retry) is not.
 */
static void VU_PRINTF(2, 3) say(struct watch *w, const char *fmt, ...)
{
	static char last[1024];
	char line[sizeof(last)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (strcmp(line, last) == 0)
		return;
	memcpy(last, line, sizeof(last));
	vu_report("%s: %s", w->shown, line);
	fflush(stdout);
	sd_notifyf(0, "STATUS=%s", line);
}

static int ms_since(double t0)
{
	return (int)((vu_now() - t0) * 1000 + 0.5);
}

/* One lock from logind: its descriptor (ours, close-on-exec), or -1, reported. */
static int inhibit(struct watch *w, const char *what, const char *mode, const char *why)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int fd = -1, r;

	r = sd_bus_call_method(w->bus, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER, "Inhibit", &err, &reply,
			       "ssss", what, "vfio-utils", why, mode);
	if (r >= 0 && (r = sd_bus_message_read(reply, "h", &fd)) >= 0 &&
	    (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		r = -errno;
	if (r < 0)
		vu_err("%s: logind: no %s lock on %s: %s", w->shown, mode, what,
		       err.message ? err.message : strerror(-r));
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	return r < 0 ? -1 : fd;
}

static void drop(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static const char *verb(const struct watch *w, bool off)
{
	if (off)
		return w->p->shutdown == OFF_SHUTDOWN ? "shuts down" : "hibernates";
	return w->p->sleep == SLEEP_SUSPEND ? "suspends" : "hibernates";
}

/* The locks held, and why not the delay lock where the policy would have it. */
static void say_locks(struct watch *w)
{
	char no_agent[600];
	bool missing;

	if (!w->conn)
		snprintf(no_agent, sizeof(no_agent), " (libvirt: %s)",
			 w->conn_error[0] ? w->conn_error : "not connected yet");
	else
		snprintf(no_agent, sizeof(no_agent), " (%s)",
			 w->has_channel ? "guest agent not connected" : "no guest agent channel");

	/* the reason once, at the end: it is the same for both */
	missing = (!w->sleep_delay && w->p->sleep != SLEEP_BLOCK) ||
		  (w->off_fd < 0 && w->p->shutdown != OFF_NONE);
	say(w, "host sleep %s%s%s%s%s", w->sleep_delay ? "delayed until the guest " : "blocked",
	    w->sleep_delay ? verb(w, false) : "",
	    w->p->shutdown == OFF_NONE ? ""
	    : w->off_fd >= 0	       ? "; host shutdown delayed until the guest "
				       : "; host shutdown not delayed",
	    w->p->shutdown != OFF_NONE && w->off_fd >= 0 ? verb(w, true) : "",
	    missing ? no_agent : "");
}

/*
 * The locks the guest's state asks for, while it runs: a delay lock when its
 * agent can put it to sleep (a new lock is taken before the old one goes:
 * never a moment without one), a block lock when it cannot.
 */
static void locks(struct watch *w)
{
	bool delay = w->p->sleep != SLEEP_BLOCK && w->agent;
	bool off = w->p->shutdown != OFF_NONE && w->agent;
	char why[640];

	if (w->phase != RUNNING)
		return;
	if (w->sleep_fd < 0 || w->sleep_delay != delay) {
		int fd;

		if (delay)
			snprintf(why, sizeof(why), "the VM \"%s\" %s first", w->domain,
				 verb(w, false));
		else if (w->p->sleep == SLEEP_BLOCK)
			snprintf(why, sizeof(why), "the VM \"%s\" is running", w->domain);
		else
			snprintf(why, sizeof(why),
				 "the VM \"%s\" is running and its guest agent is not connected",
				 w->domain);
		if ((fd = inhibit(w, "sleep", delay ? "delay" : "block", why)) >= 0) {
			drop(&w->sleep_fd);
			w->sleep_fd = fd;
			w->sleep_delay = delay;
		}
	}
	if (off && w->off_fd < 0) {
		snprintf(why, sizeof(why), "the VM \"%s\" %s first", w->domain, verb(w, true));
		w->off_fd = inhibit(w, "shutdown", "delay", why);
	} else if (!off) {
		drop(&w->off_fd);
	}
	say_locks(w);
}

static void deadline(struct watch *w, int ms)
{
	if (w->timer >= 0)
		v_update_timeout(w->timer, ms);
}

/* The lock of the event under way, let go: logind goes on. */
static void let_go(struct watch *w)
{
	deadline(w, -1);
	drop(w->for_off ? &w->off_fd : &w->sleep_fd);
}

/* It did not get there: never destroyed; paused (a sleep's) or left, per the policy. */
static void late(struct watch *w, const char *why)
{
	w->phase = LATE;
	if (w->p->late == LATE_PAUSE && !w->for_off && w->dom && v_pause(w->dom) == 0) {
		w->paused = true;
		say(w, "%s: guest paused (its vCPUs stopped) until the host is back", why);
	} else {
		say(w, "%s: guest left as it is", why);
	}
	let_go(w);
}

/* What libvirt says of the domain now, and what it means for the event under way. */
static void settle(struct watch *w)
{
	int state, reason;

	if (!w->dom || v_state(w->dom, &state, &reason, 0) < 0)
		return;
	if (state == VIR_DOMAIN_SHUTOFF) {
		if (w->phase == GOING)
			say(w, "guest shut off %d ms after the host's signal: the host goes on",
			    ms_since(w->t0));
		else
			say(w, "guest shut off: nothing left to hold");
		drop(&w->sleep_fd);
		drop(&w->off_fd);
		w->quit = true;
		return;
	}
	if (w->phase == GOING && state == VIR_DOMAIN_PMSUSPENDED && !w->for_off &&
	    w->p->sleep == SLEEP_SUSPEND) {
		w->phase = THERE;
		w->suspended = true;
		say(w, "guest suspended %d ms after the host's signal: the host may sleep",
		    ms_since(w->t0));
		let_go(w);
	}
	if (w->waking && state == VIR_DOMAIN_RUNNING) {
		w->waking = false;
		say(w, "guest running again %d ms after the host's resume", ms_since(w->t0));
		locks(w);
	}
}

/* "guest not suspended within N ms", and what libvirt said (ERROR, or NULL). */
static void not_there(const struct watch *w, char *buf, size_t size, const char *error)
{
	snprintf(buf, size, "guest not %s within %d ms%s%s%s",
		 w->for_off ? (w->p->shutdown == OFF_SHUTDOWN ? "shut down" : "hibernated")
			    : (w->p->sleep == SLEEP_SUSPEND ? "suspended" : "hibernated"),
		 w->wait_ms, error ? " (libvirt: " : "", error ? error : "", error ? ")" : "");
}

/* PrepareForSleep(true) or PrepareForShutdown(true): the guest goes first. */
static void going(struct watch *w, bool off)
{
	bool ours = off ? w->off_fd >= 0 : w->sleep_fd >= 0 && w->sleep_delay;
	char why[512];
	int r;

	if (w->phase != RUNNING || (off ? w->p->shutdown == OFF_NONE : w->p->sleep == SLEEP_BLOCK))
		return;
	w->for_off = off;
	w->t0 = vu_now();
	if (!ours) {
		/* past a block lock (systemctl suspend -i), or nothing to ask with */
		late(w, off ? "host shutting down, the guest agent not connected"
			    : "host going to sleep past the block lock");
		return;
	}
	w->phase = GOING;
	say(w, "host %s: the guest %s (at most %d ms)", off ? "shutting down" : "going to sleep",
	    verb(w, off), w->wait_ms);
	/*
	 * libvirt's call returns once the guest is there (QEMU's event), and
	 * waits for an agent that never answers as long as the agent's timeout
	 * says: the deadline's, for this call only. A call left waiting would
	 * hold the domain's agent job, and every later agent call behind it.
	 */
	v_agent_timeout(w->dom, w->wait_ms < 2000 ? 1 : w->wait_ms / 1000, 0);
	if (off && w->p->shutdown == OFF_SHUTDOWN)
		r = v_shutdown(w->dom, VIR_DOMAIN_SHUTDOWN_GUEST_AGENT);
	else
		r = v_pmsuspend(w->dom,
				(off || w->p->sleep == SLEEP_HIBERNATE)
				    ? VIR_NODE_SUSPEND_TARGET_DISK
				    : VIR_NODE_SUSPEND_TARGET_MEM,
				0, 0);
	not_there(w, why, sizeof(why), r < 0 ? v_error() : NULL);
	v_agent_timeout(w->dom, VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_DEFAULT, 0);
	settle(w);
	if (w->phase != GOING)
		return;
	if (r < 0) {
		late(w, why);
		return;
	}
	deadline(w, w->wait_ms > ms_since(w->t0) ? w->wait_ms - ms_since(w->t0) : 0);
}

/* PrepareForSleep(false) or PrepareForShutdown(false): the host is back (or did not go). */
static void back(struct watch *w, bool off)
{
	if (w->phase == RUNNING || w->for_off != off)
		return;
	deadline(w, -1);
	w->t0 = vu_now();
	w->phase = RUNNING;
	if (w->suspended) {
		w->suspended = false;
		if (v_pmwakeup(w->dom, 0) < 0) {
			say(w, "host back; the guest did not wake: libvirt: %s", v_error());
		} else {
			w->waking = true;
			say(w, "host back: waking the guest");
		}
	} else if (w->paused) {
		w->paused = false;
		if (v_resume(w->dom) < 0)
			say(w, "host back; the guest stays paused: libvirt: %s", v_error());
		else
			say(w, "host back: guest resumed");
	} else {
		say(w, "host back");
	}
	locks(w);
	settle(w);
}

static int on_prepare(sd_bus_message *m, void *data, bool off)
{
	int start;

	if (sd_bus_message_read(m, "b", &start) >= 0) {
		if (start)
			going(data, off);
		else
			back(data, off);
	}
	return 0;
}

static int on_sleep(sd_bus_message *m, void *data, sd_bus_error *e)
{
	(void)e;
	return on_prepare(m, data, false);
}

static int on_shutdown(sd_bus_message *m, void *data, sd_bus_error *e)
{
	(void)e;
	return on_prepare(m, data, true);
}

static void on_deadline(int timer, void *data)
{
	struct watch *w = data;
	char why[512];

	(void)timer;
	if (w->phase != GOING)
		return;
	not_there(w, why, sizeof(why), NULL);
	late(w, why);
}

static int on_life(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *data)
{
	(void)conn, (void)dom, (void)event, (void)detail;
	settle(data);
	return 0;
}

static void on_agent(virConnectPtr conn, virDomainPtr dom, int state, int reason, void *data)
{
	struct watch *w = data;

	(void)conn, (void)dom, (void)reason;
	w->has_channel = true;
	w->agent = state == VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED;
	locks(w);
}

/* Whether the live definition has the agent's channel, and whether it is connected. */
static void agent_state(struct watch *w)
{
	char *xml = v_xml(w->dom, 0), *at, *end;

	w->has_channel = w->agent = false;
	if (!xml)
		return;
	if ((at = strstr(xml, "name='" AGENT_CHANNEL "'"))) {
		w->has_channel = true;
		end = strchr(at, '>');
		if (end)
			*end = '\0';
		w->agent = strstr(at, "state='connected'") != NULL;
	}
	free(xml);
}

static void on_close(virConnectPtr conn, int reason, void *data);

/* libvirt, the domain, its events: 0, or -1 with the reason said (the block lock stays). */
static int connect_libvirt(struct watch *w)
{
	char uri[4096];
	const char *u = w->p->uri;

	if (!u && vu_sysroot()[0]) {
		/* below a sysroot, the tree's own libvirtd, never the host's */
		snprintf(uri, sizeof(uri), "qemu:///system?socket=%s/run/libvirt/libvirt-sock",
			 vu_sysroot());
		u = uri;
	}
	if (!(w->conn = v_open(u))) {
		snprintf(w->conn_error, sizeof(w->conn_error), "%s", v_error());
		return -1;
	}
	v_keepalive(w->conn, 5, 3);
	v_on_close(w->conn, on_close, w, NULL);
	/* The events first, then the state they change: no change goes by unseen. */
	if (!(w->dom = v_lookup(w->conn, w->domain)) ||
	    v_event_register(w->conn, w->dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
			     VIR_DOMAIN_EVENT_CALLBACK(on_life), w, NULL) < 0 ||
	    v_event_register(w->conn, w->dom, VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
			     VIR_DOMAIN_EVENT_CALLBACK(on_agent), w, NULL) < 0) {
		snprintf(w->conn_error, sizeof(w->conn_error), "%s", v_error());
		if (w->dom)
			v_free(w->dom);
		w->dom = NULL;
		v_close(w->conn);
		w->conn = NULL;
		return -1;
	}
	agent_state(w);
	return 0;
}

static void on_retry(int timer, void *data)
{
	struct watch *w = data;

	(void)timer;
	if (w->dead) {
		v_close(w->dead);
		w->dead = NULL;
	}
	if (w->conn || connect_libvirt(w) == 0) {
		v_update_timeout(w->retry, -1);
		settle(w);
	}
	locks(w);
}

/* libvirtd went away (restarted): the block lock until it is back. */
static void on_close(virConnectPtr conn, int reason, void *data)
{
	struct watch *w = data;

	(void)conn, (void)reason;
	if (w->dom)
		v_free(w->dom);
	w->dom = NULL;
	/* closed (our reference let go) outside libvirt's call */
	w->dead = w->conn;
	w->conn = NULL;
	snprintf(w->conn_error, sizeof(w->conn_error), "%s", "the connection closed");
	w->agent = false;
	locks(w);
	v_update_timeout(w->retry, RECONNECT_MS);
}

/* Nothing to do here: its readiness wakes the loop, which dispatches the bus. */
static void on_bus(int watch, int fd, int events, void *data)
{
	(void)watch, (void)fd, (void)events, (void)data;
}

/* How long logind waits for a delay lock (InhibitDelayMaxUSec), in ms; 5 s untold. */
static int logind_delay_ms(struct watch *w)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	uint64_t usec = 5000000;

	sd_bus_get_property_trivial(w->bus, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER,
				    "InhibitDelayMaxUSec", &err, 't', &usec);
	sd_bus_error_free(&err);
	return usec > UINT64_C(3600000000) ? 3600000 : (int)(usec / 1000);
}

/* The watcher's end: its locks let go, libvirt and the bus closed. STATUS. */
static int watch_end(struct watch *w, int status)
{
	drop(&w->sleep_fd);
	drop(&w->off_fd);
	if (w->dom)
		v_free(w->dom);
	if (w->conn)
		v_close(w->conn);
	if (w->dead)
		v_close(w->dead);
	sd_bus_flush_close_unref(w->bus);
	return status;
}

static noreturn void watch_usage(void)
{
	fputs("Usage: vm-nosleep watch [--on-sleep block|suspend|hibernate]\n"
	      "                        [--on-shutdown none|shutdown|hibernate]\n"
	      "                        [--if-late pause|leave] [--wait SECONDS]\n"
	      "                        [--connect URI] DOMAIN\n"
	      "\n"
	      "The main process of the unit vm-nosleep hold starts when a policy other than\n"
	      "blocking sleep is asked for; not for hooks. See vm-nosleep(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

enum { OPT_ON_SLEEP = VU_OPT_CMD, OPT_ON_SHUTDOWN, OPT_IF_LATE, OPT_WAIT, OPT_CONNECT };

int word_opt(const char *opt, const char *const names[], const char *arg)
{
	int i = policy_word(names, arg);

	if (i < 0)
		vu_usage_error("%s %s: not one of its words (vm-nosleep(8))", opt, arg);
	return i;
}

/* --wait: whole seconds, 1 to 3600. */
int wait_opt(const char *arg)
{
	int ms = vu_seconds_ms(arg, 3600);

	if (ms < 0)
		vu_usage_error("--wait %s: expected seconds, from 1 to 3600", arg);
	return (ms + 999) / 1000;
}

int watch_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "on-sleep", required_argument, NULL, OPT_ON_SLEEP },
		{ "on-shutdown", required_argument, NULL, OPT_ON_SHUTDOWN },
		{ "if-late", required_argument, NULL, OPT_IF_LATE },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "connect", required_argument, NULL, OPT_CONNECT },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct policy p = { SLEEP_BLOCK, OFF_NONE, LATE_PAUSE, 0, NULL };
	struct watch w = { .p = &p, .sleep_fd = -1, .off_fd = -1, .timer = -1, .retry = -1 };
	int c, r, logind_ms;

	while ((c = getopt_long(argc, argv, "vqhV", longopts, NULL)) != -1) {
		if (c == OPT_ON_SLEEP)
			p.sleep = word_opt("--on-sleep", on_sleep_names, optarg);
		else if (c == OPT_ON_SHUTDOWN)
			p.shutdown = word_opt("--on-shutdown", on_shutdown_names, optarg);
		else if (c == OPT_IF_LATE)
			p.late = word_opt("--if-late", if_late_names, optarg);
		else if (c == OPT_WAIT)
			p.wait_s = wait_opt(optarg);
		else if (c == OPT_CONNECT)
			p.uri = optarg;
		else if (c == 'h')
			watch_usage();
		else if (!vu_common_opt(c, optarg))
			vu_errtryhelp();
	}
	vu_common_done();
	if (optind != argc - 1)
		vu_usage_error("watch: give one domain");
	w.domain = argv[optind];
	vu_esc(w.domain, w.shown, sizeof(w.shown));
	/* libvirt's RPC writes to a socket that may close under it */
	signal(SIGPIPE, SIG_IGN);

	if (load_libvirt() < 0)
		return VU_EXIT_FAIL;
	v_set_error(NULL, quiet);
	if (bus_open(&w.bus, w.shown) < 0)
		return VU_EXIT_FAIL;
	/* The signals first: none goes by between the lock and the match. */
	if ((r = sd_bus_match_signal(w.bus, NULL, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER,
				     "PrepareForSleep", on_sleep, &w)) < 0 ||
	    (r = sd_bus_match_signal(w.bus, NULL, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER,
				     "PrepareForShutdown", on_shutdown, &w)) < 0) {
		vu_errc(r, "%s: logind's signals", w.shown);
		return watch_end(&w, VU_EXIT_FAIL);
	}
	/*
	 * The block lock, then ready: the hook that started the unit goes on,
	 * and only then is libvirt asked, which answers for this domain once
	 * that hook has returned.
	 */
	locks(&w);
	if (w.sleep_fd < 0)
		return watch_end(&w, VU_EXIT_FAIL);
	logind_ms = logind_delay_ms(&w);
	w.wait_ms = p.wait_s ? p.wait_s * 1000 : logind_ms - 500;
	if (w.wait_ms > logind_ms - 500 && p.wait_s) {
		vu_warn(
		    "%s: logind waits %d ms for a delay lock: the guest gets %d ms, not %d s; for more: vm-nosleep delay %d, then systemctl restart systemd-logind",
		    w.shown, logind_ms, logind_ms - 500, p.wait_s, p.wait_s + 1);
		w.wait_ms = logind_ms - 500;
	}
	if (w.wait_ms < 500)
		w.wait_ms = 500;
	sd_notify(0, "READY=1");

	if (v_event_impl() < 0 ||
	    v_add_handle(sd_bus_get_fd(w.bus), VIR_EVENT_HANDLE_READABLE, on_bus, &w, NULL) < 0 ||
	    (w.timer = v_add_timeout(-1, on_deadline, &w, NULL)) < 0 ||
	    (w.retry = v_add_timeout(-1, on_retry, &w, NULL)) < 0) {
		vu_err("%s: libvirt's event loop: %s", w.shown, v_error());
		return watch_end(&w, VU_EXIT_FAIL);
	}
	if (connect_libvirt(&w) < 0)
		v_update_timeout(w.retry, RECONNECT_MS);
	locks(&w);
	while (!w.quit) {
		while ((r = sd_bus_process(w.bus, NULL)) > 0 && !w.quit)
			;
		if (r < 0) {
			/* logind's locks go with the connection */
			vu_errc(r, "%s: the system bus: the lock is gone with it", w.shown);
			return watch_end(&w, VU_EXIT_FAIL);
		}
		if (!w.quit && v_event_run() < 0)
			break;
	}
	return watch_end(&w, VU_EXIT_OK);
}
