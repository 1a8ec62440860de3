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

# The fuzz targets (fuzz/, a workspace of its own; docs/fuzzing.md), built on
# stable without sanitizers, run once over their committed corpora: every
# input must still pass its target's checks.
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --manifest-path fuzz/Cargo.toml --all-targets --locked -- -D warnings
cargo build --release --locked --manifest-path fuzz/Cargo.toml
scratch=$(mktemp -d)
for target in options header frame capture dissect capi; do
    log="$scratch/$target.log"
    if ! fuzz/target/release/"$target" -runs=0 -artifact_prefix="$scratch/" \
        fuzz/corpus/"$target" >"$log" 2>&1; then
        cat "$log"
        echo "fuzz target $target failed on its corpus" >&2
        exit 1
    fi
    echo "fuzz corpus $target: $(grep -o 'Done [0-9]* runs' "$log")"
done
rm -rf "$scratch"
