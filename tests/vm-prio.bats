#!/usr/bin/env bats
# vm-prio on the simulator's sysroot: /proc/PID is the real process, so the
# domain's "QEMU" is build/vcpus, a process of this test with threads named
# as QEMU names its vCPU threads; the kernel's answer is read from its /proc.

load helpers

teardown() {
	[ -n "${VCPUS:-}" ] && kill "$VCPUS" 2>/dev/null
	sim_down
}

vp() { on_sim "$BUILD/vm-prio" "$@"; }

# qemu DOMAIN N: a QEMU with N vCPU threads that libvirt runs DOMAIN in, its
# pid file written and locked as libvirt's QEMU holds it.
qemu() {
	mkdir -p "$SIMROOT/run/libvirt/qemu"
	"$BUILD/vcpus" "$2" KVM "$SIMROOT/run/libvirt/qemu/$1.pid" >"$BATS_TEST_TMPDIR/pid" &
	until [ -s "$BATS_TEST_TMPDIR/pid" ]; do sleep 0.05; done
	VCPUS=$(cat "$BATS_TEST_TMPDIR/pid")
}

# threads: each thread's name, nice, real-time priority and policy, as the kernel has them.
threads() {
	local t
	for t in /proc/$VCPUS/task/*; do
		printf '%s %s\n' "$(cat "$t/comm")" "$(sed 's/.*) //' "$t/stat" | awk '{ print $17, $38, $39 }')"
	done | sort
}

@test "set renices the vCPU threads and nothing else; reset puts back what they had" {
	sim_up $SINGLE
	qemu win10 3
	before=$(threads)
	run vp set --domain-xml - <<<"<domain><name>win10</name></domain>"
	assert_success
	assert_output "win10: 3 vCPU threads at nice -10"
	run threads
	assert_line "CPU 0/KVM -10 0 0"
	assert_line "CPU 2/KVM -10 0 0"
	assert_line "vcpus 0 0 0"
	run vp --json
	assert_equal "$(jq -c '[.domains[] | .domain, [.vcpus[] | .vcpu, .nice]]' <<<"$output")" '["win10",[0,-10,1,-10,2,-10]]'
	run vp set --fifo 7 win10
	assert_success
	run threads
	assert_line "CPU 1/KVM -10 7 1"
	# what they had before the first set is what comes back
	run vp reset win10
	assert_success
	assert_output "win10: 3 vCPU threads back to other, nice 0"
	assert_equal "$(threads)" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils/prio" ]
}

@test "reset after QEMU is gone forgets; set on a domain that does not run fails, naming it" {
	sim_up $SINGLE
	qemu win10 1
	vp set --nice 5 win10
	kill "$VCPUS"
	wait "$VCPUS" 2>/dev/null || true
	run vp reset win10
	assert_success
	assert_output "win10: its QEMU is gone, and its threads' priority with it"
	[ ! -e "$SIMROOT/run/vfio-utils/prio" ]
	run --separate-stderr vp set win10
	assert_failure 1
	assert_equal "$stderr" "vm-prio: win10: not running (no QEMU in /run/libvirt/qemu): set it in the started hook"
}

@test "-n: the renice and chrt lines, nothing changed; usage errors" {
	sim_up $SINGLE
	qemu w 2
	before=$(threads)
	run vp -n set w
	assert_success
	assert_line "renice -n -10 -p $(grep -l '^CPU 0/KVM$' /proc/"$VCPUS"/task/*/comm | cut -d/ -f5)"
	run vp -n set --fifo 2 w
	assert_line --regexp "^chrt -f -p 2 [0-9]+$"
	assert_equal "$(threads)" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils/prio" ]
	run vp set --nice 20 w
	assert_failure 2
	run vp set --nice 1 --fifo 1 w
	assert_failure 2
	run vp reset --fifo 1 w
	assert_failure 2
	run vp set
	assert_failure 2
}

@test "status with no domain running says so, and --json lists none" {
	sim_up $SINGLE
	run vp
	assert_success
	assert_output "no domain runs (no QEMU in /run/libvirt/qemu)"
	run vp --json
	assert_equal "$(jq -c .domains <<<"$output")" "[]"
}
