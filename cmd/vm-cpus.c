/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vm-cpus: keep the host's own work off the CPUs a domain is pinned to while it runs. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include "act.h"
#include "cpuset.h"
#include "domcmd.h"
#include "domxml.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "run.h"
#include "state.h"
#include "sysfs.h"
#include "util.h"

enum {
	OPT_CPUS = VU_OPT_CMD,
	OPT_GOVERNOR,
};

/* The domains and their CPUs; what the host had before the first, to put back after the last. */
#define STATE "cpus"
#define SAVED "cpus-host"
/* Each CPU whose cpufreq governor --governor changed: the one it had. */
#define GOVS "cpus-governor"
#define GOV_FILE "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor"
#define WQ "/sys/devices/virtual/workqueue/cpumask"
#define LIST_MAX 4096

/* Where systemd runs the host's own work: its slices, and PID 1's scope. */
static const char *const units[] = { "init.scope", "system.slice", "user.slice" };

static noreturn void usage(void)
{
	fputs("Usage: vm-cpus [options] [status]\n"
	      "       vm-cpus [options] isolate --domain-xml FILE|- [--cpus LIST] [--governor NAME]\n"
	      "       vm-cpus [options] release [--domain-xml FILE|- | DOMAIN]\n"
	      "\n"
	      "Keep the host's own work (systemd's slices, or the cgroups without systemd, and\n"
	      "the unbound workqueues) off the CPUs a domain is pinned to while it runs, and\n"
	      "give them back when it stops. Several domains: the union, given back by the last.\n"
	      "\n"
	      "Commands:\n"
	      "  status                 the CPUs, the domains' and the host's (the default)\n"
	      "  isolate                confine the host to the CPUs the domain does not use\n"
	      "  release                give the domain's CPUs back to the host\n"
	      "\n"
	      "Options:\n"
	      "      --domain-xml FILE  the domain's XML ('-': stdin, as a hook gets it)\n"
	      "      --cpus LIST        the domain's CPUs, instead of its <cputune> pins\n"
	      "      --governor NAME    isolate: also run the domain's CPUs with this cpufreq\n"
	      "                         governor (performance), the one they had back at release\n"
	      "      --timeout SECONDS  wait at most this long for another run (20)\n"
	      "  -n, --dry-run          print the commands that would do it, change nothing\n"
	      "      --json             print the report as JSON (vfio-utils(7))\n" VU_USAGE_COMMON "\n"
	      "Exit status: 0 done (or nothing to do), 1 a change failed (every one undone),\n"
	      "2 usage error.\n"
	      "See vm-cpus(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

static int read_set(const char *path, struct vu_set *set)
{
	char buf[LIST_MAX];
	int err;

	if ((err = vu_readf(buf, sizeof(buf), "%s", path)) < 0 ||
	    (err = vu_set_parse(buf, set)) < 0)
		vu_errc(err, "%s: cannot read a CPU list", path);
	return err < 0 ? err : 0;
}

static void format(const struct vu_set *set, char *buf, size_t size)
{
	if (vu_set_format(set, buf, size) < 0)
		snprintf(buf, size, "?");
}

/* A list as the state file's alphabet holds it: "0-3,8" as "0-3+8", and back. */
static const char *swap(const char *list, char from, char to, char *buf, size_t size)
{
	snprintf(buf, size, "%s", list);
	for (char *c = buf; *c; c++)
		if (*c == from)
			*c = to;
	return buf;
}

/*
 * KEY's LIST, in as many fields as it takes: "cpus", "cpus1"... (a state
 * value holds 63 characters, a list of every other CPU of a large host far
 * more). A list longer than a record holds is said, and nothing remembered.
 */
static bool remember(struct vu_records *recs, const char *key, const char *list)
{
	struct vu_record r = { .nf = 0 };
	char v[LIST_MAX];
	size_t len, chunk = VU_STATE_TEXT - 1;

	swap(list, ',', '+', v, sizeof(v));
	len = strlen(v);
	if (len > chunk * VU_STATE_FIELDS || !vu_state_valid_text(key) ||
	    snprintf(r.key, sizeof(r.key), "%s", key) >= (int)sizeof(r.key)) {
		vu_err(
		    "%s: the list of CPUs %.64s... is longer than vfio-utils remembers (%zu characters)",
		    key, list, chunk * VU_STATE_FIELDS);
		return false;
	}
	for (size_t off = 0; off < len || !r.nf; off += chunk, r.nf++) {
		snprintf(r.f[r.nf].name, sizeof(r.f[r.nf].name), r.nf ? "cpus%d" : "cpus", r.nf);
		snprintf(r.f[r.nf].value, sizeof(r.f[r.nf].value), "%.*s", (int)chunk,
			 len ? v + off : "-");
	}
	return vu_records_put(recs, &r) != NULL;
}

/* A remembered list, "" for none ("-"). */
static const char *recalled(const struct vu_record *r, char *buf, size_t size)
{
	char v[LIST_MAX] = "", name[16];
	const char *part;

	for (int i = 0; i < VU_STATE_FIELDS; i++) {
		snprintf(name, sizeof(name), i ? "cpus%d" : "cpus", i);
		if (!(part = vu_record_get(r, name)))
			break;
		if (strcmp(part, "-") != 0)
			snprintf(v + strlen(v), sizeof(v) - strlen(v), "%s", part);
	}
	return swap(v, '+', ',', buf, size);
}

/* Give CPU C governor GOV and read it back. */
static int set_governor(int c, const char *gov)
{
	char path[PATH_MAX], now[64];
	int err;

	if ((err = vu_path(path, sizeof(path), GOV_FILE, c)) < 0 ||
	    (err = vu_act_write(path, gov)) < 0) {
		vu_errc(err, "CPU %d: cannot set the cpufreq governor %s", c, gov);
		return err;
	}
	if (vu_dry_run)
		return 0;
	if ((err = vu_read(path, now, sizeof(now))) < 0 || strcmp(now, gov) != 0) {
		vu_err("CPU %d: set the cpufreq governor %s, the kernel has '%s'", c, gov,
		       err < 0 ? "?" : now);
		return -EIO;
	}
	return 0;
}

/* Whether a remembered domain other than SKIP (a key, or NULL) holds CPU C. */
static bool held_by_other(const struct vu_records *recs, const char *skip, int c)
{
	for (size_t i = 0; i < recs->n; i++) {
		char l[LIST_MAX];
		struct vu_set s;

		if ((!skip || strcmp(recs->v[i].key, skip) != 0) &&
		    vu_set_parse(recalled(&recs->v[i], l, sizeof(l)), &s) >= 0 && vu_set_has(&s, c))
			return true;
	}
	return false;
}

/*
 * Give back the governor of each CPU of SET that no domain but SKIP holds,
 * as GOVS remembers it; forgotten once back. 0, or -EIO when one is not.
 */
static int put_governors(const struct vu_set *set, const struct vu_records *recs,
			 const char *skip, struct vu_records *govs)
{
	int status = 0;

	for (int c = 0; c <= vu_set_last(set); c++) {
		char key[16];
		const struct vu_record *g;

		snprintf(key, sizeof(key), "cpu%d", c);
		if (!vu_set_has(set, c) || held_by_other(recs, skip, c) ||
		    !(g = vu_records_find(govs, key)))
			continue;
		if (set_governor(c, vu_record_get(g, "governor")) < 0)
			status = -EIO;
		else if (!vu_dry_run)
			vu_records_del(govs, key);
	}
	return status;
}

/*
 * Run every CPU of SET with governor GOV, what each had remembered first
 * (once: a CPU another domain set keeps what it had before that). A CPU
 * without cpufreq is left alone. How many run it; on a failure, those of
 * this run go back.
 */
static int take_governors(const char *domain, const struct vu_set *set, const char *gov,
			  const struct vu_records *recs, const char *key, struct vu_records *govs)
{
	char none[LIST_MAX] = "";
	size_t nlen = 0;
	int n = 0;

	for (int c = 0; c <= vu_set_last(set); c++) {
		char now[64], k[16];

		if (!vu_set_has(set, c))
			continue;
		if (vu_readf(now, sizeof(now), GOV_FILE, c) < 0) {
			nlen += (size_t)snprintf(none + nlen, sizeof(none) - nlen, "%s%d",
						 nlen ? "," : "", c);
			continue;
		}
		snprintf(k, sizeof(k), "cpu%d", c);
		if (!vu_records_find(govs, k) &&
		    (!vu_records_set(govs, k, "governor", now, (char *)NULL) ||
		     (!vu_dry_run && vu_state_save(GOVS, govs) < 0)))
			return -EINVAL;
		if (set_governor(c, gov) < 0) {
			put_governors(set, recs, key, govs);
			return -EIO;
		}
		n++;
	}
	if (nlen)
		vu_report("%s: CPU %s: no cpufreq: the governor left as the firmware runs it", domain,
			  none);
	return n;
}

/* CPUS and each one's SMT siblings: a core's threads share it, host and VM alike. */
static void with_siblings(struct vu_set *cpus)
{
	struct vu_set add = *cpus;

	for (int c = 0; c <= vu_set_last(cpus); c++) {
		char list[256];
		struct vu_set sib;

		if (!vu_set_has(cpus, c) ||
		    vu_readf(list, sizeof(list), "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
			     c) < 0 ||
		    vu_set_parse(list, &sib) < 0)
			continue;
		for (int s = 0; s <= vu_set_last(&sib); s++)
			if (vu_set_has(&sib, s))
				vu_set_add(&add, s);
	}
	*cpus = add;
}

/* What the kernel command line isolates already (isolcpus=, nohz_full=): "" for nothing. */
static void kernel_isolated(char *buf, size_t size)
{
	char cmdline[4096];

	buf[0] = '\0';
	if (vu_readf(cmdline, sizeof(cmdline), "/proc/cmdline") < 0)
		return;
	for (char *w = strtok(cmdline, " \t"); w; w = strtok(NULL, " \t"))
		if (strncmp(w, "isolcpus=", 9) == 0 || strncmp(w, "nohz_full=", 10) == 0) {
			snprintf(buf, size, "%s", w);
			return;
		}
}

/* The cgroups the host's work runs in without systemd: the root's children, the VMs' aside. */
static int host_cgroups(struct vu_names *out)
{
	char dir[PATH_MAX];
	struct vu_names all;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = vu_path(dir, sizeof(dir), "/sys/fs/cgroup")) < 0 ||
	    (err = vu_listdir(dir, &all)) < 0)
		return err;
	for (size_t i = 0; i < all.n && !err; i++)
		if (strncmp(all.v[i], "machine", 7) != 0 &&
		    vu_existsf("/sys/fs/cgroup/%s/cpuset.cpus", all.v[i]))
			err = vu_names_add(out, all.v[i]);
	vu_names_free(&all);
	return err;
}

