#!/usr/bin/env bash
# Builds ticketgate under AddressSanitizer + UndefinedBehaviorSanitizer and
# runs the whole test suite with ctest.  This is what CI runs (.ci/run).
#   TG_BUILD_DIR   build directory (default: build-asan)
#   TG_SANITIZE    ON (default) or OFF
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TG_BUILD_DIR:-build-asan}
sanitize=${TG_SANITIZE:-ON}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_SANITIZE="$sanitize"
cmake --build "$build" -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure --timeout 900 "$@"
