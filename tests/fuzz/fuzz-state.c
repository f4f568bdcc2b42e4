/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State files as found in /run/vfio-utils, damaged or forged: what the reader
 * keeps is only what the writer could have written, and writing it back then
 * reading it again gives the same records, undamaged.
 */
#include <errno.h>

#include "fuzz.h"
#include "msg.h"
#include "state.h"

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every text of the alphabet, no key twice (sorted, so that a big file costs n log n here). */
static void check_valid(const struct vu_records *r)
{
	const char **keys = calloc(r->n + 1, sizeof(*keys));

	CHECK(keys);
	for (size_t i = 0; i < r->n; i++) {
		CHECK(vu_state_valid_text(r->v[i].key));
		CHECK(r->v[i].nf >= 0 && r->v[i].nf <= VU_STATE_FIELDS);
		for (int k = 0; k < r->v[i].nf; k++)
			CHECK(vu_state_valid_text(r->v[i].f[k].name) &&
			      vu_state_valid_text(r->v[i].f[k].value));
		keys[i] = r->v[i].key;
	}
	qsort(keys, r->n, sizeof(*keys), by_key);
	for (size_t i = 1; i < r->n; i++)
		CHECK(strcmp(keys[i - 1], keys[i]) != 0);
	free(keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_records first, again;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	vu_verbosity = VU_QUIET;
	if (size == 0 || !(f = fmemopen((void *)data, size, "r")))
		return 0;
	err = vu_state_parse(f, "fuzz", &first);
	fclose(f);
	CHECK(err == 0 || err == -EBADMSG || err == -ENOMEM);
	check_valid(&first);

	f = open_memstream(&text, &len);
	CHECK(f);
	vu_state_format(f, "fuzz", &first);
	fclose(f);
	f = fmemopen(text, len, "r");
	CHECK(f);
	CHECK(vu_state_parse(f, "fuzz", &again) == 0);
	fclose(f);
	CHECK(again.n == first.n);
	for (size_t i = 0; i < first.n; i++) {
		CHECK(strcmp(first.v[i].key, again.v[i].key) == 0);
		CHECK(first.v[i].nf == again.v[i].nf);
		for (int k = 0; k < first.v[i].nf; k++)
			CHECK(strcmp(first.v[i].f[k].name, again.v[i].f[k].name) == 0 &&
			      strcmp(first.v[i].f[k].value, again.v[i].f[k].value) == 0);
	}
	vu_records_free(&first);
	vu_records_free(&again);
	free(text);
	return 0;
}
