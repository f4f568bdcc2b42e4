/* SPDX-License-Identifier: GPL-2.0-or-later */
/* simfs: the kernel simulator's FUSE server, serving a machine's /sys, /proc and /dev. */
#define FUSE_USE_VERSION 34
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <limits.h>
#include <pci/pci.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "modtree.h"
#include "simkern.h"

/* A write the simulated kernel has not answered yet. */
enum pending_kind {
	P_UNBIND, /* an unbind whose remove() waits: answered once the device is free */
	P_HELD,	  /* held by a "block" fault: written again once released */
	P_LOCK,	  /* waits for the device lock: written again once the lock is free */
	P_READ,	  /* a read that takes the device lock (driver_override): answered then */
};

struct pending {
	fuse_req_t req;
	enum pending_kind kind;
	int dev;	/* the device it waits on, -1 for P_HELD */
	bool signalled; /* the writer got a signal: the kernel goes on waiting all the same */
	size_t size;
	struct t_node *node;
	char *buf;
	off_t off; /* P_READ */
};

struct holder {
	pid_t pid; /* 0: its user service is stopped */
	bool opened;
};

static struct {
	struct sim k;
	struct machine m;
	struct t_node *tree, *proc;
	char root[PATH_MAX];
	struct pending *pending;
	size_t npending;
	struct holder *holders;
	size_t nholders;
	time_t boot;
	FILE *journal;
} S;

/* ROOT/.sim/holders: every holder's pid, for sim down to stop them after a crash. */
static void write_holders(void)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/.sim/holders", S.root);
	if (!(f = fopen(path, "we")))
		return;
	for (size_t i = 0; i < S.nholders; i++)
		if (S.holders[i].pid > 0)
			fprintf(f, "%d\n", S.holders[i].pid);
	fclose(f);
}

