/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the commands remember, in /run/vfio-utils: one file per concern, under one lock. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "state.h"
#include "sysfs.h"

#define STATE_HEADER "# vfio-utils state 1"

bool vu_state_valid_text(const char *s)
{
	if (!*s || strlen(s) >= VU_STATE_TEXT)
		return false;
	/* No space, '=' or control character: nothing can split or forge a record. */
	return strspn(s,
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:@+-\\") ==
	       strlen(s);
}

/* The state directory, created root-only; refused if it is a link or not ours. */
static int state_dir(char *path, size_t size, bool create)
{
	struct stat st;
	int err = vu_path(path, size, "/run/vfio-utils");

	if (err)
		return err;
	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0022))
		return -EPERM;
	return 0;
}

static int state_path(const char *name, char *path, size_t size, bool create)
{
	char dir[PATH_MAX];
	int err = state_dir(dir, sizeof(dir), create);

	if (err)
		return err;
	if ((size_t)snprintf(path, size, "%s/%s", dir, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int vu_state_lock(int timeout_ms)
{
	struct timespec pause = { 0, 10L * 1000 * 1000 };
	char path[PATH_MAX];
	int fd, err, waited = 0;

	err = state_path("lock", path, sizeof(path), true);
	if (err)
		return err;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || waited >= timeout_ms) {
			err = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			close(fd);
			return err;
		}
		nanosleep(&pause, NULL);
		waited += 10;
	}
	return fd;
}

void vu_state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

void vu_records_free(struct vu_records *recs)
{
	free(recs->v);
	recs->v = NULL;
	recs->n = 0;
}

struct vu_record *vu_records_find(const struct vu_records *recs, const char *key)
{
	for (size_t i = 0; i < recs->n; i++)
		if (strcmp(recs->v[i].key, key) == 0)
			return &recs->v[i];
	return NULL;
}

const char *vu_record_get(const struct vu_record *r, const char *name)
{
	for (int i = 0; i < r->nf; i++)
		if (strcmp(r->f[i].name, name) == 0)
			return r->f[i].value;
	return NULL;
}

static struct vu_record *add(struct vu_records *recs, const char *key)
{
	struct vu_record *r = vu_records_find(recs, key), *v;

	if (r) {
		r->nf = 0;
		return r;
	}
	v = realloc(recs->v, (recs->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	recs->v = v;
	r = &recs->v[recs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->key, sizeof(r->key), "%s", key);
	return r;
}

struct vu_record *vu_records_set(struct vu_records *recs, const char *key, ...)
{
	struct vu_record *r;
	const char *name, *value, *bad = NULL;
	va_list ap;

	/* Checked whole before anything changes: a record is all there, or not at all. */
	va_start(ap, key);
	bad = vu_state_valid_text(key) ? NULL : key;
	while (!bad && (name = va_arg(ap, const char *))) {
		value = va_arg(ap, const char *);
		if (!vu_state_valid_text(name) || (value && *value && !vu_state_valid_text(value)))
			bad = value && *value && vu_state_valid_text(name) ? value : name;
	}
	va_end(ap);
	if (bad) {
		vu_err("%s%s%s: cannot be remembered: only letters, digits and _.:@+-\\ can", key,
		       bad == key ? "" : ": ", bad == key ? "" : bad);
		return NULL;
	}
	if (!(r = add(recs, key))) {
		vu_errc(ENOMEM, "%s: cannot be remembered", key);
		return NULL;
	}
	va_start(ap, key);
	while ((name = va_arg(ap, const char *)) && r->nf < VU_STATE_FIELDS) {
		value = va_arg(ap, const char *);
		if (!value || !*value)
			value = "-";
		snprintf(r->f[r->nf].name, VU_STATE_TEXT, "%s", name);
		snprintf(r->f[r->nf].value, VU_STATE_TEXT, "%s", value);
		r->nf++;
	}
	va_end(ap);
	return r;
}

void vu_records_del(struct vu_records *recs, const char *key)
{
	struct vu_record *r = vu_records_find(recs, key);

	if (!r)
		return;
	memmove(r, r + 1, (size_t)(recs->v + recs->n - (r + 1)) * sizeof(*r));
	recs->n--;
}

/* "KEY name=value ..." into R; false when the line is not one we wrote. */
static bool parse_line(char *line, struct vu_record *r)
{
	char *save, *tok = strtok_r(line, " \t\n", &save);

	memset(r, 0, sizeof(*r));
	if (!tok || !vu_state_valid_text(tok))
		return false;
	snprintf(r->key, sizeof(r->key), "%s", tok);
	while ((tok = strtok_r(NULL, " \t\n", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq || r->nf == VU_STATE_FIELDS)
			return false;
		*eq = '\0';
		if (!vu_state_valid_text(tok) || !vu_state_valid_text(eq + 1))
			return false;
		snprintf(r->f[r->nf].name, VU_STATE_TEXT, "%s", tok);
		snprintf(r->f[r->nf].value, VU_STATE_TEXT, "%s", eq + 1);
		r->nf++;
	}
	return true;
}

int vu_state_parse(FILE *f, const char *shown, struct vu_records *out)
{
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, err = 0;
	bool header = false, end = false;

	out->v = NULL;
	out->n = 0;
	while (getline(&line, &cap, f) > 0) {
		struct vu_record r;

		lineno++;
		if (lineno == 1 && strncmp(line, STATE_HEADER, strlen(STATE_HEADER)) == 0) {
			header = true;
			continue;
		}
		/* Not a file we wrote: none of it is trusted. */
		if (!header)
			break;
		if (strcmp(line, "# end\n") == 0) {
			end = true;
			continue;
		}
		if (end || !parse_line(line, &r)) {
			if (!err)
				vu_warn("%s:%d: damaged state file: using what it can tell from "
					"the system",
					shown, lineno);
			err = -EBADMSG;
			continue;
		}
		if (!add(out, r.key)) {
			err = -ENOMEM;
			break;
		}
		*vu_records_find(out, r.key) = r;
	}
	if (!err && (!header || !end)) {
		vu_warn("%s: damaged state file (%s): using what it can tell from the system",
			shown, header ? "truncated" : "no header");
		err = -EBADMSG;
	}
	free(line);
	return err;
}

int vu_state_read(const char *name, struct vu_records *out)
{
	char path[PATH_MAX];
	int fd, err;
	FILE *f;

	out->v = NULL;
	out->n = 0;
	if ((err = state_path(name, path, sizeof(path), false)) == -ENOENT)
		return 0; /* nothing remembered yet */
	if (err < 0)
		return err;
	/* Only root can make links in the directory; still, a link is not ours. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!(f = fdopen(fd, "r"))) {
		err = -errno;
		close(fd);
		return err;
	}
	err = vu_state_parse(f, vu_unrooted(path), out);
	fclose(f);
	return err;
}

void vu_state_format(FILE *f, const char *name, const struct vu_records *recs)
{
	fprintf(f, "%s %s\n", STATE_HEADER, name);
	for (size_t i = 0; i < recs->n; i++) {
		fputs(recs->v[i].key, f);
		for (int k = 0; k < recs->v[i].nf; k++)
			fprintf(f, " %s=%s", recs->v[i].f[k].name, recs->v[i].f[k].value);
		fputc('\n', f);
	}
	fputs("# end\n", f);
}

int vu_state_write(const char *name, const struct vu_records *recs)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd, err = 0;
	FILE *f;

	if ((err = state_path(name, path, sizeof(path), true)) < 0)
		return err;
	if (recs->n == 0)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	vu_state_format(f, name, recs);
	/* On disk before the rename: a crash leaves the old file or the new one, never half. */
	if (fflush(f) != 0 || fsync(fd) != 0)
		err = -errno;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int vu_state_begin(const char *name, struct vu_records *recs, int timeout_ms, bool dry)
{
	int fd = -1, err;

	recs->v = NULL;
	recs->n = 0;
	if (!dry) {
		fd = vu_state_lock(timeout_ms);
		if (fd == -ETIMEDOUT) {
			vu_err(
			    "/run/vfio-utils/lock: another vfio-utils command has held it for %d s",
			    timeout_ms / 1000);
			return fd;
		}
		if (fd < 0) {
			vu_errc(fd, "/run/vfio-utils: cannot take the lock");
			return fd;
		}
	}
	/* A damaged file was reported; what it still holds is used. One that cannot be
	 * read at all (a link, no permission) leaves nothing to go on: an error. */
	err = vu_state_read(name, recs);
	if (err < 0 && err != -EBADMSG) {
		vu_errc(err, "/run/vfio-utils/%s: cannot read", name);
		vu_records_free(recs);
		vu_state_unlock(fd);
		return err;
	}
	return fd;
}

int vu_state_save(const char *name, const struct vu_records *recs, bool dry)
{
	int err;

	if (dry)
		return 0;
	if ((err = vu_state_write(name, recs)) < 0)
		vu_errc(err, "/run/vfio-utils/%s: cannot save what was changed", name);
	return err;
}

int vu_state_end(const char *name, struct vu_records *recs, int lock, bool dry)
{
	int err = vu_state_save(name, recs, dry);

	vu_state_unlock(lock);
	vu_records_free(recs);
	return err;
}
