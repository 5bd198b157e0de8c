# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The libijepa authors
# libijepa: GNU make build (no configure step).
#
#   make                 shared + static library in lib/, the example programs in examples/
#   make check           header, symbol, unit (Check, also with the AMX tiles emulated), example,
#                        Python, MPI and install tests
#   make check-asan      unit tests under ASan+UBSan, AMX tiles emulated (variant build/asan/)
#   make check-amx-emu   the unit tests with the AMX tiles emulated (variant build/amxemu/)
#   make check-abi       the library against abi/libijepa.so.0.abi (abidiff) and the pinned constants
#   make abi-baseline    record abi/libijepa.so.0.abi from the library as built
#   make fuzz            libFuzzer targets tests/fuzz/fuzz_*.c, FUZZ_SECONDS each (build/fuzz/)
#   make demo            install missing Debian packages, build, run $(DEMO_CMD)
#   make demo-full       the longer run of docs/results.md ($(DEMO_FULL_CMD))
#   make bench           build and run tests/bench (GEMM peaks, encoder and whole-step rows, f32 and bf16)
#   make bench-mpi       build and run tests/bench_mpi: 1 process x 2 threads vs 2 ranks x 1 thread
#   make bench-torch     the same I-JEPA steps in PyTorch, f32 and bf16 autocast (tests/bench_torch.py, PYTHON_BENCH)
#   make install         library, headers, ijepa.pc, the tools, man pages, Python
#                        binding, docs: PREFIX=/usr DESTDIR=... libdir=... pythondir=...
#                        (GNU variables, zstd-style upper-case aliases)
#   make uninstall       remove exactly what install put
#   make dist            libijepa-VERSION.tar.gz of the files git tracks
#   make distcheck       unpack it, build, check, install, uninstall, nothing left
#   make check-package   build Debian packages from it, lintian --pedantic, blhc, hardening-check
#   make deps            apt-get install the Debian packages below if any is missing
#   make clean
#
# The user owns CC, CXX, AR, CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS (environment or
# command line); the flags the build needs are kept in IJEPA_* variables placed
# before them.

.SUFFIXES:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

# --- version: one source of truth, include/ijepa/version.h -----------------
VERSION_H := include/ijepa/version.h
ijepa_version_part = $(shell sed -n 's/^[[:space:]]*.[[:space:]]*define[[:space:]][[:space:]]*IJEPA_VERSION_$(1)[[:space:]][[:space:]]*\([0-9][0-9]*\).*/\1/p' $(VERSION_H))
MAJOR := $(call ijepa_version_part,MAJOR)
MINOR := $(call ijepa_version_part,MINOR)
PATCH := $(call ijepa_version_part,PATCH)
ifeq ($(and $(MAJOR),$(MINOR),$(PATCH)),)
$(error could not read IJEPA_VERSION_MAJOR/MINOR/PATCH from $(VERSION_H))
endif
VERSION := $(MAJOR).$(MINOR).$(PATCH)

SONAME      := libijepa.so.$(MAJOR)
SHLIB_REAL  := lib/libijepa.so.$(VERSION)
SHLIB_MAJOR := lib/$(SONAME)
SHLIB_DEV   := lib/libijepa.so
STLIB       := lib/libijepa.a
MAP         := lib/ijepa.map
BUILD_STATIC ?= 1

# --- Debian packages needed by the build, the tests and the demo -------------
# (the one list; `make deps` installs what is missing)
DEB_PACKAGES = gcc g++ make pkg-config libdnnl-dev libpng-dev libturbojpeg0-dev \
               libjpeg62-turbo-dev zlib1g-dev check libsubunit-dev \
               dataset-fashion-mnist libjansson-dev python3-numpy python3-torch \
               python3-pil python3-venv locales openmpi-bin libopenmpi-dev python3-mpi4py
# extra packages for CI: the clang build (clang -fopenmp needs libomp), the
# ABI gate (abidiff, make check-abi), the man page lint (mandoc), and the
# Debian packaging check (make check-package: debhelper, dh-python,
# lintian, devscripts for hardening-check, blhc)
DEB_PACKAGES_CI = clang libomp-dev libclang-rt-14-dev abigail-tools mandoc \
                  debhelper dh-python dpkg-dev lintian devscripts blhc

# --- install directories (GNU names, plus zstd-style upper-case aliases) -----
prefix       ?= /usr/local
PREFIX       ?= $(prefix)
exec_prefix  ?= $(PREFIX)
EXEC_PREFIX  ?= $(exec_prefix)
libdir       ?= $(EXEC_PREFIX)/lib
LIBDIR       ?= $(libdir)
includedir   ?= $(PREFIX)/include
INCLUDEDIR   ?= $(includedir)
pkgconfigdir ?= $(LIBDIR)/pkgconfig
PKGCONFIGDIR ?= $(pkgconfigdir)
bindir       ?= $(EXEC_PREFIX)/bin
BINDIR       ?= $(bindir)
datarootdir  ?= $(PREFIX)/share
DATAROOTDIR  ?= $(datarootdir)
mandir       ?= $(DATAROOTDIR)/man
MANDIR       ?= $(mandir)
man1dir      ?= $(MANDIR)/man1
MAN1DIR      ?= $(man1dir)
man3dir      ?= $(MANDIR)/man3
MAN3DIR      ?= $(man3dir)
docdir       ?= $(DATAROOTDIR)/doc/libijepa
DOCDIR       ?= $(docdir)
# The Python binding, two pure-Python modules. Debian's python3 imports the
# distribution's modules from /usr/lib/python3/dist-packages and locally
# installed ones from /usr/local/lib/python3.X/dist-packages (X: its minor
# version, asked from $(PYTHON) only when installing): the default follows.
pythondir    ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(or $(PYTHON3_VERSION),3)/dist-packages)
PYTHONDIR    ?= $(pythondir)
PYTHON3_VERSION = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)

INSTALL         ?= install
INSTALL_PROGRAM ?= $(INSTALL)
INSTALL_DATA    ?= $(INSTALL) -m 644

