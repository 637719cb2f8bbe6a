#!/usr/bin/env bash
# Installs the Debian 12 packages embflow builds and tests with. Idempotent: silent when all is there.
#   scripts/install-deps.sh           the C++ build and tests
#   scripts/install-deps.sh --python  also Debian's numpy and torch (the peer of bench/compare_torch.py)
set -euo pipefail
packages=(cmake g++ make pkg-config libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
          libfmt-dev libhwloc-dev)
if [ "${1:-}" = "--python" ]; then packages+=(python3 python3-numpy python3-torch); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
