#!/usr/bin/env bats
# The kernel simulator itself, shown through plain shell: echo, cat, readlink,
# real modprobe and libkmod.

load helpers

setup() {
	sim_up b550-5600g-rtx2060
	S=$SIMROOT/sys
	GPU=0000:01:00.0 AUDIO=0000:01:00.1
}

teardown() {
	sim_down
}

# put VALUE FILE: what a shell's echo VALUE > FILE prints on failure.
put() {
	bash -c 'echo "$1" >"$2"' put "$1" "$2" 2>&1
}

# Load the vfio modules as a command would: real modprobe, trapped syscalls.
load_vfio() {
	on_sim modprobe -d "$SIMROOT" -S "$(cat "$SIMROOT/proc/sys/kernel/osrelease")" vfio-pci
}

@test "the machine boots as a desktop: drivers bound, modules loaded, consoles and framebuffer" {
	assert_equal "$(driver_of $GPU)" nvidia
	assert_equal "$(driver_of $AUDIO)" snd_hda_intel
	assert_equal "$(driver_of 0000:02:00.2)" pcieport
	assert_equal "$(cat $S/bus/pci/devices/$GPU/driver_override)" "(null)"
	assert_equal "$(cat $S/module/nvidia/initstate)" live
	[ ! -e "$S/module/vfio_pci" ]
	assert_equal "$(cat $S/class/vtconsole/vtcon0/name)" "(S) dummy device"
	assert_equal "$(cat $S/class/vtconsole/vtcon1/name)" "(M) frame buffer device"
	assert_equal "$(cat $S/class/vtconsole/vtcon1/bind)" 1
	# booted on the Cezanne iGPU: amdgpu took the firmware framebuffer over at boot
	[ ! -e "$S/bus/platform/devices/efi-framebuffer.0" ]
	run grep -E ' : (BOOTFB|efifb)$' "$SIMROOT/proc/iomem"
	assert_failure
	assert_equal "$(readlink $S/bus/pci/devices/$GPU/iommu_group)" "../../../../kernel/iommu_groups/8"
	diff <(guides-loop "$SIMROOT") <(iommu-groups --sysroot "$SIMROOT")
}

@test "driver_override, unbind and drivers_probe move the driver link, as libvirt's sequence does" {
	load_vfio
	echo vfio-pci >$S/bus/pci/devices/$GPU/driver_override
	assert_equal "$(cat $S/bus/pci/devices/$GPU/driver_override)" vfio-pci
	assert_equal "$(driver_of $GPU)" nvidia # setting it does not rebind
	echo $GPU >$S/bus/pci/drivers/nvidia/unbind
	assert_equal "$(driver_of $GPU)" ""
	[ ! -e "$S/bus/pci/drivers/nvidia/$GPU" ]
	echo $GPU >$S/bus/pci/drivers_probe
	assert_equal "$(driver_of $GPU)" vfio-pci
	[ -L "$S/bus/pci/drivers/vfio-pci/$GPU" ]
	[ -e "$SIMROOT/dev/vfio/8" ]
	# and back: clear the override, unbind, reprobe
	echo >$S/bus/pci/devices/$GPU/driver_override
	assert_equal "$(cat $S/bus/pci/devices/$GPU/driver_override)" "(null)"
	echo $GPU >$S/bus/pci/drivers/vfio-pci/unbind
	echo $GPU >$S/bus/pci/drivers_probe
	assert_equal "$(driver_of $GPU)" nvidia
	[ ! -e "$SIMROOT/dev/vfio/8" ]
}

@test "bind answers ENODEV, EBUSY, EINVAL and the probe's own errno" {
	load_vfio
	run put 0000:07:00.0 $S/bus/pci/drivers/nvidia/bind
	assert_output --partial "No such device" # unknown device
	run put 01:00.0 $S/bus/pci/drivers/nvidia/bind
	assert_output --partial "No such device" # the domain is required
	run put $AUDIO $S/bus/pci/drivers/nvidia/bind
	assert_output --partial "No such device" # the driver does not match
	run put $GPU $S/bus/pci/drivers/nvidia/bind
	assert_output --partial "Device or resource busy" # already bound
	echo vfio-pci >$S/bus/pci/devices/0000:02:00.2/driver_override
	echo 0000:02:00.2 >$S/bus/pci/drivers/pcieport/unbind
	run put 0000:02:00.2 $S/bus/pci/drivers/vfio-pci/bind
	assert_output --partial "Invalid argument" # vfio-pci takes no bridge
	assert_equal "$(driver_of 0000:02:00.2)" ""
	sim ctl "$SIMROOT" fault $AUDIO bind-fails EIO
	echo $AUDIO >$S/bus/pci/drivers/snd_hda_intel/unbind
	run put $AUDIO $S/bus/pci/drivers/snd_hda_intel/bind
	assert_output --partial "Input/output error"
	sim ctl "$SIMROOT" fault $AUDIO bind-fails EPROBE_DEFER
	run put $AUDIO $S/bus/pci/drivers/snd_hda_intel/bind
	assert_output --partial "Resource temporarily unavailable"
	sim ctl "$SIMROOT" fault $AUDIO clear
	echo $AUDIO >$S/bus/pci/drivers/snd_hda_intel/bind
	assert_equal "$(driver_of $AUDIO)" snd_hda_intel
}