/* How long systemctl may take for one answer: --timeout. */
static int tool_ms = 20000;

/* Confine one systemd unit (LIST "" gives it every CPU again). */
static int set_unit(const char *unit, const char *list)
{
	char prop[LIST_MAX + 16], out[256];
	char *argv[] = { "systemctl", "set-property", "--runtime", (char *)unit, prop, NULL };
	int st;

	snprintf(prop, sizeof(prop), "AllowedCPUs=%s", list);
	vu_act_command("systemctl set-property --runtime %s %s", unit, prop);
	if (vu_dry_run)
		return 0;
	if ((st = vu_run(argv, out, sizeof(out), tool_ms)) != 0) {
		if (st > 0)
			vu_err("%s: systemctl set-property %s failed (exit status %d)", unit, prop,
			       st);
		return -EIO;
	}
	return 0;
}

/* A unit's AllowedCPUs as systemd has it: "" for none set (every CPU). */
static int unit_allowed(const char *unit, char *buf, size_t size)
{
	char *argv[] = { "systemctl", "show", "-P", "AllowedCPUs", (char *)unit, NULL };

	int st = vu_run(argv, buf, size, tool_ms);

	if (st != 0) {
		if (st > 0)
			vu_err("%s: systemctl show -P AllowedCPUs failed (exit status %d)", unit,
			       st);
		return -EIO;
	}
	/* systemd prints ranges apart ("0-1 4-5"); the kernel's lists take commas. */
	for (char *c = buf; *c; c++)
		if (*c == ' ')
			*c = ',';
	return 0;
}

