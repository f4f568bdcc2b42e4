#!/usr/bin/env bats
# hook-run on temporary hook trees, called exactly as libvirt calls its qemu hook.

load helpers

XML='<domain type="kvm"><name>win10</name><devices/></domain>'

setup() {
	hook_tree
}

# script GUEST OP SUBOP NAME [BODY]: an executable script that logs its call.
script() {
	local dir=$H/qemu.d/$1/$2/$3 body=${5:-}
	mkdir -p "$dir"
	printf '#!/bin/sh\necho "%s $*" >>"$LOG"\n%s\n' "$4" "$body" >"$dir/$4"
	chmod 755 "$dir/$4"
}

@test "scripts run in strcmp order, each with the four arguments" {
	script win10 prepare begin 30-c
	script win10 prepare begin 10-a
	script win10 prepare begin 20-b
	script win10 prepare begin B-upper
	run hook win10 prepare begin -
	assert_success
	run cat "$LOG"
	assert_output $'10-a win10 prepare begin -\n20-b win10 prepare begin -\n30-c win10 prepare begin -\nB-upper win10 prepare begin -'
}

@test "every script gets the whole domain XML on stdin, even after one reads it all" {
	for s in 10-a 20-b 30-c; do
		script win10 start begin $s "cat >\"\$LOG.$s\""
	done
	run hook win10 start begin -
	assert_success
	for s in 10-a 20-b 30-c; do
		assert_equal "$(cat "$LOG.$s")" "$XML"
	done
}

@test "a script that ignores stdin does not hold up the next one, even with a large XML" {
	script win10 start begin 10-ignore "true"
	script win10 start begin 20-read "cat >\"\$LOG.xml\""
	head -c 300000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big.xml"
	run timeout 20 "$H/qemu" win10 start begin - <"$BATS_TEST_TMPDIR/big.xml"
	assert_success
	assert_equal "$(wc -c <"$LOG.xml")" 300000
}

@test "VFIO_UTILS_HOOK=1 in every script's environment" {
	script win10 started begin env 'echo "hook=$VFIO_UTILS_HOOK" >>"$LOG"'
	hook win10 started begin -
	run cat "$LOG"
	assert_line "hook=1"
}

@test "scripts' output goes to stderr: stdout stays empty (libvirt reads it back for migrate and restore)" {
	script win10 migrate begin talk 'echo "to stdout"; echo "to stderr" >&2'
	run bash -c "printf x | '$H/qemu' win10 migrate begin - 2>/dev/null"
	assert_success
	assert_output ""
	run bash -c "printf x | '$H/qemu' win10 migrate begin - 2>&1 >/dev/null"
	assert_output $'to stdout\nto stderr'
}

@test "start side: the first failure stops the run, exit 1, the message names the script" {
	script win10 prepare begin 10-a
	script win10 prepare begin 20-fail 'echo "no GPU for you" >&2; exit 3'
	script win10 prepare begin 30-c
	run hook win10 prepare begin -
	assert_failure 1
	assert_line "no GPU for you"
	assert_line "hook-run: qemu.d/win10/prepare/begin/20-fail: exit status 3"
	assert_line "hook-run: prepare begin for win10 stopped at the first failure"
	run cat "$LOG"
	assert_output "10-a win10 prepare begin -
20-fail win10 prepare begin -"
}

@test "stop side: every script runs, failures are reported" {
	script win10 release end 10-fail 'exit 1'
	script win10 release end 20-b
	run hook win10 release end shutdown
	assert_failure 1
	assert_line "hook-run: qemu.d/win10/release/end/10-fail: exit status 1"
	run cat "$LOG"
	assert_line "20-b win10 release end shutdown"
}

@test "a single-file hook runs (the PassthroughPOST dispatcher's [ -s \"\$HOOKPATH\"] bug)" {
	mkdir -p "$H/qemu.d/win10/prepare"
	printf '#!/bin/sh\necho "single $*" >>"$LOG"\n' >"$H/qemu.d/win10/prepare/begin"
	chmod 755 "$H/qemu.d/win10/prepare/begin"
	run hook win10 prepare begin -
	assert_success
	assert_equal "$(cat "$LOG")" "single win10 prepare begin -"
}