@test "before Linux 5.13 every bind failure is ENODEV" {
	sim_down
	sim_up b550-5600g-rtx2060 "kernel 5.10.0-28-amd64"
	run put $GPU $S/bus/pci/drivers/nvidia/bind
	assert_output --partial "No such device"
}

@test "vfio-pci refuses a device without an IOMMU group" {
	sim_down
	sim_up z690-no-iommu
	load_vfio
	echo vfio-pci >$S/bus/pci/devices/$GPU/driver_override
	echo $GPU >$S/bus/pci/drivers/nvidia/unbind
	run put $GPU $S/bus/pci/drivers/vfio-pci/bind
	assert_output --partial "Invalid argument"
	echo $GPU >$S/bus/pci/drivers_probe # succeeds, binds nothing
	assert_equal "$(driver_of $GPU)" ""
}

@test "unbind answers ENODEV for a device the driver does not have" {
	run put $AUDIO $S/bus/pci/drivers/nvidia/unbind
	assert_output --partial "No such device"
	run put 0000:07:00.0 $S/bus/pci/drivers/nvidia/unbind
	assert_output --partial "No such device"
}

@test "drivers_probe succeeds whether or not anything bound; ENODEV for an unknown device" {
	run put 0000:07:00.0 $S/bus/pci/drivers_probe
	assert_output --partial "No such device"
	sim ctl "$SIMROOT" fault $AUDIO probe-nothing
	echo $AUDIO >$S/bus/pci/drivers/snd_hda_intel/unbind
	echo $AUDIO >$S/bus/pci/drivers_probe
	assert_equal "$(driver_of $AUDIO)" ""
	# an override naming a driver that is not loaded also binds nothing, silently
	echo vfio-pci >$S/bus/pci/devices/$GPU/driver_override
	echo $GPU >$S/bus/pci/drivers/nvidia/unbind
	echo $GPU >$S/bus/pci/drivers_probe
	assert_equal "$(driver_of $GPU)" ""
}

@test "new_id binds every device with the ID; a repeat is EEXIST; remove_id" {
	load_vfio
	echo $AUDIO >$S/bus/pci/drivers/snd_hda_intel/unbind
	echo "10de 10f9" >$S/bus/pci/drivers/vfio-pci/new_id
	assert_equal "$(driver_of $AUDIO)" vfio-pci
	assert_equal "$(driver_of $GPU)" nvidia # bound devices stay
	run put "10de 10f9" $S/bus/pci/drivers/vfio-pci/new_id
	assert_output --partial "File exists"
	run put "nonsense" $S/bus/pci/drivers/vfio-pci/new_id
	assert_output --partial "Invalid argument"
	echo "10de 10f9" >$S/bus/pci/drivers/vfio-pci/remove_id
	run put "10de 10f9" $S/bus/pci/drivers/vfio-pci/remove_id
	assert_output --partial "No such device"
}

@test "attributes refuse the wrong direction; sysfs refuses new files" {
	run put 0x1234 $S/bus/pci/devices/$GPU/vendor
	assert_output --partial "Permission denied"
	run cat $S/bus/pci/drivers/nvidia/unbind
	assert_output --partial "Permission denied"
	run touch $S/bus/pci/devices/$GPU/newfile
	assert_failure
	run mkdir $S/bus/pci/drivers/mine
	assert_output --partial "Operation not permitted"
}

@test "an unbind blocks until the test releases it, and then completes" {
	sim ctl "$SIMROOT" fault $GPU unbind-blocks
	bash -c "echo $GPU >$S/bus/pci/drivers/nvidia/unbind; echo done >$BATS_TEST_TMPDIR/done" &
	until_status "blocked unbind $GPU"
	[ ! -e "$BATS_TEST_TMPDIR/done" ]
	assert_equal "$(driver_of $GPU)" "" # the link goes first, as in the kernel
	run sim status "$SIMROOT"
	assert_line "blocked unbind $GPU"
	sim ctl "$SIMROOT" release $GPU
	wait
	assert_equal "$(cat "$BATS_TEST_TMPDIR/done")" done
	assert_equal "$(driver_of $GPU)" ""
}

@test "latency: an unbind and a probe that take time hold the device lock meanwhile, then complete on their own" {
	sim ctl "$SIMROOT" fault $GPU unbind-takes 1500
	sim ctl "$SIMROOT" fault $GPU probe-takes 1500
	bash -c "echo $GPU >$S/bus/pci/drivers/nvidia/unbind; echo unbound >$BATS_TEST_TMPDIR/done" &
	until_status "blocked unbind $GPU"
	[ ! -e "$BATS_TEST_TMPDIR/done" ]
	# another device goes on meanwhile: the lock is this one's alone
	put $AUDIO $S/bus/pci/drivers/snd_hda_intel/unbind
	assert_equal "$(driver_of $AUDIO)" ""
	# no release: the remove() ends by itself
	wait
	assert_equal "$(cat "$BATS_TEST_TMPDIR/done")" unbound
	run sim status "$SIMROOT"
	refute_output --partial blocked
	bash -c "echo $GPU >$S/bus/pci/drivers_probe; echo probed >$BATS_TEST_TMPDIR/done" &
	until_status "probing $GPU"
	assert_equal "$(driver_of $GPU)" ""
	# driver_override takes the device lock: it waits for the probe
	bash -c "echo vfio-pci >$S/bus/pci/devices/$GPU/driver_override" &
	poll 10 eval 'sim status "$SIMROOT" | grep -q "^locked write .*/$GPU/driver_override (the lock of $GPU)$"' 
	wait
	assert_equal "$(cat "$BATS_TEST_TMPDIR/done")" probed
	assert_equal "$(driver_of $GPU)" nvidia
	assert_equal "$(cat $S/bus/pci/devices/$GPU/driver_override)" vfio-pci
	run sim ctl "$SIMROOT" fault $GPU unbind-takes soon
	assert_failure
}