static void spawn_holder(size_t i)
{
	char path[PATH_MAX + 64];
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close_range(3, ~0U, 0);
		prctl(PR_SET_NAME, S.m.holders[i].comm);
		snprintf(path, sizeof(path), "%s%s", S.root, S.m.holders[i].node);
		if (open(path, O_RDONLY) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	S.holders[i].pid = pid > 0 ? pid : 0;
	S.holders[i].opened = false;
}

/* Processes that hold a device node open, as the description asks. */
static void spawn_holders(void)
{
	S.holders = calloc(S.m.nholders + 1, sizeof(*S.holders));
	S.nholders = S.m.nholders;
	for (size_t i = 0; i < S.m.nholders; i++)
		spawn_holder(i);
	write_holders();
}

/*
 * "unit stop|start UID UNIT": a user's systemd service, as systemctl --user
 * drives it: stopping it ends the holders it runs, starting it starts them
 * again (they open their nodes anew).
 */
static int unit_control(const char *cmd)
{
	char verb[16], unit[128];
	int uid, found = 0;

	if (sscanf(cmd, "unit %15s %d %127s", verb, &uid, unit) != 3 ||
	    (strcmp(verb, "stop") != 0 && strcmp(verb, "start") != 0))
		return -EINVAL;
	for (size_t i = 0; i < S.nholders; i++) {
		const struct m_holder *h = &S.m.holders[i];

		if (h->uid != uid || !h->unit || strcmp(h->unit, unit) != 0)
			continue;
		found++;
		if (verb[2] == 'o' && S.holders[i].pid > 0) {
			kill(S.holders[i].pid, SIGKILL);
			waitpid(S.holders[i].pid, NULL, 0);
			S.holders[i].pid = 0;
		} else if (verb[2] == 'a' && S.holders[i].pid == 0) {
			spawn_holder(i);
		}
	}
	write_holders();
	return found ? 0 : -ENOENT;
}

/* A holder its user's service runs, by pid: the index, or -1. */
static int unit_holder(pid_t pid)
{
	for (size_t i = 0; i < S.nholders; i++)
		if (S.holders[i].pid == pid && S.m.holders[i].unit)
			return (int)i;
	return -1;
}

static struct t_node *node(fuse_ino_t ino)
{
	struct t_node *n = t_by_ino(ino);

	return n && !n->removed ? n : NULL;
}

static void fill_stat(const struct t_node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_nlink = n->type == T_DIR ? 2 : 1;
	st->st_mtime = st->st_ctime = st->st_atime = S.boot;
	st->st_blksize = 4096;
	switch (n->type) {
	case T_DIR:
		st->st_mode = S_IFDIR | n->mode;
		break;
	case T_FILE:
		st->st_mode = S_IFREG | n->mode;
		/* As sysfs says of an attribute: a write within it is not one past its end. */
		st->st_size = (off_t)(n->mode & 0222 && n->len < 4096 ? 4096 : n->len);
		break;
	case T_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_size = (off_t)n->len;
		break;
	}
}

static bool numeric(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/*
 * /proc/PID of the simulated machine is the real process: who holds which
 * node. A holder a user's systemd service runs is a directory of its own
 * that says so (cgroup, status), its fd the real process's.
 */
static struct t_node *proc_pid(const char *pid)
{
	char path[64], file[96], real[64];
	struct t_node *n;
	int h;

	snprintf(path, sizeof(path), "/proc/%s", pid);
	if (access(path, F_OK) < 0)
		return NULL;
	if ((h = unit_holder((pid_t)strtol(pid, NULL, 10))) >= 0) {
		const struct m_holder *mh = &S.m.holders[h];

		snprintf(file, sizeof(file), "%s/comm", path);
		t_filef(S.tree, file, 0444, "%s\n", mh->comm);
		snprintf(file, sizeof(file), "%s/cgroup", path);
		t_filef(S.tree, file, 0444,
			"0::/user.slice/user-%d.slice/user@%d.service/session.slice/%s\n", mh->uid,
			mh->uid, mh->unit);
		snprintf(file, sizeof(file), "%s/status", path);
		t_filef(S.tree, file, 0444, "Name:\t%s\nUid:\t%d\t%d\t%d\t%d\n", mh->comm, mh->uid,
			mh->uid, mh->uid, mh->uid);
		snprintf(file, sizeof(file), "%s/fd", path);
		snprintf(real, sizeof(real), "/proc/%s/fd", pid);
		n = t_file(S.tree, file, 0777, "", 0);
		n->type = T_LINK;
		t_set_data(n, real, strlen(real));
		return t_lookup(S.tree, path);
	}
	n = t_file(S.tree, path, 0777, "", 0);
	n->type = T_LINK;
	t_set_data(n, path, strlen(path));
	return n;
}

static void refresh_proc(void)
{
	struct dirent *e;
	DIR *d;

	for (size_t i = S.proc->nkids; i-- > 0;) {
		struct t_node *k = S.proc->kids[i];
		char path[64];

		snprintf(path, sizeof(path), "/proc/%s", k->name);
		if (numeric(k->name) && access(path, F_OK) < 0)
			t_remove(k);
	}
	if (!(d = opendir("/proc")))
		return;
	while ((e = readdir(d)))
		if (numeric(e->d_name) && !t_child(S.proc, e->d_name))
			proc_pid(e->d_name);
	closedir(d);
}

static void reply_entry(fuse_req_t req, struct t_node *n)
{
	struct fuse_entry_param e;
	/* /proc/PID names the same link for ever; the top directories never go. */
	bool stable = (n->parent == S.proc && numeric(n->name)) || n->parent == S.tree;

	memset(&e, 0, sizeof(e));
	e.ino = n->ino;
	e.generation = 1;
	/* Everything else is not cached: links and files come and go with every bind. */
	e.attr_timeout = stable ? 60 : 0;
	e.entry_timeout = stable ? 60 : 0;
	fill_stat(n, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct t_node *p = node(parent), *n;

	if (!p)
		return (void)fuse_reply_err(req, ENOENT);
	if (p->type != T_DIR)
		return (void)fuse_reply_err(req, ENOTDIR);
	n = t_child(p, name);
	if (!n && p == S.proc && numeric(name))
		n = proc_pid(name);
	if (!n)
		return (void)fuse_reply_err(req, ENOENT);
	reply_entry(req, n);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct t_node *n = node(ino);
	struct stat st;

	(void)fi;
	if (!n)
		return (void)fuse_reply_err(req, ENOENT);
	fill_stat(n, &st);
	fuse_reply_attr(req, &st, 0);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	(void)attr;
	(void)to_set;
	/* sysfs ignores O_TRUNC and chmod alike: report what is there. */
	op_getattr(req, ino, fi);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct t_node *n = node(ino);

	if (!n || n->type != T_LINK)
		return (void)fuse_reply_err(req, n ? EINVAL : ENOENT);
	fuse_reply_readlink(req, n->data);
}

struct snapshot {
	size_t n;
	struct {
		char *name;
		fuse_ino_t ino;
		mode_t mode;
	} * e;
};

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct t_node *n = node(ino);
	struct snapshot *s;

	if (!n)
		return (void)fuse_reply_err(req, ENOENT);
	if (n->type != T_DIR)
		return (void)fuse_reply_err(req, ENOTDIR);
	if (n == S.proc)
		refresh_proc();
	if (!(s = calloc(1, sizeof(*s))) || !(s->e = calloc(n->nkids + 2, sizeof(*s->e))))
		abort();
	s->e[s->n++] = (typeof(*s->e)){ strdup("."), n->ino, S_IFDIR };
	s->e[s->n++] =
	    (typeof(*s->e)){ strdup(".."), n->parent ? n->parent->ino : n->ino, S_IFDIR };
	for (size_t i = 0; i < n->nkids; i++) {
		const struct t_node *k = n->kids[i];

		s->e[s->n++] = (typeof(*s->e)){ strdup(k->name), k->ino,
						k->type == T_DIR    ? S_IFDIR
						: k->type == T_LINK ? S_IFLNK
								    : S_IFREG };
	}
	fi->fh = (uintptr_t)s;
	fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct snapshot *s = (struct snapshot *)(uintptr_t)fi->fh;
	char *buf = malloc(size);
	size_t used = 0;

	(void)ino;
	if (!buf)
		return (void)fuse_reply_err(req, ENOMEM);
	for (size_t i = (size_t)off; i < s->n; i++) {
		struct stat st = { .st_ino = s->e[i].ino, .st_mode = s->e[i].mode };
		size_t len = fuse_add_direntry(req, buf + used, size - used, s->e[i].name, &st,
					       (off_t)i + 1);

		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct snapshot *s = (struct snapshot *)(uintptr_t)fi->fh;

	(void)ino;
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].name);
	free(s->e);
	free(s);
	fuse_reply_err(req, 0);
}

static void reply_read(fuse_req_t req, const struct t_node *n, size_t size, off_t off)
{
	if ((size_t)off >= n->len)
		return (void)fuse_reply_buf(req, NULL, 0);
	fuse_reply_buf(req, n->data + off,
		       size < n->len - (size_t)off ? size : n->len - (size_t)off);
}

static void pending_done(size_t i)
{
	free(S.pending[i].buf);
	/* In order: writes waiting for one device's lock take it in the order they came. */
	memmove(&S.pending[i], &S.pending[i + 1], (S.npending - i - 1) * sizeof(*S.pending));
	S.npending--;
}

/*
 * Answer what can be answered now: unbinds whose devices are free, writes
 * whose device lock is free, held writes once released. One write done can
 * free another: go round until nothing moves.
 */
static void check_pending(void)
{
	bool writes = S.k.release_writes, moved = true;

	S.k.release_writes = false;
	while (moved) {
		moved = false;
		for (size_t i = 0; i < S.npending;) {
			struct pending *p = &S.pending[i];
			int dev = -1, r;

			if ((p->kind == P_UNBIND && !sk_unblock(&S.k, p->dev)) ||
			    (p->kind == P_HELD && !writes) ||
			    ((p->kind == P_LOCK || p->kind == P_READ) &&
			     !sk_unlocked(&S.k, p->dev))) {
				i++;
				continue;
			}
			if (p->kind == P_READ) {
				reply_read(p->req, p->node, p->size, p->off);
				pending_done(i);
				moved = true;
				continue;
			}
			/* A held or waiting write takes effect now, as if it had just arrived. */
			r = p->kind == P_UNBIND ? (int)p->size
						: sk_write(&S.k, p->node, p->buf, p->size, &dev);
			moved = true;
			if (r == SK_BLOCKED || r == SK_LOCKED) {
				p->kind = r == SK_LOCKED ? P_LOCK : dev < 0 ? P_HELD : P_UNBIND;
				p->dev = dev;
				i++;
				continue;
			}
			if (r < 0)
				fuse_reply_err(p->req, -r);
			else
				fuse_reply_write(p->req, p->size);
			pending_done(i);
		}
		writes = false;
	}
}

/*
 * A signal to a writer the kernel holds: nvidia's remove() ignores it,
 * vfio-pci's stops waiting interruptibly and waits on, a held sysfs write
 * goes on waiting. Noted, never answered early.
 */
static void interrupted(fuse_req_t req, void *data)
{
	(void)data;
	for (size_t i = 0; i < S.npending; i++)
		if (S.pending[i].req == req)
			S.pending[i].signalled = true;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct t_node *n = node(ino);
	int acc = fi->flags & O_ACCMODE;
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	long token;

	if (!n)
		return (void)fuse_reply_err(req, ENOENT);
	if (n->type == T_DIR)
		return (void)fuse_reply_err(req, EISDIR);
	/* kernfs: no write without a store method, no read without a show method. */
	if ((acc != O_RDONLY && !(n->mode & 0222)) || (acc != O_WRONLY && !(n->mode & 0444)))
		return (void)fuse_reply_err(req, EACCES);
	token = sk_open(&S.k, n);
	if (token < -1)
		return (void)fuse_reply_err(req, (int)-token);
	for (size_t i = 0; i < S.nholders; i++)
		if (S.holders[i].pid == ctx->pid)
			S.holders[i].opened = true;
	/*
	 * Every read and write reaches the simulated kernel, and writes to one
	 * attribute from several processes reach it side by side, as in sysfs
	 * (kernfs locks an open file, not the attribute): two devices' unbinds
	 * through one driver's unbind file, two probes through drivers_probe.
	 * FUSE holds the inode's lock across a write unless the open says
	 * FOPEN_PARALLEL_DIRECT_WRITES (Linux 6.2), which libfuse 3.14 cannot
	 * say: the reply is made here, as fuse_reply_open makes it.
	 */
	{
		struct fuse_open_out out = { .fh = (uint64_t)token,
					     .open_flags = FOPEN_DIRECT_IO |
							   FOPEN_PARALLEL_DIRECT_WRITES };

		fuse_reply_buf(req, (const char *)&out, sizeof(out));
	}
}

static void control_status(struct t_node *n)
{
	char buf[8192];
	size_t len, opened = 0;

	for (size_t i = 0; i < S.nholders; i++)
		opened += S.holders[i].opened;
	len = (size_t)snprintf(buf, sizeof(buf), "holders %zu/%zu\nresets %lu\n", opened,
			       S.nholders, S.k.resets);
	for (size_t i = 0; i < S.nholders && len < sizeof(buf) - 256; i++)
		if (S.m.holders[i].unit)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "unit %d %s %s\n",
						S.m.holders[i].uid, S.m.holders[i].unit,
						S.holders[i].pid > 0 ? "active" : "inactive");
	for (size_t i = 0; i < S.npending && len < sizeof(buf) - PATH_MAX; i++) {
		const struct pending *p = &S.pending[i];
		char name[20], path[PATH_MAX];

		t_path(p->node, path, sizeof(path));
		if (p->dev >= 0)
			m_dev_name(&S.m.devs[p->dev], name);
		if (p->kind == P_HELD)
			len +=
			    (size_t)snprintf(buf + len, sizeof(buf) - len, "held write %s\n", path);
		else if (p->kind == P_LOCK)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						"locked write %s (the lock of %s)\n", path, name);
		else if (p->kind == P_READ)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						"locked read %s (the lock of %s)\n", path, name);
		else
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s %s\n",
						S.m.devs[p->dev].probing ? "probing"
									 : "blocked unbind",
						name);
		if (p->signalled && p->dev >= 0)
			len +=
			    (size_t)snprintf(buf + len, sizeof(buf) - len, "signalled %s\n", name);
	}
	t_set_data(n, buf, len);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct t_node *n = node(ino);

	(void)fi;
	if (!n)
		return (void)fuse_reply_err(req, ENOENT);
	if (n->kind == K_CONTROL && off == 0)
		control_status(n);
	/* driver_override's show takes the device lock: behind a remove() it waits. */
	if (n->kind == K_DRIVER_OVERRIDE) {
		int dev = (int)((struct m_dev *)n->obj - S.m.devs);

		if (!sk_unlocked(&S.k, dev)) {
			S.pending = realloc(S.pending, (S.npending + 1) * sizeof(*S.pending));
			if (!S.pending)
				abort();
			S.pending[S.npending++] =
			    (struct pending){ req, P_READ, dev, false, size, n, NULL, off };
			fuse_req_interrupt_func(req, interrupted, NULL);
			return;
		}
	}
	reply_read(req, n, size, off);
}