# --- tools and user flags ----------------------------------------------------
CC         ?= cc
AR         ?= ar
NM         ?= nm
PKG_CONFIG ?= pkg-config
CFLAGS     ?= -O2 -g

# MPI (optional): ijepa-train-mpi and tests/bench_mpi are built when $(MPICC)
# is found (Open MPI's `mpicc --showme`; set MPI_CFLAGS and MPI_LIBS for
# another MPI, or MPICC=none to build without). The compiler stays $(CC):
# mpicc only tells where MPI's header and library are.
MPICC ?= mpicc
ifeq ($(origin MPI_LIBS),undefined)
MPI_CFLAGS := $(if $(filter-out none,$(MPICC)),$(shell $(MPICC) --showme:compile 2>/dev/null))
MPI_LIBS   := $(if $(filter-out none,$(MPICC)),$(shell $(MPICC) --showme:link 2>/dev/null))
endif

# --- compiler probes -------------------------------------------------------------
# $(call cc_has_flag,COMPILER,FLAG): y if COMPILER accepts FLAG.
cc_has_flag = $(shell $(1) -Werror $(2) -x c -c /dev/null -o /dev/null >/dev/null 2>&1 && echo y)
# gcc 12 reports a false stringop-overread on oneDNN's dims arrays; silence it
# only where the compiler knows the warning (clang does not).
warn_flags = -Wall -Wextra $(if $(call cc_has_flag,$(1),-Wstringop-overread),-Wno-stringop-overread)
# The OpenMP runtime the compiler links with -fopenmp (gcc: -lgomp, clang:
# -lomp); a static consumer must link the same one (Libs.private).
OPENMP_LIBS := $(or $(shell $(CC) -fopenmp -\#\#\# -x c /dev/null 2>&1 | grep -o -E -- '-l(gomp|omp|iomp5)\b' | head -n 1),-lgomp)
ifneq ($(OPENMP_LIBS),-lgomp)
# clang's libomp.so is outside the default search path on Debian (llvm-N/lib).
# Find it among the -L directories of the compiler's own -fopenmp link line.
OPENMP_LIBDIR := $(shell for d in $$($(CC) -fopenmp -\#\#\# -x c /dev/null 2>&1 | tr ' ' '\n' | sed -n 's/^"-L\(.*\)"$$/\1/p'); do \
                   if [ -f "$$d/lib$(patsubst -l%,%,$(OPENMP_LIBS)).so" ]; then echo "$$d"; break; fi; done)
OPENMP_LIBS := $(if $(OPENMP_LIBDIR),-L$(OPENMP_LIBDIR)) $(OPENMP_LIBS)
endif
# Debian's clang adds RUNPATH /usr/lib/llvm-N/lib with -fopenmp: turn it off.
OPENMP_NO_RPATH := $(if $(shell echo 'int main(void){return 0;}' | $(CC) -Werror -fopenmp -fno-openmp-implicit-rpath -x c - -o /dev/null >/dev/null 2>&1 && echo y),-fno-openmp-implicit-rpath)

# Libraries libijepa itself uses. Those with a pkg-config file go in
# LIB_PC_DEPS (e.g. "libpng16 libturbojpeg"): their --cflags and --libs are
# used to build here. The others go in LIB_LIBS (oneDNN has no .pc file on
# Debian). ijepa.pc names none of them as a package: the public headers need
# no other header (no Cflags from them) and a shared link needs only
# -lijepa, so a consumer needs only libijepa's own .pc file. For static
# links, every library's flags (the LIB_PC_DEPS with their own static
# dependencies) go in Libs.private, each at its last position.
LIB_PC_DEPS   = zlib jansson libpng16 libturbojpeg
LIB_LIBS      = -ldnnl -lm -pthread
LIB_PC_CFLAGS := $(if $(strip $(LIB_PC_DEPS)),$(shell $(PKG_CONFIG) --cflags $(LIB_PC_DEPS)))
LIB_PC_LIBS   := $(if $(strip $(LIB_PC_DEPS)),$(shell $(PKG_CONFIG) --libs $(LIB_PC_DEPS)))
ALL_LIB_LIBS   = $(LIB_PC_LIBS) $(LIB_LIBS)
# Words of $(1) without repeats, each kept at its last position (a static
# link needs a library after everything that uses it).
uniq_last = $(if $(strip $(1)),$(strip $(call uniq_last,$(filter-out $(lastword $(1)),$(1))) $(lastword $(1))))
PC_LIBS_PRIVATE = $(call uniq_last,$(if $(strip $(LIB_PC_DEPS)),$(shell $(PKG_CONFIG) --static --libs $(LIB_PC_DEPS))) $(LIB_LIBS) $(OPENMP_LIBS))

DEPFLAGS      = -MMD -MP
IJEPA_LDFLAGS = -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(MAP) -Wl,-z,defs -fopenmp $(OPENMP_NO_RPATH)
# Deferred: evaluated only when a test is compiled or linked (after `make deps`).
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS   = $(or $(shell $(PKG_CONFIG) --libs check),$(error pkg-config does not find Check: run 'make deps'))

# --- sources -------------------------------------------------------------------------
LIB_SRCS  = $(sort $(wildcard lib/*.c))
HEADERS   = $(sort $(wildcard include/ijepa/*.h))
# The unit test program: one suite per tests/check_<module>.c, plus the
# reference implementations and the shared Check helpers.
TEST_SRCS = $(sort $(wildcard tests/check_*.c)) tests/ref.c tests/ref_img.c tests/ref_pred.c \
            tests/ref_vit.c tests/helpers.c
# The example programs (examples/<name>.c -> examples/ijepa-<name>); every
# other examples/*.c is shared code linked into each of them, except the two
# communication layers of ijepa-train (examples/dist.h): dist_local.c in
# ijepa-train, dist_mpi.c in ijepa-train-mpi.
EXAMPLE_PROGS  = $(filter $(patsubst examples/%.c,%,$(wildcard examples/*.c)),features train probe extract demo)
EXAMPLE_MAINS  = $(addprefix examples/,$(addsuffix .c,$(EXAMPLE_PROGS)))
EXAMPLE_DIST   = examples/dist_local.c examples/dist_mpi.c
EXAMPLE_SHARED = $(filter-out $(EXAMPLE_MAINS) $(EXAMPLE_DIST),$(sort $(wildcard examples/*.c)))
FUZZ_SRCS      = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES     = $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))

# --- build variants ------------------------------------------------------------------
# One set of rules for every variant: the same sources, compiled with the
# variant's compiler and extra flags into build/<variant>/, which mirrors the
# source tree (objects, dependency files) and holds the variant's flags stamp.
# Nothing is compiled beside the sources.
#
#   release  $(CC) $(CFLAGS); its products are where the docs name them:
#            lib/libijepa.so.* and lib/libijepa.a, examples/ijepa-*,
#            tests/check_ijepa, tests/bench
#   asan     $(CC) $(CFLAGS) + ASan/UBSan, and the AMX tiles emulated (as amxemu:
#            ASan sees no read of a real tile load): build/asan/libijepa.a,
#            build/asan/check_ijepa
#   fuzz     $(FUZZ_CC) + ASan/UBSan + libFuzzer coverage: build/fuzz/libijepa.a,
#            build/fuzz/fuzz_<name>, build/fuzz/seeds_<name>
#   amxemu   $(CC) $(CFLAGS) -DIJEPA_AMX_EMULATE: lib/amx.c's tile instructions
#            in software (lib/amx_emu.h), build/amxemu/check_ijepa
#
# A variant's objects depend on its stamp build/<variant>/flags, rewritten
# only when the compiler or the flags change: `make CC=clang` after `make`
# rebuilds everything instead of mixing objects. (Install with the same
# CC/CFLAGS as the build, or it rebuilds.)
BUILD    = build
VARIANTS = release asan fuzz amxemu
FUZZ_CC ?= clang

release_CC    = $(CC)
release_FLAGS =
release_STLIB = $(STLIB)
release_CHECK = tests/check_ijepa
asan_CC       = $(CC)
asan_FLAGS    = -O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
                -DIJEPA_AMX_EMULATE
asan_STLIB    = $(BUILD)/asan/libijepa.a
asan_CHECK    = $(BUILD)/asan/check_ijepa
fuzz_CC       = $(FUZZ_CC)
fuzz_FLAGS    = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer -fsanitize=fuzzer-no-link
fuzz_STLIB    = $(BUILD)/fuzz/libijepa.a
fuzz_CHECK    = $(BUILD)/fuzz/check_ijepa
amxemu_CC     = $(CC)
amxemu_FLAGS  = -DIJEPA_AMX_EMULATE
amxemu_STLIB  = $(BUILD)/amxemu/libijepa.a
amxemu_CHECK  = $(BUILD)/amxemu/check_ijepa

# Flags by kind of source, before the user's CPPFLAGS and CFLAGS and the
# variant's flags. $(1) is the variant's compiler.
#   lib/       internal headers, hidden symbols
#   tests/     internal headers too (the tests reach internal functions
#              through the static library), Check
#   examples/  public headers only, as any user of the library
lib_cflags     = -std=c11 -fPIC -fvisibility=hidden -fopenmp -Iinclude -Ilib $(LIB_PC_CFLAGS)
tests_cflags   = -std=c11 -fopenmp -Iinclude -Ilib -Itests $(LIB_PC_CFLAGS) $(CHECK_CFLAGS)
examples_cflags = -std=c11 -fopenmp -Iinclude

# $(call variant_rules,VARIANT)
define variant_rules
$(1)_DIR     := $$(BUILD)/$(1)
$(1)_STAMP   := $$(BUILD)/$(1)/flags
$(1)_WARN    := $$(call warn_flags,$$($(1)_CC))
$(1)_LIBOBJS  = $$(patsubst %.c,$$($(1)_DIR)/%.o,$$(LIB_SRCS))
$(1)_TESTOBJS = $$(patsubst %.c,$$($(1)_DIR)/%.o,$$(TEST_SRCS))

$$($(1)_STAMP): FORCE
	@mkdir -p $$(@D)
	@printf '%s\n' '$$(subst ','"'"',$$($(1)_CC) $$($(1)_WARN) $$(CPPFLAGS) $$(CFLAGS) $$($(1)_FLAGS) | $$(IJEPA_LDFLAGS) $$(LDFLAGS) | $$(ALL_LIB_LIBS) $$(LDLIBS))' > $$@.new
	@if cmp -s $$@.new $$@; then rm -f $$@.new; else \
	    test ! -f $$@ || echo "build flags of $(1) changed: rebuilding"; mv -f $$@.new $$@; fi

$$($(1)_DIR)/lib/%.o: lib/%.c $$($(1)_STAMP)
	@mkdir -p $$(@D)
	$$($(1)_CC) $$(lib_cflags) $$($(1)_WARN) $$(CPPFLAGS) $$(CFLAGS) $$($(1)_FLAGS) $$(DEPFLAGS) -c $$< -o $$@

$$($(1)_DIR)/tests/%.o: tests/%.c $$($(1)_STAMP)
	@mkdir -p $$(@D)
	$$($(1)_CC) $$(tests_cflags) $$($(1)_WARN) $$(CPPFLAGS) $$(CFLAGS) $$($(1)_FLAGS) $$(DEPFLAGS) -c $$< -o $$@

$$($(1)_DIR)/examples/%.o: examples/%.c $$($(1)_STAMP)
	@mkdir -p $$(@D)
	$$($(1)_CC) $$(examples_cflags) $$($(1)_WARN) $$(CPPFLAGS) $$(CFLAGS) $$($(1)_FLAGS) $$(DEPFLAGS) -c $$< -o $$@

$$($(1)_STLIB): $$($(1)_LIBOBJS)
	$$(if $$($(1)_LIBOBJS),,$$(error no sources in lib/*.c))
	@mkdir -p $$(@D)
	rm -f $$@
	$$(AR) rcs $$@ $$($(1)_LIBOBJS)

$$($(1)_CHECK): $$($(1)_TESTOBJS) $$($(1)_STLIB)
	$$($(1)_CC) $$(CFLAGS) $$($(1)_FLAGS) $$(LDFLAGS) -o $$@ $$($(1)_TESTOBJS) $$($(1)_STLIB) \
	    $$(CHECK_LIBS) -fopenmp $$(ALL_LIB_LIBS) $$(LDLIBS)
endef
$(foreach v,$(VARIANTS),$(eval $(call variant_rules,$(v))))

.PHONY: FORCE all shared static tests examples programs bench demo demo-full demo-run deps \
        deps-ci check check-headers check-symbols check-pins check-unit check-examples check-man \
        check-python check-mpi check-abi abi-baseline dist distcheck check-package \
        check-install check-asan check-amx-emu install install-shared install-static install-includes \
        install-pc install-programs install-man install-python install-docs install-strip \
        uninstall clean fuzz fuzz-build
FORCE:

# --- library -------------------------------------------------------------------------
all: shared $(if $(filter 1,$(BUILD_STATIC)),static) examples programs
shared: $(SHLIB_REAL) $(SHLIB_MAJOR) $(SHLIB_DEV)
static: $(STLIB)

$(SHLIB_REAL): $(release_LIBOBJS) $(MAP) $(release_STAMP)
	$(CC) $(IJEPA_LDFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(release_LIBOBJS) $(ALL_LIB_LIBS) $(LDLIBS)

$(SHLIB_MAJOR): $(SHLIB_REAL)
	ln -sf $(notdir $<) $@

$(SHLIB_DEV): $(SHLIB_MAJOR)
	ln -sf $(notdir $<) $@

# --- tests and bench -----------------------------------------------------------------
CHECK_BIN  = $(release_CHECK)
BENCH_BIN  = tests/bench
BENCH_MPI_BIN = tests/bench_mpi
BENCH_ARGS =
tests: $(CHECK_BIN) $(BENCH_BIN) $(if $(strip $(MPI_LIBS)),$(BENCH_MPI_BIN))

$(BENCH_BIN): $(BUILD)/release/tests/bench.o $(STLIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(STLIB) -fopenmp $(ALL_LIB_LIBS) $(LDLIBS)

bench: $(BENCH_BIN)
	./$(BENCH_BIN) $(BENCH_ARGS)

# The data-parallel benchmark (tests/bench_mpi.c, built when MPI is found):
# `make bench-mpi` runs 1 process x 2 threads, then 2 ranks x 1 thread over
# TCP (BENCH_MPIRUN), on the same global batches (docs/performance.md).
BENCH_MPI_ARGS =
BENCH_MPIRUN   = mpirun -np 2 --mca btl tcp,self
$(BENCH_MPI_BIN): tests/bench_mpi.c $(STLIB) $(release_STAMP)
	$(CC) $(examples_cflags) $(release_WARN) $(MPI_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(STLIB) -fopenmp $(ALL_LIB_LIBS) $(MPI_LIBS) $(LDLIBS)

.PHONY: bench-mpi
bench-mpi: $(if $(strip $(MPI_LIBS)),$(BENCH_MPI_BIN))
	@test -n "$(strip $(MPI_LIBS))" || { echo "bench-mpi: no MPI found (mpicc)"; exit 1; }
	OMP_NUM_THREADS=2 ./$(BENCH_MPI_BIN) --no-allreduce $(BENCH_MPI_ARGS)
	OMP_NUM_THREADS=1 $(BENCH_MPIRUN) ./$(BENCH_MPI_BIN) $(BENCH_MPI_ARGS)

# The picture folder generator of tests/examples/run.sh (pictures made at
# test time, never committed).
PHOTOS_BIN = $(BUILD)/release/tests/examples/photos
$(PHOTOS_BIN): $(BUILD)/release/tests/examples/photos.o $(BUILD)/release/tests/ref_img.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIB_PC_LIBS) $(LDLIBS)

# The PyTorch side of bench's I-JEPA step table, for a side-by-side comparison
# (docs/performance.md); not part of make check. PYTHON_BENCH: the Python whose
# torch is measured; without torch (or numpy) it says so and exits 0.
PYTHON_BENCH ?= /usr/bin/python3
.PHONY: bench-torch
bench-torch: shared
	@if command -v '$(PYTHON_BENCH)' >/dev/null 2>&1; then \
	    IJEPA_LIBRARY='$(CURDIR)/$(SHLIB_MAJOR)' '$(PYTHON_BENCH)' tests/bench_torch.py $(BENCH_TORCH_ARGS); \
	else \
	    echo "bench-torch: $(PYTHON_BENCH) not found (set PYTHON_BENCH); nothing to compare"; \
	fi

# --- examples --------------------------------------------------------------------------
# In-tree programs run as built, without LD_LIBRARY_PATH: they carry RUNPATH
# $ORIGIN/../lib, which finds lib/libijepa.so.0 next to examples/ wherever the
# tree is. An installed program must carry no RUNPATH (Debian policy,
# lintian), so `make programs` links the same objects again without it into
# build/release/bin/, the files an install copies; nothing is recompiled.
EXAMPLES        = $(patsubst %,examples/ijepa-%,$(EXAMPLE_PROGS))
PROGRAMS        = $(patsubst %,$(BUILD)/release/bin/ijepa-%,$(EXAMPLE_PROGS))
# The shared code, compiled once, in an archive: each program links what it uses.
EXAMPLE_AR      = $(BUILD)/release/examples/libexamples.a
EXAMPLE_OBJS    = $(patsubst %.c,$(BUILD)/release/%.o,$(EXAMPLE_SHARED))
# Libraries the examples use themselves (PNG pictures, gzip'ed IDX files).
EXAMPLE_LIBS    = $(shell $(PKG_CONFIG) --libs libpng16 2>/dev/null || echo -lpng16) -lz -lm
EXAMPLE_RUNPATH = -Wl,-rpath,'$$ORIGIN/../lib' -Wl,--enable-new-dtags
# (every object among the prerequisites: the program's own, and for
# ijepa-train(-mpi) its communication layer)
example_link    = $(CC) $(CFLAGS) $(LDFLAGS) -fopenmp $(OPENMP_NO_RPATH) $(1) -o $@ \
                  $(filter %.o,$^) $(EXAMPLE_AR) -Llib -lijepa $(EXAMPLE_LIBS) \
                  $(if $(filter %-mpi,$@),$(MPI_LIBS)) $(LDLIBS)

# ijepa-train-mpi: ijepa-train's objects with the Open MPI layer
# examples/dist_mpi.c (MPI_CFLAGS, MPI_LIBS: see the top).
EXAMPLES_MPI = $(if $(strip $(MPI_LIBS)),examples/ijepa-train-mpi)
PROGRAMS_MPI = $(if $(strip $(MPI_LIBS)),$(BUILD)/release/bin/ijepa-train-mpi)

examples: $(EXAMPLES) $(EXAMPLES_MPI)
programs: $(PROGRAMS) $(PROGRAMS_MPI)

examples/ijepa-train $(BUILD)/release/bin/ijepa-train: $(BUILD)/release/examples/dist_local.o

$(BUILD)/release/examples/dist_mpi.o: examples/dist_mpi.c $(release_STAMP)
	@mkdir -p $(@D)
	$(CC) $(examples_cflags) $(release_WARN) $(MPI_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

examples/ijepa-train-mpi: $(BUILD)/release/examples/train.o $(BUILD)/release/examples/dist_mpi.o \
                          $(EXAMPLE_AR) $(SHLIB_DEV)
	$(call example_link,$(EXAMPLE_RUNPATH))

$(BUILD)/release/bin/ijepa-train-mpi: $(BUILD)/release/examples/train.o \
                                      $(BUILD)/release/examples/dist_mpi.o $(EXAMPLE_AR) $(SHLIB_DEV)
	@mkdir -p $(@D)
	$(call example_link,)

$(EXAMPLE_AR): $(EXAMPLE_OBJS)
	rm -f $@
	$(AR) rcs $@ $(EXAMPLE_OBJS)

$(EXAMPLES): examples/ijepa-%: $(BUILD)/release/examples/%.o $(EXAMPLE_AR) $(SHLIB_DEV)
	$(call example_link,$(EXAMPLE_RUNPATH))

$(PROGRAMS): $(BUILD)/release/bin/ijepa-%: $(BUILD)/release/examples/%.o $(EXAMPLE_AR) $(SHLIB_DEV)
	@mkdir -p $(@D)
	$(call example_link,)

# What `make demo` runs (from the top directory), and `make demo-full`: the
# same recipe for 25 epochs (11,700 steps: about 28 minutes of pretraining
# in bf16 on 2 AMX cores), probed on all 60k training images: the run whose
# features beat raw pixels (docs/results.md has what both measured).
DEMO_CMD = examples/ijepa-demo
DEMO_FULL_CMD = examples/ijepa-demo --steps 11700 --probe-train 0 --probe-epochs 15 --out demo-full-out

# demo installs missing Debian packages first (a no-op when all are present;
# IJEPA_NO_DEPS=1 skips it), then builds in a second make so that the
# pkg-config look-ups see the installed packages. No other target runs the
# package manager: `make check` expects what `make deps` installs.
demo:
	@$(SHELL) .ci/deps.sh $(DEB_PACKAGES)
	@$(MAKE) --no-print-directory demo-run

demo-full:
	@$(SHELL) .ci/deps.sh $(DEB_PACKAGES)
	@$(MAKE) --no-print-directory demo-run DEMO_CMD="$(DEMO_FULL_CMD)"

demo-run: all
	@test -x $(firstword $(DEMO_CMD)) || { echo "make demo: $(firstword $(DEMO_CMD)) was not built" >&2; exit 1; }
	$(DEMO_CMD)

deps:
	@$(SHELL) .ci/deps.sh $(DEB_PACKAGES)

deps-ci:
	@$(SHELL) .ci/deps.sh $(DEB_PACKAGES) $(DEB_PACKAGES_CI)

# --- checks ----------------------------------------------------------------------------
CHECK_OMP_NUM_THREADS = 2
# Tests run many small parallel regions: with OpenMP's default spin-waiting a
# second busy process on the machine slows them by 10-100x; passive waiting
# keeps the suite fast on a shared machine and costs nothing on a quiet one.
CHECK_OMP_ENV = OMP_NUM_THREADS=$(CHECK_OMP_NUM_THREADS) OMP_WAIT_POLICY=passive

# In order: headers, exported symbols, unit tests (also with the AMX tiles
# emulated), example programs, manual pages, Python, install + consumer.
# Packages are not installed here (run `make deps`).
check: all tests
	@$(MAKE) --no-print-directory check-headers
	@$(MAKE) --no-print-directory check-symbols
	@$(MAKE) --no-print-directory check-pins
	@$(MAKE) --no-print-directory check-unit
	@$(MAKE) --no-print-directory check-amx-emu
	@$(MAKE) --no-print-directory check-examples
	@$(MAKE) --no-print-directory check-man
	@$(MAKE) --no-print-directory check-python
	@$(MAKE) --no-print-directory check-mpi
	@$(MAKE) --no-print-directory check-install

check-headers:
	@echo "== header tests (C99, C11, C++11; ijepa.h self-contained)"
	CC='$(CC)' CXX='$(CXX)' $(SHELL) tests/headers/run.sh

check-symbols: $(SHLIB_REAL)
	@echo "== exported symbols vs headers vs $(MAP)"
	NM='$(NM)' $(SHELL) tests/check_symbols.sh $(SHLIB_REAL)

check-unit: $(CHECK_BIN)
	@echo "== unit tests (Check)"
	$(CHECK_OMP_ENV) ./$(CHECK_BIN)

check-examples: examples programs $(PHOTOS_BIN)
	@echo "== example programs (GNU options, RUNPATH, folders of pictures, examples/ijepa-features)"
	$(CHECK_OMP_ENV) PHOTOS='$(PHOTOS_BIN)' $(SHELL) tests/examples/run.sh

check-man: shared examples
	@echo "== manual pages (groff and mandoc lint, options = --help, libijepa(3)'s program)"
	CC='$(CC)' CFLAGS='$(CFLAGS)' CPPFLAGS='$(CPPFLAGS)' LDFLAGS='$(LDFLAGS)' \
	    TOOLS='$(patsubst %,ijepa-%,$(INSTALL_TOOLS))' VERSION='$(VERSION)' $(SHELL) tests/man/run.sh

# Python binding, Python examples vs C examples, docs/python.md snippets,
# PyTorch parity and converter (tests/python/run.sh skips what it cannot run).
PYTHON ?= /usr/bin/python3
check-python: shared examples
	@echo "== Python tests ($(PYTHON))"
	PYTHON='$(PYTHON)' IJEPA_LIBRARY='$(CURDIR)/$(SHLIB_MAJOR)' PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=1 \
	    OMP_WAIT_POLICY=passive $(SHELL) tests/python/run.sh

# Data-parallel runs under mpirun against one process, C and Python
# (tests/mpi/run.sh skips, saying why, without mpirun, ijepa-train-mpi or numpy).
check-mpi: shared examples
	@echo "== MPI tests (mpirun, $(PYTHON))"
	PYTHON='$(PYTHON)' IJEPA_LIBRARY='$(CURDIR)/$(SHLIB_MAJOR)' PYTHONDONTWRITEBYTECODE=1 \
	    OMP_WAIT_POLICY=passive $(SHELL) tests/mpi/run.sh

check-install: all $(PHOTOS_BIN)
	@echo "== install, pkg-config consumer, tools, man pages, Python, docs, uninstall"
	MAKE='$(MAKE)' CC='$(CC)' CFLAGS='$(CFLAGS)' CPPFLAGS='$(CPPFLAGS)' LDFLAGS='$(LDFLAGS)' \
	    PKG_CONFIG='$(PKG_CONFIG)' PYTHON='$(PYTHON)' PHOTOS='$(PHOTOS_BIN)' $(SHELL) tests/install/run.sh

# --- ABI ------------------------------------------------------------------------
# check-abi: the shared library against the committed baseline with abidiff
# (any change to a function of the baseline fails; additions pass), then
# check-pins (the values of the public constants, which abidiff cannot
# see). abi-baseline records the baseline from the library as built: do it
# when a release fixes the ABI, and commit the file. Both need the debug
# information of the default CFLAGS (-g) and abigail-tools.
ABI_BASELINE = abi/libijepa.so.$(MAJOR).abi
ABIDW_FLAGS  = --headers-dir include/ijepa --drop-private-types --no-corpus-path --no-show-locs \
               --type-id-style hash

check-abi: $(SHLIB_REAL)
	@echo "== ABI of $(SHLIB_REAL) against $(ABI_BASELINE) (abidiff)"
	$(SHELL) tests/abi/check_abi.sh $(ABI_BASELINE) $(SHLIB_REAL)
	@$(MAKE) --no-print-directory check-pins

check-pins:
	@echo "== pinned values of the public constants (tests/abi/pins.c)"
	CC='$(CC)' $(SHELL) tests/abi/check_pins.sh

abi-baseline: $(SHLIB_REAL)
	@readelf -S $(SHLIB_REAL) | grep -q '\.debug_info' || \
	    { echo "abi-baseline: $(SHLIB_REAL) has no debug information: build with -g" >&2; exit 1; }
	@mkdir -p $(dir $(ABI_BASELINE))
	abidw $(ABIDW_FLAGS) --out-file $(ABI_BASELINE) $(SHLIB_REAL)
	@echo "abi-baseline: wrote $(ABI_BASELINE) ($$(grep -c '<elf-symbol ' $(ABI_BASELINE)) symbols): commit it"

# A LeakSanitizer suppression file is used only if it exists (none is needed
# with oneDNN 2.6 + libgomp today); it must name exactly the foreign libraries.
LSAN_SUPP = .ci/lsan.supp
ASAN_ENV  = CK_FORK=no $(CHECK_OMP_ENV) \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            ASAN_OPTIONS=detect_leaks=1 \
            $(if $(wildcard $(LSAN_SUPP)),LSAN_OPTIONS=suppressions=$(CURDIR)/$(LSAN_SUPP):print_suppressions=0)

check-asan: $(asan_CHECK)
	@echo "== unit tests under ASan+UBSan (CK_FORK=no)"
	$(ASAN_ENV) ./$(asan_CHECK)

# The own AMX kernels and the paths that choose them, on a CPU without AMX:
# the unit tests against a second build whose tile instructions are
# emulated (lib/amx_emu.h; about 10 s to build, a minute to run). The
# emulation needs AVX512-BF16 (e.g. AMD Zen 4); elsewhere it is skipped
# without building, as on AMX itself, where check-unit runs the kernels on
# the tiles.
check-amx-emu:
	@echo "== unit tests with the AMX tiles emulated (build/amxemu/)"
	@if grep -qw amx_tile /proc/cpuinfo 2>/dev/null; then \
	    echo "skipped: this CPU has AMX (check-unit ran the kernels on it)"; \
	elif grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null; then \
	    $(MAKE) --no-print-directory $(amxemu_CHECK) && \
	    echo "$(CHECK_OMP_ENV) ./$(amxemu_CHECK)" && \
	    $(CHECK_OMP_ENV) ./$(amxemu_CHECK); \
	else echo "skipped: the emulation needs a CPU with AVX512-BF16"; fi

# --- fuzzing (clang + libFuzzer) ------------------------------------------------
# make fuzz [FUZZ_SECONDS=60] [FUZZ_CC=clang]
# Every tests/fuzz/fuzz_<name>.c (a libFuzzer target: LLVMFuzzerTestOneInput,
# optionally LLVMFuzzerInitialize) is linked as build/fuzz/fuzz_<name> with
# the fuzz variant's library, then run for FUZZ_SECONDS seconds
# (-max_total_time) on the corpus directory build/fuzz/corpus-<name>/.
# Seeds: if tests/fuzz/seeds_<name>.c exists, it is built as a program (same
# library, plus tests/ref_img.c for test images) and run first with the
# corpus directory as its only argument; it writes seed files there.
# A libFuzzer dictionary tests/fuzz/fuzz_<name>.dict (text) is used if present.
# Seeds and corpora are generated, never committed. A crash, sanitizer
# report, leak or timeout fails `make fuzz`; the input is saved as
# build/fuzz/crash-<name>-* (replay: build/fuzz/fuzz_<name> FILE).
FUZZ_SECONDS  ?= 60
FUZZ_DIR       = $(BUILD)/fuzz
FUZZ_LIBS      = -fopenmp $(ALL_LIB_LIBS)
FUZZ_BINS      = $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))
FUZZ_SEED_BINS = $(patsubst tests/fuzz/seeds_%.c,$(FUZZ_DIR)/seeds_%,$(sort $(wildcard tests/fuzz/seeds_*.c)))
FUZZ_ENV       = OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1 \
                 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(fuzz_STLIB)
	$(FUZZ_CC) $(fuzz_FLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(fuzz_STLIB) $(FUZZ_LIBS)

$(FUZZ_DIR)/seeds_%: $(FUZZ_DIR)/tests/fuzz/seeds_%.o $(FUZZ_DIR)/tests/ref_img.o $(fuzz_STLIB)
	$(FUZZ_CC) $(fuzz_FLAGS) $(LDFLAGS) -o $@ $< $(FUZZ_DIR)/tests/ref_img.o $(fuzz_STLIB) $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINS) $(FUZZ_SEED_BINS)

fuzz: fuzz-build
	@test -n "$(FUZZ_NAMES)" || { echo "make fuzz: no tests/fuzz/fuzz_*.c" >&2; exit 1; }
	@set -e; for n in $(FUZZ_NAMES); do \
	    corpus=$(FUZZ_DIR)/corpus-$$n; mkdir -p $$corpus; \
	    if [ -x $(FUZZ_DIR)/seeds_$$n ]; then $(FUZZ_DIR)/seeds_$$n $$corpus; fi; \
	    echo "== fuzz_$$n: $(FUZZ_SECONDS) s on $$corpus ($$(ls $$corpus | wc -l) inputs)"; \
	    $(FUZZ_ENV) $(FUZZ_DIR)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
	        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crash-$$n- \
	        $$(test -f tests/fuzz/fuzz_$$n.dict && echo -dict=tests/fuzz/fuzz_$$n.dict) \
	        $$corpus || { echo "make fuzz: fuzz_$$n FAILED (input in $(FUZZ_DIR)/crash-$$n-*)" >&2; exit 1; }; \
	done

# --- install -------------------------------------------------------------------
# DESTDIR is only prepended here; installed files never contain it.
#
# The tools installed: the programs a user of the library runs on their own
# data, each with a section-1 manual page. ijepa-demo (what `make demo`
# runs: a fixed Fashion-MNIST experiment writing ./demo-out, made of what
# ijepa-train and ijepa-probe do) and ijepa-features (the README's first
# program, whose value is its source: installed as a documentation example,
# examples/features.c, which builds against the installed library with
# pkg-config; ijepa-extract does the same work on files and folders) stay
# in the source tree.
INSTALL_TOOLS = train extract probe
MAN1_PAGES    = $(patsubst %,man/ijepa-%.1,$(INSTALL_TOOLS))
MAN3_PAGES    = $(sort $(wildcard man/*.3))
PYTHON_MODULES = python/ijepa.py python/ijepa_convert.py
# Documentation, under $(DOCDIR) as in the tree (README.md's links work).
DOC_FILES     = README.md CHANGELOG.md CITATION.cff LICENSE
DOC_DOCS      = $(sort $(wildcard docs/*.md))
DOC_EXAMPLES  = examples/features.c

install: install-shared $(if $(filter 1,$(BUILD_STATIC)),install-static) install-includes install-pc \
         install-programs install-man install-python install-docs

# GNU's install-strip: the same, with the programs and library stripped.
install-strip:
	$(MAKE) INSTALL_PROGRAM='$(INSTALL_PROGRAM) -s' install

install-shared: $(SHLIB_REAL)
	$(INSTALL) -d -m 755 $(DESTDIR)$(LIBDIR)
	$(INSTALL_PROGRAM) -m 755 $(SHLIB_REAL) $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB_REAL))
	ln -sf $(notdir $(SHLIB_REAL)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libijepa.so

install-static: $(STLIB)
	$(INSTALL) -d -m 755 $(DESTDIR)$(LIBDIR)
	$(INSTALL_DATA) $(STLIB) $(DESTDIR)$(LIBDIR)/libijepa.a

install-includes:
	$(INSTALL) -d -m 755 $(DESTDIR)$(INCLUDEDIR)/ijepa
	$(INSTALL_DATA) $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/ijepa/

# ijepa.pc is written at install time from the prefix values, so installing
# with another prefix never rebuilds anything. Directories below the prefix
# are written as ${prefix}/... so that pkg-config --define-prefix works.
PC_EXEC_PREFIX = $(if $(filter $(PREFIX),$(EXEC_PREFIX)),$${prefix},$(patsubst $(PREFIX)/%,$${prefix}/%,$(EXEC_PREFIX)))
PC_LIBDIR      = $(patsubst $(EXEC_PREFIX)/%,$${exec_prefix}/%,$(LIBDIR))
PC_INCLUDEDIR  = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

install-pc: pkgconfig/ijepa.pc.in
	$(INSTALL) -d -m 755 $(DESTDIR)$(PKGCONFIGDIR)
	sed -e 's|@prefix@|$(PREFIX)|' \
	    -e 's|@exec_prefix@|$(PC_EXEC_PREFIX)|' \
	    -e 's|@libdir@|$(PC_LIBDIR)|' \
	    -e 's|@includedir@|$(PC_INCLUDEDIR)|' \
	    -e 's|@version@|$(VERSION)|' \
	    -e 's|@libs_private@|$(strip $(PC_LIBS_PRIVATE))|' \
	    -e '/^#/d' \
	    pkgconfig/ijepa.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/ijepa.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/ijepa.pc

install-programs: $(patsubst %,$(BUILD)/release/bin/ijepa-%,$(INSTALL_TOOLS))
	$(INSTALL) -d -m 755 $(DESTDIR)$(BINDIR)
	$(INSTALL_PROGRAM) -m 755 $^ $(DESTDIR)$(BINDIR)/

# The pages carry @VERSION@ in their title line: the version goes there.
install-man: $(MAN1_PAGES) $(MAN3_PAGES)
	$(INSTALL) -d -m 755 $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(MAN3DIR)
	for f in $(MAN1_PAGES); do \
	    sed 's/@VERSION@/$(VERSION)/g' $$f > $(DESTDIR)$(MAN1DIR)/$${f##*/} && \
	    chmod 644 $(DESTDIR)$(MAN1DIR)/$${f##*/} || exit 1; done
	for f in $(MAN3_PAGES); do \
	    sed 's/@VERSION@/$(VERSION)/g' $$f > $(DESTDIR)$(MAN3DIR)/$${f##*/} && \
	    chmod 644 $(DESTDIR)$(MAN3DIR)/$${f##*/} || exit 1; done

install-python: $(PYTHON_MODULES)
	$(INSTALL) -d -m 755 $(DESTDIR)$(PYTHONDIR)
	$(INSTALL_DATA) $(PYTHON_MODULES) $(DESTDIR)$(PYTHONDIR)/

install-docs: $(DOC_FILES) $(DOC_DOCS) $(DOC_EXAMPLES)
	$(INSTALL) -d -m 755 $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL_DATA) $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	$(INSTALL_DATA) $(DOC_DOCS) $(DESTDIR)$(DOCDIR)/docs/
	$(INSTALL_DATA) $(DOC_EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/

# Exactly what install put (and the byte code Python may have cached for
# the two modules); the directories that are libijepa's own, if empty.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/ijepa-,$(INSTALL_TOOLS)) \
	      $(addprefix $(DESTDIR)$(MAN1DIR)/,$(notdir $(MAN1_PAGES))) \
	      $(addprefix $(DESTDIR)$(MAN3DIR)/,$(notdir $(MAN3_PAGES))) \
	      $(addprefix $(DESTDIR)$(PYTHONDIR)/,$(notdir $(PYTHON_MODULES)))
	rm -f $(foreach m,$(basename $(notdir $(PYTHON_MODULES))),$(DESTDIR)$(PYTHONDIR)/__pycache__/$(m).*.pyc)
	rmdir $(DESTDIR)$(PYTHONDIR)/__pycache__ 2>/dev/null || true
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOC_FILES))) \
	      $(addprefix $(DESTDIR)$(DOCDIR)/docs/,$(notdir $(DOC_DOCS))) \
	      $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(DOC_EXAMPLES)))
	rmdir $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB_REAL)) \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/libijepa.so \
	      $(DESTDIR)$(LIBDIR)/libijepa.a \
	      $(DESTDIR)$(PKGCONFIGDIR)/ijepa.pc
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/ijepa/,$(notdir $(HEADERS)))
	rmdir $(DESTDIR)$(INCLUDEDIR)/ijepa 2>/dev/null || true

