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
bats_require_minimum_version 1.5.0

# The commands, from their one list, the Makefile's: section 1 (bin) and 8 (sbin).
read -ra COMMANDS_1 <<<"$(sed -n 's/^COMMANDS_1 *:= *//p' "$TOP/Makefile")"
read -ra COMMANDS_8 <<<"$(sed -n 's/^COMMANDS_8 *:= *//p' "$TOP/Makefile")"
COMMANDS=("${COMMANDS_1[@]}" "${COMMANDS_8[@]}")

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

PATH=$TESTS/sim:$PATH
KVER=$(uname -r)

# The simulator needs root and /dev/fuse: without them a suite skips, loudly,
# and tests/run turns the skip into a failure when VU_REQUIRE_SIM=1 (CI).
require_sim() {
	local why
	why=$(sim check 2>&1) || skip "SIMULATOR UNAVAILABLE: $why"
}

# sim_up NAME|FILE [DIRECTIVE...]: a simulated machine for this test, its root in
# $SIMROOT; directives are appended to the description.
sim_up() {
	local src=$1
	shift
	require_sim
	[ -f "$src" ] || src=$MACHINES/$src.txt
	if [ $# -gt 0 ]; then
		{ cat "$src"; printf '%s\n' "$@"; } >"$BATS_TEST_TMPDIR/machine.txt"
		src=$BATS_TEST_TMPDIR/machine.txt
	fi
	SIMROOT=$BATS_TEST_TMPDIR/sim
	sim up "$src" "$SIMROOT"
}

sim_down() {
	[ -n "${SIMROOT:-}" ] && sim down "$SIMROOT"
	return 0
}

# The driver a simulated device is bound to, "" when none.
driver_of() {
	local link
	link=$(readlink "$SIMROOT/sys/bus/pci/devices/$1/driver") || { echo ""; return 0; }
	basename "$link"
}

# Run a command with the simulator's sysroot and module trap.
on_sim() {
	sim exec "$SIMROOT" -- "$@"
}

# A process that runs (a zombie does not: orphans' zombies linger where init does not reap).
alive_pid() {
	local stat
	# The state follows the name in parentheses; read, not awk: tests poll this.
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ -n "$stat" ] && [ "${stat%% *}" != Z ]
}

# Run CMD... every 20 ms until it succeeds, for SECONDS at most; its status.
# A fixed sleep is too short when two test runs share the CPUs.
poll() { # SECONDS CMD...
	local _poll_i _poll_n=$(($1 * 50))
	shift
	for _poll_i in $(seq "$_poll_n"); do
		"$@" && return 0
		sleep 0.02
	done
	return 1
}

# Whether process PID has FILE open on descriptor FD.
has_open() { # PID FD FILE
	[ "$(readlink "/proc/$1/fd/$2" 2>/dev/null)" = "$3" ]
}

# Hold NODE open on descriptor 3 in a background sleep, as a user's program
# holds a device node; HOLDER is its pid. Returns once the node is open and
# the process is sleep: a test that went on at once would race the open (an
# unbind could take the node away first).
hold() {
	local node
	node=$(readlink -f "$1")
	sleep 1000 3<"$1" &
	HOLDER=$!
	poll 5 eval 'has_open $HOLDER 3 "$node" && [ "$(cat /proc/$HOLDER/comm 2>/dev/null)" = sleep ]' ||
		{ echo "hold: $1 was not opened" >&2; return 1; }
}

# Wait until the simulator's status has LINE: a background write has reached
# the simulated kernel and waits there.
until_status() {
	local line=$1
	poll 10 eval 'sim status "$SIMROOT" | grep -qxF -- "$line"' && return 0
	echo "until_status: no \"$line\" in the simulator's status" >&2
	sim status "$SIMROOT" >&2
	return 1
}

# Everything vfio-bind and vfio-unbind may change: each device's driver and
# driver_override, the loaded modules. Two snapshots equal: the machine is as it was.
# (driver_override reads wait behind a remove() still running: see overrides.)
. "$TESTS/vm/guest/state"

sim_snapshot() {
	local d link o
	exec 3< <(overrides "$SIMROOT")
	for d in "$SIMROOT"/sys/bus/pci/devices/*; do
		link=$(readlink "$d/driver" 2>/dev/null) || link=-
		read -r o <&3
		printf '%s %s %s\n' "${d##*/}" "${link##*/}" "$o"
	done
	exec 3<&-
	awk '{ print "module " $1 }' "$SIMROOT/proc/modules" | sort
}

# The guides' dual-GPU and single-GPU machines, for the vfio suites.
DUAL=b550-5600g-rtx2060   # seed 001: RTX 2060 in group 8 for the VM, the iGPU for the host
SINGLE=x570-rtx2070s-group # seed 002: one RTX 2070 SUPER, four functions, bridges in group 2

# The init systems' stand-ins (systemctl, rc-service, sv) act on $SIMROOT.
STANDINS=$TESTS/stand-ins

