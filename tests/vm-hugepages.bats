#!/usr/bin/env bats
# vm-hugepages on the kernel simulator: the pools it changes are the
# simulated kernel's (tests/sim/memory.c), read back from its files.

load helpers

teardown() {
	sim_down
}

hp() { on_sim "$BUILD/vm-hugepages" "$@"; }

# xml NAME MEMORY_MIB [BACKING [EXTRA]]: a domain; BACKING what <hugepages> holds.
xml() {
	printf "<domain type='kvm'><name>%s</name><memory unit='MiB'>%s</memory><memoryBacking><hugepages>%s</hugepages></memoryBacking>%s</domain>\n" \
		"$1" "$2" "${3:-}" "${4:-}" >"$BATS_TEST_TMPDIR/${1//[^a-z0-9]/_}.xml"
	echo "$BATS_TEST_TMPDIR/${1//[^a-z0-9]/_}.xml"
}

# pool SIZE_KIB [NODE] [FILE]: a count of the simulated kernel's pool.
pool() {
	local dir=$SIMROOT/sys/kernel/mm/hugepages/hugepages-$1kB
	[ "${2:-all}" = all ] || dir=$SIMROOT/sys/devices/system/node/node$2/hugepages/hugepages-$1kB
	cat "$dir/${3:-nr_hugepages}"
}

# running NAME: libvirt runs the domain (its live XML in /run/libvirt/qemu).
running() { mkdir -p "$SIMROOT/run/libvirt/qemu" && : >"$SIMROOT/run/libvirt/qemu/$1.xml"; }

@test "status: each size, whole and per node, as the kernel counts them; --json" {
	sim_up $SINGLE "nodes 2" "hugepages 2M pages 100" "hugepages 1G node 1 pages 2"
	run hp
	assert_success
	assert_line --index 0 --regexp '^SIZE +NODE +PAGES +FREE +RESERVED +SURPLUS +DOMAINS$'
	assert_line --regexp '^2 MiB +all +100 +100 +0 +0  -$'
	assert_line --regexp '^2 MiB +0 +50 +50 +- +0  -$'
	assert_line --regexp '^1 GiB +1 +2 +2 +- +0  -$'
	run hp status --json
	assert_success
	assert_equal "$(jq -c '.default_size_kib, [.pools[] | [.size_kib, .node, .pages, .free]]' <<<"$output")" \
		$'2048\n[[2048,null,100,100],[2048,0,50,50],[2048,1,50,50],[1048576,null,2,2],[1048576,0,0,0],[1048576,1,2,2]]'
}

@test "reserve adds only what is not free, read back; release gives back exactly that, the host's own pages stay" {
	sim_up $SINGLE "hugepages 2M pages 100"
	x=$(xml win10 1024)
	run hp reserve --domain-xml "$x"
	assert_success
	assert_output "win10: 512 pages of 2 MiB: 100 were free, 412 added"
	assert_equal "$(pool 2048)" 512
	assert_equal "$(cat "$SIMROOT/proc/sys/vm/nr_hugepages")" 512
	grep -q '^HugePages_Total: *512$' "$SIMROOT/proc/meminfo"
	# compacted first, so that the kernel finds contiguous memory
	assert_equal "$(grep -c $'^write\t/proc/sys/vm/compact_memory\t1\t0$' "$SIMROOT/.sim/journal")" 1
	run cat "$SIMROOT/run/vfio-utils/hugepages"
	assert_line "win10 2048kB@all=512:412"
	# twice: nothing more
	run hp reserve --domain-xml "$x"
	assert_success
	assert_output "win10: its huge pages are reserved already"
	assert_equal "$(pool 2048)" 512
	run hp release --domain-xml - <"$x"
	assert_success
	assert_output "win10: 412 pages of 2 MiB given back"
	assert_equal "$(pool 2048)" 100
	[ ! -e "$SIMROOT/run/vfio-utils/hugepages" ]
	run hp release win10
	assert_success
	assert_output "win10: no huge pages reserved: nothing to give back"
	assert_equal "$(pool 2048)" 100
}

