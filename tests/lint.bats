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
