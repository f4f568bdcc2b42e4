# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-utils: build, check, install.

# The version lives in VERSION alone: the commands' --version and the man
# pages take it from there.
VERSION    := $(shell cat VERSION)
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
FISHFUNCDIR ?= $(DATADIR)/fish/vendor_functions.d
# libvirt 6.5 and later run every executable file in qemu.d: hook-run's link
# there is its packaged hook (empty HOOKDIR installs none).
HOOKDIR    ?= $(SYSCONFDIR)/libvirt/hooks/qemu.d
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS     ?= -O2 -g
WERROR     ?= -Werror
WARNINGS   := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wno-format-nonliteral
# Asked once per build, not once per object.
PC_CFLAGS  := $(shell $(PKG_CONFIG) --cflags libxml-2.0 libvirt 2>/dev/null)
CPPFLAGS   += -D_GNU_SOURCE -DVU_VERSION='"$(VERSION)"' -Icommon $(PC_CFLAGS)
ALL_CFLAGS  = -std=gnu11 $(WARNINGS) $(CFLAGS) -MMD -MP

B          := build
# Section 1 for everyone, section 8 (sbin) for what configures the system.
COMMANDS_1 := iommu-groups vfio-audit
COMMANDS_8 := vfio-bind vfio-unbind vtcon efifb dm-ctl hook-run vm-hugepages vm-cpus vm-prio vm-nosleep vfio-boot
COMMANDS   := $(COMMANDS_1) $(COMMANDS_8)
MANPAGES   := $(COMMANDS_1:%=$(B)/man/%.1) $(COMMANDS_8:%=$(B)/man/%.8) $(B)/man/vfio-utils.7
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
LIBCOMMON  := $(B)/libvfio-utils.a

# Each command links only what it uses.
LIBS_iommu-groups := -lpci
LIBS_vfio-bind    := -lkmod
LIBS_vfio-unbind  := -lkmod
LIBS_vfio-boot    := -lkmod
# vm-nosleep talks to logind (sd-bus); its watcher loads libvirt when it runs.
LIBS_vm-nosleep   := $(shell $(PKG_CONFIG) --libs libsystemd 2>/dev/null || echo -lsystemd)

# Dependencies by Debian package name: what building needs, what the tests need.
DEB_BUILD  := make gcc libc6-dev pkg-config libpci-dev libkmod-dev libxml2-dev libvirt-dev \
              libsystemd-dev
DEB_TEST   := bats bats-support bats-assert pciutils jq strace mandoc bash-completion zsh fish \
              libfuse3-dev fuse3 kmod libvirt-daemon-system libvirt-clients \
              qemu-system-x86 hyperfine clang libclang-rt-dev llvm valgrind \
              cppcheck clang-tidy cpio xz-utils e2fsprogs iproute2 \
              build-essential dpkg-dev debhelper fakeroot lintian rpm rpmlint debootstrap git \
              systemd dbus python3-dbusmock python3-dbus python3-gi
# The same, by Fedora's and Arch's names.
RPM_BUILD  := make gcc pkgconf-pkg-config pciutils-devel kmod-devel libxml2-devel libvirt-devel \
              systemd-devel
ARCH_BUILD := make gcc pkgconf pciutils kmod libxml2 libvirt systemd-libs

# Gcc's warnings clang does not know, only for gcc.
GCC_ONLY   := $(shell $(CC) -Werror -Wno-format-truncation -E -x c /dev/null >/dev/null 2>&1 && \
              echo -Wno-format-truncation)
SIM_CFLAGS  = -Wno-missing-prototypes $(GCC_ONLY)

# Fuzz harnesses (tests/fuzz): libFuzzer targets under make fuzz (clang), and
# replayers of the kept inputs for make check (any compiler).
FUZZERS    := devarg domxml state machine hookrun
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRC_machine := tests/sim/machine.c tests/sim/memory.c

