#!/usr/bin/env bats
# The real-kernel tier: Debian's 6.1 and 6.12 kernels booted under QEMU with
# an emulated Intel IOMMU and OVMF (tests/vm/README.md). One boot per kernel
# runs every scenario (tests/vm/guest/scenarios); each test here reads what
# the kernel, QEMU and the firmware made of it. Where the simulator and a
# real kernel disagree, the kernel is right.

load helpers

VM=$TESTS/vm/vm

setup_file() {
	require_vm
	RESULTS=$TOP/build/vm
	export RESULTS
	local k layer
	# the desktop the systemd boot runs (lightdm, Xorg, udev): a layer over the host's root
	layer=$("$VM" desktop) || layer=
	# the kernels side by side, the second one's boots in the other order: a
	# chroot boot keeps about one of the two CPUs busy, the systemd boot (X,
	# libvirtd, a nested QEMU) both. libvirt's hand-over runs on both kernels;
	# its faults on the first, its dual-GPU variant on the second (what
	# differs there is userspace's: libvirt, systemd, X)
	local first=1 n
	n=$("$VM" kernels | wc -l)
	# the guest with QEMU's guest agent (scenario 13), from the cache
	"$VM" agent >/dev/null 2>&1 || true
	for k in $("$VM" kernels); do
		if [ "$n" = 1 ]; then
			boot_kernel "$k" "$layer" 1 faults,dual,agent &
		elif [ -n "$first" ]; then
			boot_kernel "$k" "$layer" 1 faults,agent &
		else
			boot_kernel "$k" "$layer" "" dual &
		fi
		first=
	done
	wait
}

boot_kernel() { # KVER LAYER FIRST PARTS: its two boots, the chroot one first when FIRST
	if [ -n "$3" ]; then
		boot_chroot "$1" && boot_systemd "$1" "$2" "$4"
	else
		boot_systemd "$1" "$2" "$4" && boot_chroot "$1"
	fi
}

boot_chroot() { # KVER
	[ -f "$RESULTS/$1/done" ] && [ "${VU_VM_REUSE:-0}" = 1 ] && return 0
	rm -rf "$RESULTS/$1"
	"$VM" run "$1" "$TESTS/vm/guest/scenarios" "$RESULTS/$1" "$TOP" || true
}

# a second boot with systemd as PID 1, logind, D-Bus, the desktop layer
boot_systemd() { # KVER LAYER PARTS (tests/vm/guest/cycle)
	[ -f "$RESULTS/$1.systemd/done" ] && [ "${VU_VM_REUSE:-0}" = 1 ] && return 0
	rm -rf "$RESULTS/$1.systemd"
	# about 5 min alone, up to 9 beside the other kernel's boot on a busy host
	VU_VM_TIMEOUT=${VU_VM_TIMEOUT:-1200} VU_VM_INIT=systemd VU_VM_LAYER=$2 "$VM" run "$1" "$TESTS/vm/guest/systemd" "$RESULTS/$1.systemd" "$TOP" "$3" || true
}

# The tier needs root, QEMU and the fetched kernels: a loud skip without
# them, a failure under CI (tests/run). It fetches what is missing once.
require_vm() {
	local why
	[ -s "${VU_VM_CACHE:-/var/cache/vfio-utils/vm}/kernels/list" ] || "$TESTS/vm/vm" fetch >/dev/null 2>&1
	why=$("$TESTS/vm/vm" check 2>&1) || skip "REAL KERNELS UNAVAILABLE: $why"
}

setup() {
	require_vm
}

teardown() {
	sim_down
}

# kernels: KERNELS, one a line, each with a finished boot (else a failure
# naming it). Called as ks=$(kernels): a failure inside the substitution of a
# for loop's list would go unnoticed, the kernel silently left out.
kernels() {
	local k
	for k in $("$VM" kernels); do
		[ -f "$RESULTS/$k/done" ] || fail "$k: the guest did not finish: $(tail -5 "$RESULTS/$k/console" 2>/dev/null)"
		echo "$k"
	done
}

out() { cat "$RESULTS/$K/$1"; }
# the same from the boot under systemd
sd() { cat "$RESULTS/$K.systemd/$1"; }
rc() { cat "$RESULTS/$K/$1.rc"; }

# line STATE DEVICE: that device's line of a state file.
dev_line() { grep "^$2 " "$RESULTS/$K/$1.state"; }
drv() { dev_line "$1" "$2" | cut -d' ' -f2; }

VGA=0000:00:02.0 VGA_AUDIO=0000:00:02.1 GPU=0000:01:00.0 GPU_AUDIO=0000:01:00.1

@test "the guest boots every kernel with the IOMMU on and its devices where the machine puts them" {
	ks=$(kernels)
	for K in $ks; do
		assert_equal "$(out kernel)" "$K"
		assert_equal "$(out status)" 0
		assert_equal "$(drv boot $GPU_AUDIO)" snd_intel8x0
		assert_equal "$(drv boot $VGA)" "" # bochs left out: the firmware framebuffer stays
		run out boot.state
		assert_line "efi-framebuffer.0 driver=efi-framebuffer"
		assert_line --regexp '^vtcon1 \(M\) frame buffer device bind=1$'
	done
}

