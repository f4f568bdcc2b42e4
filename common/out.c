/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Records filled by a command, printed as its text or as JSON. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "json.h"
#include "out.h"

enum kind { V_NULL, V_STR, V_INT, V_BOOL, V_REC, V_LIST };

struct val {
	enum kind kind;
	union {
		char *s;
		long long i;
		bool b;
		struct vu_rec *rec;
		struct vu_list *list;
	};
};

struct field {
	char *key;
	struct val v;
};

struct vu_rec {
	size_t n, cap;
	struct field *f;
};

struct vu_list {
	size_t n, cap;
	struct val *v;
};

/* An allocation failed somewhere: the report is incomplete. */
static bool nomem;

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t cap2 = *cap ? *cap * 2 : 8;

	if (n < *cap)
		return v;
	if (!(p = realloc(v, cap2 * size))) {
		nomem = true;
		return NULL;
	}
	*cap = cap2;
	return p;
}

static void val_free(struct val *v)
{
	if (v->kind == V_STR)
		free(v->s);
	else if (v->kind == V_REC)
		vu_rec_free(v->rec);
	else if (v->kind == V_LIST) {
		for (size_t i = 0; i < v->list->n; i++)
			val_free(&v->list->v[i]);
		free(v->list->v);
		free(v->list);
	}
	v->kind = V_NULL;
}

struct vu_rec *vu_rec_new(void)
{
	struct vu_rec *r = calloc(1, sizeof(*r));

	nomem = nomem || !r;
	return r;
}

void vu_rec_free(struct vu_rec *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->f[i].key);
		val_free(&r->f[i].v);
	}
	free(r->f);
	free(r);
}

/* KEY's value in R, emptied, or a new one at the end; NULL without memory. */
static struct val *slot(struct vu_rec *r, const char *key)
{
	struct field *f;

	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->f[i].key, key) == 0) {
			val_free(&r->f[i].v);
			return &r->f[i].v;
		}
	if (!(f = grow(r->f, &r->cap, r->n, sizeof(*f))))
		return NULL;
	r->f = f;
	if (!(f[r->n].key = strdup(key))) {
		nomem = true;
		return NULL;
	}
	f[r->n].v.kind = V_NULL;
	return &f[r->n++].v;
}

static void set_str(struct val *v, const char *s)
{
	if (!v || !s)
		return;
	if (!(v->s = strdup(s))) {
		nomem = true;
		return;
	}
	v->kind = V_STR;
}

void vu_rec_str(struct vu_rec *r, const char *key, const char *val)
{
	set_str(slot(r, key), val);
}

void vu_rec_strf(struct vu_rec *r, const char *key, const char *fmt, ...)
{
	struct val *v;
	char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		nomem = true;
		return;
	}
	/* The formatted string is the value: no copy. */
	if (!(v = slot(r, key))) {
		free(s);
		return;
	}
	*v = (struct val){ .kind = V_STR, .s = s };
}

void vu_rec_int(struct vu_rec *r, const char *key, long long val)
{
	struct val *v = slot(r, key);

	if (v)
		*v = (struct val){ .kind = V_INT, .i = val };
}

void vu_rec_bool(struct vu_rec *r, const char *key, bool val)
{
	struct val *v = slot(r, key);

	if (v)
		*v = (struct val){ .kind = V_BOOL, .b = val };
}

void vu_rec_null(struct vu_rec *r, const char *key)
{
	slot(r, key);
}

struct vu_rec *vu_rec_obj(struct vu_rec *r, const char *key)
{
	struct val *v = slot(r, key);
	struct vu_rec *c;

	if (!v || !(c = vu_rec_new()))
		return NULL;
	*v = (struct val){ .kind = V_REC, .rec = c };
	return c;
}

static struct vu_list *new_list(void)
{
	struct vu_list *l = calloc(1, sizeof(*l));

	nomem = nomem || !l;
	return l;
}

struct vu_list *vu_rec_list(struct vu_rec *r, const char *key)
{
	struct val *v = slot(r, key);
	struct vu_list *l;

	if (!v || !(l = new_list()))
		return NULL;
	*v = (struct val){ .kind = V_LIST, .list = l };
	return l;
}

static struct val *append(struct vu_list *l)
{
	struct val *v;

	if (!l || !(v = grow(l->v, &l->cap, l->n, sizeof(*v))))
		return NULL;
	l->v = v;
	v[l->n].kind = V_NULL;
	return &v[l->n++];
}

struct vu_rec *vu_list_obj(struct vu_list *l)
{
	struct val *v = append(l);
	struct vu_rec *c;

	if (!v || !(c = vu_rec_new()))
		return NULL;
	*v = (struct val){ .kind = V_REC, .rec = c };
	return c;
}

void vu_list_str(struct vu_list *l, const char *s)
{
	set_str(append(l), s);
}

static const struct val *get(const struct vu_rec *r, const char *key, enum kind kind)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return r->f[i].v.kind == kind ? &r->f[i].v : NULL;
	return NULL;
}

