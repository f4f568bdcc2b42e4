#!/usr/bin/env bats
# dm-ctl on the kernel simulator, with stand-ins for the init systems' tools
# and real processes holding the simulated GPU nodes.

load helpers

setup() {
	PATH=$STANDINS:$PATH
}

teardown() {
	sim_down
}

dm_ctl() { on_sim "$BUILD/dm-ctl" "$@"; }
x_running() { pgrep -f "$SIMROOT/run/standin/bin/Xorg" >/dev/null; }

@test "systemd: the display-manager alias, its state, who holds the GPU" {
	sim_up $SINGLE
	dm_boot
	run dm_ctl
	assert_success
	assert_line --index 0 "init system:     systemd"
	assert_line --index 1 "display manager: gdm (gdm.service, running)"
	assert_line --index 2 --regexp '^GPU held by:     Xorg \([0-9]+\)$'
}

@test "stop: remembered, stopped, and it returns only once the GPU is free; start brings it back" {
	sim_up $SINGLE
	dm_boot
	echo 0.3 >"$SIMROOT/run/standin/stop-delay"
	run dm_ctl stop
	assert_success
	assert_line --index 0 "stopped gdm.service"
	run x_running
	assert_failure
	run cat "$SIMROOT/run/vfio-utils/dm"
	assert_line "gdm init=systemd service=gdm.service how=stop gpus=0000:09:00.0"
	run dm_ctl stop
	assert_success
	assert_output "gdm.service is not running: nothing to stop"
	run dm_ctl start
	assert_success
	assert_output "started gdm.service"
	x_running
	run dm_ctl start
	assert_output "nothing stopped by dm-ctl: nothing to start"
}

@test "start goes by what stop remembered: nothing asked of systemd before the start itself; a record that lacks the init system asks" {
	sim_up $SINGLE
	dm_boot
	asked_systemd
	on_sim dm-ctl stop >/dev/null
	# stop asks which display manager runs, then stops it
	assert_equal "$(cat "$BATS_TEST_TMPDIR/asked")" "show -p Id -p ActiveState display-manager.service
stop gdm.service"
	rm "$BATS_TEST_TMPDIR/asked"
	run dm_ctl start
	assert_success
	assert_output "started gdm.service"
	x_running
	assert_equal "$(cat "$BATS_TEST_TMPDIR/asked")" "start gdm.service"
	[ ! -s "$SIMROOT/run/vfio-utils/dm" ] || ! grep -q '^gdm ' "$SIMROOT/run/vfio-utils/dm"
	# a record without its init system (written by hand): systemd is asked first
	on_sim dm-ctl stop >/dev/null
	sed -i 's/ init=systemd//' "$SIMROOT/run/vfio-utils/dm"
	rm "$BATS_TEST_TMPDIR/asked"
	run dm_ctl start
	assert_success
	assert_output "started gdm.service"
	x_running
	assert_equal "$(head -1 "$BATS_TEST_TMPDIR/asked")" "show -p Id -p ActiveState display-manager.service"
	assert_equal "$(tail -1 "$BATS_TEST_TMPDIR/asked")" "start gdm.service"
}

@test "start waits for the GPU it stopped for: still on vfio-pci, it refuses and keeps it remembered" {
	sim_up $SINGLE
	dm_boot
	on_sim dm-ctl stop
	on_sim vfio-bind --group 0000:09:00.0
	[ "$(driver_of 0000:09:00.0)" = vfio-pci ]
	run dm_ctl start
	assert_failure 1
	assert_output "dm-ctl: 0000:09:00.0: vfio-pci: the display manager would start without its GPU (vfio-unbind --restore first)"
	run x_running
	assert_failure
	grep -q '^gdm .* gpus=0000:09:00.0$' "$SIMROOT/run/vfio-utils/dm"
	on_sim vfio-unbind --restore
	[ "$(driver_of 0000:09:00.0)" = nvidia ]
	run dm_ctl start
	assert_success
	assert_output "started gdm.service"
	x_running
	[ ! -e "$SIMROOT/run/vfio-utils/dm" ]
}