@test "dotfiles, backups, package leftovers and non-executable files never run" {
	for s in .hidden a~ a.bak a.dpkg-old a.dpkg-dist a.rpmnew a.rpmsave 50-run; do
		script win10 prepare begin "$s"
	done
	script win10 prepare begin 60-noexec
	chmod 644 "$H/qemu.d/win10/prepare/begin/60-noexec"
	run hook win10 prepare begin -
	assert_success
	assert_equal "$(cat "$LOG")" "50-run win10 prepare begin -"
}

@test "a script others can write, or not owned by root, is refused and counts as a failure" {
	script win10 prepare begin 10-gw
	chmod 775 "$H/qemu.d/win10/prepare/begin/10-gw"
	run hook win10 prepare begin -
	assert_failure 1
	assert_line "hook-run: qemu.d/win10/prepare/begin/10-gw: refused: $H/qemu.d/win10/prepare/begin/10-gw: writable by its group: it could change what runs as root"
	[ ! -e "$LOG" ]
	chmod 755 "$H/qemu.d/win10/prepare/begin/10-gw"
	chmod 777 "$H/qemu.d/win10/prepare"
	run hook win10 prepare begin -
	assert_failure 1
	assert_line --partial "/qemu.d/win10/prepare: writable by everyone"
	chmod 755 "$H/qemu.d/win10/prepare"
	chown nobody "$H/qemu.d/win10/prepare/begin/10-gw"
	run hook win10 prepare begin -
	assert_failure 1
	assert_line --partial "10-gw: owned by uid $(id -u nobody), not by root"
}

@test "odd guest names: spaces and a leading '-' work; '..' and '/' never become paths" {
	script "my vm" start begin s
	script "-vm" start begin s
	run hook "my vm" start begin -
	assert_success
	run hook "-vm" start begin -
	assert_success
	assert_equal "$(cat "$LOG")" $'s my vm start begin -\ns -vm start begin -'
	# a tree an escaping name would reach
	mkdir -p "$H/x/start/begin"
	printf '#!/bin/sh\necho escaped >>"$LOG"\n' >"$H/x/start/begin/s"
	chmod 755 "$H/x/start/begin/s"
	for name in .. ../x . "a/b" ""; do
		run hook "$name" start begin -
		assert_success
	done
	run grep -c escaped "$LOG"
	assert_output 0
}

@test "a script that runs past HOOK_RUN_TIMEOUT is killed with its process group" {
	script win10 prepare begin slow 'sleep 300 & echo $! >"$LOG.child"; sleep 300'
	SECONDS=0
	HOOK_RUN_TIMEOUT=1 run hook win10 prepare begin -
	assert_failure 1
	[ "$SECONDS" -lt 10 ]
	assert_line "hook-run: qemu.d/win10/prepare/begin/slow: killed at the deadline (HOOK_RUN_TIMEOUT), status 124"
	sleep 0.2
	run alive_pid "$(cat "$LOG.child")"
	assert_failure
}

@test "'sleep 1000 &' left behind does not keep libvirt waiting on the hook's output" {
	script win10 started begin bg 'sleep 1000 & echo $! >"$LOG.child"'
	SECONDS=0
	# run reads the hook's stdout and stderr until end of file, as libvirt does
	run timeout 20 bash -c "printf x | '$H/qemu' win10 started begin - 2>&1"
	assert_success
	[ "$SECONDS" -lt 5 ]
	kill "$(cat "$LOG.child")"
}

@test "an event without scripts, and an unknown guest, do nothing and succeed" {
	run hook nosuchvm prepare begin -
	assert_success
	assert_output ""
	script win10 prepare begin a
	run hook win10 stopped end -
	assert_success
	[ ! -e "$LOG" ]
}

@test "install: becomes the qemu hook, keeping the guides' dispatcher aside; twice is nothing to do" {
	rm "$H/qemu"
	printf '#!/bin/bash\n# the guides dispatcher\n' >"$H/qemu"
	run hook-run --sysroot "$ROOT" install
	assert_success
	assert_line --index 0 "kept the previous hook as /etc/libvirt/hooks/qemu.orig (qemu.d keeps working with hook-run)"
	# no systemd running this machine: both daemons named
	assert_line --index 1 --partial "only when its daemon starts: systemctl restart libvirtd (or virtqemud)"
	assert_equal "$(readlink "$H/qemu")" "$(realpath "$BUILD/hook-run")"
	grep -q "the guides dispatcher" "$H/qemu.orig"
	run hook-run --sysroot "$ROOT" install
	assert_output "/etc/libvirt/hooks/qemu: already hook-run"
	rm "$H/qemu"
	echo other >"$H/qemu"
	run hook-run --sysroot "$ROOT" install
	assert_failure 1
	assert_output "hook-run: /etc/libvirt/hooks/qemu.orig: exists already: the hook there now would replace it (--force does)"
	run hook-run --sysroot "$ROOT" install --force
	assert_success
	assert_equal "$(cat "$H/qemu.orig")" other
}

