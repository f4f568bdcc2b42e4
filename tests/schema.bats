#!/usr/bin/env bats
# Every --json document, from every command that prints one, in each of its
# cases (a listing, an action, a dry run, a refusal, a failure), checked
# against the key tables of vfio-utils(7) by tests/lib/schema-check.

load helpers

setup() {
	PATH=$STANDINS:$PATH
	require_sim
	DOCS=$BATS_TEST_TMPDIR/docs
}

teardown() {
	sim_down
}

# json CMD ARGS...: one more document, whatever the command's exit.
json() { on_sim "$@" --json >>"$DOCS" 2>/dev/null || true; }

@test "schema-check finds a wrong type, an undocumented key, a missing key" {
	run schema-check <<<'{"schema":1,"command":"vtcon","consoles":[{"name":1,"extra":true}],"errors":[],"warnings":[]}'
	assert_failure 1
	assert_line "vtcon: no ok"
	assert_line "vtcon.consoles[0].name: number, not a string"
	assert_line "vtcon.consoles[0].extra: not a key of console in vfio-utils(7)"
	run schema-check <<<'{"schema":1,"command":"vtcon","consoles":[],"errors":[],"warnings":[],"ok":"yes"}'
	assert_failure 1
	assert_output "vtcon.ok: string, not a boolean"
}

