#!/usr/bin/env bats
# vfio-bind on the kernel simulator: the resulting driver links, modules and
# state are checked, not only what it prints.

load helpers

teardown() {
	sim_down
}

vfio_bind() { on_sim vfio-bind "$@"; }
vfio_unbind() { on_sim vfio-unbind "$@"; }
state() { cat "$SIMROOT/run/vfio-utils/$1" 2>/dev/null; }

@test "single GPU (seed 002): the whole group to vfio-pci and back, every device on its own driver again" {
	sim_up $SINGLE
	before=$(sim_snapshot)
	run vfio_bind --group 09:00.0
	assert_success
	assert_output --partial "0000:09:00.0: nvidia -> vfio-pci"
	for f in 0 1 2 3; do
		assert_equal "$(driver_of 0000:09:00.$f)" vfio-pci
		assert_equal "$(cat "$SIMROOT/sys/bus/pci/devices/0000:09:00.$f/driver_override")" vfio-pci
	done
	assert_equal "$(driver_of 0000:00:03.1)" pcieport # bridges stay
	run state devices
	assert_line "0000:09:00.2 driver=xhci_hcd module=xhci_pci override=-"
	assert_equal "$(cat "$SIMROOT/sys/module/vfio_pci/initstate")" live

	run vfio_unbind --restore --unload-vfio
	assert_success
	assert_equal "$(sim_snapshot)" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils/devices" ]
}

@test "dual GPU (seeds 000/001): --group --unload takes the RTX's group, nvidia goes, the iGPU stays; all comes back" {
	sim_up $DUAL
	before=$(sim_snapshot)
	run vfio_bind --group --unload 01:00.0
	assert_success
	assert_line "snd_hda_intel: still drives 0000:09:00.1: left loaded"
	assert_line "unloaded nvidia_drm nvidia_modeset nvidia_uvm nvidia"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:01:00.1)" vfio-pci
	assert_equal "$(driver_of 0000:09:00.0)" amdgpu
	[ ! -e "$SIMROOT/sys/module/nvidia" ]
	run state modules
	assert_line "nvidia dev=0000:01:00.0"

	run vfio_unbind --restore --unload-vfio
	assert_success
	assert_line "loaded again nvidia_uvm nvidia_modeset nvidia_drm"
	assert_equal "$(sim_snapshot)" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils/modules" ]
}

@test "every spelling of a device" {
	sim_up $SINGLE
	for spelling in pci_0000_09_00_1 9:0.1 0000:09:00.1 10de:10f8; do
		run vfio_bind "$spelling"
		assert_success
		assert_equal "$(driver_of 0000:09:00.1)" vfio-pci
		vfio_unbind 0000:09:00.1
		assert_equal "$(driver_of 0000:09:00.1)" snd_hda_intel
	done
}

@test "--domain-xml: the domain's PCI hostdevs, from a file or stdin; other hostdevs ignored" {
	sim_up $SINGLE
	cat >"$BATS_TEST_TMPDIR/win10.xml" <<-'EOF'
		<domain type='kvm'>
		  <name>win10</name>
		  <devices>
		    <hostdev mode='subsystem' type='pci' managed='yes'>
		      <source><address domain='0x0000' bus='0x09' slot='0x00' function='0x0'/></source>
		    </hostdev>
		    <hostdev mode='subsystem' type='usb'>
		      <source><vendor id='0x046d'/><product id='0xc52b'/></source>
		    </hostdev>
		    <hostdev mode='subsystem' type='pci' managed='yes'>
		      <source><address domain='0x0000' bus='0x09' slot='0x00' function='0x1'/></source>
		    </hostdev>
		  </devices>
		</domain>
	EOF
	run vfio_bind --domain-xml - <"$BATS_TEST_TMPDIR/win10.xml"
	assert_success
	assert_equal "$(driver_of 0000:09:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:09:00.1)" vfio-pci
	assert_equal "$(driver_of 0000:09:00.2)" xhci_hcd
	run vfio_unbind --domain-xml "$BATS_TEST_TMPDIR/win10.xml"
	assert_success
	assert_equal "$(driver_of 0000:09:00.0)" nvidia
}

