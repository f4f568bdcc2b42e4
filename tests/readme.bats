#!/usr/bin/env bats
# Every command README.md's guide shows runs, in order, on the machine the guide
# is about (seed 002's single-GPU machine), simulated; the rehearsal leaves the
# machine as it found it.

load helpers

setup() {
	PATH=$STANDINS:$PATH
}

teardown() {
	sim_down
}

# The guide's commands, but for restarting libvirt's daemon and starting the
# VM: the real-kernel tier runs those with a real systemd and libvirtd
# (tests/vm/guest/cycle).
guide_commands() {
	sed -n '/^<!-- guide -->$/,/^<!-- \/guide -->$/p' "$TOP/README.md" | sed -n 's/^ *\$ //p' |
		grep -v '^systemctl restart libvirtd$\|^virsh start '
}

@test "the guide shows commands, and each runs as shown" {
	# libvirt's dumpxml of the domain the guide describes (vfio-audit asks a
	# real libvirtd in libvirt-sim.bats)
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	printf '#!/bin/sh\n[ "$*" = "dumpxml win10" ] && exec cat %s\nexit 1\n' "$FIXTURES/win10.xml" >"$BATS_TEST_TMPDIR/bin/virsh"
	chmod 755 "$BATS_TEST_TMPDIR/bin/virsh"
	PATH=$BATS_TEST_TMPDIR/bin:$PATH
	sim_up $SINGLE "kernel 5.15.0-91-generic"
	dm_boot
	before=$(sim_snapshot; screen_snapshot)
	[ "$(guide_commands | wc -l)" -ge 10 ]
	while read -r line; do
		run on_sim bash -c "$line"
		[ "$status" -eq 0 ] || { echo "'$line' failed:"; echo "$output"; false; }
	done < <(guide_commands)
	[ -x "$SIMROOT/etc/libvirt/hooks/qemu.d/win10/prepare/begin/50-vfio-utils" ]
	assert_equal "$(sim_snapshot; screen_snapshot)" "$before"
}

# The Nth ```sh block of the guide, commands only (comments cut).
quoted_script() {
	sed -n '/^<!-- guide -->$/,/^<!-- \/guide -->$/p' "$TOP/README.md" |
		awk -v want="$1" '/^ *```sh$/ { n++; inside = 1; next } /^ *```$/ { inside = 0 }
			inside && n == want { sub(/#.*/, ""); gsub(/^ +| +$/, ""); print }'
}

written_script() {
	grep -v '^#\|^set \|^export ' "$SIMROOT/etc/libvirt/hooks/qemu.d/win10/$1/50-vfio-utils" | sed 's|^.*/||'
}

@test "the scripts the guide quotes are what hook-run new writes" {
	sim_up $SINGLE
	on_sim hook-run new win10 >/dev/null
	assert_equal "$(quoted_script 1)" "$(written_script prepare/begin)"
	assert_equal "$(quoted_script 2)" "$(written_script release/end)"
}

@test "the quick start: make demo runs the cycle to its verdict, and make install still works after it" {
	run make -s -C "$TOP" demo
	assert_success
	assert_line "Every VM started and stopped; every device, console, framebuffer and the display manager are as they began."
	# the demo's hook tree (qemu.d) lies in build/, where make looks for *.d files
	run make -s -C "$TOP" -n install DESTDIR="$BATS_TEST_TMPDIR/stage"
	assert_success
}
