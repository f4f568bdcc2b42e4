#!/usr/bin/env bats
# Concurrency: many invocations of every command at once on one simulated
# machine, as when two guests start together while someone runs
# iommu-groups in a shell. Bounded: WORKERS shells, ROUNDS commands each,
# every command under a time limit. Checked:
# - no deadlock: no command runs into its time limit (exit 124);
# - every command ends in 0 or 1, a failure with one line naming the object;
# - state files never torn: a reader parses every state file, without the
#   lock, all along;
# - no device lost: afterwards the recovery brings the machine back to where
#   it started, every device on its driver, nothing remembered.

load helpers

WORKERS=6
ROUNDS=40
LIMIT=60

# The dual-GPU machine (seed 001): the host's display on the iGPU, guests get
# the RTX's group and a USB controller, one each.
VM1_XML='<domain type="kvm"><name>vm1</name><devices>
<hostdev mode="subsystem" type="pci" managed="yes"><source><address domain="0x0000" bus="0x01" slot="0x00" function="0x0"/></source></hostdev>
<hostdev mode="subsystem" type="pci" managed="yes"><source><address domain="0x0000" bus="0x01" slot="0x00" function="0x1"/></source></hostdev>
</devices></domain>'
VM2_XML='<domain type="kvm"><name>vm2</name><devices>
<hostdev mode="subsystem" type="pci" managed="yes"><source><address domain="0x0000" bus="0x09" slot="0x00" function="0x4"/></source></hostdev>
</devices></domain>'

setup() {
	PATH=$STANDINS:$PATH
	sim_up "$DUAL" >/dev/null
	dm_boot
	hooks vm1 "$VM1_XML"
	hooks vm2 "$VM2_XML"
	before=$(machine_state)
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$OUT"
}

teardown() {
	# the reader ends on its own only when told: never left running
	[ -n "${OUT:-}" ] && touch "$OUT/stop"
	wait
	sim_down
}

# hooks GUEST XML: hook-run installed as libvirt's qemu hook, the guest's
# scripts binding its devices at prepare and giving them back at release.
hooks() {
	local h=$SIMROOT/etc/libvirt/hooks
	mkdir -p "$h/qemu.d/$1/prepare/begin" "$h/qemu.d/$1/release/end"
	ln -sf "$BUILD/hook-run" "$h/qemu"
	printf '#!/bin/sh\nexec %s --timeout 10 --domain-xml -\n' "$BUILD/vfio-bind" \
		>"$h/qemu.d/$1/prepare/begin/10-vfio"
	printf '#!/bin/sh\nexec %s --timeout 10 --domain-xml -\n' "$BUILD/vfio-unbind" \
		>"$h/qemu.d/$1/release/end/10-vfio"
	chmod 755 "$h/qemu.d/$1"/*/*/10-vfio
	printf '%s\n' "$2" >"$BATS_TEST_TMPDIR/$1.xml"
}

# Every command, and hook-run as libvirtd calls it.
CMDLINES=(
	"vfio-bind --timeout 10 --group 01:00.0"
	"vfio-bind --timeout 10 09:00.4"
	"vfio-unbind --timeout 10 --restore"
	"vfio-unbind --timeout 10 01:00.1"
	"vtcon unbind" "vtcon bind"
	"efifb unbind" "efifb bind"
	"dm-ctl --timeout 10 stop" "dm-ctl --timeout 10 start" "dm-ctl --json status"
	"iommu-groups" "iommu-groups --json" "iommu-groups -k --status"
	"hook vm1 prepare" "hook vm1 release" "hook vm2 prepare" "hook vm2 release"
)