@test "--domain-xml: a malformed document is one line, exit 2; no PCI hostdevs is nothing to do" {
	sim_up $SINGLE
	echo '<domain><name>x</name><devices>' >"$BATS_TEST_TMPDIR/bad.xml"
	run vfio_bind --domain-xml "$BATS_TEST_TMPDIR/bad.xml"
	assert_failure 2
	assert_output --regexp "^vfio-bind: $BATS_TEST_TMPDIR/bad.xml: not a libvirt domain XML: line [0-9]+: "
	assert_equal "${#lines[@]}" 1
	echo '<network><name>default</name></network>' | run vfio_bind --domain-xml -
	run bash -c "echo '<network/>' | sim exec '$SIMROOT' -- vfio-bind --domain-xml -"
	assert_failure 2
	assert_output "vfio-bind: standard input: not a libvirt domain XML: the root element is not <domain>"
	run bash -c "echo '<domain><name>vm</name><devices/></domain>' | sim exec '$SIMROOT' -- vfio-bind --domain-xml -"
	assert_success
	assert_output "vm: no PCI host devices"
	run vfio_bind --domain-xml /nonexistent.xml
	assert_failure 1
	assert_output "vfio-bind: /nonexistent.xml: cannot read the domain XML: No such file or directory"
}

@test "bad input: unknown device, ambiguous vendor:device, malformed address, bad timeout" {
	sim_up $DUAL
	before=$(sim_snapshot)
	run vfio_bind 07:00.0
	assert_failure 1
	assert_output "vfio-bind: 07:00.0: no such PCI device"
	run vfio_bind 1022:1639
	assert_failure 1
	assert_output "vfio-bind: 1022:1639: matches 2 devices (0000:09:00.3, 0000:09:00.4); name one by address, or use --all"
	run vfio_bind 01:00
	assert_failure 2
	assert_line --index 1 "Try 'vfio-bind --help' for more information."
	run vfio_bind --timeout soon 01:00.0
	assert_failure 2
	assert_line --index 0 "vfio-bind: --timeout: 'soon' is not a number of seconds (at most 86400)"
	for t in nan inf -1 0 1e3 0x10 " 5" 86401 ""; do
		run vfio_bind --timeout "$t" 01:00.0
		assert_failure 2
	done
	run vfio_bind
	assert_failure 2
	assert_line --index 0 "vfio-bind: no devices: name them, or give --domain-xml"
	assert_equal "$(sim_snapshot)" "$before"
}

@test "a bridge is refused and nothing changes; --force tries, the kernel refuses, it rolls back" {
	sim_up $SINGLE
	before=$(sim_snapshot)
	run vfio_bind 09:00.0 00:03.1
	assert_failure 1
	assert_line "vfio-bind: 0000:00:03.1: is a PCI bridge: vfio-pci never takes bridges"
	assert_line "vfio-bind: nothing changed (--force does it anyway)"
	assert_equal "$(sim_snapshot)" "$before"
	run vfio_bind --force 09:00.0 00:03.1
	assert_failure 1
	assert_line "0000:09:00.0: vfio-pci -> nvidia"
	assert_equal "$(driver_of 0000:09:00.0)" nvidia
	assert_equal "$(driver_of 0000:00:03.1)" pcieport
	[ ! -e "$SIMROOT/run/vfio-utils/devices" ]
}

@test "a device already on vfio-pci: nothing to do, and the original driver stays remembered" {
	sim_up $SINGLE
	vfio_bind 09:00.0
	run vfio_bind -q 09:00.0
	assert_success
	assert_output ""
	run vfio_bind 09:00.0
	assert_success
	assert_line "0000:09:00.0: already on vfio-pci"
	run state devices
	assert_line "0000:09:00.0 driver=nvidia module=nvidia override=-"
	vfio_unbind 09:00.0
	assert_equal "$(driver_of 0000:09:00.0)" nvidia
}

@test "a device without --group: bound, and the group's functions left on the host are named" {
	sim_up $SINGLE
	run vfio_bind 09:00.0
	assert_success
	assert_line "vfio-bind: warning: 0000:09:00.0: 0000:09:00.1 of its IOMMU group 2 stays on snd_hda_intel: QEMU refuses the group until it is on vfio-pci too (--group takes it)"
	assert_line "vfio-bind: warning: 0000:09:00.0: 0000:09:00.3 of its IOMMU group 2 stays on nvidia-gpu: QEMU refuses the group until it is on vfio-pci too (--group takes it)"
	assert_equal "$(driver_of 0000:09:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:09:00.1)" snd_hda_intel
	# the whole group: nothing left behind, nothing to say
	run vfio_bind --group 09:00.0
	assert_success
	refute_output --partial "warning"
	assert_equal "$(driver_of 0000:09:00.1)" vfio-pci
}

