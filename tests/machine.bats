#!/usr/bin/env bats
# The machine descriptions and mkroot, the generator of static machine trees.

load helpers

@test "a posted listing becomes a tree lspci reads as the poster's machine" {
	root=$(machine x570-rtx2070s-group)
	run lspci -A linux-sysfs -O sysfs.path="$root/sys/bus/pci" -i "$root/usr/share/misc/pci.ids" -O hwdb.disable=1 -nns 09:00.3
	assert_output "09:00.3 Serial bus controller [0c80]: NVIDIA Corporation TU104 USB Type-C UCSI Controller [10de:1ad9] (rev a1)"
	assert_equal "$(readlink "$root/sys/bus/pci/devices/0000:09:00.0/iommu_group")" "../../../../kernel/iommu_groups/2"
	assert_equal "$(basename "$(readlink "$root/sys/bus/pci/devices/0000:09:00.0/driver")")" nvidia
	assert_equal "$(cat "$root/sys/bus/pci/devices/0000:09:00.0/driver_override")" "(null)"
	assert_equal "$(cat "$root/sys/bus/pci/devices/0000:09:00.0/boot_vga")" 1
	[ -L "$root/sys/bus/pci/drivers/nvidia/0000:09:00.0" ]
}

@test "plain lspci -nn lines make a machine without IOMMU groups" {
	root=$(machine z690-no-iommu)
	run ls "$root/sys/kernel/iommu_groups"
	assert_output ""
	[ -e "$root/sys/bus/pci/devices/0000:01:00.0/vendor" ]
	run cat "$root/proc/cmdline"
	refute_output --partial iommu
}

@test "directives set drivers, mounts, swap and interfaces" {
	root=$(printf '%s\n' \
		"IOMMU Group 1 01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GA104 [GeForce RTX 3070] [10de:2484] (rev a1)" \
		"IOMMU Group 2 02:00.0 Non-Volatile memory controller [0108]: Samsung Electronics Co Ltd NVMe SSD Controller PM9A1/PM9A3/980PRO [144d:a80a]" \
		"driver 01:00.0 none" "mount 02:00.0 / ext4" "swap 02:00.0" | machine_from_stdin)
	[ ! -e "$root/sys/bus/pci/devices/0000:01:00.0/driver" ]
	run grep ' / / ' "$root/proc/self/mountinfo"
	assert_output --regexp '^[0-9]+ 1 259:1 / / rw,relatime shared:[0-9]+ - ext4 /dev/nvme0n1p1 rw$'
	run realpath "$root/sys/dev/block/259:1"
	assert_output --partial "/0000:02:00.0/nvme/nvme0/nvme0n1/nvme0n1p1"
	run grep -c nvme0n1p2 "$root/proc/swaps"
	assert_output 1
}

@test "a description error names the file and line" {
	printf '%s\n' "IOMMU Group 1 01:00.0 VGA compatible controller [0300]: no ids here" >"$BATS_TEST_TMPDIR/bad.txt"
	run mkroot "$BATS_TEST_TMPDIR/bad.txt" "$BATS_TEST_TMPDIR/root"
	assert_failure 1
	assert_output "$BATS_TEST_TMPDIR/bad.txt:1: no vendor:device ID like [10de:1f03] (post 'lspci -nn' output)"
	printf '%s\n' "IOMMU Group 1 01:00.0 VGA compatible controller [0300]: X [10de:2484]" "bogus 1 2" >"$BATS_TEST_TMPDIR/bad.txt"
	run mkroot "$BATS_TEST_TMPDIR/bad.txt" "$BATS_TEST_TMPDIR/root"
	assert_failure 1
	assert_output "$BATS_TEST_TMPDIR/bad.txt:2: unknown directive 'bogus'"
	printf '%s\n' "IOMMU Group 1 01:00.0 VGA compatible controller [0300]: X [10de:2484]" "driver 02:00.0 nvidia" >"$BATS_TEST_TMPDIR/bad.txt"
	run mkroot "$BATS_TEST_TMPDIR/bad.txt" "$BATS_TEST_TMPDIR/root"
	assert_failure 1
	assert_output "$BATS_TEST_TMPDIR/bad.txt:2: 02:00.0: no such device in this machine"
	# found by make fuzz: a device number past 1f is no PCI address
	printf '%s\n' "01:00.0 VGA compatible controller [0300]: X [10de:2484]" "01:20.1 Audio device [0403]: X [10de:228b]" >"$BATS_TEST_TMPDIR/bad.txt"
	run mkroot "$BATS_TEST_TMPDIR/bad.txt" "$BATS_TEST_TMPDIR/root"
	assert_failure 1
	assert_output "$BATS_TEST_TMPDIR/bad.txt:2: '01:20.1' is not a PCI address"
}
