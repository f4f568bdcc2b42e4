/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The skeleton a domain command runs on: options, the domain, its state under a lock, the report.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "domcmd.h"
#include "msg.h"
#include "util.h"

/* The skeleton's own options, above any a command numbers from VU_OPT_CMD. */
enum {
	OPT_DOMAIN_XML = VU_OPT_CMD + 0x80,
	OPT_TIMEOUT,
};

#define OPTS_MAX 24

/* getopt_long's table: the command's own options, then the skeleton's and the common ones. */
static void longopts(const struct vu_domcmd *c, struct option *o)
{
	static const struct option tail[] = {
		{ "domain-xml", required_argument, NULL, OPT_DOMAIN_XML },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	size_t n = 0;

	for (; c->opts && c->opts[n].name && n + VU_ARRAY_SIZE(tail) < OPTS_MAX; n++)
		o[n] = (struct option){ c->opts[n].name, c->opts[n].has_arg, NULL, c->opts[n].val };
	memcpy(o + n, tail, sizeof(tail));
}

static const struct vu_domopt *own_opt(const struct vu_domcmd *c, int val)
{
	for (size_t i = 0; c->opts && c->opts[i].name; i++)
		if (c->opts[i].val == val)
			return &c->opts[i];
	return NULL;
}

/* Each option given that goes with another sub-command, and two that exclude each other. */
static void check_opts(const struct vu_domcmd *c, const struct vu_domsub *sub, const bool *given)
{
	for (size_t i = 0; c->opts && c->opts[i].name; i++)
		if (given[i] && c->opts[i].with && strcmp(c->opts[i].with, sub->name) != 0)
			vu_usage_error("--%s goes with %s", c->opts[i].name, c->opts[i].with);
	for (size_t g = 0; c->excl && c->excl[g][0]; g++) {
		const struct vu_domopt *first = NULL;

		for (size_t k = 0; k < 4 && c->excl[g][k]; k++) {
			const struct vu_domopt *o = own_opt(c, c->excl[g][k]);

			if (!o || !given[o - c->opts])
				continue;
			if (first)
				vu_usage_error("--%s or --%s, not both", first->name, o->name);
			first = o;
		}
	}
}

/* Options, sub-command and domain operand: usage errors exit here. */
static void parse(const struct vu_domcmd *c, struct vu_domrun *r, int argc, char **argv)
{
	static const struct vu_subcmd none = { NULL, 0, 0 };
	struct vu_subcmd subs[8];
	struct option o[OPTS_MAX];
	bool given[OPTS_MAX] = { false };
	const struct vu_subcmd *s;
	size_t n = 0;
	int opt;

	longopts(c, o);
	while ((opt = getopt_long(argc, argv, "nvqhV", o, NULL)) != -1) {
		const struct vu_domopt *own;

		if (vu_common_opt(opt, optarg))
			continue;
		if (opt == OPT_DOMAIN_XML) {
			r->xml = optarg;
		} else if (opt == OPT_TIMEOUT) {
			r->timeout_ms = vu_timeout_opt(optarg);
		} else if ((own = own_opt(c, opt))) {
			given[own - c->opts] = true;
			c->option(r, opt, optarg);
		} else if (opt == 'h') {
			c->usage();
		} else {
			vu_errtryhelp();
		}
	}
	for (; c->subs[n].name && n + 1 < VU_ARRAY_SIZE(subs); n++)
		subs[n] =
		    (struct vu_subcmd){ c->subs[n].name, 0, c->subs[n].takes == VU_DOMAIN_EITHER };
	subs[n] = none;
	s = optind < argc ? vu_subcommand_args(argc, argv, subs, NULL) : &subs[0];
	r->sub = &c->subs[s - subs];
	r->domain = vu_domain_operand(s->name, r->sub->takes, r->xml, argc, argv, c->with);
	check_opts(c, r->sub, given);
	vu_common_done();
}

/* The end of a run that took the lock: the state saved, or (SAVE false) left as it was. */
static int end(const struct vu_domcmd *c, struct vu_domrun *r, int status, bool save)
{
	if (save && vu_state_end(c->state, &r->recs, r->lock) < 0)
		status = VU_EXIT_FAIL;
	if (!save) {
		vu_state_unlock(r->lock);
		vu_records_free(&r->recs);
	}
	vu_domxml_free(&r->x);
	return vu_out_finish(r->doc, NULL, status);
}

int vu_domcmd_main(const struct vu_domcmd *c, void *ctx, int argc, char **argv)
{
	struct vu_domrun r = { .lock = -1, .timeout_ms = 20000, .ctx = ctx };
	int st;

	parse(c, &r, argc, argv);
	r.doc = vu_out_new(c->name, vu_opt_json);
	if (!r.sub->run) {
		if (c->status_state && vu_state_load(c->state, &r.recs) < 0 && !r.recs.damaged)
			st = VU_EXIT_FAIL;
		else
			st = c->status(&r);
		vu_records_free(&r.recs);
		return vu_out_finish(r.doc, c->status_text, st);
	}
	if (r.xml) {
		if (vu_domxml_read_named(r.xml, &r.x) < 0)
			return vu_out_finish(r.doc, NULL, VU_EXIT_FAIL);
		r.domain = r.x.name;
	}
	vu_rec_str(r.doc, "domain", r.domain);
	vu_state_key(r.domain, r.key);
	if (c->prepare && (st = c->prepare(&r)) != VU_DOMCMD_ON) {
		vu_domxml_free(&r.x);
		return vu_out_finish(r.doc, NULL, st);
	}
	r.lock = c->own_lock ? vu_state_begin_own(c->state, &r.recs, r.timeout_ms)
			     : vu_state_begin(c->state, &r.recs, r.timeout_ms);
	if (r.lock < 0 && !vu_dry_run) {
		vu_domxml_free(&r.x);
		return vu_out_finish(r.doc, NULL, VU_EXIT_FAIL);
	}
	if (r.recs.damaged && r.sub->damaged == VU_DAMAGED_REFUSE) {
		vu_state_say_damaged(c->state, c->fix);
		return end(c, &r, VU_EXIT_FAIL, false);
	}
	if (r.recs.damaged && r.sub->damaged == VU_DAMAGED_KEEP_ASIDE && !vu_dry_run)
		vu_state_keep_aside(c->state, &r.recs);
	if (c->locked && (st = c->locked(&r)) != VU_DOMCMD_ON)
		return end(c, &r, st, false);
	st = r.sub->run(&r);
	if (c->done)
		st = c->done(&r, st);
	return end(c, &r, st, true);
}
