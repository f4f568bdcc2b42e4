# Shared set-up for every suite: bats-support, bats-assert, the built
# commands on PATH, and machine trees built from tests/fixtures/machines.
# shellcheck shell=bash

TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$TESTS")
BUILD=${VU_BUILD:-$TOP/build}
FIXTURES=$TESTS/fixtures
MACHINES=$FIXTURES/machines

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

PATH=$BUILD:$TESTS/lib:$PATH
export LC_ALL=C
# Nothing a test runs may see the host's system trees by accident.
unset VFIO_UTILS_SYSROOT

# machine NAME|FILE: a static tree for a machine description, built once
# per test file; prints its root.
machine() {
	local src=$1 root
	[ -f "$src" ] || src=$MACHINES/$1.txt
	root=$BATS_FILE_TMPDIR/root-$(basename "$src" .txt)
	if [ ! -d "$root" ]; then
		mkroot "$src" "$root" >&2 || return 1
	fi
	echo "$root"
}

# A machine from a description given on stdin, in a fresh tree per test.
machine_from_stdin() {
	local src=$BATS_TEST_TMPDIR/machine-$RANDOM.txt
	cat >"$src"
	machine "$src"
}

# Every fixture listing.
fixtures() {
	ls "$MACHINES"/*.txt
}