bool vu_rec_has(const struct vu_rec *r, const char *key)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return r->f[i].v.kind != V_NULL;
	return false;
}

const char *vu_rec_s(const struct vu_rec *r, const char *key)
{
	const struct val *v = get(r, key, V_STR);

	return v ? v->s : NULL;
}

long long vu_rec_i(const struct vu_rec *r, const char *key)
{
	const struct val *v = get(r, key, V_INT);

	return v ? v->i : 0;
}

bool vu_rec_b(const struct vu_rec *r, const char *key)
{
	const struct val *v = get(r, key, V_BOOL);

	return v && v->b;
}

const struct vu_rec *vu_rec_o(const struct vu_rec *r, const char *key)
{
	const struct val *v = get(r, key, V_REC);

	return v ? v->rec : NULL;
}

const struct vu_list *vu_rec_l(const struct vu_rec *r, const char *key)
{
	const struct val *v = get(r, key, V_LIST);

	return v ? v->list : NULL;
}

size_t vu_list_len(const struct vu_list *l)
{
	return l ? l->n : 0;
}

const struct vu_rec *vu_list_rec(const struct vu_list *l, size_t i)
{
	return l && i < l->n && l->v[i].kind == V_REC ? l->v[i].rec : NULL;
}

const char *vu_list_s(const struct vu_list *l, size_t i)
{
	return l && i < l->n && l->v[i].kind == V_STR ? l->v[i].s : NULL;
}

static void write_rec(struct vu_json *j, const char *key, const struct vu_rec *r);

static void write_val(struct vu_json *j, const char *key, const struct val *v)
{
	switch (v->kind) {
	case V_NULL:
		vu_json_null(j, key);
		break;
	case V_STR:
		vu_json_str(j, key, v->s);
		break;
	case V_INT:
		vu_json_int(j, key, v->i);
		break;
	case V_BOOL:
		vu_json_bool(j, key, v->b);
		break;
	case V_REC:
		write_rec(j, key, v->rec);
		break;
	case V_LIST:
		vu_json_arr(j, key);
		for (size_t i = 0; i < v->list->n; i++)
			write_val(j, NULL, &v->list->v[i]);
		vu_json_end(j);
		break;
	}
}

static void write_rec(struct vu_json *j, const char *key, const struct vu_rec *r)
{
	vu_json_obj(j, key);
	for (size_t i = 0; i < r->n; i++)
		write_val(j, r->f[i].key, &r->f[i].v);
	vu_json_end(j);
}

void vu_rec_json(FILE *f, const struct vu_rec *r)
{
	struct vu_json j;

	vu_json_init(&j, f);
	write_rec(&j, NULL, r);
}

/* The run's document, while there is one with JSON: what msg and act add to. */
static struct {
	struct vu_list *errors, *warnings, *plan;
	bool json;
} run;

static void on_message(bool error, const char *line)
{
	vu_list_str(error ? run.errors : run.warnings, line);
}

static void on_plan(const char *line)
{
	vu_list_str(run.plan, line);
}

static void free_list(struct vu_list *l)
{
	struct val v = { .kind = V_LIST, .list = l };

	if (l)
		val_free(&v);
}

struct vu_rec *vu_out_new(const char *command, bool json)
{
	struct vu_rec *doc = vu_rec_new();

	vu_rec_int(doc, "schema", VU_SCHEMA_VERSION);
	vu_rec_str(doc, "command", command);
	run.json = json;
	if (json) {
		run.errors = new_list();
		run.warnings = new_list();
		run.plan = new_list();
		vu_json_mode = true;
		vu_msg_hook = on_message;
		vu_act_plan_hook = on_plan;
	}
	return doc;
}

/* Move list L into DOC under KEY. */
static void adopt(struct vu_rec *doc, const char *key, struct vu_list *l)
{
	struct val *v;

	if (!l)
		return;
	if (!(v = slot(doc, key))) {
		free_list(l);
		return;
	}
	*v = (struct val){ .kind = V_LIST, .list = l };
}

void vu_out_print(const struct vu_rec *doc, void (*text)(const struct vu_rec *doc))
{
	/* a text with holes would pass for the whole one */
	if (!run.json && text && doc && !nomem)
		text(doc);
}

int vu_out_finish(struct vu_rec *doc, void (*text)(const struct vu_rec *doc), int status)
{
	vu_msg_hook = NULL;
	vu_act_plan_hook = NULL;
	if (nomem || !doc) {
		vu_err("out of memory: the report is incomplete");
		status = VU_EXIT_FAIL;
	}
	if (run.json) {
		if (vu_dry_run)
			adopt(doc, "plan", run.plan);
		else
			free_list(run.plan);
		adopt(doc, "errors", run.errors);
		adopt(doc, "warnings", run.warnings);
		vu_rec_bool(doc, "ok", status == VU_EXIT_OK);
		if (doc)
			vu_rec_json(stdout, doc);
	} else {
		vu_out_print(doc, text);
	}
	run.errors = run.warnings = run.plan = NULL;
	vu_rec_free(doc);
	return status;
}
