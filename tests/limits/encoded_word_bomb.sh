#!/usr/bin/env bash
# An encoded-word bomb: a Subject and a From phrase of 100,000 adjacent
# encoded words (alternating charsets and encodings, empty words, words
# split mid-character), plus a filename of them: a ticket in bounded time
# (linear decoding).  Long: 1,000,000 words.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/limits_lib.sh"
n=100000; [ "$LONG" = 1 ] && n=1000000
python3 - "$n" > bomb.eml <<'PY'
import sys
n = int(sys.argv[1])
words = ["=?UTF-8?B?44GC?=", "=?ISO-2022-JP?B?GyRCJCIbKEI=?=", "=?utf-8?q?=E3=81?=",
         "=?utf-8?q?=82?=", "=?UTF-8?B??=", "=?x-unknown?Q?a?=", "=?Shift_JIS?B?gqA=?="]
bomb = " ".join(words[i % len(words)] for i in range(n))
w = sys.stdout.write
w("From: " + bomb[: len(bomb) // 4] + " <a@example.com>\nSubject: " + bomb + "\n"
  "Message-ID: <bomb@x>\nContent-Type: multipart/mixed; boundary=b\n\n"
  "--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: application/octet-stream\n"
  "Content-Disposition: attachment; filename=\"" + bomb[: len(bomb) // 10] + "\"\n\nx\n--b--\n")
PY
deliver_measured bomb.eml
expect_eq exit "$RC" 0
expect_eq outcome "$(outcome)" ticket
[[ "$(sqlite3 var/ticketgate.db 'select substr(subject, 1, 3) from messages')" == あ* ]] ||
  fail "subject not decoded"
check_bounds encoded-word-bomb $((64 + n / 1000)) $((10 + n / 20000))
pass "$n encoded words: ticket (peak RSS $((RSS_KB / 1024)) MB, $SECS s)"
