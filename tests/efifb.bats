#!/usr/bin/env bats
# efifb on the kernel simulator.

load helpers

teardown() {
	sim_down
}

efifb() { on_sim "$BUILD/efifb" "$@"; }
fb_driver() { basename "$(readlink "$SIMROOT/sys/bus/platform/devices/$1/driver" 2>/dev/null)" 2>/dev/null || true; }

@test "status: the framebuffer, its driver, and the range it holds in the GPU's BAR, with what fails and when" {
	sim_up $SINGLE "kernel 5.15.0-91-generic"
	run efifb
	assert_success
	assert_line --index 0 "efi-framebuffer.0: bound to efi-framebuffer"
	assert_line --index 1 --regexp "^efifb reserves [0-9a-f]+-[0-9a-f]+ in BAR 1 of 0000:09:00.0: QEMU will fail to map that BAR \\(\"BAR 1: can't reserve\"\\) while it is there: 'efifb unbind' releases it$"
	run efifb status --json
	assert_output --regexp '^\{"schema":1,"command":"efifb","framebuffers":\[\{"name":"efi-framebuffer.0","driver":"efi-framebuffer","gpu":null\}\],"reservations":\[\{"name":"efifb","range":"[0-9a-f-]+","gpu":"0000:09:00.0","bar":1,"release":"unbind"\}\],"errors":\[\],"warnings":\[\],"ok":true\}$'
	sim_down
	# simpledrm's BOOTFB: unbinding does not release it; 6.0 and later release it with the GPU
	sim_up $SINGLE "kernel 5.15.0-91-generic" "framebuffer simple-framebuffer"
	run efifb
	assert_line --index 1 --partial "BOOTFB reserves "
	assert_line --index 1 --partial "until a reboot with initcall_blacklist=sysfb_init: unbinding the framebuffer does not release it"
	assert_equal "$(efifb --json | jq -r '.reservations[0] | "\(.name) \(.release)"')" "BOOTFB reboot"
	sim_down
	sim_up $SINGLE "kernel 6.1.0-13-amd64" "framebuffer simple-framebuffer"
	run efifb
	assert_line --index 1 --partial "unless vfio-pci takes the GPU, which releases it (Linux 6.0 and later)"
	assert_equal "$(efifb --json | jq -r '.reservations[0] | "\(.name) \(.release)"')" "BOOTFB vfio-pci"
}

@test "unbind and bind --json: each framebuffer, its driver after, its result; -n --json plans" {
	sim_up $SINGLE
	run efifb -n --json unbind
	assert_success
	assert_equal "$(jq -c '[.framebuffers[] | [.name, .driver, .result]], (.plan | length)' <<<"$output")" \
		$'[["efi-framebuffer.0","efi-framebuffer","planned"]]\n1'
	assert_equal "$(fb_driver efi-framebuffer.0)" efi-framebuffer
	run efifb --json unbind
	assert_success
	assert_equal "$(jq -c '[.framebuffers[] | [.name, .driver, .result]], .ok' <<<"$output")" \
		$'[["efi-framebuffer.0",null,"unbound"]]\ntrue'
	assert_equal "$(fb_driver efi-framebuffer.0)" ""
	run efifb --json bind
	assert_equal "$(jq -c '[.framebuffers[] | [.name, .driver, .result]]' <<<"$output")" \
		'[["efi-framebuffer.0","efi-framebuffer","bound"]]'
	assert_equal "$(fb_driver efi-framebuffer.0)" efi-framebuffer
}

@test "unbind releases it and its memory, remembers, and binds back; each twice is nothing to do" {
	sim_up $SINGLE
	run efifb unbind
	assert_success
	assert_output "efi-framebuffer.0: unbound from efi-framebuffer"
	assert_equal "$(fb_driver efi-framebuffer.0)" ""
	run grep -c ' : efifb$' "$SIMROOT/proc/iomem"
	assert_output 0
	run efifb unbind
	assert_output "the firmware framebuffer is not bound: nothing to unbind"
	run efifb bind
	assert_success
	assert_output "efi-framebuffer.0: bound to efi-framebuffer"
	assert_equal "$(fb_driver efi-framebuffer.0)" efi-framebuffer
	run efifb bind
	assert_output "no framebuffer remembered: nothing to bind"
}

@test "simple-framebuffer kernels: found and handled where the guides' efi-framebuffer.0 fails" {
	sim_up $SINGLE "framebuffer simple-framebuffer"
	run efifb unbind
	assert_success
	assert_output "simple-framebuffer.0: unbound from simple-framebuffer"
	run efifb bind
	assert_output "simple-framebuffer.0: bound to simple-framebuffer"
	assert_equal "$(fb_driver simple-framebuffer.0)" simple-framebuffer
}

@test "vesa-framebuffer too" {
	sim_up $SINGLE "framebuffer vesa-framebuffer"
	run efifb unbind
	assert_output "vesa-framebuffer.0: unbound from vesa-framebuffer"
}

@test "no firmware framebuffer at all: success, with a note" {
	sim_up $SINGLE "framebuffer none"
	run efifb
	assert_output "no firmware framebuffer (a GPU driver took over, or the kernel made none)"
	run efifb unbind
	assert_success
	assert_output "no firmware framebuffer: nothing to unbind"
}

@test "gone after vfio-pci took the GPU (Linux 6.0+): bind says why, and that is not a failure" {
	sim_up $SINGLE "kernel 6.1.0-13-amd64"
	efifb unbind
	on_sim vfio-bind --group 09:00.0 >/dev/null
	[ ! -e "$SIMROOT/sys/bus/platform/devices/efi-framebuffer.0" ]
	on_sim vfio-unbind --restore >/dev/null
	run efifb bind
	assert_success
	assert_output "efi-framebuffer.0: gone (the kernel removed it, as it does when vfio-pci takes its GPU): the console comes back with the GPU's own driver"
	[ ! -e "$SIMROOT/run/vfio-utils/efifb" ]
}

@test "rebinding fails: reported, exit 1, still remembered for the next try" {
	sim_up $SINGLE
	efifb unbind
	sim ctl "$SIMROOT" fault write /sys/bus/platform/drivers/efi-framebuffer/bind EBUSY once
	run efifb bind
	assert_failure 1
	assert_output "efifb: efi-framebuffer.0: bind to efi-framebuffer failed: Device or resource busy"
	run efifb bind
	assert_success
	assert_equal "$(fb_driver efi-framebuffer.0)" efi-framebuffer
}

@test "--dry-run prints the write and changes nothing" {
	sim_up $SINGLE
	run efifb unbind --dry-run
	assert_output "echo efi-framebuffer.0 > $SIMROOT/sys/bus/platform/drivers/efi-framebuffer/unbind"
	assert_equal "$(fb_driver efi-framebuffer.0)" efi-framebuffer
	[ ! -e "$SIMROOT/run/vfio-utils" ]
}

@test "usage errors" {
	run "$BUILD/efifb" unbind bind
	assert_failure 2
	assert_line --index 0 "efifb: bind: one command at a time"
	run "$BUILD/efifb" --version
	assert_output --regexp '^efifb \(vfio-utils\) '
}