@test "no IOMMU group: refused with the IOMMU named as the cause, nothing changed" {
	sim_up z690-no-iommu
	before=$(sim_snapshot)
	run vfio_bind 01:00.0
	assert_failure 1
	assert_line --index 0 "vfio-bind: 0000:01:00.0: in no IOMMU group: the IOMMU is off (see 'iommu-groups --status')"
	assert_equal "$(sim_snapshot)" "$before"
	run vfio_bind --force 01:00.0
	assert_failure 1
	assert_equal "$(sim_snapshot)" "$before"
}

@test "an unbind that blocks: the deadline reports device and driver, nothing hangs, restore finishes later" {
	sim_up $SINGLE "fault unbind-blocks 09:00.0"
	SECONDS=0
	run vfio_bind --timeout 1 --group 09:00.0
	assert_failure 1
	[ "$SECONDS" -lt 10 ]
	assert_output --partial "vfio-bind: 0000:09:00.0: stuck: unbind from nvidia did not finish in 1 s, the kernel is still at it; left alone and still remembered ('vfio-unbind --restore' once they let go)"
	run sim status "$SIMROOT"
	assert_line "blocked unbind 0000:09:00.0"
	run state devices
	assert_line --partial "0000:09:00.0 driver=nvidia"
	# the device is released, the kernel finishes the unbind; restore puts it back
	sim ctl "$SIMROOT" release 09:00.0
	sleep 0.2
	assert_equal "$(driver_of 0000:09:00.0)" ""
	run vfio_unbind --restore
	assert_success
	assert_equal "$(driver_of 0000:09:00.0)" nvidia
	assert_equal "$(cat "$SIMROOT/sys/bus/pci/devices/0000:09:00.0/driver_override")" "(null)"
}

@test "a probe that binds nothing: exit 1, the device back on its driver" {
	sim_up $SINGLE "fault probe-nothing 09:00.1 vfio-pci"
	before=$(sim_snapshot)
	run vfio_bind 09:00.1
	assert_failure 1
	assert_line "vfio-bind: 0000:09:00.1: vfio-pci did not take it; the kernel log says why (dmesg | grep -i vfio)"
	assert_equal "$(sim_snapshot)" "$before"
}

@test "the second of three devices fails: the first goes back, the third is never touched" {
	sim_up $SINGLE "fault bind-fails 09:00.1 EIO vfio-pci"
	before=$(sim_snapshot)
	run vfio_bind 09:00.0 09:00.1 09:00.2
	assert_failure 1
	assert_line "0000:09:00.0: nvidia -> vfio-pci"
	assert_line "0000:09:00.0: vfio-pci -> nvidia"
	refute_output --partial "0000:09:00.2"
	assert_equal "$(sim_snapshot)" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils/devices" ]
}

@test "the probe write fails for the second device: it too goes back to its driver, not to none" {
	sim_up $SINGLE
	before=$(sim_snapshot)
	sim ctl "$SIMROOT" fault write /sys/bus/pci/drivers_probe EIO once skip=1
	run vfio_bind 09:00.0 09:00.1
	assert_failure 1
	assert_line "vfio-bind: 0000:09:00.1: probe for vfio-pci failed: Input/output error"
	assert_line "0000:09:00.1: back on snd_hda_intel"
	assert_equal "$(sim_snapshot)" "$before"
}

@test "device nodes held open: refused, the processes named" {
	sim_up $DUAL
	hold "$SIMROOT/dev/nvidia0"
	holder=$HOLDER
	run vfio_bind --group 01:00.0
	kill $holder
	assert_failure 1
	assert_line "vfio-bind: 0000:01:00.0: /dev/nvidia0 is held open by sleep ($holder): an unbind would block in the kernel until they let go (stop them first, e.g. 'dm-ctl stop')"
	assert_equal "$(driver_of 0000:01:00.0)" nvidia
}

@test "a DRM card held open on a kernel DRM driver: refused, said as the kernel does it (no wait, the GPU taken from under them)" {
	sim_up $DUAL
	hold "$SIMROOT/dev/dri/card0"
	holder=$HOLDER
	before=$(sim_snapshot)
	run vfio_bind 09:00.0
	kill $holder
	assert_failure 1
	assert_line "vfio-bind: 0000:09:00.0: /dev/dri/card0 is held open by sleep ($holder): an unbind would take the GPU from under them (stop them first, e.g. 'dm-ctl stop', or keep X off this GPU)"
	assert_equal "$(sim_snapshot)" "$before"
	assert_equal "$(driver_of 0000:09:00.0)" amdgpu
}