SIM_SRC    := tests/sim/machine.c tests/sim/memory.c tests/sim/tree.c tests/sim/layout.c
SIMFS_SRC  := $(SIM_SRC) tests/sim/simkern.c tests/sim/modtree.c tests/sim/simfs.c
# What the tests build beside the commands: the simulator, its helpers, the replayers.
TESTBINS   := $(B)/mkroot $(B)/simfs $(B)/kmodtrap.so $(B)/kmodcall $(B)/vcpus \
              $(FUZZERS:%=$(B)/replay/fuzz-%)

.PHONY: all tests check test smoke san install uninstall deps deps-build deps-test demo clean \
	bench format fuzz fuzz-merge lint lint-cppcheck lint-tidy dist
# Objects are not intermediate: keep them for incremental builds.
.SECONDARY:

# make: the commands and their man pages, nothing a test needs.
all: $(COMMANDS:%=$(B)/%) $(MANPAGES)

tests: all $(TESTBINS)

# Header dependencies come from the compiler (-MMD), for every object.
-include $(shell find $(B) -name '*.d' -type f -not -path '$(B)/san/*' -not -path '$(B)/demo/*' 2>/dev/null)

$(B)/%.o: %.c Makefile VERSION
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/man/%: man/% VERSION
	@mkdir -p $(dir $@)
	sed 's/@VERSION@/$(VERSION)/g' $< > $@

$(LIBCOMMON): $(COMMON_OBJ)
	$(AR) rcs $@ $^

$(B)/%: $(B)/cmd/%.o $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBCOMMON) $(LIBS_$*)

