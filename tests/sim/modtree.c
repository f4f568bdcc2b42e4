/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A module tree for the simulated kernel: fake .ko objects that real depmod indexes. */
#include <elf.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "modtree.h"

struct buf {
	char *data;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->data = realloc(b->data, b->cap);
		if (!b->data)
			abort();
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void puts0(struct buf *b, const char *s)
{
	put(b, s, strlen(s) + 1);
}

static void align(struct buf *b, size_t a)
{
	static const char zero[16];

	if (b->len % a)
		put(b, zero, a - b->len % a);
}

/* Modules whose driver matches DEV's IDs get a pci: alias for it. */
static void aliases(const struct machine *m, const struct m_mod *mod, struct buf *info)
{
	char line[160];

	if (!mod->driver)
		return;
	if (strcmp(mod->driver, "vfio-pci") == 0) {
		puts0(info, "alias=vfio_pci:v*d*sv*sd*bc*sc*i*");
		return;
	}
	for (size_t i = 0; i < m->ndevs; i++) {
		const struct m_dev *d = &m->devs[i];

		if (!d->native || strcmp(d->native, mod->driver) != 0)
			continue;
		snprintf(line, sizeof(line), "alias=pci:v%08Xd%08Xsv*sd*bc*sc*i*", d->vendor,
			 d->device);
		puts0(info, line);
	}
}

static int write_ko(const struct machine *m, const struct m_mod *mod, const char *path)
{
	struct buf info = { 0 }, ksym = { 0 }, strtab = { 0 }, symtab = { 0 }, out = { 0 };
	static const char shstr[] =
	    "\0.modinfo\0.gnu.linkonce.this_module\0__ksymtab_strings\0.symtab\0.strtab\0.shstrtab";
	enum { S_NULL, S_MODINFO, S_THIS, S_KSYM, S_SYMTAB, S_STRTAB, S_SHSTR, S_NUM };
	static const unsigned name_off[S_NUM] = { 0, 1, 10, 36, 54, 62, 70 };
	char line[512], sym[128];
	Elf64_Shdr sh[S_NUM];
	Elf64_Ehdr eh;
	Elf64_Sym s;
	char this_module[0x380] = { 0 };
	size_t off[S_NUM] = { 0 };
	FILE *f;
	int err = 0;

	puts0(&info, "license=GPL");
	snprintf(line, sizeof(line), "name=%s", mod->name);
	puts0(&info, line);
	snprintf(line, sizeof(line), "vermagic=%s SMP preempt mod_unload modversions ", m->kernel);
	puts0(&info, line);
	if (mod->softdep) {
		snprintf(line, sizeof(line), "softdep=%s", mod->softdep);
		puts0(&info, line);
	}
	aliases(m, mod, &info);
	/* The kernel's module name sits at offset 24 of struct module. */
	snprintf(this_module + 24, 56, "%s", mod->name);
	snprintf(sym, sizeof(sym), "%s_sym", mod->name);
	puts0(&ksym, sym);

	put(&strtab, "", 1);
	memset(&s, 0, sizeof(s));
	put(&symtab, &s, sizeof(s));
	/* The exported symbol, defined in the this_module section. */
	s.st_name = (Elf64_Word)strtab.len;
	puts0(&strtab, sym);
	s.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
	s.st_shndx = S_THIS;
	put(&symtab, &s, sizeof(s));
	/* One undefined reference per dependency: depmod resolves them. */
	for (size_t i = 0; i < mod->ndeps; i++) {
		memset(&s, 0, sizeof(s));
		snprintf(sym, sizeof(sym), "%s_sym", mod->deps[i]);
		s.st_name = (Elf64_Word)strtab.len;
		puts0(&strtab, sym);
		s.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
		s.st_shndx = SHN_UNDEF;
		put(&symtab, &s, sizeof(s));
	}

	memset(&eh, 0, sizeof(eh));
	put(&out, &eh, sizeof(eh));
	off[S_MODINFO] = out.len;
	put(&out, info.data, info.len);
	align(&out, 16);
	off[S_THIS] = out.len;
	put(&out, this_module, sizeof(this_module));
	off[S_KSYM] = out.len;
	put(&out, ksym.data, ksym.len);
	align(&out, 8);
	off[S_SYMTAB] = out.len;
	put(&out, symtab.data, symtab.len);
	off[S_STRTAB] = out.len;
	put(&out, strtab.data, strtab.len);
	off[S_SHSTR] = out.len;
	put(&out, shstr, sizeof(shstr));
	align(&out, 8);

	memset(sh, 0, sizeof(sh));
	for (int i = 1; i < S_NUM; i++) {
		sh[i].sh_name = name_off[i];
		sh[i].sh_offset = off[i];
		sh[i].sh_addralign = 1;
		sh[i].sh_type = SHT_PROGBITS;
	}
	sh[S_MODINFO].sh_size = info.len;
	sh[S_MODINFO].sh_flags = SHF_ALLOC;
	sh[S_THIS].sh_size = sizeof(this_module);
	sh[S_THIS].sh_flags = SHF_ALLOC | SHF_WRITE;
	sh[S_KSYM].sh_size = ksym.len;
	sh[S_KSYM].sh_flags = SHF_ALLOC;
	sh[S_SYMTAB].sh_type = SHT_SYMTAB;
	sh[S_SYMTAB].sh_size = symtab.len;
	sh[S_SYMTAB].sh_entsize = sizeof(Elf64_Sym);
	sh[S_SYMTAB].sh_link = S_STRTAB;
	sh[S_SYMTAB].sh_info = 1; /* every symbol after the null one is global */
	sh[S_SYMTAB].sh_addralign = 8;
	sh[S_STRTAB].sh_type = SHT_STRTAB;
	sh[S_STRTAB].sh_size = strtab.len;
	sh[S_SHSTR].sh_type = SHT_STRTAB;
	sh[S_SHSTR].sh_size = sizeof(shstr);

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_shoff = out.len;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = S_NUM;
	eh.e_shstrndx = S_SHSTR;
	put(&out, sh, sizeof(sh));
	memcpy(out.data, &eh, sizeof(eh));

	f = fopen(path, "we");
	if (!f || fwrite(out.data, 1, out.len, f) != out.len)
		err = -1;
	if (f && fclose(f) != 0)
		err = -1;
	if (err)
		fprintf(stderr, "sim: %s: %s\n", path, strerror(errno));
	free(info.data);
	free(ksym.data);
	free(strtab.data);
	free(symtab.data);
	free(out.data);
	return err;
}

static int mkdirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *c = p + 1; *c; c++)
		if (*c == '/') {
			*c = '\0';
			mkdir(p, 0755);
			*c = '/';
		}
	if (mkdir(p, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "sim: %s: %s\n", p, strerror(errno));
		return -1;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int modtree_write(const struct machine *m, const char *root)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	FILE *builtin, *order, *modinfo;
	pid_t pid;
	int status;

	snprintf(dir, sizeof(dir), "%s/lib/modules/%s", root, m->kernel);
	/* A root used before may hold modules this machine does not have. */
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(path, sizeof(path), "%s/kernel/drivers", dir);
	if (mkdirs(path) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/modules.builtin", dir);
	builtin = fopen(path, "we");
	snprintf(path, sizeof(path), "%s/modules.order", dir);
	order = fopen(path, "we");
	snprintf(path, sizeof(path), "%s/modules.builtin.modinfo", dir);
	modinfo = fopen(path, "we");
	if (!builtin || !order || !modinfo) {
		fprintf(stderr, "sim: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < m->nmods; i++) {
		const struct m_mod *mod = &m->mods[i];

		if (mod->state == M_MOD_ABSENT)
			continue;
		if (mod->state == M_MOD_BUILTIN) {
			fprintf(builtin, "kernel/drivers/%s.ko\n", mod->name);
			/* "module.key=value", NUL-terminated, as the kernel build writes it. */
			fprintf(modinfo, "%s.license=GPL%c%s.file=kernel/drivers/%s%c", mod->name,
				0, mod->name, mod->name, 0);
			if (mod->softdep)
				fprintf(modinfo, "%s.softdep=%s%c", mod->name, mod->softdep, 0);
			continue;
		}
		fprintf(order, "kernel/drivers/%s.ko\n", mod->name);
		snprintf(path, sizeof(path), "%s/kernel/drivers/%s.ko", dir, mod->name);
		if (write_ko(m, mod, path) < 0)
			return -1;
	}
	fclose(builtin);
	fclose(order);
	fclose(modinfo);
	fflush(NULL);
	/* The real depmod indexes the tree, so lookups are the real ones too. */
	pid = fork();
	if (pid == 0) {
		execlp("depmod", "depmod", "-b", root, m->kernel, (char *)NULL);
		execl("/sbin/depmod", "depmod", "-b", root, m->kernel, (char *)NULL);
		fprintf(stderr, "sim: depmod: %s (install kmod)\n", strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "sim: depmod -b %s %s failed\n", root, m->kernel);
		return -1;
	}
	return 0;
}

int modtree_image_name(const void *image, size_t len, char *name, size_t size)
{
	const Elf64_Ehdr *eh = image;
	const Elf64_Shdr *sh;
	const char *shstr;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(*sh) > len || eh->e_shstrndx >= eh->e_shnum)
		return -ENOEXEC;
	sh = (const Elf64_Shdr *)((const char *)image + eh->e_shoff);
	shstr = (const char *)image + sh[eh->e_shstrndx].sh_offset;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const char *p, *end;

		if (strcmp(shstr + sh[i].sh_name, ".modinfo") != 0 ||
		    sh[i].sh_offset + sh[i].sh_size > len)
			continue;
		p = (const char *)image + sh[i].sh_offset;
		end = p + sh[i].sh_size;
		for (; p < end; p += strnlen(p, (size_t)(end - p)) + 1)
			if (strncmp(p, "name=", 5) == 0) {
				snprintf(name, size, "%.*s",
					 (int)strnlen(p + 5, (size_t)(end - p - 5)), p + 5);
				return 0;
			}
	}
	return -ENOEXEC;
}
