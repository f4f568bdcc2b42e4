#!/usr/bin/env bats
# vfio-unbind on the kernel simulator.

load helpers

teardown() {
	sim_down
}

vfio_bind() { on_sim vfio-bind "$@"; }
vfio_unbind() { on_sim vfio-unbind "$@"; }

@test "named devices go back; the others stay on vfio-pci and remembered" {
	sim_up $SINGLE
	vfio_bind --group 09:00.0
	run vfio_unbind 09:00.2 09:00.3
	assert_success
	assert_output $'0000:09:00.2: vfio-pci -> xhci_hcd\n0000:09:00.3: vfio-pci -> nvidia-gpu'
	assert_equal "$(driver_of 0000:09:00.0)" vfio-pci
	run cat "$SIMROOT/run/vfio-utils/devices"
	assert_line --partial "0000:09:00.0 driver=nvidia"
	refute_output --partial "0000:09:00.2"
}

@test "a device on vfio-pci that nobody remembers goes to the driver its modalias names" {
	sim_up $SINGLE
	on_sim modprobe -d "$SIMROOT" vfio-pci
	echo vfio-pci >"$SIMROOT/sys/bus/pci/devices/0000:09:00.1/driver_override"
	echo 0000:09:00.1 >"$SIMROOT/sys/bus/pci/drivers/snd_hda_intel/unbind"
	echo 0000:09:00.1 >"$SIMROOT/sys/bus/pci/drivers_probe"
	on_sim kmodcall "$SIMROOT/lib/modules/$KVER" remove snd_hda_intel
	run vfio_unbind 09:00.1
	assert_success
	assert_equal "$(driver_of 0000:09:00.1)" snd_hda_intel
	assert_equal "$(cat "$SIMROOT/sys/bus/pci/devices/0000:09:00.1/driver_override")" "(null)"
}

@test "a device not on vfio-pci and not remembered: nothing to do" {
	sim_up $SINGLE
	run vfio_unbind 09:00.0
	assert_success
	assert_output "0000:09:00.0: on nvidia, not vfio-pci: nothing to do"
	run vfio_unbind --restore
	assert_success
	assert_output "nothing remembered: nothing to restore"
}

@test "--restore leaves a running VM's devices alone and says so; naming one is refused; --force takes it" {
	sim_up $DUAL
	vfio_bind --group 01:00.0
	hold "$SIMROOT/dev/vfio/8"
	qemu=$HOLDER
	run vfio_unbind --restore
	assert_success
	assert_line "vfio-unbind: warning: 0000:01:00.0: /dev/vfio/8 is held open by sleep ($qemu): a VM still uses it: left on vfio-pci"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	run vfio_unbind 01:00.0
	assert_failure 1
	assert_line "vfio-unbind: 0000:01:00.0: /dev/vfio/8 is held open by sleep ($qemu): a VM still uses it (--force takes it anyway)"
	run vfio_unbind --force --timeout 0.5 01:00.0
	assert_failure 1
	assert_line --partial "unbind from vfio-pci did not finish in 0 s"
	kill $qemu
	wait $qemu || true
	run vfio_unbind --restore
	assert_success
	assert_equal "$(driver_of 0000:01:00.0)" nvidia
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
}

@test "removed modules come back once their device does, not before" {
	sim_up $DUAL
	vfio_bind --group --unload 01:00.0
	vfio_bind 09:00.2
	run vfio_unbind 09:00.2
	assert_success
	[ ! -e "$SIMROOT/sys/module/nvidia_drm" ]
	run vfio_unbind 01:00.0 01:00.1
	assert_success
	assert_equal "$(cat "$SIMROOT/sys/module/nvidia_drm/initstate")" live
	[ -e "$SIMROOT/dev/dri/card1" ]
}

