/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a command reports, filled once and printed once: as its text by the
 * command's own printer, which reads the records back, or as JSON by one
 * printer for the whole suite (the schema in vfio-utils(7)).
 *
 * A record holds keys in the order they were set, each a string, an integer,
 * a boolean, null, a record or a list. A list holds records or strings.
 * Allocation failures are remembered, not returned: vu_out_finish reports
 * them once and fails.
 */
#ifndef VU_OUT_H
#define VU_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "msg.h"

/* Bumped when a key changes meaning or type or goes away; new keys keep it. */
#define VU_SCHEMA_VERSION 1

struct vu_rec;
struct vu_list;

/* An empty record, NULL without memory. */
struct vu_rec *vu_rec_new(void);
void vu_rec_free(struct vu_rec *r);

/* Set KEY in R (R NULL: nothing); a NULL string is null. */
void vu_rec_str(struct vu_rec *r, const char *key, const char *val);
void vu_rec_strf(struct vu_rec *r, const char *key, const char *fmt, ...) VU_PRINTF(3, 4);
void vu_rec_int(struct vu_rec *r, const char *key, long long val);
void vu_rec_bool(struct vu_rec *r, const char *key, bool val);
void vu_rec_null(struct vu_rec *r, const char *key);
/* A new record or list under KEY, to fill; NULL without memory. */
struct vu_rec *vu_rec_obj(struct vu_rec *r, const char *key);
struct vu_list *vu_rec_list(struct vu_rec *r, const char *key);

/* Append to L: a new record to fill, or a copy of S. */
struct vu_rec *vu_list_obj(struct vu_list *l);
void vu_list_str(struct vu_list *l, const char *s);

/* Read back, for text printers: NULL, 0 or false where KEY is not of that type. */
/* KEY is in R and not null. */
bool vu_rec_has(const struct vu_rec *r, const char *key);
const char *vu_rec_s(const struct vu_rec *r, const char *key);
long long vu_rec_i(const struct vu_rec *r, const char *key);
bool vu_rec_b(const struct vu_rec *r, const char *key);
const struct vu_rec *vu_rec_o(const struct vu_rec *r, const char *key);
const struct vu_list *vu_rec_l(const struct vu_rec *r, const char *key);
size_t vu_list_len(const struct vu_list *l);
/* Item I of L, NULL where it is not a record (or not a string). */
const struct vu_rec *vu_list_rec(const struct vu_list *l, size_t i);
const char *vu_list_s(const struct vu_list *l, size_t i);

/* R as one line of JSON on F. */
void vu_rec_json(FILE *f, const struct vu_rec *r);

/*
 * The document of one run of COMMAND: {"schema":1,"command":COMMAND}. With
 * JSON, vu_report prints nothing (stdout is the document's), and errors,
 * warnings and the lines a dry run would print go into the document's
 * "errors", "warnings" and "plan" (errors and warnings still reach stderr).
 */
struct vu_rec *vu_out_new(const char *command, bool json);
/*
 * Print DOC and free it; STATUS is the exit status, returned. With JSON:
 * DOC with "plan" (dry run), "errors", "warnings" and "ok" added. Without:
 * TEXT(DOC), when there is a TEXT and DOC is whole (no allocation failed).
 */
int vu_out_finish(struct vu_rec *doc, void (*text)(const struct vu_rec *doc), int status);
/*
 * Without JSON, TEXT(DOC) now, as vu_out_finish would: for a command whose
 * last errors follow its report (then vu_out_finish with no TEXT). With
 * JSON, nothing.
 */
void vu_out_print(const struct vu_rec *doc, void (*text)(const struct vu_rec *doc));

#endif