@test "--unload with the module in use (a process on /dev/nvidiactl): refused before any change" {
	sim_up $DUAL
	hold "$SIMROOT/dev/nvidiactl"
	holder=$HOLDER
	before=$(sim_snapshot)
	run vfio_bind --group --unload 01:00.0
	kill $holder
	assert_failure 1
	assert_line "vfio-bind: nvidia: cannot be unloaded: module nvidia is in use (1 users besides modules)"
	assert_equal "$(sim_snapshot)" "$before"
}

@test "a group holding the host's disk or network is refused" {
	sim_up $DUAL "mount 02:00.1 / ext4" "netif 08:00.0 enp8s0 up"
	run vfio_bind 02:00.0
	assert_failure 1
	assert_line "vfio-bind: 0000:02:00.0: its IOMMU group 9 holds 0000:02:00.1, which holds /: the host needs it"
	assert_line "vfio-bind: 0000:02:00.0: its IOMMU group 9 holds 0000:08:00.0, which interface enp8s0 is up: the host needs it"
	assert_equal "$(driver_of 0000:02:00.0)" xhci_hcd
}

@test "--dry-run prints the exact commands, changes nothing, and is a script that does the same" {
	sim_up $SINGLE
	before=$(sim_snapshot)
	run vfio_bind --dry-run --group 09:00.0
	assert_success
	assert_line --index 0 "modprobe -d $SIMROOT vfio-pci"
	assert_line --index 1 "echo vfio-pci > $SIMROOT/sys/bus/pci/devices/0000:09:00.0/driver_override"
	assert_line --index 2 "echo 0000:09:00.0 > $SIMROOT/sys/bus/pci/drivers/nvidia/unbind"
	assert_line --index 3 "echo 0000:09:00.0 > $SIMROOT/sys/bus/pci/drivers_probe"
	assert_equal "${#lines[@]}" 13
	assert_equal "$(sim_snapshot)" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils" ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/plan.sh"
	on_sim sh -e "$BATS_TEST_TMPDIR/plan.sh"
	scripted=$(sim_snapshot)
	vfio_unbind 09:00.0 09:00.1 09:00.2 09:00.3
	vfio_bind --group 09:00.0
	assert_equal "$(sim_snapshot)" "$scripted"
}

@test "--json reports each device" {
	sim_up $SINGLE
	run --separate-stderr vfio_bind --json 09:00.0 09:00.1
	assert_success
	assert_output '{"schema":1,"command":"vfio-bind","devices":[{"address":"0000:09:00.0","group":2,"driver":"vfio-pci","from":"nvidia","result":"bound"},{"address":"0000:09:00.1","group":2,"driver":"vfio-pci","from":"snd_hda_intel","result":"bound"}],"unloaded":[],"errors":[],"warnings":["0000:09:00.0: 0000:09:00.2 of its IOMMU group 2 stays on xhci_hcd: QEMU refuses the group until it is on vfio-pci too (--group takes it)","0000:09:00.0: 0000:09:00.3 of its IOMMU group 2 stays on nvidia-gpu: QEMU refuses the group until it is on vfio-pci too (--group takes it)"],"ok":true}'
	assert_equal "$(driver_of 0000:09:00.0) $(driver_of 0000:09:00.1)" "vfio-pci vfio-pci"
}

@test "--json: a dry run plans, a refusal and a rollback report each device, ok false" {
	sim_up $DUAL
	run vfio_bind -n --json --group --unload 01:00.0
	assert_success
	assert_equal "$(jq -c '[.devices[] | [.address, .driver, .result]], .unloaded' <<<"$output")" \
		'[["0000:01:00.0","nvidia","planned"],["0000:01:00.1","snd_hda_intel","planned"]]'$'\n''[]'
	jq -e '.plan | any(test("drivers_probe")) and any(test("modprobe .*-r"))' <<<"$output"
	assert_equal "$(driver_of 0000:01:00.0)" nvidia
	hold "$SIMROOT/dev/nvidia0"
	run --separate-stderr vfio_bind --json --group 01:00.0
	kill $HOLDER
	assert_failure 1
	assert_equal "$(jq -c '([.devices[] | .result] | unique), .ok' <<<"$output")" '["refused"]'$'\n''false'
	jq -e '.errors[0] | test("/dev/nvidia0 is held open by sleep")' <<<"$output"
	sim ctl "$SIMROOT" fault write /sys/bus/pci/drivers_probe EIO once skip=1
	run --separate-stderr vfio_bind --json --group 01:00.0
	assert_failure 1
	assert_equal "$(jq -c '[.devices[] | .result]' <<<"$output")" '["rolled back","failed"]'
	assert_equal "$(driver_of 0000:01:00.0) $(driver_of 0000:01:00.1)" "nvidia snd_hda_intel"
}