@test "a damaged line is reported by line; the records that are fine still count" {
	sim_up $SINGLE
	vfio_bind 09:00.0 09:00.1
	sed -i '2a\0000:09:00.7 driver=<script>' "$SIMROOT/run/vfio-utils/devices"
	run vfio_unbind --restore
	assert_failure 1
	assert_line --index 0 "vfio-unbind: warning: /run/vfio-utils/devices:3: damaged state file"
	assert_line --index 1 --partial "vfio-unbind: warning: /run/vfio-utils/devices: kept aside as "
	assert_equal "$(driver_of 0000:09:00.0)" nvidia
	assert_equal "$(driver_of 0000:09:00.1)" snd_hda_intel
}

@test "keeps going past a device that fails, then says how many failed" {
	sim_up $SINGLE
	vfio_bind --group 09:00.0
	sim ctl "$SIMROOT" fault 09:00.1 probe-nothing snd_hda_intel
	run vfio_unbind --restore
	assert_failure 1
	assert_line "vfio-unbind: 0000:09:00.1: snd_hda_intel did not take it back (it is on no driver); the kernel log says why (dmesg)"
	assert_line "vfio-unbind: 1 of 4 devices not given back"
	assert_equal "$(driver_of 0000:09:00.3)" nvidia-gpu
	sim ctl "$SIMROOT" fault 09:00.1 clear
	run vfio_unbind --restore
	assert_success
	assert_equal "$(driver_of 0000:09:00.1)" snd_hda_intel
}

@test "--dry-run prints the commands and changes nothing" {
	sim_up $SINGLE
	vfio_bind 09:00.0
	before=$(sim_snapshot)
	run vfio_unbind --dry-run --restore --unload-vfio
	assert_success
	assert_output "echo > $SIMROOT/sys/bus/pci/devices/0000:09:00.0/driver_override
echo 0000:09:00.0 > $SIMROOT/sys/bus/pci/drivers/vfio-pci/unbind
echo 0000:09:00.0 > $SIMROOT/sys/bus/pci/drivers_probe
rmmod vfio_pci
rmmod vfio_pci_core
rmmod vfio_iommu_type1
rmmod vfio"
	assert_equal "$(sim_snapshot)" "$before"
}

@test "--json reports each device" {
	sim_up $SINGLE
	vfio_bind 09:00.0
	run vfio_unbind -n --json --restore
	assert_success
	assert_equal "$(jq -c '[.devices[] | [.address, .driver, .result]], (.plan | length > 0)' <<<"$output")" \
		'[["0000:09:00.0","vfio-pci","planned"]]'$'\n''true'
	assert_equal "$(driver_of 0000:09:00.0)" vfio-pci
	run vfio_unbind --json --restore
	assert_success
	assert_output '{"schema":1,"command":"vfio-unbind","devices":[{"address":"0000:09:00.0","group":2,"driver":"nvidia","from":"vfio-pci","result":"restored"}],"errors":[],"warnings":[],"ok":true}'
	assert_equal "$(driver_of 0000:09:00.0)" nvidia
}

@test "usage: --restore names no device; nothing named is an error" {
	run vfio-unbind --restore 01:00.0
	assert_failure 2
	assert_line --index 0 "vfio-unbind: --restore takes every remembered device: name none"
	run vfio-unbind
	assert_failure 2
	assert_line --index 0 "vfio-unbind: no devices: name them, or use --restore or --domain-xml"
	run vfio-unbind --help
	assert_success
	run vfio-unbind -V
	assert_output --regexp '^vfio-unbind \(vfio-utils\) '
}

@test "the vfio modules vfio-bind loaded go again once nothing is on vfio-pci, not before" {
	sim_up $DUAL
	before=$(sim_snapshot)
	vfio_bind 01:00.0
	vfio_bind 01:00.1
	run cat "$SIMROOT/run/vfio-utils/loaded"
	assert_line "vfio_pci by=vfio-bind"
	run vfio_unbind 01:00.0
	assert_success
	assert_equal "$(cat "$SIMROOT/sys/module/vfio_pci/initstate")" live
	run vfio_unbind 01:00.1
	assert_success
	assert_line "unloaded vfio_pci vfio_pci_core vfio_iommu_type1 vfio"
	assert_equal "$(sim_snapshot)" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils/loaded" ]
}

