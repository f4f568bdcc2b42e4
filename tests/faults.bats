#!/usr/bin/env bats
# The fault matrix. A fault-free run of the single-GPU start and release
# sequences records, in the simulator's journal, every write to /sys and every
# module system call they make. Then, for each of them, on a fresh machine:
# that one operation fails with EIO, or blocks (and completes once released),
# or blocks and the command is killed with SIGKILL at that point; the
# sequences go on as the hook scripts would (start stops at the first
# failure, release runs every line); then the recovery
#   vfio-unbind --restore; efifb bind; vtcon bind; dm-ctl start
# must bring the machine back to its starting state: drivers, overrides,
# modules, consoles, framebuffer, display manager, and nothing left remembered.
# Each test prints its count of cases and survivors.

load helpers

GPU=0000:09:00.0
T=0.5 # every command's deadline: a held write outlasts it
RELEASE=("vfio-unbind --timeout $T --restore" "efifb --timeout $T bind" "vtcon --timeout $T bind" "dm-ctl start")

# start [--unload]: the start sequence, README's with --unload too; its
# operations are recorded once per variant.
start() {
	START=("dm-ctl stop" "vtcon --timeout $T unbind" "efifb --timeout $T unbind" "vfio-bind --timeout $T --group $* $GPU")
	OPS=$BATS_FILE_TMPDIR/ops${1:-}
	VARIANT=${1:+ $1}
}

setup() {
	PATH=$STANDINS:$PATH
	require_sim
}

teardown() {
	sim_down
}

# A fresh machine, booted and logged in; its state, the same at every boot,
# in $before.
boot() {
	sim_up "$SINGLE" "kernel 5.15.0-91-generic" >/dev/null
	dm_boot
	[ -n "${before:-}" ] || before=$(machine_state)
}

# The operations of a fault-free cycle: PHASE KIND TARGET SKIP, one a line;
# SKIP is how many earlier writes the same attribute saw.
record() {
	[ -s "$OPS" ] && return
	boot
	local phase cmd
	: >"$SIMROOT/.sim/journal"
	for cmd in "${START[@]}"; do on_sim $cmd >/dev/null 2>&1; done
	echo "--release" >>"$SIMROOT/.sim/journal"
	for cmd in "${RELEASE[@]}"; do on_sim $cmd >/dev/null 2>&1; done
	awk -F'\t' '
		$1 == "--release" { phase = "release"; next }
		{ if (phase == "") phase = "start"; print phase, $1, $2, seen[$1 " " $2]++ }
	' "$SIMROOT/.sim/journal" >"$OPS"
	sim_down
	[ "$(wc -l <"$OPS")" -ge 20 ]
}

# run_cmd MODE CMD: one command; MODE block releases a held write after the
# command's timeouts, kill sends SIGKILL while it is held. Its exit status.
run_cmd() {
	local mode=$1 pid i pidfile=$BATS_TEST_TMPDIR/cmd.pid
	shift
	# Nothing to release or kill: run it and be done.
	if [ "$mode" = none ]; then
		sim exec "$SIMROOT" -- "$@" >/dev/null 2>&1
		return
	fi
	# sim exec execs the command: the pid it leaves is the command's, for
	# kill -9. A shell of its own waits for it, and keeps bash's "Killed".
	rm -f "$pidfile"
	bash -c 'sim exec "$1" -- "${@:3}" >/dev/null 2>&1 & echo $! >"$2"; wait $!' \
		_ "$SIMROOT" "$pidfile" "$@" 2>/dev/null &
	pid=$!
	for ((i = 0; i < 1000; i++)); do
		alive_pid "$pid" || break
		if held_write; then
			if [ "$mode" = kill ]; then
				for ((i = 0; i < 500; i++)); do [ -s "$pidfile" ] && break; sleep 0.01; done
				kill -KILL "$(cat "$pidfile")" || true
			else
				# past --timeout (0.5 s): the command gives up, the write is late
				for ((i = 0; i < 40; i++)); do alive_pid "$pid" || break; sleep 0.02; done
			fi
			sim ctl "$SIMROOT" release writes
			break
		fi
		sleep 0.01
	done
	wait "$pid"
}

