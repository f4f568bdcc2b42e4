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

# agent_xml [none|swap|ignore]: the domain, with the agent's channel unless
# "none"; with "swap", a disk the guest swaps and hibernates to; with
# "ignore", a guest that does not sleep when its agent is asked to.
agent_xml() {
	local channel="<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>" disk= extra=
	[ "${1:-}" = none ] && channel=
	[ "${1:-}" = ignore ] && extra=" vu.ignore-sleep"
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
    <cmdline>console=ttyS0 quiet panic=-1$extra</cmdline>
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
# with the helpers of tests/lib/agent-guest, and python3-dbusmock's logind on
# a private bus (tests/lib/mock-logind) for vm-nosleep's watcher.
guest() {
	with-libvirtd "$BATS_TEST_TMPDIR/hooks" -- env CONSOLE="$CONSOLE" XML="$BATS_TEST_TMPDIR/agent.xml" \
		LOGIND="$BATS_TEST_TMPDIR/logind" \
		bash -c ". '$TESTS/lib/agent-guest' && . '$TESTS/lib/mock-logind' && trap mock_logind_stop EXIT &&
			mock_logind \"\$LOGIND\" && v define \"\$XML\" >/dev/null && $1"
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

# The watcher (vm-nosleep watch, what hold's unit runs with a policy) beside
# the guest, its journal in WATCHLOG: watch ARGS... starts it in the
# background (WATCHER its PID).
WATCH_HELPERS='
	watch() { vm-nosleep watch "$@" vu-agent >>"$WATCHLOG" 2>&1 & WATCHER=$!; }
	said() { grep -o "$1.*" "$WATCHLOG" | tail -1; }'

@test "watch --on-sleep suspend: a delay lock while the agent is connected; at the host's sleep the guest suspends (its kernel counts it) and the lock goes; at resume it runs again and the lock is back; kill -9 takes every lock with it" {
	agent_xml
	export WATCHLOG=$BATS_TEST_TMPDIR/watch.log
	run guest "$WATCH_HELPERS"'
		v start vu-agent >/dev/null && ready || exit 1
		watch --on-sleep suspend --on-shutdown shutdown
		wait_lock "^sleep vfio-utils delay the VM \"vu-agent\" suspends first$" || exit 1
		wait_lock "^shutdown vfio-utils delay the VM \"vu-agent\" shuts down first$" || exit 1
		echo "before: $(tick)"
		said "host sleep "
		logind_signal PrepareForSleep true || exit 1
		wait_for pmsuspended 10 || exit 1
		wait_no_lock "^sleep " || exit 1
		echo "locks asleep: $(inhibitors | cut -d" " -f1,3 | tr "\n" ";")"
		a=$(tick); sleep 2; b=$(tick); echo "asleep: $a, 2 s later $b"
		logind_signal PrepareForSleep false || exit 1
		wait_for running 10 || exit 1
		wait_lock "^sleep vfio-utils delay " || exit 1
		sleep 2; echo "after: $(tick)"
		kill -9 $WATCHER; wait $WATCHER
		wait_no_lock vfio-utils || exit 1
		echo "killed: no lock"
		said "guest suspended"; said "guest running again"
		v destroy vu-agent >/dev/null'
	echo "$output" | grep -E " ms after " | sed 's/^/# /' >&3
	cat "$WATCHLOG" >&2 || true
	assert_success
	assert_line "host sleep delayed until the guest suspends; host shutdown delayed until the guest shuts down"
	assert_line "locks asleep: shutdown delay;"
	assert_line --regexp '^before: [0-9]+ 0$'
	assert_line --regexp '^after: [0-9]+ 1$'
	a=$(sed -n 's/^asleep: \(.*\), 2 s later \(.*\)$/\1/p' <<<"$output")
	b=$(sed -n 's/^asleep: \(.*\), 2 s later \(.*\)$/\2/p' <<<"$output")
	assert_equal "$a" "$b"
	assert_line "killed: no lock"
	assert_line --regexp '^guest suspended [0-9]+ ms after the host.s signal: the host may sleep$'
	assert_line --regexp '^guest running again [0-9]+ ms after the host.s resume$'
}

@test "watch without an agent channel: a block lock naming the VM, no shutdown lock; a sleep forced past it pauses the guest (nothing destroyed) and resume runs it again; a --wait past logind's delay is cut, with the drop-in that raises it" {
	agent_xml none
	export WATCHLOG=$BATS_TEST_TMPDIR/watch.log
	run guest "$WATCH_HELPERS"'
		v start vu-agent >/dev/null && booted || exit 1
		watch --on-sleep suspend --on-shutdown hibernate --wait 30
		wait_lock "^sleep vfio-utils block the VM \"vu-agent\" is running and its guest agent is not connected$" || exit 1
		sleep 1; echo "locks: $(inhibitors | cut -d" " -f1,3 | tr "\n" ";")"
		said "host sleep "
		logind_signal PrepareForSleep true || exit 1
		wait_for paused 10 || exit 1
		logind_signal PrepareForSleep false || exit 1
		wait_for running 10 || exit 1
		wait_lock "^sleep vfio-utils block " || exit 1
		said "host going to sleep past"; said "host back"; said "warning: "
		v destroy vu-agent >/dev/null'
	cat "$WATCHLOG" >&2 || true
	assert_success
	# more time than logind gives a delay lock (the template says nothing: 5 s)
	assert_line "warning: vu-agent: logind waits 5000 ms for a delay lock: the guest gets 4500 ms, not 30 s; for more: vm-nosleep delay 31, then systemctl restart systemd-logind"
	assert_line "locks: sleep block;"
	assert_line "host sleep blocked; host shutdown not delayed (no guest agent channel)"
	assert_line "host going to sleep past the block lock: guest paused (its vCPUs stopped) until the host is back"
	assert_line "host back: guest resumed"
}

@test "watch: a guest that ignores the request is paused at its deadline (not destroyed), the lock let go; the host back, it runs again" {
	agent_xml ignore
	export WATCHLOG=$BATS_TEST_TMPDIR/watch.log
	run guest "$WATCH_HELPERS"'
		v start vu-agent >/dev/null && ready || exit 1
		grep -q "vu-agent: ignoring sleep requests" "$CONSOLE" || exit 1
		watch --on-sleep suspend --wait 2
		wait_lock "^sleep vfio-utils delay " || exit 1
		t=$(now); logind_signal PrepareForSleep true || exit 1
		sleep 1; echo "at 1 s: $(v domstate vu-agent), $(inhibitors | cut -d" " -f1,3 | tr "\n" ";")"
		wait_for paused 5 || exit 1; echo "paused after $(ms $t) ms"
		wait_no_lock "^sleep " || exit 1
		logind_signal PrepareForSleep false || exit 1
		wait_for running 10 || exit 1
		wait_lock "^sleep vfio-utils delay " || exit 1
		said "guest not suspended"
		v destroy vu-agent >/dev/null'
	cat "$WATCHLOG" >&2 || true
	echo "$output" | grep -E "^paused after" | sed 's/^/# /' >&3
	assert_success
	assert_line "at 1 s: running, sleep delay;"
	assert_line --regexp '^guest not suspended within 2000 ms( \(libvirt: .*\))?: guest paused \(its vCPUs stopped\) until the host is back$'
	ms=$(sed -n 's/^paused after \([0-9]*\) ms$/\1/p' <<<"$output")
	((ms >= 2000 && ms < 4000))
}

@test "watch --on-shutdown hibernate: at the host's shutdown the guest hibernates to its disk, shut off before the lock goes; the watcher ends" {
	agent_xml swap
	export WATCHLOG=$BATS_TEST_TMPDIR/watch.log
	run guest "$WATCH_HELPERS"'
		v start vu-agent >/dev/null && ready || exit 1
		watch --on-shutdown hibernate
		wait_lock "^shutdown vfio-utils delay the VM \"vu-agent\" hibernates first$" || exit 1
		echo "locks: $(inhibitors | cut -d" " -f1,3 | tr "\n" ";")"
		logind_signal PrepareForShutdown true || exit 1
		wait $WATCHER; echo "watcher: exit $?, $(v domstate --reason vu-agent), locks: $(inhibitors | wc -l)"
		said "guest shut off"'
	cat "$WATCHLOG" >&2 || true
	echo "$output" | grep -E " ms after " | sed 's/^/# /' >&3
	assert_success
	assert_line "locks: sleep block;shutdown delay;"
	assert_line "watcher: exit 0, shut off (shutdown), locks: 0"
	assert_line --regexp '^guest shut off [0-9]+ ms after the host.s signal: the host goes on$'
	grep -q "vu-agent: swap on vda" "$CONSOLE"
}