# dm_boot: the display manager running, its X server holding the GPU, as at login.
dm_boot() {
	PATH=$STANDINS:$PATH on_sim bash -c '
		case $(ls "$VFIO_UTILS_SYSROOT/run") in
		*systemd*) systemctl start display-manager.service ;;
		*openrc*) rc-service display-manager start ;;
		*runit*) sv start "$(ls "$VFIO_UTILS_SYSROOT/etc/runit/runsvdir/default")" ;;
		esac' >/dev/null
}

# Everything the screen hand-over touches: consoles, framebuffers, their ranges
# in /proc/iomem (BOOTFB, efifb's, vesafb's), the
# display manager and whether its X server holds the GPU.
screen_snapshot() {
	local c f
	for c in "$SIMROOT"/sys/class/vtconsole/*; do
		[ -e "$c" ] && echo "${c##*/} $(cat "$c/name") bind=$(cat "$c/bind")"
	done
	for f in "$SIMROOT"/sys/bus/platform/devices/*framebuffer*; do
		[ -e "$f" ] && echo "${f##*/} driver=$(basename "$(readlink "$f/driver" 2>/dev/null)" 2>/dev/null)"
	done
	echo "reserved:$(grep -oE ' : (BOOTFB|efifb|vesafb)$' "$SIMROOT/proc/iomem" | cut -c4- | tr '\n' ' ')"
	PATH=$STANDINS:$PATH on_sim dm-ctl --json status | jq -c '[.display_manager.name, .display_manager.active, [.holders[].name]]'
}

# Everything the passthrough cycle may change, and what the commands
# remember: two equal snapshots mean the machine is back where it was.
machine_state() {
	local f
	sim_snapshot
	screen_snapshot
	for f in "$SIMROOT"/run/vfio-utils/*; do
		case ${f##*/} in lock | *.lock) continue ;; esac
		[ -e "$f" ] && echo "remembered ${f##*/}"
	done
	return 0
}

# A temporary hook tree with hook-run as libvirt's qemu hook: $ROOT, its
# hooks directory $H, and $LOG for the scripts to write to.
hook_tree() {
	ROOT=$BATS_TEST_TMPDIR/root
	H=$ROOT/etc/libvirt/hooks
	mkdir -p "$H"
	ln -s "$BUILD/hook-run" "$H/qemu"
	LOG=$BATS_TEST_TMPDIR/log
	export LOG
}

# libvirt's call: qemu GUEST OP SUBOP EXTRA, the domain XML ($XML) on stdin.
hook() {
	printf '%s' "$XML" | "$H/qemu" "$@"
}

# The suites with a real libvirtd and QEMU skip, loudly, without them.
require_libvirt() {
	command -v libvirtd >/dev/null && command -v qemu-system-x86_64 >/dev/null ||
		skip "LIBVIRT UNAVAILABLE: install libvirt-daemon-system and qemu-system-x86 (make deps)"
}

# The small domain those suites define: no disk, VNC on 127.0.0.1, TCG.
TEST_DOMAIN=$FIXTURES/vu-test.xml

# A fresh Debian 12, minbase, from the host's mirror; kept as a tarball.
fresh_root() {
	local cache=/var/cache/vfio-utils/bookworm-minbase.tar mirror root=$1
	if [ ! -s "$cache" ]; then
		mirror=$("$TESTS/lib/host-mirror") || return 1
		mkdir -p "${cache%/*}" "$root.boot"
		debootstrap --variant=minbase bookworm "$root.boot" "$mirror" >&2 &&
			tar -C "$root.boot" -cf "$cache.part" . && mv "$cache.part" "$cache" || return 1
		rm -rf "$root.boot"
	fi
	mkdir -p "$root"
	tar -C "$root" -xf "$cache"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
}

# sim_systemd: systemd's and logind's side of the simulated machine's system
# bus (sim systemd: tests/lib/sim-systemd, answering as the stand-ins do), at
# ROOT/run/dbus/system_bus_socket, where a command below the sysroot looks
# for the system bus; sim down ends it.
sim_systemd() { sim systemd "$SIMROOT"; }

# bus_calls: what was asked of sim_systemd's systemd and logind, a call a line.
bus_calls() { cat "$SIMROOT/run/standin/bus-calls" 2>/dev/null; }

# asked_systemd: a systemctl that logs each call to $BATS_TEST_TMPDIR/asked,
# then does what the stand-in does, first on PATH
asked_systemd() {
	mkdir -p "$BATS_TEST_TMPDIR/asked-bin"
	printf '#!/bin/sh\n# vfio-utils stand-in: the systemctl stand-in, each call logged\necho "$*" >>%s\nexec %s "$@"\n' \
		"$BATS_TEST_TMPDIR/asked" "$STANDINS/systemctl" >"$BATS_TEST_TMPDIR/asked-bin/systemctl"
	chmod 755 "$BATS_TEST_TMPDIR/asked-bin/systemctl"
	PATH=$BATS_TEST_TMPDIR/asked-bin:$PATH
	rm -f "$BATS_TEST_TMPDIR/asked"
}
