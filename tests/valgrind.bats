#!/usr/bin/env bats
# Every command's main paths under valgrind (memcheck): no invalid read or
# write, no use of uninitialised memory, no definite or indirect leak. Each
# process writes its own log; every log must be empty. The plain build only:
# valgrind cannot run the sanitizer build.

load helpers

setup() {
	command -v valgrind >/dev/null || skip "VALGRIND UNAVAILABLE: install valgrind (make deps)"
	VG_LOGS=$BATS_TEST_TMPDIR/vg
	mkdir -p "$VG_LOGS"
	PATH=$STANDINS:$PATH
}

teardown() {
	sim_down
}

# vg [--sim] STATUS COMMAND ARGS...: COMMAND under memcheck, exit STATUS expected.
vg() {
	local on=() want
	if [ "$1" = --sim ]; then
		on=(sim exec "$SIMROOT" --)
		shift
	fi
	want=$1
	shift
	run "${on[@]}" valgrind -q --log-file="$VG_LOGS/%p.log" --error-exitcode=99 \
		--leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --trace-children=no \
		"$BUILD/$1" "${@:2}"
	[ "$status" -eq "$want" ] || fail "$* exited $status, not $want: $output"
}

# No process logged an error ("==PID== ..."). Valgrind's own notes ("--PID--",
# such as pidfd_open being unknown to valgrind 3.19; the commands fall back) are not.
clean() {
	local f
	for f in "$VG_LOGS"/*.log; do
		grep -q '^==[0-9]*==' "$f" && fail "valgrind: $(cat "$f")"
	done
	return 0
}

@test "iommu-groups: listing, drivers, JSON, --check, --status, --ids, errors" {
	root=$(machine b550-5600g-rtx2060)
	vg 0 iommu-groups --sysroot "$root"
	vg 0 iommu-groups --sysroot "$root" -k --gpu
	vg 0 iommu-groups --sysroot "$root" --json
	vg 0 iommu-groups --sysroot "$root" --check 01:00.0
	vg 0 iommu-groups --sysroot "$root" --status
	vg 0 iommu-groups --sysroot "$root" --ids 8
	vg 1 iommu-groups --sysroot "$root" 07:00.0
	vg 2 iommu-groups --sysroot "$root" --frob
	clean
}

@test "vfio-audit: findings, a clean domain, JSON, a file that is no domain" {
	root=$(machine b550-5600g-rtx2060)
	printf '%s\n' "<domain><name>w</name><cputune><vcpupin vcpu='0' cpuset='1-2,99'/></cputune>" \
		"<devices><hostdev mode='subsystem' type='pci'><source><address domain='0' bus='1' slot='0' function='0'/></source><rom file='/x.rom'/></hostdev><memballoon model='virtio'/></devices></domain>" \
		>"$BATS_TEST_TMPDIR/w.xml"
	echo '<network/>' >"$BATS_TEST_TMPDIR/n.xml"
	vg 1 vfio-audit --sysroot "$root" --domain-xml "$BATS_TEST_TMPDIR/w.xml"
	vg 1 vfio-audit --sysroot "$root" --domain-xml "$BATS_TEST_TMPDIR/w.xml" --json
	vg 1 vfio-audit --sysroot "$root" --domain-xml "$BATS_TEST_TMPDIR/n.xml"
	vg 2 vfio-audit --sysroot "$root" --frob
	clean
}

@test "vm-hugepages: status, reserve across sizes and nodes, a shortfall put back, release, JSON" {
	sim_up "$SINGLE" "nodes 2" "hugepages 1G max 0"
	printf '%s' "<domain><name>w</name><memory unit='GiB'>4</memory><memoryBacking><hugepages><page size='2' unit='M' nodeset='0'/><page size='1' unit='G' nodeset='1'/></hugepages></memoryBacking>" \
		"<numatune><memnode cellid='0' mode='strict' nodeset='1'/></numatune><cpu><numa><cell id='0' cpus='0' memory='2' unit='GiB'/><cell id='1' cpus='1' memory='2' unit='GiB'/></numa></cpu></domain>" \
		>"$BATS_TEST_TMPDIR/w.xml"
	vg --sim 0 vm-hugepages --json
	vg --sim 1 vm-hugepages reserve --domain-xml "$BATS_TEST_TMPDIR/w.xml"
	sim ctl "$SIMROOT" hugepages 1G max none
	vg --sim 0 vm-hugepages reserve --domain-xml "$BATS_TEST_TMPDIR/w.xml" --json
	vg --sim 0 vm-hugepages status
	vg --sim 0 vm-hugepages release w
	vg --sim 2 vm-hugepages reserve
	clean
}

@test "vm-cpus: status, isolate two domains, a governor, refusals, release, JSON" {
	sim_up "$SINGLE"
	printf "<domain><name>a</name><cputune><vcpupin vcpu='0' cpuset='2'/><emulatorpin cpuset='3'/></cputune></domain>" >"$BATS_TEST_TMPDIR/a.xml"
	vg --sim 0 vm-cpus --json
	vg --sim 0 vm-cpus isolate --domain-xml "$BATS_TEST_TMPDIR/a.xml"
	vg --sim 0 vm-cpus isolate --governor performance --cpus 5 --domain-xml - <<<"<domain><name>b</name></domain>"
	vg --sim 1 vm-cpus isolate --governor nosuch --cpus 4 --domain-xml - <<<"<domain><name>d</name></domain>"
	vg --sim 1 vm-cpus isolate --cpus 0-7 --domain-xml - <<<"<domain><name>c</name></domain>"
	vg --sim 0 vm-cpus status
	vg --sim 0 vm-cpus release a
	vg --sim 0 vm-cpus release --json b
	vg --sim 2 vm-cpus isolate
	clean
}

@test "vm-prio: status, set, --fifo, reset, a domain that does not run" {
	sim_up "$SINGLE"
	mkdir -p "$SIMROOT/run/libvirt/qemu"
	"$BUILD/vcpus" 2 KVM "$SIMROOT/run/libvirt/qemu/w.pid" >"$BATS_TEST_TMPDIR/pid" &
	until [ -s "$BATS_TEST_TMPDIR/pid" ]; do sleep 0.05; done
	vg --sim 0 vm-prio --json
	vg --sim 0 vm-prio set --domain-xml - <<<"<domain><name>w</name></domain>"
	vg --sim 0 vm-prio set --fifo 2 w
	vg --sim 0 vm-prio status
	vg --sim 0 vm-prio reset --json w
	vg --sim 1 vm-prio set nosuch
	vg --sim 2 vm-prio set --nice 99 w
	kill "$(cat "$BATS_TEST_TMPDIR/pid")"
	clean
}

@test "vfio-bind and vfio-unbind: a group there and back, --domain-xml, --json, a refusal" {
	sim_up "$SINGLE"
	vg --sim 0 vfio-bind --group 09:00.0
	vg --sim 0 vfio-unbind --restore --unload-vfio
	printf '%s' "<domain><name>w</name><devices><hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x09' slot='0x00' function='0x0'/></source></hostdev></devices></domain>" >"$BATS_TEST_TMPDIR/d.xml"
	vg --sim 0 vfio-bind --json --domain-xml "$BATS_TEST_TMPDIR/d.xml"
	vg --sim 0 vfio-unbind --json --domain-xml "$BATS_TEST_TMPDIR/d.xml"
	vg --sim 0 vfio-bind -n --group --unload 09:00.0
	vg --sim 1 vfio-bind 00:03.1 # a bridge: refused
	[ "$(driver_of 0000:09:00.0)" = nvidia ]
	clean
}

@test "the screen hand-over: dm-ctl, vtcon, efifb there and back" {
	sim_up "$SINGLE" "kernel 5.15.0-91-generic"
	dm_boot
	vg --sim 0 dm-ctl stop
	vg --sim 0 vtcon unbind
	vg --sim 0 efifb unbind
	vg --sim 0 efifb --json
	vg --sim 0 vtcon --json
	vg --sim 0 efifb bind
	vg --sim 0 vtcon bind
	vg --sim 0 dm-ctl start
	vg --sim 0 dm-ctl --json
	clean
}

@test "vm-nosleep: hold, status, release, logind refusing, a dry run" {
	sim_up "$SINGLE"
	sim_systemd
	vg --sim 0 vm-nosleep -n hold w
	vg --sim 0 vm-nosleep hold --domain-xml - <<<"<domain><name>w</name></domain>"
	vg --sim 0 vm-nosleep --json status
	vg --sim 0 vm-nosleep release --json w
	touch "$SIMROOT/run/standin/inhibit-fails"
	vg --sim 1 vm-nosleep --timeout 1 hold w
	vg --sim 2 vm-nosleep hold
	clean
}

@test "vfio-boot: status, iommu on and off, bind by ID and by address, a refusal, a bad file, undo, JSON" {
	sim_up trx40-four-gpus "iommu off" "cpu intel"
	mkdir -p "$SIMROOT/etc/default" "$SIMROOT/usr/sbin" "$SIMROOT/etc/initramfs-tools"
	echo 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' >"$SIMROOT/etc/default/grub"
	touch "$SIMROOT/usr/sbin/update-grub" "$SIMROOT/etc/initramfs-tools/initramfs.conf"
	vg --sim 0 vfio-boot -n iommu on
	vg --sim 0 vfio-boot iommu on
	vg --sim 0 vfio-boot bind 21:00.0 21:00.1 41:00.0
	vg --sim 0 vfio-boot --json status
	vg --sim 0 vfio-boot status
	vg --sim 1 vfio-boot bind 0a:00.0
	vg --sim 0 vfio-boot unbind 41:00.0
	vg --sim 0 vfio-boot --json undo
	echo 'GRUB_CMDLINE_LINUX_DEFAULT="$X"' >"$SIMROOT/etc/default/grub"
	vg --sim 1 vfio-boot iommu on
	vg --sim 2 vfio-boot iommu
	clean
}

@test "hook-run: libvirt's call with scripts, list, check, new" {
	sim_up "$SINGLE"
	vg --sim 0 hook-run new win10
	local h=$SIMROOT/etc/libvirt/hooks
	ln -s "$BUILD/hook-run" "$h/qemu"
	mkdir -p "$h/qemu.d/win10/started/begin"
	printf '#!/bin/sh\ncat >/dev/null\n' >"$h/qemu.d/win10/started/begin/10-read"
	chmod 755 "$h/qemu.d/win10/started/begin/10-read"
	run bash -c "printf '<domain/>' | valgrind -q --log-file='$VG_LOGS/%p.log' --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite,indirect '$h/qemu' win10 started begin -"
	assert_success
	vg --sim 0 hook-run list
	vg --sim 0 hook-run -c "qemu+unix:///system?socket=/nonexistent" check
	vg --sim 2 hook-run new "../x"
	clean
}