# hooks: the hooks directory as it is, each entry, its kind, link and content.
hooks() {
	(cd "$H" && find . -maxdepth 1 -printf '%p %y %l\n' | sort && cat qemu qemu.orig 2>/dev/null) || true
}

@test "uninstall: exactly what install did, undone; another program's hook is left alone" {
	rm "$H/qemu"
	printf '#!/bin/bash\n# the guides dispatcher\n' >"$H/qemu"
	chmod 755 "$H/qemu"
	before=$(hooks)
	hook-run --sysroot "$ROOT" install >/dev/null
	run hook-run --sysroot "$ROOT" -n uninstall
	assert_success
	assert_output "rm $H/qemu
mv $H/qemu.orig $H/qemu"
	[ -L "$H/qemu" ]
	run hook-run --sysroot "$ROOT" uninstall
	assert_success
	assert_output --partial "put the previous hook back as /etc/libvirt/hooks/qemu; libvirt notices it only when its daemon starts"
	assert_equal "$(hooks)" "$before"
	# twice: the dispatcher is not hook-run's, and nothing is to undo
	run hook-run --sysroot "$ROOT" uninstall
	assert_success
	assert_output "/etc/libvirt/hooks/qemu: not hook-run's: nothing to undo"
	assert_equal "$(hooks)" "$before"
	# installed where there was no hook: removed
	rm "$H/qemu"
	before=$(hooks)
	hook-run --sysroot "$ROOT" install >/dev/null
	run hook-run --sysroot "$ROOT" uninstall
	assert_success
	assert_output --partial "removed /etc/libvirt/hooks/qemu;"
	assert_equal "$(hooks)" "$before"
	# a link to a hook-run a package removal took away: still hook-run's
	ln -s /usr/sbin/nosuchdir/hook-run "$H/qemu"
	echo kept >"$H/qemu.orig"
	run hook-run --sysroot "$ROOT" uninstall
	assert_success
	assert_equal "$(cat "$H/qemu")" kept
	# another program's hook, with a qemu.orig beside it: both left as they are
	echo other >"$H/qemu.orig"
	before=$(hooks)
	run hook-run --sysroot "$ROOT" uninstall
	assert_failure 1
	assert_output "hook-run: /etc/libvirt/hooks/qemu: not hook-run's: left alone, and /etc/libvirt/hooks/qemu.orig with it"
	assert_equal "$(hooks)" "$before"
}

@test "install --dry-run prints what it would do" {
	rm "$H/qemu"
	run hook-run --sysroot "$ROOT" -n install
	assert_success
	assert_line "ln -s $(realpath "$BUILD/hook-run") $H/qemu"
	[ ! -e "$H/qemu" ]
}

@test "list: what would run, in order, per event" {
	script win10 prepare begin 20-b
	script win10 prepare begin 10-a
	script win10 release end 10-z
	script other start begin x
	run hook-run --sysroot "$ROOT" list win10
	assert_success
	assert_output $'win10\tprepare begin\tqemu.d/win10/prepare/begin/10-a\nwin10\tprepare begin\tqemu.d/win10/prepare/begin/20-b\nwin10\trelease end\tqemu.d/win10/release/end/10-z'
	run hook-run --sysroot "$ROOT" list nosuch
	assert_output "qemu.d/nosuch: nothing would run"
	run hook-run --sysroot "$ROOT" list --json win10
	assert_success
	assert_output '{"schema":1,"command":"hook-run","scripts":[{"guest":"win10","op":"prepare","subop":"begin","path":"qemu.d/win10/prepare/begin/10-a"},{"guest":"win10","op":"prepare","subop":"begin","path":"qemu.d/win10/prepare/begin/20-b"},{"guest":"win10","op":"release","subop":"end","path":"qemu.d/win10/release/end/10-z"}],"errors":[],"warnings":[],"ok":true}'
	assert_equal "$(hook-run --sysroot "$ROOT" --json list | jq -r '.scripts[].guest' | sort -u | tr '\n' ' ')" "other win10 "
	run hook-run --sysroot "$ROOT" --json list nosuch
	assert_output '{"schema":1,"command":"hook-run","scripts":[],"errors":[],"warnings":[],"ok":true}'
	run hook-run --sysroot "$ROOT" --json check
	assert_failure 2
	assert_line --index 0 "hook-run: --json goes with list"
}

