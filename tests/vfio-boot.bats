#!/usr/bin/env bats
# vfio-boot on the simulator: the bootloader's and the initramfs' files in the
# simulated machine's tree, the generators' stand-ins (tests/stand-ins/bootgen)
# making from them what the real tools make, in a form read here: grub.cfg's
# linux line, boot entries' options, the initramfs' list. What is checked is
# those files, byte for byte after an undo. The real grub-mkconfig,
# update-initramfs and dracut judge it in a chroot, and Debian's kernel
# booted with what they made (tests/boot.bats).

load helpers

setup() {
	PATH=$STANDINS:$PATH
}

teardown() {
	sim_down
}

vb() { on_sim "$BUILD/vfio-boot" "$@"; }

# Debian's GRUB: /etc/default/grub as grub-pc's postinst writes it, update-grub.
debian_grub() {
	mkdir -p "$SIMROOT/etc/default" "$SIMROOT/usr/sbin" "$SIMROOT/boot/grub"
	printf '%s\n' '# If you change this file, run '"'"'update-grub'"'"' afterwards.' \
		'GRUB_DEFAULT=0' 'GRUB_TIMEOUT=5' \
		'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`' \
		'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' 'GRUB_CMDLINE_LINUX=""' >"$SIMROOT/etc/default/grub"
	touch "$SIMROOT/usr/sbin/update-grub"
	cp "$SIMROOT/etc/default/grub" "$BATS_TEST_TMPDIR/grub.orig"
}

initramfs_tools() {
	mkdir -p "$SIMROOT/etc/initramfs-tools/hooks"
	echo "MODULES=most" >"$SIMROOT/etc/initramfs-tools/initramfs.conf"
}

linux_line() { sed -n 's/^\tlinux\t[^ ]* //p' "$SIMROOT/boot/grub/grub.cfg" | head -1; }
ran() { cat "$SIMROOT/run/standin/boot.log" 2>/dev/null; }

@test "iommu on: Intel's parameters in GRUB's variable, update-grub run, grub.cfg carries them; twice changes nothing; off gives the file back byte for byte" {
	sim_up $DUAL "iommu off" "cpu intel" "cmdline BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro quiet"
	debian_grub
	run vb iommu on
	assert_success
	assert_line "-GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\""
	assert_line "+GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\""
	assert_line "intel_iommu=on iommu=pt: in the next boot's command line: reboot to apply"
	run grep -c CMDLINE_LINUX_DEFAULT "$SIMROOT/etc/default/grub"
	assert_output 1
	grep -qx 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"' "$SIMROOT/etc/default/grub"
	assert_equal "$(linux_line)" "root=UUID=0000 ro  quiet intel_iommu=on iommu=pt"
	assert_equal "$(ran)" "update-grub "
	# a copy of the file as it was, under /var/lib
	cmp "$BATS_TEST_TMPDIR/grub.orig" "$SIMROOT"/var/lib/vfio-utils/backup/grub.*
	# what the next boot gets, against this one
	run vb --json status
	assert_success
	assert_equal "$(jq -r '.bootloader, .next_boot, .reboot, ([.params[] | "\(.name)=\(.next_boot)"] | join(" "))' <<<"$output" | tr '\n' '|')" \
		"grub|root=UUID=0000 ro quiet intel_iommu=on iommu=pt|true|intel_iommu=on iommu=pt|"
	# again: nothing to do, nothing run
	run vb iommu on
	assert_success
	assert_output "intel_iommu=on iommu=pt: already in the next boot's command line (/etc/default/grub): reboot to apply"
	assert_equal "$(ran | wc -l)" 1
	cp "$SIMROOT/etc/default/grub" "$BATS_TEST_TMPDIR/grub.on"
	run vb iommu off
	assert_success
	cmp "$BATS_TEST_TMPDIR/grub.orig" "$SIMROOT/etc/default/grub"
	assert_equal "$(linux_line)" "root=UUID=0000 ro  quiet"
	[ ! -e "$SIMROOT/var/lib/vfio-utils/boot" ]
	# each edit kept its copy of the file before it, also within one second
	# (the second's name taken: the next, .1)
	copies=("$SIMROOT"/var/lib/vfio-utils/backup/grub.*)
	assert_equal "${#copies[@]}" 2
	cmp "$BATS_TEST_TMPDIR/grub.orig" "${copies[0]}"
	cmp "$BATS_TEST_TMPDIR/grub.on" "${copies[1]}"
	run vb iommu off
	assert_success
	assert_output "vfio-boot added no kernel parameters: nothing to take away"
}

