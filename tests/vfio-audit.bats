#!/usr/bin/env bats
# vfio-audit: each finding fires on a domain the way the guides' users write
# one with that step left out, and is silent on the domain with every step
# followed (seed 002's single GPU: Q35, OVMF, host-passthrough, all four
# functions, the hypervisor hidden, no balloon, hook-run new's hooks).

load helpers

setup() {
	# seed 002's machine, fresh for each test: its hooks and drivers change
	ROOT=$(printf '%s\n' "$(cat "$MACHINES/$SINGLE.txt")" "cpus 8" "${EXTRA:-}" | machine_from_stdin)
	XML=$BATS_TEST_TMPDIR/win10.xml
}

# good [sed script]: the domain with every step followed (tests/fixtures/win10.xml,
# which README's guide audits too), changed by the script.
good() {
	cp "$FIXTURES/win10.xml" "$XML"
	[ -z "${1:-}" ] || sed -i "$1" "$XML"
	# hook-run new's hooks, as README's guide writes them (not where the IOMMU is off)
	hook-run --sysroot "$ROOT" new --force --gpu 09:00.0 win10 >/dev/null 2>&1 || true
}

# drop_functions 123: leave out the hostdevs of functions 1, 2 and 3 of the GPU.
drop_functions() {
	perl -0pi -e "s/\\s*<hostdev[^>]*>\\s*<source><address[^>]*function='0x[$1]'\\/><\\/source>\\s*<\\/hostdev>//g" "$XML"
}

audit() { vfio-audit --sysroot "$ROOT" --domain-xml "$XML" "$@"; }

# ids: the ids of the findings, one line.
ids() { audit --json | jq -r '[.findings[].id] | join(" ")'; }

@test "the domain seed 002 describes, every step followed: no finding, exit 0" {
	good
	run audit
	assert_success
	assert_output "1 domain: 0 errors, 0 warnings"
	run audit --strict --json
	assert_success
	assert_equal "$(jq -c '[.domains, .findings, .ok]' <<<"$output")" '[["win10"],[],true]'
}

@test "seed 001's second GPU (the host keeps its screen on the iGPU): no hand-over needed, no finding" {
	ROOT=$(machine "$DUAL")
	sed "s/bus='0x09'/bus='0x01'/" "$FIXTURES/win10.xml" >"$XML"
	drop_functions 23
	[ "$(grep -c '<hostdev' "$XML")" -eq 2 ]
	run audit
	assert_success
	assert_output "1 domain: 0 errors, 0 warnings"
}

@test "group-not-viable: the GPU passed without its audio, USB and UCSI functions, each with the hostdev to add" {
	good
	drop_functions 123
	# hook-run new's prepare script binds the whole group (vfio-bind --group): viable
	run ids
	assert_output ""
	sed -i 's/vfio-bind --group /vfio-bind /' "$ROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/50-vfio-utils"
	run audit
	assert_failure 1
	assert_line "win10: error: IOMMU group 2: 0000:09:00.1 shares it, is not passed and is on snd_hda_intel: QEMU fails with \"group 2 is not viable\" [group-not-viable]"
	assert_line "  fix: <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x09' slot='0x00' function='0x1'/></source></hostdev>"
	# the bridges of group 2 stay with the host: no finding
	assert_equal "$(ids)" "group-not-viable group-not-viable group-not-viable"
}

@test "group-not-viable is silent for members on vfio-pci, on pci-stub or on no driver, as the kernel allows" {
	EXTRA=$'driver 09:00.1 vfio-pci\ndriver 09:00.2 pci-stub\ndriver 09:00.3 none' setup
	good
	drop_functions 123
	[ "$(grep -c '<hostdev' "$XML")" -eq 1 ]
	run ids
	assert_output ""
}

@test "no-such-device and no-iommu-group: an address this host does not have, a host with the IOMMU off" {
	good "s/bus='0x09' slot='0x00' function='0x3'/bus='0x0a' slot='0x00' function='0x0'/"
	run audit
	assert_failure 1
	assert_line --partial "win10: error: 0000:0a:00.0: passed, but this host has no such PCI device"
	EXTRA="iommu off" setup
	good
	run ids
	assert_output --partial "no-iommu-group"
}

@test "boot-vga-no-handover: the boot GPU passed with no prepare script that hands the screen over" {
	good
	rm "$ROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/50-vfio-utils"
	run audit
	assert_failure 1
	assert_line --partial "win10: error: 0000:09:00.0: the host's boot GPU is passed, and no prepare/begin script hands the screen over"
	# the guides' own start.sh counts as a hand-over
	printf '#!/bin/bash\nsystemctl stop display-manager\necho 0 > /sys/class/vtconsole/vtcon0/bind\n' \
		>"$ROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/start.sh"
	chmod 755 "$ROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/start.sh"
	run ids
	assert_output ""
}

