# SPDX-License-Identifier: MIT
# Front door. `make test` is the one test command (README, .ci/run).
BUILD ?= build
SAN := $(BUILD)/asan
REL := $(BUILD)/release
CLANG := $(BUILD)/clang
MESON_SETUP = meson setup --wipe --reconfigure

.PHONY: all deps build test bench demo format format-check install clean

all: build

deps:
	@./scripts/deps.sh

$(REL)/build.ninja: | deps
	meson setup $(REL) --buildtype=release -Db_ndebug=true

build: deps $(REL)/build.ninja
	ninja -C $(REL)

# ASan+UBSan build running every suite, plus as one case each: the gcc
# release build (-O3 finds warnings -O2 does not), the clang build with an
# install into a scratch DESTDIR used through pkg-config, and the style check.
# Last line: "N passed, N failed, N skipped".
test: deps
	@[ -f $(SAN)/build.ninja ] || meson setup $(SAN) -Db_sanitize=address,undefined -Db_lundef=false -Dtests=enabled >/dev/null
	@ninja -C $(SAN) >/dev/null || ninja -C $(SAN)
	@[ -f $(CLANG)/build.ninja ] || CC=clang meson setup $(CLANG) -Dtests=enabled >/dev/null
	@[ -f $(REL)/build.ninja ] || meson setup $(REL) --buildtype=release -Db_ndebug=true >/dev/null
	@python3 scripts/run-tests.py $(SAN) \
		--check "gcc-release-build=ninja -C $(REL)" \
		--check "clang-build-install=ninja -C $(CLANG) && ./scripts/check-install.sh $(CLANG)" \
		--check "style=./scripts/check-style.sh"

# The seed topology (ionest demo): what is missing installed (as root, else
# the apt-get line), the release build of the command, then the demo.
# DEMO_ARGS passes options, e.g. DEMO_ARGS="--iommu vtd".
demo: deps $(REL)/build.ninja
	@echo "building $(REL)/tools/ionest" >&2
	@ninja -C $(REL) tools/ionest >/dev/null || ninja -C $(REL) tools/ionest
	$(REL)/tools/ionest demo $(DEMO_ARGS)

# Every benchmark suite in one table (BENCH_ARGS: --quick, --json, suites).
bench: build
	@$(REL)/tools/ionest bench $(BENCH_ARGS)

format:
	@git ls-files -co --exclude-standard '*.c' '*.h' | xargs clang-format -i

format-check:
	@./scripts/check-style.sh

install: build
	meson install -C $(REL)

clean:
	rm -rf $(BUILD)
