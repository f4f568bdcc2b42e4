#!/usr/bin/env bats
# vm-nosleep on the simulator, with the stand-ins of systemd-run (a detached
# transient unit), systemctl (its state, its stop) and systemd-inhibit
# (logind's list of locks, each gone with its process). What is checked is
# that list and the unit's process, not only what vm-nosleep prints. The real
# systemd and logind judge it in the real-kernel guest (tests/vm.bats, 9.),
# which also checks that the stand-ins print what logind does.

load helpers

setup() {
	PATH=$STANDINS:$PATH
}

teardown() {
	sim_down
}

ns() { on_sim "$BUILD/vm-nosleep" "$@"; }
inhibitors() { on_sim systemd-inhibit --list --no-legend; }
main_pid() { on_sim systemctl show -P MainPID "$1"; }

@test "hold: a transient unit whose sleep lock logind lists, naming the VM; twice is nothing more; release lets it go" {
	sim_up $SINGLE && sim_systemd
	run ns hold --domain-xml - <<<"<domain><name>win10</name></domain>"
	assert_success
	assert_output --regexp '^win10: sleep held off by vfio-utils-nosleep-win10\.service \(PID [0-9]+\)$'
	run on_sim systemctl is-active vfio-utils-nosleep-win10.service
	assert_output active
	pid=$(main_pid vfio-utils-nosleep-win10.service)
	alive_pid "$pid"
	run inhibitors
	assert_output "vfio-utils 0 root $pid systemd-inhibit sleep the VM \"win10\" is running block"
	run cat "$SIMROOT/run/vfio-utils/nosleep"
	assert_line "win10 by=vm-nosleep"
	# safe to run twice: the same unit, the same lock
	run ns hold win10
	assert_success
	assert_output "win10: vfio-utils-nosleep-win10.service already holds sleep off"
	assert_equal "$(main_pid vfio-utils-nosleep-win10.service)" "$pid"
	assert_equal "$(inhibitors | wc -l)" 1
	run ns status
	assert_output "win10: vfio-utils-nosleep-win10.service active, sleep inhibited"

	run ns release --domain-xml - <<<"<domain><name>win10</name></domain>"
	assert_success
	assert_output "win10: sleep allowed again (vfio-utils-nosleep-win10.service stopped)"
	! alive_pid "$pid"
	run inhibitors
	assert_output ""
	[ ! -e "$SIMROOT/run/vfio-utils/nosleep" ]
	run ns release win10
	assert_success
	assert_output "win10: no inhibitor held: nothing to let go"
}

@test "two domains hold their own locks; a name systemd cannot take as it is gets escaped" {
	sim_up $SINGLE && sim_systemd
	ns hold win10 >/dev/null
	run ns hold 'my vm-1\é'
	assert_success
	assert_output --regexp '^my vm-1\\é: sleep held off by vfio-utils-nosleep-my\\x20vm\\x2d1\\x5c\\xc3\\xa9\.service \(PID [0-9]+\)$'
	assert_equal "$(inhibitors | wc -l)" 2
	run ns --json status
	assert_success
	assert_equal "$(jq -r '.domains[] | "\(.domain) \(.active) \(.inhibitor)"' <<<"$output" | sort)" \
		$'my vm-1\\é true true\nwin10 true true'
	ns release win10 >/dev/null
	run inhibitors
	assert_output --partial 'the VM "my vm-1\é" is running'
	refute_output --partial win10
}

