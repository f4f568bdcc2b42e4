#!/usr/bin/env bats
# The whole passthrough cycle as a user meets it: a real libvirtd and QEMU
# start and stop a domain, calling hook-run as their qemu hook; the scripts
# hook-run new wrote run the real commands against the kernel simulator. The
# machine must end exactly as it started, also when a step of the start hook
# fails (libvirt then runs the release hook).

load helpers

setup() {
	require_libvirt
	# A kernel before 6.0: vfio-pci does not evict the firmware framebuffer, so all comes back.
	sim_up "$SINGLE" "kernel 5.15.0-91-generic"
	PATH=$STANDINS:$PATH
	# systemd's bus, where the scripts' vm-nosleep asks for its unit
	sim_systemd
	dm_boot
	on_sim hook-run new vu-test >/dev/null
	# libvirt gives hooks a bare environment: the test's own goes into the scripts.
	HOOKS=$BATS_TEST_TMPDIR/hooks
	cp -a "$SIMROOT/etc/libvirt/hooks" "$HOOKS"
	ln -s "$BUILD/hook-run" "$HOOKS/qemu"
	for s in "$HOOKS"/qemu.d/vu-test/*/*/50-vfio-utils; do
		sed -i "2i export PATH='$STANDINS:$PATH' LD_PRELOAD='$BUILD/kmodtrap.so'" "$s"
	done
	before=$(sim_snapshot; screen_snapshot)
}

teardown() {
	sim_down
}

# virsh start, the machine's state while it runs, virsh destroy: as a user does.
vm_cycle() {
	with-libvirtd "$HOOKS" -- bash -c "
		virsh -q -c qemu:///system define '$TEST_DOMAIN' >/dev/null &&
		virsh -q -c qemu:///system start vu-test &&
		cat '$SIMROOT'/sys/bus/pci/devices/0000:09:00.*/driver_override >'$BATS_TEST_TMPDIR/during' &&
		virsh -q -c qemu:///system destroy vu-test"
}

@test "start and stop a VM with the GPU: the screen handed over, the group on vfio-pci, all back after" {
	run vm_cycle
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/during")" $'vfio-pci\nvfio-pci\nvfio-pci\nvfio-pci'
	assert_equal "$(sim_snapshot; screen_snapshot)" "$before"
}

# inject FAULT, start: it fails with MESSAGE; the release hook puts everything back.
failed_start() {
	run vm_cycle
	assert_failure
	assert_output --partial "$1"
	assert_equal "$(sim_snapshot; screen_snapshot)" "$before"
}

@test "the display manager does not stop: the start fails, and the machine is as it was" {
	touch "$SIMROOT/run/standin/stop-fails"
	failed_start "dm-ctl: systemctl stop gdm.service: failed"
}

@test "a console stays bound: the start fails, and the machine is as it was" {
	sim ctl "$SIMROOT" fault write /sys/class/vtconsole/vtcon1/bind ignore
	failed_start "vtcon: vtcon1 (frame buffer device): still bound after writing 0"
}

@test "the firmware framebuffer will not unbind: the start fails, and the machine is as it was" {
	sim ctl "$SIMROOT" fault write /sys/bus/platform/drivers/efi-framebuffer/unbind EIO
	failed_start "efifb: efi-framebuffer.0: unbind from efi-framebuffer failed: Input/output error"
}

@test "vfio-pci cannot take one function: the start fails, and the machine is as it was" {
	sim ctl "$SIMROOT" fault 09:00.2 bind-fails EIO vfio-pci
	failed_start "vfio-bind: 0000:09:00.2: vfio-pci did not take it"
}

@test "a domain that cannot start (vfio-audit's error): the start hook stops before the screen is touched" {
	# pinned to a CPU the machine does not have (8 CPUs)
	sed "s|<vcpu>1</vcpu>|&<cputune><vcpupin vcpu='0' cpuset='12'/></cputune>|" "$TEST_DOMAIN" \
		>"$BATS_TEST_TMPDIR/pinned.xml"
	TEST_DOMAIN=$BATS_TEST_TMPDIR/pinned.xml
	run vm_cycle
	assert_failure
	assert_output --partial "vfio-audit: vu-test: <cputune> pins to CPU 12, and this host's CPUs are 0-7: libvirt refuses to start it"
	# the first line stopped it: no console, framebuffer or device was written to
	run grep -c -e vtconsole -e efi-framebuffer -e driver_override "$SIMROOT/.sim/journal"
	assert_output 0
	assert_equal "$(sim_snapshot; screen_snapshot)" "$before"
}

