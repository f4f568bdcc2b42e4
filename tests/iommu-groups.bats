#!/usr/bin/env bats
# iommu-groups on static machine trees built from posted listings.

load helpers
bats_require_minimum_version 1.5.0

# The fixture's listing lines in the one-line form people post.
posted_lines() {
	awk '
		/^[ \t]*#/ || NF == 0 { next }
		/^IOMMU Group [0-9]+:/ { g = $3; sub(":", "", g); next }
		/^IOMMU Group [0-9]+ / { print; next }
		/^[ \t]/ { sub(/^[ \t]+/, ""); print "IOMMU Group " g " " $0 }
	' "$1" | sort
}

# Our two-line output folded into the same one-line form.
folded() {
	awk '/^IOMMU Group/ { g = $3; sub(":", "", g); next } { sub(/^\t/, ""); print "IOMMU Group " g " " $0 }' | sort
}

with_groups() {
	for f in $(fixtures); do
		grep -q '^IOMMU Group' "$f" && echo "$f"
	done
}

@test "default output equals the guides' loop run with real lspci, on every fixture" {
	local n=0
	for f in $(with_groups); do
		root=$(machine "$f")
		guides-loop "$root" >"$BATS_TEST_TMPDIR/guides"
		run iommu-groups --sysroot "$root"
		assert_success
		# byte for byte, trailing newline included
		iommu-groups --sysroot "$root" | cmp - "$BATS_TEST_TMPDIR/guides"
		n=$((n + 1))
	done
	[ "$n" -ge 5 ]
}

@test "a tree built from a posted listing lists exactly the posted lines" {
	for f in $(with_groups); do
		root=$(machine "$f")
		diff <(posted_lines "$f") <(iommu-groups --sysroot "$root" | folded)
	done
}

@test "--json carries the same groups and devices as the listing" {
	for f in $(with_groups); do
		root=$(machine "$f")
		# the listing shows domains only where lspci would; JSON always does
		diff <(iommu-groups --sysroot "$root" | sed 's/^\t\([^ ]*\) .*/\t\1/; s/^\t\(..:..\..\)$/\t0000:\1/') \
			<(iommu-groups --sysroot "$root" --json |
				jq -r '.groups[] | "IOMMU Group \(.group):", (.devices[] | "\t\(.address)")')
	done
}

@test "--json describes each device as the listing does" {
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" --json 8
	assert_success
	run jq -r '.groups[0].devices[0] | [.address, .group, .class, .vendor, .device, .revision, .driver, .display, .bridge, .vendor_name, .device_name] | join("|")' <<<"$output"
	assert_output '0000:01:00.0|8|0300|10de|1f03|a1|nvidia|true|false|NVIDIA Corporation|TU106 [GeForce RTX 2060 12GB]'
}

@test "the VMD domain makes every slot carry its domain, as lspci does" {
	root=$(machine tigerlake-vmd)
	run iommu-groups --sysroot "$root" 2
	assert_success
	assert_line --index 1 $'\t0000:00:0e.0 RAID bus controller [0104]: Intel Corporation Volume Management Device NVMe RAID Controller [8086:9a0b]'
	assert_line --index 2 --partial $'\t10000:e1:00.0 Non-Volatile memory controller [0108]'
}

@test "each sysfs attribute is read once, and names come from one database load" {
	command -v strace >/dev/null || skip "strace is not installed"
	root=$(machine b550-5600g-rtx2060)
	# (LeakSanitizer cannot run under ptrace: the sanitizer pass checks leaks elsewhere.)
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 \
		strace -f -e trace=openat -o "$BATS_TEST_TMPDIR/trace" iommu-groups --sysroot "$root" -k >/dev/null
	run bash -c "grep -o '\"$root/[^\"]*\"' '$BATS_TEST_TMPDIR/trace' | sort | uniq -d"
	assert_output ''
	[ "$(grep -c 'pci.ids' "$BATS_TEST_TMPDIR/trace")" -eq 1 ]
}

# Selection

@test "a device argument selects its group, in every spelling users meet" {
	root=$(machine b550-5600g-rtx2060)
	expected=$(iommu-groups --sysroot "$root" 8)
	assert_equal "$(printf '%s\n' "$expected" | head -1)" "IOMMU Group 8:"
	for spelling in 0000:01:00.0 01:00.0 1:0.0 pci_0000_01_00_0 10de:1f03 01:00.1 10DE:10F9; do
		run iommu-groups --sysroot "$root" "$spelling"
		assert_success
		assert_output "$expected"
	done
}

