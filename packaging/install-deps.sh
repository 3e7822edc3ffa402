#!/usr/bin/env bash
# Installs the Debian 12 packages ticketgate needs to build, run and test.
# Idempotent; run as root (or it uses sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure the system MTA; the tests run their own.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake pkg-config clang \
  libglib2.0-dev libglib2.0-dev-bin glib-networking \
  libgmime-3.0-dev libetpan-dev libsqlite3-dev sqlite3 libpcre2-dev \
  libjson-glib-dev libmicrohttpd-dev nettle-dev zlib1g-dev \
  swaks libnet-ssleay-perl postfix dovecot-core dovecot-imapd \
  python3 openssl ca-certificates mandoc procps psmisc iproute2 util-linux
# tests/limits/: peak RSS of `deliver` with /usr/bin/time -f %M
$SUDO apt-get install -y -q --no-install-recommends time
