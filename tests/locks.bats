#!/usr/bin/env bats
# Many GPUs, many VMs: which lock guards what (vfio-utils(7), LOCKS). Each
# device changes hands under a lock of its own, the vfio modules under
# theirs, the records under a short one; so one VM's devices never make
# another VM wait, and two runs on the same device never overlap. Shown on
# a workstation with four GPUs, each with its audio function in a group of
# its own, and judged by the simulated kernel's driver links and its list of
# writes waiting in it, never by a clock.

load helpers

FOUR=$MACHINES/trx40-four-gpus.txt
# each VM's GPU; its audio function is function 1
GPUS=(0000:01:00.0 0000:21:00.0 0000:41:00.0 0000:61:00.0)

teardown() {
	local p
	for p in ${PIDS:-}; do kill "$p" 2>/dev/null; done
	sim_down
}

# hooks GUEST GPU: hook-run as libvirt's qemu hook; the guest's XML names the
# GPU and its audio function; prepare binds them, release gives them back.
hooks() {
	local h=$SIMROOT/etc/libvirt/hooks a=${2%.0}.1
	mkdir -p "$h/qemu.d/$1/prepare/begin" "$h/qemu.d/$1/release/end"
	ln -sf "$BUILD/hook-run" "$h/qemu"
	printf '#!/bin/sh\nexec %s --timeout %s --domain-xml -\n' "$BUILD/vfio-bind" "${TIMEOUT:-20}" \
		>"$h/qemu.d/$1/prepare/begin/10-vfio"
	printf '#!/bin/sh\nexec %s --timeout 20 --domain-xml -\n' "$BUILD/vfio-unbind" \
		>"$h/qemu.d/$1/release/end/10-vfio"
	chmod 755 "$h/qemu.d/$1"/*/*/10-vfio
	{
		echo "<domain type='kvm'><name>$1</name><devices>"
		for d in "$2" "$a"; do
			IFS=':.' read -r dom bus slot fn <<<"$d"
			echo "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x$dom' bus='0x$bus' slot='0x$slot' function='0x$fn'/></source></hostdev>"
		done
		echo "</devices></domain>"
	} >"$BATS_TEST_TMPDIR/$1.xml"
}

# hook GUEST OP SUBOP: libvirt's call, in the background; its PID appended to PIDS.
hook_bg() {
	sim exec "$SIMROOT" -- "$SIMROOT/etc/libvirt/hooks/qemu" "$1" "$2" "$3" - \
		<"$BATS_TEST_TMPDIR/$1.xml" >"$BATS_TEST_TMPDIR/$1.$2.out" 2>"$BATS_TEST_TMPDIR/$1.$2.err" &
	PIDS="${PIDS:-} $!"
	eval "PID_$1_$2=$!"
}

four_vms() {
	local i
	for i in 0 1 2 3; do hooks vm$i "${GPUS[$i]}"; done
}

# waiting LINE CMD...: CMD in the background on the simulator, its PID in BG,
# once the simulated kernel's status has LINE: the command waits in the kernel.
waiting() {
	local line=$1
	shift
	on_sim "$@" >/dev/null 2>"$BATS_TEST_TMPDIR/bg.err" &
	BG=$!
	PIDS="${PIDS:-} $BG"
	until_status "$line"
}

# another VM's group, 41:00.0 and its audio function, to vfio-pci meanwhile
other_vm_binds() {
	run on_sim vfio-bind --timeout 5 --group 41:00.0
	assert_success
	assert_equal "$(driver_of 0000:41:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:41:00.1)" vfio-pci
}

# blocked: how many unbinds wait in the simulated kernel now.
blocked() { sim status "$SIMROOT" | grep -c '^blocked unbind ' || true; }

