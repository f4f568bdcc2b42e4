#!/usr/bin/env bats
# The security review of hook-run, the state directory and what the commands
# print: each finding, with the test that keeps it fixed. These commands run
# as root from libvirtd; the guest name, the hook tree, /run/vfio-utils and
# any string a user controls are what an attacker would aim at.
#
# First review (issue 8): the tests up to "a value the state file cannot hold".
# Second review (issue 20), by its points:
#   1  links checked link by link, the checked file executed:
#        "a chain of links is checked link by link", "what runs is the file that was checked"
#   2  the #! interpreter:        "a #! interpreter a user could change"
#   3  deadlines that bound the hook and the screen commands:
#        "a script stuck in the kernel", "vtcon and efifb writes have deadlines"
#   4  closed stdin, the XML cap: "a closed stdin reaches scripts as an empty one"
#   5  libvirt's arguments are data: "libvirt's four arguments are data"
#   6  damaged state never lost:  "a damaged devices file is never written over",
#                                 "damaged screen records"
#   7  stale temporaries, FIFOs, linear parsing: "a temporary file a killed save left",
#        "a state file of 16,000 records" (its speed: tests/bench/state)
#   8  records belong to a guest: "records belong to the guest whose hook made them"
#   9  dm-ctl start waits for the modules: "dm-ctl start refuses while the modules",
#        and tests/faults.bats runs its matrix with --unload
#   10 --unload all or nothing:   "vfio-bind --unload whose module removal fails"
#   11 dm-ctl's lock:             "dm-ctl stop holds the lock for the change"
#   12 --domain-xml ranges, entities: "--domain-xml: out-of-range addresses"
#   13 untrusted strings escaped: "a process name with escapes", "a mount point with a newline"
#   14 --help, --version, full disk: "--help and --version into a full disk fail"
# Third review (issue 28), the resource commands:
#   privilege: "below a sysroot no command runs a host tool",
#     "vm-prio touches only the QEMU its locked pid file names",
#     "a domain name with '/' is refused"
#   records: "vm-prio: a second set that fails keeps the first one's record",
#     "vm-nosleep release lets go with its state file damaged"
#   deadlines: "vm-nosleep hold --timeout bounds a logind that does not answer"

load helpers

XML='<domain type="kvm"><name>win10</name><devices/></domain>'

setup() {
	hook_tree
}

