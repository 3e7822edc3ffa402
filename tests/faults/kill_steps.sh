#!/usr/bin/env bash
# SIGKILL at every step of the pipeline, ITER times in all (default 250,
# at least 200; TG_LONG_TESTS=1: 1000): deliver kills itself at the step
# named by TICKETGATE_TEST_PAUSE (gateway/test_hooks.h), then recovery runs
# (`spool retry`, as serve does at start) and the MTA retries the message
# (a killed deliver never exited 0).  After each iteration the message is
# stored exactly once, the queue and the quarantine are empty.
#   in-spool-write  not accepted: nothing queued, stored only by the retry
#   after-spool, after-parse, after-commit, after-retire: accepted, and
#                   recovery or the retry finish it without a duplicate
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/faults_lib.sh"
iter=${TG_KILL_STEPS:-250}
[ "${TG_LONG_TESTS:-0}" = 1 ] && iter=1000
# fsync dominates the run time: on a tmpfs (root) it is free, and the
# crash semantics under test (what reached queue/, what was committed) are
# the same.
mkdir -p var
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=256m tgkill var 2>/dev/null; then
  cleanup_hooks+=("umount -l $WORK/var")
  chmod 0700 var
fi
steps=(in-spool-write after-spool after-parse after-commit after-retire)
expect_eq first "$(deliver_rc 0)" 0
for ((i = 1; i <= iter; i++)); do
  step=${steps[i % ${#steps[@]}]}
  rc=0
  msg "$i" | TICKETGATE_TEST_PAUSE=$step "$TG" deliver --recipient support@localhost 2>/dev/null || rc=$?
  [ "$rc" = 137 ] || fail "iteration $i ($step): deliver exited $rc, not killed"
  q=$(queued)
  case $step in
    in-spool-write) expect_eq "$i-$step-queued" "$q" 0 ;;
    after-retire) expect_eq "$i-$step-queued" "$q" 0; expect_eq "$i-$step-stored" "$(stored $i)" 1 ;;
    after-commit) expect_eq "$i-$step-queued" "$q" 1; expect_eq "$i-$step-stored" "$(stored $i)" 1 ;;
    *) expect_eq "$i-$step-queued" "$q" 1; expect_eq "$i-$step-stored" "$(stored $i)" 0 ;;
  esac
  "$TG" spool retry > retry.out 2>&1 || { cat retry.out; fail "iteration $i ($step): spool retry failed"; }
  expect_eq "$i-$step-retried" "$(deliver_rc $i)" 0
  expect_eq "$i-$step-once" "$(stored $i)" 1
  expect_eq "$i-$step-queue-empty" "$(queued)" 0
done
expect_eq no-quarantine "$(quarantined)" 0
# Torn writes from in-spool-write are abandoned tmp files; recovery purges
# them once they are a minute old (spool.c), so age them.
tmp=$(find var/spool -path '*tmp*' -type f | wc -l)
find var/spool -path '*tmp*' -type f -exec touch -d '2 minutes ago' {} +
"$TG" spool retry > /dev/null 2>&1
expect_eq tmp-purged "$(find var/spool -path '*tmp*' -type f | wc -l)" 0
expect_eq total "$(sqlite3 var/ticketgate.db 'select count(*) from messages')" $((iter + 1))
expect_eq distinct "$(sqlite3 var/ticketgate.db 'select count(distinct message_id) from messages')" $((iter + 1))
expect_eq integrity "$(sqlite3 var/ticketgate.db 'pragma integrity_check')" ok
pass "$iter kills over ${#steps[@]} steps ($tmp torn spool writes purged): each message stored exactly once"