@test "Debian without the alias link: /etc/X11/default-display-manager names it" {
	sim_up $SINGLE
	rm "$SIMROOT/etc/systemd/system/display-manager.service"
	run dm_ctl status --json
	assert_output '{"schema":1,"command":"dm-ctl","init":"systemd","display_manager":{"name":"gdm","service":"gdm.service","active":false},"holders":[],"errors":[],"warnings":[],"ok":true}'
}

@test "--isolate: multi-user.target and back to graphical.target, as seed 004 does" {
	sim_up $SINGLE
	dm_boot
	run dm_ctl stop --isolate
	assert_success
	assert_line --index 0 "stopped multi-user.target"
	run dm_ctl start
	assert_output "started graphical.target"
	x_running
}

@test "OpenRC: DISPLAYMANAGER, rc-service display-manager" {
	sim_up $SINGLE "init openrc" "dm sddm"
	dm_boot
	run dm_ctl
	assert_line --index 1 "display manager: sddm (display-manager, running)"
	run dm_ctl stop
	assert_success
	assert_line --index 0 "stopped display-manager"
	run x_running
	assert_failure
	run dm_ctl start --dry-run
	assert_output "rc-service display-manager start"
	dm_ctl start
	x_running
	run dm_ctl stop --isolate
	assert_failure 2
	assert_line --index 0 "dm-ctl: --isolate is systemd's, and this is openrc"
}

@test "runit: the enabled service, sv stop and sv start" {
	sim_up $SINGLE "init runit" "dm lightdm"
	dm_boot
	run dm_ctl stop
	assert_success
	assert_line --index 0 "stopped lightdm"
	dm_ctl start
	x_running
}

@test "no display manager configured: nothing to stop, and the GPU is free" {
	sim_up $SINGLE "dm none"
	run dm_ctl stop
	assert_success
	assert_output "no display manager configured: nothing to stop"
}

@test "an unknown init system is one line, exit 1" {
	sim_up $SINGLE "init none"
	rm -rf "$SIMROOT/run/systemd"
	run dm_ctl
	assert_failure 1
	assert_output "dm-ctl: cannot tell the init system: none of /run/systemd/system, /run/openrc, /run/runit"
}

@test "a session that keeps the GPU: stop gives up at --timeout and names it" {
	sim_up $SINGLE "holder /dev/dri/card0 gnome-shell"
	dm_boot
	SECONDS=0
	run dm_ctl stop --timeout 1
	assert_failure 1
	[ "$SECONDS" -lt 10 ]
	assert_line --index 0 "stopped gdm.service"
	assert_line --index 1 --regexp '^dm-ctl: /dev/dri/card0 is still held open after 1 s by gnome-shell \([0-9]+\): they keep the GPU \(a user session, nvidia-persistenced\?\)$'
}

@test "a holder in another mount namespace (a container) names the node by its own path: still found" {
	sim_up $SINGLE
	mkdir -p "$BATS_TEST_TMPDIR/ctr"
	# the GPU's nodes bind-mounted elsewhere in a private namespace, as a container sees them
	unshare -m --propagation private bash -c '
		mount --bind "$1/dev" "$2" && exec sleep 300 7<"$2/dri/card0" 3>&-' \
		- "$SIMROOT" "$BATS_TEST_TMPDIR/ctr" 3>&- &
	local pid=$!
	poll 4 has_open "$pid" 7 "$BATS_TEST_TMPDIR/ctr/dri/card0" || true
	# not the sim's path (under a chroot the kernel prefixes the chroot's own)
	[[ $(readlink "/proc/$pid/fd/7") == *"$BATS_TEST_TMPDIR/ctr/dri/card0" ]]
	run dm_ctl status --json
	kill "$pid"
	assert_output --partial "\"holders\":[{\"pid\":$pid,\"name\":\"sleep\",\"node\":\"/dev/dri/card0\"}]"
}

@test "--dry-run prints the command, stops nothing" {
	sim_up $SINGLE
	dm_boot
	run dm_ctl stop -n
	assert_success
	assert_output "systemctl stop gdm.service"
	x_running
}