@test "logind refuses the lock: exit 1 within --timeout, the unit stopped, nothing remembered" {
	sim_up $SINGLE && sim_systemd
	mkdir -p "$SIMROOT/run/standin"
	touch "$SIMROOT/run/standin/inhibit-fails"
	SECONDS=0
	run ns --timeout 5 hold win10
	assert_failure 1
	[ "$SECONDS" -lt 5 ]
	assert_output "vm-nosleep: win10: logind did not list the inhibitor of vfio-utils-nosleep-win10.service within 5 s: the unit stopped"
	# its main process asked for once at most (then waited on), and the unit stopped
	(($(bus_calls | grep -c '^Get vfio-utils-nosleep-win10.service MainPID$') <= 1))
	assert_equal "$(bus_calls | tail -1)" "StopUnit vfio-utils-nosleep-win10.service"
	run on_sim systemctl is-active vfio-utils-nosleep-win10.service
	assert_failure 3
	[ ! -e "$SIMROOT/run/vfio-utils/nosleep" ]
	# a unit systemd will not start: its start job failed, said in one line
	rm "$SIMROOT/run/standin/inhibit-fails"
	touch "$SIMROOT/run/standin/run-fails"
	run ns hold win10
	assert_failure 1
	assert_output "vm-nosleep: win10: sleep is not held off: vfio-utils-nosleep-win10.service: systemd's start job ended \"failed\" (journalctl -u vfio-utils-nosleep-win10.service)"
	[ ! -e "$SIMROOT/run/vfio-utils/nosleep" ]
	assert_equal "$(inhibitors)" ""
	# systemd slower than --timeout: said, nothing held, nothing remembered
	rm "$SIMROOT/run/standin/run-fails"
	echo 4 >"$SIMROOT/run/standin/run-delay"
	SECONDS=0
	run ns --timeout 2 hold win10
	assert_failure 1
	[ "$SECONDS" -lt 4 ]
	assert_output "vm-nosleep: win10: sleep is not held off: vfio-utils-nosleep-win10.service: systemd's start job did not end within 2 s"
	[ ! -e "$SIMROOT/run/vfio-utils/nosleep" ]
	# its start job was cancelled: no unit and no lock come later
	assert_equal "$(bus_calls | tail -1)" "StopUnit vfio-utils-nosleep-win10.service"
	sleep 3
	run on_sim systemctl is-active vfio-utils-nosleep-win10.service
	assert_failure 3
	assert_equal "$(inhibitors)" ""
}

@test "logind slow to grant the lock: hold waits on the unit's process, not on systemd, until logind lists it" {
	sim_up $SINGLE && sim_systemd
	mkdir -p "$SIMROOT/run/standin"
	echo 0.6 >"$SIMROOT/run/standin/inhibit-delay"
	run ns hold win10
	assert_success
	asked=$(bus_calls)
	pid=$(main_pid vfio-utils-nosleep-win10.service)
	assert_output "win10: sleep held off by vfio-utils-nosleep-win10.service (PID $pid)"
	run inhibitors
	assert_output "vfio-utils 0 root $pid systemd-inhibit sleep the VM \"win10\" is running block"
	# systemd asked to start the unit, then once for its process; while
	# logind had not listed its lock, that process was waited on (a pidfd),
	# systemd not asked again, logind asked until it listed it
	assert_equal "$(grep -v '^ListInhibitors $' <<<"$asked")" "StartTransientUnit vfio-utils-nosleep-win10.service
GetUnit vfio-utils-nosleep-win10.service
Get vfio-utils-nosleep-win10.service ActiveState
Get vfio-utils-nosleep-win10.service MainPID
Get vfio-utils-nosleep-win10.service StatusText"
	(($(grep -c '^ListInhibitors $' <<<"$asked") > 1))
	ns release win10 >/dev/null
	assert_equal "$(inhibitors)" ""
}

@test "a unit that will not stop: release exits 1 and keeps it remembered; the next release stops it" {
	sim_up $SINGLE && sim_systemd
	ns hold win10 >/dev/null
	touch "$SIMROOT/run/standin/vfio-utils-nosleep-win10.service.stop-fails"
	run ns release win10
	assert_failure 1
	assert_output "vm-nosleep: vfio-utils-nosleep-win10.service: systemd's stop job ended \"failed\" (journalctl -u vfio-utils-nosleep-win10.service)"
	assert_equal "$(inhibitors | wc -l)" 1
	run cat "$SIMROOT/run/vfio-utils/nosleep"
	assert_line "win10 by=vm-nosleep"
	rm "$SIMROOT/run/standin/vfio-utils-nosleep-win10.service.stop-fails"
	run ns release win10
	assert_success
	assert_equal "$(inhibitors)" ""
}

@test "not booted with systemd: says so, starts nothing, exit 0" {
	sim_up $SINGLE "init openrc" "dm lightdm"
	run ns hold win10
	assert_success
	assert_output "win10: not booted with systemd: no logind to hold sleep off (nothing changed)"
	assert_equal "$(inhibitors)" ""
	[ ! -e "$SIMROOT/run/vfio-utils/nosleep" ]
}