@test "unmanaged-not-bound: managed='no' with nothing binding it; silent once a prepare script binds or it is on vfio-pci" {
	good "s/managed='yes'/managed='no'/"
	sed -i '/vfio-bind/d' "$ROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/50-vfio-utils"
	run audit
	assert_failure 1
	assert_line --partial "win10: error: 0000:09:00.0: managed='no', not on vfio-pci, and no prepare/begin script binds it: libvirt refuses to start the domain"
	assert_equal "$(ids)" "unmanaged-not-bound unmanaged-not-bound unmanaged-not-bound unmanaged-not-bound"
	echo 'vfio-bind --group --domain-xml -' >>"$ROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/50-vfio-utils"
	run ids
	assert_output ""
}

@test "rom-missing and rom-unreadable: a patched ROM QEMU cannot read" {
	good "s|function='0x0'/></source>|&<rom file='/usr/share/vgabios/patched.rom'/>|"
	run audit
	assert_failure 1
	assert_line "win10: error: 0000:09:00.0: no ROM file /usr/share/vgabios/patched.rom: QEMU cannot start [rom-missing]"
	mkdir -p "$ROOT/usr/share/vgabios"
	echo rom >"$ROOT/usr/share/vgabios/patched.rom"
	chmod 600 "$ROOT/usr/share/vgabios/patched.rom"
	run ids
	assert_output "rom-unreadable"
	chmod 644 "$ROOT/usr/share/vgabios/patched.rom"
	run ids
	assert_output ""
}

@test "rom-apparmor: where AppArmor confines QEMU, a ROM outside /usr/share/vgabios; silent there, or without AppArmor's driver" {
	good "s|function='0x0'/></source>|&<rom file='/var/lib/libvirt/vbios/patched.rom'/>|"
	mkdir -p "$ROOT/var/lib/libvirt/vbios" "$ROOT/sys/module/apparmor/parameters" "$ROOT/etc/libvirt"
	echo rom >"$ROOT/var/lib/libvirt/vbios/patched.rom"
	run ids
	assert_output ""
	echo Y >"$ROOT/sys/module/apparmor/parameters/enabled"
	run audit
	assert_failure 1
	assert_line "win10: error: 0000:09:00.0: ROM file /var/lib/libvirt/vbios/patched.rom lies outside /usr/share/vgabios, and AppArmor lets QEMU read ROMs only there: QEMU cannot start [rom-apparmor]"
	assert_line "  fix: <rom file='/usr/share/vgabios/patched.rom'/>"
	printf '#security_driver = "selinux"\n  security_driver = "none"\n' >"$ROOT/etc/libvirt/qemu.conf"
	run ids
	assert_output ""
	rm "$ROOT/etc/libvirt/qemu.conf"
	mkdir -p "$ROOT/usr/share/vgabios"
	mv "$ROOT/var/lib/libvirt/vbios/patched.rom" "$ROOT/usr/share/vgabios/"
	sed -i "s|/var/lib/libvirt/vbios/|/usr/share/vgabios/|" "$XML"
	run ids
	assert_output ""
}

@test "hugepages-unavailable: fewer free huge pages than the memory needs, or a size the kernel lacks" {
	good "s|<vcpu |<memoryBacking><hugepages/></memoryBacking>\n  &|"
	local h=$ROOT/sys/kernel/mm/hugepages/hugepages-2048kB
	mkdir -p "$h"
	echo 100 >"$h/free_hugepages"
	echo 0 >"$h/resv_hugepages"
	run audit
	assert_failure 1
	assert_line "win10: error: <hugepages>: its memory needs 4096 pages of 2048 KiB, and 100 are free: QEMU cannot get its memory [hugepages-unavailable]"
	assert_line "  fix: vm-hugepages reserve --domain-xml - (a prepare hook; hook-run new writes it)"
	# a prepare hook that reserves them makes them free when it runs
	echo 'vm-hugepages reserve --domain-xml -' >"$ROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/40-hugepages"
	chmod +x "$ROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/40-hugepages"
	run ids
	assert_output ""
	rm "$ROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/40-hugepages"
	# pages reserved for a domain already running are not free for this one
	echo 5000 >"$h/free_hugepages"
	echo 1000 >"$h/resv_hugepages"
	run ids
	assert_output "hugepages-unavailable"
	echo 0 >"$h/resv_hugepages"
	run ids
	assert_output ""
	# 16 MiB pages, which an x86 kernel does not have
	sed -i "s|<hugepages/>|<hugepages><page size='16' unit='M'/></hugepages>|" "$XML"
	run audit
	assert_failure 1
	assert_line --partial "win10: error: <hugepages> of 16384 KiB, which this kernel does not have"
	# each guest cell on the host node <numatune> binds it to: that node's pool counts
	sed -i "s|<page size='16' unit='M'/>|<page size='1' unit='G'/>|; s|<vcpu |<numatune><memory mode='strict' nodeset='0'/></numatune>\n  &|" "$XML"
	run audit
	assert_line "win10: error: <hugepages>: its memory needs 8 pages of 1048576 KiB on node 0, and 0 are free: QEMU cannot get its memory [hugepages-unavailable]"
}

