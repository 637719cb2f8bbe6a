#!/usr/bin/env bash
# Installs the Debian 12 packages embflow builds and tests with. Idempotent: silent when all is there.
#   scripts/install-deps.sh           the C++ build, the Python module and every test (pytest
#                                     compares with Debian's torch)
#   scripts/install-deps.sh --python  the same (kept for bench/compare_torch.py's callers)
set -euo pipefail
packages=(cmake g++ make pkg-config libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
          libfmt-dev libhwloc-dev pybind11-dev python3-dev python3 python3-numpy python3-pytest python3-torch)
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
