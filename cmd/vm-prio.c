/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vm-prio: raise the scheduling priority of a running domain's vCPU threads, and put it back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act.h"
#include "domcmd.h"
#include "domxml.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "state.h"
#include "sysfs.h"

enum {
	OPT_NICE = VU_OPT_CMD,
	OPT_FIFO,
};

#define STATE "prio"
#define VCPUS_MAX 1024

static noreturn void usage(void)
{
	fputs("Usage: vm-prio [options] [status]\n"
	      "       vm-prio [options] set [--nice N | --fifo PRIO] [--domain-xml FILE|- | DOMAIN]\n"
	      "       vm-prio [options] reset [--domain-xml FILE|- | DOMAIN]\n"
	      "\n"
	      "Raise the scheduling priority of a running domain's vCPU threads (libvirt's\n"
	      "started hook: they exist then), found by QEMU's names for them in the process\n"
	      "libvirt records, and put back what they had.\n"
	      "\n"
	      "Commands:\n"
	      "  status                 each running domain's vCPU threads and their\n"
	      "                         priority (the default)\n"
	      "  set                    renice them (or make them real-time with --fifo)\n"
	      "  reset                  give them back the priority they had\n"
	      "\n"
	      "Options:\n"
	      "      --domain-xml FILE  the domain's XML ('-': stdin, as a hook gets it)\n"
	      "      --nice N           set: the nice value, -20 to 19 (-10)\n"
	      "      --fifo PRIO        set: SCHED_FIFO at PRIO, 1 to 99, instead\n"
	      "      --timeout SECONDS  wait at most this long for another run (20)\n"
	      "  -n, --dry-run          print the commands that would do it, change nothing\n"
	      "      --json             print the report as JSON (vfio-utils(7))\n" VU_USAGE_COMMON "\n"
	      "Exit status: 0 done (or nothing to do), 1 the domain does not run or a thread\n"
	      "did not change (every one put back), 2 usage error.\n"
	      "See vm-prio(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

/* A thread's scheduling, as the kernel has it. */
struct prio {
	int policy; /* SCHED_OTHER, SCHED_FIFO, ... */
	int rt;	    /* its real-time priority, 0 for the others */
	int nice;
};

static const char *policy_name(int policy)
{
	switch (policy) {
	case SCHED_OTHER:
		return "other";
	case SCHED_FIFO:
		return "fifo";
	case SCHED_RR:
		return "rr";
	case SCHED_BATCH:
		return "batch";
	case SCHED_IDLE:
		return "idle";
	default:
		return "?";
	}
}

static int policy_of(const char *name)
{
	static const int all[] = { SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE };

	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
		if (strcmp(name, policy_name(all[i])) == 0)
			return all[i];
	return -1;
}

static int get_prio(int tid, struct prio *p)
{
	struct sched_param sp = { 0 };

	memset(p, 0, sizeof(*p));
	errno = 0;
	p->nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno || (p->policy = sched_getscheduler(tid)) < 0 || sched_getparam(tid, &sp) < 0)
		return -errno;
	p->rt = sp.sched_priority;
	return 0;
}

/* Set TID to P: the policy first (a real-time one takes no nice), read back. */
static int set_prio(int tid, const struct prio *p)
{
	struct sched_param sp = { .sched_priority = p->rt };
	struct prio now = { 0 };

	if (p->policy == SCHED_FIFO || p->policy == SCHED_RR)
		vu_act_command("chrt %s -p %d %d", p->policy == SCHED_FIFO ? "-f" : "-r", p->rt, tid);
	else
		vu_act_command("renice -n %d -p %d", p->nice, tid);
	if (vu_dry_run)
		return 0;
	if (sched_setscheduler(tid, p->policy, &sp) < 0 ||
	    ((p->policy == SCHED_OTHER || p->policy == SCHED_BATCH) &&
	     setpriority(PRIO_PROCESS, (id_t)tid, p->nice) < 0))
		return -errno;
	if (get_prio(tid, &now) < 0)
		return -errno;
	return now.policy == p->policy && now.rt == p->rt &&
		       (p->policy != SCHED_OTHER || now.nice == p->nice)
		   ? 0
		   : -EIO;
}

struct vcpu {
	int index, tid;
};

/*
 * The vCPU threads of PID, by QEMU's names for them ("CPU 0/KVM", "CPU 1/TCG"),
 * in vCPU order: how many, or -errno.
 */
static int vcpus(int pid, struct vcpu *out, int max)
{
	char dir[PATH_MAX];
	struct vu_names tasks;
	int n = 0, err;

	if ((err = vu_path(dir, sizeof(dir), "/proc/%d/task", pid)) < 0 ||
	    (err = vu_listdir(dir, &tasks)) < 0)
		return err;
	for (size_t i = 0; i < tasks.n && n < max; i++) {
		char comm[64], *end;
		long index;

		if (vu_readf(comm, sizeof(comm), "/proc/%d/task/%s/comm", pid, tasks.v[i]) < 0 ||
		    strncmp(comm, "CPU ", 4) != 0)
			continue;
		index = strtol(comm + 4, &end, 10);
		if (end == comm + 4 || *end != '/' || index < 0)
			continue;
		out[n].index = (int)index;
		out[n++].tid = (int)strtol(tasks.v[i], NULL, 10);
	}
	vu_names_free(&tasks);
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && out[k - 1].index > out[k].index; k--) {
			struct vcpu t = out[k];

			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

/* libvirt's daemon, which holds a pid file of its own there (driver.pid), no domain's. */
static bool libvirt_daemon(int pid)
{
	char comm[32];

	return vu_readf(comm, sizeof(comm), "/proc/%d/comm", pid) > 0 &&
	       (strcmp(comm, "libvirtd") == 0 || strcmp(comm, "virtqemud") == 0);
}

/*
 * The QEMU libvirt runs DOMAIN in, proven before a thread of it is touched:
 * /run/libvirt/qemu/DOMAIN.pid, root's and written by root alone, names it,
 * and that process holds the file's lock, as QEMU does for as long as it runs
 * (libvirt takes the lock for it before it starts, as QEMU's own -pidfile
 * does). A stale file's PID, reused by any process, holds no such lock. Its
 * PID; -ESRCH when the domain does not run, -EPERM when the file does not
 * prove it (*WHY says how).
 */
static int qemu_pid(const char *domain, const char **why)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX], buf[32];
	struct stat st;
	ssize_t n;
	long pid;
	int fd;

	/* DOMAIN holds no '/': the skeleton and the XML reader refuse it (vu_domain_name_ok). */
	*why = NULL;
	if (vu_path(path, sizeof(path), "/run/libvirt/qemu/%s.pid", domain) < 0)
		return -ESRCH;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ELOOP)
		*why = "its pid file is a link";
	if (fd < 0)
		return *why ? -EPERM : -ESRCH;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		*why = "its pid file is not root's alone";
		return -EPERM;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	pid = strtol(buf, NULL, 10);
	if (pid <= 0 || pid > INT_MAX || fcntl(fd, F_GETLK, &lk) < 0 || lk.l_type == F_UNLCK) {
		close(fd);
		return -ESRCH; /* QEMU gone: nothing holds the file any more */
	}
	close(fd);
	if (lk.l_pid != (pid_t)pid) {
		*why = "the process its pid file names does not hold the file's lock";
		return -EPERM;
	}
	return libvirt_daemon((int)pid) ? -ESRCH : (int)pid;
}