@test "check: every kind of problem the guides' users hit, counted, exit 1" {
	script win10 prepare begin ok
	script win10 prepare begin noexec
	chmod 644 "$H/qemu.d/win10/prepare/begin/noexec"
	script win10 prepare begin crlf
	sed -i 's/$/\r/' "$H/qemu.d/win10/prepare/begin/crlf"
	printf 'echo no shebang\n' >"$H/qemu.d/win10/prepare/begin/noshebang"
	chmod 755 "$H/qemu.d/win10/prepare/begin/noshebang"
	script win10 prepare begin detach 'virsh nodedev-detach pci_0000_01_00_0'
	script win10 prepare begin gw
	chmod 775 "$H/qemu.d/win10/prepare/begin/gw"
	script win10 prepare end wrongsub
	script win10 shutdown begin wrongop
	script win10 attach begin dead
	run hook-run --sysroot "$ROOT" -c "test:///default" check
	assert_failure 1
	assert_line "qemu.d/win10: no such domain at test:///default (a typo? the name is case-sensitive)"
	assert_line "qemu.d/win10/attach: libvirt stopped sending 'attach' in 5.5: it never runs"
	assert_line "qemu.d/win10/prepare/end: libvirt sends this event with 'begin': it never runs"
	assert_line "qemu.d/win10/prepare/begin/crlf: CRLF line endings: '#!/bin/bash\r' fails with 'bad interpreter' (dos2unix)"
	assert_line "qemu.d/win10/prepare/begin/detach: calls virsh: a hook that calls back into libvirt deadlocks it (vfio-bind and vfio-unbind do nodedev-detach's work)"
	assert_line --partial "qemu.d/win10/prepare/begin/gw: unsafe: "
	assert_line "qemu.d/win10/prepare/begin/noexec: not executable: it never runs (chmod +x)"
	assert_line "qemu.d/win10/prepare/begin/noshebang: no #! line: the kernel cannot run it (Exec format error)"
	assert_line --partial "qemu.d/win10/shutdown: libvirt sends no such event"
	assert_line --index -1 "9 problems"
}

@test "check against libvirt's test driver: the domains it defines are known" {
	[ -e /usr/lib/x86_64-linux-gnu/libvirt.so.0 ] || skip "libvirt is not installed"
	cat >"$BATS_TEST_TMPDIR/node.xml" <<-'EOF'
		<node>
		  <domain type="test"><name>win10</name><memory>65536</memory>
		    <os><type>hvm</type></os></domain>
		</node>
	EOF
	script win10 prepare begin ok
	script Win10 prepare begin ok
	run hook-run --sysroot "$ROOT" -c "test://$BATS_TEST_TMPDIR/node.xml" check
	assert_failure 1
	assert_line "qemu.d/Win10: no such domain at test://$BATS_TEST_TMPDIR/node.xml (a typo? the name is case-sensitive)"
	refute_line --partial "qemu.d/win10:"
	rm -r "$H/qemu.d/Win10"
	run hook-run --sysroot "$ROOT" -c "test://$BATS_TEST_TMPDIR/node.xml" check
	assert_success
	assert_output "no problems"
}

@test "check without libvirt to ask still audits everything else" {
	script win10 prepare begin ok
	run hook-run --sysroot "$ROOT" -c "qemu+unix:///system?socket=/nonexistent" check
	assert_success
	assert_line --index 0 --partial "note: cannot ask libvirt ("
	assert_line --index -1 "no problems, 1 note"
}

