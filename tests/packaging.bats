#!/usr/bin/env bats
# Ready for distributions: the release tarball builds and tests on its own;
# Debian's package builds with dpkg-buildpackage, is lintian clean and, put
# into a fresh Debian 12 (debootstrap), installs with its dependencies and
# runs; the RPM builds with rpmbuild and passes rpmlint; Arch's PKGBUILD
# builds and packages. Plain pass only (tests/run): it tests packaging, not
# memory. The fresh root is cached in /var/cache/vfio-utils/bookworm.

load helpers

setup_file() {
	local t
	for t in dpkg-buildpackage lintian rpmbuild rpmlint debootstrap git; do
		command -v "$t" >/dev/null || return 0 # each test says so
	done
	export VERSION
	VERSION=$(cat "$TOP/VERSION")
	export DIST=$BATS_FILE_TMPDIR/dist
	mkdir -p "$DIST"
	# from what git tracks, as a release is made
	make -s -C "$TOP" dist DISTDIR="$DIST" B="$BATS_FILE_TMPDIR/distbuild" >/dev/null
	tar -C "$DIST" -xzf "$DIST/vfio-utils-$VERSION.tar.gz"
	export SRC=$DIST/vfio-utils-$VERSION
}

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || skip "PACKAGING TOOLS UNAVAILABLE: $t (make deps)"
	done
}

@test "the version is said in one place, and every packaging agrees with it" {
	need git
	[ -n "$VERSION" ]
	run grep -rn --include='*.[ch18]' -e '0\.[0-9]\.[0-9]' "$TOP/cmd" "$TOP/common" "$TOP/man"
	assert_output ""
	assert_equal "$(sed -n '1s/^vfio-utils (\([^)]*\)).*/\1/p' "$TOP/debian/changelog")" "$VERSION"
	assert_equal "$(sed -n 's/^Version: *//p' "$TOP/packaging/rpm/vfio-utils.spec")" "$VERSION"
	assert_equal "$(sed -n 's/^pkgver=//p' "$TOP/packaging/arch/PKGBUILD")" "$VERSION"
	assert_equal "$(sed -n '3s/ (.*//p' "$TOP/NEWS")" "$VERSION"
	grep -q "GNU GENERAL PUBLIC LICENSE" "$TOP/LICENSE"
	grep -q "^Copyright: .* The vfio-utils developers" "$TOP/debian/copyright"
}

@test "make dist: what git tracks, and it builds, with gcc and clang, and passes a suite on its own" {
	need git clang
	assert_equal "$(cd "$SRC" && find . -type f | sed 's|^\./||' | sort)" "$(git -C "$TOP" ls-files | sort)"
	# a packager's build: the commands and man pages only, no FUSE, no test programs
	run make -s -C "$SRC" -j2
	assert_success
	[ -x "$SRC/build/vfio-bind" ] && [ -f "$SRC/build/man/vfio-bind.8" ]
	[ ! -e "$SRC/build/simfs" ] && [ ! -e "$SRC/build/mkroot" ]
	run make -s -C "$SRC" -j2 CC=clang B=build/clang
	assert_success
	# its own tests, from its own build
	make -s -C "$SRC" -j2 tests >/dev/null
	run env -u VU_BUILD VU_PASSES=plain "$SRC/tests/run" iommu-groups.bats
	assert_success
	assert_line --index -1 --regexp '^[1-9][0-9]* passed, 0 failed$'
	# and make dist again, from the unpacked tarball: the same files
	make -s -C "$SRC" dist DISTDIR="$BATS_FILE_TMPDIR" >/dev/null
	assert_equal "$(tar -tzf "$BATS_FILE_TMPDIR/vfio-utils-$VERSION.tar.gz" | sort)" \
		"$(tar -tzf "$DIST/vfio-utils-$VERSION.tar.gz" | sort)"
}