static void vcpu_rec(struct vu_list *l, const struct vcpu *v, const struct prio *p,
		     const char *result)
{
	struct vu_rec *r = vu_list_obj(l);

	vu_rec_int(r, "vcpu", v->index);
	vu_rec_int(r, "tid", v->tid);
	vu_rec_str(r, "policy", policy_name(p->policy));
	vu_rec_int(r, "priority", p->rt);
	vu_rec_int(r, "nice", p->nice);
	if (result)
		vu_rec_str(r, "result", result);
}

/* Give every vCPU of V P (the first N of them), reporting each in OUT. */
static int apply(const char *domain, const struct vcpu *v, int n, const struct prio *p,
		 struct vu_list *out, const char *done)
{
	int status = VU_EXIT_OK;

	for (int i = 0; i < n; i++) {
		int err = set_prio(v[i].tid, p);

		if (err < 0) {
			vu_errc(err, "%s: vCPU %d (thread %d): cannot set %s", domain, v[i].index,
				v[i].tid, policy_name(p->policy));
			status = VU_EXIT_FAIL;
		}
		vcpu_rec(out, &v[i], p, err < 0 ? "failed" : vu_dry_run ? "planned" : done);
	}
	return status;
}

/* The QEMU of DOMAIN, proven (qemu_pid), or a failure said in one line: -errno. */
static int proven_qemu(const char *domain)
{
	const char *why;
	int pid = qemu_pid(domain, &why);

	if (pid == -EPERM)
		vu_err("%s: not touched: %s (/run/libvirt/qemu/%s.pid)", domain, why, domain);
	return pid;
}

