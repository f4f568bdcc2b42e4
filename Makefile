# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-utils: build, check, install.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
FISHFUNCDIR ?= $(DATADIR)/fish/vendor_functions.d
DESTDIR    ?=

CC         ?= cc
CFLAGS     ?= -O2 -g
WERROR     ?= -Werror
WARNINGS   := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wno-format-nonliteral
CPPFLAGS   += -D_GNU_SOURCE -DVU_VERSION='"$(VERSION)"' -Icommon \
              $(shell pkg-config --cflags libxml-2.0 libvirt)
ALL_CFLAGS  = -std=gnu11 $(WARNINGS) $(CFLAGS)

B          := build
COMMANDS   := iommu-groups vfio-bind vfio-unbind vtcon efifb dm-ctl hook-run
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
LIBCOMMON  := $(B)/libvfio-utils.a

# Each command links only what it uses.
LIBS_iommu-groups := -lpci
LIBS_vfio-bind    := -lkmod
LIBS_vfio-unbind  := -lkmod

# Build and test dependencies, by Debian package name.
DEB_BUILD  := make gcc libc6-dev pkg-config libpci-dev libkmod-dev libxml2-dev libvirt-dev
DEB_TEST   := bats bats-support bats-assert pciutils jq strace mandoc bash-completion zsh fish \
              libfuse3-dev fuse3 kmod libkmod-dev libvirt-daemon-system libvirt-clients \
              qemu-system-x86 hyperfine clang libclang-rt-dev llvm valgrind \
              cppcheck clang-tidy cpio xz-utils e2fsprogs iproute2

# Fuzz harnesses (tests/fuzz): libFuzzer targets under make fuzz (clang), and
# replayers of the kept inputs for make check (any compiler).
FUZZERS    := devarg domxml state machine hookrun
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRC_machine := tests/sim/machine.c

SIM_SRC    := tests/sim/machine.c tests/sim/tree.c tests/sim/layout.c
SIMFS_SRC  := $(SIM_SRC) tests/sim/simkern.c tests/sim/modtree.c tests/sim/simfs.c

.PHONY: all check test san install uninstall deps demo clean bench format fuzz fuzz-merge \
	lint lint-cppcheck lint-tidy
# Objects are not intermediate: keep them for incremental builds.
.SECONDARY:

all: $(COMMANDS:%=$(B)/%) $(B)/mkroot $(B)/simfs $(B)/kmodtrap.so $(B)/kmodcall \
	$(FUZZERS:%=$(B)/replay/fuzz-%)

$(B)/%.o: %.c $(wildcard common/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	$(AR) rcs $@ $^

$(B)/%: $(B)/cmd/%.o $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBCOMMON) $(LIBS_$*)

$(B)/mkroot: $(SIM_SRC:%.c=$(B)/%.o) $(B)/tests/sim/mkroot.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lpci

$(B)/simfs: $(SIMFS_SRC:%.c=$(B)/%.o)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $$(pkg-config --libs fuse3) -lpci

$(B)/kmodcall: $(B)/tests/sim/kmodcall.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lkmod

# Preloaded into every process under sim exec (bash, the stand-ins): never
# instrumented, so that it also loads into programs built without sanitizers.
$(B)/kmodtrap.so: tests/sim/kmodtrap.c tests/sim/modtree.c tests/sim/modtree.h
	$(CC) $(CPPFLAGS) $(filter-out -fsanitize%,$(ALL_CFLAGS)) -Wno-missing-prototypes -Wno-format-truncation -fPIC -shared -o $@ \
		tests/sim/kmodtrap.c tests/sim/modtree.c -ldl

