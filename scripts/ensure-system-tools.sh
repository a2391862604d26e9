#!/usr/bin/env bash
# What `npm test` needs from the system besides Node and git: redis-server (the rate-limit tests
# run against a real Redis), on Linux bubblewrap (every runner test builds real sandboxes) and
# Chromium (the console's browser tests drive Debian's `chromium` with playwright-core).
# Installs what is missing from the distribution's packages where it can (root, or sudo without a
# password, and apt-get); otherwise says what to install and stops, before any test runs.
set -euo pipefail

missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "$(uname -s)" = Linux ]; then
  command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -eq 0 ] || { sudo -n true 2>/dev/null && sudo=(sudo -n); }
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ ${#sudo[@]} -gt 0 ]; }; then
  echo "Installing from the distribution's packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "npm test needs these installed first: ${missing[*]} (Debian/Ubuntu: apt-get install ${missing[*]})" >&2
exit 1