/* Write a list to a cgroup's cpuset.cpus, or a mask to the workqueues', and read it back. */
static int write_read(const char *attr, const char *val, const struct vu_set *want, bool mask)
{
	char path[PATH_MAX], buf[LIST_MAX];
	struct vu_set now;
	int err;

	if ((err = vu_path(path, sizeof(path), "%s", attr)) < 0 ||
	    (err = vu_act_write(path, val)) < 0) {
		vu_errc(err, "%s: cannot write '%s'", attr, val);
		return err;
	}
	if (vu_dry_run || !want)
		return 0;
	if ((err = vu_read(path, buf, sizeof(buf))) < 0 ||
	    (err = mask ? vu_set_parse_mask(buf, &now) : vu_set_parse(buf, &now)) < 0) {
		vu_errc(err, "%s: cannot read back", attr);
		return err;
	}
	if (memcmp(&now, want, sizeof(now)) != 0) {
		vu_err("%s: wrote '%s', the kernel has '%s'", attr, val, buf);
		return -EIO;
	}
	return 0;
}

/* The workqueues on SET, as a mask of the possible CPUs. */
static int set_workqueues(const struct vu_set *set)
{
	char mask[VU_SET_MAX / 4 + VU_SET_MAX / 32 + 2];
	struct vu_set possible;

	if (!vu_existsf(WQ))
		return 0; /* a kernel without it: nothing runs there to move */
	if (read_set("/sys/devices/system/cpu/possible", &possible) < 0 ||
	    vu_set_format_mask(set, vu_set_last(&possible) + 1, mask, sizeof(mask)) < 0)
		return -EINVAL;
	return write_read(WQ, mask, set, true);
}

