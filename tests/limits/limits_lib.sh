# tests/limits/limits_lib.sh - shared by the limit tests.  Source it after
# ../lib.sh.
#   deliver_measured FILE [TG-ARGS...]  runs `deliver` on FILE; sets RC,
#                                       RSS_KB (peak RSS), SECS (wall time)
#   check_bounds WHAT MAX_RSS_MB MAX_SECS  asserts RSS_KB and SECS; both
#                                       bounds are multiplied by
#                                       $RSS_FACTOR / $TIME_FACTOR (ASan
#                                       builds: 4 and 6)
#   outcome [DATA_DIR]                  "ticket" if exactly one message is
#                                       stored, else "quarantine:REASON"
#   LONG                                1 when TG_LONG_TESTS=1
[ -x /usr/bin/time ] || skip "/usr/bin/time missing (apt-get install time)"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
cd "$WORK"
LONG=${TG_LONG_TESTS:-0}
RSS_FACTOR=1
TIME_FACTOR=1
if [ -n "${TG_BUILD_DIR:-}" ] && grep -q '^TG_SANITIZE:BOOL=ON' "$TG_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  RSS_FACTOR=4
  TIME_FACTOR=6
  # ASan keeps up to 256 MB of freed memory in quarantine: that is RSS of
  # the sanitizer, not of ours.
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
fi
deliver_measured() {
  local f=$1; shift
  RC=0
  /usr/bin/time -f '%M %e' -o time.out "$TG" "$@" deliver --recipient support@localhost \
    < "$f" > deliver.out 2> deliver.err || RC=$?
  read -r RSS_KB SECS < <(tail -1 time.out)
  echo "# $(basename "$f"): exit $RC, peak RSS $((RSS_KB / 1024)) MB, $SECS s"
}
check_bounds() {
  local what=$1 max_mb=$(( $2 * RSS_FACTOR )) max_s=$(( $3 * TIME_FACTOR ))
  [ "$RSS_KB" -le $((max_mb * 1024)) ] || fail "$what: peak RSS $((RSS_KB / 1024)) MB > $max_mb MB"
  python3 -c "import sys; sys.exit(0 if float('$SECS') <= $max_s else 1)" ||
    fail "$what: took $SECS s > $max_s s"
}
outcome() {
  local dir=${1:-var}
  local n
  n=$(sqlite3 "$dir/ticketgate.db" 'select count(*) from messages' 2>/dev/null || echo 0)
  if [ "$n" = 1 ]; then echo ticket; return; fi
  "$TG" spool list --quarantine --json 2>/dev/null |
    tg_json '"quarantine:" + (j[0]["reason"].split()[0] if j else "none")'
}