@test "each guest cell in its page size, on the host node <numatune> binds it to" {
	sim_up $SINGLE "nodes 2"
	x=$(xml numa 4096 "<page size='1' unit='G' nodeset='0'/><page size='2048' unit='KiB'/>" \
		"<numatune><memnode cellid='0' mode='strict' nodeset='1'/><memnode cellid='1' mode='strict' nodeset='0-1'/></numatune><cpu><numa><cell id='0' cpus='0-1' memory='2' unit='GiB'/><cell id='1' cpus='2-3' memory='2' unit='GiB'/></numa></cpu>")
	run hp reserve --domain-xml "$x"
	assert_success
	# cell 0: 1 GiB pages on node 1 alone; cell 1: the default page, on either node
	assert_equal "$(pool 1048576 1)" 2
	assert_equal "$(pool 1048576 0)" 0
	assert_equal "$(pool 2048)" 1024
	run cat "$SIMROOT/run/vfio-utils/hugepages"
	assert_line "numa 1048576kB@1=2:2 2048kB@all=1024:1024"
	run hp release numa
	assert_success
	assert_equal "$(pool 1048576 1)" 0
	assert_equal "$(pool 2048)" 0
}

@test "the kernel grants fewer: every pool put back, nothing remembered, exit 1, one line naming the domain" {
	sim_up $SINGLE "hugepages 1G max 3"
	x=$(xml big 8192 "<page size='2048' unit='KiB' nodeset='0'/><page size='1' unit='G' nodeset='1'/>" \
		"<cpu><numa><cell id='0' cpus='0-1' memory='4' unit='GiB'/><cell id='1' cpus='2-3' memory='4' unit='GiB'/></numa></cpu>")
	run --separate-stderr hp reserve --domain-xml "$x"
	assert_failure 1
	assert_equal "$stderr" "vm-hugepages: big: 4 pages of 1 GiB needed, 0 free: the kernel could add only 3 of the 4 more (memory short or too fragmented)"
	assert_equal "$(pool 1048576)" 0
	assert_equal "$(pool 2048)" 0
	[ ! -e "$SIMROOT/run/vfio-utils/hugepages" ]
	# the 2 MiB pool, done first, was put back too
	run grep $'nr_hugepages\t' "$SIMROOT/.sim/journal"
	assert_output --partial $'hugepages-2048kB/nr_hugepages\t2048\t0'
	assert_output --partial $'hugepages-2048kB/nr_hugepages\t0\t0'
	# once memory is there, the same start succeeds
	sim ctl "$SIMROOT" hugepages 1G max none
	run hp reserve --domain-xml "$x"
	assert_success
	assert_equal "$(pool 1048576)" 4
}

@test "two domains: pages set aside for one not yet running are not the other's; release leaves the other's" {
	sim_up $SINGLE
	a=$(xml a 512) b=$(xml b 512)
	hp reserve --domain-xml "$a"
	run hp reserve --domain-xml "$b"
	assert_success
	assert_output "b: 256 pages of 2 MiB: 0 were free, 256 added"
	assert_equal "$(pool 2048)" 512
	# a runs: its QEMU took its pages; b's are free and b's
	running a
	sim ctl "$SIMROOT" hugepages 2M use 256
	run hp --json
	assert_equal "$(jq -c '[.pools[] | select(.node == null and .size_kib == 2048) | .pages, .free, [.domains[] | .domain]]' <<<"$output")" '[512,256,["a","b"]]'
	# a stops: its pages freed, then given back; b's stay
	sim ctl "$SIMROOT" hugepages 2M use 0
	run hp release a
	assert_success
	assert_equal "$(pool 2048)" 256
	run hp release b
	assert_equal "$(pool 2048)" 0
}

@test "release while the pages are still in use: they turn surplus, freed with the process, not taken from another" {
	sim_up $SINGLE "hugepages 2M pages 64"
	x=$(xml win10 256)
	hp reserve --domain-xml "$x"
	assert_equal "$(pool 2048)" 128
	sim ctl "$SIMROOT" hugepages 2M use 128
	run hp release win10
	assert_success
	assert_equal "$(pool 2048)" 128
	assert_equal "$(pool 2048 all surplus_hugepages)" 64
	assert_equal "$(cat "$SIMROOT/proc/sys/vm/nr_hugepages")" 64
	sim ctl "$SIMROOT" hugepages 2M use 0
	# the host's own 64 stay
	assert_equal "$(pool 2048)" 64
}