@test "a stuck unbind holds up only its own devices: another VM's vfio-bind goes through meanwhile, and a run on the same device waits for it, saying so" {
	sim_up "$FOUR" "fault unbind-blocks 01:00.0"
	before=$(machine_state)
	waiting "blocked unbind 0000:01:00.0" vfio-bind --timeout 30 --group 01:00.0
	first=$BG
	# another VM's group: done while the first is still in the kernel
	other_vm_binds
	alive_pid "$first"
	# the same group: it waits for the device's lock, and says whose it is
	run on_sim vfio-bind --timeout 1 01:00.1
	assert_failure 1
	assert_output "vfio-bind: 0000:01:00.1: another vfio-bind or vfio-unbind has held it for 1 s (/run/vfio-utils/dev-0000:01:00.1.lock)"
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
	alive_pid "$first"
	# let go: the first goes through, as it would have
	sim ctl "$SIMROOT" release 0000:01:00.0
	wait "$first"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:01:00.1)" vfio-pci
	# both VMs' records, none lost to the other's save
	run bash -c "grep -o '^0000:[^ ]*' \"$SIMROOT/run/vfio-utils/devices\" | sort"
	assert_output "0000:01:00.0
0000:01:00.1
0000:41:00.0
0000:41:00.1"
	run on_sim vfio-unbind --restore
	assert_success
	assert_equal "$(machine_state)" "$before"
}

@test "four VMs' prepare hooks at once through hook-run: all four unbinds are in the kernel together, and all four release hooks too" {
	sim_up "$FOUR" "fault unbind-blocks 01:00.0" "fault unbind-blocks 21:00.0" \
		"fault unbind-blocks 41:00.0" "fault unbind-blocks 61:00.0"
	four_vms
	before=$(machine_state)
	for i in 0 1 2 3; do hook_bg vm$i prepare begin; done
	# under one lock for all, only one would be in the kernel at a time
	poll 10 eval '[ "$(blocked)" = 4 ]' || fail "not all four at once: $(sim status "$SIMROOT")"
	for d in "${GPUS[@]}"; do sim ctl "$SIMROOT" release "$d"; done
	for i in 0 1 2 3; do
		eval "wait \$PID_vm${i}_prepare" || fail "vm$i: $(cat "$BATS_TEST_TMPDIR/vm$i.prepare.err")"
		assert_equal "$(driver_of "${GPUS[$i]}")" vfio-pci
		assert_equal "$(driver_of "${GPUS[$i]%.0}.1")" vfio-pci
	done
	# each release gives back its own guest's, all four at once again
	for d in "${GPUS[@]}"; do sim ctl "$SIMROOT" fault "$d" unbind-blocks; done
	for i in 0 1 2 3; do hook_bg vm$i release end; done
	poll 10 eval '[ "$(blocked)" = 4 ]' || fail "not all four at once: $(sim status "$SIMROOT")"
	for d in "${GPUS[@]}"; do sim ctl "$SIMROOT" release "$d"; done
	for i in 0 1 2 3; do
		eval "wait \$PID_vm${i}_release" || fail "vm$i: $(cat "$BATS_TEST_TMPDIR/vm$i.release.err")"
	done
	assert_equal "$(machine_state)" "$before"
}

@test "one GPU stuck: the other three VMs start while it waits, and it fails by its own deadline naming the device" {
	sim_up "$FOUR" "fault unbind-blocks 01:00.0" "fault unbind-takes 21:00.0 300" \
		"fault unbind-takes 41:00.0 300" "fault unbind-takes 61:00.0 300"
	TIMEOUT=8 four_vms
	before=$(machine_state)
	for i in 0 1 2 3; do hook_bg vm$i prepare begin; done
	for i in 1 2 3; do
		eval "wait \$PID_vm${i}_prepare" || fail "vm$i: $(cat "$BATS_TEST_TMPDIR/vm$i.prepare.err")"
		assert_equal "$(driver_of "${GPUS[$i]}")" vfio-pci
	done
	# three VMs are up while the stuck one still waits for its deadline
	alive_pid "$PID_vm0_prepare"
	if wait "$PID_vm0_prepare"; then fail "vm0 started on a stuck GPU"; fi
	run cat "$BATS_TEST_TMPDIR/vm0.prepare.err"
	assert_output --partial "vfio-bind: 0000:01:00.0: stuck: unbind from nvidia did not finish in 8 s, the kernel is still at it; left alone and still remembered"
	# the kernel lets go; the failed VM's release gives back what it took
	sim ctl "$SIMROOT" release 0000:01:00.0
	for i in 0 1 2 3; do hook_bg vm$i release end; done
	for i in 0 1 2 3; do
		eval "wait \$PID_vm${i}_release" || fail "vm$i: $(cat "$BATS_TEST_TMPDIR/vm$i.release.err")"
	done
	assert_equal "$(machine_state)" "$before"
}

