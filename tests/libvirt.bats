#!/usr/bin/env bats
# hook-run as the qemu hook of a real libvirtd running a small QEMU domain
# (no disk, VNC on 127.0.0.1, TCG), in a private mount namespace
# (tests/lib/with-libvirtd): the host's libvirt configuration is not touched.

load helpers

setup() {
	require_libvirt
	[ "$(id -u)" = 0 ] || skip "LIBVIRT UNAVAILABLE: needs root"
	HOOKS=$BATS_TEST_TMPDIR/hooks
	EV=$BATS_TEST_TMPDIR/events
	mkdir -p "$HOOKS"
	ln -s "$BUILD/hook-run" "$HOOKS/qemu"
}

# A script for EVENT that records its arguments and the XML it was given.
recorder() {
	local dir=$HOOKS/qemu.d/vu-test/$1/$2
	mkdir -p "$dir"
	printf '#!/bin/sh\necho "$*" >>"%s"\ncat >"%s.%s"\n%s\n' "$EV" "$EV" "$1" "${3:-}" >"$dir/10-record"
	chmod 755 "$dir/10-record"
}

libvirt() {
	with-libvirtd "$HOOKS" -- bash -c "virsh -q -c qemu:///system define '$TEST_DOMAIN' >/dev/null && $1"
}

@test "libvirtd calls hook-run for each event, in order, with the domain XML on stdin" {
	for e in "prepare begin" "start begin" "started begin" "stopped end" "release end"; do
		recorder $e
	done
	hooks_before=$(ls -la /etc/libvirt/hooks 2>&1)
	run libvirt "virsh -q -c qemu:///system start vu-test && virsh -q -c qemu:///system destroy vu-test"
	assert_success
	run cat "$EV"
	assert_output "vu-test prepare begin -
vu-test start begin -
vu-test started begin -
vu-test stopped end -
vu-test release end -"
	for op in prepare start started stopped release; do
		grep -q "<name>vu-test</name>" "$EV.$op"
	done
	# the host is as it was: its hooks directory, no daemon left
	assert_equal "$(ls -la /etc/libvirt/hooks 2>&1)" "$hooks_before"
	run bash -c "pgrep -x libvirtd | while read -r p; do [ \"\$(awk '{ print \$3 }' /proc/\$p/stat)\" = Z ] || echo \$p; done"
	assert_output ""
}

@test "a failing prepare script fails virsh start with its message; libvirt then runs the release scripts" {
	recorder prepare begin 'echo "vfio-bind: 0000:01:00.0: no IOMMU group" >&2; exit 1'
	recorder stopped end
	recorder release end
	recorder start begin
	run libvirt "virsh -q -c qemu:///system start vu-test"
	assert_failure
	assert_output --partial "vfio-bind: 0000:01:00.0: no IOMMU group"
	run cat "$EV"
	assert_output "vu-test prepare begin -
vu-test stopped end -
vu-test release end -"
}

@test "hook-run check asks the real daemon: the defined domain is known, a typo is not" {
	recorder prepare begin
	mkdir -p "$HOOKS/qemu.d/vu-tset/prepare/begin"
	cp "$HOOKS/qemu.d/vu-test/prepare/begin/10-record" "$HOOKS/qemu.d/vu-tset/prepare/begin/"
	run libvirt "hook-run check"
	assert_failure 1
	assert_line "qemu.d/vu-tset: no such domain at qemu:///system (a typo? the name is case-sensitive)"
	refute_line --partial "qemu.d/vu-test:"
	assert_line --index -1 "1 problem"
}

@test "vm-prio in the started hook proves libvirt's own QEMU by its locked pid file, and renices its vCPU threads alone" {
	# what libvirt holds while QEMU runs, and what vm-prio makes of it
	recorder started begin "{ grep -c . /proc/locks; cat /run/libvirt/qemu/vu-test.pid; echo; $BUILD/vm-prio set --domain-xml '$EV.started'; echo \"exit \$?\"; $BUILD/vm-prio --json; } >'$EV.prio' 2>&1"
	recorder release end "$BUILD/vm-prio reset vu-test >>'$EV.prio' 2>&1"
	run libvirt "virsh -q -c qemu:///system start vu-test && virsh -q -c qemu:///system destroy vu-test"
	assert_success
	run cat "$EV.prio"
	assert_line "vu-test: 1 vCPU threads at nice -10"
	assert_line "exit 0"
	pid=$(sed -n 2p "$EV.prio")
	assert_equal "$(grep '^{' "$EV.prio" | jq -c --argjson p "$pid" '[.domains[] | .domain, .pid == $p, [.vcpus[] | .vcpu, .nice]]')" '["vu-test",true,[0,-10]]'
	assert_line "vu-test: its QEMU is gone, and its threads' priority with it"
}
