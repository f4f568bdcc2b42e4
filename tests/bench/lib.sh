# Timing helpers for the benchmarks (not tests: nothing here fails a build).
# shellcheck shell=bash

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH/../.." && pwd)
OUT=$BENCH/out
PATH=$TOP/build:$TOP/tests/lib:$PATH
export LC_ALL=C
mkdir -p "$OUT"

# mean_us K CMD...: mean wall-clock microseconds of CMD over K runs, after one warm-up run.
mean_us() {
	local k=$1 i t0 t1
	shift
	"$@" >/dev/null 2>&1
	t0=$(date +%s%N)
	for ((i = 0; i < k; i++)); do
		"$@" >/dev/null 2>&1
	done
	t1=$(date +%s%N)
	echo $(((t1 - t0) / k / 1000))
}

# maxrss_kb CMD...: peak resident memory of CMD, in KiB ("-" without GNU time).
maxrss_kb() {
	if /usr/bin/time -f %M true >/dev/null 2>&1; then
		/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
	else
		echo -
	fi
}

ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# machine_tree NAME LISTING-FILE: a static tree, named, under out/.
machine_tree() {
	local root=$OUT/root-$1
	rm -rf "$root"
	mkroot "$2" "$root" >&2
	echo "$root"
}