@test "the vfio modules stay for a VM whose devices are on their way to vfio-pci while another VM's release would remove them" {
	sim_up "$FOUR" "fault unbind-blocks 01:00.0"
	four_vms
	before=$(machine_state)
	# vm2 started first: its vfio-bind loaded the vfio modules, and remembers so
	hook_bg vm2 prepare begin
	wait "$PID_vm2_prepare"
	grep -q '^vfio_pci ' "$SIMROOT/run/vfio-utils/loaded"
	# vm0 starts: its GPU's unbind is in the kernel, nothing of it on vfio-pci yet
	hook_bg vm0 prepare begin
	until_status "blocked unbind 0000:01:00.0"
	# vm2 stops meanwhile: its devices go back, the modules it loaded stay
	hook_bg vm2 release end
	wait "$PID_vm2_release" || fail "$(cat "$BATS_TEST_TMPDIR/vm2.release.err")"
	assert_equal "$(driver_of 0000:41:00.0)" amdgpu
	grep -q '^vfio_pci ' "$SIMROOT/proc/modules"
	# vm0's probe finds vfio-pci there
	sim ctl "$SIMROOT" release 0000:01:00.0
	wait "$PID_vm0_prepare" || fail "$(cat "$BATS_TEST_TMPDIR/vm0.prepare.err")"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:01:00.1)" vfio-pci
	# and vm0's release, the last, takes them out
	hook_bg vm0 release end
	wait "$PID_vm0_release" || fail "$(cat "$BATS_TEST_TMPDIR/vm0.release.err")"
	assert_equal "$(machine_state)" "$before"
}

@test "a huge page pool write waiting in the kernel holds up no vfio-bind: vm-hugepages keeps a lock of its own" {
	sim_up "$FOUR" "hugepages 2M pages 100"
	before=$(machine_state)
	printf "<domain type='kvm'><name>vm0</name><memory unit='MiB'>1024</memory><memoryBacking><hugepages/></memoryBacking></domain>\n" \
		>"$BATS_TEST_TMPDIR/vm0.xml"
	# the kernel's page allocator takes its time (compaction, a big pool)
	sim ctl "$SIMROOT" fault write /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages block
	waiting "held write /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages" \
		vm-hugepages reserve --domain-xml "$BATS_TEST_TMPDIR/vm0.xml"
	hp=$BG
	other_vm_binds
	alive_pid "$hp"
	# a second vm-hugepages waits for the first: pools change one run at a time
	run on_sim vm-hugepages reserve --timeout 1 --domain-xml "$BATS_TEST_TMPDIR/vm0.xml"
	assert_failure
	assert_output --partial "/run/vfio-utils/hugepages.lock: another run has held it for 1 s"
	sim ctl "$SIMROOT" release writes
	wait "$hp" || fail "$(cat "$BATS_TEST_TMPDIR/bg.err")"
	assert_equal "$(cat "$SIMROOT/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" 512
	run on_sim vm-hugepages release vm0
	assert_success
	run on_sim vfio-unbind --restore
	assert_success
	assert_equal "$(machine_state)" "$before"
}