@test "1. iommu-groups prints what the guides' loop prints with the real lspci, and agrees with the kernel" {
	ks=$(kernels)
	for K in $ks; do
		[ -s "$RESULTS/$K/s1-list.out" ]
		diff "$RESULTS/$K/s1-guides.out" "$RESULTS/$K/s1-list.out"
		# the groups of --json are the kernel's
		diff <(jq -r '.groups[] | .group as $g | .devices[] | "\($g) \(.address)"' "$RESULTS/$K/s1-json.out" |
			sed 's/ \([0-9a-f][0-9a-f]:\)/ 0000:\1/' | sort) <(sort "$RESULTS/$K/s1-kernel-groups")
		assert_equal "$(rc s1-status)" 0
		run out s1-status.out
		assert_line --regexp '^IOMMU: +on, [0-9]+ groups'
		assert_line --regexp '^Interrupt remapping: on$'
		assert_line --partial "intel_iommu=on"
		# -k: each device's driver as the kernel has it
		run out s1-k.out
		assert_line --partial "00:02.1 Multimedia audio controller [0401]"
		assert_line --partial "(driver: snd_intel8x0)"
	done
}

@test "1. --check names the mounted filesystem of the disk's group and the interface that is up" {
	ks=$(kernels)
	for K in $ks; do
		assert_equal "$(rc s1-check-disk)" 1
		run out s1-check-disk.out
		assert_output --partial "holds /mnt/data"
		assert_equal "$(rc s1-check-nic)" 1
		run out s1-check-nic.out
		assert_output --regexp "interface [a-z0-9]+ is up"
		assert_equal "$(rc s1-check-gpu)" 0
	done
}

@test "2. dual GPU: vfio-bind --group takes both functions, QEMU opens the group, vfio-unbind gives them back" {
	ks=$(kernels)
	for K in $ks; do
		assert_equal "$(rc s2-bind)" 0
		assert_equal "$(drv s2-during $GPU)" vfio-pci
		assert_equal "$(drv s2-during $GPU_AUDIO)" vfio-pci
		# QEMU is the judge of --group: not viable, or a device refused, fails here
		run out s2.holds
		assert_output --regexp '^holds: [0-9]+$'
		refute_output --partial "not viable"
		assert_equal "$(out s2-qemu.rc)" 0
		# another VM's group still on vfio-pci: the vfio modules stay
		assert_equal "$(rc s2-restore-one)" 1
		run out s2-restore-one.err
		assert_output --partial "vfio-pci still drives $VGA (another VM?): the vfio modules stay loaded"
		assert_equal "$(drv s2-one-left $GPU)" bochs-drm
		assert_equal "$(drv s2-one-left $GPU_AUDIO)" snd_intel8x0
		run out s2-one-left.state
		assert_line "module vfio_pci"
		# and once nothing uses them, they go with the rest
		assert_equal "$(rc s2-restore)" 0
		diff "$RESULTS/$K/s2-before.state" "$RESULTS/$K/s2-after.state"
	done
}

@test "3. single GPU on the firmware framebuffer: consoles, efifb and the group handed over; what the kernel keeps, said" {
	ks=$(kernels)
	for K in $ks; do
		for s in s3b-vtcon-unbind s3b-efifb-unbind s3b-bind s3b-restore s3b-efifb-bind s3b-vtcon-bind; do
			[ "$(rc $s)" = 0 ] || fail "$K: $s: $(out $s.err)"
		done
		# efifb's range in BAR 0 of the VGA, named as /proc/iomem names it
		run out s3b-efifb-status.out
		assert_line --regexp "^efifb reserves [0-9a-f]+-[0-9a-f]+ in BAR 0 of $VGA: QEMU will fail to map that BAR \\(\"BAR 0: can't reserve\"\\) unless vfio-pci takes the GPU, which releases it \\(Linux 6.0 and later\\)$"
		run out s3b-efifb-unbind.out
		assert_output "efi-framebuffer.0: unbound from efi-framebuffer"
		assert_equal "$(drv s3b-during $VGA)" vfio-pci
		assert_equal "$(drv s3b-during $VGA_AUDIO)" vfio-pci
		assert_equal "$(out s3b-qemu.rc)" 0
		# vfio-pci taking the VGA device the framebuffer sits on unregistered it (6.0+)
		run out s3b-during.state
		refute_line --partial "efi-framebuffer.0"
		run out s3b-efifb-bind.out
		assert_output --partial "efi-framebuffer.0: gone (the kernel removed it"
		# back to no driver, as it was; the console comes with the next framebuffer
		assert_equal "$(drv s3b-after $VGA)" ""
		assert_equal "$(drv s3b-after $VGA_AUDIO)" snd_intel8x0
		run out native.state
		assert_line --regexp '^vtcon1 \(M\) frame buffer device bind=1$'
	done
}