@test "check: a guide's start.sh and revert.sh beside the scripts hook-run new wrote would do the work twice" {
	# a copy: the machine's tree is shared by the tests
	root=$BATS_TEST_TMPDIR/root
	mkdir -p "$root"
	cp -a "$(machine $SINGLE)/." "$root/"
	mkdir -p "$root/etc/libvirt/hooks"
	hook-run --sysroot "$root" new win10 >/dev/null
	local q=$root/etc/libvirt/hooks/qemu.d/win10
	install -m 755 "$TESTS/lib/seed002/start.sh" "$q/prepare/begin/start.sh"
	install -m 755 "$TESTS/lib/seed002/revert.sh" "$q/release/end/revert.sh"
	# a script of the user's own that does none of it is nobody's business
	printf '#!/bin/sh\n# systemctl stop lightdm (a comment)\necho hello\n' >"$q/prepare/begin/60-mine"
	chmod 755 "$q/prepare/begin/60-mine"
	run hook-run --sysroot "$root" -c "qemu+unix:///system?socket=/nonexistent" check
	assert_failure 1
	assert_line "qemu.d/win10/prepare/begin/start.sh: does what 50-vfio-utils (written by hook-run new) does too: the display manager, the consoles, the framebuffer, the devices (virsh nodedev-*), the modules (modprobe). Both would run, the second on what the first handed over already: move it aside"
	assert_line --partial "qemu.d/win10/release/end/revert.sh: does what 50-vfio-utils (written by hook-run new) does too: the display manager, the consoles, the framebuffer,"
	refute_line --partial "60-mine"
	# moved aside: nothing runs twice
	mv "$q/prepare/begin/start.sh" "$q/prepare/begin/start.sh.off"
	chmod -x "$q/prepare/begin/start.sh.off"
	rm "$q/release/end/revert.sh"
	run hook-run --sysroot "$root" -c "qemu+unix:///system?socket=/nonexistent" check
	refute_output --partial "does what"
}

@test "new beside a guide's scripts: refused, naming them; --move-aside keeps them where nothing runs them; kvm.conf names the GPU" {
	root=$BATS_TEST_TMPDIR/root
	mkdir -p "$root"
	cp -a "$(machine $DUAL)/." "$root/"
	local h=$root/etc/libvirt/hooks q=$root/etc/libvirt/hooks/qemu.d/win10
	mkdir -p "$q/prepare/begin" "$q/release/end"
	install -m 755 "$TESTS/lib/seed002/start.sh" "$q/prepare/begin/start.sh"
	install -m 755 "$TESTS/lib/seed002/revert.sh" "$q/release/end/revert.sh"
	# the guide's kvm.conf names the host's boot GPU, not the one new would pick
	printf 'VIRSH_GPU_VIDEO=pci_0000_09_00_0\nVIRSH_GPU_AUDIO=pci_0000_09_00_1\n' >"$h/kvm.conf"
	run --separate-stderr hook-run --sysroot "$root" new win10
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "hook-run: /etc/libvirt/hooks/qemu.d/win10/prepare/begin/start.sh: a guide's script that does what hook-run new writes (the display manager, the consoles, the framebuffer, the devices (virsh nodedev-*), the modules (modprobe)): both would run (--move-aside keeps it in /etc/libvirt/hooks/vfio-utils-aside/win10/prepare/begin)"
	assert_equal "${#stderr_lines[@]}" 2
	[ ! -e "$q/prepare/begin/50-vfio-utils" ]
	[ -x "$q/prepare/begin/start.sh" ]
	run hook-run --sysroot "$root" -n --move-aside new win10
	assert_success
	assert_line "mv $q/prepare/begin/start.sh $h/vfio-utils-aside/win10/prepare/begin/start.sh"
	[ -x "$q/prepare/begin/start.sh" ]
	run hook-run --sysroot "$root" --move-aside new win10
	assert_success
	assert_line "the GPU kvm.conf names (VIRSH_GPU_VIDEO): 0000:09:00.0"
	assert_line "moved /etc/libvirt/hooks/qemu.d/win10/release/end/revert.sh aside to /etc/libvirt/hooks/vfio-utils-aside/win10/release/end/revert.sh (mv it back to run it again)"
	cmp "$TESTS/lib/seed002/start.sh" "$h/vfio-utils-aside/win10/prepare/begin/start.sh"
	[ ! -e "$q/prepare/begin/start.sh" ] && [ ! -e "$q/release/end/revert.sh" ]
	grep -qx "vfio-bind --group 0000:09:00.0" "$q/prepare/begin/50-vfio-utils"
	# the boot GPU: the screen is handed over first
	grep -qx "dm-ctl stop" "$q/prepare/begin/50-vfio-utils"
	run hook-run --sysroot "$root" -c "qemu+unix:///system?socket=/nonexistent" check
	refute_output --partial "does what"
	refute_output --partial "vfio-utils-aside"
	run hook-run --move-aside list
	assert_failure 2
	assert_line --index 0 "hook-run: --move-aside goes with new"
}