@test "iommu on: a value the file had is put back by off; AMD gets iommu=pt alone; -n prints the diff and the command, changes nothing" {
	sim_up $DUAL "iommu off" "cpu amd"
	debian_grub
	sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT='"'"'quiet iommu=soft splash'"'"'/' "$SIMROOT/etc/default/grub"
	cp "$SIMROOT/etc/default/grub" "$BATS_TEST_TMPDIR/grub.orig"
	run vb -n iommu on
	assert_success
	assert_output "--- /etc/default/grub
+++ /etc/default/grub
@@ -5 +5 @@
-GRUB_CMDLINE_LINUX_DEFAULT='quiet iommu=soft splash'
+GRUB_CMDLINE_LINUX_DEFAULT='quiet iommu=pt splash'
update-grub"
	cmp "$BATS_TEST_TMPDIR/grub.orig" "$SIMROOT/etc/default/grub"
	[ -z "$(ran)" ]
	[ ! -e "$SIMROOT/var/lib/vfio-utils" ]
	run vb iommu on
	assert_success
	assert_equal "$(linux_line)" "root=UUID=0000 ro  quiet iommu=pt splash"
	run cat "$SIMROOT/var/lib/vfio-utils/boot"
	assert_line "iommu kind=param value=pt had=yes was=soft loader=grub"
	run vb iommu off
	assert_success
	cmp "$BATS_TEST_TMPDIR/grub.orig" "$SIMROOT/etc/default/grub"
	assert_equal "$(linux_line)" "root=UUID=0000 ro  quiet iommu=soft splash"
}

@test "iommu on: the running kernel's IOMMU is on already: said, nothing changed" {
	sim_up $DUAL
	debian_grub
	run vb iommu on
	assert_success
	assert_output --regexp "^the running kernel has its IOMMU on \([0-9]+ groups\): nothing changed$"
	cmp "$BATS_TEST_TMPDIR/grub.orig" "$SIMROOT/etc/default/grub"
	[ -z "$(ran)" ]
}

@test "/etc/default/grub set twice, quoted oddly, set otherwise, or not set: one line naming the file, nothing written, nothing run" {
	sim_up $DUAL "iommu off" "cpu intel"
	debian_grub
	local case want
	for case in twice dollar open backslash export unset; do
		cp "$BATS_TEST_TMPDIR/grub.orig" "$SIMROOT/etc/default/grub"
		case $case in
		twice) echo 'GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"' >>"$SIMROOT/etc/default/grub"
			want="vfio-boot: /etc/default/grub: sets GRUB_CMDLINE_LINUX_DEFAULT twice (lines 5 and 7): keep one, then run vfio-boot again" ;;
		dollar) sed -i 's/"quiet"/"$GRUB_CMDLINE_LINUX_DEFAULT quiet"/' "$SIMROOT/etc/default/grub"
			want="vfio-boot: /etc/default/grub:5: GRUB_CMDLINE_LINUX_DEFAULT's value is quoted in a way vfio-boot does not edit: change it by hand" ;;
		open) sed -i 's/"quiet"/"quiet/' "$SIMROOT/etc/default/grub"
			want="vfio-boot: /etc/default/grub:5: GRUB_CMDLINE_LINUX_DEFAULT's value is quoted in a way vfio-boot does not edit: change it by hand" ;;
		backslash) sed -i 's/"quiet"/quiet\\ splash/' "$SIMROOT/etc/default/grub"
			want="vfio-boot: /etc/default/grub:5: GRUB_CMDLINE_LINUX_DEFAULT's value is quoted in a way vfio-boot does not edit: change it by hand" ;;
		export) sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT=/export &/' "$SIMROOT/etc/default/grub"
			want="vfio-boot: /etc/default/grub:5: sets GRUB_CMDLINE_LINUX_DEFAULT in a way vfio-boot does not edit (it edits GRUB_CMDLINE_LINUX_DEFAULT=\"...\" alone): change it by hand" ;;
		unset) sed -i '/^GRUB_CMDLINE_LINUX_DEFAULT=/d' "$SIMROOT/etc/default/grub"
			want="vfio-boot: /etc/default/grub: does not set GRUB_CMDLINE_LINUX_DEFAULT: add the line GRUB_CMDLINE_LINUX_DEFAULT=\"\" and run vfio-boot again" ;;
		esac
		cp "$SIMROOT/etc/default/grub" "$BATS_TEST_TMPDIR/grub.case"
		run vb iommu on
		assert_failure 1
		assert_output "$want"
		cmp "$BATS_TEST_TMPDIR/grub.case" "$SIMROOT/etc/default/grub"
		[ -z "$(ran)" ]
		[ ! -e "$SIMROOT/var/lib/vfio-utils/boot" ]
	done
}

