/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the commands remember, in /run/vfio-utils: one file per concern, under one lock. */
#ifndef VU_STATE_H
#define VU_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * A state file is a list of records, one per line: a key and name=value
 * fields ("0000:01:00.0 driver=nvidia module=nvidia override=-"). Keys and
 * values are restricted to [A-Za-z0-9_.:@+-\] (systemd escapes unit names
 * with '\') so that no line can be forged.
 */
#define VU_STATE_FIELDS 8
#define VU_STATE_TEXT	64

struct vu_field {
	char name[VU_STATE_TEXT];
	char value[VU_STATE_TEXT];
};

struct vu_record {
	char key[VU_STATE_TEXT];
	struct vu_field f[VU_STATE_FIELDS];
	int nf;
};

struct vu_records {
	struct vu_record *v;
	size_t n;
	/*
	 * Read from a file that could not be parsed whole: never written over
	 * (vu_state_write refuses) until vu_state_keep_aside has moved it.
	 */
	bool damaged;
};

/*
 * Take /run/vfio-utils/lock (creating the directory, root-only), waiting at
 * most TIMEOUT_MS; the fd to give to vu_state_unlock, or -errno (-ETIMEDOUT
 * when another command holds it). A temporary file a killed save left is
 * removed under it.
 */
int vu_state_lock(int timeout_ms);
/* The same, saying why when it cannot be taken. */
int vu_state_lock_said(int timeout_ms);
/*
 * The same for a lock of one command's own, /run/vfio-utils/NAME: held
 * across a long wait (a display manager stopping) where the state lock
 * must not be, so that runs of that command never overlap.
 */
int vu_state_lock_named(const char *name, int timeout_ms);
void vu_state_unlock(int fd);

/*
 * What each command does around a change: take the lock (not under dry run),
 * read NAME into RECS. The lock's fd (-1 under dry run), or -errno after
 * reporting, the lock released: also when NAME exists but cannot be read.
 */
int vu_state_begin(const char *name, struct vu_records *recs, int timeout_ms);
/*
 * The same for a command whose change waits on what other commands do not
 * share (a host tool, logind): its own lock, /run/vfio-utils/NAME.lock, for
 * the whole run, so that its runs never overlap, and NAME read without the
 * shared lock; each save takes the shared lock for the write alone. Its
 * state is its own: no other command writes NAME.
 */
int vu_state_begin_own(const char *name, struct vu_records *recs, int timeout_ms);
/* How long a save waits for the shared lock that another command holds. */
#define VU_STATE_SAVE_WAIT_MS 30000
/*
 * Write NAME back (not under dry run), reporting a failure; 0 or -errno.
 * Without the shared lock (vu_state_begin_own), it is taken for the write.
 */
int vu_state_save(const char *name, const struct vu_records *recs);
/*
 * The side that takes (unbind, stop) with NAME damaged: say that nothing
 * changed and that FIX keeps it aside; release LOCK, free RECS. VU_EXIT_FAIL.
 */
int vu_state_refuse_damaged(const char *name, struct vu_records *recs, int lock, const char *fix);
/* Its message alone: NAME damaged, nothing changed, FIX keeps it aside. */
void vu_state_say_damaged(const char *name, const char *fix);
/*
 * Save what this run changed in NAME, from BASE (as it read NAME) to NOW, to
 * what NAME holds now: under the shared lock for the read and the write
 * alone, so that runs that change other keys (another VM's devices) go on
 * side by side. Each key is one run's while it holds that key's own lock.
 * After it BASE and NOW both hold NAME as written. 0 or -errno, reported;
 * a file damaged meanwhile is not written over (-EBADMSG).
 */
int vu_state_save_changes(const char *name, struct vu_records *base, struct vu_records *now);
/* TO as a copy of FROM, what TO held freed; 0 or -ENOMEM. */
int vu_records_copy(struct vu_records *to, const struct vu_records *from);
/* The end of vu_state_begin's change: save NAME, release LOCK, free RECS; 0 or -errno. */
int vu_state_end(const char *name, struct vu_records *recs, int lock);

/*
 * Read state file NAME. A missing file is empty. A damaged one is reported
 * (one warning naming the file and line), its readable records kept, marked
 * damaged, and -EBADMSG returned alongside them: the caller either refuses
 * to change anything, or keeps the file aside and falls back to what it can
 * tell from the system. Anything but a regular file is -EINVAL, never opened
 * in a way that can block (a FIFO).
 */
int vu_state_read(const char *name, struct vu_records *out);
/* The same without a warning: a file read again, its damage said already. */
int vu_state_reread(const char *name, struct vu_records *out);
/* The same, reporting a file that cannot be read at all (a damaged one was, as above). */
int vu_state_load(const char *name, struct vu_records *out);
/*
 * Move the damaged file NAME aside, to NAME.damaged-TIME, never deleted,
 * and say so: RECS may be written from now on. 0 or -errno (reported).
 */
int vu_state_keep_aside(const char *name, struct vu_records *recs);
/* The same from an open file; SHOWN names it in the warning (NULL: none). */
int vu_state_parse(FILE *f, const char *shown, struct vu_records *out);
/* RECS as the state file NAME holds them: what vu_state_parse reads back. */
void vu_state_format(FILE *f, const char *name, const struct vu_records *recs);
/*
 * Write all of NAME: temporary file, fsync, rename. No records removes it.
 * Records read from a damaged file are not written: -EBADMSG.
 */
int vu_state_write(const char *name, const struct vu_records *recs);
void vu_records_free(struct vu_records *recs);

struct vu_record *vu_records_find(const struct vu_records *recs, const char *key);
/*
 * Add or replace the record KEY; fields come as name, value pairs,
 * NULL-terminated (a NULL or empty value is stored as "-"). A key or value
 * outside the state alphabet is reported and nothing changes: NULL.
 */
struct vu_record *vu_records_set(struct vu_records *recs, const char *key, ...)
    __attribute__((sentinel));
/* A copy of R, added or in place of the record of its key; NULL when out of memory. */
struct vu_record *vu_records_put(struct vu_records *recs, const struct vu_record *r);
void vu_records_del(struct vu_records *recs, const char *key);
/* A field's value, NULL when absent; "-" stands for none. */
const char *vu_record_get(const struct vu_record *r, const char *name);
/* A field's value as a whole decimal number, DEF where it is absent or is not one. */
long long vu_record_num(const struct vu_record *r, const char *name, long long def);
bool vu_state_valid_text(const char *s);
/*
 * NAME (a domain's, anything) as a key: bytes outside the alphabet as \xNN,
 * as systemd escapes unit names; one too long, its start and a hash.
 */
void vu_state_key(const char *name, char key[VU_STATE_TEXT]);
/* KEY back as the name it was made from (a long one's start and hash as they are); BUF. */
const char *vu_state_unkey(const char *key, char *buf, size_t size);

#endif