@test "two runs at once on overlapping devices: the state keeps the original drivers" {
	sim_up $SINGLE
	before=$(sim_snapshot)
	vfio_bind --group 09:00.0 >/dev/null &
	vfio_bind 09:00.1 09:00.0 >/dev/null &
	wait %1
	wait %2
	for f in 0 1 2 3; do assert_equal "$(driver_of 0000:09:00.$f)" vfio-pci; done
	run state devices
	assert_line "0000:09:00.0 driver=nvidia module=nvidia override=-"
	assert_line "0000:09:00.1 driver=snd_hda_intel module=snd_hda_intel override=-"
	refute_output --partial "driver=vfio-pci"
	vfio_unbind --restore --unload-vfio
	assert_equal "$(sim_snapshot)" "$before"
}

# kill -9 while the write at PATH is held by the simulator, then --restore.
killed_at() {
	local path=$1 pid
	sim ctl "$SIMROOT" fault write "$path" block
	vfio_bind --group 09:00.0 >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q "held write" <(sim status "$SIMROOT") && break
		sleep 0.02
	done
	kill -9 $pid
	sim ctl "$SIMROOT" release writes
	wait $pid || true
}

@test "a module load past the deadline: the modprobe killed but still in the kernel keeps the modules remembered until it is done" {
	sim_up $SINGLE
	before=$(sim_snapshot)
	sim ctl "$SIMROOT" fault module vfio load block
	SECONDS=0
	run vfio_bind --timeout 1 --group 09:00.0
	assert_failure 1
	[ "$SECONDS" -lt 10 ]
	assert_line "vfio-bind: vfio-pci: loading the module did not finish in 1 s: left to the kernel"
	assert_equal "$(driver_of 0000:09:00.0)" nvidia
	# The killed loader is asleep in the kernel: the restore must not forget
	# what it will have loaded.
	run vfio_unbind --timeout 1 --restore
	assert_failure 1
	assert_line --regexp "^vfio-unbind: vfio-pci: a load of the vfio modules \(PID [0-9]+\) is still in the kernel after 1 s: they stay remembered; try again once it is done$"
	run state loaded
	assert_line --regexp "^vfio by=vfio-bind pid=[0-9]+$"
	# Nor does a second vfio-bind load beside it.
	run vfio_bind --timeout 1 --group 09:00.0
	assert_failure 1
	assert_line --regexp "^vfio-bind: vfio-pci: a load of the vfio modules \(PID [0-9]+\) is still in the kernel after 1 s: they stay remembered; try again once it is done$"
	assert_equal "$(driver_of 0000:09:00.0)" nvidia
	sim ctl "$SIMROOT" release writes
	for ((i = 0; i < 100; i++)); do
		grep -q '^held write' "$SIMROOT/.simfs/control" || break
		sleep 0.05
	done
	assert_equal "$(cat "$SIMROOT/sys/module/vfio/initstate")" live
	# Done: the next restore takes out what it loaded.
	run vfio_unbind --restore
	assert_success
	assert_line "unloaded vfio"
	assert_equal "$(sim_snapshot)" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils/loaded" ]
}

@test "vfio-unbind --restore after kill -9 at every step of vfio-bind: every device ends with its driver" {
	sim_up $SINGLE
	before=$(sim_snapshot)
	for path in /sys/bus/pci/devices/0000:09:00.0/driver_override \
		/sys/bus/pci/drivers/nvidia/unbind \
		/sys/bus/pci/drivers_probe \
		/sys/bus/pci/devices/0000:09:00.2/driver_override \
		/sys/bus/pci/drivers/xhci_hcd/unbind \
		/sys/bus/pci/devices/0000:09:00.3/driver_override; do
		killed_at "$path"
		run vfio_unbind --restore --unload-vfio
		assert_success
		assert_equal "$(sim_snapshot)" "$before"
	done
}

