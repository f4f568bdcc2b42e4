#!/usr/bin/env bats
# Distribution readiness: make install puts every file where its tool looks
# for it, the installed completions load the way each shell finds them, the
# man pages are clean and say what --help and --version say, and make
# uninstall takes it all away again.

load helpers

setup_file() {
	export STAGE=$BATS_FILE_TMPDIR/stage
	make -s -C "$TOP" install DESTDIR="$STAGE" PREFIX=/usr >/dev/null
}

# The man page of a command, by the section its file has.
manpage() {
	ls "$TOP"/man/"$1".[18]
}

# "-s --long" (or " --long") for each option, from --help and the man page.
help_pairs() {
	"$1" --help | sed -nE 's/^  +(-([a-zA-Z]), )?(--[a-z-]+).*/\2 \3/p' | sed 's/^ / /; s/^\([a-zA-Z]\) /-\1 /'
}
man_pairs() {
	sed -n '/^\.SH OPTIONS/,/^\.SH/{/^\.TP/{n;p}}' "$(manpage "$1")" | sed 's/\\-/-/g' |
		sed -nE 's/^\.B[RI]? +(-([a-zA-Z]) ", " )?--([a-z-]+).*/\2 --\3/p' |
		sed 's/^\([a-zA-Z]\) /-\1 /'
}