@test "iommu on: update-grub fails: /etc/default/grub put back byte for byte, its copy kept, nothing remembered" {
	sim_up $DUAL "iommu off" "cpu intel"
	debian_grub
	mkdir -p "$SIMROOT/run/standin"
	touch "$SIMROOT/run/standin/update-grub-fails"
	run vb -q iommu on
	assert_failure 1
	assert_output "update-grub stand-in: failing, as the test asked
vfio-boot: update-grub: failed (exit status 1)
vfio-boot: /etc/default/grub: put back as it was"
	cmp "$BATS_TEST_TMPDIR/grub.orig" "$SIMROOT/etc/default/grub"
	cmp "$BATS_TEST_TMPDIR/grub.orig" "$SIMROOT"/var/lib/vfio-utils/backup/grub.*
	[ ! -e "$SIMROOT/var/lib/vfio-utils/boot" ]
}

@test "iommu on: no bootloader vfio-boot knows: what to add by hand, exit 1" {
	sim_up $DUAL "iommu off" "cpu intel"
	run vb iommu on
	assert_failure 1
	assert_output "vfio-boot: no bootloader vfio-boot knows (GRUB, systemd-boot or UKIs through kernel-install, grubby, kernelstub): add intel_iommu=on iommu=pt to the kernel command line by hand"
	run -1 on_sim bash -c '"$1" --json iommu on 2>/dev/null' _ "$BUILD/vfio-boot"
	assert_equal "$(jq -c '[.ok, .bootloader, (.errors | length)]' <<<"$output")" '[false,null,1]'
}

@test "iommu on: kernel-install's /etc/kernel/cmdline, from this boot's words, each kernel's entry made again; off removes what was added" {
	sim_up $DUAL "iommu off" "cpu intel" "kernel 6.1.0-13-amd64" "cmdline BOOT_IMAGE=/vmlinuz-6.1.0-13-amd64 root=UUID=1234 ro initrd=\\initrd.img quiet"
	mkdir -p "$SIMROOT/boot/loader/entries"
	touch "$SIMROOT/boot/vmlinuz-6.1.0-13-amd64" "$SIMROOT/boot/initrd.img-6.1.0-13-amd64"
	run vb iommu on
	assert_success
	assert_line "+root=UUID=1234 ro quiet intel_iommu=on iommu=pt"
	assert_equal "$(cat "$SIMROOT/etc/kernel/cmdline")" "root=UUID=1234 ro quiet intel_iommu=on iommu=pt"
	# with its initramfs, as Debian's hook passes it
	assert_equal "$(ran)" "kernel-install add 6.1.0-13-amd64 /boot/vmlinuz-6.1.0-13-amd64 /boot/initrd.img-6.1.0-13-amd64"
	assert_equal "$(sed -n 's/^options //p' "$SIMROOT/boot/loader/entries/standin-6.1.0-13-amd64.conf")" "root=UUID=1234 ro quiet intel_iommu=on iommu=pt"
	run vb --json status
	assert_equal "$(jq -r '.bootloader, .config, .next_boot' <<<"$output" | tr '\n' '|')" "kernel-install|/etc/kernel/cmdline|root=UUID=1234 ro quiet intel_iommu=on iommu=pt|"
	run vb iommu off
	assert_success
	assert_equal "$(cat "$SIMROOT/etc/kernel/cmdline")" "root=UUID=1234 ro quiet"
	assert_equal "$(sed -n 's/^options //p' "$SIMROOT/boot/loader/entries/standin-6.1.0-13-amd64.conf")" "root=UUID=1234 ro quiet"
}