@test "several selections list each group once, in numeric order" {
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" 10 01:00.1 8 2
	assert_success
	run grep '^IOMMU' <<<"$output"
	assert_output $'IOMMU Group 2:\nIOMMU Group 8:\nIOMMU Group 10:'
}

@test "--gpu selects the groups holding a display controller" {
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" --gpu
	assert_success
	run grep '^IOMMU' <<<"$output"
	assert_output $'IOMMU Group 8:\nIOMMU Group 10:'
}

@test "-G and -C are --gpu and --check; -g and -c still are, with a warning, as the suite gives them other meanings" {
	root=$(machine b550-5600g-rtx2060)
	gpus=$(iommu-groups --sysroot "$root" --gpu)
	run iommu-groups --sysroot "$root" -G
	assert_success
	assert_output "$gpus"
	run --separate-stderr iommu-groups --sysroot "$root" -g
	assert_success
	assert_output "$gpus"
	assert_equal "$stderr" "iommu-groups: warning: -g is deprecated: use -G or --gpu (-g is --group in vfio-bind)"
	check=$(iommu-groups --sysroot "$root" --check 01:00.0)
	run iommu-groups --sysroot "$root" -C 01:00.0
	assert_success
	assert_output "$check"
	run --separate-stderr iommu-groups --sysroot "$root" -c 01:00.0
	assert_success
	assert_output "$check"
	assert_equal "$stderr" "iommu-groups: warning: -c is deprecated: use -C or --check (-c is --connect in hook-run and vfio-audit)"
}

@test "a vendor:device matching several devices needs --all" {
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" 1022:1639
	assert_failure 1
	assert_output "iommu-groups: 1022:1639: matches 2 devices (0000:09:00.3, 0000:09:00.4); name one by address, or use --all"
	run iommu-groups --sysroot "$root" --all 1022:1639
	assert_success
	run grep '^IOMMU' <<<"$output"
	assert_output $'IOMMU Group 13:\nIOMMU Group 14:'
}

@test "-k appends the driver and what the host uses the device for" {
	root=$(machine z690-rtx3070)
	run iommu-groups --sysroot "$root" -k 1 4
	assert_success
	assert_line --index 1 --regexp $'^\t00:01.0 PCI bridge .* \\(driver: pcieport\\)$'
	assert_line --index 2 --regexp $'^\t01:00.0 VGA .*\\(rev a1\\) \\(driver: nvidia\\)$'
	assert_line --index 5 --regexp $'^\t00:17.0 SATA .* \\(driver: ahci\\) \\(in use: holds /, /home, swap\\)$'
}

@test "--ids gives the vfio-pci.ids list of a group, bridges and repeats left out" {
	root=$(machine x570-rtx2070s-group)
	run iommu-groups --sysroot "$root" --ids 09:00.0
	assert_success
	assert_output "10de:1e84,10de:10f8,10de:1ad8,10de:1ad9"
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" --ids --all 1022:1639
	assert_success
	assert_output "1022:1639"
}

@test "--ids warns when a device outside the selection has the same ID: vfio-pci.ids= would take it too" {
	root=$(machine_from_stdin <<-'EOF'
		IOMMU Group 1 00:01.0 PCI bridge [0604]: Intel Corporation 12th Gen Core Processor PCI Express x16 Controller #1 [8086:460d] (rev 02)
		IOMMU Group 1 01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GA104 [GeForce RTX 3070] [10de:2484] (rev a1)
		IOMMU Group 1 01:00.1 Audio device [0403]: NVIDIA Corporation GA104 High Definition Audio Controller [10de:228b] (rev a1)
		IOMMU Group 2 00:01.1 PCI bridge [0604]: Intel Corporation 12th Gen Core Processor PCI Express x8 Controller #2 [8086:4609] (rev 02)
		IOMMU Group 2 02:00.0 VGA compatible controller [0300]: NVIDIA Corporation GA104 [GeForce RTX 3070] [10de:2484] (rev a1)
		IOMMU Group 2 02:00.1 Audio device [0403]: NVIDIA Corporation GA104 High Definition Audio Controller [10de:228b] (rev a1)
		boot-vga 02:00.0
	EOF
	)
	run --separate-stderr iommu-groups --sysroot "$root" --ids 01:00.0
	assert_success
	assert_output "10de:2484,10de:228b"
	assert_equal "${stderr_lines[0]}" "iommu-groups: warning: 10de:2484: 0000:02:00.0 has this ID too, and vfio-pci.ids= would take it as well: bind by address instead (vfio-bind, or driver_override)"
	assert_equal "${stderr_lines[1]}" "iommu-groups: warning: 10de:228b: 0000:02:00.1 has this ID too, and vfio-pci.ids= would take it as well: bind by address instead (vfio-bind, or driver_override)"
	# both selected: nothing else is taken, nothing to say
	run --separate-stderr iommu-groups --sysroot "$root" --ids 1 2
	assert_output "10de:2484,10de:228b"
	assert_equal "$stderr" ""
}