/*
 * ROOT/.sim/journal: each write to /sys and each module system call, as it
 * arrives, with the kernel's answer: "write<TAB>PATH<TAB>VALUE<TAB>RESULT",
 * "load<TAB>NAME<TAB><TAB>RESULT". What a fault matrix enumerates.
 */
static void journal(const struct t_node *n, const char *buf, size_t size, int r)
{
	char path[PATH_MAX], val[256];
	size_t len = size < sizeof(val) - 1 ? size : sizeof(val) - 1;
	const char *result = r == SK_BLOCKED  ? "blocked"
			     : r == SK_LOCKED ? "locked"
			     : r < 0	      ? strerrorname_np(-r)
					      : "0";

	if (!S.journal)
		return;
	memcpy(val, buf, len);
	val[len] = '\0';
	val[strcspn(val, "\n\t")] = '\0';
	if (n->kind == K_CONTROL) {
		bool load = strncmp(val, "load ", 5) == 0;

		if (load || strncmp(val, "unload ", 7) == 0)
			fprintf(S.journal, "%s\t%s\t\t%s\n", load ? "load" : "unload",
				val + (load ? 5 : 7), result ? result : "?");
	} else {
		t_path(n, path, sizeof(path));
		if (strncmp(path, "/sys/", 5) == 0 || strncmp(path, "/proc/sys/", 10) == 0)
			fprintf(S.journal, "write\t%s\t%s\t%s\n", path, val, result ? result : "?");
	}
	fflush(S.journal);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct t_node *n = node(ino);
	int dev = -1, r;

	(void)off;
	(void)fi;
	if (!n)
		return (void)fuse_reply_err(req, ENOENT);
	/* "mark TEXT": a line of the test's own in the journal, between the kernel's. */
	if (n->kind == K_CONTROL && size > 5 && strncmp(buf, "mark ", 5) == 0) {
		char text[256];
		size_t len = size - 5 < sizeof(text) - 1 ? size - 5 : sizeof(text) - 1;

		memcpy(text, buf + 5, len);
		text[len] = '\0';
		text[strcspn(text, "\n")] = '\0';
		if (S.journal) {
			fprintf(S.journal, "mark\t%s\n", text);
			fflush(S.journal);
		}
		return (void)fuse_reply_write(req, size);
	}
	if (n->kind == K_CONTROL && size > 5 && strncmp(buf, "unit ", 5) == 0) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "%.*s", (int)(size < 255 ? size : 255), buf);
		cmd[strcspn(cmd, "\n")] = '\0';
		r = unit_control(cmd);
		refresh_proc();
		if (r < 0)
			return (void)fuse_reply_err(req, -r);
		return (void)fuse_reply_write(req, size);
	}
	r = sk_write(&S.k, n, buf, size, &dev);
	journal(n, buf, size, r);
	if (r == SK_BLOCKED || r == SK_LOCKED) {
		/* Answered when the device is released, as the kernel's unbind returns. */
		struct pending *p;

		S.pending = realloc(S.pending, (S.npending + 1) * sizeof(*S.pending));
		if (!S.pending)
			abort();
		p = &S.pending[S.npending++];
		*p = (struct pending){ req,  r == SK_LOCKED ? P_LOCK : dev < 0 ? P_HELD : P_UNBIND,
				       dev,  false,
				       size, n,
				       NULL, 0 };
		if (p->kind != P_UNBIND && (p->buf = malloc(size)))
			memcpy(p->buf, buf, size);
		fuse_req_interrupt_func(req, interrupted, NULL);
		return;
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
	check_pending();
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct t_node *n = t_by_ino(ino);

	if (n)
		sk_release(&S.k, n, (long)fi->fh);
	fuse_reply_err(req, 0);
	check_pending();
}