@test "stop and start --json: the display manager after, ok; -n --json: the plan, nothing stopped" {
	sim_up $SINGLE
	dm_boot
	run dm_ctl -n --json stop
	assert_success
	assert_equal "$(jq -c '.plan, .display_manager.active, .ok' <<<"$output")" $'["systemctl stop gdm.service"]\ntrue\ntrue'
	x_running
	run dm_ctl --json stop
	assert_success
	assert_equal "$(jq -c '.display_manager, .holders, .ok' <<<"$output")" \
		$'{"name":"gdm","service":"gdm.service","active":false}\n[]\ntrue'
	! x_running
	run dm_ctl --json start
	assert_success
	assert_equal "$(jq -c '.display_manager.active, .ok' <<<"$output")" $'true\ntrue'
	x_running
}

@test "below a sysroot the host's own systemctl is refused: it would act on this machine" {
	sim_up $SINGLE
	# whatever its name or place on PATH, a tool that does not say it stands in is the host's
	mkdir "$BATS_TEST_TMPDIR/host"
	printf '#!/bin/sh\ntouch %s/ran\n' "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/host/systemctl"
	chmod 755 "$BATS_TEST_TMPDIR/host/systemctl"
	PATH=$BATS_TEST_TMPDIR/host:/usr/bin:/bin run "$TESTS/sim/sim" exec "$SIMROOT" -- "$BUILD/dm-ctl" stop
	assert_failure 1
	assert_output --partial "dm-ctl: systemctl: not run: the host's own ($BATS_TEST_TMPDIR/host/systemctl) would act on this machine, not on $SIMROOT"
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

@test "usage errors" {
	run "$BUILD/dm-ctl" reboot
	assert_failure 2
	assert_line --index 0 "dm-ctl: reboot: not a command (status, stop or start)"
	run "$BUILD/dm-ctl" --timeout never stop
	assert_failure 2
	run "$BUILD/dm-ctl" --version
	assert_output --regexp '^dm-ctl \(vfio-utils\) '
}

@test "a captured tree: its own /proc names the holders, as the machine saw them" {
	root=$(printf '%s\n' "$(cat "$MACHINES/$SINGLE.txt")" "holder /dev/dri/card0 Xorg" | machine_from_stdin)
	VFIO_UTILS_SYSROOT=$root run "$BUILD/dm-ctl" --json
	assert_success
	assert_output '{"schema":1,"command":"dm-ctl","init":"systemd","display_manager":{"name":"gdm","service":"gdm.service","active":false},"holders":[{"pid":4242,"name":"Xorg","node":"/dev/dri/card0"}],"errors":[],"warnings":[],"ok":true}'
}

@test "stop also stops the user's sound server holding the GPU's audio card; start brings it back" {
	sim_up $SINGLE "holder /dev/snd/controlC0 pipewire user=1000 unit=pipewire.service"
	dm_boot
	printf 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n' >"$SIMROOT/etc/passwd"
	run dm_ctl stop
	assert_success
	assert_line "stopped gdm.service"
	assert_line "stopped pipewire.service of alice"
	run sim status "$SIMROOT"
	assert_line "unit 1000 pipewire.service inactive"
	run cat "$SIMROOT/run/vfio-utils/dm"
	assert_line "audio:1000:pipewire.service user=1000 unit=pipewire.service socket=pipewire.socket"
	# the whole group goes now: nothing holds the audio function
	run on_sim vfio-bind --group 09:00.0
	assert_success
	on_sim vfio-unbind --restore >/dev/null
	run dm_ctl start
	assert_success
	assert_line "started pipewire.service of alice"
	assert_line "started gdm.service"
	run sim status "$SIMROOT"
	assert_line "unit 1000 pipewire.service active"
	[ ! -e "$SIMROOT/run/vfio-utils/dm" ]
}

@test "a holder of the GPU's audio card that is no user's service is named when time runs out" {
	sim_up $SINGLE
	dm_boot
	hold "$SIMROOT/dev/snd/controlC0"
	local holder=$HOLDER
	run dm_ctl --timeout 1 stop
	kill $holder
	assert_failure 1
	assert_line --regexp "^dm-ctl: /dev/snd/controlC0 is still held open after 1 s by sleep \($holder\)"
}