@test "-s and -d select groups as lspci selects devices, parsed by libpci" {
	root=$(machine b550-5600g-rtx2060)
	# a whole slot, any function
	run iommu-groups --sysroot "$root" --virsh -s 01:00
	assert_success
	assert_output $'pci_0000_01_00_0\npci_0000_01_00_1'
	# every AMD host bridge, by vendor and class: groups 0, 2, 4 and 7
	run iommu-groups --sysroot "$root" -d 1022::0600
	assert_success
	assert_equal "$(grep '^IOMMU' <<<"$output" | tr '\n' ' ')" "IOMMU Group 0: IOMMU Group 2: IOMMU Group 4: IOMMU Group 7: "
	# both: a device must match both
	run iommu-groups --sysroot "$root" --ids -s 9: -d ::0c03
	assert_success
	assert_output "1022:1639"
	run lspci -s 9: -d ::0c03 -n # lspci takes the same words
	assert_success
	# nothing matches: exit 1, named
	run iommu-groups --sysroot "$root" -s 0a:
	assert_failure 1
	assert_output "iommu-groups: 0a:: no such device in an IOMMU group"
	# libpci's own words for what does not parse: exit 2
	run iommu-groups --sysroot "$root" -d 10de:xyz
	assert_failure 2
	assert_line --index 0 "iommu-groups: 10de:xyz: Invalid device ID"
	run iommu-groups --sysroot "$root" -s zz --check
	assert_failure 2
}

@test "--virsh gives the node-device names kvm.conf wants" {
	root=$(machine x570-rtx2070s-group)
	run iommu-groups --sysroot "$root" --virsh 2
	assert_success
	assert_output $'pci_0000_09_00_0\npci_0000_09_00_1\npci_0000_09_00_2\npci_0000_09_00_3'
	run iommu-groups --sysroot "$root" --virsh --json 2
	assert_success
	run jq -c '[.devices[] | [.nodedev, .address, .group]]' <<<"$output"
	assert_output '[["pci_0000_09_00_0","0000:09:00.0",2],["pci_0000_09_00_1","0000:09:00.1",2],["pci_0000_09_00_2","0000:09:00.2",2],["pci_0000_09_00_3","0000:09:00.3",2]]'
}

@test "--ids and --virsh need a selection" {
	root=$(machine x570-rtx2070s-group)
	run iommu-groups --sysroot "$root" --ids
	assert_failure 2
	assert_line --index 0 "iommu-groups: --ids needs a device, a group, -s, -d or --gpu"
	assert_line --index 1 "Try 'iommu-groups --help' for more information."
}

# --check

@test "--check: an isolated GPU group is passable (seed 001's group 8)" {
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" --check 01:00.0
	assert_success
	assert_output $'IOMMU group 8 is passable: pass these together:\n\t01:00.0 VGA compatible controller\n\t01:00.1 Audio device'
}

@test "--check: a GPU sharing its group with bridges only is passable (seed 002's group 2)" {
	root=$(machine x570-rtx2070s-group)
	run iommu-groups --sysroot "$root" --check 09:00.0
	assert_success
	assert_line --index 0 "IOMMU group 2 is passable: pass these together:"
	refute_output --partial "00:03"
	assert_equal "$(grep -c $'^\t09:00' <<<"$output")" 4
}

@test "--check: the functions of one multifunction device pass together" {
	root=$(machine z690-rtx3070)
	run iommu-groups --sysroot "$root" --check 00:1f.3
	assert_success
	assert_line --index 0 "IOMMU group 5 is passable: pass these together:"
	assert_line --index 3 $'\t00:1f.4 SMBus'
}

@test "--check: endpoints of other slots in the group make it not passable (seed 001's group 9)" {
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" --check 02:00.0
	assert_failure 1
	assert_output "IOMMU group 9 is not passable:
	05:00.0 Network controller shares the group: pass it through too, or move the card to a slot with its own group
	08:00.0 Ethernet controller shares the group: pass it through too, or move the card to a slot with its own group"
}

@test "--check: naming every endpoint makes seed 001's group 9 passable" {
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" --check 02:00.0 05:00.0 08:00.0
	assert_success
}