@test "pin-no-such-cpu: a vcpupin to a CPU the host does not have" {
	good "s/<vcpupin vcpu='1' cpuset='3'/<vcpupin vcpu='1' cpuset='2-3,12'/"
	run audit
	assert_failure 1
	assert_line "win10: error: <cputune> pins to CPU 12, and this host's CPUs are 0-7: libvirt refuses to start it [pin-no-such-cpu]"
}

@test "vcpu-priority-default: pinned vCPUs at the host's priority; libvirt's <vcpusched> or a started hook's vm-prio set answers it" {
	good "/<vcpusched /d"
	run audit
	assert_success
	assert_line "win10: warning: <vcpupin> pins its vCPUs, at the host's own priority: for lower latency, libvirt's <vcpusched> (or 'vm-prio set' in the started hook) raises it [vcpu-priority-default]"
	assert_line "  fix: <cputune><vcpusched vcpus='0-N' scheduler='fifo' priority='1'/></cputune>"
	run audit --strict
	assert_failure 1
	# the started hook sets it instead
	mkdir -p "$ROOT/etc/libvirt/hooks/qemu.d/win10/started/begin"
	printf '#!/bin/sh\nvm-prio set --domain-xml -\n' >"$ROOT/etc/libvirt/hooks/qemu.d/win10/started/begin/50-prio"
	chmod 755 "$ROOT/etc/libvirt/hooks/qemu.d/win10/started/begin/50-prio"
	run ids
	assert_output ""
	# vCPUs not pinned: nothing to say
	rm "$ROOT/etc/libvirt/hooks/qemu.d/win10/started/begin/50-prio"
	sed -i "/<vcpupin /d" "$XML"
	run ids
	assert_output ""
}

@test "sleep-policy-no-agent: a hook has vm-nosleep ask the guest at host sleep or shutdown, and the domain has no agent channel" {
	good
	nosleep=$ROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/05-nosleep
	[ -x "$nosleep" ]
	sed -i 's/vm-nosleep hold/vm-nosleep hold --on-sleep suspend/' "$nosleep"
	grep -q -- "--on-sleep suspend" "$nosleep"
	run audit
	assert_success
	assert_line "win10: warning: its hook has vm-nosleep put the guest to sleep (or shut it down) before the host, and it has no guest agent channel: sleep stays blocked, shutdown is not delayed [sleep-policy-no-agent]"
	assert_line "  fix: <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
	sed -i 's/--on-sleep suspend/--on-shutdown=hibernate/' "$nosleep"
	assert_equal "$(ids)" "sleep-policy-no-agent"
	# the channel answers it; blocking alone needs no agent
	sed -i "s|</devices>|<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices>|" "$XML"
	assert_equal "$(ids)" ""
	good
	assert_equal "$(ids)" ""
}

@test "the warnings: i440fx, SeaBIOS, a CPU model, NVIDIA not hidden, a balloon; exit 0, or 1 with --strict" {
	good "s/machine='pc-q35-7.2'/machine='pc-i440fx-7.2'/; s/<os firmware='efi'>/<os>/; s/<cpu mode='host-passthrough' check='none'\/>//; s/<kvm><hidden state='on'\/><\/kvm>//; s/model='none'/model='virtio'/"
	run audit
	assert_success
	assert_line "win10: warning: machine type pc-i440fx-7.2: no PCI Express, so a GPU's driver may not find the link it expects; the guides use Q35 [machine-not-q35]"
	assert_line "  fix: <os firmware='efi'>"
	assert_line "  fix: <memballoon model='none'/>"
	assert_line "1 domain: 0 errors, 5 warnings"
	assert_equal "$(ids)" "nvidia-not-hidden machine-not-q35 firmware-not-uefi cpu-not-host-passthrough memballoon"
	run audit --strict
	assert_failure 1
	# a loader of OVMF's counts as UEFI, as libvirt before firmware='efi' wrote it
	good "s|<os firmware='efi'>|<os><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>|"
	run ids
	assert_output ""
}

