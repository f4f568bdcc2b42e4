#!/usr/bin/env bats
# The resource commands killed (SIGKILL) at each of their system calls that
# can change something, one run per call: strace's fault injection sends the
# signal as the call is entered. After each, the command's own undo runs
# (release, reset), and the simulated kernel, the stand-ins' systemd and
# logind, and /run/vfio-utils must be exactly as before the first run:
# every pool, cpuset, priority and lock given back once, never twice, and
# nothing remembered. A record written before the change it describes and
# never corrected shows here as a pool or a cpuset that does not come back.
# Recovery, not memory, is tested: the plain pass only.

load helpers

setup() {
	require_sim
	command -v strace >/dev/null || skip "strace is not installed"
	PATH=$STANDINS:$PATH
}

teardown() {
	[ -n "${QEMU:-}" ] && kill "$QEMU" 2>/dev/null
	sim_down
}

# What can change state: files, the pools' and cpusets' writes, locks,
# priorities, the host tools' start, and each message to systemd on the bus.
CALLS=write,pwrite64,writev,openat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,fsync,fdatasync,ftruncate,flock,sched_setscheduler,setpriority,clone,clone3,vfork,execve,wait4,connect,sendmsg,sendto

# The state files left, the lock aside.
remembered() { ls "$SIMROOT/run/vfio-utils" 2>/dev/null | grep -v -e "^lock$" -e "\.lock$" || true; }

# sweep STATE PREPARE UNDO -- CMD...: for each call N of CMD (as run from
# PREPARE's state), PREPARE, CMD killed at N, UNDO; then STATE must print
# what it printed before PREPARE. Prints "NAME: K kill points, K recovered".
sweep() {
	local state=$1 prepare=$2 undo=$3 before calls n fails=
	shift 4
	before=$($state)
	$prepare
	on_sim strace -qq -o "$BATS_TEST_TMPDIR/trace" -e trace=$CALLS "$@" >/dev/null 2>&1
	calls=$(grep -c . "$BATS_TEST_TMPDIR/trace")
	$undo >/dev/null 2>&1
	[ "$($state)" = "$before" ] || fail "$*: not back after a whole run:"$'\n'"$(diff <(echo "$before") <($state))"
	[ "$calls" -ge 10 ] || fail "$*: only $calls calls traced"
	for n in $(seq "$calls"); do
		$prepare
		on_sim strace -qq -o /dev/null -e trace=$CALLS -e inject=$CALLS:signal=KILL:when=$n "$@" >/dev/null 2>&1 || true
		$undo >/dev/null 2>&1
		if [ "$($state)" != "$before" ]; then
			fails+=$'\n'"  killed at call $n ($(sed -n "${n}p" "$BATS_TEST_TMPDIR/trace" | cut -c1-100)):"$'\n'"$(diff <(echo "$before") <($state) | sed 's/^/    /')"
			$undo >/dev/null 2>&1
		fi
	done
	echo "# ${*##*/}: $calls kill points, $((calls - $(grep -c '^  killed' <<<"$fails"))) recovered" >&3
	[ -z "$fails" ] || fail "$*: not back after a kill:$fails"
}

nothing() { :; }

# --- vm-hugepages: reserve and release ----------------------------------