@test "--check: a device the host uses is named with the reason" {
	root=$( { cat "$MACHINES/b550-5600g-rtx2060.txt"; echo "mount 02:00.1 / ext4"; echo "netif 08:00.0 enp8s0 up"; } | machine_from_stdin)
	run iommu-groups --sysroot "$root" --check 02:00.0 02:00.1 05:00.0 08:00.0
	assert_failure 1
	assert_output "IOMMU group 9 is not passable:
	02:00.1 SATA controller holds /: the host needs it
	08:00.0 Ethernet controller interface enp8s0 is up: the host needs it"
	run iommu-groups --sysroot "$root" --check --json 02:00.1
	assert_failure 1
	run jq -c '.groups[0] | [.group, .passable, [.offenders[].address], [.pass[].address]]' <<<"$output"
	assert_output '[9,false,["0000:02:00.1","0000:05:00.0","0000:08:00.0"],["0000:02:00.0","0000:02:00.1","0000:05:00.0","0000:08:00.0"]]'
	run jq -r '.groups[0].offenders[0].reason' <<<"$(iommu-groups --sysroot "$root" --check --json 02:00.1)"
	assert_output "holds /: the host needs it"
}

@test "--check: a bridge cannot be passed through" {
	root=$(machine x570-rtx2070s-group)
	run iommu-groups --sysroot "$root" --check 00:03.1
	assert_failure 1
	assert_line --index 1 $'\t00:03.1 PCI bridge is a bridge: vfio-pci never takes bridges'
}

@test "--check without IOMMU groups says the IOMMU is off" {
	root=$(machine z690-no-iommu)
	run iommu-groups --sysroot "$root" --check 01:00.0
	assert_failure 1
	assert_output "iommu-groups: 0000:01:00.0: in no IOMMU group: the IOMMU is off (see 'iommu-groups --status')"
}

# --status

@test "--status reports the IOMMU, kernel parameters, remapping and each GPU" {
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" --status
	assert_success
	assert_line --index 0 "IOMMU:               on, 16 groups; units: ivhd0"
	assert_line --index 1 "Kernel parameters:   amd_iommu=on iommu=pt"
	assert_line --index 2 "Interrupt remapping: on"
	assert_line --index 4 "                     group 8, driver nvidia, reset: flr bus"
	assert_line --index 6 "                     group 10, driver amdgpu, boot VGA (the firmware's screen), reset: flr bus"
	run iommu-groups --sysroot "$root" --status --json
	run jq -c '[.iommu, .group_count, .cmdline.iommu, .interrupt_remapping, [.gpus[] | [.address, .group, .boot_vga, .reset_method]]]' <<<"$output"
	assert_output '[true,16,"pt",true,[["0000:01:00.0",8,false,["flr","bus"]],["0000:09:00.0",10,true,["flr","bus"]]]]'
}

@test "--status without IOMMU groups exits 1 with the next step for the CPU" {
	root=$(machine z690-no-iommu)
	run iommu-groups --sysroot "$root" --status
	assert_failure 1
	assert_line --index 0 "IOMMU:               off (no IOMMU groups)"
	assert_line --index -1 "iommu-groups: no IOMMU groups: enable VT-d in the firmware setup, run 'vfio-boot iommu on' (intel_iommu=on iommu=pt on the kernel command line) and reboot"

	root=$( { sed 's/^IOMMU Group [0-9]* //' "$MACHINES/b550-5600g-rtx2060.txt"; echo "cmdline ro quiet amd_iommu=off"; } | machine_from_stdin)
	run iommu-groups --sysroot "$root" --status
	assert_failure 1
	assert_line --index -1 "iommu-groups: no IOMMU groups: the kernel command line has amd_iommu=off: remove it and reboot"
}

@test "a machine without IOMMU groups: nothing listed, exit 1 and why (the guides' loop prints 'IOMMU Group .:')" {
	root=$(machine z690-no-iommu)
	run guides-loop "$root"
	assert_output "IOMMU Group .:"
	run iommu-groups --sysroot "$root"
	assert_failure 1
	assert_output "iommu-groups: no IOMMU groups: the IOMMU is off or unsupported (run 'iommu-groups --status')"
}

# Bad input

@test "an unknown device is one line naming it, exit 1" {
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" 07:00.0
	assert_failure 1
	assert_output "iommu-groups: 07:00.0: no such PCI device"
	run iommu-groups --sysroot "$root" 42
	assert_failure 1
	assert_output "iommu-groups: 42: no such IOMMU group"
	run iommu-groups --sysroot "$root" abcd:0001
	assert_failure 1
	assert_output "iommu-groups: abcd:0001: no PCI device with this vendor:device ID"
}

