/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small streaming JSON writer for --json output. */
#include "json.h"
#include "msg.h"

void vu_json_init(struct vu_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
}

/*
 * A JSON string: valid UTF-8 whatever S holds (a process name, a mount
 * point); a byte that is not UTF-8 reads as the text \xNN, as in the
 * commands' text output.
 */
static void quoted(FILE *f, const char *s)
{
	fputc('"', f);
	while (*s) {
		unsigned cp;
		size_t n = vu_utf8_char(s, &cp);

		if (!n)
			fprintf(f, "\\\\x%02x", (unsigned char)*s);
		else if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (char)cp);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			fprintf(f, "\\u%04x", cp);
		else
			fwrite(s, 1, n, f);
		s += n ? n : 1;
	}
	fputc('"', f);
}

static void member(struct vu_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (key) {
		quoted(j->f, key);
		fputc(':', j->f);
	}
}

static void begin(struct vu_json *j, const char *key, char open, char close)
{
	member(j, key);
	fputc(open, j->f);
	if (j->depth < VU_JSON_DEPTH - 1) {
		j->depth++;
		j->first[j->depth] = true;
		j->close[j->depth] = close;
	}
}

void vu_json_obj(struct vu_json *j, const char *key)
{
	begin(j, key, '{', '}');
}

void vu_json_arr(struct vu_json *j, const char *key)
{
	begin(j, key, '[', ']');
}

void vu_json_end(struct vu_json *j)
{
	if (j->depth == 0)
		return;
	fputc(j->close[j->depth--], j->f);
	if (j->depth == 0) {
		fputc('\n', j->f);
		j->first[0] = true;
	}
}

void vu_json_str(struct vu_json *j, const char *key, const char *val)
{
	member(j, key);
	if (val)
		quoted(j->f, val);
	else
		fputs("null", j->f);
}

void vu_json_int(struct vu_json *j, const char *key, long long val)
{
	member(j, key);
	fprintf(j->f, "%lld", val);
}

void vu_json_bool(struct vu_json *j, const char *key, bool val)
{
	member(j, key);
	fputs(val ? "true" : "false", j->f);
}

void vu_json_null(struct vu_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}