@test "a sound driver's remove() takes the card's nodes away first, then waits for the files still open to close (as Debian's 6.1 and 6.12 do)" {
	local card
	card=$(ls "$S/bus/pci/devices/$AUDIO/sound")
	hold "$SIMROOT/dev/snd/controlC${card#card}"
	holder=$HOLDER
	bash -c "echo $AUDIO >$S/bus/pci/drivers/snd_hda_intel/unbind" &
	until_status "blocked unbind $AUDIO"
	[ ! -e "$SIMROOT/dev/snd/controlC${card#card}" ]
	[ ! -e "$S/bus/pci/devices/$AUDIO/sound" ]
	[ ! -e "$S/class/sound/$card" ]
	kill "$holder"
	wait
	run sim status "$SIMROOT"
	refute_output --partial blocked
	assert_equal "$(driver_of $AUDIO)" ""
}

@test "an unbind waits while a process holds the device node, as nvidia's does" {
	hold "$SIMROOT/dev/nvidia0"
	holder=$HOLDER
	assert_equal "$(cat $S/module/nvidia/refcnt)" 3 # two modules and the open node
	bash -c "echo $GPU >$S/bus/pci/drivers/nvidia/unbind" &
	writer=$!
	until_status "blocked unbind $GPU"
	alive_pid $writer
	kill $holder
	wait $holder || true
	wait $writer
	assert_equal "$(driver_of $GPU)" ""
	assert_equal "$(cat $S/module/nvidia/refcnt)" 2
}

@test "a holder directive starts a named process holding the node" {
	sim_down
	sim_up b550-5600g-rtx2060 "holder /dev/nvidia0 Xorg"
	pid=$(head -1 "$SIMROOT/.sim/holders")
	assert_equal "$(cat "$SIMROOT/proc/$pid/comm")" Xorg
	[ "$(stat -L -c %i "$SIMROOT/proc/$pid/fd/3")" = "$(stat -c %i "$SIMROOT/dev/nvidia0")" ]
	assert_equal "$(cat $S/module/nvidia/refcnt)" 3
}

@test "state holds across many commands" {
	load_vfio
	for i in 1 2 3; do
		echo vfio-pci >$S/bus/pci/devices/$AUDIO/driver_override
		echo $AUDIO >$S/bus/pci/drivers/snd_hda_intel/unbind
		echo $AUDIO >$S/bus/pci/drivers_probe
		assert_equal "$(driver_of $AUDIO)" vfio-pci
		echo >$S/bus/pci/devices/$AUDIO/driver_override
		echo $AUDIO >$S/bus/pci/drivers/vfio-pci/unbind
		echo $AUDIO >$S/bus/pci/drivers_probe
		assert_equal "$(driver_of $AUDIO)" snd_hda_intel
	done
	assert_equal "$(cat $S/module/vfio_pci/initstate)" live
}

@test "remove and rescan: the device goes and comes back with its driver" {
	echo 1 >$S/bus/pci/devices/$AUDIO/remove
	[ ! -e "$S/bus/pci/devices/$AUDIO" ]
	run iommu-groups --sysroot "$SIMROOT" --json 8
	assert_equal "$(jq '.groups[0].devices | length' <<<"$output")" 1
	echo 1 >$S/bus/pci/rescan
	assert_equal "$(driver_of $AUDIO)" snd_hda_intel
}

@test "reset takes 1 only" {
	echo 1 >$S/bus/pci/devices/$GPU/reset
	run put 0 $S/bus/pci/devices/$GPU/reset
	assert_output --partial "Invalid argument"
	run sim status "$SIMROOT"
	assert_line "resets 1"
}

@test "vtconsole bind: a system console ignores it silently, a framebuffer console obeys" {
	# fbcon holds the VTs: the dummy console is bound to none (seen on 6.1 and 6.12)
	assert_equal "$(cat $S/class/vtconsole/vtcon0/bind)" 0
	echo 1 >$S/class/vtconsole/vtcon0/bind
	assert_equal "$(cat $S/class/vtconsole/vtcon0/bind)" 0
	echo 0 >$S/class/vtconsole/vtcon1/bind
	assert_equal "$(cat $S/class/vtconsole/vtcon1/bind)" 0
	# the VTs go back to the dummy console
	assert_equal "$(cat $S/class/vtconsole/vtcon0/bind)" 1
	echo 0 >$S/class/vtconsole/vtcon0/bind
	assert_equal "$(cat $S/class/vtconsole/vtcon0/bind)" 1
	echo 1 >$S/class/vtconsole/vtcon1/bind
	assert_equal "$(cat $S/class/vtconsole/vtcon1/bind)" 1
	assert_equal "$(cat $S/class/vtconsole/vtcon0/bind)" 0
}

