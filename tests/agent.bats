#!/usr/bin/env bats
# A real guest agent in a real guest, for the host-sleep work (the libvirt
# hooks' dosleep and dohibernate): Debian's kernel and QEMU's guest agent in
# a small initramfs (tests/vm/vm agent), started by a real libvirtd beside
# the host (tests/lib/with-libvirtd: a private mount namespace, TCG, no
# disk), not in the nested guest. What is checked is libvirt's state and the
# guest kernel's own count of suspends, which its console prints each second:
# a guest that was only paused would not count one.

load helpers

VM=$TESTS/vm/vm

setup() {
	require_libvirt
	[ "$(id -u)" = 0 ] || skip "LIBVIRT UNAVAILABLE: needs root"
	[ -s "${VU_VM_CACHE:-/var/cache/vfio-utils/vm}/kernels/list" ] || "$VM" fetch >/dev/null 2>&1
	AGENT=$("$VM" agent) || skip "REAL KERNELS UNAVAILABLE: no agent guest (tests/vm/vm agent)"
	mkdir -p "$BATS_TEST_TMPDIR/hooks"
	CONSOLE=$BATS_TEST_TMPDIR/console.log
}

# agent_xml [none|swap]: the domain, with the agent's channel unless "none";
# with "swap", a disk the guest swaps and hibernates to.
agent_xml() {
	local channel="<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>" disk=
	[ "${1:-}" = none ] && channel=
	if [ "${1:-}" = swap ]; then
		truncate -s 256M "$BATS_TEST_TMPDIR/swap.img"
		disk="<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$BATS_TEST_TMPDIR/swap.img'/><target dev='vda' bus='virtio'/></disk>"
	fi
	cat >"$BATS_TEST_TMPDIR/agent.xml" <<XML
<domain type='qemu'>
  <name>vu-agent</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$AGENT/vmlinuz</kernel>
    <initrd>$AGENT/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <features><acpi/></features>
  <pm><suspend-to-mem enabled='yes'/><suspend-to-disk enabled='yes'/></pm>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='$CONSOLE' append='on'/></serial>
    $channel
    $disk
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

# guest SCRIPT: SCRIPT (bash) beside a libvirtd that has the domain defined,
# with the helpers of tests/lib/agent-guest.
guest() {
	with-libvirtd "$BATS_TEST_TMPDIR/hooks" -- env CONSOLE="$CONSOLE" XML="$BATS_TEST_TMPDIR/agent.xml" \
		bash -c ". '$TESTS/lib/agent-guest' && v define \"\$XML\" >/dev/null && $1"
}

@test "dompmsuspend puts the guest to sleep through its agent (its kernel counts the suspend); dompmwakeup brings it back" {
	agent_xml
	run guest '
		v start vu-agent >/dev/null && ready || exit 1
		echo "before: $(tick)"
		t=$(now); v dompmsuspend vu-agent --target mem || exit 1
		wait_for pmsuspended 10 || exit 1; echo "suspended in $(ms $t) ms"
		a=$(tick); sleep 3; b=$(tick)
		echo "asleep: $a, 3 s later $b"
		t=$(now); v dompmwakeup vu-agent || exit 1
		wait_for running 10 || exit 1; ready || exit 1; echo "running, agent answering, in $(ms $t) ms"
		sleep 2; echo "after: $(tick)"
		v destroy vu-agent >/dev/null'
	echo "$output" | grep " ms$" | sed 's/^/# /' >&3
	assert_success
	assert_line --regexp '^before: [0-9]+ 0$'
	# no tick while asleep: the guest's clock did not run
	a=$(sed -n 's/^asleep: \(.*\), 3 s later \(.*\)$/\1/p' <<<"$output")
	b=$(sed -n 's/^asleep: \(.*\), 3 s later \(.*\)$/\2/p' <<<"$output")
	[ -n "$a" ]
	assert_equal "$a" "$b"
	# after: later ticks, and the one suspend the guest kernel completed
	assert_line --regexp '^after: [0-9]+ 1$'
	(($(awk '/^after:/ { print $2 }' <<<"$output") > ${a% *}))
}

@test "without an agent channel libvirt cannot put the guest to sleep: dompmsuspend fails, the guest runs on" {
	agent_xml none
	run guest '
		v start vu-agent >/dev/null || exit 1
		booted || exit 1
		v dompmsuspend vu-agent --target mem 2>&1; echo "rc $?"
		echo "state $(v domstate vu-agent) $(tick)"
		v destroy vu-agent >/dev/null'
	assert_success
	assert_line "rc 1"
	assert_output --partial "QEMU guest agent is not configured"
	assert_line --regexp "^state running [0-9]+ 0$"
}

@test "dompmsuspend --target disk: the guest hibernates to its swap and is shut off; started again, it comes back where it was" {
	agent_xml swap
	run guest '
		v start vu-agent >/dev/null && ready || exit 1
		sleep 1; echo "before: $(tick)"
		t=$(now); v dompmsuspend vu-agent --target disk || exit 1
		wait_for "shut off" 60 || exit 1; echo "hibernated, shut off, in $(ms $t) ms"
		echo "reason: $(v domstate --reason vu-agent)"
		t=$(now); v start vu-agent >/dev/null || exit 1
		for _ in $(seq 600); do v qemu-agent-command vu-agent "{\"execute\":\"guest-ping\"}" >/dev/null 2>&1 && break; sleep 0.1; done
		echo "resumed, agent answering, in $(ms $t) ms"
		sleep 2; echo "after: $(tick)"
		v destroy vu-agent >/dev/null'
	echo "$output" | grep " ms$" | sed 's/^/# /' >&3
	assert_success
	assert_line "reason: shut off (shutdown)"
	# one boot: the second start restored the image, it did not boot again
	assert_equal "$(grep -c 'vu-agent: ready' "$CONSOLE")" 1
	grep -q "vu-agent: swap on vda" "$CONSOLE"
	# its ticks went on from where they were
	before=$(awk '/^before:/ { print $2 }' <<<"$output")
	after=$(awk '/^after:/ { print $2 }' <<<"$output")
	((after > before))
}
