# tests/lib.sh - shared helpers for shell integration tests.  Source it.
#   TG        the ticketgate binary (from ctest's TG_BINARY)
#   WORK      a fresh temporary directory, removed on exit
#   fail MSG  print and exit 1;  skip MSG  print and exit 77
#   tg_json PYEXPR   evaluate a python expression over JSON on stdin (as j)
set -euo pipefail
TG=${TG_BINARY:?TG_BINARY not set (run through ctest)}
SHARED=${TG_SHARED_DIR:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tgtest.XXXXXX")
cleanup_hooks=()
tg_cleanup() {
  local h
  for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
  rm -rf "$WORK"
}
trap tg_cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
pass() { echo "ok - $*"; }
tg_json() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" == "$3" ] || fail "$1: got [$2], want [$3]"; }
shared_corpus() {
  [ -n "$SHARED" ] && [ -d "$SHARED/corpus/$1" ] || skip "../shared/corpus/$1 absent (fresh clone)"
  echo "$SHARED/corpus/$1"
}