@test "no huge pages in the XML: seed 003's sync, drop caches and compact, for transparent huge pages" {
	sim_up $SINGLE
	printf "<domain type='kvm'><name>plain</name><memory unit='GiB'>8</memory></domain>\n" >"$BATS_TEST_TMPDIR/plain.xml"
	run hp reserve --domain-xml "$BATS_TEST_TMPDIR/plain.xml"
	assert_success
	run grep $'^write\t/proc/sys/vm/' "$SIMROOT/.sim/journal"
	assert_output $'write\t/proc/sys/vm/drop_caches\t3\t0\nwrite\t/proc/sys/vm/compact_memory\t1\t0'
	assert_equal "$(pool 2048)" 0
	[ ! -e "$SIMROOT/run/vfio-utils/hugepages" ]
}

@test "-n: the writes it would make, nothing changed; --drop-caches" {
	sim_up $SINGLE
	x=$(xml win10 64)
	run hp -n --drop-caches reserve --domain-xml "$x"
	assert_success
	assert_output "sync
echo 3 > $SIMROOT/proc/sys/vm/drop_caches
echo 1 > $SIMROOT/proc/sys/vm/compact_memory
echo 32 > $SIMROOT/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
	assert_equal "$(pool 2048)" 0
	[ ! -e "$SIMROOT/run/vfio-utils/hugepages" ]
	run hp -n --json reserve --domain-xml "$x"
	assert_equal "$(jq -c '[.pools[] | .needed, .added, .result], (.plan | length)' <<<"$output")" $'[32,32,"planned"]\n2'
}

@test "a write the kernel refuses: exit 1, the pools as they were, nothing remembered" {
	sim_up $SINGLE
	sim ctl "$SIMROOT" fault write /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages EIO
	x=$(xml w 4096 "<page size='2' unit='M' nodeset='1'/><page size='1' unit='G' nodeset='0'/>" \
		"<cpu><numa><cell id='0' cpus='0' memory='2' unit='GiB'/><cell id='1' cpus='1' memory='2' unit='GiB'/></numa></cpu>")
	run --separate-stderr hp reserve --domain-xml "$x"
	assert_failure 1
	assert_equal "$stderr" "vm-hugepages: w: cannot write 2 to /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages: Input/output error"
	assert_equal "$(pool 2048)" 0
	[ ! -e "$SIMROOT/run/vfio-utils/hugepages" ]
}

@test "bad input: one line naming the object, the documented status" {
	sim_up $SINGLE
	run --separate-stderr hp reserve
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "vm-hugepages: reserve needs the domain: --domain-xml FILE|-"
	run --separate-stderr hp release
	assert_failure 2
	run --separate-stderr hp status --domain-xml /dev/null
	assert_failure 2
	run --separate-stderr hp release --drop-caches a
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "vm-hugepages: --drop-caches goes with reserve"
	# reserve takes the domain from its XML alone: a name beside it is one argument too many
	run --separate-stderr hp reserve --domain-xml "$BATS_TEST_TMPDIR/nosuch.xml" win10
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "vm-hugepages: reserve: too many arguments (see --help)"
	run --separate-stderr hp reserve --domain-xml "$BATS_TEST_TMPDIR/nosuch.xml"
	assert_failure 1
	[[ $stderr == "vm-hugepages: $BATS_TEST_TMPDIR/nosuch.xml: "* ]]
	[ "$(wc -l <<<"$stderr")" = 1 ]
	x=$(xml odd 64 "<page size='16' unit='M'/>")
	run --separate-stderr hp reserve --domain-xml "$x"
	assert_failure 1
	assert_equal "$stderr" "vm-hugepages: odd: no huge pages of 16 MiB: this kernel has no such pool"
	x=$(xml bad 64 "<page size='2' unit='M' nodeset='x'/>")
	run --separate-stderr hp reserve --domain-xml "$x"
	assert_failure 1
	assert_equal "$stderr" "vm-hugepages: bad: <page nodeset='x'> is not a set of guest NUMA cells"
	printf "<domain><memory>1</memory><memoryBacking><hugepages/></memoryBacking></domain>" >"$BATS_TEST_TMPDIR/noname.xml"
	run --separate-stderr hp reserve --domain-xml "$BATS_TEST_TMPDIR/noname.xml"
	assert_failure 1
	assert_equal "$stderr" "vm-hugepages: $BATS_TEST_TMPDIR/noname.xml: the domain has no <name>"
	assert_equal "$(pool 2048)" 0
}