static void op_eperm(fuse_req_t req)
{
	fuse_reply_err(req, EPERM);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode)
{
	(void)p, (void)name, (void)mode;
	op_eperm(req);
}

static void op_mknod(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode, dev_t rdev)
{
	(void)p, (void)name, (void)mode, (void)rdev;
	op_eperm(req);
}

static void op_create(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	(void)p, (void)name, (void)mode, (void)fi;
	op_eperm(req);
}

static void op_unlink(fuse_req_t req, fuse_ino_t p, const char *name)
{
	(void)p, (void)name;
	op_eperm(req);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st = { .f_bsize = 4096, .f_namemax = 255 };

	(void)ino;
	fuse_reply_statfs(req, &st);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino, (void)nlookup;
	fuse_reply_none(req);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = op_lookup,
	.forget = op_forget,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.create = op_create,
};

static struct pci_access *pacc;

static const char *vendor_name(unsigned vendor)
{
	static char buf[256];

	return pci_lookup_name(pacc, buf, sizeof(buf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
			       vendor);
}

static int mkdirp(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *c = p + 1; *c; c++)
		if (*c == '/') {
			*c = '\0';
			mkdir(p, 0755);
			*c = '/';
		}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* What is not the kernel's lives on disk: /etc, /usr, /lib, /run. */
static int prepare_root(void)
{
	static const char *const served[] = { "sys", "proc", "dev" };
	static const char *const ondisk[] = { "etc", "usr", "lib", "run" };
	char path[PATH_MAX + 64], target[64];

	if (mkdirp(S.root) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/.simfs", S.root);
	mkdirp(path);
	snprintf(path, sizeof(path), "%s/.sim", S.root);
	mkdirp(path);
	for (size_t i = 0; i < sizeof(served) / sizeof(*served); i++) {
		snprintf(path, sizeof(path), "%s/%s", S.root, served[i]);
		snprintf(target, sizeof(target), ".simfs/%s", served[i]);
		unlink(path);
		if (symlink(target, path) < 0) {
			fprintf(stderr, "simfs: %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(ondisk) / sizeof(*ondisk); i++) {
		struct t_node *n = t_child(S.tree, ondisk[i]);
		int err;

		if (!n)
			continue;
		snprintf(path, sizeof(path), "%s/%s", S.root, ondisk[i]);
		if ((err = t_dump(n, path)) < 0) {
			fprintf(stderr, "simfs: %s: %s\n", path, strerror(-err));
			return -1;
		}
		t_remove(n);
	}
	return modtree_write(&S.m, S.root);
}

static int daemonize(void)
{
	char path[PATH_MAX + 64];
	int ready[2], fd;
	char c = 0;
	pid_t pid;
	FILE *f;

	if (pipe(ready) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(ready[1]);
		/* Return to the caller only once the mount answers. */
		_exit(read(ready[0], &c, 1) == 1 ? 0 : 1);
	}
	close(ready[0]);
	setsid();
	snprintf(path, sizeof(path), "%s/.sim/pid", S.root);
	if ((f = fopen(path, "we"))) {
		fprintf(f, "%d\n", getpid());
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/.sim/log", S.root);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/.sim/journal", S.root);
	S.journal = fopen(path, "ae");
	spawn_holders();
	if (write(ready[1], &c, 1) != 1)
		return -1;
	close(ready[1]);
	return 0;
}

/*
 * fuse_session_loop, with a clock: a timed remove() or probe ("unbind-takes",
 * "probe-takes") ends while no request comes, and its writer is answered then.
 */
static int serve(struct fuse_session *se)
{
	struct pollfd p = { .fd = fuse_session_fd(se), .events = POLLIN };
	struct fuse_buf buf = { .mem = NULL };
	int res = 0;

	while (!fuse_session_exited(se)) {
		long long next = sk_next_deadline(&S.k), left = next - sk_now_ms();
		int r = poll(&p, 1, !next ? -1 : left <= 0 ? 0 : (int)left + 1);

		if (r < 0 && errno != EINTR) {
			res = -errno;
			break;
		}
		if (r <= 0) {
			check_pending();
			continue;
		}
		res = fuse_session_receive_buf(se, &buf);
		if (res == -EINTR || res == -EAGAIN)
			continue;
		if (res <= 0)
			break;
		fuse_session_process_buf(se, &buf);
		/* a request that came while a deadline passed: answer the one waiting too */
		if (next && sk_now_ms() >= next)
			check_pending();
	}
	free(buf.mem);
	fuse_session_reset(se);
	return res < 0 ? res : 0;
}

int main(int argc, char **argv)
{
	char *fargv[] = { argv[0], "-o", "fsname=vfio-utils-sim,subtype=vfio-utils-sim", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	char mnt[PATH_MAX + 16];
	struct fuse_session *se;
	bool foreground = false;
	int err;

	if (argc > 1 && strcmp(argv[1], "-f") == 0) {
		foreground = true;
		argv++, argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: simfs [-f] MACHINE ROOT\n");
		return 2;
	}
	if (!realpath(argv[2], S.root) && (mkdirp(argv[2]) < 0 || !realpath(argv[2], S.root))) {
		fprintf(stderr, "simfs: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	S.boot = time(NULL);
	if (machine_load(&S.m, argv[1]) < 0 || machine_complete(&S.m) < 0)
		return 1;
	S.tree = t_new_root();
	sk_boot(&S.k, &S.m, S.tree);
	S.proc = t_lookup(S.tree, "/proc");
	t_file(S.tree, "/control", 0600, "", 0)->kind = K_CONTROL;
	/*
	 * The module system calls come through a file of their own: the kernel
	 * locks a file for the length of a write, and a held load must not
	 * hold the test's "release" out of the control file.
	 */
	t_file(S.tree, "/modules", 0600, "", 0)->kind = K_CONTROL;
	pacc = pci_alloc();
	pci_init(pacc);
	layout_pci_ids(S.tree, &S.m, vendor_name);
	pci_cleanup(pacc);
	if (prepare_root() < 0)
		return 1;

	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	fuse_opt_free_args(&args);
	if (!se || fuse_set_signal_handlers(se) != 0)
		return 1;
	snprintf(mnt, sizeof(mnt), "%s/.simfs", S.root);
	if (fuse_session_mount(se, mnt) != 0) {
		fprintf(stderr, "simfs: cannot mount %s (root and /dev/fuse needed)\n", mnt);
		return 1;
	}
	if (!foreground && daemonize() < 0) {
		fuse_session_unmount(se);
		return 1;
	}
	if (foreground)
		spawn_holders();
	err = serve(se);
	/* Nothing may stay blocked on a simulator that is going away. */
	for (size_t i = 0; i < S.npending; i++)
		fuse_reply_err(S.pending[i].req, EIO);
	for (size_t i = 0; i < S.nholders; i++)
		kill(S.holders[i].pid, SIGKILL);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	return err ? 1 : 0;
}