teardown() {
	local p
	# the test's QEMUs (build/vcpus) hold its output: never left behind
	for p in "$BATS_TEST_TMPDIR"/*.qemu; do [ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	sim_down
}

# logger FILE: an executable script that logs its arguments, one per line.
logger() {
	printf '#!/bin/sh\nprintf "[%%s]\\n" "$@" >>"$LOG"\n' >"$1"
	chmod 755 "$1"
}

@test "a sub-operation with '/' or '..' never becomes a path" {
	mkdir -p "$H/qemu.d/win10/prepare/begin" "$H/x"
	logger "$H/x/s"
	logger "$H/qemu.d/win10/prepare/begin/s"
	for sub in ../../../x "../../../x/s" .. . "" "a/b"; do
		run hook win10 prepare "$sub" -
		assert_success
	done
	[ ! -e "$LOG" ]
	run hook win10 prepare begin -
	assert_success
	[ -s "$LOG" ]
}

@test "guest names reach scripts as one argument, never as shell" {
	local name
	for name in '$(touch pwned)' '`touch pwned`' "a'b" '-rf' '--help' '; touch pwned' '*'; do
		mkdir -p "$H/qemu.d/$name/prepare/begin"
		logger "$H/qemu.d/$name/prepare/begin/s"
		(cd "$BATS_TEST_TMPDIR" && hook "$name" prepare begin -)
	done
	[ ! -e "$BATS_TEST_TMPDIR/pwned" ] && [ ! -e "$H/pwned" ]
	run grep -c . "$LOG"
	assert_output 28 # seven calls, four arguments each
	run grep -Fx "[\$(touch pwned)]" "$LOG"
	assert_success
}

@test "a linked script whose real directory others can write is refused; a sticky one is not" {
	mkdir -p "$H/qemu.d/win10/prepare/begin" "$BATS_TEST_TMPDIR/open" "$BATS_TEST_TMPDIR/sticky"
	chmod 0777 "$BATS_TEST_TMPDIR/open"
	chmod 1777 "$BATS_TEST_TMPDIR/sticky"
	logger "$BATS_TEST_TMPDIR/open/s"
	ln -s "$BATS_TEST_TMPDIR/open/s" "$H/qemu.d/win10/prepare/begin/s"
	run hook win10 prepare begin -
	assert_failure 1
	assert_line "hook-run: qemu.d/win10/prepare/begin/s: refused: $BATS_TEST_TMPDIR/open: writable by everyone: it could replace the script"
	[ ! -e "$LOG" ]
	mv "$BATS_TEST_TMPDIR/open/s" "$BATS_TEST_TMPDIR/sticky/s"
	ln -sf "$BATS_TEST_TMPDIR/sticky/s" "$H/qemu.d/win10/prepare/begin/s"
	run hook win10 prepare begin -
	assert_success
	[ -s "$LOG" ]
}

@test "HOOK_RUN_TIMEOUT that is not a number of seconds: warned, the default used" {
	mkdir -p "$H/qemu.d/win10/prepare/begin"
	printf '#!/bin/sh\nsleep 0.3\necho done >>"$LOG"\n' >"$H/qemu.d/win10/prepare/begin/s"
	chmod 755 "$H/qemu.d/win10/prepare/begin/s"
	for t in nan 0 -1 1e9 99999999999 abc; do
		HOOK_RUN_TIMEOUT=$t run hook win10 prepare begin -
		assert_success
		assert_line "hook-run: warning: HOOK_RUN_TIMEOUT=$t: not a number of seconds up to 86400: 120 s instead"
	done
	run grep -c done "$LOG"
	assert_output 6
	HOOK_RUN_TIMEOUT=0.1 run hook win10 prepare begin -
	assert_failure 1
	assert_line --partial "killed at the deadline"
}

@test "hook-run new: a sysroot with quotes in its path reads back exactly, runs nothing" {
	local root="$BATS_TEST_TMPDIR/it's \$(touch pwned) \"x\""
	mkdir -p "$root"
	cp -a "$(machine x570-rtx2070s-group)/." "$root/"
	run hook-run --sysroot "$root" new win10
	assert_success
	local s=$root/etc/libvirt/hooks/qemu.d/win10/prepare/begin/50-vfio-utils
	run sh -n "$s"
	assert_success
	# what the script's export line sets, run in a shell of its own
	run sh -c "$(grep '^export VFIO_UTILS_SYSROOT=' "$s")"'; printf %s "$VFIO_UTILS_SYSROOT"'
	assert_output "$root"
	[ ! -e pwned ] && [ ! -e "$BATS_TEST_TMPDIR/pwned" ]
	# --dry-run prints shell that writes the same file
	run hook-run --sysroot "$root" -n new --force win10
	assert_success
	assert_line --index 0 "mkdir -p '$BATS_TEST_TMPDIR/it'\\''s \$(touch pwned) \"x\"/etc/libvirt/hooks/qemu.d/win10/prepare/begin'"
}

@test "hook-run new --force does not write through a link planted at the script's place" {
	local root
	root=$(machine x570-rtx2070s-group)
	local d=$root/etc/libvirt/hooks/qemu.d/win10/prepare/begin
	mkdir -p "$d"
	echo precious >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$d/50-vfio-utils"
	run hook-run --sysroot "$root" new --force win10
	assert_failure 1
	assert_output "hook-run: /etc/libvirt/hooks/qemu.d/win10/prepare/begin/50-vfio-utils: cannot write (a symbolic link): Too many levels of symbolic links"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/target")" precious
}

@test "/run/vfio-utils as a link, or open to others: refused, nothing changed" {
	sim_up "$SINGLE"
	local before
	before=$(sim_snapshot)
	mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$SIMROOT/run/vfio-utils"
	run on_sim vfio-bind --group 09:00.0
	assert_failure 1
	assert_output "vfio-bind: /run/vfio-utils: cannot take the lock: Operation not permitted"
	assert_equal "$(sim_snapshot)" "$before"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ]
	rm "$SIMROOT/run/vfio-utils"
	mkdir -m 0777 "$SIMROOT/run/vfio-utils"
	run on_sim vfio-bind --group 09:00.0
	assert_failure 1
	assert_output "vfio-bind: /run/vfio-utils: cannot take the lock: Operation not permitted"
	assert_equal "$(sim_snapshot)" "$before"
}

@test "a state file that is a link is neither read nor written through" {
	sim_up "$SINGLE"
	on_sim vfio-bind --group 09:00.0 >/dev/null
	local devices=$SIMROOT/run/vfio-utils/devices
	mv "$devices" "$BATS_TEST_TMPDIR/real"
	printf '# vfio-utils state 1 devices\n0000:09:00.0 driver=evil module=evil override=-\n# end\n' \
		>"$BATS_TEST_TMPDIR/forged"
	ln -s "$BATS_TEST_TMPDIR/forged" "$devices"
	run on_sim vfio-unbind --restore
	assert_failure 1
	assert_line --index 0 "vfio-unbind: /run/vfio-utils/devices: cannot read: Too many levels of symbolic links"
	[ "$(driver_of 0000:09:00.0)" = vfio-pci ] # nothing given to "evil"
	# the real record back: restored, and the link replaced, its target untouched
	rm "$devices"
	mv "$BATS_TEST_TMPDIR/real" "$devices"
	ln -s "$BATS_TEST_TMPDIR/forged" "$devices.new"
	run on_sim vfio-unbind --restore
	assert_success
	[ "$(driver_of 0000:09:00.0)" = nvidia ]
	run grep -c evil "$BATS_TEST_TMPDIR/forged"
	assert_output 1
}

@test "a value the state file cannot hold is refused before anything changes" {
	sim_up "$SINGLE" "init openrc" "dm lightdm"
	PATH=$STANDINS:$PATH
	dm_boot
	printf 'DISPLAYMANAGER="light dm"\n' >"$SIMROOT/etc/conf.d/display-manager"
	run on_sim dm-ctl stop
	assert_failure 1
	assert_output 'dm-ctl: light dm: cannot be remembered: only letters, digits and _.:@+-\ can'
	run on_sim dm-ctl status
	assert_line "display manager: light dm (display-manager, running)"
	[ ! -e "$SIMROOT/run/vfio-utils/dm" ]
}

# Issue 20, root and the hook: each of these failed before its fix.

@test "a chain of links is checked link by link: one in a directory a user can write is refused" {
	local x=$BATS_TEST_TMPDIR/X
	mkdir -p "$H/qemu.d/win10/prepare/begin" "$x"
	chmod 0777 "$x" # a user's: they can flip link2 between the check and the exec
	logger "$BATS_TEST_TMPDIR/s"
	ln -s "$BATS_TEST_TMPDIR/s" "$x/link2"
	ln -s "$x/link2" "$H/qemu.d/win10/prepare/begin/10-s"
	run hook win10 prepare begin -
	assert_failure 1
	assert_line "hook-run: qemu.d/win10/prepare/begin/10-s: refused: $x: writable by everyone: it could replace the script"
	[ ! -e "$LOG" ]
	run hook-run --sysroot "$ROOT" check
	assert_line "qemu.d/win10/prepare/begin/10-s: unsafe: $x: writable by everyone: it could replace the script"
	# a sticky directory is safe only for root's own entries
	chmod 1777 "$x"
	chown -h nobody "$x/link2"
	run hook win10 prepare begin -
	assert_failure 1
	assert_line "hook-run: qemu.d/win10/prepare/begin/10-s: refused: $x/link2: owned by uid $(id -u nobody) in a directory everyone can write to: its owner could replace it"
	chown -h root "$x/link2"
	run hook win10 prepare begin -
	assert_success
	[ -s "$LOG" ]
}

@test "what runs is the file that was checked, through its descriptor" {
	mkdir -p "$H/qemu.d/win10/prepare/begin"
	printf '#!/bin/sh\necho "$0" >>"$LOG"\n' >"$H/qemu.d/win10/prepare/begin/s"
	chmod 755 "$H/qemu.d/win10/prepare/begin/s"
	run hook win10 prepare begin -
	assert_success
	# fexecve: the kernel hands the interpreter the open descriptor, not the path
	run cat "$LOG"
	assert_output --regexp '^/dev/fd/[0-9]+$'
}

@test "a #! interpreter a user could change is refused at run time and reported by check" {
	local venv=$BATS_TEST_TMPDIR/home/user/venv/bin
	mkdir -p "$H/qemu.d/win10/prepare/begin" "$venv"
	cp /bin/sh "$venv/python"
	chown -R nobody "$BATS_TEST_TMPDIR/home/user"
	printf '#!%s\necho ran >>"$LOG"\n' "$venv/python" >"$H/qemu.d/win10/prepare/begin/s"
	chmod 755 "$H/qemu.d/win10/prepare/begin/s"
	run hook win10 prepare begin -
	assert_failure 1
	assert_line --partial "hook-run: qemu.d/win10/prepare/begin/s: refused: $H/qemu.d/win10/prepare/begin/s runs $venv/python, and $BATS_TEST_TMPDIR/home/user: owned by uid $(id -u nobody)"
	[ ! -e "$LOG" ]
	run hook-run --sysroot "$ROOT" check
	assert_failure 1
	assert_line --partial "qemu.d/win10/prepare/begin/s: unsafe: "
	# root's own interpreter, but writable by others
	chown -R root "$BATS_TEST_TMPDIR/home/user"
	chmod 0757 "$venv/python"
	run hook win10 prepare begin -
	assert_failure 1
	assert_line --partial "runs $venv/python, and $venv/python: writable by everyone"
	# an interpreter that is itself a script: its own interpreter is checked too
	chmod 0755 "$venv/python"
	mkdir -p "$BATS_TEST_TMPDIR/open"
	chmod 0777 "$BATS_TEST_TMPDIR/open"
	cp /bin/sh "$BATS_TEST_TMPDIR/open/sh"
	printf '#!%s\n' "$BATS_TEST_TMPDIR/open/sh" >"$venv/python"
	run hook win10 prepare begin -
	assert_failure 1
	assert_line --partial "runs $venv/python runs $BATS_TEST_TMPDIR/open/sh, and $BATS_TEST_TMPDIR/open: writable by everyone"
	# a relative interpreter resolves against whatever directory libvirtd is in
	printf '#!sh\necho ran >>"$LOG"\n' >"$H/qemu.d/win10/prepare/begin/s"
	run hook win10 prepare begin -
	assert_failure 1
	assert_line "hook-run: qemu.d/win10/prepare/begin/s: refused: $H/qemu.d/win10/prepare/begin/s: its interpreter 'sh' is not an absolute path"
	# a safe one runs
	printf '#!/bin/sh\necho ran >>"$LOG"\n' >"$H/qemu.d/win10/prepare/begin/s"
	run hook win10 prepare begin -
	assert_success
	assert_equal "$(cat "$LOG")" ran
}

@test "a script stuck in the kernel past HOOK_RUN_TIMEOUT: the hook returns, the script is left" {
	sim_up "$SINGLE"
	sim ctl "$SIMROOT" fault 0000:09:00.2 unbind-blocks
	mkdir -p "$H/qemu.d/win10/prepare/begin"
	# the guides' way: a plain unbind, which SIGKILL cannot end while the kernel waits
	printf '#!/bin/sh\necho 0000:09:00.2 >%s/sys/bus/pci/drivers/xhci_hcd/unbind\n' \
		"$SIMROOT" >"$H/qemu.d/win10/prepare/begin/s"
	chmod 755 "$H/qemu.d/win10/prepare/begin/s"
	local t0=$SECONDS
	HOOK_RUN_TIMEOUT=1 run hook win10 prepare begin -
	assert_failure 1
	assert_line --partial "but it does not end: stuck in the kernel"
	[ $((SECONDS - t0)) -le 5 ]
	# it is still there, blocked, until the device lets go
	run sim status "$SIMROOT"
	assert_line "blocked unbind 0000:09:00.2"
	sim ctl "$SIMROOT" release 0000:09:00.2
}

@test "a closed stdin reaches scripts as an empty one; a stdin larger than any domain XML is refused" {
	mkdir -p "$H/qemu.d/win10/prepare/begin"
	printf '#!/bin/sh\ncat >/dev/null || exit 3\necho read >>"$LOG"\n' >"$H/qemu.d/win10/prepare/begin/s"
	chmod 755 "$H/qemu.d/win10/prepare/begin/s"
	run bash -c 'exec "$1" win10 prepare begin - <&-' _ "$H/qemu"
	assert_success
	assert_equal "$(cat "$LOG")" read
	rm "$LOG"
	run bash -c 'head -c $((9 << 20)) /dev/zero | "$1" win10 prepare begin -' _ "$H/qemu"
	assert_failure 1
	assert_output "hook-run: standard input: larger than 8 MiB, which no domain XML is: no script runs"
	[ ! -e "$LOG" ]
}

@test "libvirt's four arguments are data even with an operation hook-run does not know" {
	mkdir -p "$H/qemu.d/--help/frobnicate/begin"
	logger "$H/qemu.d/--help/frobnicate/begin/s"
	run "$H/qemu" --help frobnicate begin - </dev/null
	assert_success
	assert_output ""
	run cat "$LOG"
	assert_output "$(printf '[--help]\n[frobnicate]\n[begin]\n[-]')"
	run "$H/qemu" --version frobnicate begin - </dev/null
	assert_success
	assert_output ""
}

# Issue 20, input and output.

@test "a process name with escapes, newlines and broken UTF-8 is escaped in text and JSON" {
	sim_up "$SINGLE"
	PATH=$STANDINS:$PATH
	# any user can hold a render node, under any name prctl gives it
	perl -e '$0 = "x\e[2J\nevil\xff"; sleep 1000' 3<"$SIMROOT/dev/nvidia0" &
	local pid=$!
	for ((i = 0; i < 100; i++)); do grep -q evil "/proc/$pid/comm" && break; sleep 0.02; done
	run on_sim dm-ctl status
	assert_line "GPU held by:     x\\x1b[2J\\x0aevil\\xff ($pid)"
	[ "${#lines[@]}" -eq 3 ]
	run on_sim dm-ctl --json status
	run jq -r '.holders[0].name' <<<"$output"
	assert_success
	assert_output "$(printf 'x\033[2J\nevil\\xff')"
	run on_sim vfio-bind -q 09:00.0
	kill "$pid"
	assert_failure 1
	assert_line --index 0 "vfio-bind: 0000:09:00.0: /dev/nvidia0 is held open by x\\x1b[2J\\x0aevil\\xff ($pid): an unbind would block in the kernel until they let go (stop them first, e.g. 'dm-ctl stop')"
	[ "${#lines[@]}" -eq 2 ]
}

@test "a mount point with a newline and an escape is escaped; an argument with a newline gets one line" {
	local root
	root=$(machine z690-rtx3070)
	cp -a "$root" "$BATS_TEST_TMPDIR/r"
	root=$BATS_TEST_TMPDIR/r
	# the kernel writes a newline in a mount point as \012; a USB label can hold an escape
	sed -i 's| /home | /media/x\\012\x1b[31mevil |' "$root/proc/self/mountinfo"
	run iommu-groups --sysroot "$root" -k
	assert_success
	assert_line --partial '(in use: holds /, /media/x\x0a\x1b[31mevil, swap)'
	run iommu-groups --sysroot "$root" --json
	assert_success
	run jq -r '.. | .in_use? // empty | select(test("media"))' <<<"$output"
	assert_output "$(printf 'holds /, /media/x\n\033[31mevil, swap')"
	run vfio-bind --sysroot "$root" $'01:00.0\n\033[2Jforged line'
	assert_failure 2
	assert_line --index 0 "vfio-bind: 01:00.0\\x0a\\x1b[2Jforged line: not a PCI device (expected 0000:01:00.0, 01:00.0, pci_0000_01_00_0 or vendor:device like 10de:1f03)"
	[ "${#lines[@]}" -eq 2 ]
}

@test "--help and --version into a full disk fail, as every other output does" {
	local c
	for c in "${COMMANDS[@]}"; do
		run bash -c '"$1" --help >/dev/full' _ "$c"
		assert_failure 1
		assert_output "$c: write error: No space left on device"
		run "$c" --version
		assert_success
		run bash -c '"$1" --version >/dev/full' _ "$c"
		assert_failure 1
		assert_output "$c: write error: No space left on device"
	done
}

@test "--domain-xml: out-of-range addresses never wrap into a real device; no document type, no entities" {
	sim_up "$SINGLE"
	local before attr
	before=$(sim_snapshot)
	# each would wrap to 0000:09:00.0 when narrowed
	for attr in "domain='0x100000000' bus='0x09' slot='0x00' function='0x0'" \
		"domain='0x0000' bus='0x100000009' slot='0x00' function='0x0'" \
		"domain='0x0000' bus='-4294967287' slot='0x00' function='0x0'" \
		"domain='0x0000' bus='0x09' slot='0x00' function='0x100000000'" \
		"domain='0x0000' bus='+9' slot='0x00' function='0x0'"; do
		printf "<domain><name>vm</name><devices><hostdev mode='subsystem' type='pci'><source><address %s/></source></hostdev></devices></domain>" \
			"$attr" >"$BATS_TEST_TMPDIR/vm.xml"
		run on_sim vfio-bind --domain-xml "$BATS_TEST_TMPDIR/vm.xml"
		assert_failure 2
		assert_output --partial "a PCI hostdev without a valid <source><address>"
	done
	assert_equal "$(sim_snapshot)" "$before"
	# one entity referenced many times: a few kilobytes that would expand to gigabytes
	{
		echo '<?xml version="1.0"?>'
		echo '<!DOCTYPE domain [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
		echo '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
		printf '<domain><name>%s</name><devices/></domain>\n' "$(printf '&b;%.0s' $(seq 2000))"
	} >"$BATS_TEST_TMPDIR/bomb.xml"
	run on_sim vfio-bind --domain-xml "$BATS_TEST_TMPDIR/bomb.xml"
	assert_failure 2
	assert_output "vfio-bind: $BATS_TEST_TMPDIR/bomb.xml: not a libvirt domain XML: it declares a document type (<!DOCTYPE), which no domain has"
}

# Issue 20, state that must not be lost.

@test "a damaged devices file is never written over or deleted: kept aside, the kernel's view restored, exit 1" {
	local kind before f
	for kind in empty bom crlf; do
		sim_up "$SINGLE"
		before=$(sim_snapshot)
		on_sim vfio-bind --group 09:00.0 >/dev/null
		f=$SIMROOT/run/vfio-utils/devices
		case $kind in
		empty) : >"$f" ;;
		bom) printf '\357\273\277%s\n' "$(cat "$f")" >"$f" ;;
		crlf) sed -i 's/$/\r/' "$f" ;;
		esac
		cp "$f" "$BATS_TEST_TMPDIR/damaged"
		# another VM's records may be in it: vfio-bind changes nothing
		run on_sim vfio-bind 09:00.1
		assert_failure 1
		assert_line --partial "vfio-bind: /run/vfio-utils/devices: damaged: vfio-bind will not write over it"
		cmp "$f" "$BATS_TEST_TMPDIR/damaged"
		assert_equal "$(driver_of 0000:09:00.0)" vfio-pci
		# --restore keeps it aside, gives back what the kernel shows on vfio-pci, says so
		run on_sim vfio-unbind --restore
		assert_failure 1
		assert_line --partial "/run/vfio-utils/devices: kept aside as /run/vfio-utils/devices.damaged-"
		[ ! -e "$f" ]
		cmp "$(ls "$f".damaged-*)" "$BATS_TEST_TMPDIR/damaged"
		assert_equal "$(sim_snapshot)" "$before"
		sim_down
		rm -rf "$SIMROOT/run/vfio-utils"
	done
}

@test "a temporary file a killed save left is removed under the lock; a FIFO never hangs a command" {
	sim_up "$SINGLE"
	on_sim vfio-bind 09:00.1 >/dev/null
	local d=$SIMROOT/run/vfio-utils
	echo half >"$d/devices.new"
	on_sim vtcon list >/dev/null # takes no lock
	[ -e "$d/devices.new" ]
	run on_sim vfio-unbind --restore
	assert_success
	[ ! -e "$d/devices.new" ]
	# a FIFO where a state file or its temporary goes
	mkfifo "$d/devices"
	run timeout 10 sim exec "$SIMROOT" -- vfio-bind -q 09:00.1
	assert_failure 1
	assert_output "vfio-bind: /run/vfio-utils/devices: cannot read: not a regular file"
	assert_equal "$(driver_of 0000:09:00.1)" snd_hda_intel
	rm "$d/devices"
	mkfifo "$d/devices.new"
	run timeout 10 sim exec "$SIMROOT" -- vfio-bind 09:00.1
	assert_success
	[ -f "$d/devices" ] && [ ! -e "$d/devices.new" ]
	rm "$d/lock"
	mkfifo "$d/lock"
	run timeout 10 sim exec "$SIMROOT" -- vfio-unbind --restore
	assert_failure 1
	assert_output "vfio-unbind: /run/vfio-utils: cannot take the lock: Operation not permitted"
}

@test "a state file of 16,000 records is read whole, the last record of a key winning" {
	sim_up "$SINGLE"
	mkdir -p -m 0700 "$SIMROOT/run/vfio-utils"
	{
		echo '# vfio-utils state 1 devices'
		for ((i = 0; i < 16000; i++)); do printf '0001:%02x:%02x.%x driver=x module=- override=-\n' $((i / 256 % 256)) $((i / 8 % 32)) $((i % 8)); done
		echo '0000:09:00.1 driver=none module=- override=-'
		echo '0000:09:00.1 driver=snd_hda_intel module=snd_hda_intel override=-'
		echo '# end'
	} >"$SIMROOT/run/vfio-utils/devices"
	on_sim vfio-bind 09:00.1 >/dev/null
	run on_sim vfio-unbind -q 09:00.1
	assert_success
	assert_equal "$(driver_of 0000:09:00.1)" snd_hda_intel
	run grep -c '^0001:' "$SIMROOT/run/vfio-utils/devices"
	assert_output 16000
}

@test "records belong to the guest whose hook made them: its release gives back only its own" {
	sim_up "$DUAL"
	local before
	before=$(sim_snapshot)
	mkdir -p "$H/qemu.d/"{a,b}/{prepare/begin,release/end}
	printf '#!/bin/sh\nvfio-bind --group 01:00.0\n' >"$H/qemu.d/a/prepare/begin/s"
	printf '#!/bin/sh\nvfio-bind 09:00.3\n' >"$H/qemu.d/b/prepare/begin/s"
	printf '#!/bin/sh\nvfio-unbind --restore\n' >"$H/qemu.d/a/release/end/s"
	cp "$H/qemu.d/a/release/end/s" "$H/qemu.d/b/release/end/s"
	chmod 755 "$H"/qemu.d/*/*/*/s
	on_sim "$H/qemu" a prepare begin - </dev/null
	on_sim "$H/qemu" b prepare begin - </dev/null # b's QEMU has not opened its group yet
	assert_equal "$(driver_of 0000:09:00.3)" vfio-pci
	run on_sim "$H/qemu" a release end - </dev/null
	assert_success
	assert_equal "$(driver_of 0000:01:00.0)" nvidia
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
	assert_equal "$(driver_of 0000:09:00.3)" vfio-pci # b's, still
	run on_sim "$H/qemu" b release end - </dev/null
	assert_success
	assert_equal "$(sim_snapshot)" "$before"
	# outside a hook, --restore gives back everything, as it always has
	on_sim "$H/qemu" a prepare begin - </dev/null
	on_sim "$H/qemu" b prepare begin - </dev/null
	on_sim vfio-unbind --restore >/dev/null
	assert_equal "$(sim_snapshot)" "$before"
}

@test "damaged screen records: unbind and stop change nothing, bind and start keep them aside and bring the screen back" {
	sim_up "$SINGLE"
	PATH=$STANDINS:$PATH
	dm_boot
	local before f
	before=$(screen_snapshot)
	on_sim dm-ctl stop >/dev/null
	on_sim vtcon unbind >/dev/null
	on_sim efifb unbind >/dev/null
	for f in dm vtcon efifb; do sed -i 's/$/\r/' "$SIMROOT/run/vfio-utils/$f"; done
	run on_sim vtcon unbind
	assert_failure 1
	assert_line --index 0 "vtcon: warning: /run/vfio-utils/vtcon:2: damaged state file"
	assert_line --index 1 "vtcon: /run/vfio-utils/vtcon: damaged: not written over ('vtcon bind' keeps it aside); nothing changed"
	run on_sim efifb unbind
	assert_failure 1
	assert_line --index 1 "efifb: /run/vfio-utils/efifb: damaged: not written over ('efifb bind' keeps it aside); nothing changed"
	run on_sim dm-ctl stop
	assert_failure 1
	assert_line "dm-ctl: /run/vfio-utils/dm: damaged: not written over ('dm-ctl start' keeps it aside); nothing changed"
	for f in efifb vtcon dm-ctl; do
		run on_sim "$f" "$([ "$f" = dm-ctl ] && echo start || echo bind)"
		assert_failure 1
		assert_line --partial "kept aside as /run/vfio-utils/"
	done
	assert_equal "$(screen_snapshot)" "$before"
	run ls "$SIMROOT/run/vfio-utils"
	assert_line --regexp '^dm.damaged-'
	assert_line --regexp '^vtcon.damaged-'
	assert_line --regexp '^efifb.damaged-'
}

# Issue 20, the screen must come back.

@test "dm-ctl start refuses while the modules vfio-bind --unload removed are not back" {
	sim_up "$SINGLE" "kernel 5.15.0-91-generic"
	PATH=$STANDINS:$PATH
	dm_boot
	local before
	before=$(machine_state)
	on_sim dm-ctl stop >/dev/null
	on_sim efifb unbind >/dev/null
	on_sim vfio-bind --group --unload 09:00.0 >/dev/null
	[ ! -e "$SIMROOT/sys/module/nvidia_drm" ]
	sim ctl "$SIMROOT" fault module nvidia_drm load EIO once
	run on_sim vfio-unbind --restore
	assert_failure 1
	assert_equal "$(driver_of 0000:09:00.0)" nvidia # the GPU is back, its DRM card is not
	[ ! -e "$SIMROOT/dev/dri/card0" ]
	run on_sim dm-ctl start
	assert_failure 1
	assert_output "dm-ctl: nvidia_drm: removed by vfio-bind --unload and not loaded again: the display manager would start without it (vfio-unbind --restore first)"
	run on_sim dm-ctl status
	assert_line "display manager: gdm (gdm.service, stopped)"
	[ -e "$SIMROOT/run/vfio-utils/dm" ]
	on_sim vfio-unbind --restore >/dev/null
	on_sim efifb bind >/dev/null
	on_sim dm-ctl start >/dev/null
	assert_equal "$(machine_state)" "$before"
}

@test "vfio-bind --unload whose module removal fails undoes everything: all or nothing" {
	sim_up "$SINGLE"
	local before
	before=$(sim_snapshot)
	sim ctl "$SIMROOT" fault module nvidia unload EIO once
	run on_sim vfio-bind --group --unload 09:00.0
	assert_failure 1
	assert_line "vfio-bind: nvidia: cannot unload: Input/output error"
	assert_line "vfio-bind: nothing changed"
	assert_equal "$(sim_snapshot)" "$before"
	# nothing remembered: the locks alone
	run bash -c "ls '$SIMROOT/run/vfio-utils' | grep -v '\.lock$'"
	assert_output lock
}

@test "dm-ctl stop holds the lock for the change, not for systemctl's stop: another VM's vfio-bind goes on" {
	sim_up "$DUAL"
	PATH=$STANDINS:$PATH
	dm_boot
	echo 3 >"$SIMROOT/run/standin/stop-delay"
	on_sim dm-ctl stop >/dev/null &
	local stopper=$!
	sleep 0.5
	run on_sim vfio-bind --timeout 1 --group 01:00.0
	assert_success
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	wait "$stopper"
	run on_sim dm-ctl status
	assert_line --partial "stopped)"
}

@test "vtcon and efifb writes have deadlines: a hung write is left to the kernel, the lock is free, the record kept" {
	sim_up "$SINGLE" "kernel 5.15.0-91-generic"
	PATH=$STANDINS:$PATH
	local before
	before=$(screen_snapshot)
	sim ctl "$SIMROOT" fault write /sys/devices/virtual/vtconsole/vtcon1/bind block
	run on_sim vtcon --timeout 1 unbind
	assert_failure 1
	assert_output "vtcon: vtcon1 (frame buffer device): the kernel did not finish the write to bind in 1 s: left to it, still remembered"
	grep -q 'frame' "$SIMROOT/run/vfio-utils/vtcon"
	sim ctl "$SIMROOT" fault write /sys/bus/platform/drivers/efi-framebuffer/unbind block
	# the lock is free at once: the next command does not wait for the held write
	run on_sim efifb --timeout 1 unbind
	assert_failure 1
	assert_output "efifb: efi-framebuffer.0: the kernel did not finish the unbind in 1 s: left to it, still remembered"
	grep -q 'efi-framebuffer.0' "$SIMROOT/run/vfio-utils/efifb"
	# the kernel finishes late; bind brings both back
	sim ctl "$SIMROOT" release writes
	run on_sim efifb bind
	assert_success
	run on_sim vtcon bind
	assert_success
	assert_equal "$(screen_snapshot)" "$before"
}

# The host's tools as a user might have them first on PATH: each says it ran.
host_tools() {
	mkdir -p "$BATS_TEST_TMPDIR/host"
	for t in systemctl systemd-run systemd-inhibit; do
		printf '#!/bin/sh\necho "$0 $*" >>%s/ran\n' "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/host/$t"
		chmod 755 "$BATS_TEST_TMPDIR/host/$t"
	done
}

@test "below a sysroot no command runs a host tool that does not say it stands in" {
	sim_up "$SINGLE"
	host_tools
	printf "<domain><name>pin</name><vcpu>1</vcpu><cputune><vcpupin vcpu='0' cpuset='2'/></cputune></domain>" \
		>"$BATS_TEST_TMPDIR/pin.xml"
	before=$(sim_snapshot)
	# vm-nosleep asks systemd on the tree's bus (tests/lib/sim-systemd), and
	# names the program its unit runs by the path it finds on PATH
	sim_systemd
	for c in "dm-ctl stop" "vm-cpus isolate --domain-xml $BATS_TEST_TMPDIR/pin.xml" "vm-nosleep hold win10"; do
		PATH=$BATS_TEST_TMPDIR/host:$BUILD:/usr/bin:/bin run "$TESTS/sim/sim" exec "$SIMROOT" -- $c
		assert_failure 1
		assert_line --regexp "^[a-z-]+: (systemctl|systemd-inhibit): not run: the host's own \($BATS_TEST_TMPDIR/host/[a-z-]+\) would act on this machine, not on $SIMROOT\$"
	done
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	assert_equal "$(sim_snapshot)" "$before"
	! bus_calls | grep -q StartTransientUnit
	# the same tools, once they say that they stand in, are run
	sed -i '1a # vfio-utils stand-in (for this test)' "$BATS_TEST_TMPDIR"/host/*
	PATH=$BATS_TEST_TMPDIR/host:$BUILD:/usr/bin:/bin run "$TESTS/sim/sim" exec "$SIMROOT" -- vm-nosleep hold win10
	poll 5 grep -q "host/systemd-inhibit" "$BATS_TEST_TMPDIR/ran"
}

# qemu_of DOMAIN: a "QEMU" (build/vcpus, two vCPU threads) holding DOMAIN's pid file locked.
qemu_of() {
	mkdir -p "$SIMROOT/run/libvirt/qemu"
	"$BUILD/vcpus" 2 KVM "$SIMROOT/run/libvirt/qemu/$1.pid" >"$BATS_TEST_TMPDIR/$1.qemu" &
	until [ -s "$BATS_TEST_TMPDIR/$1.qemu" ]; do sleep 0.05; done
	cat "$BATS_TEST_TMPDIR/$1.qemu"
}

# nice_of PID: each of its threads' nice value and policy, as the kernel has them.
nice_of() {
	for t in /proc/$1/task/*; do sed 's/.*) //' "$t/stat" | awk '{ print $17, $39 }'; done | sort | uniq -c
}

@test "vm-prio touches only the QEMU its locked pid file names: not a stale file's reused PID, not a user's file" {
	sim_up "$SINGLE"
	mkdir -p "$SIMROOT/run/libvirt/qemu"
	# a user's process with threads named as vCPUs, its PID in a stale pid file
	"$BUILD/vcpus" 2 >"$BATS_TEST_TMPDIR/user.qemu" &
	until [ -s "$BATS_TEST_TMPDIR/user.qemu" ]; do sleep 0.05; done
	user=$(cat "$BATS_TEST_TMPDIR/user.qemu")
	before=$(nice_of "$user")
	cp "$BATS_TEST_TMPDIR/user.qemu" "$SIMROOT/run/libvirt/qemu/old.pid"
	run on_sim vm-prio set --fifo 99 old
	assert_failure 1
	assert_output "vm-prio: old: not running (no QEMU in /run/libvirt/qemu): set it in the started hook"
	# a file another user could write, or a link to one
	qemu=$(qemu_of win10)
	chmod 666 "$SIMROOT/run/libvirt/qemu/win10.pid"
	run on_sim vm-prio set --fifo 99 win10
	assert_failure 1
	assert_output "vm-prio: win10: not touched: its pid file is not root's alone (/run/libvirt/qemu/win10.pid)"
	chmod 600 "$SIMROOT/run/libvirt/qemu/win10.pid"
	ln -s "$BATS_TEST_TMPDIR/user.qemu" "$SIMROOT/run/libvirt/qemu/link.pid"
	run on_sim vm-prio set --fifo 99 link
	assert_failure 1
	assert_output "vm-prio: link: not touched: its pid file is a link (/run/libvirt/qemu/link.pid)"
	# the lock held, but the file names another process
	echo "$user" >"$SIMROOT/run/libvirt/qemu/win10.pid"
	run on_sim vm-prio set --fifo 99 win10
	assert_failure 1
	assert_output "vm-prio: win10: not touched: the process its pid file names does not hold the file's lock (/run/libvirt/qemu/win10.pid)"
	assert_equal "$(nice_of "$user")" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils/prio" ]
	# status lists only the proven QEMU
	echo "$qemu" >"$SIMROOT/run/libvirt/qemu/win10.pid"
	run on_sim vm-prio --json
	assert_equal "$(jq -c '[.domains[].domain]' <<<"$output")" '["win10"]'
	kill "$user" "$qemu"
}

@test "a domain name with '/' is refused before any file is read, as libvirt refuses it" {
	sim_up "$SINGLE"
	for c in "vm-prio set" "vm-prio reset" "vm-nosleep hold" "vm-hugepages release" "vm-cpus release"; do
		run --separate-stderr on_sim $c ../../../tmp/x
		assert_failure 2
		assert_equal "${stderr_lines[0]}" "${c%% *}: '../../../tmp/x': not a domain name (libvirt refuses an empty one, or one with '/')"
	done
	run on_sim vm-prio set --domain-xml - <<<"<domain><name>../x</name></domain>"
	assert_failure 1
	assert_output "vm-prio: standard input: <name>: not a domain name (libvirt refuses one with '/')"
	[ ! -e "$SIMROOT/run/vfio-utils/prio" ]
}

@test "vm-prio: a second set that fails keeps the first one's record, and reset brings back what was first" {
	sim_up "$SINGLE"
	qemu=$(qemu_of win10)
	before=$(nice_of "$qemu")
	on_sim vm-prio set --nice -5 win10
	after_first=$(nice_of "$qemu")
	# the second set without CAP_SYS_NICE: the kernel refuses SCHED_FIFO (EPERM)
	run setpriv --bounding-set -sys_nice --inh-caps -sys_nice "$TESTS/sim/sim" exec "$SIMROOT" -- vm-prio set --fifo 5 win10
	assert_failure 1
	assert_line "vm-prio: win10: vCPU 0 (thread $(grep -l '^CPU 0/KVM$' /proc/"$qemu"/task/*/comm | cut -d/ -f5)): cannot set fifo: Operation not permitted"
	assert_equal "$(nice_of "$qemu")" "$after_first"
	grep -q '^win10 pid='"$qemu"' policy=other priority=0 nice=0$' "$SIMROOT/run/vfio-utils/prio"
	run on_sim vm-prio reset win10
	assert_success
	assert_equal "$(nice_of "$qemu")" "$before"
	kill "$qemu"
}