@test "the firmware framebuffer: unbind, rebind, EBUSY, ENODEV; efifb's range follows it" {
	sim_down
	sim_up x570-rtx2070s-group
	fb=$S/bus/platform/drivers/efi-framebuffer
	echo efi-framebuffer.0 >$fb/unbind
	[ ! -e "$S/bus/platform/devices/efi-framebuffer.0/driver" ]
	run grep -c " : efifb$" "$SIMROOT/proc/iomem"
	assert_output 0
	run put efi-framebuffer.0 $fb/unbind
	assert_output --partial "No such device"
	echo efi-framebuffer.0 >$fb/bind
	run put efi-framebuffer.0 $fb/bind
	assert_output --partial "Device or resource busy"
	run put simple-framebuffer.0 $fb/bind
	assert_output --partial "No such device"
	run grep -c " : efifb$" "$SIMROOT/proc/iomem"
	assert_output 1
}

@test "the framebuffer console vanishes with the last framebuffer and returns with the next" {
	sim_down
	sim_up x570-rtx2070s-group
	echo efi-framebuffer.0 >$S/bus/platform/drivers/efi-framebuffer/unbind
	[ -e "$S/class/vtconsole/vtcon1" ] # nvidia-drm still has one
	echo 0000:09:00.0 >$S/bus/pci/drivers/nvidia/unbind
	[ ! -e "$S/class/vtconsole/vtcon1" ]
	echo 0000:09:00.0 >$S/bus/pci/drivers_probe
	assert_equal "$(cat $S/class/vtconsole/vtcon1/bind)" 1
}

@test "simple-framebuffer kernels: no efi-framebuffer.0, and the guides' echo fails" {
	sim_down
	sim_up x570-rtx2070s-group "framebuffer simple-framebuffer"
	[ ! -e "$S/bus/platform/devices/efi-framebuffer.0" ]
	assert_equal "$(basename "$(readlink $S/bus/platform/devices/simple-framebuffer.0/driver)")" simple-framebuffer
	run put efi-framebuffer.0 $S/bus/platform/drivers/efi-framebuffer/unbind
	assert_output --partial "No such file or directory"
}

@test "vfio-pci taking the boot GPU unregisters the firmware framebuffer (Linux 6.0+), not before" {
	sim_down
	sim_up x570-rtx2070s-group "kernel 6.1.0-13-amd64"
	load_vfio
	echo vfio-pci >$S/bus/pci/devices/0000:09:00.0/driver_override
	echo 0000:09:00.0 >$S/bus/pci/drivers/nvidia/unbind
	echo 0000:09:00.0 >$S/bus/pci/drivers_probe
	assert_equal "$(driver_of 0000:09:00.0)" vfio-pci
	[ ! -e "$S/bus/platform/devices/efi-framebuffer.0" ]
	run grep -c BOOTFB "$SIMROOT/proc/iomem"
	assert_output 0
	sim_down
	sim_up x570-rtx2070s-group "kernel 5.15.0-91-generic"
	load_vfio
	echo vfio-pci >$S/bus/pci/devices/0000:09:00.0/driver_override
	echo 0000:09:00.0 >$S/bus/pci/drivers/nvidia/unbind
	echo 0000:09:00.0 >$S/bus/pci/drivers_probe
	[ -e "$S/bus/platform/devices/efi-framebuffer.0/driver" ]
}

@test "modules: real modprobe resolves from the simulated tree; loads go to the simulated kernel" {
	run modprobe -d "$SIMROOT" -S "$KVER" --show-depends vfio-pci
	assert_success
	assert_line --index 0 --partial "/kernel/drivers/irqbypass.ko"
	assert_line --index -1 --partial "/kernel/drivers/vfio_pci.ko"
	run modprobe -d "$SIMROOT" -S "$KVER" -R pci:v000010DEd00001F03sv00001043sd0000870Abc03sc00i00
	assert_output nvidia
	load_vfio
	assert_equal "$(cat $S/module/vfio_pci/initstate)" live
	assert_equal "$(cat $S/module/vfio/refcnt)" 2 # vfio_iommu_type1 (softdep) and vfio_pci_core
	[ -L "$S/module/vfio/holders/vfio_pci_core" ]
	[ -d "$S/bus/pci/drivers/vfio-pci" ]
	run grep -c '^vfio' "$SIMROOT/proc/modules"
	assert_output 4
	[ -e "$SIMROOT/dev/vfio/vfio" ]
}

@test "modules: in use is EWOULDBLOCK; removal unbinds the driver's devices; /sys/module follows" {
	run on_sim kmodcall "$SIMROOT/lib/modules/$KVER" remove nvidia
	assert_failure
	assert_output --partial "Resource temporarily unavailable"
	for m in nvidia_drm nvidia_uvm nvidia_modeset nvidia; do
		on_sim kmodcall "$SIMROOT/lib/modules/$KVER" remove $m
	done
	[ ! -e "$S/module/nvidia" ]
	[ ! -e "$S/bus/pci/drivers/nvidia" ]
	assert_equal "$(driver_of $GPU)" ""
	run grep -c '^nvidia' "$SIMROOT/proc/modules"
	assert_output 0
	# loading it again binds the device again
	on_sim modprobe -d "$SIMROOT" -S "$KVER" nvidia
	assert_equal "$(driver_of $GPU)" nvidia
}

@test "modules: a missing dependency is ENOENT, a loaded one EEXIST, injected faults their errno" {
	run on_sim kmodcall "$SIMROOT/lib/modules/$KVER" insert vfio_pci
	assert_failure
	assert_output --partial "No such file or directory"
	run on_sim kmodcall "$SIMROOT/lib/modules/$KVER" insert nvidia
	assert_output --partial "File exists"
	sim ctl "$SIMROOT" fault module snd_hda_intel unload EBUSY
	run on_sim kmodcall "$SIMROOT/lib/modules/$KVER" remove snd_hda_intel
	assert_output --partial "Device or resource busy"
	assert_equal "$(driver_of $AUDIO)" snd_hda_intel
}

