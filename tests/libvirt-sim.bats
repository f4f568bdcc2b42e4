#!/usr/bin/env bats
# libvirt's own PCI code against the simulator: a real libvirtd whose /sys,
# /dev/vfio and module tools are a simulated machine's (tests/lib/with-libvirtd
# --sim): its node devices, the guides' virsh nodedev-detach lines, and a
# domain with host devices going through libvirt's detach and reattach around
# hook-run's calls. QEMU then stops at the first VFIO ioctl, which FUSE cannot
# serve: every start ends there, and libvirt runs its stop path, as after any
# failed start.

load helpers

setup() {
	require_libvirt
	require_sim
	# the hooks' systemctl and systemd-run: the stand-ins, never the host's
	PATH=$STANDINS:$PATH
	HOOKS=$BATS_TEST_TMPDIR/hooks
	mkdir -p "$HOOKS"
	ln -s "$BUILD/hook-run" "$HOOKS/qemu"
	DOMAIN=$BATS_TEST_TMPDIR/vu-test.xml
}

teardown() {
	sim_down
}

# domain [managed|unmanaged] ADDRESS...: the test domain passing those devices.
domain() {
	local managed=yes a
	[ "$1" = unmanaged ] && managed=no
	[ "$1" = managed ] || [ "$1" = unmanaged ] || set -- x "$@"
	shift
	{
		sed -n '1,/<devices>/p' "$TEST_DOMAIN" | sed "s|<memory unit='MiB'>64</memory>|&\n  <memtune><hard_limit unit='KiB'>8192</hard_limit></memtune>|; s|<vcpu>1</vcpu>|<vcpu placement='static' cpuset='0'>1</vcpu>|; s|machine='pc'|machine='q35'|"
		for a in "$@"; do
			printf "    <hostdev mode='subsystem' type='pci' managed='%s'>\n      <source><address domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/></source>\n    </hostdev>\n" \
				"$managed" "${a:0:4}" "${a:5:2}" "${a:8:2}" "${a:11:1}"
		done
		sed -n '/<devices>/,$p' "$TEST_DOMAIN" | sed 1d
	} >"$DOMAIN"
}

# in_libvirt COMMAND: COMMAND in the namespace of a libvirtd on the simulator.
in_libvirt() {
	with-libvirtd --sim "$SIMROOT" "$HOOKS" -- bash -c "$1"
}

virsh_() { echo "virsh -q -c qemu:///system $*"; }

# mark_hooks: a first script for each event that writes it to the journal.
mark_hooks() {
	local e
	for e in "prepare begin" "start begin" "started begin" "stopped end" "release end"; do
		set -- $e
		mkdir -p "$HOOKS/qemu.d/vu-test/$1/$2"
		printf '#!/bin/sh\nprintf "mark hook %%s %%s" "$2" "$3" >%s/.simfs/control\n' "$SIMROOT" \
			>"$HOOKS/qemu.d/vu-test/$1/$2/10-mark"
		chmod 755 "$HOOKS/qemu.d/vu-test/$1/$2/10-mark"
	done
}

# script OP SUBOP LINES: the domain's hook script after the marks, its commands
# with the simulator as their sysroot (libvirt clears a hook's environment).
script() {
	mkdir -p "$HOOKS/qemu.d/vu-test/$1/$2"
	printf '#!/bin/sh\nexport VFIO_UTILS_SYSROOT=%s PATH=%s:$PATH\n%s\n' "$SIMROOT" "$BUILD" "$3" \
		>"$HOOKS/qemu.d/vu-test/$1/$2/50-vfio-utils"
	chmod 755 "$HOOKS/qemu.d/vu-test/$1/$2/50-vfio-utils"
}

# The journal, each line reduced to what happened: "mark hook prepare begin",
# "write DEVICE driver_override vfio-pci", "load vfio_pci".
events() {
	awk -F'\t' '
		$1 == "mark" { print "mark " $2; next }
		$1 == "write" { n = split($2, p, "/"); dev = ($2 ~ /drivers_probe|\/unbind$|\/bind$/) ? $3 : p[n - 1]
			print "write " dev " " p[n] ($2 ~ /driver_override/ ? " " ($3 == "" ? "-" : $3) : ""); next }
		{ print $1 " " $2 }' "$SIMROOT/.sim/journal"
}

# Between two marks: the events after the first and before the second.
between() { events | sed -n "/^mark hook $1\$/,/^mark hook $2\$/p" | sed '1d;$d'; }