# One worker: ROUNDS commands drawn from CMDLINES with its own seed; for each,
# a line "STATUS COMMAND" in its log, its stderr kept for the failures.
worker() {
	local n=$1 i cmd status args sub
	RANDOM=$n
	for ((i = 0; i < ROUNDS; i++)); do
		cmd=${CMDLINES[RANDOM % ${#CMDLINES[@]}]}
		read -ra args <<<"$cmd"
		# (bats' errexit reaches this background shell: a failing command
		# must not end the worker, its status is what is logged)
		status=0
		if [ "${args[0]}" = hook ]; then
			sub=begin
			[ "${args[2]}" = release ] && sub=end
			timeout "$LIMIT" sim exec "$SIMROOT" -- "$SIMROOT/etc/libvirt/hooks/qemu" \
				"${args[1]}" "${args[2]}" "$sub" - \
				<"$BATS_TEST_TMPDIR/${args[1]}.xml" >/dev/null 2>"$OUT/$n.$i.err" || status=$?
		else
			timeout "$LIMIT" sim exec "$SIMROOT" -- "$BUILD/${args[0]}" "${args[@]:1}" \
				>"$OUT/$n.$i.out" 2>"$OUT/$n.$i.err" || status=$?
		fi
		echo "$status $cmd" >>"$OUT/$n.log"
		case ${args[0]}:${args[*]} in
		iommu-groups:*--json*) jq -e . "$OUT/$n.$i.out" >/dev/null || echo "bad-json $cmd" >>"$OUT/$n.log" ;;
		esac
		rm -f "$OUT/$n.$i.out"
		if [ "$status" -eq 0 ]; then rm -f "$OUT/$n.$i.err"; fi
	done
	# the statuses are in the log: a last command's 1 is no failure of the worker
	return 0
}

# The reader: every state file, read without the lock until told to stop,
# must be whole: its header, records in the state alphabet, its end line.
reader() {
	local f name reads=0 torn=0
	while [ ! -e "$OUT/stop" ]; do
		for f in "$SIMROOT"/run/vfio-utils/*; do
			name=${f##*/}
			case $name in lock | *.lock | *.new | *.damaged-* | \*) continue ;; esac
			content=$(cat "$f" 2>/dev/null) || continue # renamed away: gone, not torn
			reads=$((reads + 1))
			if ! awk -v name="$name" '
				NR == 1 { ok = ($0 == "# vfio-utils state 1 " name); next }
				/^# end$/ { end = NR; next }
				end || $0 !~ /^[A-Za-z0-9_.:@+\\-]+( [a-z_]+=[A-Za-z0-9_.:@+\\-]+)*$/ { ok = 0 }
				END { exit !(ok && end == NR) }' <<<"$content"; then
				torn=$((torn + 1))
				printf '%s\n' "--- $name" "$content" >>"$OUT/torn"
			fi
		done
	done
	echo "$reads $torn" >"$OUT/reads"
}

# Each failed command of the workers, its messages after it.
failed_runs() {
	local f n i
	for f in "$OUT"/*.err; do
		[ -e "$f" ] || continue
		n=${f##*/} i=${n#*.} n=${n%%.*} i=${i%.err}
		echo "worker $n, command $((i + 1)): $(sed -n "$((i + 1))p" "$OUT/$n.log")"
		sed 's/^/  /' "$f"
	done | awk '{ print }'
}

@test "every command at once: no deadlock, no torn state file, no device lost" {
	local w pids=() status bad failures n i reads torn
	reader &
	local rpid=$!
	for ((w = 1; w <= WORKERS; w++)); do
		worker "$w" &
		pids+=($!)
	done
	# each worker logs its commands' statuses, checked below; its own is no verdict
	for w in "${pids[@]}"; do wait "$w" || true; done
	touch "$OUT/stop"
	wait "$rpid"
	read -r reads torn <"$OUT/reads"

	# No deadlock, and every ending is a documented one.
	n=$(cat "$OUT"/*.log | wc -l)
	[ "$n" -eq $((WORKERS * ROUNDS)) ] ||
		fail "$n commands logged, not $((WORKERS * ROUNDS)); each worker's count and last line:"$'\n'"$(for f in "$OUT"/*.log; do echo "${f##*/}: $(wc -l <"$f"): $(tail -1 "$f")"; done)"
	bad=$(awk '$1 != 0 && $1 != 1' "$OUT"/*.log)
	[ -z "$bad" ] || fail "ran into the limit or ended otherwise:"$'\n'"$bad"
	failures=$(awk '$1 == 1' "$OUT"/*.log | wc -l)
	# A failure is one line per problem, each naming its command.
	for f in "$OUT"/*.err; do
		[ -e "$f" ] || continue
		[ -s "$f" ] || fail "${f##*/}: a failure without a message"
		grep -vqE '^(vfio-bind|vfio-unbind|vtcon|efifb|dm-ctl|iommu-groups|hook-run): ' "$f" &&
			fail "${f##*/}: a line not from a command: $(grep -vE '^[a-z-]+: ' "$f" | head -1)"
	done
	[ "$torn" -eq 0 ] || fail "$torn torn state files out of $reads reads: $(cat "$OUT/torn")"
	[ "$reads" -gt 0 ]

	# No device lost: the recovery brings all back.
	for cmd in "vfio-unbind --restore" "efifb bind" "vtcon bind" "dm-ctl start"; do
		on_sim $cmd >/dev/null 2>&1 || true
	done
	diff <(echo "$before") <(machine_state) ||
		fail "not back to the start; what failed, in each worker's order:"$'\n'"$(failed_runs)"
	echo "# concurrency: $WORKERS workers, $n commands ($failures failed as documented), $reads state reads, 0 torn" >&3
}