@test "3. single GPU on its native driver: fbcon is bound again on the GPU's own framebuffer" {
	ks=$(kernels)
	for K in $ks; do
		for s in s3a-vtcon-unbind s3a-efifb-unbind s3a-bind s3a-restore s3a-efifb-bind s3a-vtcon-bind; do
			[ "$(rc $s)" = 0 ] || fail "$K: $s: $(out $s.err)"
		done
		run out s3a-efifb-unbind.out
		assert_output "no firmware framebuffer: nothing to unbind"
		assert_equal "$(drv s3a-during $VGA)" vfio-pci
		assert_equal "$(out s3a-qemu.rc)" 0
		assert_equal "$(drv s3a-after $VGA)" bochs-drm
		diff "$RESULTS/$K/s3a-before.state" "$RESULTS/$K/s3a-after.state"
	done
}

@test "4. a held sound card: vfio-bind refuses before any unbind, naming the process" {
	ks=$(kernels)
	for K in $ks; do
		assert_equal "$(rc s4a-bind)" 1
		run out s4a-bind.err
		assert_line --regexp "^vfio-bind: $GPU_AUDIO: /dev/snd/controlC[0-9]+ is held open by sleep \($(out s4a-holder)\): an unbind would block in the kernel"
		diff "$RESULTS/$K/s4a-before.state" "$RESULTS/$K/s4a-after.state"
	done
}

@test "4. a VM still holding the devices: vfio-unbind returns by its deadline, says which is stuck, holds no lock, gives it back later" {
	ks=$(kernels)
	for K in $ks; do
		assert_equal "$(rc s4b-bind)" 0
		run out s4b.holds
		assert_output --regexp '^holds: [0-9]+$'
		assert_equal "$(rc s4b-restore)" 1
		[ "$(out s4b-restore.ms)" -lt 20000 ]
		run out s4b-restore.err
		assert_line --regexp "^vfio-unbind: 0000:01:00\.[01]: stuck: unbind from vfio-pci did not finish in 3 s, the kernel is still at it: /dev/vfio/[0-9]+ is held open by qemu-system-x86 \([0-9]+\)"
		run out s4b-remembered
		assert_line --partial "$GPU driver=bochs-drm"
		assert_equal "$(out s4b-lock)" free
		assert_equal "$(rc s4b-restore-again)" 0
		diff "$RESULTS/$K/s4b-before.state" "$RESULTS/$K/s4b-after.state"
	done
}

@test "4. vfio-bind killed with SIGKILL at any moment: --restore brings the machine back each time" {
	local i
	ks=$(kernels)
	for K in $ks; do
		for f in "$RESULTS/$K"/s4c-[0-9]*.state; do
			diff "$RESULTS/$K/s4c-before.state" "$f" || fail "$K: ${f##*/}: not back ($(cat "${f%.state}.err"))"
		done
	done
}

@test "4. two VMs at once: one display controller's unbind held in the kernel, the other's group goes through and its QEMU opens it" {
	ks=$(kernels)
	for K in $ks; do
		[ "$(rc s4d-other)" = 0 ] || fail "$K: s4d-other: $(out s4d-other.err)"
		# done while the other run still waited in the kernel
		assert_equal "$(out s4d-held-during)" running
		assert_equal "$(drv s4d-during $VGA)" vfio-pci
		assert_equal "$(drv s4d-during $VGA_AUDIO)" vfio-pci
		run out s4d.holds
		assert_output --regexp '^holds: [0-9]+$'
		assert_equal "$(out s4d-qemu.rc)" 0
		# the held one: its holder named before (--force goes on), then stuck by its own deadline
		assert_equal "$(out s4d-held.rc)" 1
		run out s4d-held.err
		assert_line --regexp "^vfio-bind: $GPU_AUDIO: /dev/snd/controlC[0-9]+ is held open by sleep \\([0-9]+\\): an unbind would block in the kernel"
		# (the kernel has taken the card's nodes away by then: the holder is not found again)
		assert_line "vfio-bind: $GPU_AUDIO: stuck: unbind from snd_intel8x0 did not finish in 8 s, the kernel is still at it; left alone and still remembered ('vfio-unbind --restore' once they let go)"
		[ "$(rc s4d-restore)" = 0 ] || fail "$K: s4d-restore: $(out s4d-restore.err)"
		diff "$RESULTS/$K/s4d-before.state" "$RESULTS/$K/s4d-after.state"
	done
}

@test "5. the simulator, given this machine, does what the kernel does with the same commands" {
	local n
	require_sim
	ks=$(kernels)
	for K in $ks; do
		sim_up "$RESULTS/$K/s5-machine.txt"
		. "$TESTS/vm/guest/state"
		diff "$RESULTS/$K/s5-0.state" <(vm_state "$SIMROOT") || fail "$K: the simulator does not boot as the kernel did"
		n=1
		for c in "vfio-bind --group $GPU" "vfio-bind --group $VGA" "vfio-unbind --restore" "vtcon unbind" "vtcon bind"; do
			on_sim $c >/dev/null 2>&1
			diff "$RESULTS/$K/s5-$n.state" <(vm_state "$SIMROOT") || fail "$K: after '$c' the simulator differs from the kernel"
			n=$((n + 1))
		done
		sim_down
	done
}

