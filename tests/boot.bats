#!/usr/bin/env bats
# vfio-boot with the distribution's real tools, then a real boot. Debian 12
# in a chroot (debootstrap's minbase, from the host's apt mirror) with GRUB's
# update-grub, initramfs-tools and dracut installed, Debian's 6.1 kernel (the
# real-kernel tier's cache) as its installed kernel, and the real-kernel
# tier's QEMU machine as its /sys (a static tree of the simulator's: the
# chroot reads it; nothing of this host's /sys or /boot is there). vfio-boot
# runs inside the chroot as on an installed system, and the generators it
# runs are the real ones; what they made is read back (grub.cfg's linux
# lines, lsinitramfs, lsinitrd) and then booted: Debian's kernel with
# grub.cfg's command line and the initramfs update-initramfs made, on that
# machine under QEMU, where the kernel says which driver took each device.
# mkinitcpio, grubby and kernelstub are not Debian's: tests/vfio-boot.bats
# proves them on files, with stand-ins.

load helpers

VM=$TESTS/vm/vm

# Run a command in the chroot, with the PATH an installed system has.
in_root() { chroot "$ROOT" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

# grub.cfg's first linux line, the words after the kernel's path.
next_cmdline() { sed -n 's/^[[:space:]]*linux[[:space:]]\{1,\}[^ ]* //p' "$ROOT/boot/grub/grub.cfg" | head -1; }
# The same without root= (grub-probe's name for this host's disk).
next_params() { next_cmdline | sed 's/^root=[^ ]* //'; }

# The driver each device had in the booted initramfs, "ADDRESS DRIVER" a line.
booted_drivers() { sed -n 's/^vu-driver \(0000:00:02\.[01]\|0000:01:00\.[01]\) \(.*\)$/\1 \2/p' "$1/report"; }

setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root (a chroot, mounts)"
	command -v debootstrap >/dev/null || skip "needs debootstrap (make deps)"
	[ -s "${VU_VM_CACHE:-/var/cache/vfio-utils/vm}/kernels/list" ] || "$VM" fetch >/dev/null 2>&1
	local why
	why=$("$VM" check 2>&1) || skip "REAL KERNELS UNAVAILABLE: $why"
	BOOT_KVER=$("$VM" kernels | head -1)
	KDIR=${VU_VM_CACHE:-/var/cache/vfio-utils/vm}/kernels/$BOOT_KVER
	ROOT=$BATS_FILE_TMPDIR/debian
	export BOOT_KVER KDIR ROOT
	fresh_root "$ROOT" || return 1
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$ROOT/usr/sbin/policy-rc.d"
	# debootstrap made /dev's few nodes in the tree: the host's /dev is never bound
	# here, where a cleanup's rm -rf could reach it. grub-probe wants a node for
	# the disk under /: one of the tree's own, read by grub-probe alone.
	mount -t proc proc "$ROOT/proc"
	local disk
	disk=$(findmnt -no SOURCE -T "$ROOT")
	disk=${disk%%\[*} # a bind mount's source: /dev/vda[/var/tmp/...]
	case $disk in /dev/*)
		mkdir -p "$ROOT${disk%/*}"
		mknod "$ROOT$disk" b $(findmnt -no MAJ:MIN -T "$ROOT" | tr : ' ')
		;;
	esac
	chroot "$ROOT" sh -c 'apt-get -q update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends grub2-common grub-pc-bin initramfs-tools dracut-core systemd >/dev/null' ||
		return 1
	# the installed kernel, as its package leaves it; its modules read-only
	cp "$KDIR/vmlinuz" "$ROOT/boot/vmlinuz-$BOOT_KVER"
	cp "$KDIR/config" "$ROOT/boot/config-$BOOT_KVER"
	mkdir -p "$ROOT/lib/modules/$BOOT_KVER" "$ROOT/boot/grub" "$ROOT/etc/default"
	mount --bind "$KDIR/lib/modules/$BOOT_KVER" "$ROOT/lib/modules/$BOOT_KVER"
	mount -o remount,bind,ro "$ROOT/lib/modules/$BOOT_KVER"
	# the machine's devices, as the real-kernel tier's QEMU makes them
	mkroot "$TESTS/vm/machine.txt" "$BATS_FILE_TMPDIR/machine" >/dev/null
	mount --bind "$BATS_FILE_TMPDIR/machine/sys" "$ROOT/sys"
	# and its CPU: an Intel one, as the guest's IOMMU is (intel-iommu), whatever
	# this host's is (vfio-boot writes intel_iommu=on for Intel alone)
	mount --bind "$BATS_FILE_TMPDIR/machine/proc/cpuinfo" "$ROOT/proc/cpuinfo"
	# /etc/default/grub as grub-pc's postinst writes it
	printf '%s\n' "# If you change this file, run 'update-grub' afterwards." 'GRUB_DEFAULT=0' 'GRUB_TIMEOUT=5' \
		'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`' \
		'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' 'GRUB_CMDLINE_LINUX=""' >"$ROOT/etc/default/grub"
	# the DRM driver in the initramfs, as early KMS (Plymouth, i915 on Ubuntu) puts it there
	echo bochs >>"$ROOT/etc/initramfs-tools/modules"
	install -m 0755 "$BUILD/vfio-boot" "$ROOT/usr/local/sbin/vfio-boot"
	# what installing the kernel ran
	in_root update-initramfs -c -k "$BOOT_KVER" >/dev/null 2>&1 && in_root update-grub >/dev/null 2>&1 || return 1
	mkdir -p "$BATS_FILE_TMPDIR/before"
	cp "$ROOT/etc/default/grub" "$ROOT/boot/grub/grub.cfg" "$BATS_FILE_TMPDIR/before/"
}

# Detached, not only unmounted: whatever is still busy is out of the tree
# before bats removes it.
teardown_file() {
	[ -n "${ROOT:-}" ] || return 0
	umount -l "$ROOT/boot" 2>/dev/null
	umount -l "$ROOT/sys" "$ROOT/lib/modules/$BOOT_KVER" "$ROOT/proc/cpuinfo" "$ROOT/proc" 2>/dev/null
	return 0
}

@test "GRUB: iommu on through the real update-grub, every linux line of grub.cfg carries the parameters; off: the file byte for byte, grub.cfg as before" {
	run in_root vfio-boot iommu on
	assert_success
	assert_line '+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"'
	# every normal entry (the recovery entries take GRUB_CMDLINE_LINUX alone)
	run grep -c "^[[:space:]]*linux[[:space:]].* quiet intel_iommu=on iommu=pt$" "$ROOT/boot/grub/grub.cfg"
	assert_output 2
	assert_equal "$(next_params)" "ro  quiet intel_iommu=on iommu=pt"
	run in_root vfio-boot --json status
	assert_equal "$(jq -r '.bootloader, (.next_boot | sub("^root=[^ ]* "; "")), .reboot' <<<"$output" | tr '\n' '|')" "grub|ro quiet intel_iommu=on iommu=pt|true|"
	run in_root vfio-boot iommu off
	assert_success
	cmp "$BATS_FILE_TMPDIR/before/grub" "$ROOT/etc/default/grub"
	cmp "$BATS_FILE_TMPDIR/before/grub.cfg" "$ROOT/boot/grub/grub.cfg"
}

@test "GRUB: a read-only /boot: the real update-grub fails, /etc/default/grub is put back, its copy kept, nothing remembered" {
	ls "$ROOT/var/lib/vfio-utils/backup" >"$BATS_TEST_TMPDIR/kept" 2>/dev/null || true
	mount --bind "$ROOT/boot" "$ROOT/boot"
	mount -o remount,bind,ro "$ROOT/boot"
	run in_root vfio-boot -q iommu on
	umount "$ROOT/boot"
	assert_failure 1
	assert_line --partial "cannot create /boot/grub/grub.cfg.new: Read-only file system"
	assert_line --regexp "^vfio-boot: update-grub: failed \(exit status [0-9]+\)$"
	assert_line "vfio-boot: /etc/default/grub: put back as it was"
	cmp "$BATS_FILE_TMPDIR/before/grub" "$ROOT/etc/default/grub"
	cmp "$BATS_FILE_TMPDIR/before/grub.cfg" "$ROOT/boot/grub/grub.cfg"
	# its own copy (the earlier tests' edits kept theirs): the file before it
	kept=$(ls "$ROOT/var/lib/vfio-utils/backup" | grep -vxF -f "$BATS_TEST_TMPDIR/kept")
	assert_equal "$(wc -l <<<"$kept")" 1
	cmp "$BATS_FILE_TMPDIR/before/grub" "$ROOT/var/lib/vfio-utils/backup/$kept"
	[ ! -e "$ROOT/var/lib/vfio-utils/boot" ]
}

@test "initramfs-tools, then Debian's kernel booted with grub.cfg's command line and that initramfs: the IOMMU on, the display controller on vfio-pci by address, the boot VGA with its IDs on bochs-drm; undo, boot again: as before" {
	run in_root vfio-boot iommu on
	assert_success
	# the display controller and its audio function share their IDs with the
	# boot VGA's and its audio's: by address; the SMBus controller's are its own
	run in_root vfio-boot bind 01:00.0 01:00.1 00:1f.3
	assert_success
	assert_line "0000:01:00.0 [1234:1111]: to vfio-pci from the next boot on, by address (another device has its IDs): reboot to apply"
	assert_line "0000:00:1f.3 [8086:2930]: to vfio-pci from the next boot on, by its IDs: reboot to apply"
	run cat "$ROOT/etc/modprobe.d/vfio-utils.conf"
	assert_line "options vfio-pci ids=8086:2930"
	assert_line "softdep bochs pre: vfio-pci"
	assert_line "softdep snd_intel8x0 pre: vfio-pci"
	assert_line "softdep i2c_i801 pre: vfio-pci"
	run in_root lsinitramfs "/boot/initrd.img-$BOOT_KVER"
	assert_line "etc/modprobe.d/vfio-utils.conf"
	assert_line --regexp "^usr/lib/modules/$BOOT_KVER/kernel/drivers/vfio/pci/vfio-pci.ko$"
	assert_line --regexp "^usr/lib/modules/$BOOT_KVER/kernel/drivers/gpu/drm/tiny/bochs.ko$"
	"$VM" initramfs "$ROOT/boot/vmlinuz-$BOOT_KVER" "$ROOT/boot/initrd.img-$BOOT_KVER" "$(next_cmdline)" "$BATS_TEST_TMPDIR/on"
	run cat "$BATS_TEST_TMPDIR/on/report"
	assert_line --regexp "^vu-cmdline root=[^ ]+ ro +quiet intel_iommu=on iommu=pt "
	# the IOMMU on (VT-d's DMA remapping, not only interrupt remapping), passthrough for the host (iommu=pt)
	assert_line --regexp "^vu-dmesg \[ *[0-9.]+\] DMAR: IOMMU enabled$"
	assert_line "vu-group 4 identity"
	assert_equal "$(booted_drivers "$BATS_TEST_TMPDIR/on" | tr '\n' '|')" "0000:00:02.0 bochs-drm|0000:00:02.1 |0000:01:00.0 vfio-pci|0000:01:00.1 vfio-pci|"
	assert_line "vu-driver 0000:00:1f.3 vfio-pci"
	# all of it given back, the generators run again
	run in_root vfio-boot undo
	assert_success
	cmp "$BATS_FILE_TMPDIR/before/grub" "$ROOT/etc/default/grub"
	[ ! -e "$ROOT/etc/modprobe.d/vfio-utils.conf" ]
	run in_root lsinitramfs "/boot/initrd.img-$BOOT_KVER"
	refute_line --partial "vfio"
	"$VM" initramfs "$ROOT/boot/vmlinuz-$BOOT_KVER" "$ROOT/boot/initrd.img-$BOOT_KVER" "$(next_cmdline)" "$BATS_TEST_TMPDIR/off"
	run cat "$BATS_TEST_TMPDIR/off/report"
	refute_line --partial "intel_iommu"
	# Debian's 6.1 has VT-d on by itself (INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF): groups, translated, as before
	refute_line --partial "DMAR: IOMMU enabled"
	assert_line "vu-group 4 DMA"
	assert_equal "$(booted_drivers "$BATS_TEST_TMPDIR/off" | tr '\n' '|')" "0000:00:02.0 bochs-drm|0000:00:02.1 |0000:01:00.0 bochs-drm|0000:01:00.1 |"
	assert_line "vu-driver 0000:00:1f.3 i801_smbus"
}

@test "dracut: the real dracut --regenerate-all puts vfio-pci and the modprobe.d file in the image; unbind takes them out again" {
	mv "$ROOT/etc/initramfs-tools/initramfs.conf" "$ROOT/etc/initramfs-tools/initramfs.conf.aside"
	run in_root vfio-boot -q bind 01:00.0
	assert_success
	run cat "$ROOT/etc/dracut.conf.d/vfio-utils.conf"
	assert_line 'force_drivers+=" vfio_pci "'
	run in_root lsinitrd "/boot/initrd.img-$BOOT_KVER"
	assert_line --regexp " etc/modprobe.d/vfio-utils.conf$"
	assert_line --regexp " usr/lib/modules/$BOOT_KVER/kernel/drivers/vfio/pci/vfio-pci.ko$"
	run in_root vfio-boot -q unbind 01:00.0
	assert_success
	[ ! -e "$ROOT/etc/dracut.conf.d/vfio-utils.conf" ]
	run in_root lsinitrd "/boot/initrd.img-$BOOT_KVER"
	refute_line --partial "vfio"
	mv "$ROOT/etc/initramfs-tools/initramfs.conf.aside" "$ROOT/etc/initramfs-tools/initramfs.conf"
}

@test "kernel-install (systemd-boot, UKIs): the real kernel-install writes the entry with /etc/kernel/cmdline, the initramfs with it; off gives both back" {
	mv "$ROOT/etc/default/grub" "$ROOT/etc/default/grub.aside"
	# a systemd-boot layout: the ESP at /boot/efi with its entries (Type #1)
	mkdir -p "$ROOT/boot/efi/loader/entries" "$ROOT/etc/kernel/install.d"
	echo type1 >"$ROOT/boot/efi/loader/entries.srel"
	echo 0123456789abcdef0123456789abcdef >"$ROOT/etc/machine-id"
	echo "root=/dev/vda ro quiet" >"$ROOT/etc/kernel/cmdline"
	# depmod masked (the documented way): the module tree is the cache's, read-only
	ln -sf /dev/null "$ROOT/etc/kernel/install.d/50-depmod.install"
	in_root kernel-install add "$BOOT_KVER" "/boot/vmlinuz-$BOOT_KVER" "/boot/initrd.img-$BOOT_KVER"
	local entry=$ROOT/boot/efi/loader/entries/0123456789abcdef0123456789abcdef-$BOOT_KVER.conf
	cp "$entry" "$BATS_TEST_TMPDIR/entry"
	run in_root vfio-boot iommu on
	assert_success
	assert_line "+root=/dev/vda ro quiet intel_iommu=on iommu=pt"
	run grep -E "^(options|initrd) " "$entry"
	# kernel-install adds the machine's ID itself
	assert_line --regexp "^options +root=/dev/vda ro quiet intel_iommu=on iommu=pt systemd.machine_id=0123456789abcdef0123456789abcdef$"
	assert_line --regexp "^initrd +[^ ]*/0123456789abcdef0123456789abcdef/$BOOT_KVER/initrd.img-$BOOT_KVER$"
	run in_root vfio-boot --json status
	assert_equal "$(jq -r '.bootloader, .next_boot' <<<"$output" | tr '\n' '|')" "kernel-install|root=/dev/vda ro quiet intel_iommu=on iommu=pt systemd.machine_id=0123456789abcdef0123456789abcdef|"
	run in_root vfio-boot iommu off
	assert_success
	assert_equal "$(cat "$ROOT/etc/kernel/cmdline")" "root=/dev/vda ro quiet"
	cmp "$BATS_TEST_TMPDIR/entry" "$entry"
	rm -rf "$ROOT/boot/efi" "$ROOT/etc/kernel/cmdline" "$ROOT/etc/kernel/install.d/50-depmod.install"
	mv "$ROOT/etc/default/grub.aside" "$ROOT/etc/default/grub"
}