@test "as a prepare hook's first line: the XML on stdin, -q, the exit status stops the start" {
	good "s|function='0x0'/></source>|&<rom file='/nosuch.rom'/>|; s/machine='pc-q35-7.2'/machine='pc'/"
	run --separate-stderr bash -c "vfio-audit --sysroot '$ROOT' -q --domain-xml - <'$XML'"
	assert_failure 1
	# the errors alone, on standard error, where libvirt's message shows a failed
	# hook's; the warning (i440fx) left out
	assert_output ""
	assert_equal "${stderr_lines[*]}" "vfio-audit: win10: 0000:09:00.0: no ROM file /nosuch.rom: QEMU cannot start"
	run bash -c "vfio-audit --sysroot '$ROOT' --domain-xml - --json <'$XML' | jq -r '.findings[] | [.severity, .id, .domain] | join(\" \")'"
	assert_output $'error rom-missing win10\nwarning machine-not-q35 win10'
}

@test "bad input: not a domain, no such file, --domain-xml with a name; each one line" {
	echo '<network/>' >"$XML"
	run audit
	assert_failure 1
	assert_line --index 0 "vfio-audit: $XML: not a libvirt domain XML: the root element is not <domain>"
	run vfio-audit --sysroot "$ROOT" --domain-xml "$BATS_TEST_TMPDIR/nosuch.xml"
	assert_failure 1
	assert_line --index 0 "vfio-audit: $BATS_TEST_TMPDIR/nosuch.xml: cannot read the domain XML: No such file or directory"
	run vfio-audit --domain-xml "$XML" win10
	assert_failure 2
	assert_line --index 0 "vfio-audit: --domain-xml audits that file: no DOMAIN or --connect with it"
	run vfio-audit --bogus
	assert_failure 2
	assert_line --index 1 "Try 'vfio-audit --help' for more information."
}

@test "device-in-two-domains: an error when both run (libvirt's test driver runs the domains of its file)" {
	good
	{
		echo "<node>"
		for n in win10 win11; do
			sed "s|<domain type='kvm'>|<domain type='test'>|; s|<name>win10</name>|<name>$n</name>|" "$XML"
		done
		echo "</node>"
	} >"$BATS_TEST_TMPDIR/node.xml"
	run vfio-audit --sysroot "$ROOT" -c "test://$BATS_TEST_TMPDIR/node.xml" --json
	assert_failure 1
	assert_equal "$(jq -c '.domains' <<<"$output")" '["win10","win11"]'
	assert_equal "$(jq -r '.findings[] | select(.id == "device-in-two-domains") | "\(.severity) \(.domain) \(.message)"' <<<"$output" | sort -u | wc -l)" 4
	assert_equal "$(jq -r '[.findings[] | select(.id == "device-in-two-domains") | .severity] | unique | join(" ")' <<<"$output")" "error"
}

@test "host-needs-it: a passed device holding a mounted filesystem or an interface that is up, named escaped" {
	EXTRA=$'mount 09:00.2 /media/x\\012\x1b[31mevil ext4' setup
	good
	run audit
	assert_failure 1
	assert_line 'win10: error: 0000:09:00.2: holds /media/x\x0a\x1b[31mevil: libvirt'"'"'s detach takes it from the host [host-needs-it]'
}

@test "on every posted machine, each IOMMU group passed whole: the audit's verdict is iommu-groups --check's" {
	local f root pass dom bus slot fn n=0 failing=0
	for f in "$MACHINES"/*.txt; do
		grep -q '^IOMMU Group' "$f" || continue
		root=$(machine "$f")
		while read -r pass; do
			{
				echo "<domain><name>t</name><devices>"
				for a in $pass; do
					IFS=':.' read -r dom bus slot fn <<<"$a"
					printf "<hostdev mode='subsystem' type='pci'><source><address domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/></source></hostdev>\n" \
						"$dom" "$bus" "$slot" "$fn"
				done
				echo "</devices></domain>"
			} >"$XML"
			local check=ok audit=ok
			iommu-groups --sysroot "$root" -q --check $pass || check=fail
			[ -z "$(vfio-audit --sysroot "$root" --domain-xml "$XML" --json |
				jq -r '.findings[] | select(.id == "group-not-viable" or .id == "host-needs-it") | .id')" ] || audit=fail
			assert_equal "${f##*/} [$pass] $audit" "${f##*/} [$pass] $check"
			n=$((n + 1))
			[ "$check" = ok ] || failing=$((failing + 1))
		done < <(iommu-groups --sysroot "$root" --json |
			jq -r '.groups[] | [.devices[] | select(.bridge | not) | .address] | select(length > 0) | join(" ")')
	done
	# both verdicts seen: groups that pass, and groups holding what the host uses
	[ "$n" -ge 20 ] && [ "$failing" -ge 3 ]
}