$(B)/tests/sim/simfs.o: tests/sim/simfs.c $(wildcard tests/sim/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $$(pkg-config --cflags fuse3) $(ALL_CFLAGS) -Wno-missing-prototypes \
		-Wno-format-truncation -c -o $@ $<

$(B)/tests/sim/%.o: tests/sim/%.c $(wildcard tests/sim/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes -Wno-format-truncation -c -o $@ $<

$(B)/replay/fuzz-%: $(B)/tests/fuzz/fuzz-%.o $(B)/tests/fuzz/replay.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBCOMMON) -lkmod
$(B)/replay/fuzz-machine: $(B)/tests/sim/machine.o

$(B)/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h $(wildcard common/*.h tests/sim/*.h) Makefile
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

check: all san
	VU_PASSES="plain san" tests/run

test: all
	tests/run

# libtirpc linked in: the sanitizer's XDR interceptors look for the real
# functions when the program starts, and libvirt (dlopened by hook-run check)
# takes them from libtirpc, which glibc no longer provides.
san:
	$(MAKE) --no-print-directory B=$(B)/san CC=$(SAN_CC) \
		CFLAGS="-O1 -g $(SAN_FLAGS) -Wno-unknown-warning-option" \
		LDFLAGS="$(SAN_FLAGS) -Wl,--no-as-needed -l:libtirpc.so.3 -Wl,--as-needed" all

demo: all
	tests/demo $(MACHINE)

bench: all
	tests/bench/run

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(FISHFUNCDIR)
	install -m 0755 $(COMMANDS:%=$(B)/%) $(DESTDIR)$(BINDIR)/
	for c in $(COMMANDS); do \
		s=$$(ls man/$$c.[0-9] | sed 's/.*\.//'); \
		install -d $(DESTDIR)$(MANDIR)/man$$s && \
		install -m 0644 man/$$c.$$s $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
		install -m 0644 completions/bash/$$c $(DESTDIR)$(BASHCOMPDIR)/ || exit 1; \
		install -m 0644 completions/zsh/_$$c $(DESTDIR)$(ZSHCOMPDIR)/ || exit 1; \
		install -m 0644 completions/fish/$$c.fish $(DESTDIR)$(FISHCOMPDIR)/ || exit 1; \
	done
	install -m 0644 completions/bash/vfio-utils-lib $(DESTDIR)$(BASHCOMPDIR)/
	install -m 0644 completions/zsh/_vfio_utils_devices $(DESTDIR)$(ZSHCOMPDIR)/
	install -m 0644 completions/fish/functions/__vfio_utils_*.fish $(DESTDIR)$(FISHFUNCDIR)/

uninstall:
	for c in $(COMMANDS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$c $(DESTDIR)$(MANDIR)/man[18]/$$c.[18] \
			$(DESTDIR)$(BASHCOMPDIR)/$$c $(DESTDIR)$(ZSHCOMPDIR)/_$$c \
			$(DESTDIR)$(FISHCOMPDIR)/$$c.fish; \
	done
	rm -f $(DESTDIR)$(BASHCOMPDIR)/vfio-utils-lib $(DESTDIR)$(ZSHCOMPDIR)/_vfio_utils_devices \
		$(DESTDIR)$(FISHFUNCDIR)/__vfio_utils_*.fish

# Debian and Ubuntu: install with apt-get; elsewhere print what to install.
deps:
	@if command -v apt-get >/dev/null 2>&1; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends \
			$(DEB_BUILD) $(DEB_TEST); \
	else \
		echo "Install, by their Debian names: $(DEB_BUILD) $(DEB_TEST)"; \
		echo "(Fedora: pciutils-devel bats jq; Arch: pciutils bash-bats bash-bats-assert jq)"; \
	fi

clean:
	rm -rf $(B)

format:
	clang-format -i cmd/*.c common/*.[ch] tests/sim/*.[ch] tests/fuzz/*.[ch]

# make lint: cppcheck and clang-tidy (.clang-tidy, tests/sim/.clang-tidy) over
# every C file, each finding an error; tests/lint.bats runs it in make check.
LINT_DIRS  := cmd common tests/sim tests/fuzz
TIDY_FLAGS := -D_GNU_SOURCE -DVU_VERSION="0" -Icommon $(shell pkg-config --cflags libxml-2.0 libvirt fuse3) -std=gnu11

lint: lint-cppcheck lint-tidy

lint-cppcheck:
	cppcheck --enable=warning,portability,performance --std=c11 --inline-suppr -q \
		--error-exitcode=1 -D_GNU_SOURCE -Icommon --suppress=missingIncludeSystem \
		--template='{file}:{line}: {severity}: {id}: {message}' $(LINT_DIRS)

lint-tidy:
	@ls $(LINT_DIRS:%=%/*.c) | xargs -P2 -I{} sh -c \
		'clang-tidy --quiet "$$1" -- $$2 2>/dev/null' _ {} '$(TIDY_FLAGS)'