# held_write: the simulator holds a write; read without a process a poll.
held_write() {
	local line
	while read -r line; do
		[[ $line == "held write"* ]] && return 0
	done <"$SIMROOT/.simfs/control"
	return 1
}

# recover: every line of the recovery (the release's), whatever each ends in.
recover() {
	local cmd
	for cmd in "${RELEASE[@]}"; do run_cmd none $cmd || true; done
}

# judge NAME: one case more; a survivor when the machine is back where it began.
judge() {
	cases=$((cases + 1))
	if [ "$(machine_state)" = "$before" ]; then
		survived=$((survived + 1))
	else
		failures+=$'\n'"  $1:"$'\n'$(diff <(echo "$before") <(machine_state) | sed 's/^/    /')
	fi
	sim_down
}

# cycle MODE: start (to its first failure), release (every line), recovery.
cycle() {
	local cmd
	for cmd in "${START[@]}"; do
		run_cmd "$1" $cmd || break
	done
	for cmd in "${RELEASE[@]}"; do run_cmd "$1" $cmd || true; done
	recover
}

# matrix KIND: every recorded operation with that fault; prints the figures.
matrix() {
	local kind=$1 phase op target skip cases=0 survived=0 fired failures=
	record
	while read -r phase op target skip; do
		boot
		case $kind:$op in
		errno:write) sim ctl "$SIMROOT" fault write "$target" EIO once skip="$skip" ;;
		errno:*) sim ctl "$SIMROOT" fault module "$target" "$op" EIO once ;;
		*:write) sim ctl "$SIMROOT" fault write "$target" block skip="$skip" ;;
		*:*) sim ctl "$SIMROOT" fault module "$target" "$op" block ;;
		esac
		: >"$SIMROOT/.sim/journal"
		cycle "$([ "$kind" = errno ] && echo none || echo "$kind")"
		fired=$(grep -c -P "^$op\t\Q$target\E\t.*\t(EIO|blocked)$" "$SIMROOT/.sim/journal")
		[ "$fired" -ge 1 ] || failures+=$'\n'"  $phase $op $target (#$skip): the fault never fired"
		judge "$phase $op $target (#$skip)"
	done <"$OPS"
	echo "# fault matrix, $kind$VARIANT: $cases cases, $survived survivors" >&3
	[ -z "$failures" ] || fail "not back to the start after:$failures"
}

@test "EIO at every write and module operation of start and release" {
	start
	matrix errno
}

@test "every write and module operation blocks, then completes late" {
	start
	matrix block
}

@test "SIGKILL of the command at every write and module operation" {
	start
	matrix kill
}

@test "with --unload: EIO at every write and module operation" {
	start --unload
	matrix errno
}

@test "with --unload: every write and module operation blocks, then completes late" {
	start --unload
	matrix block
}

@test "with --unload: SIGKILL of the command at every write and module operation" {
	start --unload
	matrix kill
}

@test "the display manager: stop fails, start fails, dm-ctl killed while it waits" {
	local cases=0 survived=0 failures= cmd
	start
	# stop fails: the start stops there; the release brings all back
	boot
	touch "$SIMROOT/run/standin/stop-fails"
	run_cmd none dm-ctl stop && fail "dm-ctl stop succeeded"
	rm "$SIMROOT/run/standin/stop-fails"
	recover
	judge "stop fails"
	# start fails in the release: the recovery starts it
	boot
	for cmd in "${START[@]}"; do run_cmd none $cmd || true; done
	touch "$SIMROOT/run/standin/start-fails"
	recover
	rm "$SIMROOT/run/standin/start-fails"
	recover
	judge "start fails"
	# killed while stopping (the display manager takes 1 s to go)
	boot
	echo 1 >"$SIMROOT/run/standin/stop-delay"
	sim exec "$SIMROOT" -- dm-ctl stop >/dev/null 2>&1 &
	sleep 0.3
	kill -KILL $!
	wait $! 2>/dev/null || true
	rm "$SIMROOT/run/standin/stop-delay"
	recover
	judge "dm-ctl killed while the display manager stops"
	echo "# fault matrix, display manager: $cases cases, $survived survivors" >&3
	[ -z "$failures" ] || fail "not back to the start after:$failures"
}