@test "-n: the systemd-run and systemctl lines, nothing changed; usage errors" {
	sim_up $SINGLE && sim_systemd
	run ns -n hold win10
	assert_success
	assert_output "systemd-run --quiet --collect --property=Type=exec --unit vfio-utils-nosleep-win10.service --description 'vfio-utils: no host sleep while the VM \"win10\" runs' -- systemd-inhibit --what=sleep --who=vfio-utils '--why=the VM \"win10\" is running' --mode=block sleep infinity"
	assert_equal "$(inhibitors)" ""
	[ ! -e "$SIMROOT/run/vfio-utils/nosleep" ]
	# the dry run is a script that does the same, whatever the name
	run ns -n hold "it's mine"
	assert_success
	PATH=$STANDINS:$PATH VFIO_UTILS_SYSROOT=$SIMROOT bash -c "$output"
	# systemd-run returns once the unit runs; its lock comes a moment later
	for ((i = 0; i < 100; i++)); do
		[ -n "$(inhibitors)" ] && break
		sleep 0.05
	done
	assert_equal "$(inhibitors)" "vfio-utils 0 root $(main_pid "vfio-utils-nosleep-it\\x27s\\x20mine.service") systemd-inhibit sleep the VM \"it's mine\" is running block"
	run ns -n release "it's mine"
	assert_output "systemctl stop 'vfio-utils-nosleep-it\\x27s\\x20mine.service'"
	PATH=$STANDINS:$PATH VFIO_UTILS_SYSROOT=$SIMROOT bash -c "$output"
	assert_equal "$(inhibitors)" ""
	ns hold win10 >/dev/null
	run ns -n release win10
	assert_output "systemctl stop vfio-utils-nosleep-win10.service"
	assert_equal "$(inhibitors | wc -l)" 1
	run ns hold
	assert_failure 2
	assert_output --partial "vm-nosleep: hold needs the domain: --domain-xml FILE|- or its name"
	run ns status --domain-xml -
	assert_failure 2
	run ns sleep win10
	assert_failure 2
	run ns hold --domain-xml - <<<"<domain>"
	assert_failure 1
	run ns hold "$(printf 'x%.0s' {1..300})"
	assert_failure 1
	assert_output --partial ": too long a name for a systemd unit"
}

@test "hold with a policy: the unit runs the watcher (Type=notify); its words checked; below a sysroot the watcher talks to the tree's bus only, and with none there nothing is held" {
	sim_up $SINGLE
	# the tree has no system bus: hold and the watcher say which they looked for, and end
	run ns watch --on-sleep suspend win10
	assert_failure 1
	assert_output "vm-nosleep: win10: the system bus, $SIMROOT/run/dbus/system_bus_socket: No such file or directory"
	run ns hold --on-sleep suspend --timeout 3 win10
	assert_failure 1
	assert_output "vm-nosleep: the system bus, $SIMROOT/run/dbus/system_bus_socket: No such file or directory"
	[ ! -e "$SIMROOT/run/vfio-utils/nosleep" ] || ! grep -q win10 "$SIMROOT/run/vfio-utils/nosleep"
	sim_systemd
	run ns -n hold --on-sleep suspend --on-shutdown hibernate --wait 30 win10
	assert_success
	assert_output --regexp "^systemd-run --quiet --collect --property=Type=notify --unit vfio-utils-nosleep-win10.service --description 'vfio-utils: no host sleep while the VM \"win10\" runs' -- /[^ ]*/vm-nosleep watch --on-sleep suspend --on-shutdown hibernate --if-late pause --wait 30 -- win10\$"
	run ns -n --json hold --on-shutdown shutdown --if-late leave win10
	assert_equal "$(jq -r '[.on_sleep, .on_shutdown, .result] | join(" ")' <<<"$output")" "block shutdown planned"
	# plain blocking needs no watcher: systemd-inhibit, as before
	run ns -n hold --on-sleep block win10
	assert_output --partial " -- systemd-inhibit --what=sleep "
	run ns hold --on-sleep nap win10
	assert_failure 2
	assert_output --partial "vm-nosleep: --on-sleep nap: not one of its words (vm-nosleep(8))"
	run ns hold --on-shutdown suspend win10
	assert_failure 2
	run ns hold --if-late destroy win10
	assert_failure 2
	run ns hold --wait 0 win10
	assert_failure 2
	assert_output --partial "vm-nosleep: --wait 0: expected seconds, from 1 to 3600"
	run ns release --on-sleep suspend win10
	assert_failure 2
	run ns watch --on-sleep suspend
	assert_failure 2
	# this logind grants the watcher no lock (tests/lib/sim-systemd has no
	# Inhibit): the unit stops, logind never lists a lock, and hold fails:
	# nothing held, nothing remembered
	run ns hold --on-sleep suspend --timeout 3 win10
	assert_failure 1
	assert_output --partial "win10: logind did not list the inhibitor of vfio-utils-nosleep-win10.service"
	assert_equal "$(inhibitors)" ""
	run on_sim systemctl is-active vfio-utils-nosleep-win10.service
	assert_output inactive
	[ ! -e "$SIMROOT/run/vfio-utils/nosleep" ] || ! grep -q win10 "$SIMROOT/run/vfio-utils/nosleep"
}

