/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the commands remember, in /run/vfio-utils: one file per concern, under one lock. */
#include <ctype.h>
#include <dirent.h>
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

#include "act.h"
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

/*
 * NAME.new that a save killed before its rename left behind: under the lock
 * no save is under way, so each is stale.
 */
static void remove_stale(const char *lock)
{
	char dir[PATH_MAX], *slash;
	struct dirent *e;
	DIR *d;
	int dfd;

	snprintf(dir, sizeof(dir), "%s", lock);
	if (!(slash = strrchr(dir, '/')))
		return;
	*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return;
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".new") == 0)
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

/* The shared lock's fd while this process holds it: a save needs it, and takes it if not. */
static int shared_fd = -1;

int vu_state_lock(int timeout_ms)
{
	int fd = vu_state_lock_named("lock", timeout_ms);

	if (fd >= 0)
		shared_fd = fd;
	return fd;
}

int vu_state_lock_named(const char *name, int timeout_ms)
{
	struct timespec pause = { 0, 10L * 1000 * 1000 };
	char path[PATH_MAX];
	struct stat st;
	int fd, err, waited = 0;

	err = state_path(name, path, sizeof(path), true);
	if (err)
		return err;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EPERM;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || waited >= timeout_ms) {
			err = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			close(fd);
			return err;
		}
		nanosleep(&pause, NULL);
		waited += 10;
	}
	if (strcmp(name, "lock") == 0)
		remove_stale(path);
	return fd;
}

void vu_state_unlock(int fd)
{
	if (fd >= 0 && fd == shared_fd)
		shared_fd = -1;
	if (fd >= 0)
		close(fd);
}