@test "vm-prio reset of a record without its pid: forgotten, no crash" {
	sim_up "$SINGLE"
	qemu=$(qemu_of win10)
	mkdir -p "$SIMROOT/run/vfio-utils"
	printf '# vfio-utils state 1\nwin10 policy=other priority=0 nice=0\n# end\n' >"$SIMROOT/run/vfio-utils/prio"
	run on_sim vm-prio reset win10
	assert_success
	assert_output "win10: its QEMU is gone, and its threads' priority with it"
	[ ! -e "$SIMROOT/run/vfio-utils/prio" ]
	kill "$qemu"
}

@test "vm-nosleep release lets go with its state file damaged; hold refuses, naming what keeps it aside" {
	sim_up "$SINGLE"
	PATH=$STANDINS:$PATH
	sim_systemd
	on_sim vm-nosleep hold win10 >/dev/null
	echo 'win10 by=vm-nosleep "broken' >"$SIMROOT/run/vfio-utils/nosleep"
	run on_sim vm-nosleep hold other
	assert_failure 1
	assert_line "vm-nosleep: /run/vfio-utils/nosleep: damaged: not written over ('vm-nosleep release' keeps it aside); nothing changed"
	run on_sim vm-nosleep release win10
	assert_success
	assert_line "win10: sleep allowed again (vfio-utils-nosleep-win10.service stopped)"
	run on_sim systemd-inhibit --list --no-legend
	assert_output ""
	ls "$SIMROOT"/run/vfio-utils/nosleep.damaged-*
}