@test "vfio modules that were loaded before vfio-bind came stay" {
	sim_up $DUAL
	on_sim modprobe -d "$SIMROOT" vfio-pci
	vfio_bind 01:00.0
	vfio_unbind 01:00.0
	assert_equal "$(cat "$SIMROOT/sys/module/vfio_pci/initstate")" live
}

# What the kernel really does (issue 13).

@test "a stuck unbind: the release hook's restore says which device and why, holds no lock, and the other lines run" {
	sim_up $SINGLE "kernel 5.15.0-91-generic"
	PATH=$STANDINS:$PATH
	dm_boot
	hook_tree
	local before
	before=$(machine_state)
	mkdir -p "$H/qemu.d/win10/prepare/begin" "$H/qemu.d/win10/release/end"
	printf '#!/bin/sh\nset -e\ndm-ctl stop\nvtcon unbind\nefifb unbind\nvfio-bind --timeout 1 --group 09:00.0\n' \
		>"$H/qemu.d/win10/prepare/begin/50-vfio-utils"
	printf '#!/bin/sh\nvfio-unbind --timeout 1 --restore\nefifb bind\nvtcon bind\ndm-ctl start\n' \
		>"$H/qemu.d/win10/release/end/50-vfio-utils"
	chmod 755 "$H"/qemu.d/win10/*/*/50-vfio-utils
	# the audio function's remove() will not return: its unbind is stuck in the kernel
	sim ctl "$SIMROOT" fault 09:00.1 unbind-blocks
	HOOK_RUN_TIMEOUT=30 run on_sim "$H/qemu" win10 prepare begin - </dev/null
	assert_failure 1
	# libvirt then runs the release hook: every line runs, none hangs
	HOOK_RUN_TIMEOUT=30 run on_sim "$H/qemu" win10 release end - </dev/null
	assert_success # the script's last line, dm-ctl start, succeeded
	assert_line --partial "vfio-unbind: 0000:09:00.1: stuck: the unbind from snd_hda_intel did not finish in 1 s, the kernel is still at it; left alone and still remembered"
	refute_line --partial "killed at the deadline"
	run on_sim dm-ctl status
	assert_line "display manager: gdm (gdm.service, running)"
	assert_equal "$(driver_of 0000:09:00.0)" nvidia
	grep -q '^0000:09:00.1 ' "$SIMROOT/run/vfio-utils/devices" # still remembered
	# the lock is free: another command runs at once
	run on_sim vfio-bind --timeout 1 -n 09:00.2
	assert_success
	# once the kernel lets go, a later --restore gives it back
	sim ctl "$SIMROOT" release 09:00.1
	on_sim vfio-unbind --restore >/dev/null
	assert_equal "$(machine_state)" "$before"
}

@test "iommufd, in the vfio set since Linux 6.2 where the kernel has it, goes with --unload-vfio" {
	sim_up $SINGLE "kernel 6.8.0-45-generic" "module iommufd loaded" "module vfio loaded deps=iommufd,irqbypass"
	[ -e "$SIMROOT/sys/module/iommufd" ]
	vfio_bind 09:00.1 >/dev/null
	run vfio_unbind --unload-vfio 09:00.1
	assert_success
	[ ! -e "$SIMROOT/sys/module/vfio" ]
	[ ! -e "$SIMROOT/sys/module/iommufd" ]
}

@test "on a host without kvm, the modules vfio-pci pulled in (irqbypass) go too, after those that use them" {
	sim_up $SINGLE "module kvm_amd absent" "module kvm_intel absent"
	before=$(sim_snapshot)
	! grep -q '^irqbypass ' "$SIMROOT/proc/modules"
	run on_sim vfio-bind --group 09:00.0
	assert_success
	grep -q '^irqbypass ' "$SIMROOT/proc/modules"
	# remembered in load order: a removal goes backwards
	run awk '!/^#/ { print $1 }' "$SIMROOT/run/vfio-utils/loaded"
	assert_line --index 0 irqbypass
	run on_sim vfio-unbind --restore
	assert_success
	assert_line "unloaded vfio_pci vfio_pci_core vfio_iommu_type1 vfio irqbypass"
	assert_equal "$(sim_snapshot)" "$before"
}
