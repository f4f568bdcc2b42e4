/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vtcon: unbind and rebind the framebuffer consoles, found by name, never by index. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include "act.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "state.h"
#include "sysfs.h"

enum {
	OPT_TIMEOUT = VU_OPT_CMD,
};

#define STATE "vtcon"

struct console {
	char id[16];	/* vtcon1: changes when consoles come and go */
	char name[160]; /* "frame buffer device", without the kind */
	char key[VU_STATE_TEXT];
	bool system; /* (S): the kernel never unbinds it */
	bool bound;
};

static noreturn void usage(void)
{
	fputs("Usage: vtcon [options] [list|unbind|bind]\n"
	      "\n"
	      "List the kernel's virtual terminal consoles, unbind the framebuffer ones\n"
	      "(remembering which) before a GPU goes to a VM, and bind them again after.\n"
	      "Consoles are found by name: vtcon1 is not always the framebuffer console.\n"
	      "\n"
	      "Commands:\n"
	      "  list                   index, bound, (S)ystem or (M)odular, name (the default)\n"
	      "  unbind                 unbind every bound (M) console and remember it\n"
	      "  bind                   bind again the consoles unbind remembered\n"
	      "\n"
	      "Options:\n"
	      "  -a, --all              bind: every (M) console, remembered or not\n"
	      "      --timeout SECONDS  give up on a write the kernel does not finish (20)\n"
	      "  -n, --dry-run          print the commands that would do it, change nothing\n"
	      "      --json             list as JSON\n" VU_USAGE_COMMON "\n"
	      "Exit status: 0 done (or nothing to do), 1 a console did not change, 2 usage error.\n"
	      "See vtcon(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

/* The name as a state key: "frame buffer device" -> "frame_buffer_device". */
static void name_key(const char *name, char *key, size_t size)
{
	size_t i;

	for (i = 0; i < size - 1 && name[i]; i++)
		key[i] = (char)(vu_state_valid_text((char[]){ name[i], '\0' }) ? name[i] : '_');
	key[i] = '\0';
}

static int read_console(const char *id, struct console *c)
{
	char path[PATH_MAX], name[160];
	unsigned long bound;
	int err;

	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	if ((err = vu_path(path, sizeof(path), "/sys/class/vtconsole/%s/name", id)) < 0 ||
	    (err = vu_read(path, name, sizeof(name))) < 0) {
		vu_errc(err, "%s: cannot read", path);
		return err;
	}
	if ((err = vu_path(path, sizeof(path), "/sys/class/vtconsole/%s/bind", id)) < 0 ||
	    (err = vu_read_ulong(path, &bound)) < 0) {
		vu_errc(err, "%s: cannot read", path);
		return err;
	}
	/* "(S) dummy device", "(M) frame buffer device" */
	c->system = strncmp(name, "(S)", 3) == 0;
	snprintf(c->name, sizeof(c->name), "%s",
		 name[0] == '(' && name[3] == ' ' ? name + 4 : name);
	name_key(c->name, c->key, sizeof(c->key));
	c->bound = bound != 0;
	return 0;
}

/* Every console; none at all (no vtconsole class) is not an error. */
static int read_consoles(struct console **out, size_t *n)
{
	struct vu_names ids;
	char path[PATH_MAX];
	int err;

	*out = NULL;
	*n = 0;
	if ((err = vu_path(path, sizeof(path), "/sys/class/vtconsole")) < 0)
		return err;
	if ((err = vu_listdir(path, &ids)) == -ENOENT)
		return 0;
	if (err < 0) {
		vu_errc(err, "%s: cannot list", path);
		return err;
	}
	*out = calloc(ids.n + 1, sizeof(**out));
	for (size_t i = 0; *out && i < ids.n && !err; i++)
		if ((err = read_console(ids.v[i], &(*out)[*n])) == 0)
			(*n)++;
	vu_names_free(&ids);
	return *out ? err : -ENOMEM;
}

/* C as a console of the schema, with what became of it when there is a RESULT. */
static void console_rec(struct vu_list *l, const struct console *c, const char *result)
{
	struct vu_rec *r = vu_list_obj(l);

	vu_rec_str(r, "name", c->id);
	vu_rec_int(r, "index", strtol(c->id + strlen("vtcon"), NULL, 10));
	vu_rec_bool(r, "bound", c->bound);
	vu_rec_bool(r, "system", c->system);
	vu_rec_str(r, "description", c->name);
	if (result)
		vu_rec_str(r, "result", result);
}

static void list_text(const struct vu_rec *doc)
{
	const struct vu_list *l = vu_rec_l(doc, "consoles");

	for (size_t i = 0; i < vu_list_len(l); i++) {
		const struct vu_rec *r = vu_list_rec(l, i);

		printf("%-8s %-7s %s %s\n", vu_rec_s(r, "name"),
		       vu_rec_b(r, "bound") ? "bound" : "unbound",
		       vu_rec_b(r, "system") ? "(S)" : "(M)", vu_rec_s(r, "description"));
	}
}

static void list(const struct console *c, size_t n, struct vu_list *out)
{
	for (size_t i = 0; i < n; i++)
		console_rec(out, &c[i], NULL);
	if (n == 0)
		vu_warn("no virtual terminal consoles (no /sys/class/vtconsole)");
}

/* What a change came to, for the report. */
static const char *outcome(int err, bool bind)
{
	return err < 0 ? "failed" : vu_dry_run ? "planned" : bind ? "bound" : "unbound";
}

/* Write BIND and read it back: the kernel reports success whether or not it changed. */
static int set_bind(struct console *c, bool bind, int timeout_ms)
{
	char path[PATH_MAX];
	unsigned long now;
	int err;

	if ((err = vu_path(path, sizeof(path), "/sys/class/vtconsole/%s/bind", c->id)) < 0)
		return err;
	/* fbcon takes the console lock, which a wedged GPU driver can hold: a deadline. */
	if ((err = vu_act_write_timeout(path, bind ? "1" : "0", timeout_ms)) == -ETIMEDOUT) {
		vu_err(
		    "%s (%s): the kernel did not finish the write to bind in %d s: left to it, still remembered",
		    c->id, c->name, timeout_ms / 1000);
		return err;
	}
	if (err < 0) {
		vu_errc(err, "%s (%s): cannot write bind", c->id, c->name);
		return err;
	}
	if (vu_dry_run)
		return 0;
	if ((err = vu_read_ulong(path, &now)) < 0) {
		vu_errc(err, "%s: cannot read", path);
		return err;
	}
	if ((now != 0) != bind) {
		vu_err("%s (%s): still %s after writing %d: the kernel ignored it", c->id, c->name,
		       now ? "bound" : "unbound", bind);
		return -EIO;
	}
	c->bound = bind;
	vu_report("%s (%s): %s", c->id, c->name, bind ? "bound" : "unbound");
	return 0;
}

static int unbind(struct console *c, size_t n, struct vu_records *recs, int timeout_ms,
		  struct vu_list *out)
{
	int status = VU_EXIT_OK, err;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (c[i].system || !c[i].bound)
			continue;
		any = true;
		/*
		 * Remembered first, on disk: killed during the write, the console
		 * still comes back with bind. An existing record (an earlier
		 * unbind) stays.
		 */
		if ((!vu_records_find(recs, c[i].key) &&
		     !vu_records_set(recs, c[i].key, "was", c[i].id, (char *)NULL)) ||
		    vu_state_save(STATE, recs) < 0) {
			console_rec(out, &c[i], "failed");
			status = VU_EXIT_FAIL;
			continue;
		}
		if ((err = set_bind(&c[i], false, timeout_ms)) < 0) {
			/* Still at it in the kernel, it may yet unbind: bind brings it back. */
			if (err != -ETIMEDOUT)
				vu_records_del(recs, c[i].key);
			status = VU_EXIT_FAIL;
		}
		console_rec(out, &c[i], outcome(err, false));
	}
	if (!any)
		vu_report("no bound framebuffer console: nothing to unbind");
	return status;
}

static int bind(struct console *c, size_t n, struct vu_records *recs, bool all, int timeout_ms,
		struct vu_list *out)
{
	int status = VU_EXIT_OK;

	if (recs->n == 0 && !all)
		vu_report("no console remembered: nothing to bind");
	for (size_t i = recs->n; i-- > 0;) {
		struct vu_rec *r;
		bool found = false;

		for (size_t k = 0; k < n; k++)
			found = found || strcmp(c[k].key, recs->v[i].key) == 0;
		if (found)
			continue;
		/* fbcon's console goes with the last framebuffer; the next brings it back bound. */
		vu_report("%s: no such console now: it comes back, bound, with a framebuffer",
			  recs->v[i].key);
		r = vu_list_obj(out);
		vu_rec_null(r, "name");
		vu_rec_str(r, "description", recs->v[i].key);
		vu_rec_str(r, "result", "gone");
		vu_records_del(recs, recs->v[i].key);
	}
	for (size_t i = 0; i < n; i++) {
		bool was_bound = c[i].bound;
		int err = 0;

		if (c[i].system || (!vu_records_find(recs, c[i].key) && !all))
			continue;
		if (c[i].bound)
			vu_report("%s (%s): already bound", c[i].id, c[i].name);
		else if ((err = set_bind(&c[i], true, timeout_ms)) < 0)
			status = VU_EXIT_FAIL;
		console_rec(out, &c[i], was_bound ? "already bound" : outcome(err, true));
		if (err == 0)
			vu_records_del(recs, c[i].key);
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct vu_records recs = { 0 };
	struct vu_list *consoles;
	struct vu_rec *doc;
	const char *what;
	bool all = false;
	struct console *c;
	size_t n;
	int opt, status, lock, timeout_ms = 20000;

	while ((opt = getopt_long(argc, argv, "anvqhV", longopts, NULL)) != -1) {
		if (vu_common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'a':
			all = true;
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
	what = vu_subcommand(argc, argv, (const char *const[]){ "list", "unbind", "bind", NULL });
	if (all && strcmp(what, "bind") != 0)
		vu_usage_error("--all goes with bind");
	vu_common_done();

	doc = vu_out_new("vtcon", vu_opt_json);
	consoles = vu_rec_list(doc, "consoles");
	if (strcmp(what, "list") == 0) {
		if (read_consoles(&c, &n) < 0)
			return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
		list(c, n, consoles);
		free(c);
		return vu_out_finish(doc, list_text, VU_EXIT_OK);
	}
	/* Its own lock: a console's unbind may wait in the kernel, the shared one never does. */
	lock = vu_state_begin_own(STATE, &recs, timeout_ms);
	if (lock < 0 && !vu_dry_run)
		return vu_out_finish(doc, NULL, VU_EXIT_FAIL);
	/* Unbinding would write over it; binding keeps it aside and binds every console. */
	if (recs.damaged && strcmp(what, "unbind") == 0)
		return vu_out_finish(doc, NULL,
				     vu_state_refuse_damaged(STATE, &recs, lock, "vtcon bind"));
	status = VU_EXIT_OK;
	if (recs.damaged) {
		if (!vu_dry_run)
			vu_state_keep_aside(STATE, &recs);
		all = true;
		status = VU_EXIT_FAIL;
	}
	/* Read under the lock: another run may change them while this one waits. */
	if (read_consoles(&c, &n) < 0) {
		status = VU_EXIT_FAIL;
		c = NULL;
	} else if (strcmp(what, "unbind") == 0) {
		status = unbind(c, n, &recs, timeout_ms, consoles);
	} else if (bind(c, n, &recs, all, timeout_ms, consoles) != VU_EXIT_OK) {
		status = VU_EXIT_FAIL;
	}
	if (vu_state_end(STATE, &recs, lock) < 0)
		status = VU_EXIT_FAIL;
	free(c);
	return vu_out_finish(doc, NULL, status);
}