@test "Debian: dpkg-buildpackage builds it, lintian finds nothing, the files and dependencies are right" {
	need dpkg-buildpackage lintian
	cp -a "$SRC" "$BATS_FILE_TMPDIR/deb-src"
	run bash -c "cd '$BATS_FILE_TMPDIR/deb-src' && dpkg-buildpackage -b -us -uc 2>&1"
	assert_success
	local deb=$BATS_FILE_TMPDIR/vfio-utils_${VERSION}_amd64.deb
	[ -f "$deb" ]
	run lintian --fail-on error,warning "$BATS_FILE_TMPDIR/vfio-utils_${VERSION}_amd64.changes"
	assert_success
	refute_output --regexp '^[EW]: '
	run dpkg-deb -c "$deb"
	for c in "${COMMANDS_1[@]}"; do
		assert_line --regexp " \./usr/bin/$c\$"
		assert_line --regexp " \./usr/share/man/man1/$c\.1\.gz\$"
	done
	for c in "${COMMANDS_8[@]}"; do
		assert_line --regexp " \./usr/sbin/$c\$"
		assert_line --regexp " \./usr/share/man/man8/$c\.8\.gz\$"
	done
	assert_line --regexp ' \./etc/libvirt/hooks/qemu\.d/vfio-utils -> /usr/sbin/hook-run$'
	# what a user reads first, and what changed
	assert_line --regexp ' \./usr/share/doc/vfio-utils/README\.md(\.gz)?$'
	assert_line --regexp ' \./usr/share/doc/vfio-utils/NEWS(\.gz)?$'
	# what dlopen hides from dpkg-shlibdeps, declared by hand
	run dpkg-deb -f "$deb" Depends
	assert_output --regexp '(^|, )libxml2(,|$)'
	assert_output --partial "libpci3"
	assert_output --partial "libkmod2"
	# vfio-audit and hook-run need libvirt's library alone: the daemon and QEMU
	# (hundreds of packages on a minimal system) are suggested
	run dpkg-deb -f "$deb" Recommends
	assert_output "libvirt0"
	run dpkg-deb -f "$deb" Suggests
	assert_output --partial "libvirt-daemon-system"
	cp "$deb" "$BATS_FILE_TMPDIR/vfio-utils.deb"
}

@test "Debian: the .deb installs into a fresh Debian 12 with what it depends on, and every command runs there" {
	need debootstrap dpkg-buildpackage
	[ -f "$BATS_FILE_TMPDIR/vfio-utils.deb" ] || skip "the Debian package was not built (the test before)"
	local root=$BATS_FILE_TMPDIR/fresh
	fresh_root "$root"
	mount -t proc proc "$root/proc"
	cp "$BATS_FILE_TMPDIR/vfio-utils.deb" "$root/tmp/"
	run chroot "$root" sh -c 'apt-get -q update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends /tmp/vfio-utils.deb 2>&1'
	[ "$status" -eq 0 ] || { umount "$root/proc"; echo "$output"; false; }
	for c in "${COMMANDS[@]}"; do
		run chroot "$root" "$c" --version
		[ "$output" = "$c (vfio-utils) $VERSION" ] || { umount "$root/proc"; echo "$c: $output"; false; }
	done
	# the package's link makes hook-run libvirt's hook; no libvirt here to ask
	run chroot "$root" hook-run check
	local check=$output check_status=$status
	# a guide's dispatcher as the qemu hook, which hook-run install keeps aside
	printf '#!/bin/bash\n# the guides dispatcher\n' >"$root/etc/libvirt/hooks/qemu"
	chmod 755 "$root/etc/libvirt/hooks/qemu"
	local hooks_before
	hooks_before=$(cd "$root/etc/libvirt/hooks" && find . -printf '%p %y %m %l\n' | grep -v '^\./qemu\.d' | sort && cat qemu)
	run chroot "$root" hook-run install
	[ "$status" -eq 0 ] || { umount "$root/proc"; echo "$output"; false; }
	[ -L "$root/etc/libvirt/hooks/qemu" ] || { umount "$root/proc"; false; }
	run chroot "$root" sh -c 'apt-get purge -y vfio-utils >/dev/null 2>&1; ls /usr/sbin/vfio-bind /etc/libvirt/hooks/qemu.d/vfio-utils 2>&1'
	umount "$root/proc"
	assert_equal "$check_status" 0
	assert_equal "$(tail -1 <<<"$check")" "no problems, 1 note"
	assert_equal "$(head -1 <<<"$check")" "$(grep '^note: cannot ask libvirt (.*libvirt.so.0' <<<"$check")"
	# purged: nothing left, and the hooks directory as it was before hook-run install
	assert_line --partial "/usr/sbin/vfio-bind': No such file or directory"
	assert_line --partial "/etc/libvirt/hooks/qemu.d/vfio-utils': No such file or directory"
	assert_equal "$(cd "$root/etc/libvirt/hooks" && find . -printf '%p %y %m %l\n' | grep -v '^\./qemu\.d' | sort && cat qemu)" "$hooks_before"
}

