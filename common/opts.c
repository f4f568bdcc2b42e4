/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options every command shares, and their handling. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "domxml.h"
#include "opts.h"
#include "msg.h"
#include "sysfs.h"

static const char *sysroot_opt;
bool vu_opt_json;

bool vu_common_opt(int c, const char *arg)
{
	switch (c) {
	case VU_OPT_SYSROOT:
		sysroot_opt = arg;
		return true;
	case 'v':
		vu_verbosity = VU_VERBOSE;
		return true;
	case 'q':
		vu_verbosity = VU_QUIET;
		return true;
	case 'n':
		vu_dry_run = true;
		return true;
	case VU_OPT_JSON:
		vu_opt_json = true;
		return true;
	case 'V':
		vu_print_version();
	}
	return false;
}

void vu_common_done(void)
{
	int err = vu_sysroot_set(sysroot_opt);

	if (err) {
		vu_errc(err, "%s: cannot use as sysroot",
			sysroot_opt ? sysroot_opt : "$VFIO_UTILS_SYSROOT");
		vu_errtryhelp();
	}
	vu_close_stdout_at_exit();
}

int vu_seconds_ms(const char *s, int max_s)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(s, &end);
	/* Decimal only: strtod would take "nan", "inf" and "0x1p4" too. */
	if (end == s || *end || errno || !isfinite(t) || t <= 0 || t > max_s ||
	    s[strspn(s, "0123456789.")] != '\0')
		return -EINVAL;
	return t * 1000 < 1 ? 1 : (int)(t * 1000);
}

/* "a, b or c": the names of a list, N of them, each NAME(I). */
static const char *names_list(char *buf, size_t size, size_t n,
			      const char *(*name)(const void *, size_t), const void *v)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i == 0	     ? ""
					: i + 1 == n ? " or "
						     : ", ",
					name(v, i));
	return buf;
}

static const char *plain_name(const void *v, size_t i)
{
	return ((const char *const *)v)[i];
}

static const char *subcmd_name(const void *v, size_t i)
{
	return ((const struct vu_subcmd *)v)[i].name;
}

const char *vu_subcommand(int argc, char **argv, const char *const *names)
{
	const char *what = optind < argc ? argv[optind++] : names[0];
	char list[256];
	size_t n = 0;

	if (optind < argc)
		vu_usage_error("%s: one command at a time", argv[optind]);
	for (; names[n]; n++)
		if (strcmp(what, names[n]) == 0)
			return what;
	vu_usage_error("%s: not a command (%s)", what,
		       names_list(list, sizeof(list), n, plain_name, names));
}

const struct vu_subcmd *vu_subcommand_args(int argc, char **argv, const struct vu_subcmd *cmds,
					   const char *also)
{
	const char *what;
	char list[256];
	size_t n = 0;
	int args;

	while (cmds[n].name)
		n++;
	names_list(list, sizeof(list), n, subcmd_name, cmds);
	if (optind >= argc)
		vu_usage_error("no command: %s%s", list, also ? also : "");
	what = argv[optind++];
	args = argc - optind;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(what, cmds[i].name) != 0)
			continue;
		if (args < cmds[i].min_args || args > cmds[i].max_args)
			vu_usage_error("%s: %s (see --help)", what,
				       args > cmds[i].max_args ? "too many arguments"
							       : "an argument is missing");
		return &cmds[i];
	}
	vu_usage_error("%s: not a command (%s)", what, list);
}

const char *vu_domain_operand(const char *cmd, enum vu_domain_arg takes, const char *xml, int argc,
			      char **argv, const char *with)
{
	const char *name = optind < argc ? argv[optind] : NULL;

	if (takes == VU_DOMAIN_NONE && xml)
		vu_usage_error("--domain-xml goes with %s", with);
	if (takes == VU_DOMAIN_XML && !xml)
		vu_usage_error("%s needs the domain: --domain-xml FILE|-", cmd);
	if (takes == VU_DOMAIN_EITHER && !xml == !name)
		vu_usage_error("%s needs the domain: --domain-xml FILE|- or its name", cmd);
	/* A name is a file's name below /run/libvirt/qemu: libvirt refuses the rest too. */
	if (name && !vu_domain_name_ok(name))
		vu_usage_error(
		    "'%s': not a domain name (libvirt refuses an empty one, or one with '/')",
		    name);
	return name;
}

int vu_timeout_opt(const char *s)
{
	int ms = vu_seconds_ms(s, 86400);

	if (ms < 0)
		vu_usage_error("--timeout: '%s' is not a number of seconds (at most 86400)", s);
	return ms;
}