@test "a malformed address is a usage error naming it, exit 2" {
	root=$(machine b550-5600g-rtx2060)
	for bad in 01:00 01:20.0 01:00.8 100:00.0 pci_0000_01_00 xyz 10de:1f0 0000:01:00.0x ""; do
		run iommu-groups --sysroot "$root" "$bad"
		assert_failure 2
		assert_line --index 0 "iommu-groups: $bad: not a PCI device (expected 0000:01:00.0, 01:00.0, pci_0000_01_00_0 or vendor:device like 10de:1f03)"
		assert_line --index 1 "Try 'iommu-groups --help' for more information."
		assert_equal "${#lines[@]}" 2
	done
}

@test "a sysroot without sysfs: one line, exit 1" {
	run iommu-groups --sysroot "$BATS_TEST_TMPDIR"
	assert_failure 1
	assert_output "iommu-groups: $BATS_TEST_TMPDIR/sys/bus/pci/devices: cannot list PCI devices: No such file or directory"
}

@test "a sysroot that does not exist is a usage error" {
	run iommu-groups --sysroot /nonexistent/root
	assert_failure 2
	assert_line --index 0 "iommu-groups: /nonexistent/root: cannot use as sysroot: No such file or directory"
}

@test "an attribute that cannot be read: one line naming the file, exit 1" {
	root=$BATS_TEST_TMPDIR/root
	cp -a "$(machine x570-rtx2070s-group)" "$root"
	dev=$(readlink -f "$root/sys/bus/pci/devices/0000:09:00.1")
	rm "$dev/class" && mkdir "$dev/class"
	run iommu-groups --sysroot "$root"
	assert_failure 1
	assert_output "iommu-groups: $root/sys/bus/pci/devices/0000:09:00.1/class: cannot read: Is a directory"
	rmdir "$dev/class" && echo garbage >"$dev/class"
	run iommu-groups --sysroot "$root"
	assert_failure 1
	assert_output "iommu-groups: $root/sys/bus/pci/devices/0000:09:00.1/class: unexpected contents"
}

@test "VFIO_UTILS_SYSROOT is the default sysroot; --sysroot wins" {
	root=$(machine x570-rtx2070s-group)
	VFIO_UTILS_SYSROOT=$root run iommu-groups
	assert_success
	assert_line --index 0 "IOMMU Group 2:"
	VFIO_UTILS_SYSROOT=/nonexistent run iommu-groups --sysroot "$root" --ids 2
	assert_success
	assert_output "10de:1e84,10de:10f8,10de:1ad8,10de:1ad9"
}

@test "modes exclude each other; --status takes no arguments" {
	run iommu-groups --check --status
	assert_failure 2
	assert_line --index 0 "iommu-groups: --ids, --virsh, --check and --status exclude each other"
	run iommu-groups --status 01:00.0
	assert_failure 2
	run iommu-groups --check
	assert_failure 2
	assert_line --index 0 "iommu-groups: --check needs the devices to pass through"
}

# Conventions

@test "--help prints usage to stdout and exits 0; --version names the suite" {
	run iommu-groups --help
	assert_success
	assert_line --index 0 "Usage: iommu-groups [options] [DEVICE|GROUP...]"
	run iommu-groups -V
	assert_success
	assert_output --regexp '^iommu-groups \(vfio-utils\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "an unknown option is one line plus the --help hint, exit 2" {
	run iommu-groups --bogus
	assert_failure 2
	assert_line --index 0 "iommu-groups: unrecognized option '--bogus'"
	assert_line --index 1 "Try 'iommu-groups --help' for more information."
}

@test "a full disk is a write error, exit 1" {
	root=$(machine b550-5600g-rtx2060)
	run iommu-groups --sysroot "$root" --json >/dev/full
	run bash -c "iommu-groups --sysroot '$root' --json >/dev/full"
	assert_failure 1
	assert_output "iommu-groups: write error: No space left on device"
}

@test "a reader that goes away early is not an error" {
	root=$(machine b550-5600g-rtx2060)
	run bash -c "set -o pipefail; iommu-groups --sysroot '$root' | head -1"
	assert_output "IOMMU Group 0:"
}

@test "a kernel without the revision attribute: the revision comes from config space" {
	root=$BATS_TEST_TMPDIR/root
	cp -a "$(machine x570-rtx2070s-group)" "$root"
	rm "$root"/sys/devices/pci0000:00/*/revision
	diff <(iommu-groups --sysroot "$root") <(guides-loop "$(machine x570-rtx2070s-group)")
}