@test "Fedora: rpmbuild builds the spec from the tarball, rpmlint finds nothing Fedora would" {
	need rpmbuild rpmlint
	local top=$BATS_FILE_TMPDIR/rpm rpm
	# Debian's rpm knows no Fedora build dependencies: --nodeps
	run rpmbuild -bb --nodeps -D "_topdir $top" -D "_sourcedir $DIST" "$SRC/packaging/rpm/vfio-utils.spec"
	assert_success
	assert_line --partial "smoke: "
	assert_line --partial "checks passed"
	rpm=$(find "$top/RPMS" -name "vfio-utils-$VERSION-*.rpm")
	[ -f "$rpm" ]
	run rpm -qlp "$rpm"
	assert_line /usr/bin/iommu-groups
	assert_line /usr/sbin/vfio-bind
	assert_line /usr/sbin/hook-run
	assert_line /etc/libvirt/hooks/qemu.d/vfio-utils
	assert_line /usr/share/man/man8/hook-run.8
	# the directories no required package provides, owned (Fedora's rule)
	for d in /etc/libvirt/hooks/qemu.d /usr/share/zsh/site-functions /usr/share/fish/vendor_completions.d /usr/share/fish/vendor_functions.d; do
		assert_line "$d"
	done
	run rpm -qp --requires "$rpm"
	assert_line libxml2
	assert_line --partial "libpci.so.3"
	run rpmlint -r "$SRC/packaging/rpm/vfio-utils.rpmlintrc" "$rpm" "$SRC/packaging/rpm/vfio-utils.spec"
	assert_success
	assert_line --partial "0 errors, 0 warnings"
}

@test "Arch: the PKGBUILD's build, check and package, run as makepkg runs them (no makepkg in Debian)" {
	local dir=$BATS_FILE_TMPDIR/arch
	mkdir -p "$dir/src" "$dir/pkg"
	tar -C "$dir/src" -xzf "$DIST/vfio-utils-$VERSION.tar.gz"
	run bash -ec "
		source '$SRC/packaging/arch/PKGBUILD'
		srcdir='$dir/src' pkgdir='$dir/pkg'
		[ \"\${source[0]}\" = vfio-utils-$VERSION.tar.gz ]
		cd \"\$srcdir\" && build >/dev/null
		cd \"\$srcdir\" && check
		cd \"\$srcdir\" && package >/dev/null"
	assert_success
	assert_line --partial "checks passed"
	# Arch keeps sbin in bin
	for c in "${COMMANDS[@]}"; do
		[ -x "$dir/pkg/usr/bin/$c" ]
	done
	[ ! -e "$dir/pkg/usr/sbin" ]
	assert_equal "$(readlink "$dir/pkg/etc/libvirt/hooks/qemu.d/vfio-utils")" /usr/bin/hook-run
	[ -f "$dir/pkg/usr/share/licenses/vfio-utils/LICENSE" ]
}