static int set(const char *domain, const char *key, const struct prio *want,
	       struct vu_records *recs, struct vu_list *out)
{
	struct vcpu *v = calloc(VCPUS_MAX, sizeof(*v));
	const struct vu_record *r = vu_records_find(recs, key);
	struct prio was = { 0 };
	char pid_s[16], nice_s[16], rt_s[16];
	int pid, n = 0, status;
	bool mine;

	if (!v)
		return VU_EXIT_FAIL;
	if ((pid = proven_qemu(domain)) < 0 || (n = vcpus(pid, v, VCPUS_MAX)) <= 0 ||
	    get_prio(v[0].tid, &was) < 0) {
		if (pid != -EPERM)
			vu_err(
			    "%s: %s", domain,
			    pid < 0
				? "not running (no QEMU in /run/libvirt/qemu): set it in the started hook"
				: "its QEMU has no vCPU threads");
		free(v);
		return VU_EXIT_FAIL;
	}
	/*
	 * Remembered first, once per QEMU: a second set keeps what the threads
	 * had before the first (a record of an earlier QEMU is stale).
	 */
	mine = !r || vu_record_num(r, "pid", 0) != pid;
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	snprintf(nice_s, sizeof(nice_s), "%d", was.nice);
	snprintf(rt_s, sizeof(rt_s), "%d", was.rt);
	if (mine && (!vu_records_set(recs, key, "pid", pid_s, "policy", policy_name(was.policy),
				     "priority", rt_s, "nice", nice_s, (char *)NULL) ||
		     vu_state_save(STATE, recs) < 0)) {
		free(v);
		return VU_EXIT_FAIL;
	}
	status = apply(domain, v, n, want, out, "set");
	if (status != VU_EXIT_OK) {
		/* Back to what this run found; the first set's record stays for reset. */
		apply(domain, v, n, &was, vu_rec_list(NULL, NULL), "reset");
		if (mine)
			vu_records_del(recs, key);
	} else if (want->policy == SCHED_FIFO) {
		vu_report("%s: %d vCPU threads real-time (SCHED_FIFO %d)", domain, n, want->rt);
	} else {
		vu_report("%s: %d vCPU threads at nice %d", domain, n, want->nice);
	}
	free(v);
	return status;
}

static int reset(const char *domain, const char *key, struct vu_records *recs, struct vu_list *out)
{
	struct vu_record *r = vu_records_find(recs, key);
	struct vcpu *v;
	struct prio was;
	int pid, n, status;

	if (!r) {
		vu_report("%s: no priority set: nothing to put back", domain);
		return VU_EXIT_OK;
	}
	was.policy = policy_of(vu_record_get(r, "policy") ? vu_record_get(r, "policy") : "");
	was.rt = (int)vu_record_num(r, "priority", 0);
	was.nice = (int)vu_record_num(r, "nice", 0);
	if ((pid = proven_qemu(domain)) == -EPERM)
		return VU_EXIT_FAIL;
	/* Its QEMU gone (the release hook), or another one since: its threads went with it. */
	if (pid < 0 || pid != vu_record_num(r, "pid", -1)) {
		vu_report("%s: its QEMU is gone, and its threads' priority with it", domain);
		vu_records_del(recs, key);
		return VU_EXIT_OK;
	}
	if (was.policy < 0 || !(v = calloc(VCPUS_MAX, sizeof(*v))))
		return VU_EXIT_FAIL;
	n = vcpus(pid, v, VCPUS_MAX);
	status = apply(domain, v, n > 0 ? n : 0, &was, out, "reset");
	if (status == VU_EXIT_OK) {
		vu_report("%s: %d vCPU threads back to %s, nice %d", domain, n > 0 ? n : 0,
			  policy_name(was.policy), was.nice);
		vu_records_del(recs, key);
	}
	free(v);
	return status;
}