@test "new: start and release scripts for the machine's GPU, written with the suite's commands" {
	root=$(machine $SINGLE)
	mkdir -p "$root/etc/libvirt/hooks"
	run hook-run --sysroot "$root" new win10
	assert_success
	run cat "$root/etc/libvirt/hooks/qemu.d/win10/prepare/begin/50-vfio-utils"
	assert_line "# GPU 0000:09:00.0 [10de:1e84], IOMMU group 2, the host's screen: hand the display over first."
	# by name: hook-run finds them beside itself, from a source build or a package
	assert_line "dm-ctl stop"
	assert_line "vfio-bind --group 0000:09:00.0"
	[ -x "$root/etc/libvirt/hooks/qemu.d/win10/release/end/50-vfio-utils" ]
	run cat "$root/etc/libvirt/hooks/qemu.d/win10/release/end/50-vfio-utils"
	assert_line "vfio-unbind --restore"
	run hook-run --sysroot "$root" new win10
	assert_failure 1
	assert_output "hook-run: /etc/libvirt/hooks/qemu.d/win10/prepare/begin/50-vfio-utils: exists already: edit it, or --force replaces it"
	ln -s "$BUILD/hook-run" "$root/etc/libvirt/hooks/qemu"
	run hook-run --sysroot "$root" -c "qemu+unix:///system?socket=/nonexistent" check
	assert_line --index -1 "no problems, 1 note"
}

@test "new on a dual-GPU machine takes the GPU the host does not boot on, and leaves the screen alone" {
	root=$(machine $DUAL)
	run hook-run --sysroot "$root" -n new win10
	assert_success
	assert_line "# GPU 0000:01:00.0 [10de:1f03], IOMMU group 8; the host keeps its screen on another GPU."
	assert_line "# dm-ctl stop"
	[ ! -e "$root/etc/libvirt/hooks/qemu.d" ]
	run hook-run --sysroot "$root" new --gpu 02:00.0 "../x"
	assert_failure 2
}

