#!/usr/bin/env bash
# The network clients live in ticketgate-net.so (gateway/net_module.h):
# `deliver` must neither map libetpan/libmicrohttpd nor need the module;
# the commands that do need it say which file is missing (exit 72, EX_OSFILE),
# and a module from another build is refused.
source "$TG_SOURCE_DIR/tests/lib.sh"
mod=$(dirname "$TG")/ticketgate-net.so
[ -f "$mod" ] || fail "module not built next to the binary: $mod"
# (Whole outputs first: grep -q would close the pipe on ldd, and
# pipefail would count its SIGPIPE as a failure.)
bin_libs=$(ldd "$TG"); mod_libs=$(ldd "$mod")
if grep -Eq 'libetpan|libmicrohttpd|libgnutls' <<< "$bin_libs"; then
  fail "the binary links the network libraries itself: $(grep -E 'etpan|microhttpd|gnutls' <<< "$bin_libs")"
fi
grep -q libetpan <<< "$mod_libs" || fail "module does not link libetpan"

# A copy of the binary alone: deliver works, the network commands fail clearly.
mkdir -p "$WORK/alone" && cp "$TG" "$WORK/alone/ticketgate"
cd "$WORK"
cat > conf <<CONF
[gateway]
data_dir = $WORK/var
[imap:help]
host = 127.0.0.1
port = 1
user = u
password = p
CONF
chmod 600 conf
printf 'From: a@example.com\nSubject: hi\nMessage-ID: <m1@x>\n\nbody\n' |
  "$WORK/alone/ticketgate" -c conf deliver --recipient support@localhost 2> deliver.err ||
  fail "deliver without the module: $(cat deliver.err)"
rc=0; "$WORK/alone/ticketgate" -c conf fetch 2> fetch.err || rc=$?
expect_eq fetch-exit "$rc" 72
grep -q "network module not loaded: ticketgate-net.so not found in $WORK/alone" fetch.err ||
  fail "fetch's message: $(cat fetch.err)"
rc=0; timeout 20 "$WORK/alone/ticketgate" -c conf serve --foreground 2> serve.err || rc=$?
expect_eq serve-exit "$rc" 72
grep -q "network module not loaded" serve.err || fail "serve's message: $(cat serve.err)"
rc=0; "$WORK/alone/ticketgate" -c conf check 2> check.err || rc=$?
expect_eq check-exit "$rc" 78
grep -q "IMAP, metrics or smarthost configured: network module not loaded" check.err ||
  fail "check's message: $(cat check.err)"
pass "deliver without the module; fetch and serve exit 72 naming the missing file, check reports it"

# A module of the right shape from another version (as mid-upgrade).
cp "$TG_BUILD_DIR/tests/ops/fake_net_module.so" "$WORK/alone/ticketgate-net.so"
rc=0; "$WORK/alone/ticketgate" -c conf fetch 2> fetch.err || rc=$?
expect_eq other-build-exit "$rc" 72
grep -q "ticketgate-net.so: built for another ticketgate" fetch.err || fail "other build's message: $(cat fetch.err)"
pass "a module from another version is refused: $(head -c 160 fetch.err)"

# Only the project's own names are exported to the module.
# (Functions: data a library exports, like g_ascii_table, is copied into
# the binary by the linker and must stay visible.)
symbols=$(nm -D --defined-only "$TG")
exported=$(awk '$2 == "T" {print $3}' <<< "$symbols" | grep -v '^tg_' | grep -v '^_' || true)
[ -z "$exported" ] || fail "the binary exports names that could interpose on a library's: $exported"
pass "the binary exports tg_* only"

# Something that is not our module, where ours should be.
cp /bin/true "$WORK/alone/ticketgate-net.so"
rc=0; "$WORK/alone/ticketgate" -c conf fetch 2> fetch.err || rc=$?
expect_eq wrong-module-exit "$rc" 72
grep -q "ticketgate-net.so" fetch.err || fail "wrong module's message: $(cat fetch.err)"
pass "a file that is not the module is refused: $(head -c 160 fetch.err)"