@test "make install: binaries, man pages and completions where their tools look" {
	local c s bin
	for c in "${COMMANDS[@]}"; do
		s=$(manpage "$c")
		s=${s##*.}
		# section 8, the system's configuration, in sbin; section 1 in bin
		bin=bin
		[ "$s" = 8 ] && bin=sbin
		[ -x "$STAGE/usr/$bin/$c" ]
		[ ! -e "$STAGE/usr/$([ $bin = bin ] && echo sbin || echo bin)/$c" ]
		[ -f "$STAGE/usr/share/man/man$s/$c.$s" ]
		# the man page says the version VERSION says, as --version does
		grep -q "^\.TH .* \"vfio-utils $(cat "$TOP/VERSION")\"" "$STAGE/usr/share/man/man$s/$c.$s"
		[ -f "$STAGE/usr/share/bash-completion/completions/$c" ]
		[ -f "$STAGE/usr/share/zsh/site-functions/_$c" ]
		[ -f "$STAGE/usr/share/fish/vendor_completions.d/$c.fish" ]
		run "$STAGE/usr/$bin/$c" --version
		assert_output "$c (vfio-utils) $(cat "$TOP/VERSION")"
	done
	[ -f "$STAGE/usr/share/bash-completion/completions/vfio-utils-lib" ]
	[ -f "$STAGE/usr/share/zsh/site-functions/_vfio_utils_devices" ]
	[ -f "$STAGE/usr/share/fish/vendor_functions.d/__vfio_utils_devices.fish" ]
	# the configuration tools of the system, and libvirt's hook, are root's
	[ -f "$STAGE/usr/share/man/man8/vfio-bind.8" ]
	[ -f "$STAGE/usr/share/man/man1/iommu-groups.1" ]
	# the JSON schema of them all
	grep -q "^\.TH VFIO-UTILS 7 .* \"vfio-utils $(cat "$TOP/VERSION")\"" "$STAGE/usr/share/man/man7/vfio-utils.7"
	# libvirt's qemu.d runs hook-run through the link (libvirt 6.5 and later)
	[ "$(readlink "$STAGE/etc/libvirt/hooks/qemu.d/vfio-utils")" = /usr/sbin/hook-run ]
	# nothing else, nothing outside /usr but that link
	run find "$STAGE" -mindepth 1 -maxdepth 1
	assert_output - < <(printf '%s\n' "$STAGE/etc" "$STAGE/usr" | sort)
	run find "$STAGE/etc" -type f
	assert_output ""
	run find "$STAGE" -type f -perm /022
	assert_output ""
}

@test "the installed completions load as each shell finds them" {
	root=$(machine x570-rtx2070s-group)
	# bash-completion's loader, from XDG_DATA_DIRS, finds the command's file
	run env XDG_DATA_DIRS="$STAGE/usr/share" bash -c '
		source /usr/share/bash-completion/bash_completion
		__load_completion vfio-unbind && complete -p vfio-unbind
		COMP_LINE="vfio-bind --sysroot $1 09:00.0" COMP_POINT=${#COMP_LINE}
		COMP_WORDS=(vfio-bind --sysroot "$1" 09:00.0) COMP_CWORD=3
		__load_completion vfio-bind && _vfio_bind && printf "%s\n" "${COMPREPLY[@]}"' \
		- "$root"
	assert_success
	assert_line "complete -F _vfio_unbind vfio-unbind"
	assert_line "00.0" # devices, through vfio-utils-lib beside it
	# fish, from its vendor directories
	run env XDG_DATA_DIRS="$STAGE/usr/share" fish -c "complete -C'vfio-bind --sysroot $root 09:00.1'"
	assert_line $'09:00.1\tAudio device: NVIDIA Corporation TU104 HD Audio Controller'
	# zsh, from site-functions on fpath
	run zsh -f "$TESTS/lib/zsh-complete" "$STAGE/usr/share/zsh/site-functions" "vfio-bind --sysroot $root 09:00.1"
	assert_output "09:00.1"
}

@test "man pages: mandoc -T lint finds nothing" {
	local m
	for m in "$TOP"/man/*.[178]; do
		run mandoc -T lint -W warning "$m"
		assert_success
		assert_output ""
	done
}

@test "--help and the man page list the same options, --version the same release" {
	local c th
	for c in "${COMMANDS[@]}"; do
		run help_pairs "$c"
		local help=$output
		[ "$(wc -l <<<"$help")" -ge 5 ]
		run man_pairs "$c"
		assert_output "$help"
		run "$c" --help
		assert_line "See $c($(manpage "$c" | sed 's/.*\.//'))."
		th=$(sed -n 's/^\.TH [^ ]* [18] [^ ]* "\(vfio-utils [^"]*\)".*/\1/p' \
			"$BUILD/man/$(basename "$(manpage "$c")")")
		run "$c" --version
		assert_output "$c (${th% *}) ${th#* }"
	done
}

@test "--help: every command's options and subcommands say what they do from one column, its own and the shared ones alike" {
	local c
	for c in "${COMMANDS[@]}"; do
		# below the usage lines
		run bash -c "'$BUILD/$c' --help | awk '
			/^\$/ { body = 1 }
			body && /^ / {
				lead = match(\$0, /^ +/) ? RLENGTH : 0
				rest = substr(\$0, lead + 1)
				if (lead >= 7) { col = lead + 1 }
				else if (match(rest, /  +[^ ]/)) { col = lead + RSTART + RLENGTH - 1 }
				else next
				if (col != 26) print \"column \" col - 1 \": \" \$0
			}'"
		assert_success
		assert_output ""
	done
}

@test "one meaning per short option letter across the suite" {
	local c
	for c in "${COMMANDS[@]}"; do
		"$BUILD/$c" --help | sed -nE 's/^  -([a-zA-Z]), (--[a-z-]+).*/\1 \2/p' | sed "s/\$/ $c/"
	done | sort -u >"$BATS_TEST_TMPDIR/letters"
	# a letter with two long options is two lines of the same letter
	run bash -c "awk '{ print \$1, \$2 }' '$BATS_TEST_TMPDIR/letters' | sort -u | awk '{ n[\$1]++ } n[\$1] == 2 { print \$1 }'"
	assert_output ""
	# what the issue found: -c and -g each meant two things
	grep -q '^c --connect hook-run$' "$BATS_TEST_TMPDIR/letters"
	grep -q '^g --group vfio-bind$' "$BATS_TEST_TMPDIR/letters"
}

@test "every command --help lists its subcommands, and the man page describes them" {
	local c w
	for c in "${COMMANDS[@]}"; do
		run "$c" --help
		for w in $(sed -n '/^Commands:/,/^$/s/^  \([a-z]*\).*/\1/p' <<<"$output"); do
			grep -q "^\.B $w\$" "$(manpage "$c")" || fail "$c(8) does not describe $w"
		done
	done
}

@test "make uninstall takes every installed file away" {
	make -s -C "$TOP" uninstall DESTDIR="$STAGE" PREFIX=/usr
	run find "$STAGE" -not -type d
	assert_output ""
	# and installs again into a tree with directories of its own, no hook link
	local dirs=(PREFIX=/opt/vu BINDIR=/opt/vu/b SBINDIR=/opt/vu/sb MANDIR=/opt/vu/man HOOKDIR=)
	make -s -C "$TOP" install DESTDIR="$STAGE" "${dirs[@]}" >/dev/null
	[ -x "$STAGE/opt/vu/sb/vfio-bind" ]
	[ -x "$STAGE/opt/vu/b/iommu-groups" ]
	[ -f "$STAGE/opt/vu/man/man8/vfio-bind.8" ]
	[ ! -L "$STAGE/etc/libvirt/hooks/qemu.d/vfio-utils" ]
	make -s -C "$TOP" uninstall DESTDIR="$STAGE" "${dirs[@]}"
	run find "$STAGE" -not -type d
	assert_output ""
}