# --- release tarball -------------------------------------------------------------
# dist: libijepa-VERSION.tar.gz of exactly the files git tracks, as they are
# in the working tree (committed or not; a warning says when it is not HEAD),
# under libijepa-VERSION/. Needs a git checkout. distcheck: unpack it
# elsewhere, build, make check (IJEPA_NO_DEPS=1, without Fashion-MNIST),
# install into a DESTDIR, uninstall, and check that nothing is left and the
# unpacked tree changed only by build products (tests/dist/distcheck.sh).
DIST_NAME    = libijepa-$(VERSION)
DIST_TARBALL = $(DIST_NAME).tar.gz

dist:
	@git rev-parse --is-inside-work-tree > /dev/null 2>&1 || \
	    { echo "make dist: not a git checkout: the tarball is made of the files git tracks" >&2; exit 1; }
	@tree=$$(git -c user.name=dist -c user.email=dist@localhost stash create 2>/dev/null); \
	if [ -n "$$tree" ]; then \
	    echo "make dist: warning: tracked files have uncommitted changes: the tarball holds them" >&2; \
	fi; \
	git archive --format=tar --prefix=$(DIST_NAME)/ $${tree:-HEAD} | gzip -n -9 > $(DIST_TARBALL).tmp && \
	mv -f $(DIST_TARBALL).tmp $(DIST_TARBALL)
	@echo "make dist: wrote $(DIST_TARBALL) ($$(tar -tzf $(DIST_TARBALL) | grep -c -v '/$$') files)"

