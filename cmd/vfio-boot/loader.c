/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel command line, where the bootloader keeps it: GRUB's
 * /etc/default/grub and update-grub (grub-mkconfig, grub2-mkconfig),
 * kernel-install's /etc/kernel/cmdline for systemd-boot and UKIs, Fedora's
 * grubby, Pop!_OS's kernelstub. A file is edited only where it parses as
 * vfio-boot writes it, written whole, a copy kept first; what the tool makes
 * of it is read back.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act.h"
#include "boot.h"
#include "cmdline.h"
#include "msg.h"
#include "run.h"
#include "sysfs.h"
#include "util.h"

#define GRUB_DEFAULT "/etc/default/grub"
/* The variable the guides edit: every normal entry's, not the recovery entries'. */
#define GRUB_VAR   "GRUB_CMDLINE_LINUX_DEFAULT"
#define KI_CMDLINE "/etc/kernel/cmdline"

static const char *const entry_dirs[] = { "/boot/loader/entries", "/efi/loader/entries",
					  "/boot/efi/loader/entries" };

static bool rooted_exists(const char *p)
{
	return vu_existsf("%s", p);
}

static const char *entries_dir(void)
{
	for (size_t i = 0; i < VU_ARRAY_SIZE(entry_dirs); i++)
		if (rooted_exists(entry_dirs[i]))
			return entry_dirs[i];
	return NULL;
}

bool loader_detect(struct loader *l)
{
	memset(l, 0, sizeof(*l));
	if (rooted_exists("/etc/kernelstub/configuration")) {
		*l = (struct loader){ "kernelstub", NULL, "kernelstub", "" };
	} else if (rooted_exists("/usr/sbin/grubby") || rooted_exists("/sbin/grubby")) {
		*l = (struct loader){ "grubby", NULL, "grubby", "" };
	} else if (rooted_exists(GRUB_DEFAULT)) {
		*l = (struct loader){ "grub", GRUB_DEFAULT, "update-grub", "/boot/grub/grub.cfg" };
		if (rooted_exists("/usr/sbin/update-grub"))
			;
		else if (rooted_exists("/usr/sbin/grub2-mkconfig") ||
			 rooted_exists("/usr/bin/grub2-mkconfig"))
			*l = (struct loader){ "grub", GRUB_DEFAULT, "grub2-mkconfig",
					      "/boot/grub2/grub.cfg" };
		else
			l->tool = "grub-mkconfig";
	} else if (rooted_exists(KI_CMDLINE) || entries_dir()) {
		*l = (struct loader){ "kernel-install", KI_CMDLINE, "kernel-install", "" };
		if (entries_dir())
			snprintf(l->output, sizeof(l->output), "%s", entries_dir());
	} else {
		return false;
	}
	return true;
}

/* Where GRUB_VAR's value lies in /etc/default/grub's text. */
struct grubvar {
	int line;	     /* 1-based; 0 when the file does not set it */
	size_t vstart, vend; /* the value's bytes, quotes left out */
	bool quoted;
};

