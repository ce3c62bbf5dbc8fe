#!/usr/bin/env bash
# Make sure Debian packages are installed: as root, install the missing ones with
# apt-get; otherwise print the exact command to run and carry on (tests that need a
# missing component skip and say why).
set -euo pipefail
# A package whose command is already on PATH from elsewhere counts as present: Node.js from
# NodeSource (or nvm) bundles npm and conflicts with Debian's npm package.
declare -A provides=([nodejs]=node [npm]=npm)
missing=()
for pkg in "$@"; do
  if [ -n "${provides[$pkg]:-}" ] && command -v "${provides[$pkg]}" >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  stamp=/var/lib/apt/periodic/coursebench-update-stamp
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +360 2>/dev/null)" ]; then
    apt-get update -qq && mkdir -p "$(dirname "$stamp")" && touch "$stamp"
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "!! missing Debian packages: ${missing[*]}"
  echo "!! run:  sudo apt-get install -y ${missing[*]}"
fi