/*
 * What the host has now, remembered before the first change: each unit's
 * (or cgroup's) CPUs and the workqueues' mask, as lists ("-": every CPU).
 */
static int save_host(struct vu_records *saved)
{
	char list[LIST_MAX], attr[PATH_MAX];
	struct vu_set set;
	struct vu_names cg;
	int err = 0;

	if (vu_existsf(WQ)) {
		if ((err = vu_readf(list, sizeof(list), WQ)) < 0 ||
		    (err = vu_set_parse_mask(list, &set)) < 0) {
			vu_errc(err, "%s: cannot read", WQ);
			return err;
		}
		format(&set, list, sizeof(list));
		if (!remember(saved, "workqueues", list))
			return -EINVAL;
	}
	if (vu_systemd_booted()) {
		for (size_t i = 0; i < VU_ARRAY_SIZE(units); i++)
			if ((err = unit_allowed(units[i], list, sizeof(list))) < 0 ||
			    !remember(saved, units[i], list))
				return err < 0 ? err : -EINVAL;
		return 0;
	}
	if ((err = host_cgroups(&cg)) < 0) {
		vu_errc(err, "/sys/fs/cgroup: cannot list");
		return err;
	}
	for (size_t i = 0; i < cg.n && !err; i++) {
		snprintf(attr, sizeof(attr), "/sys/fs/cgroup/%s/cpuset.cpus", cg.v[i]);
		if ((err = vu_readf(list, sizeof(list), "%s", attr)) < 0)
			vu_errc(err, "%s: cannot read", attr);
		else if (!remember(saved, cg.v[i], list))
			err = -EINVAL;
	}
	vu_names_free(&cg);
	return err;
}

/*
 * Give the host HOST (NULL: what SAVED says it had). A cgroup with tasks
 * cannot be given an empty cpuset.cpus (its parent's) back: the kernel says
 * ENOSPC, and systemd, resetting AllowedCPUs=, writes "" and only warns. So
 * an empty one gets its parent's CPUs, all of them, written out; systemd's
 * property is reset after that, which leaves them.
 */
static int apply(const struct vu_set *host, const struct vu_records *saved)
{
	char list[LIST_MAX], all[LIST_MAX], attr[PATH_MAX];
	int status = 0;

	if (host)
		format(host, list, sizeof(list));
	if (!host && vu_readf(all, sizeof(all), "/sys/fs/cgroup/cpuset.cpus.effective") < 0 &&
	    vu_readf(all, sizeof(all), "/sys/devices/system/cpu/online") < 0) {
		vu_err("/sys/devices/system/cpu/online: cannot read");
		return -EIO;
	}
	for (size_t i = 0; i < saved->n; i++) {
		const char *name = saved->v[i].key;
		char was[LIST_MAX];
		const char *val = host ? list : recalled(&saved->v[i], was, sizeof(was));
		struct vu_set want;

		if (strcmp(name, "workqueues") == 0) {
			if (vu_set_parse(val, &want) <= 0 || set_workqueues(&want) < 0)
				status = -EIO;
		} else if (vu_systemd_booted()) {
			if (set_unit(name, *val ? val : all) < 0 || (!*val && set_unit(name, "") < 0))
				status = -EIO;
		} else {
			val = *val ? val : all;
			snprintf(attr, sizeof(attr), "/sys/fs/cgroup/%s/cpuset.cpus", name);
			if (vu_set_parse(val, &want) < 0 || write_read(attr, val, &want, false) < 0)
				status = -EIO;
		}
	}
	return status;
}

