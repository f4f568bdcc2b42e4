/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options every command shares, and their handling. */
#ifndef VU_OPTS_H
#define VU_OPTS_H

#include <getopt.h>
#include <stdbool.h>

/* Long-only options; commands number their own from VU_OPT_CMD. */
enum {
	VU_OPT_SYSROOT = 0x100,
	VU_OPT_JSON,
	VU_OPT_CMD = 0x200,
};

#define VU_LONGOPTS_COMMON                                                              \
	{ "sysroot", required_argument, NULL, VU_OPT_SYSROOT },                         \
	    { "verbose", no_argument, NULL, 'v' }, { "quiet", no_argument, NULL, 'q' }, \
	    { "help", no_argument, NULL, 'h' },                                         \
	{                                                                               \
		"version", no_argument, NULL, 'V'                                       \
	}

#define VU_USAGE_COMMON                                                             \
	"      --sysroot DIR      look up /sys, /proc, /dev, /run and /etc below DIR\n" \
	"  -v, --verbose          log each action to stderr as it happens\n"            \
	"  -q, --quiet            print errors only\n"                                  \
	"  -h, --help             show this help and exit\n"                            \
	"  -V, --version          show the version and exit\n"

/* --json, where the command takes it. */
extern bool vu_opt_json;

/*
 * --sysroot, -v, -q, -V, and -n and --json where the command's options have
 * them; false for an option the command must handle.
 */
bool vu_common_opt(int c, const char *arg);
/*
 * After option parsing: take the sysroot from the option or from
 * VFIO_UTILS_SYSROOT. A directory that cannot be used is a usage error.
 */
void vu_common_done(void);

/*
 * S as a number of seconds, more than 0 and at most MAX_S, in milliseconds
 * (at least 1): -EINVAL for anything else ("", "5s", "nan", "-1", "1e99").
 */
int vu_seconds_ms(const char *s, int max_s);
/* The same for --timeout: a usage error naming the option otherwise. */
int vu_timeout_opt(const char *s);
/*
 * The one sub-command after the options, one of NAMES (NULL-terminated; the
 * first is the default when none is given); anything else is a usage error.
 */
const char *vu_subcommand(int argc, char **argv, const char *const *names);

/* A sub-command that takes arguments: from MIN_ARGS to MAX_ARGS of them. */
struct vu_subcmd {
	const char *name;
	int min_args, max_args;
};
/*
 * The sub-command after the options, one of CMDS (ended by a NULL name),
 * with optind left at its first argument; none, another word or another
 * number of arguments is a usage error, ALSO (when not NULL) added to the
 * message when none is given.
 */
const struct vu_subcmd *vu_subcommand_args(int argc, char **argv, const struct vu_subcmd *cmds,
					   const char *also);

/* How a domain command's sub-command takes the domain: not at all, by its XML, or either way. */
enum vu_domain_arg { VU_DOMAIN_NONE, VU_DOMAIN_XML, VU_DOMAIN_EITHER };
/*
 * The domain operand of sub-command CMD, which TAKES it so: --domain-xml
 * (XML, NULL when not given) or its name (the argument at optind), exactly
 * one for VU_DOMAIN_EITHER; --domain-xml for VU_DOMAIN_XML; neither for
 * VU_DOMAIN_NONE ("--domain-xml goes with WITH"). Usage errors exit 2.
 * Returns the name given, or NULL.
 */
const char *vu_domain_operand(const char *cmd, enum vu_domain_arg takes, const char *xml, int argc,
			      char **argv, const char *with);

#endif
