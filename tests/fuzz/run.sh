#!/usr/bin/env bash
# tests/fuzz/run.sh - build the libFuzzer harnesses (clang, TG_FUZZ=ON) and
# run each of them for a while.
#
#   tests/fuzz/run.sh                  smoke pass: ~60 s in all
#   FUZZ_SECONDS=600 tests/fuzz/run.sh each harness 600 s (the long run)
#   tests/fuzz/run.sh mail rules       only these harnesses
#
# Environment:
#   FUZZ_SECONDS     up to 60 (the default): the TOTAL for a smoke pass,
#                    split evenly (at least 3 s each); above 60: seconds
#                    PER harness.
#   FUZZ_BUILD_DIR   build directory (default: <source>/build-fuzz)
#   FUZZ_JOBS        build parallelism (default 2)
#   FUZZ_NO_BUILD    set: use the binaries already in FUZZ_BUILD_DIR
#                    (two runs side by side without racing on the build)
#   TG_SHARED_DIR    ../shared: its corpus seeds the mail and mustache
#                    harnesses when present (read in place, never copied
#                    into the repository)
# Corpora: FUZZ_BUILD_DIR/corpus/NAME collects what the fuzzer finds;
# tests/fuzz/seeds/NAME and tests/fuzz/regressions/NAME are read-only
# seeds.  Crashes go to FUZZ_BUILD_DIR/artifacts/.  A summary line per
# harness (runs, exec/s, result) goes to FUZZ_BUILD_DIR/summary.txt.
# Exit: 0 clean, 1 a harness reported a problem, 77 no clang/libFuzzer.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
shared=${TG_SHARED_DIR:-$src/../shared}
all=(mail rules mustache config charset journal)
[ -f "$src/gateway/smtp_session.h" ] && all+=(smtp)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

command -v clang >/dev/null || { echo "run.sh: clang not found" >&2; exit 77; }
probe=$(mktemp -d)
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' > "$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>/dev/null; then
  rm -rf "$probe"; echo "run.sh: clang cannot link -fsanitize=fuzzer" >&2; exit 77
fi
rm -rf "$probe"

if [ "$seconds" -le 60 ]; then
  per=$(( seconds / ${#targets[@]} )); [ "$per" -ge 3 ] || per=3
else
  per=$seconds
fi

mkdir -p "$build"
[ -n "${FUZZ_NO_BUILD:-}" ] && [ -x "$build/tests/fuzz/fuzz_${targets[0]}" ] || {
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DTG_FUZZ=ON -DTG_WERROR=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/cmake.log" 2>&1 ||
  { cat "$build/cmake.log"; exit 1; }
cmake --build "$build" -j"${FUZZ_JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}") \
  >"$build/build.log" 2>&1 || { tail -50 "$build/build.log"; exit 1; }
}

# Shared seeds, prepared in the build dir (the repository gets none of it).
extra_mail=()
for d in "$shared/corpus/mail-gem" "$shared/corpus/gmime-testdata" "$shared/corpus/mimekit"; do
  [ -d "$d" ] && extra_mail+=("$d")
done
extra_mustache=()
if [ -d "$shared/corpus/mustache-spec" ] && command -v python3 >/dev/null; then
  mkdir -p "$build/shared-seeds/mustache"
  python3 - "$shared/corpus/mustache-spec" "$build/shared-seeds/mustache" <<'PY'
import json, os, sys, glob
src, out = sys.argv[1], sys.argv[2]
n = 0
for f in glob.glob(os.path.join(src, "**", "*.json"), recursive=True):
    try:
        spec = json.load(open(f, encoding="utf-8"))
    except Exception:
        continue
    for t in spec.get("tests", []):
        if isinstance(t.get("template"), str):
            open(os.path.join(out, "spec%04d" % n), "w", encoding="utf-8").write(t["template"])
            n += 1
PY
  extra_mustache+=("$build/shared-seeds/mustache")
fi

mkdir -p "$build/artifacts"
: > "$build/summary.txt"
status=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  dirs=("$corpus" "$src/tests/fuzz/seeds/$t")
  # git keeps no empty folders: a harness without findings has none.
  [ -d "$src/tests/fuzz/regressions/$t" ] && dirs+=("$src/tests/fuzz/regressions/$t")
  case $t in
    mail) dirs+=("${extra_mail[@]}"); dict=mime.dict; maxlen=65536 ;;
    mustache) dirs+=("${extra_mustache[@]}"); dict=mustache.dict; maxlen=4096 ;;
    rules) dict=rules.dict; maxlen=8192 ;;
    config) dict=config.dict; maxlen=8192 ;;
    charset) dict=charset.dict; maxlen=16384 ;;
    smtp) dict=smtp.dict; maxlen=16384 ;;
    journal) dict=journal.dict; maxlen=16384 ;;
    *) echo "run.sh: unknown harness $t" >&2; exit 2 ;;
  esac
  log="$build/fuzz_$t.log"
  echo "== fuzz_$t: ${per}s" >&2
  "$bin" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -max_len="$maxlen" \
    -dict="$src/tests/fuzz/$dict" -artifact_prefix="$build/artifacts/$t-" \
    -print_final_stats=1 "${dirs[@]}" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then res=clean; else res="PROBLEM (rc=$rc)"; status=1; tail -60 "$log" >&2; fi
  line="fuzz_$t seconds=$per runs=${runs:-?} exec/s=${eps:-?} ${cov:-} $res"
  echo "$line" | tee -a "$build/summary.txt" >&2
done
exit $status