@test "vm-nosleep hold --timeout bounds a logind that does not answer: back within it, nothing held" {
	sim_up "$SINGLE"
	PATH=$STANDINS:$PATH
	sim_systemd
	mkdir -p "$SIMROOT/run/standin"
	echo 60 >"$SIMROOT/run/standin/inhibit-list-delay"
	SECONDS=0
	run on_sim vm-nosleep --timeout 2 hold win10
	assert_failure 1
	[ "$SECONDS" -le 6 ]
	rm "$SIMROOT/run/standin/inhibit-list-delay"
	run on_sim systemctl is-active vfio-utils-nosleep-win10.service
	refute_output active
}

@test "below a sysroot no module system call is made without the simulator's trap: this machine's kernel is never reached" {
	sim_up "$SINGLE"
	before=$(sim_snapshot)
	# the command as a user would run it on a captured tree: no kmodtrap.so preloaded
	VFIO_UTILS_SYSROOT=$SIMROOT run "$BUILD/vfio-bind" --group 09:00.0
	assert_failure 1
	assert_line "vfio-bind: vfio-pci: not loaded or unloaded: the module system call would reach this machine's kernel, not $SIMROOT's"
	assert_equal "$(sim_snapshot)" "$before"
	# through the trap, the same command loads it into the simulated kernel
	run on_sim vfio-bind --group 09:00.0
	assert_success
	assert_equal "$(driver_of 0000:09:00.0)" vfio-pci
}

