#!/usr/bin/env bats
# Every command's bash, zsh and fish completion loads, and completes options
# and arguments from the tree the command line points at.

load helpers

# bash_complete LINE: what bash offers for the last word of LINE.
bash_complete() {
	local line=$1 cmd=${1%% *}
	bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1/completions/bash/$2"
		read -ra COMP_WORDS <<<"$3"
		[[ $3 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$3 COMP_POINT=${#3}
		"_${2//-/_}"
		printf "%s\n" "${COMPREPLY[@]}"
	' complete "$TOP" "$cmd" "$line"
}

fish_complete() {
	fish -c "set fish_function_path '$TOP/completions/fish/functions' \$fish_function_path
		source '$TOP/completions/fish/${1%% *}.fish'; complete -C'$1'"
}

# zsh_complete LINE: what zsh's completion system offers, sorted, one a line.
zsh_complete() {
	zsh -f "$TESTS/lib/zsh-complete" "$TOP/completions/zsh" "$1"
}

# The long options a command's --help lists.
help_options() {
	"$1" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'
}

setup() {
	root=$(printf '%s\n' "$(cat "$MACHINES/x570-rtx2070s-group.txt")" "driver 09:00.1 vfio-pci" | machine_from_stdin)
}

@test "bash: options, devices and groups, from the --sysroot on the command line" {
	run bash_complete "iommu-groups --st"
	assert_output "--status"
	run bash_complete "iommu-groups --sysroot $root "
	assert_line "09:00.0"
	assert_line "2"
	run bash_complete "vfio-bind --sysroot $root 09:00."
	assert_output $'00.0\n00.2\n00.3' # 09:00.1 is on vfio-pci; bash completes after the colon
	# the group's host bridge and PCI bridge: vfio-bind refuses them, so none is offered
	run bash_complete "vfio-bind --sysroot $root 00:0"
	assert_output ""
	run bash_complete "iommu-groups --sysroot $root 00:03."
	assert_output $'03.0\n03.1'
	run bash_complete "vfio-unbind --sysroot $root 09:00."
	assert_output "00.1"
	run bash_complete "vfio-unbind --unl"
	assert_output "--unload-vfio"
}

@test "fish: options with descriptions, devices from the sysroot named as lspci names them" {
	run fish_complete "vfio-bind --unl"
	assert_output $'--unload\tRemove the modules of the drivers they had'
	run fish_complete "vfio-unbind --sysroot $root 0"
	assert_output $'09:00.1\tAudio device: NVIDIA Corporation TU104 HD Audio Controller'
	run fish_complete "iommu-groups --sysroot=$root 09:00.3"
	assert_output $'09:00.3\tSerial bus controller: NVIDIA Corporation TU104 USB Type-C UCSI Controller'
	run fish_complete "vfio-bind --sysroot $root 09:00."
	assert_output $'09:00.0\tVGA compatible controller: NVIDIA Corporation TU104 [GeForce RTX 2070 SUPER]\n09:00.2\tUSB controller: NVIDIA Corporation TU104 USB 3.1 Host Controller\n09:00.3\tSerial bus controller: NVIDIA Corporation TU104 USB Type-C UCSI Controller'
	# no bridge (fish 3.6 also offers what matches a description fuzzily: lines, not all)
	run fish_complete "vfio-bind --sysroot $root 00:0"
	refute_line --regexp '^00:'
	run fish_complete "hook-run --sysroot $root --gpu 09:00.1"
	refute_line --regexp '^09:00\.1'
	refute_line --regexp '^00:'
	run fish_complete "hook-run --sysroot $root --gpu 09:00."
	assert_output --partial $'09:00.0\tVGA compatible controller: NVIDIA Corporation TU104 [GeForce RTX 2070 SUPER]'
}

@test "the screen commands complete their subcommands and options" {
	run bash_complete "dm-ctl st"
	assert_output $'status\nstop\nstart'
	run bash_complete "vtcon --a"
	assert_output "--all"
	run fish_complete "efifb "
	assert_line $'unbind\tRelease it'
	run fish_complete "dm-ctl --iso"
	assert_output $'--isolate\tsystemd: multi-user.target and graphical.target'
}

@test "vm-nosleep completes its policies' words and delay's, in bash, zsh and fish" {
	run bash_complete "vm-nosleep hold --on-sleep "
	assert_output $'block\nsuspend\nhibernate'
	run bash_complete "vm-nosleep hold --on-shutdown h"
	assert_output "hibernate"
	run bash_complete "vm-nosleep hold --if-late "
	assert_output $'pause\nleave'
	run zsh_complete "vm-nosleep hold --on-shutdown="
	assert_line "shutdown"
	assert_line "none"
	run fish_complete "vm-nosleep hold --on-sleep="
	assert_line $'--on-sleep=suspend\thold: at host sleep'
	run fish_complete "vm-nosleep --if-l"
	assert_output $'--if-late\thold: a guest not there in time'
	run bash_complete "vm-nosleep de"
	assert_output "delay"
	run bash_complete "vm-nosleep delay "
	assert_output "default"
	run zsh_complete "vm-nosleep "
	assert_line "delay"
	run fish_complete "vm-nosleep delay "
	assert_line $'default\tlogind\'s own delay'
}

@test "vfio-boot completes its commands, on/off, devices to bind and those it bound, in bash, zsh and fish" {
	mkdir -p "$root/var/lib/vfio-utils"
	printf '# vfio-utils state 1 boot\n0000:09:00.2 kind=device ids=10de:1ad8 by=ids module=xhci_pci\niommu kind=param value=pt had=no was=- loader=grub\n# end\n' \
		>"$root/var/lib/vfio-utils/boot"
	run bash_complete "vfio-boot --sysroot $root "
	assert_output $'status\niommu\nbind\nunbind\nundo'
	run bash_complete "vfio-boot -n iommu "
	assert_output $'on\noff'
	run bash_complete "vfio-boot --sysroot $root bind 09:00."
	assert_output $'00.0\n00.2\n00.3' # 09:00.1 is on vfio-pci already
	run bash_complete "vfio-boot --sysroot $root unbind "
	assert_output "09:00.2"
	run zsh_complete "vfio-boot "
	assert_line "undo"
	run zsh_complete "vfio-boot iommu "
	assert_output $'off\non'
	run zsh_complete "vfio-boot --sysroot=$root unbind "
	assert_output "09:00.2"
	run fish_complete "vfio-boot un"
	assert_output $'unbind\tLeave devices to their usual driver from the next boot on\nundo\tGive back everything vfio-boot changed'
	run fish_complete "vfio-boot iommu "
	assert_output $'off\non'
	run fish_complete "vfio-boot --sysroot $root unbind "
	assert_output $'09:00.2\tGiven to vfio-pci at boot'
}

@test "hook-run completes its commands and the guests of qemu.d" {
	mkdir -p "$root/etc/libvirt/hooks/qemu.d/win10"
	run bash_complete "hook-run --sysroot $root "
	assert_output $'install\ncheck\nlist\nnew\nuninstall'
	run bash_complete "hook-run --sysroot $root list w"
	assert_output "win10"
	run fish_complete "hook-run li"
	assert_output $'list\tWhat would run, in order'
	run fish_complete "hook-run un"
	assert_output $'uninstall\tUndo install, the previous hook put back'
	run fish_complete "hook-run --sysroot $root new "
	assert_output $'win10\tGuest'
}

@test "zsh: options, devices and groups, from the --sysroot on the command line" {
	run zsh_complete "iommu-groups --st"
	assert_output "--status"
	run zsh_complete "iommu-groups --sysroot $root 09:00."
	assert_output $'09:00.0\n09:00.1\n09:00.2\n09:00.3'
	run zsh_complete "iommu-groups --sysroot=$root "
	assert_output $'00:03.0\n00:03.1\n09:00.0\n09:00.1\n09:00.2\n09:00.3\n2' # and group 2
	run zsh_complete "vfio-bind --sysroot $root 09:00."
	assert_output $'09:00.0\n09:00.2\n09:00.3'
	run zsh_complete "vfio-bind --sysroot $root 00:0"
	assert_output ""
	run zsh_complete "vfio-unbind --sysroot $root 0"
	assert_output "09:00.1"
	run zsh_complete "hook-run --gpu "
	# this host's devices, bridges aside
	assert_output "$(cd /sys/bus/pci/devices && for d in *; do grep -q '^0x060[049]' "$d/class" || echo "${d#0000:}"; done | sort)"
	VFIO_UTILS_SYSROOT=$root run zsh_complete "hook-run --gpu 09:00."
	assert_output $'09:00.0\n09:00.2\n09:00.3' # not 09:00.1, on vfio-pci
	mkdir -p "$root/etc/libvirt/hooks/qemu.d/win10"
	run zsh_complete "hook-run --sysroot $root list "
	assert_output "win10"
	run zsh_complete "dm-ctl st"
	assert_output $'start\nstatus\nstop'
	run zsh_complete "efifb "
	assert_output $'bind\nstatus\nunbind'
}

@test "iommu-groups -s completes slots, -d vendor:device IDs, in bash, zsh and fish" {
	run bash_complete "iommu-groups --sysroot $root -s 09:00.1"
	assert_output "00.1"
	run bash_complete "iommu-groups --sysroot $root --device-id 10de:1e"
	assert_output "1e84"
	run zsh_complete "iommu-groups --sysroot $root -d 10de:1a"
	assert_output $'10de:1ad8\n10de:1ad9'
	run zsh_complete "iommu-groups --sysroot $root --slot 09:00.3"
	assert_output "09:00.3"
	run fish_complete "iommu-groups --sysroot $root -d 10de:10"
	assert_output $'10de:10f8\tGroups holding a device with these IDs'
	run fish_complete "iommu-groups --sysroot $root --slot 09:00.2"
	assert_line $'09:00.2\tUSB controller: NVIDIA Corporation TU104 USB 3.1 Host Controller'
}

@test "every long option of --help completes, in bash, zsh and fish" {
	local c opt
	for c in "$TOP"/cmd/*.c; do
		c=$(basename "$c" .c)
		run help_options "$c"
		assert_success
		[ "${#lines[@]}" -ge 5 ]
		local opts=("${lines[@]}")
		run bash_complete "$c --"
		for opt in "${opts[@]}"; do assert_line "$opt"; done
		run zsh_complete "$c --"
		for opt in "${opts[@]}"; do assert_line "$opt"; done
		run fish_complete "$c --"
		for opt in "${opts[@]}"; do assert_line --regexp "^$opt($|	)"; done
	done
}

@test "zsh: every completion function loads under compinit" {
	for f in "$TOP"/completions/zsh/_*; do
		run zsh -f -c "fpath=('$TOP/completions/zsh' \$fpath); autoload -Uz compinit; compinit -u; autoload -Uz ${f##*/}; whence -w ${f##*/}"
		assert_success
		assert_output "${f##*/}: function"
	done
}

@test "every command has a completion for each shell" {
	for c in "$TOP"/cmd/*.c; do
		c=$(basename "$c" .c)
		[ -f "$TOP/completions/bash/$c" ]
		[ -f "$TOP/completions/zsh/_$c" ]
		[ -f "$TOP/completions/fish/$c.fish" ]
	done
}
