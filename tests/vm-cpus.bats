#!/usr/bin/env bats
# vm-cpus on the kernel simulator: systemd's slices (through the systemctl
# stand-in, which writes their cgroups' cpusets as systemd does) and the
# workqueues' mask, read back from the simulated kernel.

load helpers

setup() {
	PATH=$STANDINS:$PATH
}

teardown() {
	sim_down
}

vc() { on_sim "$BUILD/vm-cpus" "$@"; }

# xml NAME PINS...: a domain whose vCPUs are pinned to PINS, one each.
xml() {
	local name=$1 v=0 pins=
	shift
	for p in "$@"; do
		pins+="<vcpupin vcpu='$v' cpuset='$p'/>"
		v=$((v + 1))
	done
	printf "<domain type='kvm'><name>%s</name><vcpu>%d</vcpu><cputune>%s</cputune></domain>\n" \
		"$name" "$v" "$pins" >"$BATS_TEST_TMPDIR/$name.xml"
	echo "$BATS_TEST_TMPDIR/$name.xml"
}

cg() { cat "$SIMROOT/sys/fs/cgroup/$1/cpuset.cpus.effective"; }
wq() { cat "$SIMROOT/sys/devices/virtual/workqueue/cpumask"; }

@test "isolate: the pinned CPUs and their SMT siblings are the VM's, the slices and workqueues keep the rest; release gives all back" {
	sim_up $SINGLE
	x=$(xml win10 2 3)
	run vc isolate --domain-xml "$x"
	assert_success
	# 8 threads: CPU N and N+4 share a core
	assert_output "win10: CPUs for the VM: 2-3,6-7; the host keeps 0-1,4-5"
	for u in init.scope system.slice user.slice; do
		assert_equal "$(cg $u)" 0-1,4-5
	done
	# the VMs' own slice is left alone
	assert_equal "$(cg machine.slice)" 0-7
	assert_equal "$(wq)" 33
	run cat "$SIMROOT/run/systemd/system.control/system.slice.d/50-AllowedCPUs.conf"
	assert_line "AllowedCPUs=0-1 4-5"
	run vc --json
	assert_equal "$(jq -c '[.cpus, .host_cpus, .domains]' <<<"$output")" '["0-7","0-1,4-5",[{"domain":"win10","cpus":"2-3,6-7"}]]'
	run vc release --domain-xml - <"$x"
	assert_success
	assert_output "win10: its CPUs given back; the host has 0-7 again"
	# every CPU written out (a slice with tasks cannot be given "" back: ENOSPC,
	# which systemd only warns of), then systemd's property reset
	for u in init.scope system.slice user.slice; do
		assert_equal "$(cg $u)" 0-7
		assert_equal "$(cat "$SIMROOT/sys/fs/cgroup/$u/cpuset.cpus")" 0-7
		run cat "$SIMROOT/run/systemd/system.control/$u.d/50-AllowedCPUs.conf"
		assert_line "AllowedCPUs="
	done
	assert_equal "$(wq)" ff
	[ ! -e "$SIMROOT/run/vfio-utils/cpus" ] && [ ! -e "$SIMROOT/run/vfio-utils/cpus-host" ]
	run vc release win10
	assert_success
	assert_output "win10: no CPUs isolated: nothing to give back"
}

@test "two domains: the union; the host gets back the first's CPUs only when it stops, all of them with the last" {
	sim_up $SINGLE "smt off"
	a=$(xml a 2 3) b=$(xml b 5)
	vc isolate --domain-xml "$a"
	run vc isolate --domain-xml "$b"
	assert_output "b: CPUs for the VM: 5; the host keeps 0-1,4,6-7"
	assert_equal "$(cg system.slice)" 0-1,4,6-7
	run vc release a
	assert_output "a: its CPUs given back; the host keeps 0-4,6-7 for the other domains"
	assert_equal "$(cg system.slice)" 0-4,6-7
	assert_equal "$(wq)" df
	vc release b
	assert_equal "$(cg system.slice)" 0-7
	assert_equal "$(wq)" ff
}

@test "--cpus instead of pins; -n changes nothing; no pins, or isolcpus= on the kernel command line: nothing to do" {
	sim_up $SINGLE "smt off"
	x=$(xml win10)
	run vc -n isolate --cpus 6-7 --domain-xml "$x"
	assert_success
	assert_line "systemctl set-property --runtime system.slice AllowedCPUs=0-5"
	assert_line "echo 3f > $SIMROOT/sys/devices/virtual/workqueue/cpumask"
	assert_equal "$(cg system.slice)" 0-7
	run vc isolate --domain-xml "$x"
	assert_success
	assert_output "win10: no <cputune> pins (nor --cpus): no CPUs of its own to isolate"
	sim_down
	sim_up $SINGLE "cmdline BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=4-7"
	x=$(xml win10 4 5)
	run vc isolate --domain-xml "$x"
	assert_success
	assert_output "win10: the kernel command line isolates CPUs already (isolcpus=4-7): nothing changed"
	assert_equal "$(wq)" ff
	run vc --json
	assert_equal "$(jq -r .isolated_by_kernel <<<"$output")" isolcpus=4-7
}

