# latchkey — the front door. Meson + Ninja do the building; this file only
# makes sure dependencies are there and calls them.
#
#   make                 build build/latchkeyd and build/latchkey
#   make run             build and start latchkeyd on 127.0.0.1:8080 (./latchkey.db)
#   make test            install test dependencies, build, run every suite
#   make test SANITIZE=address,undefined   the same under ASan+UBSan (build-san/)
#   make bench           benchmarks (bench/README.md); not part of `make test`
#   make fuzz            libFuzzer harnesses (FUZZ_SECONDS=60 each)

SANITIZE ?=
BUILD ?= build
MESON_OPTS ?=
ifneq ($(strip $(SANITIZE)),)
BUILD := build-san
MESON_OPTS += -Db_sanitize=$(SANITIZE) -Db_lundef=false -Dbuildtype=debug
endif
LISTEN ?= 127.0.0.1:8080
DATABASE ?= sqlite:latchkey.db

.PHONY: all build run test deps deps-build bench fuzz clean format

all: build

deps-build:
	@scripts/deps.sh --build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps-build $(BUILD)/build.ninja
	@ninja -C $(BUILD)

run: build
	./$(BUILD)/latchkeyd --listen $(LISTEN) --database $(DATABASE)

# `make test` insists on the unit tests: a build directory configured by
# `make run` without cmocka (tests=auto) is switched to tests=enabled here, so
# a missing cmocka stops the build with meson's error instead of skipping.
test: deps $(BUILD)/build.ninja
	@meson configure $(BUILD) -Dtests=enabled
	@ninja -C $(BUILD)
	@LK_BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run.sh

bench:
	@scripts/deps.sh --bench
	@bench/run.sh

fuzz:
	@scripts/deps.sh
	@fuzz/run.sh

format:
	clang-format -i src/*/*.c src/*/*.h src/server/store/*.[ch] tests/unit/*.c

clean:
	rm -rf build build-san build-bench build-fuzz