static int status_of(struct vu_rec *doc)
{
	struct vu_list *l = vu_rec_list(doc, "domains");
	struct vcpu *v = calloc(VCPUS_MAX, sizeof(*v));
	char dir[PATH_MAX];
	struct vu_names pids;
	const char *why;

	if (!v)
		return VU_EXIT_FAIL;
	if (vu_path(dir, sizeof(dir), "/run/libvirt/qemu") < 0 || vu_listdir(dir, &pids) < 0)
		pids = (struct vu_names){ 0 };
	for (size_t i = 0; i < pids.n; i++) {
		size_t len = strlen(pids.v[i]);
		struct vu_rec *d;
		struct vu_list *vl;
		int pid, n;

		if (len < 5 || strcmp(pids.v[i] + len - 4, ".pid") != 0)
			continue;
		pids.v[i][len - 4] = '\0';
		if ((pid = qemu_pid(pids.v[i], &why)) < 0)
			continue;
		d = vu_list_obj(l);
		vu_rec_str(d, "domain", pids.v[i]);
		vu_rec_int(d, "pid", pid);
		vl = vu_rec_list(d, "vcpus");
		n = vcpus(pid, v, VCPUS_MAX);
		for (int k = 0; k < n; k++) {
			struct prio p;

			if (get_prio(v[k].tid, &p) == 0)
				vcpu_rec(vl, &v[k], &p, NULL);
		}
	}
	vu_names_free(&pids);
	free(v);
	return VU_EXIT_OK;
}

static void status_text(const struct vu_rec *doc)
{
	const struct vu_list *l = vu_rec_l(doc, "domains");

	if (!vu_list_len(l))
		puts("no domain runs (no QEMU in /run/libvirt/qemu)");

	for (size_t i = 0; i < vu_list_len(l); i++) {
		const struct vu_rec *d = vu_list_rec(l, i);
		const struct vu_list *vl = vu_rec_l(d, "vcpus");

		printf("%s (QEMU %lld):\n", vu_rec_s(d, "domain"), vu_rec_i(d, "pid"));
		for (size_t k = 0; k < vu_list_len(vl); k++) {
			const struct vu_rec *r = vu_list_rec(vl, k);

			printf("  vCPU %-3lld thread %-8lld %-5s priority %-3lld nice %lld\n",
			       vu_rec_i(r, "vcpu"), vu_rec_i(r, "tid"), vu_rec_s(r, "policy"),
			       vu_rec_i(r, "priority"), vu_rec_i(r, "nice"));
		}
	}
}

/* An integer option within [LO, HI], else a usage error naming it. */
static int int_opt(const char *opt, const char *s, int lo, int hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < lo || v > hi)
		vu_usage_error("%s %s: expected a number from %d to %d", opt, s, lo, hi);
	return (int)v;
}

static void option(struct vu_domrun *r, int opt, const char *arg)
{
	struct prio *want = r->ctx;

	if (opt == OPT_NICE) {
		want->nice = int_opt("--nice", arg, -20, 19);
	} else {
		want->rt = int_opt("--fifo", arg, 1, 99);
		want->policy = SCHED_FIFO;
	}
}

static int run_status(struct vu_domrun *r)
{
	return status_of(r->doc);
}

static int run_set(struct vu_domrun *r)
{
	return set(r->domain, r->key, r->ctx, &r->recs, vu_rec_list(r->doc, "vcpus"));
}

static int run_reset(struct vu_domrun *r)
{
	return reset(r->domain, r->key, &r->recs, vu_rec_list(r->doc, "vcpus"));
}

int main(int argc, char **argv)
{
	static const struct vu_domsub subs[] = {
		{ "status", VU_DOMAIN_NONE, VU_DAMAGED_REFUSE, NULL },
		/* reset puts back what could be read of a damaged file, and keeps it aside. */
		{ "set", VU_DOMAIN_EITHER, VU_DAMAGED_REFUSE, run_set },
		{ "reset", VU_DOMAIN_EITHER, VU_DAMAGED_KEEP_ASIDE, run_reset },
		{ NULL, 0, 0, NULL },
	};
	static const struct vu_domopt opts[] = {
		{ "nice", required_argument, OPT_NICE, "set" },
		{ "fifo", required_argument, OPT_FIFO, "set" },
		{ NULL, 0, 0, NULL },
	};
	static const int excl[][4] = { { OPT_NICE, OPT_FIFO, 0 }, { 0 } };
	static const struct vu_domcmd cmd = {
		.name = "vm-prio",
		.state = STATE,
		.with = "set and reset",
		.fix = "vm-prio reset",
		/* a pool write or a thread change can wait in the kernel: never under the shared lock */
		.own_lock = true,
		.subs = subs,
		.opts = opts,
		.excl = excl,
		.usage = usage,
		.option = option,
		.status = run_status,
		.status_text = status_text,
	};
	struct prio want = { SCHED_OTHER, 0, -10 };

	return vu_domcmd_main(&cmd, &want, argc, argv);
}
