#!/usr/bin/env bats
# vtcon on the kernel simulator.

load helpers

teardown() {
	sim_down
}

vtcon() { on_sim "$BUILD/vtcon" "$@"; }

@test "list: index, bound, kind, name; --json" {
	sim_up $SINGLE
	run vtcon
	assert_success
	# fbcon holds the VTs: the dummy console is bound to none of them
	assert_output $'vtcon0   unbound (S) dummy device\nvtcon1   bound   (M) frame buffer device'
	run vtcon list --json
	assert_output '{"schema":1,"command":"vtcon","consoles":[{"name":"vtcon0","index":0,"bound":false,"system":true,"description":"dummy device"},{"name":"vtcon1","index":1,"bound":true,"system":false,"description":"frame buffer device"}],"errors":[],"warnings":[],"ok":true}'
}

@test "unbind and bind --json: each console and its result; -n --json: the plan, nothing changed" {
	sim_up $SINGLE
	run vtcon -n --json unbind
	assert_success
	assert_equal "$(jq -c '[.consoles[] | [.name, .result]], .plan, .ok' <<<"$output")" \
		"[[\"vtcon1\",\"planned\"]]"$'\n'"[\"echo 0 > $SIMROOT/sys/class/vtconsole/vtcon1/bind\"]"$'\ntrue'
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon1/bind")" 1
	run vtcon --json unbind
	assert_success
	assert_equal "$(jq -c '[.consoles[] | [.name, .bound, .result]], has("plan")' <<<"$output")" \
		$'[["vtcon1",false,"unbound"]]\nfalse'
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon1/bind")" 0
	run vtcon --json bind
	assert_success
	assert_equal "$(jq -c '[.consoles[] | [.name, .bound, .result]]' <<<"$output")" '[["vtcon1",true,"bound"]]'
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon1/bind")" 1
	run vtcon --json --all bind
	assert_equal "$(jq -c '[.consoles[] | .result]' <<<"$output")" '["already bound"]'
}

@test "a refused bind --json: the error in the document, ok false, exit 1, the record kept" {
	sim_up $SINGLE
	vtcon unbind
	sim ctl "$SIMROOT" fault write /sys/class/vtconsole/vtcon1/bind EIO
	run --separate-stderr vtcon --json bind
	assert_failure 1
	assert_equal "$(jq -c '[.consoles[] | .result], .ok, (.errors | length)' <<<"$output")" $'["failed"]\nfalse\n1'
	jq -e '.errors[0] | test("vtcon1.*cannot write bind")' <<<"$output"
	[[ "$stderr" == *"vtcon1 (frame buffer device): cannot write bind"* ]]
	run cat "$SIMROOT/run/vfio-utils/vtcon"
	assert_line "frame_buffer_device was=vtcon1"
}

@test "unbind: the (M) console only, read back, remembered by name; twice is nothing to do" {
	sim_up $SINGLE
	run vtcon unbind
	assert_success
	assert_output "vtcon1 (frame buffer device): unbound"
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon1/bind")" 0
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon0/bind")" 1
	run vtcon unbind
	assert_success
	assert_output "no bound framebuffer console: nothing to unbind"
	run cat "$SIMROOT/run/vfio-utils/vtcon"
	assert_line "frame_buffer_device was=vtcon1"
	run vtcon bind
	assert_success
	assert_output "vtcon1 (frame buffer device): bound"
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon1/bind")" 1
	run vtcon bind
	assert_output "no console remembered: nothing to bind"
}

@test "a console by name, not index: the framebuffer console at vtcon2 (the guides' vtcon1 is wrong)" {
	sim_up $SINGLE "console bound (S) dummy device" "console bound (S) VGA+" "console bound (M) frame buffer device"
	run vtcon unbind
	assert_success
	assert_output "vtcon2 (frame buffer device): unbound"
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon1/bind")" 1
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon2/bind")" 0
}

@test "only (S) consoles: nothing to unbind, the system consoles untouched" {
	sim_up $SINGLE "console bound (S) dummy device" "framebuffer none" "driver 09:00.0 none"
	run vtcon unbind
	assert_success
	assert_output "no bound framebuffer console: nothing to unbind"
}

@test "no vtconsole directory: an empty list, nothing to do" {
	sim_up $SINGLE "console none"
	run vtcon list
	assert_success
	assert_output "vtcon: warning: no virtual terminal consoles (no /sys/class/vtconsole)"
	run vtcon unbind
	assert_success
}

@test "a console that stays bound after the write: reported, exit 1, not remembered" {
	sim_up $SINGLE
	sim ctl "$SIMROOT" fault write /sys/class/vtconsole/vtcon1/bind ignore
	run vtcon unbind
	assert_failure 1
	assert_output "vtcon: vtcon1 (frame buffer device): still bound after writing 0: the kernel ignored it"
	[ ! -e "$SIMROOT/run/vfio-utils/vtcon" ]
}

@test "the console vanished with the framebuffer: bind says so, and it comes back bound with the next" {
	sim_up $SINGLE
	vtcon unbind
	echo efi-framebuffer.0 >"$SIMROOT/sys/bus/platform/drivers/efi-framebuffer/unbind"
	echo 0000:09:00.0 >"$SIMROOT/sys/bus/pci/drivers/nvidia/unbind"
	[ ! -e "$SIMROOT/sys/class/vtconsole/vtcon1" ]
	run vtcon bind
	assert_success
	assert_output "frame_buffer_device: no such console now: it comes back, bound, with a framebuffer"
	echo 0000:09:00.0 >"$SIMROOT/sys/bus/pci/drivers_probe"
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon1/bind")" 1
}

@test "bind --all: every (M) console, remembered or not; --dry-run changes nothing" {
	sim_up $SINGLE
	echo 0 >"$SIMROOT/sys/class/vtconsole/vtcon1/bind"
	run vtcon bind
	assert_output "no console remembered: nothing to bind"
	run vtcon bind --all --dry-run
	assert_output "echo 1 > $SIMROOT/sys/class/vtconsole/vtcon1/bind"
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon1/bind")" 0
	run vtcon bind --all
	assert_success
	assert_equal "$(cat "$SIMROOT/sys/class/vtconsole/vtcon1/bind")" 1
}

@test "usage errors" {
	vtcon() { "$BUILD/vtcon" "$@"; }
	run vtcon frobnicate
	assert_failure 2
	assert_line --index 0 "vtcon: frobnicate: not a command (list, unbind or bind)"
	run vtcon --all unbind
	assert_failure 2
	assert_line --index 0 "vtcon: --all goes with bind"
	run vtcon --version
	assert_output --regexp '^vtcon \(vfio-utils\) '
}