@test "iommu on: grubby edits every entry, kernelstub the current one; off takes the parameters away through each" {
	sim_up $DUAL "iommu off" "cpu intel"
	mkdir -p "$SIMROOT/usr/sbin" "$SIMROOT/boot/loader/entries"
	touch "$SIMROOT/usr/sbin/grubby"
	for k in 6.5.6-300.fc39 6.6.2-201.fc39; do
		printf 'title Fedora\nversion %s\noptions root=UUID=1 ro rhgb quiet\n' "$k" >"$SIMROOT/boot/loader/entries/x-$k.conf"
	done
	run vb iommu on
	assert_success
	assert_equal "$(ran | tr '\n' '|')" "grubby --info=DEFAULT|grubby --update-kernel=ALL --args=intel_iommu=on|grubby --update-kernel=ALL --args=iommu=pt|"
	assert_equal "$(sed -n 's/^options //p' "$SIMROOT"/boot/loader/entries/*.conf | sort -u)" "root=UUID=1 ro rhgb quiet intel_iommu=on iommu=pt"
	run vb iommu off
	assert_success
	assert_equal "$(sed -n 's/^options //p' "$SIMROOT"/boot/loader/entries/*.conf | sort -u)" "root=UUID=1 ro rhgb quiet"
	# Pop!_OS: kernelstub
	rm -rf "$SIMROOT/usr/sbin/grubby" "$SIMROOT/boot/loader" "$SIMROOT/run/standin/boot.log"
	mkdir -p "$SIMROOT/etc/kernelstub" "$SIMROOT/boot/efi/loader/entries"
	echo '{}' >"$SIMROOT/etc/kernelstub/configuration"
	printf 'title Pop!_OS\noptions root=UUID=2 ro quiet splash\n' >"$SIMROOT/boot/efi/loader/entries/Pop_OS-current.conf"
	run vb iommu on
	assert_success
	assert_equal "$(sed -n 's/^options //p' "$SIMROOT/boot/efi/loader/entries/Pop_OS-current.conf")" "root=UUID=2 ro quiet splash intel_iommu=on iommu=pt"
	run vb iommu off
	assert_success
	assert_equal "$(ran | tr '\n' '|')" "kernelstub --add-options intel_iommu=on|kernelstub --add-options iommu=pt|kernelstub --delete-options intel_iommu|kernelstub --delete-options iommu|"
	assert_equal "$(sed -n 's/^options //p' "$SIMROOT/boot/efi/loader/entries/Pop_OS-current.conf")" "root=UUID=2 ro quiet splash"
}

@test "bind: a GPU and its audio whose IDs are their own: vfio-pci's ids, a softdep for each usual driver, vfio-pci in the initramfs; unbind takes the files away" {
	sim_up $DUAL
	initramfs_tools
	run vb bind 01:00.0 01:00.1
	assert_success
	assert_output "0000:01:00.0 [10de:1f03]: to vfio-pci from the next boot on, by its IDs: reboot to apply
0000:01:00.1 [10de:10f9]: to vfio-pci from the next boot on, by its IDs: reboot to apply"
	run cat "$SIMROOT/etc/modprobe.d/vfio-utils.conf"
	assert_line "options vfio-pci ids=10de:1f03,10de:10f9"
	assert_line "softdep nvidia pre: vfio-pci"
	assert_line "softdep snd_hda_intel pre: vfio-pci"
	refute_line --partial "install vfio-pci"
	# the generator's own file, and what it made of it
	[ -x "$SIMROOT/etc/initramfs-tools/hooks/vfio-utils" ]
	assert_equal "$(ran)" "update-initramfs -u -k all"
	run cat "$SIMROOT"/boot/initrd.img-*
	assert_line "file /etc/modprobe.d/vfio-utils.conf"
	assert_line "module vfio_pci"
	# nothing changes in this boot: the devices keep their drivers until the reboot
	assert_equal "$(driver_of 0000:01:00.0)" nvidia
	run vb --json status
	assert_equal "$(jq -c '[.initramfs, .early_files, .reboot, [.devices[] | [.address, .ids, .by, .module, .driver]]]' <<<"$output")" \
		'["initramfs-tools",true,true,[["0000:01:00.0","10de:1f03","ids","nvidia","nvidia"],["0000:01:00.1","10de:10f9","ids","snd_hda_intel","snd_hda_intel"]]]'
	run vb unbind 01:00.1
	assert_success
	run cat "$SIMROOT/etc/modprobe.d/vfio-utils.conf"
	assert_line "options vfio-pci ids=10de:1f03"
	refute_line --partial "snd_hda_intel"
	run vb unbind 0000:01:00.0
	assert_success
	[ ! -e "$SIMROOT/etc/modprobe.d/vfio-utils.conf" ]
	[ ! -e "$SIMROOT/etc/initramfs-tools/hooks/vfio-utils" ]
	[ ! -e "$SIMROOT/var/lib/vfio-utils/boot" ]
	assert_equal "$(ran | wc -l)" 3
	run grep -c vfio "$SIMROOT"/boot/initrd.img-*
	assert_output 0
}

