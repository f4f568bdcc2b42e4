#!/usr/bin/env bats
# The fuzz harnesses' kept inputs (tests/fuzz/corpus: seeds and what make
# fuzz-merge kept; tests/fuzz/regress: every finding, fixed), replayed through
# the same harnesses and their invariants without clang. In make check's san pass
# they run with AddressSanitizer and UndefinedBehaviorSanitizer too.

load helpers

replay() { # NAME: every kept input of that harness
	run "$BUILD/replay/fuzz-$1" "$TESTS/fuzz/corpus/$1" "$TESTS/fuzz/regress/$1"
	assert_success
	[[ ${lines[-1]} =~ ^([0-9]+)\ inputs$ ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
}

@test "device addresses and IDs: what parses reads back the same in every spelling" { replay devarg; }
@test "domain XML: hostdev addresses in range, no crash on any document" { replay domxml; }
@test "state files: only what could have been written is kept, and reads back unchanged" { replay state; }
@test "machine descriptions: parse and complete, or a message" { replay machine; }
@test "hook-run names and shell words: never a path outside qemu.d, always read back exactly" { replay hookrun; }

@test "every harness has a seed corpus and a place for its findings" {
	local f
	for f in "$TESTS"/fuzz/fuzz-*.c; do
		f=${f##*/fuzz-}
		f=${f%.c}
		[ -n "$(ls "$TESTS/fuzz/corpus/$f")" ]
		[ -d "$TESTS/fuzz/regress/$f" ]
	done
}