/* Every CPU the remembered domains hold. */
static void domains_cpus(const struct vu_records *recs, struct vu_set *all)
{
	memset(all, 0, sizeof(*all));
	for (size_t i = 0; i < recs->n; i++) {
		char l[LIST_MAX];
		struct vu_set s;

		if (vu_set_parse(recalled(&recs->v[i], l, sizeof(l)), &s) >= 0)
			for (int c = 0; c <= vu_set_last(&s); c++)
				if (vu_set_has(&s, c))
					vu_set_add(all, c);
	}
}

/* ONLINE less every CPU the domains hold: what the host keeps. */
static void host_of(const struct vu_set *online, const struct vu_records *recs, struct vu_set *host)
{
	struct vu_set vm;

	domains_cpus(recs, &vm);
	*host = *online;
	for (int c = 0; c <= vu_set_last(&vm); c++)
		if (vu_set_has(&vm, c))
			host->bits[c / 64] &= ~(1ULL << (c % 64));
}

struct run {
	const char *domain;
	char key[VU_STATE_TEXT];
	struct vu_set cpus; /* the domain's, siblings included */
	const char *governor; /* --governor, NULL: leave it */
	struct vu_rec *doc;
};

static int isolate(struct run *r, struct vu_records *recs, struct vu_records *saved,
		   struct vu_records *govs)
{
	struct vu_set online, host;
	char list[LIST_MAX], hostl[LIST_MAX];
	/* No host remembered: this is the first change (a killed run may have left domains). */
	bool first = saved->n == 0;
	int ngov = 0;

	if (read_set("/sys/devices/system/cpu/online", &online) < 0)
		return VU_EXIT_FAIL;
	with_siblings(&r->cpus);
	format(&r->cpus, list, sizeof(list));
	vu_rec_str(r->doc, "cpus", list);
	for (int c = 0; c <= vu_set_last(&r->cpus); c++)
		if (vu_set_has(&r->cpus, c) && !vu_set_has(&online, c)) {
			vu_err("%s: CPU %d is not online (online: %s)", r->domain, c,
			       (format(&online, hostl, sizeof(hostl)), hostl));
			return VU_EXIT_FAIL;
		}
	if (!remember(recs, r->key, list))
		return VU_EXIT_FAIL;
	host_of(&online, recs, &host);
	format(&host, hostl, sizeof(hostl));
	vu_rec_str(r->doc, "host_cpus", hostl);
	if (vu_set_count(&host) == 0) {
		vu_err("%s: its CPUs %s, with those of the other domains, leave the host none: at least one stays the host's",
		       r->domain, list);
		vu_records_del(recs, r->key);
		return VU_EXIT_FAIL;
	}
	/*
	 * The domain on disk first, then the host as it was, before the first
	 * change: killed between, release finds the domain and a host that
	 * nothing changed yet.
	 */
	if (vu_state_save(STATE, recs) < 0 ||
	    (first && (save_host(saved) < 0 || vu_state_save(SAVED, saved) < 0))) {
		vu_records_del(recs, r->key);
		return VU_EXIT_FAIL;
	}
	if (apply(&host, saved) < 0 ||
	    (r->governor &&
	     (ngov = take_governors(r->domain, &r->cpus, r->governor, recs, r->key, govs)) < 0)) {
		/* Nothing half-done: the host as before this domain. */
		vu_records_del(recs, r->key);
		host_of(&online, recs, &host);
		apply(recs->n ? &host : NULL, saved);
		if (!recs->n)
			saved->n = 0;
		return VU_EXIT_FAIL;
	}
	if (ngov > 0) {
		vu_rec_str(r->doc, "governor", r->governor);
		vu_report("%s: CPUs for the VM: %s, governor %s; the host keeps %s", r->domain, list,
			  r->governor, hostl);
	} else {
		vu_report("%s: CPUs for the VM: %s; the host keeps %s", r->domain, list, hostl);
	}
	return VU_EXIT_OK;
}