@test "a damaged state file: reserve changes nothing; release keeps it aside, gives back nothing" {
	sim_up $SINGLE
	x=$(xml win10 64)
	mkdir -p "$SIMROOT/run/vfio-utils"
	printf 'garbage\n' >"$SIMROOT/run/vfio-utils/hugepages"
	run hp reserve --domain-xml "$x"
	assert_failure 1
	assert_line --partial "/run/vfio-utils/hugepages: damaged: not written over"
	assert_equal "$(pool 2048)" 0
	run hp release win10
	assert_failure 1
	assert_line --partial "win10: what reserve added is unknown: nothing given back"
	[ ! -e "$SIMROOT/run/vfio-utils/hugepages" ]
	ls "$SIMROOT"/run/vfio-utils/hugepages.damaged-*
}

@test "a domain name outside the state alphabet is escaped, and found again by release" {
	sim_up $SINGLE
	x=$(xml 'win 10\é' 64)
	run hp reserve --domain-xml "$x"
	assert_success
	run cat "$SIMROOT/run/vfio-utils/hugepages"
	assert_line 'win\x2010\x5c\xc3\xa9 2048kB@all=32:32'
	run hp release 'win 10\é'
	assert_success
	assert_equal "$(pool 2048)" 0
}

@test "hook-run new writes the huge page (and CPU) scripts for a domain backed (and pinned) by them; they reserve and give back" {
	[ -e /usr/lib/x86_64-linux-gnu/libvirt.so.0 ] || skip "libvirt is not installed"
	sim_up $SINGLE
	cat >"$BATS_TEST_TMPDIR/node.xml" <<-'EOF'
		<node>
		  <domain type="test"><name>win10</name><memory unit='MiB'>512</memory>
		    <memoryBacking><hugepages/></memoryBacking><vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/></cputune><os><type>hvm</type></os>
		    <devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0' bus='9' slot='0' function='0'/></source></hostdev></devices></domain>
		  <domain type="test"><name>plain</name><memory unit='MiB'>512</memory><os><type>hvm</type></os></domain>
		</node>
	EOF
	local q=$SIMROOT/etc/libvirt/hooks/qemu.d
	mkdir -p "$SIMROOT/etc/libvirt/hooks"
	run on_sim hook-run -c "test://$BATS_TEST_TMPDIR/node.xml" new win10
	assert_success
	assert_line "wrote /etc/libvirt/hooks/qemu.d/win10/prepare/begin/40-hugepages"
	assert_line "wrote /etc/libvirt/hooks/qemu.d/win10/release/end/60-hugepages"
	assert_equal "$(tail -1 "$q/win10/prepare/begin/40-hugepages")" "vm-hugepages reserve --domain-xml -"
	assert_equal "$(tail -1 "$q/win10/release/end/60-hugepages")" "vm-hugepages release --domain-xml -"
	# pinned: the host kept off its CPUs, by vm-cpus
	assert_equal "$(tail -1 "$q/win10/prepare/begin/45-cpus")" "vm-cpus isolate --domain-xml -"
	assert_equal "$(tail -1 "$q/win10/release/end/55-cpus")" "vm-cpus release --domain-xml -"
	# and its vCPU threads' priority once QEMU runs
	assert_equal "$(tail -1 "$q/win10/started/begin/50-prio")" "vm-prio set --domain-xml -"
	assert_equal "$(tail -1 "$q/win10/release/end/50-prio")" "vm-prio reset --domain-xml -"
	# each gets the XML on stdin from hook-run, as every script does
	virsh -c "test://$BATS_TEST_TMPDIR/node.xml" dumpxml win10 >"$BATS_TEST_TMPDIR/win10.xml"
	PATH=$BUILD:$PATH "$q/win10/prepare/begin/40-hugepages" <"$BATS_TEST_TMPDIR/win10.xml"
	assert_equal "$(pool 2048)" 256
	PATH=$BUILD:$PATH "$q/win10/release/end/60-hugepages" <"$BATS_TEST_TMPDIR/win10.xml"
	assert_equal "$(pool 2048)" 0
	# a domain without huge pages gets none
	run on_sim hook-run -c "test://$BATS_TEST_TMPDIR/node.xml" new --gpu 09:00.0 plain
	assert_success
	[ ! -e "$q/plain/prepare/begin/40-hugepages" ] && [ ! -e "$q/plain/prepare/begin/45-cpus" ]
	[ -e "$q/plain/prepare/begin/50-vfio-utils" ]
}