# A command too big for one file keeps its parts in cmd/NAME/.
$(B)/hook-run: $(patsubst %.c,$(B)/%.o,$(wildcard cmd/hook-run/*.c))
$(B)/dm-ctl: $(patsubst %.c,$(B)/%.o,$(wildcard cmd/dm-ctl/*.c))
$(B)/vm-nosleep: $(patsubst %.c,$(B)/%.o,$(wildcard cmd/vm-nosleep/*.c))
$(B)/vfio-boot: $(patsubst %.c,$(B)/%.o,$(wildcard cmd/vfio-boot/*.c))

$(B)/mkroot: $(SIM_SRC:%.c=$(B)/%.o) $(B)/tests/sim/mkroot.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lpci

$(B)/simfs: $(SIMFS_SRC:%.c=$(B)/%.o)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $$($(PKG_CONFIG) --libs fuse3) -lpci

$(B)/kmodcall: $(B)/tests/sim/kmodcall.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lkmod

$(B)/vcpus: $(B)/tests/sim/vcpus.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lpthread

# Preloaded into every process under sim exec (bash, the stand-ins): never
# instrumented, so that it also loads into programs built without sanitizers.
$(B)/kmodtrap.so: $(B)/pic/tests/sim/kmodtrap.o $(B)/pic/tests/sim/modtree.o
	$(CC) $(filter-out -fsanitize%,$(ALL_CFLAGS)) -shared -o $@ $^ -ldl

$(B)/pic/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(filter-out -fsanitize%,$(ALL_CFLAGS)) $(SIM_CFLAGS) -fPIC -c -o $@ $<

$(B)/tests/sim/simfs.o: tests/sim/simfs.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $$($(PKG_CONFIG) --cflags fuse3) $(ALL_CFLAGS) $(SIM_CFLAGS) -c -o $@ $<

$(B)/tests/sim/%.o: tests/sim/%.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(SIM_CFLAGS) -c -o $@ $<

$(B)/replay/fuzz-%: $(B)/tests/fuzz/fuzz-%.o $(B)/tests/fuzz/replay.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBCOMMON) -lkmod
$(B)/replay/fuzz-machine: $(B)/tests/sim/machine.o $(B)/tests/sim/memory.o

$(B)/tests/fuzz/%.o: tests/fuzz/%.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# make fuzz: each harness for FUZZ_TIME seconds on its kept corpus; what it
# learns stays in build/fuzz, a finding goes to tests/fuzz/regress/NAME/ to be
# fixed and kept. make fuzz-merge folds new coverage into the kept corpus.
$(B)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(COMMON_SRC) $(wildcard common/*.h) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -std=gnu11 -Wall -Wextra $(FUZZ_FLAGS) -o $@ $< $(COMMON_SRC) \
		$(FUZZ_SRC_$*) -lkmod -lpci
$(B)/fuzz/fuzz-machine: $(FUZZ_SRC_machine) $(wildcard tests/sim/*.h)

fuzz: $(FUZZERS:%=$(B)/fuzz/fuzz-%)
	@for f in $(FUZZERS); do \
		mkdir -p $(B)/fuzz/corpus-$$f tests/fuzz/regress/$$f; \
		echo "fuzz: $$f for $(FUZZ_TIME) s"; \
		$(B)/fuzz/fuzz-$$f -max_total_time=$(FUZZ_TIME) -close_fd_mask=3 -print_final_stats=1 \
			-artifact_prefix=tests/fuzz/regress/$$f/ \
			$(B)/fuzz/corpus-$$f tests/fuzz/corpus/$$f 2>&1 | \
			grep -E '^(stat::|==|SUMMARY|INFO: Seed|Done|artifact_prefix|.*invariant)' || exit 1; \
	done

fuzz-merge: $(FUZZERS:%=$(B)/fuzz/fuzz-%)
	@for f in $(FUZZERS); do \
		$(B)/fuzz/fuzz-$$f -merge=1 -close_fd_mask=3 tests/fuzz/corpus/$$f $(B)/fuzz/corpus-$$f \
			2>&1 | tail -1; \
	done

# make check: every suite on the plain build, then again on a build with
# AddressSanitizer and UndefinedBehaviorSanitizer (build/san), one count over
# both. make test: the plain pass only, for a quick run.
SAN_CC     ?= clang
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

check: tests san
	VU_PASSES="plain san" tests/run

test: tests
	tests/run

# make smoke: what a package build can check (no root, FUSE, libvirt or QEMU).
smoke: all $(B)/mkroot
	tests/smoke $(B)

# libtirpc linked in: the sanitizer's XDR interceptors look for the real
# functions when the program starts, and libvirt (dlopened by hook-run check)
# takes them from libtirpc, which glibc no longer provides.
san:
	$(MAKE) --no-print-directory B=$(B)/san CC=$(SAN_CC) \
		CFLAGS="-O1 -g $(SAN_FLAGS) -Wno-unknown-warning-option" \
		LDFLAGS="$(SAN_FLAGS) -Wl,--no-as-needed -l:libtirpc.so.3 -Wl,--as-needed" tests

demo: tests
	tests/demo $(MACHINE)

bench: tests
	tests/bench/run

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(FISHFUNCDIR)
	install -m 0755 $(COMMANDS_1:%=$(B)/%) $(DESTDIR)$(BINDIR)/
	install -m 0755 $(COMMANDS_8:%=$(B)/%) $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(filter %.1,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(filter %.7,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 $(filter %.8,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man8/
	for c in $(COMMANDS); do \
		install -m 0644 completions/bash/$$c $(DESTDIR)$(BASHCOMPDIR)/ || exit 1; \
		install -m 0644 completions/zsh/_$$c $(DESTDIR)$(ZSHCOMPDIR)/ || exit 1; \
		install -m 0644 completions/fish/$$c.fish $(DESTDIR)$(FISHCOMPDIR)/ || exit 1; \
	done
	install -m 0644 completions/bash/vfio-utils-lib $(DESTDIR)$(BASHCOMPDIR)/
	install -m 0644 completions/zsh/_vfio_utils_devices $(DESTDIR)$(ZSHCOMPDIR)/
	install -m 0644 completions/fish/functions/__vfio_utils_*.fish $(DESTDIR)$(FISHFUNCDIR)/
	if [ -n "$(HOOKDIR)" ]; then \
		install -d $(DESTDIR)$(HOOKDIR) && \
		ln -sfn $(SBINDIR)/hook-run $(DESTDIR)$(HOOKDIR)/vfio-utils; \
	fi

# vm-nosleep's logind drop-in ('vm-nosleep delay') goes first, if it is there.
uninstall:
	if [ -z "$(DESTDIR)" ] && [ -x $(SBINDIR)/vm-nosleep ]; then $(SBINDIR)/vm-nosleep delay -q default || true; fi
	rm -f $(COMMANDS_1:%=$(DESTDIR)$(BINDIR)/%) $(COMMANDS_8:%=$(DESTDIR)$(SBINDIR)/%) \
		$(COMMANDS_1:%=$(DESTDIR)$(MANDIR)/man1/%.1) $(COMMANDS_8:%=$(DESTDIR)$(MANDIR)/man8/%.8) \
		$(DESTDIR)$(MANDIR)/man7/vfio-utils.7 \
		$(COMMANDS:%=$(DESTDIR)$(BASHCOMPDIR)/%) $(COMMANDS:%=$(DESTDIR)$(ZSHCOMPDIR)/_%) \
		$(COMMANDS:%=$(DESTDIR)$(FISHCOMPDIR)/%.fish) \
		$(DESTDIR)$(BASHCOMPDIR)/vfio-utils-lib $(DESTDIR)$(ZSHCOMPDIR)/_vfio_utils_devices \
		$(DESTDIR)$(FISHFUNCDIR)/__vfio_utils_*.fish
	if [ -n "$(HOOKDIR)" ]; then rm -f $(DESTDIR)$(HOOKDIR)/vfio-utils; fi

# make deps: what building and testing need (make deps-build: building
# only), with apt-get on Debian and Ubuntu; elsewhere, what to install.
deps: DEPS = $(DEB_BUILD) $(DEB_TEST)
deps-build: DEPS = $(DEB_BUILD)
deps deps-build:
	@if command -v apt-get >/dev/null 2>&1; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends \
			$(DEPS); \
	else \
		echo "To build, install (Fedora) $(RPM_BUILD)"; \
		echo "                  (Arch)   $(ARCH_BUILD)"; \
		echo "To test, Debian's: $(DEB_TEST)"; \
	fi

# make dist: the release tarball, into DISTDIR, from what git tracks (or, in
# an unpacked tarball, from what it holds).
DIST       := vfio-utils-$(VERSION)
DISTDIR    ?= .
dist:
	@rm -rf $(B)/dist && mkdir -p $(B)/dist/$(DIST)
	if [ -e .git ]; then \
		git ls-files -z | xargs -0 tar -cf - | tar -C $(B)/dist/$(DIST) -xf -; \
	else \
		tar --exclude=./build --exclude=./$(B) --exclude='./vfio-utils-*.tar.gz' -cf - . | tar -C $(B)/dist/$(DIST) -xf -; \
	fi
	tar -C $(B)/dist --owner=0 --group=0 --sort=name -czf $(DISTDIR)/$(DIST).tar.gz $(DIST)
	@rm -rf $(B)/dist
	@echo $(DISTDIR)/$(DIST).tar.gz

clean:
	rm -rf $(B)

format:
	clang-format -i cmd/*.c cmd/*/*.[ch] common/*.[ch] tests/sim/*.[ch] tests/fuzz/*.[ch]

# make lint: cppcheck and clang-tidy (.clang-tidy, tests/sim/.clang-tidy) over
# every C file, each finding an error; tests/lint.bats runs it in make check.
LINT_DIRS  := cmd cmd/hook-run cmd/dm-ctl cmd/vm-nosleep cmd/vfio-boot common tests/sim tests/fuzz
TIDY_FLAGS  = -D_GNU_SOURCE -DVU_VERSION="0" -Icommon $(shell $(PKG_CONFIG) --cflags libxml-2.0 libvirt fuse3) -std=gnu11

lint: lint-cppcheck lint-tidy

lint-cppcheck:
	cppcheck --enable=warning,portability,performance --std=c11 --inline-suppr -q \
		--error-exitcode=1 -D_GNU_SOURCE -Icommon --suppress=missingIncludeSystem \
		--template='{file}:{line}: {severity}: {id}: {message}' $(LINT_DIRS)

lint-tidy:
	@ls $(LINT_DIRS:%=%/*.c) | xargs -P2 -I{} sh -c \
		'clang-tidy --quiet "$$1" -- $$2 2>/dev/null' _ {} '$(TIDY_FLAGS)'
