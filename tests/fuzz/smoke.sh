#!/usr/bin/env bash
# The fuzz smoke pass for CI: every harness for a few seconds (about a
# minute in all), in a clang build of its own under $TG_BUILD_DIR/fuzz.
# Skips (77) without clang or libFuzzer, or with TG_FUZZ_SMOKE=0.
source "$(dirname "$0")/../lib.sh"
[ "${TG_FUZZ_SMOKE:-1}" != 0 ] || skip "TG_FUZZ_SMOKE=0"
export FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-${TG_BUILD_DIR:-$WORK}/fuzz}
export FUZZ_SECONDS=${FUZZ_SECONDS:-60}
rc=0
bash "$TG_SOURCE_DIR/tests/fuzz/run.sh" || rc=$?
[ "$rc" -eq 77 ] && skip "no clang/libFuzzer"
[ "$rc" -eq 0 ] || fail "fuzz smoke pass found a problem (see above; artifacts in $FUZZ_BUILD_DIR/artifacts)"
pass "fuzz smoke pass"