distcheck: dist
	MAKE='$(MAKE)' $(SHELL) tests/dist/distcheck.sh $(DIST_TARBALL)

# check-package: the tarball of make dist packaged as a Debian maintainer
# would (a debian/ directory written in a temporary copy, never in the
# tree), built with dpkg-buildpackage, linted with lintian --pedantic, blhc
# and hardening-check (tests/package/run.sh; about 2.5 minutes here).
check-package: dist
	MAKE='$(MAKE)' $(SHELL) tests/package/run.sh $(DIST_TARBALL)

# --- clean ---------------------------------------------------------------------
# (also what older trees built beside the sources and in build-asan/, build-fuzz/)
clean:
	rm -rf $(BUILD) build-asan build-fuzz
	rm -f lib/libijepa.so lib/libijepa.so.* lib/libijepa.a lib/*.o lib/*.d
	rm -f $(CHECK_BIN) $(BENCH_BIN) $(BENCH_MPI_BIN) tests/check_ijepa_asan tests/*.o tests/*.d
	rm -f $(EXAMPLES) examples/*.o examples/*.d $(filter-out %.c %.h,$(wildcard examples/ijepa-*))

-include $(wildcard $(BUILD)/*/lib/*.d $(BUILD)/*/tests/*.d $(BUILD)/*/tests/fuzz/*.d \
                    $(BUILD)/*/tests/examples/*.d $(BUILD)/*/examples/*.d)