@test "every command's --json, in every case, has the keys and types of vfio-utils(7)" {
	sim_up "$SINGLE" "kernel 6.1.0-13-amd64" "framebuffer simple-framebuffer"
	dm_boot
	# listings
	json iommu-groups
	json iommu-groups -k 2
	json iommu-groups --ids 2
	json iommu-groups --virsh --gpu
	json iommu-groups --check 09:00.0
	json iommu-groups --check 00:00.0
	json iommu-groups --status
	json iommu-groups 4242
	json vtcon list
	json efifb status
	json dm-ctl status
	# dry runs, then the real thing, then once more (nothing to do)
	json dm-ctl -n stop
	json dm-ctl stop
	json vtcon -n unbind
	json efifb -n unbind
	json vfio-bind -n --group --unload 09:00.0
	json vtcon unbind
	json efifb unbind
	json vfio-bind --group 09:00.0
	json vfio-bind --group 09:00.0
	json efifb status
	json vfio-unbind -n --restore
	json vfio-unbind --restore
	json efifb bind
	json vtcon bind
	json vtcon --all bind
	# refusals and failures
	json vfio-bind 00:00.0
	hold "$SIMROOT/dev/dri/card0"
	json vfio-bind --group 09:00.0
	kill "$HOLDER"
	sim ctl "$SIMROOT" fault write /sys/bus/pci/drivers_probe EIO once skip=1
	json vfio-bind --group 09:00.0
	sim ctl "$SIMROOT" fault write /sys/class/vtconsole/vtcon1/bind EIO once
	json vtcon unbind
	json vfio-unbind 09:00.0
	json dm-ctl start
	# hook-run list: a guest's scripts, none, and a hook tree with both
	on_sim hook-run new --gpu 09:00.0 win10 >/dev/null
	json hook-run list
	json hook-run list win10
	json hook-run list nosuch
	# vfio-audit: the domain seed 002's guide writes, and one with its findings
	printf '%s\n' "<domain><name>win10</name><os firmware='efi'><type machine='q35'>hvm</type></os><cpu mode='host-passthrough'/>" \
		"<devices><hostdev mode='subsystem' type='pci'><source><address domain='0' bus='9' slot='0' function='0'/></source><rom file='/nosuch.rom'/></hostdev></devices></domain>" \
		>"$BATS_TEST_TMPDIR/win10.xml"
	json vfio-audit --domain-xml "$BATS_TEST_TMPDIR/win10.xml"
	json vfio-audit --domain-xml "$BATS_TEST_TMPDIR/nosuch.xml"
	# vm-hugepages: the pools, a domain's reserved and given back, one too large
	printf "<domain><name>hp</name><memory unit='GiB'>1</memory><memoryBacking><hugepages/></memoryBacking></domain>" >"$BATS_TEST_TMPDIR/hp.xml"
	printf "<domain><name>big</name><memory unit='GiB'>64</memory><memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking></domain>" >"$BATS_TEST_TMPDIR/big.xml"
	json vm-hugepages
	json vm-hugepages -n reserve --domain-xml "$BATS_TEST_TMPDIR/hp.xml"
	json vm-hugepages reserve --domain-xml "$BATS_TEST_TMPDIR/hp.xml"
	json vm-hugepages status
	json vm-hugepages release hp
	json vm-hugepages reserve --domain-xml "$BATS_TEST_TMPDIR/big.xml"
	# vm-cpus: the CPUs, a domain isolated and given back, one that leaves the host none
	printf "<domain><name>pin</name><cputune><vcpupin vcpu='0' cpuset='3'/></cputune></domain>" >"$BATS_TEST_TMPDIR/pin.xml"
	json vm-cpus
	json vm-cpus -n isolate --domain-xml "$BATS_TEST_TMPDIR/pin.xml"
	json vm-cpus isolate --domain-xml "$BATS_TEST_TMPDIR/pin.xml"
	json vm-cpus status
	json vm-cpus release pin
	json vm-cpus isolate --cpus 0-7 --domain-xml "$BATS_TEST_TMPDIR/pin.xml"
	json vm-cpus isolate --governor performance --domain-xml "$BATS_TEST_TMPDIR/pin.xml"
	json vm-cpus release pin
	# vm-prio: a QEMU's vCPU threads, set, put back, and a domain that does not run
	mkdir -p "$SIMROOT/run/libvirt/qemu"
	"$BUILD/vcpus" 2 KVM "$SIMROOT/run/libvirt/qemu/w.pid" >"$BATS_TEST_TMPDIR/vcpus.pid" &
	until [ -s "$BATS_TEST_TMPDIR/vcpus.pid" ]; do sleep 0.05; done
	json vm-prio
	json vm-prio -n set w
	json vm-prio set --fifo 3 w
	json vm-prio reset w
	json vm-prio set nosuch
	kill "$(cat "$BATS_TEST_TMPDIR/vcpus.pid")"
	# vm-nosleep: held, listed, let go, and logind refusing the lock
	sim_systemd
	json vm-nosleep -n hold w
	json vm-nosleep hold w
	json vm-nosleep status
	json vm-nosleep release w
	mkdir -p "$SIMROOT/run/standin"
	touch "$SIMROOT/run/standin/inhibit-fails"
	json vm-nosleep --timeout 1 hold w
	# vfio-boot: the state, a parameter taken away, a device bound and unbound, a refusal
	mkdir -p "$SIMROOT/etc/default" "$SIMROOT/usr/sbin" "$SIMROOT/etc/initramfs-tools" "$SIMROOT/var/lib/vfio-utils"
	echo 'GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=pt"' >"$SIMROOT/etc/default/grub"
	touch "$SIMROOT/usr/sbin/update-grub" "$SIMROOT/etc/initramfs-tools/initramfs.conf"
	printf '# vfio-utils state 1 boot\niommu kind=param value=pt had=no was=- loader=grub\n# end\n' >"$SIMROOT/var/lib/vfio-utils/boot"
	json vfio-boot
	json vfio-boot -n iommu off
	json vfio-boot iommu off
	json vfio-boot -n bind 09:00.1
	json vfio-boot bind 09:00.1
	json vfio-boot unbind 09:00.1
	json vfio-boot bind 09:00.0
	# one document a run, each command seen, none ok=false by accident only
	assert_equal "$(wc -l <"$DOCS")" 68
	# every command's JSON was checked
	assert_equal "$(jq -r .command "$DOCS" | sort -u | tr '\n' ' ')" "$(printf '%s\n' "${COMMANDS[@]}" | sort | tr '\n' ' ')"
	assert_equal "$(jq -r 'select(.ok | not) | .command' "$DOCS" | tr '\n' ' ')" "iommu-groups iommu-groups vfio-bind vfio-bind vfio-bind vtcon vfio-audit vfio-audit vm-hugepages vm-cpus vm-prio vm-nosleep vfio-boot "
	assert_equal "$(jq -r 'select(.command == "hook-run") | .scripts | length' "$DOCS" | tr '\n' ' ')" "4 4 0 "
	run schema-check <"$DOCS"
	assert_success
	assert_output ""
}

@test "each command's man page points --json to vfio-utils(7), and vfio-utils(7) to each" {
	for c in "${COMMANDS[@]}"; do
		sed -n '/^\.B \\-\\-json$/,/^\.TP/p' "$TOP"/man/"$c".[18] | grep -q 'vfio\\-utils (7)' ||
			fail "$c: its --json entry does not name vfio-utils(7)"
		grep -q "^\.BR ${c//-/\\\\-} ([18])" "$TOP/man/vfio-utils.7" || fail "vfio-utils(7) does not name $c"
	done
}