@test "modules: built in counts as loaded; absent cannot be found" {
	sim_down
	sim_up b550-5600g-rtx2060 "module vfio_pci builtin" "module nvidia_uvm absent"
	[ -d "$S/bus/pci/drivers/vfio-pci" ]
	[ -d "$S/module/vfio_pci" ]
	[ ! -e "$S/module/vfio_pci/initstate" ]
	run grep vfio_pci "$SIMROOT/lib/modules/$KVER/modules.builtin"
	assert_success
	run modprobe -d "$SIMROOT" -S "$KVER" --show-depends vfio_pci
	assert_output "builtin vfio_pci"
	run modprobe -d "$SIMROOT" -S "$KVER" --show-depends nvidia_uvm
	assert_failure
}

@test "modules: the vfio set follows the kernel version" {
	sim_down
	sim_up b550-5600g-rtx2060 "kernel 5.10.0-28-amd64"
	run modprobe -d "$SIMROOT" -S 5.10.0-28-amd64 --show-depends vfio-pci
	assert_output --partial vfio_virqfd.ko
	refute_output --partial vfio_pci_core
}

@test "without a sysroot the trap refuses: nothing reaches the real kernel" {
	run env -u VFIO_UTILS_SYSROOT LD_PRELOAD="$BUILD/kmodtrap.so" \
		kmodcall "$SIMROOT/lib/modules/$KVER" insert irqbypass
	assert_failure
	assert_output --partial "Operation not permitted"
}

@test "write faults: a chosen attribute fails with a chosen errno, once" {
	sim ctl "$SIMROOT" fault write /sys/bus/pci/devices/$GPU/driver_override EBUSY once
	run put vfio-pci $S/bus/pci/devices/$GPU/driver_override
	assert_output --partial "Device or resource busy"
	echo vfio-pci >$S/bus/pci/devices/$GPU/driver_override
	assert_equal "$(cat $S/bus/pci/devices/$GPU/driver_override)" vfio-pci
}

@test "write faults: skip=N lets N writes pass; an attribute yet to appear can be named" {
	sim ctl "$SIMROOT" fault write /sys/bus/pci/drivers_probe EIO once skip=1
	put $GPU $S/bus/pci/drivers_probe
	run put $GPU $S/bus/pci/drivers_probe
	assert_output --partial "Input/output error"
	put $GPU $S/bus/pci/drivers_probe
	# vfio-pci/unbind appears only once vfio-pci loads
	sim ctl "$SIMROOT" fault write /sys/bus/pci/drivers/vfio-pci/unbind ENODEV once
	run sim ctl "$SIMROOT" fault write sys/relative EIO
	assert_failure
	load_vfio
	echo vfio-pci >$S/bus/pci/devices/$GPU/driver_override
	echo $GPU >$S/bus/pci/drivers/nvidia/unbind
	echo $GPU >$S/bus/pci/drivers_probe
	assert_equal "$(driver_of $GPU)" vfio-pci
	run put $GPU $S/bus/pci/drivers/vfio-pci/unbind
	assert_output --partial "No such device"
	assert_equal "$(driver_of $GPU)" vfio-pci
}

@test "module faults: once fails one call; block holds it until release, then it loads" {
	sim ctl "$SIMROOT" fault module irqbypass load EIO once
	sim ctl "$SIMROOT" fault module vfio load block
	run on_sim kmodcall "$SIMROOT/lib/modules/$KVER" insert irqbypass
	assert_failure
	assert_output --partial "Input/output error"
	on_sim modprobe -d "$SIMROOT" -S "$KVER" vfio-pci &
	local loader=$!
	for ((i = 0; i < 200; i++)); do
		grep -q '^held write /modules$' "$SIMROOT/.simfs/control" && break
		sleep 0.01
	done
	run grep -c '^vfio' "$SIMROOT/proc/modules"
	assert_output 0
	sim ctl "$SIMROOT" release writes
	wait $loader
	assert_equal "$(cat $S/module/vfio_pci/initstate)" live
}