@test "--domain-xml: a document type in UTF-16 or UTF-7 is refused by every reader, before any entity grows" {
	sim_up "$SINGLE"
	# an entity of 1 KiB referenced a thousand times in each of a hundred elements
	{
		printf '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE domain [<!ENTITY a "%s">]><domain><name>w</name>' "$(head -c 1024 /dev/zero | tr '\0' a)"
		for i in $(seq 100); do printf '<description>%s</description>' "$(printf '&a;%.0s' $(seq 1000))"; done
		printf '</domain>\n'
	} | iconv -t UTF-16 >"$BATS_TEST_TMPDIR/u16.xml"
	printf '<?xml version="1.0" encoding="UTF-7"?>\n+ADwAIQ-DOCTYPE domain +AFsAPAAh-ENTITY a +ACI-aaaa+ACIAPgBdAD4APA-domain+AD4APA-name+AD4-w+ADw-/name+AD4APA-/domain+AD4-\n' >"$BATS_TEST_TMPDIR/u7.xml"
	for f in u16 u7; do
		# vfio-bind takes a bad domain XML as a usage error (2), as it documents
		for c in "1 vm-prio -n set" "1 vm-hugepages -n reserve" "1 vm-cpus -n isolate" "1 vm-nosleep -n hold" "1 vfio-audit" "2 vfio-bind -n"; do
			SECONDS=0
			run on_sim ${c#* } --domain-xml "$BATS_TEST_TMPDIR/$f.xml"
			assert_failure "${c%% *}"
			c=${c#* }
			assert_output --regexp "^${c%% *}: $BATS_TEST_TMPDIR/$f.xml: not a libvirt domain XML: "
			[ "$SECONDS" -le 2 ]
		done
	done
	run on_sim vm-prio -n set --domain-xml "$BATS_TEST_TMPDIR/u16.xml"
	assert_output --partial "it holds NUL bytes (UTF-16 or UTF-32?)"
}

@test "vm-hugepages: an amount of memory libvirt does not take, or cells past 2^64 pages, is refused before any write" {
	sim_up "$SINGLE" "hugepages 2M pages 4"
	before=$(cat "$SIMROOT/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")
	for m in "<memory>-64</memory>" "<memory>0x40000</memory>" "<memory>1.5</memory>" "<memory unit='parsec'>2</memory>" ""; do
		printf "<domain><name>w</name>%s<memoryBacking><hugepages/></memoryBacking></domain>" "$m" >"$BATS_TEST_TMPDIR/w.xml"
		run on_sim vm-hugepages reserve --domain-xml "$BATS_TEST_TMPDIR/w.xml"
		assert_failure 1
		assert_output --regexp "^vm-hugepages: w: <memory> '.*': not an amount of memory libvirt takes$"
	done
	assert_output --partial "<memory> '(none)'"
	# two cells of 2^63 KiB each: their pages add up past an unsigned long
	printf "<domain><name>w</name><memory>1</memory><cpu><numa><cell id='0' cpus='0' memory='9223372036854775807'/><cell id='1' cpus='1' memory='9223372036854775807'/><cell id='2' cpus='1' memory='9223372036854775807'/></numa></cpu><memoryBacking><hugepages><page size='4' unit='KiB' nodeset='2'/><page size='8' unit='KiB'/></hugepages></memoryBacking></domain>" >"$BATS_TEST_TMPDIR/w.xml"
	run on_sim vm-hugepages reserve --domain-xml "$BATS_TEST_TMPDIR/w.xml"
	assert_failure 1
	assert_equal "$(cat "$SIMROOT/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" "$before"
	[ ! -e "$SIMROOT/run/vfio-utils/hugepages" ]
}

@test "vm-cpus: each pin's cpuset read whole and on its own; a list longer than a state value is remembered whole" {
	sim_up "$SINGLE"
	PATH=$STANDINS:$PATH
	# a 285-character emulatorpin naming CPU 6 last, and a vcpupin whose "^" excludes only from itself
	long="2$(for i in $(seq 70); do printf ',2'; done),6"
	printf "<domain><name>w</name><vcpu>1</vcpu><cputune><vcpupin vcpu='0' cpuset='1-3,^1'/><emulatorpin cpuset='%s'/><iothreadpin iothread='1' cpuset='1'/></cputune></domain>" "$long" >"$BATS_TEST_TMPDIR/w.xml"
	[ "${#long}" -gt 140 ]
	run on_sim vm-cpus isolate --domain-xml "$BATS_TEST_TMPDIR/w.xml"
	assert_success
	# 1 (iothreadpin), 2-3 (vcpupin less its own ^1), 6; with their SMT siblings (N+4)
	assert_output "w: CPUs for the VM: 1-3,5-7; the host keeps 0,4"
	run on_sim vm-cpus release w
	assert_success
	sim_down
	# 256 CPUs without SMT, a VM on every fourth: a list of 226 characters
	sim_up "$SINGLE" "cpus 256" "smt off"
	printf "<domain><name>v</name><vcpu>1</vcpu></domain>" >"$BATS_TEST_TMPDIR/v.xml"
	list=$(seq -s, 1 4 255)
	[ "${#list}" -gt 200 ]
	run on_sim vm-cpus isolate --cpus "$list" --domain-xml "$BATS_TEST_TMPDIR/v.xml"
	assert_success
	run on_sim vm-cpus --json
	assert_equal "$(jq -r '.domains[0].cpus' <<<"$output")" "$list"
	assert_equal "$(jq -r '.host_cpus' <<<"$output")" "$(cat "$SIMROOT/sys/fs/cgroup/system.slice/cpuset.cpus.effective")"
	[[ "$(jq -r '.host_cpus' <<<"$output")" == 0,2-4,6-8,*,250-252,254-255 ]]
	run on_sim vm-cpus release v
	assert_success
	assert_output "v: its CPUs given back; the host has 0-255 again"
}

@test "vm-nosleep status: a name with a carriage return forges no line; a name too long for a key is found by its unit" {
	sim_up "$SINGLE"
	PATH=$STANDINS:$PATH
	sim_systemd
	on_sim vm-nosleep hold $'evil\rwin10: vfio-utils-nosleep-win10.service active, sleep inhibited' >/dev/null
	long=$(printf 'vm-%.0s' $(seq 30))
	on_sim vm-nosleep hold "$long" >/dev/null
	run on_sim vm-nosleep status
	assert_success
	refute_output --partial $'\r'
	assert_line "evil\\x0dwin10: vfio-utils-nosleep-win10.service active, sleep inhibited: vfio-utils-nosleep-evil\\x0dwin10:\\x20vfio\\x2dutils\\x2dnosleep\\x2dwin10.service\\x20active\\x2c\\x20sleep\\x20inhibited.service active, sleep inhibited"
	assert_line --regexp "^$long: vfio-utils-nosleep-vm\\\\x2dvm.*\\.service active, sleep inhibited$"
	run on_sim vm-nosleep --json
	assert_equal "$(jq -r --arg l "$long" '.domains[] | select(.domain == $l) | .active, .inhibitor' <<<"$output")" $'true\ntrue'
	on_sim vm-nosleep release "$long" >/dev/null
	on_sim vm-nosleep release $'evil\rwin10: vfio-utils-nosleep-win10.service active, sleep inhibited' >/dev/null
	run on_sim systemd-inhibit --list --no-legend
	assert_output ""
}

@test "vm-nosleep and vm-cpus wait on systemd under their own lock: another VM's vfio-bind goes on meanwhile" {
	sim_up "$SINGLE"
	PATH=$STANDINS:$PATH
	sim_systemd
	mkdir -p "$SIMROOT/run/standin"
	echo 3 >"$SIMROOT/run/standin/run-delay"
	on_sim vm-nosleep hold win10 >/dev/null &
	local slow=$!
	sleep 0.5
	SECONDS=0
	run on_sim vfio-bind --timeout 1 09:00.1
	assert_success
	[ "$SECONDS" -le 2 ]
	assert_equal "$(driver_of 0000:09:00.1)" vfio-pci
	# a second run of the same command waits for the first, as before
	run on_sim vm-nosleep --timeout 1 hold other
	assert_failure 1
	assert_output "vm-nosleep: /run/vfio-utils/nosleep.lock: another run has held it for 1 s"
	wait "$slow"
	rm "$SIMROOT/run/standin/run-delay"
	run on_sim vfio-unbind --restore
	assert_success
	echo 3 >"$SIMROOT/run/standin/set-property-delay"
	printf "<domain><name>pin</name><vcpu>1</vcpu><cputune><vcpupin vcpu='0' cpuset='2'/></cputune></domain>" >"$BATS_TEST_TMPDIR/pin.xml"
	on_sim vm-cpus isolate --domain-xml "$BATS_TEST_TMPDIR/pin.xml" >/dev/null &
	slow=$!
	sleep 0.5
	SECONDS=0
	run on_sim vfio-bind --timeout 1 09:00.1
	assert_success
	[ "$SECONDS" -le 2 ]
	wait "$slow"
	run on_sim vm-cpus
	assert_line "pin: 2,6"
	on_sim vm-nosleep release win10 >/dev/null
}
