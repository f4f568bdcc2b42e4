#!/usr/bin/env bats
# Static analysis: cppcheck and clang-tidy over every C file (make lint), each
# finding an error. The configuration says what is left out, and why.

load helpers

@test "cppcheck: nothing in cmd/, common/, the simulator or the fuzz harnesses" {
	run make -s -C "$TOP" lint-cppcheck
	assert_success
	assert_output ""
}

@test "clang-tidy: nothing, every warning an error" {
	run make -s -C "$TOP" lint-tidy
	assert_success
	assert_output ""
}

@test "a planted bug fails both: a leak, an unchecked strcmp" {
	local dir=$BATS_TEST_TMPDIR/planted
	mkdir -p "$dir"
	cp "$TOP/.clang-tidy" "$dir/"
	cat >"$dir/planted.c" <<'C'
#include <stdlib.h>
#include <string.h>

int planted(const char *s);

int planted(const char *s)
{
	char *p = malloc(4);

	if (!p || strcmp(s, "x"))
		return 1;
	p[4] = '\0';
	return 0;
}
C
	run make -s -C "$TOP" lint-cppcheck LINT_DIRS="$dir"
	assert_failure
	assert_output --partial "memleak"
	run make -s -C "$TOP" lint-tidy LINT_DIRS="$dir"
	assert_failure
	assert_output --partial "bugprone-suspicious-string-compare"
}

# A message split across two literals cannot be found with grep: every
# literal that does not end a line of output ("\n") is whole, and
# clang-format is told not to split them.
whole_messages() {
	awk 'prev ~ /[^n]"$/ && $0 ~ /^[ \t]*"/ { print FILENAME ":" FNR ": " $0; bad = 1 }
		{ prev = $0 } ENDFILE { prev = "" } END { exit bad }' "$@"
}

@test "messages are whole string literals, so grep finds them; clang-format keeps them so" {
	run whole_messages "$TOP"/cmd/*.c "$TOP"/cmd/*/*.c "$TOP"/common/*.c
	assert_success
	assert_output ""
	grep -q '^BreakStringLiterals: false$' "$TOP/.clang-format"
	# and the check finds a split one
	printf 'vu_err("%%s: in no IOMMU "\n\t"group", x);\n' >"$BATS_TEST_TMPDIR/split.c"
	run whole_messages "$BATS_TEST_TMPDIR/split.c"
	assert_failure
}