# libvirt 6.5 and later run each executable file in qemu.d too, after the qemu hook.
as_libvirt() {
	local f
	[ -x "$H/qemu" ] && hook "$@"
	for f in "$H"/qemu.d/*; do
		[ -f "$f" ] && [ -x "$f" ] && hook_at "$f" "$@"
	done
	return 0
}
hook_at() {
	local f=$1
	shift
	printf '%s' "$XML" | "$f" "$@"
}

@test "the package's link qemu.d/vfio-utils runs the scripts once, whatever the qemu hook is" {
	script win10 prepare begin a
	ln -s "$BUILD/hook-run" "$H/qemu.d/vfio-utils"
	# the link alone: libvirt runs it, it runs the scripts
	rm "$H/qemu"
	as_libvirt win10 prepare begin -
	assert_equal "$(cat "$LOG")" "a win10 prepare begin -"
	run hook-run --sysroot "$ROOT" -c "qemu+unix:///system?socket=/nonexistent" check
	assert_success
	refute_line --partial "missing"
	refute_line --partial "qemu.d/vfio-utils"
	# hook-run as the qemu hook too (hook-run install): it runs them, the link leaves them
	: >"$LOG"
	ln -s "$BUILD/hook-run" "$H/qemu"
	as_libvirt win10 prepare begin -
	assert_equal "$(cat "$LOG")" "a win10 prepare begin -"
	# the guides' dispatcher as the qemu hook: it runs them, the link leaves them
	: >"$LOG"
	rm "$H/qemu"
	cat >"$H/qemu" <<-'EOF'
		#!/bin/bash
		HOOKPATH="$(dirname "$0")/qemu.d/$1/$2/$3"
		for f in "$HOOKPATH"/*; do [ -x "$f" ] && "$f" "$@"; done
		exit 0
	EOF
	chmod 755 "$H/qemu"
	as_libvirt win10 prepare begin -
	assert_equal "$(cat "$LOG")" "a win10 prepare begin -"
	run hook-run --sysroot "$ROOT" -c "qemu+unix:///system?socket=/nonexistent" check
	assert_line "note: qemu: a dispatcher of its own runs qemu.d's scripts, and hook-run in qemu.d leaves them to it (hook-run install puts hook-run in its place)"
	assert_line --index -1 "no problems, 2 notes"
	# another kind of qemu hook, not a dispatcher: the link runs them
	: >"$LOG"
	printf '#!/bin/sh\nexit 0\n' >"$H/qemu"
	as_libvirt win10 prepare begin -
	assert_equal "$(cat "$LOG")" "a win10 prepare begin -"
}

@test "scripts find the suite's commands by name: hook-run's directory first on PATH" {
	script win10 prepare begin which 'command -v vfio-bind >>"$LOG"; echo "$PATH" >>"$LOG"'
	printf '%s' "$XML" | env -i PATH=/usr/bin:/bin LOG="$LOG" "$H/qemu" win10 prepare begin -
	run cat "$LOG"
	assert_line --index 1 "$(dirname "$(realpath "$BUILD/hook-run")")/vfio-bind"
	assert_line --index 2 "$(dirname "$(realpath "$BUILD/hook-run")"):/usr/bin:/bin"
}

@test "check: the count says the problems it printed; notes are said apart" {
	rm "$H/qemu"
	printf '#!/bin/sh\nexit 0\n' >"$H/qemu"
	chmod 755 "$H/qemu"
	script win10 prepare end wrongsub
	script win10 attach begin dead
	run hook-run --sysroot "$ROOT" -c "qemu+unix:///system?socket=/nonexistent" check
	assert_failure 1
	assert_line --index -1 "2 problems, 2 notes"
	[ "$(grep -vc '^note: ' <<<"$output")" -eq 3 ] # two problems and the count
	[ "$(grep -c '^note: ' <<<"$output")" -eq 2 ]
	assert_line "note: qemu: not hook-run (the guides' dispatcher? hook-run install keeps it aside)"
}

@test "list: a domain libvirt does not know is said, an error when it has no scripts either" {
	[ -e /usr/lib/x86_64-linux-gnu/libvirt.so.0 ] || skip "libvirt is not installed"
	script Win10 prepare begin a
	run hook-run --sysroot "$ROOT" -c test:///default list Win10
	assert_success
	assert_line "hook-run: warning: Win10: no such domain at test:///default: no event runs these (a typo? the name is case-sensitive)"
	assert_line $'Win10\tprepare begin\tqemu.d/Win10/prepare/begin/a'
	run hook-run --sysroot "$ROOT" -c test:///default list wn10
	assert_failure 1
	assert_output "hook-run: wn10: no such domain at test:///default, and no scripts (a typo? the name is case-sensitive)"
	# libvirt's test driver defines "test"
	run hook-run --sysroot "$ROOT" -c test:///default list test
	assert_success
	assert_output "qemu.d/test: nothing would run"
}

@test "install names the daemon to restart, as systemd has it: libvirtd or virtqemud" {
	rm "$H/qemu"
	mkdir -p "$ROOT/run/systemd/system" "$ROOT/lib/systemd/system"
	touch "$ROOT/lib/systemd/system/virtqemud.service"
	PATH=$STANDINS:$PATH VFIO_UTILS_SYSROOT=$ROOT run hook-run install
	assert_success
	assert_output --partial "libvirt notices a new hook only when its daemon starts: systemctl restart virtqemud"
	rm "$H/qemu"
	touch "$ROOT/lib/systemd/system/libvirtd.service"
	PATH=$STANDINS:$PATH VFIO_UTILS_SYSROOT=$ROOT run hook-run install
	assert_output --partial "systemctl restart libvirtd"
}

@test "without root: install and a state change say they need root" {
	local d
	d=$(mktemp -d /tmp/vu-nobody.XXXXXX)
	chmod 755 "$d"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/hook-run" --sysroot "$d" install
	assert_failure 1
	assert_output "hook-run: /etc/libvirt/hooks: cannot install: Permission denied (needs root)"
	cp -a "$(machine x570-rtx2070s-group)/." "$d/"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/vfio-bind" --sysroot "$d" --group 09:00.0
	assert_failure 1
	assert_output "vfio-bind: /run/vfio-utils: cannot take the lock: Permission denied (needs root)"
	rm -rf "$d"
}

@test "usage errors" {
	run hook-run
	assert_failure 2
	assert_line --index 0 "hook-run: no command: install, check, list, new or uninstall (or libvirt's four arguments)"
	run hook-run frob
	assert_failure 2
	run hook-run new
	assert_failure 2
	run hook-run --version
	assert_output --regexp '^hook-run \(vfio-utils\) '
}