@test "delay: logind's drop-in written whole where systemd reads it, said, removed by 'default'; -n is a script that does the same; someone else's file left alone; bad input" {
	R=$BATS_TEST_TMPDIR/root
	mkdir -p "$R/etc"
	f=$R/etc/systemd/logind.conf.d/vfio-utils.conf
	d() { "$BUILD/vm-nosleep" delay --sysroot "$R" "$@"; }
	run d
	assert_success
	assert_output "no drop-in of vm-nosleep: logind's own InhibitDelayMaxSec (5 s unless set)"
	run d -n 30
	assert_success
	[ ! -e "$f" ]
	# the dry run, below the root, writes what the run writes
	sed "s| /etc/| $R/etc/|g; s| >/etc/| >$R/etc/|" <<<"$output" | bash
	mv "$f" "$BATS_TEST_TMPDIR/dry"
	run d 30
	assert_success
	assert_output "/etc/systemd/logind.conf.d/vfio-utils.conf: InhibitDelayMaxSec=30; logind reads it when it starts (systemctl restart systemd-logind)"
	cmp "$f" "$BATS_TEST_TMPDIR/dry"
	# where systemd looks for logind's drop-ins, in its [Login] section
	run systemd-analyze cat-config --root="$R" systemd/logind.conf
	assert_line "# $f"
	assert_line "[Login]"
	assert_line "InhibitDelayMaxSec=30"
	run d 30
	assert_output "logind waits up to 30 s already (/etc/systemd/logind.conf.d/vfio-utils.conf): nothing to do"
	run d 45
	assert_success
	assert_equal "$(sed -n 's/^InhibitDelayMaxSec=//p' "$f")" 45
	run d
	assert_output "logind waits up to 45 s for a guest to go first (/etc/systemd/logind.conf.d/vfio-utils.conf)"
	run d default
	assert_success
	assert_output "/etc/systemd/logind.conf.d/vfio-utils.conf removed: logind's own delay once it restarts (systemctl restart systemd-logind)"
	[ ! -e "$f" ]
	run d default
	assert_success
	assert_output "/etc/systemd/logind.conf.d/vfio-utils.conf: none: nothing to take away"
	# the administrator's own file of that name: never touched
	printf '[Login]\nInhibitDelayMaxSec=99\n' >"$f"
	run d 30
	assert_failure 1
	assert_output "vm-nosleep: /etc/systemd/logind.conf.d/vfio-utils.conf: not written by vm-nosleep: left as it is"
	run d default
	assert_failure 1
	assert_equal "$(cat "$f")" "$(printf '[Login]\nInhibitDelayMaxSec=99')"
	rm "$f"
	# cannot be written (a file where the directory goes): nothing half-written
	rmdir "$R/etc/systemd/logind.conf.d"
	touch "$R/etc/systemd/logind.conf.d"
	run d 30
	assert_failure 1
	assert_output "vm-nosleep: /etc/systemd/logind.conf.d/vfio-utils.conf: Not a directory"
	assert_equal "$(ls "$R/etc/systemd")" logind.conf.d
	# usage errors
	run d 0
	assert_failure 2
	assert_output --partial "vm-nosleep: delay 0: expected seconds, from 1 to 3600, or 'default'"
	run d 30 40
	assert_failure 2
	run d --json
	assert_failure 2
}

@test "hook-run new writes the pair for every domain; libvirt's prepare holds sleep off, release lets go" {
	sim_up $SINGLE && sim_systemd
	H=$SIMROOT/etc/libvirt/hooks
	mkdir -p "$H"
	on_sim hook-run new win10 >/dev/null
	run cat "$H/qemu.d/win10/prepare/begin/05-nosleep"
	assert_line "vm-nosleep hold --domain-xml -"
	run cat "$H/qemu.d/win10/release/end/95-nosleep"
	assert_line "vm-nosleep release --domain-xml -"
	ln -s "$BUILD/hook-run" "$H/qemu"
	XML="<domain><name>win10</name></domain>"
	PATH=$BUILD:$PATH
	# the scripts alone: the device scripts are the cycle tests' business
	on_sim "$H/qemu.d/win10/prepare/begin/05-nosleep" <<<"$XML"
	assert_equal "$(inhibitors | wc -l)" 1
	on_sim "$H/qemu.d/win10/release/end/95-nosleep" <<<"$XML"
	assert_equal "$(inhibitors)" ""
}

@test "status with no domain held says so, and --json lists none" {
	sim_up $SINGLE && sim_systemd
	run ns
	assert_success
	assert_output "no domain holds sleep off"
	run ns --json
	assert_equal "$(jq -c .domains <<<"$output")" "[]"
}