static int release(struct run *r, struct vu_records *recs, struct vu_records *saved,
		   struct vu_records *govs)
{
	const struct vu_record *rec = vu_records_find(recs, r->key);
	struct vu_set online, host, mine;
	char hostl[LIST_MAX];

	if (!rec && !recs->n && saved->n) {
		/* A host remembered for no domain: a run killed before its change, or after. */
		if (apply(NULL, saved) < 0)
			return VU_EXIT_FAIL;
		saved->n = 0;
	}
	if (!rec) {
		vu_report("%s: no CPUs isolated: nothing to give back", r->domain);
		return VU_EXIT_OK;
	}
	if (read_set("/sys/devices/system/cpu/online", &online) < 0 ||
	    vu_set_parse(recalled(rec, hostl, sizeof(hostl)), &mine) < 0)
		return VU_EXIT_FAIL;
	vu_records_del(recs, r->key);
	/* Its CPUs' governors first: no other domain holds them any more. */
	if (put_governors(&mine, recs, NULL, govs) < 0)
		return VU_EXIT_FAIL;
	if (recs->n) {
		host_of(&online, recs, &host);
		format(&host, hostl, sizeof(hostl));
		if (apply(&host, saved) < 0)
			return VU_EXIT_FAIL;
		vu_report("%s: its CPUs given back; the host keeps %s for the other domains", r->domain,
			  hostl);
	} else {
		if (apply(NULL, saved) < 0)
			return VU_EXIT_FAIL;
		format(&online, hostl, sizeof(hostl));
		vu_report("%s: its CPUs given back; the host has %s again", r->domain, hostl);
		saved->n = 0;
	}
	vu_rec_str(r->doc, "host_cpus", hostl);
	return VU_EXIT_OK;
}

static int status_of(const struct vu_records *recs, struct vu_rec *doc)
{
	struct vu_list *l = vu_rec_list(doc, "domains");
	struct vu_set online, host;
	char list[LIST_MAX], k[256];

	if (read_set("/sys/devices/system/cpu/online", &online) < 0)
		return VU_EXIT_FAIL;
	format(&online, list, sizeof(list));
	vu_rec_str(doc, "cpus", list);
	host_of(&online, recs, &host);
	format(&host, list, sizeof(list));
	vu_rec_str(doc, "host_cpus", list);
	kernel_isolated(k, sizeof(k));
	vu_rec_str(doc, "isolated_by_kernel", k[0] ? k : NULL);
	for (size_t i = 0; i < recs->n; i++) {
		struct vu_rec *d = vu_list_obj(l);

		vu_rec_str(d, "domain", recs->v[i].key);
		vu_rec_str(d, "cpus", recalled(&recs->v[i], list, sizeof(list)));
	}
	return VU_EXIT_OK;
}

static void status_text(const struct vu_rec *doc)
{
	const struct vu_list *l = vu_rec_l(doc, "domains");

	printf("CPUs:   %s\nhost:   %s\n", vu_rec_s(doc, "cpus"), vu_rec_s(doc, "host_cpus"));
	if (vu_rec_has(doc, "isolated_by_kernel"))
		printf("kernel: %s\n", vu_rec_s(doc, "isolated_by_kernel"));
	for (size_t i = 0; i < vu_list_len(l); i++)
		printf("%s: %s\n", vu_rec_s(vu_list_rec(l, i), "domain"),
		       vu_rec_s(vu_list_rec(l, i), "cpus"));
}

/* What a run of vm-cpus keeps beside the skeleton's: its options, the host's state. */
struct ctx {
	const char *cpus; /* --cpus */
	struct run run;
	struct vu_records saved, govs;
};

static void option(struct vu_domrun *r, int opt, const char *arg)
{
	struct ctx *c = r->ctx;

	if (opt == OPT_CPUS) {
		c->cpus = arg;
		return;
	}
	c->run.governor = arg;
	if (!*arg || strspn(arg, "abcdefghijklmnopqrstuvwxyz_") != strlen(arg))
		vu_usage_error("--governor %s: not a cpufreq governor's name (performance)", arg);
}

static int run_status(struct vu_domrun *r)
{
	return status_of(&r->recs, r->doc);
}

