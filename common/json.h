/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small streaming JSON writer for --json output. */
#ifndef VU_JSON_H
#define VU_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define VU_JSON_DEPTH 16

struct vu_json {
	FILE *f;
	int depth;
	bool first[VU_JSON_DEPTH];
	char close[VU_JSON_DEPTH];
};

void vu_json_init(struct vu_json *j, FILE *f);
/* KEY is NULL inside arrays and for the top level. */
void vu_json_obj(struct vu_json *j, const char *key);
void vu_json_arr(struct vu_json *j, const char *key);
/* Close the innermost object or array; the top level ends with a newline. */
void vu_json_end(struct vu_json *j);
/* A NULL string is written as null. */
void vu_json_str(struct vu_json *j, const char *key, const char *val);
void vu_json_int(struct vu_json *j, const char *key, long long val);
void vu_json_bool(struct vu_json *j, const char *key, bool val);
void vu_json_null(struct vu_json *j, const char *key);

#endif
