#!/usr/bin/env bash
# A Japanese message built here, byte by byte: ISO-2022-JP headers and body
# carrying NEC special characters (①, ㈱), an IBM extension (髙) and a
# wave dash - the characters glibc's ISO-2022-JP rejects - plus a
# Shift_JIS message with no charset label and an 8-bit HTML-only body.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"
jis() { printf '\033$B%b\033(B' "$1"; }
subject_b64=$(printf '\033$B-!-j\041\101\033(B' | base64 -w0)   # ①㈱〜
name_b64=$(printf '\033$B|b\033(B' | base64 -w0)                 # 髙
{
  printf 'From: =?ISO-2022-JP?B?%s?= <taka@example.jp>\n' "$name_b64"
  printf 'To: support@localhost\n'
  printf 'Subject: =?ISO-2022-JP?B?%s?=\n' "$subject_b64"
  printf 'Message-ID: <jis-1@example.jp>\n'
  printf 'MIME-Version: 1.0\n'
  printf 'Content-Type: text/plain; charset=ISO-2022-JP\n'
  printf 'Content-Transfer-Encoding: 7bit\n\n'
  jis '-!-j\041\101$"|b'; printf '\n'                                # ①㈱〜あ髙
} > jis.eml
"$TG" deliver --recipient support@localhost < jis.eml 2>/dev/null
show=$("$TG" ticket show 1 --json)
expect_eq subject "$(echo "$show" | tg_json 'j["subject"]')" '①㈱〜'
expect_eq name "$(echo "$show" | tg_json 'j["requester"]["name"]')" '髙'
expect_eq body "$(echo "$show" | tg_json 'j["messages"][0]["body"].strip()')" '①㈱〜あ髙'
expect_eq warnings "$(echo "$show" | tg_json 'len(j["messages"][0]["warnings"])')" 0
expect_eq language "$(echo "$show" | tg_json 'j["language"]')" ja
pass "ISO-2022-JP with CP50221 extensions"

# Wrong label, raw ISO-2022-JP body: decoded as ISO-2022-JP, not escapes.
{
  printf 'From: a@example.jp\nSubject: mislabelled\nMessage-ID: <jis-2@example.jp>\n'
  printf 'Content-Type: text/plain; charset=us-ascii\n\n'
  jis '$3$s$K$A$O'; printf '\n'                                   # こんにちは
} > mislabelled.eml
"$TG" deliver --recipient support@localhost < mislabelled.eml 2>/dev/null
expect_eq mislabelled "$("$TG" ticket show 2 --json | tg_json 'j["messages"][0]["body"].strip()')" 'こんにちは'

# Unlabelled Shift_JIS, HTML only, with a raw 8-bit subject.
{
  printf 'From: b@example.jp\nSubject: '; printf '\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd'; printf '\n'
  printf 'Message-ID: <sjis-1@example.jp>\nContent-Type: text/html\n\n'
  printf '<html><body><p>'; printf '\x82\xa8\x8a\xe8\x82\xa2'; printf '&amp;<br>OK</p><script>x()</script></body></html>\n'
} > sjis.eml
"$TG" deliver --recipient support@localhost < sjis.eml 2>/dev/null
show=$("$TG" ticket show 3 --json)
expect_eq sjis-subject "$(echo "$show" | tg_json 'j["subject"]')" 'こんにちは'
expect_eq sjis-body "$(echo "$show" | tg_json 'j["messages"][0]["body"]')" $'お願い&\nOK'
pass "mislabelled and unlabelled Japanese"

# Search finds Japanese substrings: three characters through the trigram
# index, two by the fallback scan.
expect_eq search3 "$("$TG" ticket search 'んにち' --json | tg_json 'sorted(set(r["ticket"] for r in j))')" '[2, 3]'
expect_eq search2 "$("$TG" ticket search '願い' --json | tg_json '[r["ticket"] for r in j]')" '[3]'
pass "Japanese full-text search"
