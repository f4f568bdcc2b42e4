#!/usr/bin/env bats
# The single-GPU screen hand-over, as the start and release hooks do it:
# dm-ctl stop; vtcon unbind; efifb unbind ... efifb bind; vtcon bind; dm-ctl start.
# Every command runs twice in a row; the machine must end as it started.

load helpers

setup() {
	PATH=$STANDINS:$PATH
}

teardown() {
	sim_down
}

run_twice() {
	on_sim "$BUILD/$1" "${@:2}"
	on_sim "$BUILD/$1" "${@:2}"
}

handover() {
	dm_boot
	before=$(screen_snapshot)
	run_twice dm-ctl stop
	run_twice vtcon unbind
	run_twice efifb unbind
	# the GPU is free: no console, no framebuffer, no display server
	during=$(screen_snapshot)
	run_twice efifb bind
	run_twice vtcon bind
	run_twice dm-ctl start
	assert_equal "$(screen_snapshot)" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils/vtcon" ] && [ ! -e "$SIMROOT/run/vfio-utils/efifb" ] && [ ! -e "$SIMROOT/run/vfio-utils/dm" ]
}

@test "an efi-framebuffer kernel: everything handed over and back, exactly" {
	sim_up $SINGLE
	handover
	assert_equal "$during" 'vtcon0 (S) dummy device bind=1
vtcon1 (M) frame buffer device bind=0
efi-framebuffer.0 driver=
reserved:
["gdm",false,[]]'
}

@test "a simple-framebuffer kernel (simpledrm): the same, BOOTFB staying as the kernel keeps it" {
	sim_up $SINGLE "framebuffer simple-framebuffer"
	handover
	assert_equal "$during" 'vtcon0 (S) dummy device bind=1
vtcon1 (M) frame buffer device bind=0
simple-framebuffer.0 driver=
reserved:BOOTFB 
["gdm",false,[]]'
}

@test "the whole start and release hooks, vfio-bind included, end as they began (Linux 5.15)" {
	sim_up $SINGLE "kernel 5.15.0-91-generic"
	dm_boot
	before=$(screen_snapshot; sim_snapshot)
	for c in "dm-ctl stop" "vtcon unbind" "efifb unbind" "vfio-bind --group 09:00.0"; do
		on_sim $BUILD/$c >/dev/null
	done
	for c in "vfio-unbind --restore --unload-vfio" "efifb bind" "vtcon bind" "dm-ctl start"; do
		on_sim $BUILD/$c >/dev/null
	done
	assert_equal "$(screen_snapshot; sim_snapshot)" "$before"
}