pools() {
	local f
	for f in "$SIMROOT"/sys/kernel/mm/hugepages/*/nr_hugepages "$SIMROOT"/sys/devices/system/node/node*/hugepages/*/nr_hugepages; do
		echo "${f#"$SIMROOT"} $(cat "$f")"
	done
	remembered
}

hp_xml() {
	printf "<domain type='kvm'><name>w</name><memory unit='MiB'>64</memory><cpu><numa><cell id='0' cpus='0' memory='32' unit='MiB'/><cell id='1' cpus='1' memory='32' unit='MiB'/></numa></cpu><numatune><memnode cellid='1' mode='strict' nodeset='1'/></numatune><memoryBacking><hugepages/></memoryBacking></domain>" >"$BATS_TEST_TMPDIR/w.xml"
}
hp_reserve() { on_sim vm-hugepages reserve --domain-xml "$BATS_TEST_TMPDIR/w.xml" >/dev/null 2>&1; }
hp_release() { on_sim vm-hugepages release w; }

@test "vm-hugepages reserve killed at each call: release gives back exactly what was added" {
	sim_up "$SINGLE" "nodes 2" "hugepages 2M pages 10"
	hp_xml
	sweep pools nothing hp_release -- "$BUILD/vm-hugepages" reserve --domain-xml "$BATS_TEST_TMPDIR/w.xml"
}

@test "vm-hugepages release killed at each call: the next release gives back the rest, never twice" {
	sim_up "$SINGLE" "nodes 2" "hugepages 2M pages 10"
	hp_xml
	sweep pools hp_reserve hp_release -- "$BUILD/vm-hugepages" release w
}

# --- vm-cpus: isolate and release ---------------------------------------

cpusets() {
	local u
	for u in init.scope system.slice user.slice machine.slice; do
		echo "$u $(cat "$SIMROOT/sys/fs/cgroup/$u/cpuset.cpus") $(cat "$SIMROOT/sys/fs/cgroup/$u/cpuset.cpus.effective")"
		cat "$SIMROOT/run/systemd/system.control/$u.d/50-AllowedCPUs.conf" 2>/dev/null | grep AllowedCPUs || true
	done
	echo "workqueues $(cat "$SIMROOT/sys/devices/virtual/workqueue/cpumask")"
	remembered
}

cpus_xml() {
	printf "<domain type='kvm'><name>w</name><vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/></cputune></domain>" >"$BATS_TEST_TMPDIR/w.xml"
}
cpus_isolate() { on_sim vm-cpus isolate --domain-xml "$BATS_TEST_TMPDIR/w.xml" >/dev/null 2>&1; }
cpus_release() { on_sim vm-cpus release w; }

@test "vm-cpus isolate killed at each call: release gives the host every CPU back" {
	sim_up "$SINGLE"
	cpus_xml
	# What a whole isolate and release leaves is the state to come back to: a
	# slice that had no CPUs of its own gets its parent's written back (the
	# kernel refuses "" to a cgroup with tasks), systemd's property reset.
	cpus_isolate
	cpus_release >/dev/null
	sweep cpusets nothing cpus_release -- "$BUILD/vm-cpus" isolate --domain-xml "$BATS_TEST_TMPDIR/w.xml"
}

# After the release, another domain's isolate must confine the host again.
cpus_release_cycle() {
	cpus_release
	printf "<domain><name>v</name><vcpu>1</vcpu><cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>" >"$BATS_TEST_TMPDIR/v.xml"
	on_sim vm-cpus isolate --domain-xml "$BATS_TEST_TMPDIR/v.xml"
	cat "$SIMROOT/sys/fs/cgroup/system.slice/cpuset.cpus.effective" >"$BATS_TEST_TMPDIR/isolated"
	on_sim vm-cpus release v
}
cpusets_isolated() { cpusets; cat "$BATS_TEST_TMPDIR/isolated"; }

@test "vm-cpus release killed at each call: the next release finishes it, and a new isolate is whole" {
	sim_up "$SINGLE"
	cpus_xml
	cpus_isolate
	cpus_release_cycle >/dev/null
	sweep cpusets_isolated cpus_isolate cpus_release_cycle -- "$BUILD/vm-cpus" release w
}

# --- vm-prio: set and reset ----------------------------------------------

threads() {
	local t
	for t in /proc/$QEMU/task/*; do
		printf '%s %s\n' "$(cat "$t/comm")" "$(sed 's/.*) //' "$t/stat" | awk '{ print $17, $38, $39 }')"
	done | sort
	remembered
}

qemu_up() {
	mkdir -p "$SIMROOT/run/libvirt/qemu"
	"$BUILD/vcpus" 2 KVM "$SIMROOT/run/libvirt/qemu/w.pid" >"$BATS_TEST_TMPDIR/qemu" &
	until [ -s "$BATS_TEST_TMPDIR/qemu" ]; do sleep 0.05; done
	QEMU=$(cat "$BATS_TEST_TMPDIR/qemu")
}
prio_set() { on_sim vm-prio set --fifo 5 w >/dev/null 2>&1; }
prio_reset() { on_sim vm-prio reset w; }

@test "vm-prio set killed at each call: reset brings back the priority the threads had" {
	sim_up "$SINGLE"
	qemu_up
	sweep threads nothing prio_reset -- "$BUILD/vm-prio" set --fifo 5 w
}

@test "vm-prio reset killed at each call: the next reset brings it back" {
	sim_up "$SINGLE"
	qemu_up
	sweep threads prio_set prio_reset -- "$BUILD/vm-prio" reset w
}

# --- vm-nosleep: hold and release ---------------------------------------

locks() {
	on_sim systemd-inhibit --list --no-legend
	on_sim systemctl is-active vfio-utils-nosleep-w.service || true
	remembered
}
ns_hold() { on_sim vm-nosleep hold w >/dev/null 2>&1; }
ns_release() { on_sim vm-nosleep release w; }

@test "vm-nosleep hold killed at each call: release leaves no sleep lock and no unit" {
	sim_up "$SINGLE"
	sim_systemd
	sweep locks nothing ns_release -- "$BUILD/vm-nosleep" hold w
}

@test "vm-nosleep release killed at each call: the next release lets go" {
	sim_up "$SINGLE"
	sim_systemd
	sweep locks ns_hold ns_release -- "$BUILD/vm-nosleep" release w
}

# --- vfio-boot: the bootloader's and the initramfs' files -------------------

# What vfio-boot changes: the files and what the generators' stand-ins made
# of them, and its record (its copies of the files before each edit, kept
# on purpose, aside).
boot_files() {
	(cd "$SIMROOT" && find etc/default etc/modprobe.d etc/initramfs-tools boot var/lib/vfio-utils \
		-path var/lib/vfio-utils/backup -prune -o -type f -print 2>/dev/null | sort |
		while read -r f; do echo "== $f"; cat "$f"; done)
}
boot_machine() {
	mkdir -p "$SIMROOT/etc/default" "$SIMROOT/usr/sbin" "$SIMROOT/etc/initramfs-tools/hooks" "$SIMROOT/boot/grub"
	echo 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' >"$SIMROOT/etc/default/grub"
	touch "$SIMROOT/usr/sbin/update-grub" "$SIMROOT/etc/initramfs-tools/initramfs.conf"
	on_sim update-grub && on_sim update-initramfs -u -k all
}
boot_undo() { on_sim vfio-boot undo; }

@test "vfio-boot iommu on killed at each call: undo leaves GRUB's file, grub.cfg and the record as before" {
	sim_up $DUAL "iommu off" "cpu intel"
	boot_machine
	sweep boot_files nothing boot_undo -- "$BUILD/vfio-boot" iommu on
}

@test "vfio-boot bind killed at each call: undo leaves modprobe.d, the initramfs' hook, the image and the record as before" {
	sim_up $DUAL
	boot_machine
	sweep boot_files nothing boot_undo -- "$BUILD/vfio-boot" bind 01:00.0 01:00.1
}
