/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-boot's files: written whole, put back as they were, and the generators that read them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act.h"
#include "boot.h"
#include "msg.h"
#include "run.h"
#include "sysfs.h"

int saved_take(struct saved *s, const char *rooted)
{
	struct stat st;
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", rooted);
	if (!(f = fopen(rooted, "re"))) {
		if (errno == ENOENT)
			return 0;
		vu_errc(errno, "%s: cannot read", vu_unrooted(rooted));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20) ||
	    !(s->text = malloc((size_t)st.st_size + 1)) ||
	    fread(s->text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		vu_err("%s: cannot read it whole (not a regular file of at most 1 MiB?)",
		       vu_unrooted(rooted));
		fclose(f);
		saved_free(s);
		return -1;
	}
	s->len = (size_t)st.st_size;
	s->text[s->len] = '\0';
	s->mode = st.st_mode & 07777;
	fclose(f);
	return 0;
}

int file_remove(const char *rooted)
{
	char tmp[PATH_MAX + 8];

	/* with what a run killed while writing it left */
	snprintf(tmp, sizeof(tmp), "%s.new", rooted);
	unlink(tmp);
	if (unlink(rooted) < 0 && errno != ENOENT) {
		vu_errc(errno, "%s: cannot remove", vu_unrooted(rooted));
		return -1;
	}
	return 0;
}

int saved_restore(const struct saved *s)
{
	return s->text ? file_write(s->path, s->text, s->mode) : file_remove(s->path);
}

void saved_free(struct saved *s)
{
	free(s->text);
	s->text = NULL;
}

int file_write(const char *rooted, const char *text, unsigned mode)
{
	int err = vu_file_write_text(rooted, (mode_t)mode, text);

	if (err < 0)
		vu_errc(err, "%s: cannot write", vu_unrooted(rooted));
	return err < 0 ? -1 : 0;
}

int gen_run(char *const argv[])
{
	char line[1024];
	size_t len = 0;
	int st;

	for (size_t i = 0; argv[i] && len < sizeof(line); i++) {
		char w[512];

		vu_shell_word(w, sizeof(w), argv[i]);
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? " " : "", w);
	}
	vu_act_command("%s", line);
	if (vu_dry_run)
		return 0;
	st = vu_run(argv, NULL, 0, BOOT_GEN_MS);
	if (st == 0)
		return 0;
	if (st > 0)
		vu_err("%s: failed (exit status %d)", argv[0], st);
	return -1;
}