@test "a change the kernel refuses: exit 1, everything as it was, nothing remembered" {
	sim_up $SINGLE "smt off"
	sim ctl "$SIMROOT" fault write /sys/devices/virtual/workqueue/cpumask EIO once
	x=$(xml win10 7)
	run --separate-stderr vc isolate --domain-xml "$x"
	assert_failure 1
	[[ $stderr == *"/sys/devices/virtual/workqueue/cpumask: cannot write '7f': Input/output error"* ]]
	for u in init.scope system.slice user.slice; do
		assert_equal "$(cg $u)" 0-7
	done
	assert_equal "$(wq)" ff
	[ ! -e "$SIMROOT/run/vfio-utils/cpus" ]
}

@test "bad input: the host keeps at least one CPU; a CPU not online; usage" {
	sim_up $SINGLE "smt off"
	x=$(xml all 0-7)
	run --separate-stderr vc isolate --domain-xml "$x"
	assert_failure 1
	assert_equal "$stderr" "vm-cpus: all: its CPUs 0-7, with those of the other domains, leave the host none: at least one stays the host's"
	x=$(xml far 12)
	run --separate-stderr vc isolate --domain-xml "$x"
	assert_failure 1
	assert_equal "$stderr" "vm-cpus: far: CPU 12 is not online (online: 0-7)"
	assert_equal "$(cg system.slice)" 0-7
	run --separate-stderr vc isolate --cpus x --domain-xml "$x"
	assert_failure 2
	run --separate-stderr vc isolate
	assert_failure 2
	run --separate-stderr vc release --cpus 1 a
	assert_failure 2
	[ ! -e "$SIMROOT/run/vfio-utils/cpus" ]
}

# gov CPU: its cpufreq governor, as the simulated kernel has it.
gov() { cat "$SIMROOT/sys/devices/system/cpu/cpu$1/cpufreq/scaling_governor"; }
govs() { for c in 0 1 2 3 4 5 6 7; do printf '%s ' "$(gov $c)"; done; }

@test "--governor: the domain's CPUs (siblings too) run it while it runs; two domains; each CPU gets back what it had" {
	sim_up $SINGLE
	echo powersave >"$SIMROOT/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor"
	run vc isolate --governor performance --domain-xml "$(xml a 2)"
	assert_success
	assert_output "a: CPUs for the VM: 2,6, governor performance; the host keeps 0-1,3-5,7"
	assert_equal "$(govs)" "schedutil schedutil performance powersave schedutil schedutil performance schedutil "
	run cat "$SIMROOT/run/vfio-utils/cpus-governor"
	assert_line "cpu2 governor=schedutil"
	assert_line "cpu6 governor=schedutil"
	# a second domain sharing CPU 2: what CPU 2 had stays what it had before the first
	run vc isolate --governor performance --json --domain-xml "$(xml b 2 3)"
	assert_success
	assert_equal "$(jq -r .governor <<<"$output")" performance
	assert_equal "$(govs)" "schedutil schedutil performance performance schedutil schedutil performance performance "
	run vc release a
	assert_success
	# CPU 2 and 6 are still b's
	assert_equal "$(govs)" "schedutil schedutil performance performance schedutil schedutil performance performance "
	run vc release b
	assert_success
	assert_equal "$(govs)" "schedutil schedutil schedutil powersave schedutil schedutil schedutil schedutil "
	[ ! -e "$SIMROOT/run/vfio-utils/cpus-governor" ]
	# ours, then a's 2 and 6, b's 2, 3, 6 and 7, and the 4 given back
	run grep -c scaling_governor "$SIMROOT/.sim/journal"
	assert_output 11
}

@test "--governor the kernel does not offer: exit 1, governors and CPUs as they were; no cpufreq: left alone; -n" {
	sim_up $SINGLE "cpufreq intel_pstate powersave performance"
	before=$(govs)
	run vc isolate --governor schedutil --domain-xml "$(xml a 2)"
	assert_failure 1
	assert_line "vm-cpus: CPU 2: cannot set the cpufreq governor schedutil: Invalid argument"
	assert_equal "$(govs)" "$before"
	assert_equal "$(cg system.slice)" 0-7
	[ ! -e "$SIMROOT/run/vfio-utils/cpus" ]
	[ ! -e "$SIMROOT/run/vfio-utils/cpus-governor" ]
	run vc -n isolate --governor performance --domain-xml "$(xml a 2)"
	assert_success
	assert_line "echo performance > $SIMROOT/sys/devices/system/cpu/cpu2/cpufreq/scaling_governor"
	assert_equal "$(govs)" "$before"
	run vc isolate --governor Perf --domain-xml "$(xml a 2)"
	assert_failure 2
	assert_output --partial "vm-cpus: --governor Perf: not a cpufreq governor's name (performance)"
	run vc release --governor performance a
	assert_failure 2
	sim_down
	sim_up $SINGLE "cpufreq none"
	run vc isolate --governor performance --domain-xml "$(xml a 2)"
	assert_success
	assert_line "a: CPU 2,6: no cpufreq: the governor left as the firmware runs it"
	assert_line "a: CPUs for the VM: 2,6; the host keeps 0-1,3-5,7"
	assert_equal "$(cg system.slice)" 0-1,3-5,7
	run vc release a
	assert_success
}