@test "--unload-vfio while another device still uses vfio-pci is refused" {
	sim_up $DUAL
	vfio_bind --group 01:00.0
	vfio_bind 05:00.0 02:00.0 08:00.0 02:00.1 --force
	run vfio_unbind --unload-vfio 01:00.0 01:00.1
	assert_failure 1
	assert_line "vfio-unbind: vfio-pci still drives 0000:02:00.0 (another VM?): the vfio modules stay loaded"
	assert_equal "$(cat "$SIMROOT/sys/module/vfio_pci/initstate")" live
	assert_equal "$(driver_of 0000:01:00.0)" nvidia
}

@test "a damaged state file is reported, kept aside, and restore falls back to what the system tells" {
	sim_up $SINGLE
	vfio_bind 09:00.0 09:00.1
	printf 'garbage\n' >"$SIMROOT/run/vfio-utils/devices"
	run vfio_unbind 09:00.0 09:00.1
	assert_failure 1
	assert_line --index 0 "vfio-unbind: warning: /run/vfio-utils/devices: damaged state file (no header)"
	assert_line --index 1 --regexp "^vfio-unbind: warning: /run/vfio-utils/devices: kept aside as /run/vfio-utils/devices.damaged-[0-9T]+; going by what the system shows$"
	assert_equal "$(driver_of 0000:09:00.0)" nvidia
	assert_equal "$(driver_of 0000:09:00.1)" snd_hda_intel
}

@test "conventions: --help, --version, an unknown option" {
	run vfio-bind --help
	assert_success
	assert_line --index 0 "Usage: vfio-bind [options] DEVICE..."
	run vfio-bind --version
	assert_output --regexp '^vfio-bind \(vfio-utils\) [0-9.]+$'
	run vfio-bind --bogus
	assert_failure 2
	assert_line --index 1 "Try 'vfio-bind --help' for more information."
}

# What the kernel really does (issue 13).

@test "an audio function whose sound card a process holds is refused, the process named: its unbind would hang" {
	sim_up $SINGLE
	local before card
	before=$(sim_snapshot)
	card=$(ls "$SIMROOT/sys/bus/pci/devices/0000:09:00.1/sound")
	hold "$SIMROOT/dev/snd/controlC${card#card}"
	local holder=$HOLDER
	run vfio_bind --group 09:00.0
	kill $holder
	assert_failure 1
	assert_line "vfio-bind: 0000:09:00.1: /dev/snd/controlC${card#card} is held open by sleep ($holder): an unbind would block in the kernel until they let go (stop them first, e.g. 'dm-ctl stop')"
	assert_equal "$(sim_snapshot)" "$before"
}

@test "a firmware framebuffer's range in the GPU's BAR: refused before Linux 6.0, as QEMU would fail; 6.0 and later release it" {
	sim_up $SINGLE "kernel 5.15.0-91-generic"
	local before
	before=$(sim_snapshot)
	run vfio_bind --group 09:00.0
	assert_failure 1
	assert_line --regexp "^vfio-bind: 0000:09:00.0: efifb reserves \[mem 0x[0-9a-f]+-0x[0-9a-f]+\] in its BAR 1: vfio-pci would take it, but QEMU would fail to map that BAR \('BAR 1: can't reserve'\): run 'efifb unbind' first$"
	assert_equal "$(sim_snapshot)" "$before"
	on_sim efifb unbind >/dev/null
	run vfio_bind --group 09:00.0
	assert_success
	sim_down
	# simpledrm's BOOTFB, which unbinding does not release
	sim_up $SINGLE "kernel 5.15.0-91-generic" "framebuffer simple-framebuffer"
	on_sim efifb unbind >/dev/null
	run vfio_bind --group 09:00.0
	assert_failure 1
	assert_line --partial "BOOTFB reserves"
	assert_line --partial "on a kernel before 6.0 only a reboot with initcall_blacklist=sysfb_init releases it"
	sim_down
	sim_up $SINGLE "kernel 6.1.0-13-amd64" "framebuffer simple-framebuffer"
	run vfio_bind --group 09:00.0
	assert_success
	[ ! -e "$SIMROOT/sys/bus/platform/devices/simple-framebuffer.0" ]
	run grep -c BOOTFB "$SIMROOT/proc/iomem"
	assert_output 0
}