static bool ident(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* VAR named as a whole word in the line [P, END). */
static bool names(const char *p, const char *end, const char *var)
{
	size_t len = strlen(var);

	for (const char *q = p; q + len <= end; q++)
		if (strncmp(q, var, len) == 0 && (q == p || !ident(q[-1])) &&
		    (q + len == end || !ident(q[len])))
			return true;
	return false;
}

/* One of the bytes of SET in [P, END). */
static bool has_any(const char *p, const char *end, const char *set)
{
	for (; p < end; p++)
		if (strchr(set, *p))
			return true;
	return false;
}

/* Blanks, then the end of the line or a comment. */
static bool rest_empty(const char *p, const char *end)
{
	p += strspn(p, " \t");
	return p >= end || *p == '#';
}

/*
 * VAR's one plain assignment in TEXT: VAR="words", VAR='words' or VAR=word.
 * Anything a shell would read otherwise ($, `, \, a quote left open, VAR set
 * twice or inside something else) is not edited: -EBADMSG, said.
 */
static int grub_find(const char *text, const char *var, struct grubvar *v)
{
	size_t vlen = strlen(var);
	int lineno = 0;

	memset(v, 0, sizeof(*v));
	for (const char *p = text; *p;) {
		const char *end = p + strcspn(p, "\n"), *s = p + strspn(p, " \t"), *q, *close;

		lineno++;
		if (*s != '#' && names(s, end, var)) {
			if (strncmp(s, var, vlen) != 0 || s[vlen] != '=') {
				vu_err(
				    "%s:%d: sets %s in a way vfio-boot does not edit (it edits %s=\"...\" alone): change it by hand",
				    GRUB_DEFAULT, lineno, var, var);
				return -EBADMSG;
			}
			if (v->line) {
				vu_err(
				    "%s: sets %s twice (lines %d and %d): keep one, then run vfio-boot again",
				    GRUB_DEFAULT, var, v->line, lineno);
				return -EBADMSG;
			}
			q = s + vlen + 1;
			if (*q == '"' || *q == '\'') {
				close = memchr(q + 1, *q, (size_t)(end - q - 1));
				if (!close || (*q == '"' && has_any(q + 1, close, "$`\\")) ||
				    !rest_empty(close + 1, end)) {
					vu_err(
					    "%s:%d: %s's value is quoted in a way vfio-boot does not edit: change it by hand",
					    GRUB_DEFAULT, lineno, var);
					return -EBADMSG;
				}
				*v = (struct grubvar){ lineno, (size_t)(q + 1 - text),
						       (size_t)(close - text), true };
			} else {
				close = q + strcspn(q, " \t\n#;&|<>()$`\\\"'");
				if (close > end)
					close = end;
				if (!rest_empty(close, end)) {
					vu_err(
					    "%s:%d: %s's value is quoted in a way vfio-boot does not edit: change it by hand",
					    GRUB_DEFAULT, lineno, var);
					return -EBADMSG;
				}
				*v = (struct grubvar){ lineno, (size_t)(q - text),
						       (size_t)(close - text), false };
			}
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* /proc/cmdline without what the bootloader adds itself, as kernel-install takes it. */
static void proc_cmdline_words(char *buf, size_t size)
{
	char raw[BOOT_CMDLINE_MAX] = "";

	buf[0] = '\0';
	if (vu_readf(raw, sizeof(raw), "/proc/cmdline") < 0)
		return;
	snprintf(buf, size, "%s", raw);
	vu_cmdline_set(buf, size, "BOOT_IMAGE", NULL);
	vu_cmdline_set(buf, size, "initrd", NULL);
}

/* The words of L's configuration, as TEXT (NULL: no file) has them, into BUF. */
static int configured_from(const struct loader *l, const char *text, char *buf, size_t size)
{
	struct grubvar v;
	int err = 0;

	buf[0] = '\0';
	if (!text) {
		if (strcmp(l->name, "kernel-install") != 0)
			return -ENOENT;
		proc_cmdline_words(buf, size);
	} else if (strcmp(l->name, "grub") == 0) {
		if ((err = grub_find(text, GRUB_VAR, &v)) == 0 && v.line)
			snprintf(buf, size, "%.*s", (int)(v.vend - v.vstart), text + v.vstart);
	} else {
		snprintf(buf, size, "%s", text);
		buf[strcspn(buf, "\n")] = '\0';
	}
	return err;
}

int loader_configured(const struct loader *l, char *buf, size_t size)
{
	char path[PATH_MAX];
	struct saved s;
	int err;

	buf[0] = '\0';
	if (!l->config)
		return loader_next_boot(l, buf, size);
	if ((err = vu_path(path, sizeof(path), "%s", l->config)) < 0)
		return err;
	if (saved_take(&s, path) < 0)
		return -EIO;
	err = configured_from(l, s.text, buf, size);
	saved_free(&s);
	return err;
}

/* The options of the boot entry that sorts last (the newest kernel's), in DIR. */
static int entry_options(const char *dir, char *buf, size_t size)
{
	char path[PATH_MAX], line[BOOT_CMDLINE_MAX];
	struct vu_names names = { 0 };
	int err = -ENOENT;
	FILE *f;

	if (vu_path(path, sizeof(path), "%s", dir) < 0 || vu_listdir(path, &names) < 0)
		return -ENOENT;
	for (size_t i = names.n; err < 0 && i-- > 0;) {
		size_t nl = strlen(names.v[i]);

		if (nl < 6 || strcmp(names.v[i] + nl - 5, ".conf") != 0 ||
		    vu_path(path, sizeof(path), "%s/%s", dir, names.v[i]) < 0 ||
		    !(f = fopen(path, "re")))
			continue;
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "options", 7) == 0 &&
			    (line[7] == ' ' || line[7] == '\t')) {
				snprintf(buf, size, "%s", line + 8 + strspn(line + 8, " \t"));
				buf[strcspn(buf, "\n")] = '\0';
				err = 0;
			}
		fclose(f);
	}
	vu_names_free(&names);
	return err;
}

/* The words of S, one blank between them. */
static void squeeze(char *s)
{
	char *o = s;

	for (const char *p = s + strspn(s, " \t"); *p;) {
		size_t w = strcspn(p, " \t");

		if (o != s)
			*o++ = ' ';
		memmove(o, p, w);
		o += w;
		p += w;
		p += strspn(p, " \t");
	}
	*o = '\0';
}

/* grub.cfg's first linux line: the default entry's words after the kernel's path. */
static int grub_cfg_cmdline(const char *cfg, char *buf, size_t size)
{
	char path[PATH_MAX], line[BOOT_CMDLINE_MAX];
	int err = -ENOENT;
	FILE *f;

	if (vu_path(path, sizeof(path), "%s", cfg) < 0 || !(f = fopen(path, "re")))
		return -ENOENT;
	while (err < 0 && fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t"), *w;

		if (strncmp(s, "linux", 5) != 0 || (s[5] != ' ' && s[5] != '\t'))
			continue;
		w = s + 5 + strspn(s + 5, " \t");
		w += strcspn(w, " \t\n"); /* the kernel's path */
		snprintf(buf, size, "%s", w + strspn(w, " \t"));
		buf[strcspn(buf, "\n")] = '\0';
		squeeze(buf);
		err = 0;
	}
	fclose(f);
	return err;
}

int loader_next_boot(const struct loader *l, char *buf, size_t size)
{
	char out[BOOT_CMDLINE_MAX], *a;
	const char *dir = entries_dir();

	buf[0] = '\0';
	if (strcmp(l->name, "grub") == 0)
		return grub_cfg_cmdline(l->output, buf, size);
	if (strcmp(l->name, "grubby") == 0) {
		char *argv[] = { "grubby", "--info=DEFAULT", NULL };

		if (vu_dry_run || vu_run(argv, out, sizeof(out), VU_RUN_ASK_MS) != 0 ||
		    !(a = strstr(out, "args=\"")))
			return -ENOENT;
		snprintf(buf, size, "%.*s", (int)strcspn(a + 6, "\""), a + 6);
		return 0;
	}
	return dir ? entry_options(dir, buf, size) : -ENOENT;
}

/* Print the one-line change of PATH as a unified diff. */
static void diff_line(const char *path, int line, const char *old, const char *new)
{
	if (vu_verbosity < VU_NORMAL || vu_json_mode)
		return;
	printf("--- %s\n+++ %s\n", path, path);
	if (old)
		printf("@@ -%d +%d @@\n-%s\n+%s\n", line, line, old, new);
	else
		printf("@@ -%d,0 +%d @@\n+%s\n", line, line + 1, new);
}

/*
 * The copy of CONFIG before an edit, named after the second it was taken:
 * never written over, one for each edit. Another edit within the same second
 * (iommu on, then off) gets the next free name: .1, .2...
 */
static int backup(const struct saved *s)
{
	char path[PATH_MAX], stamp[32];
	const char *base = strrchr(s->path, '/');
	time_t now = time(NULL);
	struct tm tm;
	int err, n = 0;

	if (!s->text)
		return 0;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", gmtime_r(&now, &tm));
	do {
		if (n == 100) {
			vu_err("%s: a hundred copies kept this second already", vu_unrooted(path));
			return -EEXIST;
		}
		if ((err = vu_path(path, sizeof(path), BOOT_STATE_DIR "/backup/%s.%s%s%.0d",
				   base ? base + 1 : s->path, stamp, n ? "." : "", n)) < 0)
			return err;
		n++;
	} while (vu_exists(path));
	if ((err = file_write(path, s->text, 0600)) == 0)
		vu_verbose("%s: kept a copy as %s", vu_unrooted(s->path), vu_unrooted(path));
	return err;
}

/* The edited file's new text: VAR's words changed, or a line added; the diff printed. */
static int grub_edit(const char *text, const char *words, char **out)
{
	struct grubvar v;
	size_t len = strlen(text);
	char old[BOOT_CMDLINE_MAX + 64], new[BOOT_CMDLINE_MAX + 64];
	int err;

	if ((err = grub_find(text, GRUB_VAR, &v)) < 0)
		return err;
	if (!v.line) {
		vu_err("%s: does not set %s: add the line %s=\"\" and run vfio-boot again",
		       GRUB_DEFAULT, GRUB_VAR, GRUB_VAR);
		return -EBADMSG;
	}
	if (!(*out = malloc(len + strlen(words) + 8)))
		return -ENOMEM;
	sprintf(*out, "%.*s%s%s%s%s", (int)v.vstart, text, v.quoted ? "" : "\"", words,
		v.quoted ? "" : "\"", text + v.vend);
	/* The whole line, before and after, for the diff. */
	const char *ls = text + v.vstart, *ns;

	while (ls > text && ls[-1] != '\n')
		ls--;
	snprintf(old, sizeof(old), "%.*s", (int)strcspn(ls, "\n"), ls);
	ns = *out + (ls - text);
	snprintf(new, sizeof(new), "%.*s", (int)strcspn(ns, "\n"), ns);
	diff_line(GRUB_DEFAULT, v.line, old, new);
	return 0;
}

/* The tool's command for GRUB: update-grub, or grub-mkconfig -o where it writes. */
static int grub_generate(const struct loader *l)
{
	char *upd[] = { "update-grub", NULL };
	char *mk[] = { (char *)l->tool, "-o", (char *)l->output, NULL };

	return gen_run(strcmp(l->tool, "update-grub") == 0 ? upd : mk);
}

/* kernel-install add, for each kernel with its image: the entries made again. */
static int kernel_install_all(void)
{
	struct vu_names kvers = { 0 };
	char path[PATH_MAX], image[PATH_MAX];
	int st = 0, done = 0;

	if (vu_path(path, sizeof(path), "/lib/modules") == 0)
		vu_listdir(path, &kvers);
	for (size_t i = 0; i < kvers.n && st == 0; i++) {
		snprintf(image, sizeof(image), "/boot/vmlinuz-%s", kvers.v[i]);
		if (!vu_existsf("%s", image)) {
			snprintf(image, sizeof(image), "/lib/modules/%s/vmlinuz", kvers.v[i]);
			if (!vu_existsf("%s", image))
				continue;
		}
		/* with its initramfs, as the distribution's hook passes it (Debian's, Fedora's
		 * name) */
		char initrd[PATH_MAX];

		snprintf(initrd, sizeof(initrd), "/boot/initrd.img-%s", kvers.v[i]);
		if (!vu_existsf("%s", initrd))
			snprintf(initrd, sizeof(initrd), "/boot/initramfs-%s.img", kvers.v[i]);
		char *argv[] = { "kernel-install",
				 "add",
				 kvers.v[i],
				 image,
				 vu_existsf("%s", initrd) ? initrd : NULL,
				 NULL };

		st = gen_run(argv);
		done++;
	}
	vu_names_free(&kvers);
	if (st == 0 && !done)
		vu_warn(
		    "kernel-install: no kernel with its image under /lib/modules: the next one installed takes %s",
		    KI_CMDLINE);
	return st;
}

/* grubby and kernelstub: the tool edits; one run per parameter. */
static int tool_apply(const struct loader *l, const struct param_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char arg[256], opt[300];
		int st;

		if (c[i].value)
			snprintf(arg, sizeof(arg), "%s%s%s", c[i].name, *c[i].value ? "=" : "",
				 c[i].value);
		else
			snprintf(arg, sizeof(arg), "%s", c[i].name);
		if (strcmp(l->name, "grubby") == 0) {
			snprintf(opt, sizeof(opt), "--%s=%s", c[i].value ? "args" : "remove-args",
				 arg);
			char *argv[] = { "grubby", "--update-kernel=ALL", opt, NULL };

			st = gen_run(argv);
		} else {
			char *argv[] = { "kernelstub",
					 c[i].value ? "--add-options" : "--delete-options", arg,
					 NULL };

			st = gen_run(argv);
		}
		if (st < 0)
			return VU_EXIT_FAIL;
	}
	return 0;
}

/*
 * What the tool made, against what was asked: a later file that sets the
 * variable again (a .cfg in /etc/default/grub.d) wins over ours. Said, not
 * undone: the change is made and remembered, and undo takes it back.
 */
static int read_back(const struct loader *l, const struct param_change *c, size_t n)
{
	char next[BOOT_CMDLINE_MAX], v[256];
	int unseen = 0;

	if (!*l->output || loader_next_boot(l, next, sizeof(next)) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *got = vu_cmdline_get(next, c[i].name, v, sizeof(v));

		if (c[i].value ? got && strcmp(got, c[i].value) == 0 : got == NULL)
			continue;
		unseen++;
		vu_err(
		    "%s: %s ran, but the next boot's command line there %s %s%s%s (does a file it reads after %s set it again?)",
		    l->output, l->tool, c[i].value ? "lacks" : "still has", c[i].name,
		    c[i].value && *c[i].value ? "=" : "", c[i].value ? c[i].value : "", l->config);
	}
	return unseen;
}

int loader_apply(const struct loader *l, const struct param_change *c, size_t n)
{
	char path[PATH_MAX], words[BOOT_CMDLINE_MAX], *out = NULL;
	struct saved s = { 0 };
	int err, st = VU_EXIT_FAIL;

	if (!l->config)
		return tool_apply(l, c, n);
	/* read once: what is parsed is what is kept to put back */
	if (vu_path(path, sizeof(path), "%s", l->config) < 0 || saved_take(&s, path) < 0)
		return VU_EXIT_FAIL;
	if ((err = configured_from(l, s.text, words, sizeof(words))) < 0 && err != -ENOENT)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (vu_cmdline_set(words, sizeof(words), c[i].name, c[i].value) < 0) {
			vu_err("%s: the kernel command line would be too long", l->config);
			goto done;
		}
	if (strcmp(l->name, "grub") == 0) {
		if (grub_edit(s.text ? s.text : "", words, &out) < 0)
			goto done;
	} else {
		if (!(out = malloc(strlen(words) + 2)))
			goto done;
		sprintf(out, "%s\n", words);
		if (s.text) {
			char old[BOOT_CMDLINE_MAX];

			snprintf(old, sizeof(old), "%.*s", (int)strcspn(s.text, "\n"), s.text);
			diff_line(l->config, 1, old, words);
		} else {
			diff_line(l->config, 0, NULL, words);
		}
	}
	if (vu_dry_run) {
		if (strcmp(l->name, "grub") == 0)
			grub_generate(l);
		else
			kernel_install_all();
		st = 0;
		goto done;
	}
	if (backup(&s) < 0 || file_write(path, out, s.text ? s.mode : 0644) < 0)
		goto done;
	if ((strcmp(l->name, "grub") == 0 ? grub_generate(l) : kernel_install_all()) < 0) {
		if (saved_restore(&s) == 0)
			vu_err("%s: put back as it was", l->config);
		goto done;
	}
	st = read_back(l, c, n) ? BOOT_UNSEEN : 0;
done:
	free(out);
	saved_free(&s);
	return st;
}