@test "bind: two identical GPUs: the one named by address (driver_override before vfio-pci loads), the other left to its driver" {
	sim_up trx40-four-gpus
	initramfs_tools
	run vb bind 21:00.0 21:00.1
	assert_success
	assert_line "0000:21:00.0 [10de:2204]: to vfio-pci from the next boot on, by address (another device has its IDs): reboot to apply"
	run cat "$SIMROOT/etc/modprobe.d/vfio-utils.conf"
	refute_line --partial "options vfio-pci ids="
	assert_line 'install vfio-pci for d in 0000:21:00.0 0000:21:00.1; do [ -e /sys/bus/pci/devices/$d ] && echo vfio-pci >/sys/bus/pci/devices/$d/driver_override; done; exec /sbin/modprobe --ignore-install vfio-pci $CMDLINE_OPTS'
	assert_line "softdep nvidia pre: vfio-pci"
	# both of the same model: by ID, both go
	run vb -n bind 01:00.0 21:00.0
	assert_success
	assert_line --partial "options vfio-pci ids=10de:2204"
}

@test "bind refuses what the host needs: the boot GPU, its only display, a group holding the root disk; nothing changed" {
	sim_up $DUAL "mount 02:00.1 / ext4"
	initramfs_tools
	run vb bind 09:00.0
	assert_failure 1
	assert_output "vfio-boot: 0000:09:00.0: is the GPU the firmware shows the boot on: from boot on the host would have no screen (a single GPU goes to its VM through the hooks, hook-run new)
vfio-boot: nothing changed"
	run vb bind 02:00.0
	assert_failure 1
	assert_output "vfio-boot: 0000:02:00.0: its IOMMU group holds 0000:02:00.1, which holds /: the host needs it
vfio-boot: nothing changed"
	run vb bind 01:00.0 09:00.0
	assert_failure 1
	assert_line "vfio-boot: 0000:01:00.0: with it vfio-pci would take every display controller: from boot on the host would have no screen"
	run vb bind 42:00.0
	assert_failure 1
	[ ! -e "$SIMROOT/etc/modprobe.d/vfio-utils.conf" ]
	[ ! -e "$SIMROOT/var/lib/vfio-utils" ]
	[ -z "$(ran)" ]
	run vb unbind 01:00.0
	assert_failure 1
	assert_output "vfio-boot: 01:00.0: vfio-boot did not give it to vfio-pci at boot"
	run vb unbind nonsense
	assert_failure 2
	run vb iommu maybe
	assert_failure 2
	assert_line --index 0 "vfio-boot: iommu: maybe: expected on or off"
}

@test "bind: a modprobe.d file of that name that is not vfio-boot's is left alone; a failing generator puts the files back" {
	sim_up $DUAL
	initramfs_tools
	mkdir -p "$SIMROOT/etc/modprobe.d"
	echo "options vfio-pci ids=1234:5678" >"$SIMROOT/etc/modprobe.d/vfio-utils.conf"
	run vb bind 01:00.0
	assert_failure 1
	assert_output 'vfio-boot: /etc/modprobe.d/vfio-utils.conf: not written over: it is not vfio-boot'"'"'s (no "# Written by vfio-boot (vfio-utils)" line at its top)'
	assert_equal "$(cat "$SIMROOT/etc/modprobe.d/vfio-utils.conf")" "options vfio-pci ids=1234:5678"
	[ ! -e "$SIMROOT/var/lib/vfio-utils/boot" ]
	rm "$SIMROOT/etc/modprobe.d/vfio-utils.conf"
	mkdir -p "$SIMROOT/run/standin"
	touch "$SIMROOT/run/standin/update-initramfs-fails"
	run vb -q bind 01:00.0
	assert_failure 1
	assert_line "vfio-boot: /etc/modprobe.d/vfio-utils.conf, /etc/initramfs-tools/hooks/vfio-utils: put back as they were"
	[ ! -e "$SIMROOT/etc/modprobe.d/vfio-utils.conf" ]
	[ ! -e "$SIMROOT/etc/initramfs-tools/hooks/vfio-utils" ]
	[ ! -e "$SIMROOT/var/lib/vfio-utils/boot" ]
}