@test "6. vm-hugepages: a domain's huge pages reserved and given back; the kernel granting fewer is put back" {
	ks=$(kernels)
	for K in $ks; do
		assert_equal "$(out s6-0.total)" 0
		# 256 MiB of 2 MiB pages: 128, as /proc/meminfo counts them
		assert_equal "$(rc s6-reserve)" 0
		assert_equal "$(out s6-1.total)" 128
		# bound to node 0 by <numatune>: written to that node's pool
		assert_equal "$(rc s6-reserve-node)" 0
		assert_equal "$(out s6-2.total)" 160
		assert_equal "$(out s6-2.node0)" 160
		# each domain under the pool it reserved in: the whole one, node 0's
		assert_equal "$(jq -c '[.pools[] | select(.size_kib == 2048) | [.node, .pages, [.domains[] | .domain, .added]]]' "$RESULTS/$K/s6-status.out")" \
			'[[null,160,["small",128]],[0,160,["node",32]]]'
		# 4 GiB on a 2 GiB guest: the kernel grants what it can, without an error;
		# vm-hugepages reads it back, says so, and puts the count back
		assert_equal "$(rc s6-short)" 1
		run out s6-short.err
		assert_output --regexp '^vm-hugepages: large: 2048 pages of 2 MiB needed, 0 free: the kernel could add only [0-9]+ of the 2048 more \(memory short or too fragmented\)$'
		assert_equal "$(out s6-3.total)" 160
		assert_equal "$(rc s6-release-node)" 0
		assert_equal "$(rc s6-release)" 0
		assert_equal "$(out s6-4.total)" 0
		[ ! -e "$RESULTS/$K/s6-remembered" ]
	done
}