@test "the journal: every write below /sys and module call, with the kernel's answer" {
	: >"$SIMROOT/.sim/journal"
	sim ctl "$SIMROOT" fault write /sys/bus/pci/devices/$GPU/driver_override EBUSY once
	put vfio-pci $S/bus/pci/devices/$GPU/driver_override >/dev/null || true
	echo vfio-pci >$S/bus/pci/devices/$GPU/driver_override
	on_sim kmodcall "$SIMROOT/lib/modules/$KVER" insert irqbypass || true
	# paths as the kernel's own, not the link followed
	local real
	real=$(readlink -f "$S/bus/pci/devices/$GPU/driver_override")
	real=/sys${real#*/sys} # ROOT/sys is a link into the FUSE mount
	run cat "$SIMROOT/.sim/journal"
	assert_output "$(printf '%s\t%s\t%s\t%s\n' write "$real" vfio-pci EBUSY \
		write "$real" vfio-pci 0 load irqbypass '' EEXIST)"
}

@test "the kernel command line, cmdline directive and /proc files" {
	sim_down
	sim_up b550-5600g-rtx2060 "cmdline BOOT_IMAGE=/vmlinuz ro quiet amd_iommu=on iommu=pt pcie_acs_override=downstream"
	assert_equal "$(cat "$SIMROOT/proc/cmdline")" "BOOT_IMAGE=/vmlinuz ro quiet amd_iommu=on iommu=pt pcie_acs_override=downstream"
	assert_equal "$(cat "$SIMROOT/proc/sys/kernel/osrelease")" "$KVER"
	run iommu-groups --sysroot "$SIMROOT" --status
	assert_line --index 1 "Kernel parameters:   amd_iommu=on iommu=pt pcie_acs_override=downstream"
}

@test "each posted machine runs as a simulated machine" {
	for f in "$MACHINES"/*.txt; do
		sim_down
		sim_up "$f"
		[ -d "$S/bus/pci/devices" ]
		# the guides' loop only works where there are groups (see iommu-groups.bats)
		grep -q '^IOMMU Group' "$f" || continue
		diff <(guides-loop "$SIMROOT") <(iommu-groups --sysroot "$SIMROOT")
	done
}

@test "sim down leaves no mount and no process, even after kill -9 of the simulator" {
	sim_down
	sim_up b550-5600g-rtx2060 "holder /dev/nvidia0 Xorg" "fault unbind-blocks 01:00.0"
	holder=$(head -1 "$SIMROOT/.sim/holders")
	hold "$SIMROOT/dev/dri/card1"
	sleeper=$HOLDER
	bash -c "echo $GPU >$SIMROOT/sys/bus/pci/drivers/nvidia/unbind" 2>/dev/null &
	writer=$!
	until_status "blocked unbind $GPU"
	kill -9 "$(cat "$SIMROOT/.sim/pid")"
	sim down "$SIMROOT"
	run grep -c " $SIMROOT/.simfs " /proc/self/mountinfo
	assert_output 0
	wait $writer || true # woken with an error, not left stuck
	run alive_pid "$holder"
	assert_failure
	wait $sleeper || true
	run alive_pid "$sleeper"
	assert_failure
	SIMROOT=
}

@test "sim down stops programs run from the machine's tree (the stand-ins' X server)" {
	mkdir -p "$SIMROOT/run/standin/bin"
	cp "$(command -v sleep)" "$SIMROOT/run/standin/bin/Xorg"
	setsid "$SIMROOT/run/standin/bin/Xorg" 1000 </dev/null >/dev/null 2>&1 &
	local x=$!
	sleep 0.1
	sim down "$SIMROOT"
	sleep 0.1
	run alive_pid "$x"
	assert_failure
	SIMROOT=
}

# What the kernel really does (issue 13): each of these failed on the
# simulator before it was corrected.

@test "a blocked unbind takes the driver link down at once and holds the device lock" {
	sim ctl "$SIMROOT" fault $GPU unbind-blocks
	bash -c "echo $GPU >$S/bus/pci/drivers/nvidia/unbind" &
	local unbind=$!
	until_status "blocked unbind $GPU"
	# driver_sysfs_remove comes before remove(): no link, yet the device is not free
	assert_equal "$(driver_of $GPU)" ""
	[ ! -e "$S/bus/pci/drivers/nvidia/$GPU" ]
	# drivers_probe passes it by at once: the device still counts as bound
	echo $GPU >$S/bus/pci/drivers_probe
	assert_equal "$(driver_of $GPU)" ""
	# driver_override, bind and reset take the device lock: they wait behind it
	bash -c "echo vfio-pci >$S/bus/pci/devices/$GPU/driver_override; touch $BATS_TEST_TMPDIR/1" &
	until_status "locked write /sys/devices/pci0000:00/0000:00:01.1/$GPU/driver_override (the lock of $GPU)"
	bash -c "echo 1 >$S/bus/pci/devices/$GPU/reset; touch $BATS_TEST_TMPDIR/2" &
	until_status "locked write /sys/devices/pci0000:00/0000:00:01.1/$GPU/reset (the lock of $GPU)"
	bash -c "echo pci-stub >$S/bus/pci/devices/$GPU/driver_override; touch $BATS_TEST_TMPDIR/3" &
	sleep 0.3 # nothing in the status tells this one from the first: give it time to arrive
	[ ! -e "$BATS_TEST_TMPDIR/1" ] && [ ! -e "$BATS_TEST_TMPDIR/2" ] && [ ! -e "$BATS_TEST_TMPDIR/3" ]
	run sim status "$SIMROOT"
	assert_line "blocked unbind $GPU"
	assert_line "locked write /sys/devices/pci0000:00/0000:00:01.1/$GPU/driver_override (the lock of $GPU)"
	assert_line "locked write /sys/devices/pci0000:00/0000:00:01.1/$GPU/reset (the lock of $GPU)"
	# reading driver_override takes the device lock as well: it waits too
	run timeout -k 0.2 1 sh -c 'cat "$1" >/dev/null 2>&1; :' _ $S/bus/pci/devices/$GPU/driver_override
	assert_failure 124
	run sim status "$SIMROOT"
	assert_line "locked read /sys/devices/pci0000:00/0000:00:01.1/$GPU/driver_override (the lock of $GPU)"
	# once remove() returns, they go, in the order they came: the last override wins
	sim ctl "$SIMROOT" release $GPU
	wait
	[ -e "$BATS_TEST_TMPDIR/1" ] && [ -e "$BATS_TEST_TMPDIR/2" ] && [ -e "$BATS_TEST_TMPDIR/3" ]
	assert_equal "$(cat $S/bus/pci/devices/$GPU/driver_override)" pci-stub
	run sim status "$SIMROOT"
	assert_line "resets 1"
}

@test "a writer stuck in a remove() stays stuck through its signals; the simulator notes them" {
	hold "$SIMROOT/dev/nvidia0"
	local holder=$HOLDER
	bash -c "echo $GPU >$S/bus/pci/drivers/nvidia/unbind" &
	local writer=$!
	until_status "blocked unbind $GPU"
	kill -TERM $writer
	until_status "signalled $GPU"
	sleep 0.2
	alive_pid $writer # nvidia's remove() ignores signals
	kill -KILL $writer
	sleep 0.2
	assert_equal "$(awk '{ print $3 }' /proc/$writer/stat)" D # uninterruptible, as in the kernel
	kill $holder
	wait $holder || true
	for ((i = 0; i < 100; i++)); do alive_pid $writer || break; sleep 0.02; done
	! alive_pid $writer
	assert_equal "$(driver_of $GPU)" ""
}

@test "a sound card's open node holds the audio function's unbind, as snd_hda_intel's remove does" {
	local card n
	card=$(ls $S/bus/pci/devices/$AUDIO/sound)
	n=${card#card}
	assert_equal "$(cat $S/class/sound/$card/number)" "$n"
	[ -e "$SIMROOT/dev/snd/controlC$n" ] && [ -e "$SIMROOT/dev/snd/pcmC${n}D0p" ]
	hold "$SIMROOT/dev/snd/controlC$n"
	local holder=$HOLDER
	bash -c "echo $AUDIO >$S/bus/pci/drivers/snd_hda_intel/unbind" &
	until_status "blocked unbind $AUDIO"
	kill $holder
	wait
	assert_equal "$(driver_of $AUDIO)" ""
	[ ! -e "$SIMROOT/dev/snd/controlC$n" ]
	# amdgpu's remove does not wait for open files
	hold "$SIMROOT/dev/dri/card0"
	holder=$HOLDER
	echo 0000:09:00.0 >$S/bus/pci/drivers/amdgpu/unbind
	assert_equal "$(driver_of 0000:09:00.0)" ""
	kill $holder
}

@test "framebuffer resources: BOOTFB is simple-framebuffer's and outlives its driver; efifb's range only while bound" {
	sim_down
	sim_up x570-rtx2070s-group "kernel 5.15.0-91-generic"
	run grep -E ' : (BOOTFB|efifb)$' "$SIMROOT/proc/iomem"
	assert_output --regexp '^ +[0-9a-f]+-[0-9a-f]+ : efifb$'
	echo efi-framebuffer.0 >$S/bus/platform/drivers/efi-framebuffer/unbind
	run grep -cE ' : (BOOTFB|efifb)$' "$SIMROOT/proc/iomem"
	assert_output 0
	sim_down
	sim_up x570-rtx2070s-group "kernel 5.15.0-91-generic" "framebuffer simple-framebuffer"
	echo simple-framebuffer.0 >$S/bus/platform/drivers/simple-framebuffer/unbind
	run grep -c ' : BOOTFB$' "$SIMROOT/proc/iomem"
	assert_output 1 # unbinding simplefb or simpledrm leaves it
}

@test "eviction: Linux 6.0 takes the framebuffer for any VGA device, 6.1 only for its own; a 3D controller never" {
	local k gpu
	for k in 6.0.0-1-amd64 6.1.0-13-amd64; do
		sim_down
		# the firmware used the RTX; vfio-pci takes the iGPU's neighbour, an nvidia 3D controller and the RTX
		sim_up b550-5600g-rtx2060 "kernel $k" "boot-vga 01:00.0"
		load_vfio
		echo vfio-pci >$S/bus/pci/devices/0000:09:00.0/driver_override
		echo 0000:09:00.0 >$S/bus/pci/drivers/amdgpu/unbind
		echo 0000:09:00.0 >$S/bus/pci/drivers_probe
		if [ "$k" = 6.0.0-1-amd64 ]; then
			[ ! -e "$S/bus/platform/devices/efi-framebuffer.0" ]
		else
			[ -e "$S/bus/platform/devices/efi-framebuffer.0" ]
		fi
	done
	sed 's/^\(IOMMU Group 8 01:00.0\) VGA compatible controller \[0300\]/\1 3D controller [0302]/' \
		"$MACHINES/b550-5600g-rtx2060.txt" >"$BATS_TEST_TMPDIR/3d.txt"
	sim_down
	sim_up "$BATS_TEST_TMPDIR/3d.txt" "kernel 6.1.0-13-amd64" "boot-vga 09:00.0" "framebuffer efi-framebuffer on 01:00.0"
	load_vfio
	echo vfio-pci >$S/bus/pci/devices/$GPU/driver_override
	echo $GPU >$S/bus/pci/drivers/nvidia/unbind
	echo $GPU >$S/bus/pci/drivers_probe
	assert_equal "$(driver_of $GPU)" vfio-pci
	[ -e "$S/bus/platform/devices/efi-framebuffer.0" ]
}

@test "a desktop booted on amdgpu has no firmware framebuffer; one booted on nvidia keeps it" {
	[ ! -e "$S/bus/platform/devices/efi-framebuffer.0" ] # b550: booted on the Cezanne iGPU
	assert_equal "$(cat $S/class/vtconsole/vtcon1/name)" "(M) frame buffer device" # amdgpu's own
	sim_down
	sim_up b550-5600g-rtx2060 "boot-vga 01:00.0"
	[ -e "$S/bus/platform/devices/efi-framebuffer.0/driver" ]
	sim_down
	sim_up b550-5600g-rtx2060 "framebuffer efi-framebuffer" # said so: an older kernel
	[ -e "$S/bus/platform/devices/efi-framebuffer.0" ]
}

@test "probes refuse what their real ones refuse: driver_override only lets a driver try" {
	load_vfio
	# pcieport takes PCIe ports only
	echo pcieport >$S/bus/pci/devices/$GPU/driver_override
	echo $GPU >$S/bus/pci/drivers/nvidia/unbind
	echo $GPU >$S/bus/pci/drivers_probe
	assert_equal "$(driver_of $GPU)" ""
	# a GPU driver, only what its ID table names
	echo amdgpu >$S/bus/pci/devices/$GPU/driver_override
	run put $GPU $S/bus/pci/drivers/amdgpu/bind
	assert_output --partial "No such device"
	assert_equal "$(driver_of $GPU)" ""
	# vfio-pci refuses a PCI bridge (a type 1 header), takes a host bridge (type 0)
	echo vfio-pci >$S/bus/pci/devices/0000:00:01.1/driver_override
	echo 0000:00:01.1 >$S/bus/pci/drivers/pcieport/unbind
	run put 0000:00:01.1 $S/bus/pci/drivers/vfio-pci/bind
	assert_output --partial "Invalid argument"
	echo vfio-pci >$S/bus/pci/devices/0000:00:01.0/driver_override
	echo 0000:00:01.0 >$S/bus/pci/drivers/vfio-pci/bind
	assert_equal "$(driver_of 0000:00:01.0)" vfio-pci
}

@test "driver_override: EINVAL from 4095 bytes, cut at the first newline; bind's EBUSY from Linux 5.14" {
	run put "$(head -c 4094 /dev/zero | tr '\0' x)" $S/bus/pci/devices/$GPU/driver_override
	assert_output --partial "Invalid argument"
	printf 'vfio-pci\nnvidia' >"$BATS_TEST_TMPDIR/v"
	dd if="$BATS_TEST_TMPDIR/v" of=$S/bus/pci/devices/$GPU/driver_override bs=64 2>/dev/null # one write
	assert_equal "$(cat $S/bus/pci/devices/$GPU/driver_override)" vfio-pci
	sim_down
	sim_up b550-5600g-rtx2060 "kernel 5.13.19"
	run put $GPU $S/bus/pci/drivers/nvidia/bind
	assert_output --partial "No such device"
	sim_down
	sim_up b550-5600g-rtx2060 "kernel 5.14.21"
	run put $GPU $S/bus/pci/drivers/nvidia/bind
	assert_output --partial "Device or resource busy"
}

@test "an open DRM card pins nvidia_drm; /dev/nvidia0 pins nvidia" {
	local before
	before=$(cat $S/module/nvidia/refcnt)
	hold "$SIMROOT/dev/dri/card1"
	local holder=$HOLDER
	sleep 0.2
	assert_equal "$(cat $S/module/nvidia/refcnt)" "$before"
	assert_equal "$(cat $S/module/nvidia_drm/refcnt)" 1
	kill $holder
}

@test "devices sit below the bridges they are behind; the CPUs are there for libvirt" {
	assert_equal "$(readlink -f $S/bus/pci/devices/$GPU)" "$(readlink -f $S/devices/pci0000:00/0000:00:01.1/$GPU)"
	[ -d "$S/devices/pci0000:00/0000:00:02.1/0000:02:00.2/0000:03:00.0" ]
	assert_equal "$(cat $S/devices/system/cpu/online)" 0-7
	sim_down
	sim_up b550-5600g-rtx2060 "cpus 16" "behind 08:00.0 03:02.0"
	assert_equal "$(cat $S/devices/system/cpu/present)" 0-15
	[ -d "$S/devices/system/cpu/cpu15" ]
	[ -e "$S/devices/pci0000:00/0000:00:02.1/0000:02:00.2/0000:03:02.0/0000:08:00.0/vendor" ]
}

@test "a user's service holding a node: systemctl --user stops it, and starts it again" {
	sim_down
	sim_up b550-5600g-rtx2060 "holder /dev/snd/controlC2 pipewire user=1000 unit=pipewire.service"
	pid=$(head -1 "$SIMROOT/.sim/holders")
	assert_equal "$(cat "$SIMROOT/proc/$pid/cgroup")" "0::/user.slice/user-1000.slice/user@1000.service/session.slice/pipewire.service"
	[ "$(stat -L -c %i "$SIMROOT/proc/$pid/fd/3")" = "$(stat -c %i "$SIMROOT/dev/snd/controlC2")" ]
	run sim status "$SIMROOT"
	assert_line "unit 1000 pipewire.service active"
	PATH=$STANDINS:$PATH on_sim systemctl --user -M 1000@.host stop pipewire.socket pipewire.service
	run sim status "$SIMROOT"
	assert_line "unit 1000 pipewire.service inactive"
	! alive_pid "$pid"
	PATH=$STANDINS:$PATH on_sim systemctl --user --machine=1000@.host start pipewire.service
	run sim status "$SIMROOT"
	assert_line "unit 1000 pipewire.service active"
}
