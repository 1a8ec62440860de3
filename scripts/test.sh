#!/usr/bin/env bash
# Installs what the tests need (Debian bookworm packages, as root or with sudo)
# and runs every check and test of the workspace. README.md's quick start and
# .ci/run both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# tshark and tcpdump are the references; libpcap-dev is for live capture and BPF;
# iproute2, nftables, ethtool and python3 are for the network-namespace tests;
# gcc, g++, binutils and valgrind build and check the C ABI's consumers;
# libwireshark-dev and libglib2.0-dev build the Wireshark plugin.
packages=(tshark tcpdump libpcap-dev pkg-config iproute2 nftables ethtool python3 gcc g++ binutils valgrind libwireshark-dev libglib2.0-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
cargo test --workspace --locked --no-fail-fast