@test "7. vm-cpus without systemd: the kernel keeps the host's cgroup and workqueues off the VM's CPU, and gives it back" {
	ks=$(kernels)
	for K in $ks; do
		# two CPUs: the VM pinned to 1, the host keeps 0
		assert_equal "$(out s7-0.cg)" 0-1
		assert_equal "$(out s7-0.allowed)" 0-1
		assert_equal "$(rc s7-isolate)" 0
		assert_equal "$(out s7-isolate.out)" "pinned: CPUs for the VM: 1; the host keeps 0"
		assert_equal "$(out s7-1.cg)" 0
		assert_equal "$(out s7-1.allowed)" 0
		# the kernel's mask: only CPU 0's bit of the possible CPUs
		[ $((16#$(out s7-1.wq | tr -d ,))) = 1 ]
		assert_equal "$(jq -c '[.host_cpus, [.domains[] | .domain, .cpus]]' "$RESULTS/$K/s7-status.out")" '["0",["pinned","1"]]'
		assert_equal "$(rc s7-release)" 0
		assert_equal "$(out s7-2.cg)" 0-1
		assert_equal "$(out s7-2.allowed)" 0-1
		assert_equal "$(out s7-2.wq)" "$(out s7-0.wq)"
		run out s7-remembered
		refute_line cpus
		refute_line cpus-host
	done
}

@test "8. vm-prio: the kernel gives a QEMU's vCPU threads, and only them, the priority set, and back" {
	ks=$(kernels)
	for K in $ks; do
		run out s8-0.threads
		assert_line "CPU 0/TCG 0 0 0"
		assert_line "CPU 1/TCG 0 0 0"
		assert_equal "$(rc s8-set)" 0
		assert_equal "$(out s8-set.out)" "prio: 2 vCPU threads at nice -10"
		run out s8-1.threads
		assert_line "CPU 0/TCG -10 0 0"
		assert_line "CPU 1/TCG -10 0 0"
		# QEMU's other threads keep theirs
		refute_line --regexp '^[^C].* -10 0 0$'
		assert_equal "$(rc s8-fifo)" 0
		# SCHED_FIFO 5; the nice value stays as it was set (the kernel keeps it for fair policies)
		run out s8-2.threads
		assert_line "CPU 0/TCG -10 5 1"
		assert_line "CPU 1/TCG -10 5 1"
		assert_equal "$(jq -c '[.domains[] | .domain, [.vcpus[] | .vcpu, .policy, .priority]]' "$RESULTS/$K/s8-status.out")" \
			'["prio",[0,"fifo",5,1,"fifo",5]]'
		assert_equal "$(rc s8-reset)" 0
		diff "$RESULTS/$K/s8-0.threads" "$RESULTS/$K/s8-3.threads"
	done
}

@test "9. vm-nosleep under the real systemd and logind: its transient unit's sleep lock, as logind lists it, gone at release" {
	local pid line
	ks=$(kernels)
	for K in $ks; do
		[ -f "$RESULTS/$K.systemd/done" ] || fail "$K: the systemd boot did not finish: $(tail -5 "$RESULTS/$K.systemd/console" 2>/dev/null)"
		assert_equal "$(sd pid1)" systemd
		assert_equal "$(sd s9-0.active)" inactive
		assert_equal "$(sd s9-hold.rc)" 0
		pid=$(sd s9-1.pid)
		assert_equal "$(sd s9-hold.out)" "win10: sleep held off by vfio-utils-nosleep-win10.service (PID $pid)"
		assert_equal "$(sd s9-1.active)" active
		line="vfio-utils 0 root $pid systemd-inhibit sleep the VM \"win10\" is running block"
		assert_equal "$(sd s9-1.list)" "$line"
		assert_equal "$(sd s9-again.out)" "win10: vfio-utils-nosleep-win10.service already holds sleep off"
		assert_equal "$(jq -c '[.domains[] | .domain, .active, .inhibitor, .pid]' "$RESULTS/$K.systemd/s9-status.out")" "[\"win10\",true,true,$pid]"
		assert_equal "$(sd s9-release.rc)" 0
		assert_equal "$(sd s9-2.active)" inactive
		assert_equal "$(sd s9-2.list)" ""
		# 9b. the watcher: hold returns once it holds its lock (Type=notify)
		assert_equal "$(sd s9b-hold.rc)" 0
		pid=$(sd s9b-1.pid)
		assert_equal "$(sd s9b-hold.out)" "win10: sleep held off by vfio-utils-nosleep-win10.service (PID $pid)"
		assert_equal "$(sd s9b-1.list)" "vfio-utils 0 root $pid vm-nosleep sleep the VM \"win10\" is running and its guest agent is not connected block"
		run sd s9b-1.status
		assert_output "host sleep blocked; host shutdown not delayed (libvirt: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory)"
		run sd s9b-status.out
		assert_output --partial "win10: vfio-utils-nosleep-win10.service active, sleep inhibited: host sleep blocked; host shutdown not delayed (libvirt: "
		# the real logind: a user at a terminal refused, naming the VM; root
		# goes past a block lock (logind lets a privileged caller: at a
		# terminal too), and logind's signals before and after reach the
		# watcher (the sleep itself masked), which takes its lock again
		assert_equal "$(sd s9b-masked)" masked-runtime
		assert_equal "$(sd s9b-refused.rc)" 1
		run sd s9b-refused.out
		assert_line "Operation inhibited by \"vfio-utils\" (PID $pid \"vm-nosleep\", user root), reason is \"the VM \"win10\" is running and its guest agent is not connected\"."
		run sd s9b-root-tty.out
		assert_line "Failed to start suspend.target: Unit systemd-suspend.service is masked."
		run sd s9b-journal
		assert_line "win10: host going to sleep past the block lock: guest left as it is"
		assert_line "win10: host back"
		assert_equal "$(grep -c '^win10: host back$' "$RESULTS/$K.systemd/s9b-journal")" 2
		assert_equal "$(sd s9b-back.list)" "$(sd s9b-1.list)"
		# killed: logind dropped the lock with the process, and status says so
		assert_equal "$(sd s9b-2.list)" ""
		assert_equal "$(jq -c '[.domains[] | .domain, .active, .inhibitor]' "$RESULTS/$K.systemd/s9b-status2.out")" '["win10",false,false]'
		assert_equal "$(sd s9b-release.rc)" 0
		# 9c. the real logind reads vm-nosleep delay's drop-in, and its own again after default
		assert_equal "$(sd s9c-0.usec)" "t 5000000"
		assert_equal "$(sd s9c-delay.rc) $(sd s9c-1.usec)" "0 t 30000000"
		assert_equal "$(sd s9c-default.rc) $(sd s9c-2.usec)" "0 t 5000000"
	done
	# The simulator's stand-ins print what logind printed, the PID aside
	# (vm-nosleep asks them on the tree's bus: tests/lib/sim-systemd).
	PATH=$STANDINS:$PATH
	sim_up $SINGLE
	sim_systemd
	on_sim vm-nosleep hold win10 >/dev/null
	pid=$(on_sim systemctl show -P MainPID vfio-utils-nosleep-win10.service)
	assert_equal "$(on_sim systemd-inhibit --list --no-legend)" "${line/ $(sd s9-1.pid) / $pid }"
	assert_equal "$(on_sim systemd-inhibit --list | tr -s ' ')" "$(tr -s ' ' <"$RESULTS/$K.systemd/s9-1.table" | sed "s/ $(sd s9-1.pid) / $pid /")"
	# and sim-systemd's logind answers on the bus what the real one did
	assert_equal "$(busctl --json=short --address="unix:path=$SIMROOT/run/dbus/system_bus_socket" call \
		org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager ListInhibitors |
		jq -c '.data[0] | map(.[5] = "PID")')" "$(jq -c '.data[0] | map(.[5] = "PID")' "$RESULTS/$K.systemd/s9-1.bus")"
}

@test "10. vm-cpus under the real systemd: init.scope and the slices kept to CPU 0 through AllowedCPUs, every CPU back after" {
	local u
	ks=$(kernels)
	for K in $ks; do
		for u in init.scope system.slice user.slice; do
			assert_equal "$(grep "^$u " "$RESULTS/$K.systemd/s10-0.units")" "$u allowed= effective="
		done
		assert_equal "$(sd s10-isolate.rc)" 0
		# --governor: this guest's CPUs have no cpufreq, left alone and said so
		assert_equal "$(sd s10-cpufreq)" "ls: cannot access '/sys/devices/system/cpu/cpu*/cpufreq': No such file or directory"
		assert_equal "$(sd s10-isolate.out)" "pinned: CPU 1: no cpufreq: the governor left as the firmware runs it
pinned: CPUs for the VM: 1; the host keeps 0"
		for u in init.scope system.slice user.slice; do
			assert_equal "$(grep "^$u " "$RESULTS/$K.systemd/s10-1.units")" "$u allowed=0 effective=0"
		done
		# this script runs in a service of system.slice: a new process gets CPU 0 only
		assert_equal "$(sd s10-1.allowed)" 0
		[ $((16#$(sd s10-1.wq | tr -d ,))) = 1 ]
		assert_equal "$(sd s10-release.rc)" 0
		# systemd reset AllowedCPUs and dropped the cpuset controller: every CPU again
		for u in init.scope system.slice user.slice; do
			assert_equal "$(grep "^$u " "$RESULTS/$K.systemd/s10-2.units")" "$u allowed= effective="
		done
		assert_equal "$(sd s10-2.allowed)" 0-1
		assert_equal "$(sd s10-2.wq)" "$(sd s10-0.wq)"
		# nothing remembered: the locks alone (the shared one, and the commands' own)
		assert_equal "$(sd s10-remembered | grep -v -e '^lock$' -e '\.lock$')" ""
	done
}

@test "11. dm-ctl with the real lightdm and Xorg: X named as the GPU's holder, stop returns once X has let go, start brings it back" {
	ks=$(kernels)
	for K in $ks; do
		[ -f "$RESULTS/$K.systemd/s11-dm-unit" ] || fail "$K: no lightdm in the systemd boot (tests/vm/vm desktop: $(tail -3 "${VU_VM_CACHE:-/var/cache/vfio-utils/vm}/desktop/dpkg.log" 2>/dev/null))"
		assert_equal "$(basename "$(sd s11-dm-unit)")" lightdm.service
		assert_equal "$(sd s11-vga-driver)" bochs-drm
		[ "$(sd s11-0.holders)" = Xorg ] ||
			fail "$K: X did not hold the card $(sd s11-0.waited | sed 's/.$/.& s/') after lightdm started: $(cat "$RESULTS/$K.systemd/s11-0.nox" 2>/dev/null)"
		assert_equal "$(sd s11-status.rc)" 0
		run sd s11-status.out
		assert_line "init system:     systemd"
		assert_line "display manager: lightdm (lightdm.service, running)"
		assert_line --regexp '^GPU held by:     Xorg \([0-9]+\)$'
		assert_equal "$(sd s11-stop.rc)" 0
		assert_equal "$(sd s11-stop.out)" "stopped lightdm.service"
		# the moment stop returns, nothing holds the card any more
		assert_equal "$(sd s11-1.holders)" ""
		assert_equal "$(sd s11-1.active)" inactive
		assert_equal "$(sd s11-start.rc)" 0
		assert_equal "$(sd s11-start.out)" "started lightdm.service"
		assert_equal "$(sd s11-2.holders)" Xorg
		assert_equal "$(sd s11-2.active)" active
	done
}

# cyc STATE KEY: the value of KEY in a state of scenario 12 (tests/vm/guest/cycle)
cyc() { sed -n "s/^$2 //p" "$RESULTS/$K.systemd/$1.state"; }

# the desktop as the user left it: lightdm running with X on the boot VGA,
# both GPUs on their own drivers, fbcon bound, no VFIO group, no sleep lock
assert_desktop() { # STATE
	assert_equal "$(cyc "$1" lightdm)" active
	assert_equal "$(cyc "$1" holders)" "Xorg "
	assert_equal "$(cyc "$1" $VGA)" bochs-drm
	assert_equal "$(cyc "$1" $VGA_AUDIO)" snd_intel8x0
	assert_equal "$(cyc "$1" $GPU)" bochs-drm
	assert_equal "$(cyc "$1" $GPU_AUDIO)" snd_intel8x0
	assert_equal "$(cyc "$1" vtcon1)" "1 (M) frame buffer device"
	assert_equal "$(cyc "$1" vfio)" "vfio "
	assert_equal "$(cyc "$1" nosleep)" inactive
}

# cycled [FILE]: KERNELS whose systemd boot reached scenario 12 (and, with
# FILE, ran the part that writes it: one kernel at least must have)
cycled() {
	local n=0 ks
	ks=$(kernels) || return 1
	for K in $ks; do
		[ -f "$RESULTS/$K.systemd/s12-0.state" ] || { fail "$K: scenario 12 did not run: $(tail -5 "$RESULTS/$K.systemd/script.log" 2>/dev/null)"; return 1; }
		[ -z "${1:-}" ] || [ -f "$RESULTS/$K.systemd/$1" ] || continue
		echo "$K"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || fail "no kernel ran the part of scenario 12 that writes $1"
}

@test "12. seed 002 for real: virsh start stops lightdm, hands the boot VGA and its audio to libvirt's QEMU; virsh destroy brings X back on it" {
	local g n
	ks=$(cycled)
	for K in $ks; do
		assert_desktop s12-0
		# the guide's steps 3, 4 and 7, as a user types them: README's very lines
		assert_equal "$(sd s12-guide)" "$(printf '%s\n' 'hook-run install' 'hook-run new win10' 'hook-run check' \
			'hook-run list win10' 'systemctl restart libvirtd' 'virsh start win10')"
		assert_equal "$(sd s12-virsh.out)" "$(printf 'pci_0000_00_02_0\npci_0000_00_02_1')"
		for n in define attach-pci_0000_00_02_0 attach-pci_0000_00_02_1 install new check restart start destroy; do
			assert_equal "$n $(sd s12-$n.rc)" "$n 0"
		done
		assert_equal "$(sd s12-check.out)" "no problems"
		# running: no display manager, nothing on the card, the group on vfio-pci
		# and open in the QEMU libvirt started, fbcon let go, sleep held off
		assert_equal "$(cyc s12-1 domain)" running
		assert_equal "$(cyc s12-1 lightdm)" inactive
		assert_equal "$(cyc s12-1 holders)" ""
		assert_equal "$(cyc s12-1 $VGA)" vfio-pci
		assert_equal "$(cyc s12-1 $VGA_AUDIO)" vfio-pci
		assert_equal "$(cyc s12-1 $GPU)" bochs-drm
		assert_equal "$(cyc s12-1 vtcon1)" "0 (M) frame buffer device"
		assert_equal "$(cyc s12-1 nosleep)" active
		g=$(cyc s12-1 vfio | cut -d' ' -f1)
		assert_equal "$(cyc s12-1 vfio)" "$g vfio "
		assert_equal "$(cyc s12-1 qemu-vfio)" "/dev/vfio/$g /dev/vfio/vfio "
		# destroyed: everything back, X on the card again
		assert_equal "$(cyc s12-2 domain)" "shut off"
		assert_desktop s12-2
		run sd s12-journal
		assert_line --regexp '^win10 prepare begin: qemu.d/win10/prepare/begin/05-nosleep: exit 0, [0-9.]+ s$'
		assert_line --regexp '^win10 prepare begin: qemu.d/win10/prepare/begin/50-vfio-utils: exit 0, [0-9.]+ s$'
		assert_line --regexp '^win10 release end: qemu.d/win10/release/end/50-vfio-utils: exit 0, [0-9.]+ s$'
		assert_line --regexp '^win10 release end: qemu.d/win10/release/end/95-nosleep: exit 0, [0-9.]+ s$'
	done
}

@test "12. seed 002's faults for real: a failing prepare line, a holder that keeps the card, lightdm refusing to stop; libvirt aborts, the desktop stays or comes back" {
	ks=$(cycled s12b-start.rc)
	for K in $ks; do
		assert_equal "$(sd s12b-start.rc)" 1
		run sd s12b-start.err
		assert_line "error: Failed to start domain 'win10'"
		assert_line "the fault of scenario 12b"
		assert_desktop s12b
		assert_equal "$(cyc s12b domain)" "shut off"
		assert_equal "$(sd s12c-start.rc)" 1
		run sd s12c-start.err
		assert_line --regexp '^dm-ctl: /dev/dri/card0 is still held open after 20 s by sleep \([0-9]+\)'
		assert_desktop s12c
		# lightdm refusing to stop (RefuseManualStop): nothing handed over
		assert_equal "$(sd s12e-start.rc)" 1
		run sd s12e-start.err
		assert_line --regexp '^dm-ctl: .*lightdm.service'
		refute_line --regexp 'vfio-pci|vtcon'
		assert_desktop s12e
		run sd s12-journal
		assert_line --regexp '^win10 prepare begin: qemu.d/win10/prepare/begin/60-fault: exit 1, [0-9.]+ s$'
		# libvirt ran the release hook after each abort
		assert_equal "$(grep -c '^win10 release end: qemu.d/win10/release/end/50-vfio-utils: exit 0' <<<"$output")" 4
	done
}

@test "12. two GPUs for real (seeds 000/001): the second display controller to libvirt's QEMU and back while X stays on the boot VGA" {
	local g
	ks=$(cycled s12d-virsh.out)
	for K in $ks; do
		assert_equal "$(sd s12d-virsh.out)" "$(printf 'pci_0000_01_00_0\npci_0000_01_00_1')"
		assert_equal "$(sd s12d-new.rc)" 0
		# X took the second GPU too: vfio-bind refuses to pull it from under
		# X, libvirt aborts the start, nothing changed
		assert_equal "$(cyc s12d-0 card1)" "Xorg "
		assert_equal "$(sd s12d-held.rc)" 1
		run sd s12d-held.err
		assert_line --regexp "^vfio-bind: $GPU: /dev/dri/card1 is held open by Xorg \([0-9]+\): an unbind would take the GPU from under them"
		assert_desktop s12d-held
		# told to keep to the boot VGA (AutoAddGPU off), X lets the VM have it
		assert_equal "$(sd s12d-start.rc)" 0
		assert_equal "$(cyc s12d-1 card1)" ""
		assert_equal "$(cyc s12d-1 domain)" running
		assert_equal "$(cyc s12d-1 lightdm)" active
		assert_equal "$(cyc s12d-1 holders)" "Xorg "
		assert_equal "$(cyc s12d-1 $VGA)" bochs-drm
		assert_equal "$(cyc s12d-1 $GPU)" vfio-pci
		assert_equal "$(cyc s12d-1 $GPU_AUDIO)" vfio-pci
		assert_equal "$(cyc s12d-1 vtcon1)" "1 (M) frame buffer device"
		g=$(cyc s12d-1 vfio | cut -d' ' -f1)
		assert_equal "$(cyc s12d-1 qemu-vfio)" "/dev/vfio/$g /dev/vfio/vfio "
		# its prepare hook's policy (seed 003's dosleep): the unit runs the
		# watcher, which found the domain in the real libvirtd and no agent
		# channel in it; the held start's release hook stopped it, as destroy's
		assert_equal "$(sd s12d-hold-line)" "vm-nosleep hold --on-sleep suspend --on-shutdown hibernate --domain-xml -"
		assert_equal "$(cyc s12d-held nosleep)" inactive
		assert_equal "$(cyc s12d-1 nosleep)" active
		assert_equal "$(sd s12d-1.nosleep-comm)" vm-nosleep
		assert_equal "$(sd s12d-1.nosleep-status)" "host sleep blocked; host shutdown not delayed (no guest agent channel)"
		run sd s12d-1.nosleep-list
		assert_line "vfio-utils 0 root  vm-nosleep sleep the VM \"desk2\" is running and its guest agent is not connected block"
		# libvirtd's own, while a VM runs: a shutdown delay lock beside ours
		assert_line "Libvirt 0 root  libvirtd shutdown Virtual machines need to be saved delay"
		assert_equal "$(sd s12d-destroy.rc)" 0
		assert_equal "$(cyc s12d-2 nosleep)" inactive
		assert_desktop s12d-2
	done
}

@test "13. seed 003's dosleep for real: the real logind waits for vm-nosleep's delay lock while the guest suspends through its agent, and the guest runs again when the sleep ends" {
	local n=0 ms
	for K in $(kernels); do
		[ -f "$RESULTS/$K.systemd/s13-hold.rc" ] || continue
		n=$((n + 1))
		assert_equal "$(sd s13-agent)" "name='org.qemu.guest_agent.0' state='connected'"
		echo "# $K: the nested guest's agent connected after $(sd s13-agent.secs) s" >&3
		assert_equal "$(sd s13-hold.rc)" 0
		run sd s13-1.list
		assert_line "vfio-utils 0 root  vm-nosleep sleep the VM \"dosleep\" suspends first delay"
		assert_line "vfio-utils 0 root  vm-nosleep shutdown the VM \"dosleep\" shuts down first delay"
		assert_equal "$(sd s13-1.suspends)" 0
		run sd s13-journal
		assert_equal "$(sd s13-delay.rc)" 0
		assert_line "dosleep: host going to sleep: the guest suspends (at most 29500 ms)"
		assert_line --regexp '^dosleep: guest suspended [0-9]+ ms after the host.s signal: the host may sleep$'
		assert_line "dosleep: host back: waking the guest"
		assert_line --regexp '^dosleep: guest running again [0-9]+ ms after the host.s resume$'
		sed -n 's/^dosleep: \(guest .* ms after .*\)$/# '"$K"': \1/p' "$RESULTS/$K.systemd/s13-journal" >&3
		# the guest's own kernel counted the suspend, and it runs on
		assert_equal "$(sd s13-2.suspends)" 1
		assert_equal "$(sd s13-2.state)" running
		# the delay lock is back, for the next sleep
		run sd s13-2.list
		assert_line "vfio-utils 0 root  vm-nosleep sleep the VM \"dosleep\" suspends first delay"
		assert_equal "$(sd s13-release.rc)" 0
	done
	[ "$n" -gt 0 ] || fail "no kernel ran scenario 13: $(tail -n 3 "$RESULTS/"*.systemd/script.log)"
}