/*
 * The domain's CPUs: --cpus, else its pins; none, or CPUs the kernel command
 * line isolates already, is nothing to do.
 */
static int prepare(struct vu_domrun *r)
{
	struct ctx *c = r->ctx;
	char k[256];

	tool_ms = r->timeout_ms;
	c->run.domain = r->domain;
	c->run.doc = r->doc;
	snprintf(c->run.key, sizeof(c->run.key), "%s", r->key);
	if (c->cpus && vu_set_parse(c->cpus, &c->run.cpus) <= 0)
		vu_usage_error("--cpus %s: not a list of CPUs like 2-7,10", c->cpus);
	if (!c->cpus && r->x.bad_pins) {
		vu_err("%s: <cputune> pin cpuset '%.64s' is not a list of CPUs", r->domain,
		       r->x.bad_pins);
		return VU_EXIT_FAIL;
	}
	if (!c->cpus)
		c->run.cpus = r->x.pin_cpus;
	kernel_isolated(k, sizeof(k));
	if (strcmp(r->sub->name, "isolate") != 0 || (vu_set_count(&c->run.cpus) && !k[0]))
		return VU_DOMCMD_ON;
	if (k[0])
		vu_report("%s: the kernel command line isolates CPUs already (%s): nothing changed",
			  r->domain, k);
	else
		vu_report("%s: no <cputune> pins (nor --cpus): no CPUs of its own to isolate",
			  r->domain);
	return VU_EXIT_OK;
}

/* The host's state and the governors, read under the lock too: a damaged one gives nothing back. */
static int locked(struct vu_domrun *r)
{
	struct ctx *c = r->ctx;

	if ((vu_state_load(SAVED, &c->saved) < 0 && !c->saved.damaged) || c->saved.damaged ||
	    (vu_state_load(GOVS, &c->govs) < 0 && !c->govs.damaged) || c->govs.damaged) {
		vu_state_say_damaged(c->saved.damaged ? SAVED : GOVS, "mv /run/vfio-utils/cpus* aside");
		vu_records_free(&c->saved);
		vu_records_free(&c->govs);
		return VU_EXIT_FAIL;
	}
	return VU_DOMCMD_ON;
}

static int run_isolate(struct vu_domrun *r)
{
	struct ctx *c = r->ctx;

	return isolate(&c->run, &r->recs, &c->saved, &c->govs);
}

static int run_release(struct vu_domrun *r)
{
	struct ctx *c = r->ctx;

	return release(&c->run, &r->recs, &c->saved, &c->govs);
}

/*
 * The domains before the host they were taken from: killed between, the
 * host is still remembered, for the next isolate to keep and the next
 * release to give back.
 */
static int done(struct vu_domrun *r, int status)
{
	struct ctx *c = r->ctx;

	if (vu_state_save(STATE, &r->recs) < 0 || vu_state_save(SAVED, &c->saved) < 0 ||
	    vu_state_save(GOVS, &c->govs) < 0)
		status = VU_EXIT_FAIL;
	vu_records_free(&c->saved);
	vu_records_free(&c->govs);
	return status;
}

int main(int argc, char **argv)
{
	static const struct vu_domsub subs[] = {
		{ "status", VU_DOMAIN_NONE, VU_DAMAGED_REFUSE, NULL },
		{ "isolate", VU_DOMAIN_XML, VU_DAMAGED_REFUSE, run_isolate },
		{ "release", VU_DOMAIN_EITHER, VU_DAMAGED_REFUSE, run_release },
		{ NULL, 0, 0, NULL },
	};
	static const struct vu_domopt opts[] = {
		{ "cpus", required_argument, OPT_CPUS, "isolate" },
		{ "governor", required_argument, OPT_GOVERNOR, "isolate" },
		{ NULL, 0, 0, NULL },
	};
	static const struct vu_domcmd cmd = {
		.name = "vm-cpus",
		.state = STATE,
		.own_lock = true,
		.with = "isolate and release",
		.fix = "mv /run/vfio-utils/cpus* aside",
		.subs = subs,
		.opts = opts,
		.usage = usage,
		.option = option,
		.status = run_status,
		.status_state = true,
		.status_text = status_text,
		.prepare = prepare,
		.locked = locked,
		.done = done,
	};
	struct ctx c = { 0 };

	return vu_domcmd_main(&cmd, &c, argc, argv);
}
