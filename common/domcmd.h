/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The skeleton a domain command runs on: options, the domain, its state under a lock, the report.
 */
#ifndef VU_DOMCMD_H
#define VU_DOMCMD_H

#include <stdbool.h>
#include <stdnoreturn.h>

#include "domxml.h"
#include "opts.h"
#include "out.h"
#include "state.h"

struct vu_domsub;

/* One run of a domain command, as its handlers see it. */
struct vu_domrun {
	const struct vu_domsub *sub; /* the sub-command */
	const char *domain;	     /* its name: the operand, or the XML's <name> */
	char key[VU_STATE_TEXT];     /* DOMAIN as a state key */
	const char *xml;	     /* --domain-xml's FILE, NULL without it */
	struct vu_domxml x;	     /* what was read from it */
	struct vu_records recs;	     /* the command's state, read under its lock */
	int lock;		     /* that lock, -1 under dry run */
	int timeout_ms;		     /* --timeout, 20 s by default */
	struct vu_rec *doc;	     /* the report */
	void *ctx;		     /* the command's own options and state */
};

/* What a damaged state file does to a sub-command. */
enum vu_on_damaged {
	VU_DAMAGED_REFUSE,     /* the side that takes: nothing changes, exit 1 */
	VU_DAMAGED_KEEP_ASIDE, /* the side that gives back: kept aside, then the run */
	VU_DAMAGED_OWN,	       /* the sub-command looks at RECS.damaged itself */
};

struct vu_domsub {
	const char *name;
	enum vu_domain_arg takes;
	enum vu_on_damaged damaged;
	/* NULL for status, which the command's status handler reports. */
	int (*run)(struct vu_domrun *r);
};

/* An option of the command's own; WITH names the sub-command it goes with (NULL: any). */
struct vu_domopt {
	const char *name;
	int has_arg; /* no_argument, required_argument */
	int val;     /* VU_OPT_CMD and up */
	const char *with;
};

/* Handlers return an exit status, or this to let the run go on. */
#define VU_DOMCMD_ON (-1)

struct vu_domcmd {
	const char *name;  /* "vm-prio" */
	const char *state; /* its state file below /run/vfio-utils */
	/*
	 * It waits on what other commands do not share (a host tool): its own
	 * lock for the run, the shared one for each save (vu_state_begin_own).
	 */
	bool own_lock;
	const char *with;	      /* the sub-commands that take a domain, for "goes with" */
	const char *fix;	      /* what keeps its damaged state file aside */
	const struct vu_domsub *subs; /* the first is status, the default; a NULL name ends them */
	const struct vu_domopt *opts; /* its own options; a NULL name ends them */
	/* Options that exclude each other, as util-linux's ul_excl_t: 0 ends a group, and the list.
	 */
	const int (*excl)[4];
	void (*usage)(void); /* --help: prints and exits */
	/* One of its own options (a bad value is a usage error, which exits). */
	void (*option)(struct vu_domrun *r, int opt, const char *arg);
	/*
	 * The status, reported in R->doc; with STATUS_STATE, R->recs holds the
	 * state, read without the lock (a report, which a change under way may
	 * outdate anyway).
	 */
	int (*status)(struct vu_domrun *r);
	bool status_state;
	void (*status_text)(const struct vu_rec *doc);
	/* The domain known, before the lock (NULL: nothing to do). */
	int (*prepare)(struct vu_domrun *r);
	/*
	 * Under the lock, before the sub-command: more state, a stopped run's
	 * work settled. Another status ends the run, nothing saved.
	 */
	int (*locked)(struct vu_domrun *r);
	/* After the sub-command, with its STATUS: the exit status (more state saved). */
	int (*done)(struct vu_domrun *r, int status);
};

/*
 * Run C on ARGV with CTX: options (its own, and --domain-xml, --timeout, -n,
 * --json and the common ones), the sub-command and the domain, then C's
 * handlers in order: prepare, the lock and the state, locked, the
 * sub-command, done, the state saved. The exit status, reported.
 */
int vu_domcmd_main(const struct vu_domcmd *c, void *ctx, int argc, char **argv);

#endif