@test "virsh nodedev-list and nodedev-dumpxml agree with iommu-groups --json on devices, drivers and groups" {
	local m
	for m in $SINGLE $DUAL; do
		sim_up "$m"
		run in_libvirt 'for n in $(virsh -q -c qemu:///system nodedev-list --cap pci); do virsh -q -c qemu:///system nodedev-dumpxml "$n"; done'
		assert_success
		local xml=$output
		# each device: address, driver, IOMMU group, as libvirt reads them
		diff <(on_sim iommu-groups --json | jq -r '.groups[] | .group as $g | .devices[] | "\(.address) \(.driver // "-") \($g)"' |
			sed 's/^\([0-9a-f][0-9a-f]:\)/0000:\1/' | sort) \
			<(awk -F"[<>']" '
				/<name>pci_/ { split($3, a, "_"); dev = sprintf("%s:%s:%s.%s", a[2], a[3], a[4], a[5]); drv = "-" }
				/<driver>/ { indrv = 1 } indrv && /<name>/ { drv = $3; indrv = 0 }
				/<iommuGroup number=/ { print dev, drv, $3 }' <<<"$xml" | sort)
		sim_down
	done
}

@test "the guides' virsh nodedev-detach and -reattach lines move the devices as vfio-bind and vfio-unbind do" {
	local guides ours state
	sim_up "$DUAL"
	: >"$SIMROOT/.sim/journal"
	# seeds 000/001: modprobe the vfio modules, then one nodedev-detach per device
	run in_libvirt "modprobe vfio && modprobe vfio_iommu_type1 && modprobe vfio_pci &&
		$(virsh_ nodedev-detach pci_0000_01_00_0) && $(virsh_ nodedev-detach pci_0000_01_00_1)"
	assert_success
	state=$(sim_snapshot)
	guides=$(events | grep '^write')
	run in_libvirt "$(virsh_ nodedev-reattach pci_0000_01_00_0) && $(virsh_ nodedev-reattach pci_0000_01_00_1) &&
		modprobe -r vfio_pci && modprobe -r vfio_iommu_type1 && modprobe -r vfio"
	assert_success
	local back
	back=$(sim_snapshot)
	sim_down
	sim_up "$DUAL"
	: >"$SIMROOT/.sim/journal"
	on_sim vfio-bind 01:00.0 01:00.1 >/dev/null
	assert_equal "$(sim_snapshot)" "$state"
	ours=$(events | grep '^write')
	# the same writes, in the same order: driver_override, unbind, drivers_probe
	assert_equal "$ours" "$guides"
	on_sim vfio-unbind --restore >/dev/null
	assert_equal "$(sim_snapshot)" "$back"
}

@test "managed host devices and hook-run new's scripts: libvirt leaves what prepare bound; the machine ends as it began" {
	sim_up "$DUAL"
	# systemd's bus, where the scripts' vm-nosleep asks for its unit
	sim_systemd
	local before
	before=$(sim_snapshot)
	domain managed 0000:01:00.0 0000:01:00.1
	hook-run --sysroot "$SIMROOT" new vu-test >/dev/null
	mkdir -p "$HOOKS/qemu.d"
	cp -a "$SIMROOT/etc/libvirt/hooks/qemu.d/vu-test" "$HOOKS/qemu.d/"
	mark_hooks
	: >"$SIMROOT/.sim/journal"
	run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && $(virsh_ start vu-test)"
	assert_failure
	assert_output --partial "failed to get group 8 status: Inappropriate ioctl for device" # QEMU, at the first VFIO ioctl
	# libvirt's order: prepare, its detach, start, QEMU; stopped, its reattach, release
	run bash -c "$(declare -f events); SIMROOT=$SIMROOT events | grep '^mark'"
	assert_output "mark hook prepare begin
mark hook start begin
mark hook stopped end
mark hook release end"
	# prepare's vfio-bind took the group; libvirt found it bound and left it, both ways
	run between "prepare begin" "start begin"
	assert_line "write 0000:01:00.0 driver_override vfio-pci"
	run between "stopped end" "release end"
	assert_output ""
	assert_equal "$(sim_snapshot)" "$before"
}

@test "libvirt runs the packaged link qemu.d/vfio-utils by itself; with hook-run as the qemu hook too, each script still runs once" {
	sim_up "$DUAL"
	domain 0000:01:00.0 0000:01:00.1
	mark_hooks
	rm "$HOOKS/qemu"
	ln -s "$BUILD/hook-run" "$HOOKS/qemu.d/vfio-utils"
	local cfg
	for cfg in "the link alone" "the link and hook-run install"; do
		[ "$cfg" = "the link alone" ] || ln -s "$BUILD/hook-run" "$HOOKS/qemu"
		: >"$SIMROOT/.sim/journal"
		run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && $(virsh_ start vu-test)"
		assert_failure # QEMU, at the first VFIO ioctl
		run bash -c "$(declare -f events); SIMROOT=$SIMROOT events | grep '^mark'"
		assert_output "mark hook prepare begin
mark hook start begin
mark hook stopped end
mark hook release end" || fail "$cfg"
	done
}

@test "libvirt's own detach and reattach between the hooks; with vfio-bind --unload in prepare the release hook gives back the rest" {
	sim_up "$DUAL"
	local before
	before=$(sim_snapshot)
	domain managed 0000:01:00.0 0000:01:00.1
	mark_hooks
	# prepare takes only the GPU and removes nvidia; libvirt itself detaches the audio function
	script prepare begin "vfio-bind --unload 0000:01:00.0"
	script release end "vfio-unbind --restore"
	: >"$SIMROOT/.sim/journal"
	run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && $(virsh_ start vu-test)"
	assert_failure
	run between "prepare begin" "start begin"
	assert_line "unload nvidia"
	assert_line "write 0000:01:00.1 driver_override vfio-pci" # libvirt's detach, after the hook
	assert_line "write 0000:01:00.1 drivers_probe"
	run between "stopped end" "release end"
	assert_line "write 0000:01:00.1 driver_override -" # libvirt's reattach, before the release hook
	refute_line --partial "0000:01:00.0"
	run events
	assert_line "load nvidia"
	assert_equal "$(sim_snapshot)" "$before"
}

@test "a blocked unbind in prepare: libvirt aborts, the release hook says which device is stuck; --restore later ends it" {
	sim_up "$DUAL" "fault unbind-blocks 01:00.1"
	local before
	before=$(sim_snapshot)
	domain managed 0000:01:00.0 0000:01:00.1
	mark_hooks
	script prepare begin "vfio-bind --timeout 1 --group 0000:01:00.0"
	script release end "vfio-unbind --timeout 1 --restore"
	run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && $(virsh_ start vu-test)"
	assert_failure
	assert_output --partial "0000:01:00.1: stuck: unbind from snd_hda_intel did not finish in 1 s"
	run events
	assert_line "mark hook release end"
	refute_line "mark hook start begin"
	sim ctl "$SIMROOT" release 01:00.1
	on_sim vfio-unbind --restore >/dev/null
	assert_equal "$(sim_snapshot)" "$before"
}

@test "a fault at each write and module load of the prepare hook: libvirt aborts, runs the release hook, the machine ends as it began" {
	sim_up "$DUAL"
	local before ops op target skip cases=0 failures=
	before=$(sim_snapshot)
	domain managed 0000:01:00.0 0000:01:00.1
	script prepare begin "vfio-bind --timeout 2 --group 0000:01:00.0"
	script release end "vfio-unbind --timeout 2 --restore"
	: >"$SIMROOT/.sim/journal"
	on_sim "$HOOKS/qemu.d/vu-test/prepare/begin/50-vfio-utils" >/dev/null
	ops=$(awk -F'\t' '$1 != "mark" { print $1, $2, seen[$1 " " $2]++ }' "$SIMROOT/.sim/journal")
	sim_down
	[ "$(wc -l <<<"$ops")" -ge 8 ]
	while read -r op target skip; do
		sim_up "$DUAL"
		if [ "$op" = write ]; then
			sim ctl "$SIMROOT" fault write "$target" EIO once skip="$skip"
		else
			sim ctl "$SIMROOT" fault module "$target" "$op" EIO once
		fi
		run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && $(virsh_ start vu-test)"
		cases=$((cases + 1))
		[ "$status" -ne 0 ] || failures+=" (started with $op $target failing)"
		[ "$(sim_snapshot)" = "$before" ] || failures+=$'\n'"  $op $target #$skip: $(diff <(echo "$before") <(sim_snapshot))"
		sim_down
	done <<<"$ops"
	echo "# libvirt fault cases: $cases" >&3
	[ -z "$failures" ] || fail "not back to the start after:$failures"
}

@test "unmanaged host devices: libvirt refuses them unbound; vfio-bind --domain-xml - in prepare binds exactly them" {
	sim_up "$DUAL"
	local before
	before=$(sim_snapshot)
	domain unmanaged 0000:01:00.0 0000:01:00.1
	run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && $(virsh_ start vu-test)"
	assert_failure
	assert_output --partial "Unmanaged PCI device 0000:01:00.0 must be manually detached from the host"
	script prepare begin "vfio-bind --domain-xml -"
	script release end "vfio-unbind --domain-xml -"
	run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && $(virsh_ start vu-test)"
	assert_failure
	refute_output --partial "must be manually detached"
	assert_output --partial "failed to get group 8 status" # past libvirt's checks, to QEMU
	assert_equal "$(sim_snapshot)" "$before"
}

@test "hook-run new asks libvirt: the domain's own devices, managed or not; a misspelt name is refused; check audits unmanaged ones" {
	sim_up "$DUAL"
	domain managed 0000:01:00.0 0000:01:00.1
	local q=$SIMROOT/etc/libvirt/hooks/qemu.d
	mkdir -p "$q"
	ln -s "$BUILD/hook-run" "$SIMROOT/etc/libvirt/hooks/qemu"
	run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && hook-run -c qemu:///system new vu-test"
	assert_success
	run cat "$q/vu-test/prepare/begin/50-vfio-utils"
	assert_line "# The domain passes its PCI devices managed: libvirt would detach them itself"
	assert_line "printf '%s\\n' \"\$xml\" | vfio-bind --group --domain-xml -"
	assert_line --partial "# GPU 0000:01:00.0 [10de:1f03], IOMMU group 8; the host keeps its screen on another GPU."
	# the same name misspelt: no domain of that name, nothing written
	run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && hook-run -c qemu:///system new vu-tset"
	assert_failure 1
	assert_output "hook-run: vu-tset: no such domain at qemu:///system (a typo? the name is case-sensitive; --force writes the scripts anyway)"
	[ ! -e "$q/vu-tset" ]
	# unmanaged, and no prepare script that binds: check says libvirt will refuse
	rm -rf "$q/vu-test"
	domain unmanaged 0000:01:00.0 0000:01:00.1
	run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && hook-run -c qemu:///system check"
	assert_failure 1
	assert_line "qemu.d/vu-test: passes 0000:01:00.0 unmanaged (managed='no') and no prepare script binds it: libvirt refuses to start it ('vfio-bind --domain-xml -' in prepare/begin does)"
	run in_libvirt "$(virsh_ define "$DOMAIN") >/dev/null && hook-run -c qemu:///system new vu-test && hook-run -c qemu:///system check"
	assert_success
	run cat "$q/vu-test/prepare/begin/50-vfio-utils"
	assert_line "# it only once this script has bound them."
}

@test "vfio-audit asks libvirt: every domain, one by name, a misspelt one; two domains passing one GPU" {
	sim_up "$DUAL"
	domain managed 0000:01:00.0 0000:01:00.1
	sed 's|<name>vu-test</name>|<name>vu-two</name>|' "$DOMAIN" >"$BATS_TEST_TMPDIR/two.xml"
	local define="$(virsh_ define "$DOMAIN") >/dev/null && $(virsh_ define "$BATS_TEST_TMPDIR/two.xml") >/dev/null"
	# libvirt's own XML, as it keeps it: group 8 whole, the GPU in both domains, neither running
	run in_libvirt "$define && vfio-audit -c qemu:///system --json"
	assert_success
	assert_equal "$(jq -c .domains <<<"$output")" '["vu-test","vu-two"]'
	assert_equal "$(jq -r '[.findings[] | select(.id == "device-in-two-domains") | "\(.severity) \(.domain) \(.message)"] | .[]' <<<"$output")" \
		"warning vu-two 0000:01:00.0: vu-test passes it too: only one of them can run at a time
warning vu-two 0000:01:00.1: vu-test passes it too: only one of them can run at a time"
	assert_equal "$(jq -r '[.findings[] | select(.severity == "error")] | length' <<<"$output")" 0
	# libvirt fills in what the XML left out: a virtio balloon, BIOS; the GPU is NVIDIA's
	assert_equal "$(jq -r '[.findings[] | select(.domain == "vu-test") | .id] | join(" ")' <<<"$output")" \
		"nvidia-not-hidden firmware-not-uefi cpu-not-host-passthrough memballoon"
	run in_libvirt "$define && vfio-audit -c qemu:///system vu-test"
	assert_success
	assert_line "1 domain: 0 errors, 4 warnings"
	run in_libvirt "$define && vfio-audit -c qemu:///system vu-tset"
	assert_failure 1
	assert_line "vfio-audit: vu-tset: no such domain at qemu:///system"
}
