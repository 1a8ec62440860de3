#!/bin/sh
# Builds the synack Wireshark plugin: $TARGET/wireshark/synack.so, where
# $TARGET is $CARGO_TARGET_DIR or the workspace's target/.
#
#   plugins/wireshark/build.sh
#
# It builds libsynack.a (cargo build --release -p synack-capi), compiles
# packet-synack.c against the installed Wireshark's headers (pkg-config
# wireshark: Debian's libwireshark-dev and libglib2.0-dev) and links the
# static library in, exporting only the four plugin symbols. The plugin
# loads only into the Wireshark major.minor it was built against.
# Environment: CC (default cc), CFLAGS (added), CARGO (default cargo).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in
/*) ;;
*) target=$root/$target ;;
esac
cc=${CC:-cc}
cargo=${CARGO:-cargo}

if ! pkg-config --exists wireshark; then
    echo "build.sh: pkg-config finds no wireshark: install libwireshark-dev and libglib2.0-dev" >&2
    exit 1
fi

"$cargo" build --release --manifest-path "$root/Cargo.toml" -p synack-capi

lib=$target/release/libsynack.a
header=$root/capi/include/synack.h
for f in "$lib" "$header"; do
    if [ ! -f "$f" ]; then
        echo "build.sh: $f is missing after cargo build -p synack-capi" >&2
        exit 1
    fi
done

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
out=$target/wireshark
mkdir -p "$out"
tmp=$out/synack.so.tmp.$$
trap 'rm -f "$tmp"' EXIT

# shellcheck disable=SC2046,SC2086 # pkg-config's output and CFLAGS are lists of words
$cc -shared -fPIC -O2 -g -std=gnu11 -Wall -Wextra -fvisibility=hidden \
    -DSYNACK_PLUGIN_VERSION="\"$version\"" \
    -I"$root/capi/include" $(pkg-config --cflags wireshark) \
    ${CFLAGS:-} \
    "$here/packet-synack.c" \
    -o "$tmp" \
    -Wl,--version-script="$here/synack.map" \
    -Wl,--exclude-libs,ALL -Wl,--gc-sections -Wl,-z,defs -Wl,-z,relro -Wl,-z,now -Wl,--as-needed \
    "$lib" \
    $(pkg-config --libs wireshark) -lwiretap -lpthread -ldl -lm

# Exactly the four plugin symbols may be exported (-z defs above: and no
# symbol is left unresolved, e.g. libpcap's, which the CLI code in libsynack.a
# refers to and --gc-sections drops).
exported=$(nm -D --defined-only "$tmp" | awk '{print $NF}' | sort | tr '\n' ' ')
if [ "$exported" != "plugin_register plugin_version plugin_want_major plugin_want_minor " ]; then
    echo "build.sh: unexpected exported symbols: $exported" >&2
    exit 1
fi

mv -f "$tmp" "$out/synack.so"
trap - EXIT
echo "$out/synack.so"
