#!/usr/bin/env bash
# Installs the headless browser the site tests of `atmsae browse` drive: Debian's chromium and chromium-driver.
# Best effort, like install-deps.sh: without root or apt the browser tests report "skipped: no browser".
# Prints the reason on failure; exit 0 either way.
set -uo pipefail
have() { command -v chromedriver >/dev/null 2>&1 && { command -v chromium >/dev/null 2>&1 || [[ -x /usr/lib/chromium/chromium ]]; }; }
have && exit 0
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "atmsae: installing chromium and chromium-driver for the browser tests..."
  apt() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }
  (apt install -y -q chromium chromium-driver >/dev/null 2>&1 || { apt update -q >/dev/null 2>&1 && apt install -y -q chromium chromium-driver >/dev/null 2>&1; }) \
    && echo "atmsae: chromium installed" \
    || echo "atmsae: could not install chromium (apt failed); browser tests will be skipped"
else
  echo "atmsae: chromium not found and cannot install it here (needs root and apt); browser tests will be skipped"
fi
exit 0