void vu_records_free(struct vu_records *recs)
{
	free(recs->v);
	recs->v = NULL;
	recs->n = 0;
	recs->damaged = false;
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

long long vu_record_num(const struct vu_record *r, const char *name, long long def)
{
	const char *s = vu_record_get(r, name);
	char *end;
	long long v;

	if (!s)
		return def;
	errno = 0;
	v = strtoll(s, &end, 10);
	return end == s || *end || errno ? def : v;
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

struct vu_record *vu_records_put(struct vu_records *recs, const struct vu_record *r)
{
	struct vu_record *slot = add(recs, r->key);

	if (slot)
		*slot = *r;
	return slot;
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

/* Keys already read, by hash: a file of many records parses in linear time. */
struct keyset {
	size_t *slot; /* index + 1 into the records, 0: free */
	size_t cap;
};

static size_t key_hash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static size_t *key_slot(struct keyset *k, const struct vu_records *recs, const char *key)
{
	size_t i = key_hash(key) & (k->cap - 1);

	while (k->slot[i] && strcmp(recs->v[k->slot[i] - 1].key, key) != 0)
		i = (i + 1) & (k->cap - 1);
	return &k->slot[i];
}

static int key_grow(struct keyset *k, const struct vu_records *recs)
{
	size_t *old = k->slot, cap = k->cap;

	k->cap = cap ? cap * 2 : 64;
	if (!(k->slot = calloc(k->cap, sizeof(*k->slot)))) {
		k->slot = old;
		k->cap = cap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < cap; i++)
		if (old[i])
			*key_slot(k, recs, recs->v[old[i] - 1].key) = old[i];
	free(old);
	return 0;
}

/* R into OUT: a later record of the same key replaces the earlier one. */
static int parsed(struct vu_records *out, struct keyset *k, size_t *cap, const struct vu_record *r)
{
	size_t *slot;

	if ((out->n + 1) * 2 > k->cap && key_grow(k, out) < 0)
		return -ENOMEM;
	slot = key_slot(k, out, r->key);
	if (*slot && out->v) {
		out->v[*slot - 1] = *r;
		return 0;
	}
	if (out->n == *cap || !out->v) {
		struct vu_record *v = realloc(out->v, (*cap = *cap ? *cap * 2 : 16) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		out->v = v;
	}
	out->v[out->n] = *r;
	*slot = ++out->n;
	return 0;
}

int vu_state_parse(FILE *f, const char *shown, struct vu_records *out)
{
	struct keyset keys = { NULL, 0 };
	char *line = NULL;
	size_t cap = 0, rcap = 0;
	int lineno = 0, err = 0;
	bool header = false, end = false;

	out->v = NULL;
	out->n = 0;
	out->damaged = false;
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
			if (!err && shown)
				vu_warn("%s:%d: damaged state file", shown, lineno);
			err = -EBADMSG;
			continue;
		}
		if (parsed(out, &keys, &rcap, &r) < 0) {
			err = -ENOMEM;
			break;
		}
	}
	if (!err && (!header || !end)) {
		if (shown)
			vu_warn("%s: damaged state file (%s)", shown,
				header ? "truncated" : "no header");
		err = -EBADMSG;
	}
	out->damaged = err == -EBADMSG;
	free(keys.slot);
	free(line);
	return err;
}

static int read_state(const char *name, struct vu_records *out, bool quiet);

int vu_state_read(const char *name, struct vu_records *out)
{
	return read_state(name, out, false);
}

int vu_state_reread(const char *name, struct vu_records *out)
{
	return read_state(name, out, true);
}

static int read_state(const char *name, struct vu_records *out, bool quiet)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, err;
	FILE *f;

	out->v = NULL;
	out->n = 0;
	out->damaged = false;
	if ((err = state_path(name, path, sizeof(path), false)) == -ENOENT)
		return 0; /* nothing remembered yet */
	if (err < 0)
		return err;
	/* Only root can make entries in the directory; still, only a regular file is ours. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (!(f = fdopen(fd, "r"))) {
		err = -errno;
		close(fd);
		return err;
	}
	err = vu_state_parse(f, quiet ? NULL : vu_unrooted(path), out);
	fclose(f);
	return err;
}

int vu_state_load(const char *name, struct vu_records *out)
{
	int err = vu_state_read(name, out);

	if (err == -EINVAL)
		vu_err("/run/vfio-utils/%s: cannot read: not a regular file", name);
	else if (err < 0 && err != -EBADMSG)
		vu_errc(err, "/run/vfio-utils/%s: cannot read", name);
	return err;
}

int vu_state_keep_aside(const char *name, struct vu_records *recs)
{
	char path[PATH_MAX], aside[PATH_MAX + 64];
	time_t t = time(NULL);
	struct tm tm;
	int err;

	if (!recs->damaged)
		return 0;
	if ((err = state_path(name, path, sizeof(path), false)) < 0)
		return err;
	gmtime_r(&t, &tm);
	for (int i = 0; i < 100; i++) {
		int len = snprintf(aside, sizeof(aside), "%s.damaged-%04d%02d%02dT%02d%02d%02d",
				   path, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				   tm.tm_min, tm.tm_sec);

		if (i)
			snprintf(aside + len, sizeof(aside) - (size_t)len, "-%d", i);
		/* Never over another one kept aside. */
		if (renameat2(AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE) == 0) {
			vu_warn("%s: kept aside as %s; going by what the system shows",
				vu_unrooted(path), vu_unrooted(aside));
			recs->damaged = false;
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	err = -errno;
	vu_errc(err, "%s: cannot keep it aside", vu_unrooted(path));
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

/* The file's text, for vu_file_replace. */
struct state_text {
	const char *name;
	const struct vu_records *recs;
};

static void state_fill(FILE *f, const void *arg)
{
	const struct state_text *t = arg;

	vu_state_format(f, t->name, t->recs);
}

int vu_state_write(const char *name, const struct vu_records *recs)
{
	struct state_text t = { name, recs };
	char path[PATH_MAX];
	int err;

	if (recs->damaged)
		return -EBADMSG;
	if ((err = state_path(name, path, sizeof(path), true)) < 0)
		return err;
	if (recs->n == 0)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	return vu_file_replace(path, 0600, state_fill, &t);
}

/*
 * NAME read into RECS under lock FD: FD. A damaged file was reported, and
 * RECS say so: the command decides whether to refuse or to keep it aside.
 * One that cannot be read at all (a link, no permission) leaves nothing to
 * go on: an error, FD released.
 */
static int load_locked(const char *name, struct vu_records *recs, int fd)
{
	int err = vu_state_load(name, recs);

	if (err < 0 && err != -EBADMSG) {
		vu_records_free(recs);
		vu_state_unlock(fd);
		return err;
	}
	return fd;
}

int vu_state_lock_said(int timeout_ms)
{
	int fd = vu_state_lock(timeout_ms);

	if (fd == -ETIMEDOUT)
		vu_err("/run/vfio-utils/lock: another vfio-utils command has held it for %d s",
		       timeout_ms / 1000);
	else if (fd < 0)
		vu_errc(fd, "/run/vfio-utils: cannot take the lock");
	return fd;
}

int vu_state_begin(const char *name, struct vu_records *recs, int timeout_ms)
{
	int fd = -1;

	recs->v = NULL;
	recs->n = 0;
	if (!vu_dry_run && (fd = vu_state_lock_said(timeout_ms)) < 0)
		return fd;
	return load_locked(name, recs, fd);
}

/*
 * The shared lock for one save of NAME, unless this process holds it already
 * (*LOCK -1 then): under a command's own lock it is taken for the write alone.
 * 0 or -errno, reported.
 */
static int lock_for_save(const char *name, int *lock)
{
	*lock = -1;
	if (shared_fd >= 0)
		return 0;
	if ((*lock = vu_state_lock(VU_STATE_SAVE_WAIT_MS)) < 0)
		vu_errc(*lock, "/run/vfio-utils/%s: cannot save what was changed: no lock", name);
	return *lock < 0 ? *lock : 0;
}

int vu_state_save(const char *name, const struct vu_records *recs)
{
	int err, lock;

	if (vu_dry_run)
		return 0;
	if ((err = lock_for_save(name, &lock)) < 0)
		return err;
	if ((err = vu_state_write(name, recs)) == -EBADMSG)
		vu_err("/run/vfio-utils/%s: damaged: not written over", name);
	else if (err < 0)
		vu_errc(err, "/run/vfio-utils/%s: cannot save what was changed", name);
	vu_state_unlock(lock);
	return err;
}

int vu_records_copy(struct vu_records *to, const struct vu_records *from)
{
	struct vu_record *v = NULL;

	if (from->n && !(v = malloc(from->n * sizeof(*v))))
		return -ENOMEM;
	if (from->n)
		memcpy(v, from->v, from->n * sizeof(*v));
	free(to->v);
	to->v = v;
	to->n = from->n;
	to->damaged = from->damaged;
	return 0;
}

/* An index of RECS' keys, for lookups in constant time. */
static int index_of(struct keyset *k, const struct vu_records *recs)
{
	size_t cap = 64;

	while (cap < 2 * recs->n + 2)
		cap *= 2;
	if (!(k->slot = calloc(cap, sizeof(*k->slot))))
		return -ENOMEM;
	k->cap = cap;
	for (size_t i = 0; recs->v && i < recs->n; i++)
		*key_slot(k, recs, recs->v[i].key) = i + 1;
	return 0;
}

static const struct vu_record *indexed(struct keyset *k, const struct vu_records *recs,
				       const char *key)
{
	size_t slot = *key_slot(k, recs, key);

	return slot && recs->v ? &recs->v[slot - 1] : NULL;
}

static bool same(const struct vu_record *a, const struct vu_record *b)
{
	return a && b && memcmp(a, b, sizeof(*a)) == 0;
}

/*
 * What changed from BASE to NOW, made to CUR: a key this run removed goes, one
 * it added or changed is put as it has it, every other record stays as CUR
 * has it (another run's). In time linear in the number of records.
 */
static int apply_changes(struct vu_records *cur, const struct vu_records *base,
			 const struct vu_records *now)
{
	struct keyset kb = { NULL, 0 }, kn = { NULL, 0 }, kc = { NULL, 0 };
	const struct vu_record *nv = now->v, *cv = cur->v;
	struct vu_record *out = NULL;
	size_t m = 0;
	int err = -ENOMEM;

	if (index_of(&kb, base) < 0 || index_of(&kn, now) < 0 || index_of(&kc, cur) < 0 ||
	    !(out = malloc((cur->n + now->n + 1) * sizeof(*out))))
		goto done;
	for (size_t i = 0; cv && i < cur->n; i++) {
		const struct vu_record *b = indexed(&kb, base, cv[i].key);
		const struct vu_record *r = indexed(&kn, now, cv[i].key);

		if (b && !r)
			continue;
		out[m++] = r && !same(b, r) ? *r : cv[i];
	}
	for (size_t i = 0; nv && i < now->n; i++)
		if (!indexed(&kc, cur, nv[i].key) && !same(indexed(&kb, base, nv[i].key), &nv[i]))
			out[m++] = nv[i];
	free(cur->v);
	cur->v = out;
	cur->n = m;
	out = NULL;
	err = 0;
done:
	free(out);
	free(kc.slot);
	free(kn.slot);
	free(kb.slot);
	return err;
}

int vu_state_save_changes(const char *name, struct vu_records *base, struct vu_records *now)
{
	struct vu_records cur = { 0 };
	int err, lock;

	if (vu_dry_run)
		return 0;
	if ((err = lock_for_save(name, &lock)) < 0)
		return err;
	/* Read again under the lock: another run's records since stay as that run left them. */
	if ((err = vu_state_reread(name, &cur)) == -EBADMSG)
		vu_err("/run/vfio-utils/%s: damaged meanwhile: not written over", name);
	else if (err < 0)
		vu_errc(err, "/run/vfio-utils/%s: cannot read", name);
	else if ((err = apply_changes(&cur, base, now)) < 0 ||
		 (err = vu_state_write(name, &cur)) < 0)
		vu_errc(err, "/run/vfio-utils/%s: cannot save what was changed", name);
	vu_state_unlock(lock);
	/* Both as written now: the next save writes only what changes after it. */
	if (!err && (err = vu_records_copy(base, &cur)) == 0) {
		vu_records_free(now);
		*now = cur;
		return 0;
	}
	vu_records_free(&cur);
	return err;
}

int vu_state_begin_own(const char *name, struct vu_records *recs, int timeout_ms)
{
	char lock_name[VU_STATE_TEXT + 8];
	int fd = -1;

	recs->v = NULL;
	recs->n = 0;
	snprintf(lock_name, sizeof(lock_name), "%s.lock", name);
	if (!vu_dry_run && (fd = vu_state_lock_named(lock_name, timeout_ms)) < 0) {
		if (fd == -ETIMEDOUT)
			vu_err("/run/vfio-utils/%s: another run has held it for %d s", lock_name,
			       timeout_ms / 1000);
		else
			vu_errc(fd, "/run/vfio-utils: cannot take the lock");
		return fd;
	}
	/* Read without the shared lock: every save is a rename, seen whole or not at all. */
	return load_locked(name, recs, fd);
}

int vu_state_end(const char *name, struct vu_records *recs, int lock)
{
	int err = vu_state_save(name, recs);

	vu_state_unlock(lock);
	vu_records_free(recs);
	return err;
}

void vu_state_say_damaged(const char *name, const char *fix)
{
	vu_err(
	    "/run/vfio-utils/%s: damaged: not written over ('%s' keeps it aside); nothing changed",
	    name, fix);
}

int vu_state_refuse_damaged(const char *name, struct vu_records *recs, int lock, const char *fix)
{
	vu_state_say_damaged(name, fix);
	vu_state_unlock(lock);
	vu_records_free(recs);
	return VU_EXIT_FAIL;
}

void vu_state_key(const char *name, char key[VU_STATE_TEXT])
{
	char esc[1024];
	size_t len = 0;

	/* As the state alphabet allows: other bytes as \xNN, as systemd escapes unit names. */
	for (const char *c = name; *c && len + 5 < sizeof(esc); c++) {
		char one[2] = { *c, '\0' };

		if (*c != '\\' && vu_state_valid_text(one))
			esc[len++] = *c;
		else
			len += (size_t)snprintf(esc + len, sizeof(esc) - len, "\\x%02x",
						(unsigned char)*c);
	}
	esc[len] = '\0';
	if (len < VU_STATE_TEXT) {
		memcpy(key, esc, len + 1);
	} else {
		/* Too long to hold whole: its start and a hash, which two names hardly share. */
		unsigned long long h = 14695981039346656037ULL;

		for (const char *c = name; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ULL;
		snprintf(key, VU_STATE_TEXT, "%.40s:%016llx", esc, h);
	}
}

const char *vu_state_unkey(const char *key, char *buf, size_t size)
{
	size_t len = 0;

	for (const char *c = key; *c && len + 1 < size; c++) {
		if (c[0] == '\\' && c[1] == 'x' && isxdigit((unsigned char)c[2]) &&
		    isxdigit((unsigned char)c[3])) {
			char hex[3] = { c[2], c[3], '\0' };

			buf[len++] = (char)strtoul(hex, NULL, 16);
			c += 3;
		} else {
			buf[len++] = *c;
		}
	}
	if (size)
		buf[len] = '\0';
	return buf;
}