@test "bind: dracut's and mkinitcpio's own files; -n prints them and the generator, changes nothing" {
	sim_up $DUAL
	mkdir -p "$SIMROOT/etc/dracut.conf.d"
	run vb -n bind 01:00.0
	assert_success
	assert_line "cat >/etc/dracut.conf.d/vfio-utils.conf <<'EOF'"
	assert_line 'force_drivers+=" vfio_pci "'
	assert_line "dracut --regenerate-all --force"
	[ ! -e "$SIMROOT/etc/dracut.conf.d/vfio-utils.conf" ]
	[ -z "$(ran)" ]
	run vb bind 01:00.0
	assert_success
	assert_equal "$(ran)" "dracut --regenerate-all --force"
	run cat "$SIMROOT"/boot/initrd.img-*
	assert_line "module vfio_pci"
	assert_line "file /etc/modprobe.d/vfio-utils.conf"
	grep -qx 'install_items+=" /etc/modprobe.d/vfio-utils.conf "' "$SIMROOT/etc/dracut.conf.d/vfio-utils.conf"
	run vb undo
	assert_success
	[ ! -e "$SIMROOT/etc/dracut.conf.d/vfio-utils.conf" ]
	# Arch: mkinitcpio, files only (not Debian's)
	rm -rf "$SIMROOT/etc/dracut.conf.d" "$SIMROOT/run/standin/boot.log"
	touch "$SIMROOT/etc/mkinitcpio.conf"
	run vb bind 01:00.0
	assert_success
	assert_equal "$(ran)" "mkinitcpio -P"
	grep -qx 'MODULES+=(vfio_pci vfio vfio_iommu_type1)' "$SIMROOT/etc/mkinitcpio.conf.d/vfio-utils.conf"
	grep -qx 'FILES+=(/etc/modprobe.d/vfio-utils.conf)' "$SIMROOT/etc/mkinitcpio.conf.d/vfio-utils.conf"
}

@test "undo: every parameter and device vfio-boot gave, given back, the files as they were" {
	sim_up $DUAL "iommu off" "cpu intel"
	debian_grub
	initramfs_tools
	run vb iommu on
	assert_success
	run vb bind 01:00.0 01:00.1
	assert_success
	run vb undo
	assert_success
	cmp "$BATS_TEST_TMPDIR/grub.orig" "$SIMROOT/etc/default/grub"
	[ ! -e "$SIMROOT/etc/modprobe.d/vfio-utils.conf" ]
	[ ! -e "$SIMROOT/etc/initramfs-tools/hooks/vfio-utils" ]
	[ ! -e "$SIMROOT/var/lib/vfio-utils/boot" ]
	assert_equal "$(linux_line)" "root=UUID=0000 ro  quiet"
	run vb undo
	assert_success
	assert_output "vfio-boot gave no device to vfio-pci at boot: nothing to take back
vfio-boot added no kernel parameters: nothing to take away"
}

@test "iommu on: a file update-grub reads after /etc/default/grub sets the variable again: grub.cfg read back, the difference an error; undo still gives the file back" {
	sim_up $DUAL "iommu off" "cpu intel"
	debian_grub
	mkdir -p "$SIMROOT/etc/default/grub.d"
	echo 'GRUB_CMDLINE_LINUX_DEFAULT="splash"' >"$SIMROOT/etc/default/grub.d/50-cloud.cfg"
	run vb iommu on
	assert_failure 1
	assert_line "vfio-boot: /boot/grub/grub.cfg: update-grub ran, but the next boot's command line there lacks intel_iommu=on (does a file it reads after /etc/default/grub set it again?)"
	assert_line "vfio-boot: /boot/grub/grub.cfg: update-grub ran, but the next boot's command line there lacks iommu=pt (does a file it reads after /etc/default/grub set it again?)"
	refute_line --partial "reboot to apply"
	# made and remembered all the same
	grep -qx 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"' "$SIMROOT/etc/default/grub"
	assert_equal "$(linux_line)" "root=UUID=0000 ro  splash"
	run vb undo
	assert_success
	cmp "$BATS_TEST_TMPDIR/grub.orig" "$SIMROOT/etc/default/grub"
}
