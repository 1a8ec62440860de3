#!/bin/sh
# Installs libsynack under PREFIX: the header, the shared library with its
# SONAME links (libsynack.so.VERSION, libsynack.so.ABI, libsynack.so), the
# static library and the pkg-config file.
#
#   cargo build --release -p synack-capi
#   sh capi/install.sh /usr/local            # or: sh capi/install.sh PREFIX target/debug
#
# then: cc prog.c $(pkg-config --cflags --libs synack)
set -eu
prefix=${1:?usage: install.sh PREFIX [BUILD_DIR (default target/release)]}
here=$(cd "$(dirname "$0")" && pwd)
built=${2:-$here/../target/release}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/../Cargo.toml" | head -n 1)
abi=$(sed -n 's/^pub const SYNACK_ABI_VERSION: u32 = \([0-9][0-9]*\);$/\1/p' "$here/src/types.rs")
[ -n "$version" ] && [ -n "$abi" ] || { echo "install.sh: cannot read the version" >&2; exit 1; }
for f in libsynack.so libsynack.a; do
    [ -f "$built/$f" ] || { echo "install.sh: $built/$f missing: cargo build -p synack-capi first" >&2; exit 1; }
done

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
cp "$here/include/synack.h" "$prefix/include/synack.h"
cp "$built/libsynack.so" "$prefix/lib/libsynack.so.$version"
ln -sf "libsynack.so.$version" "$prefix/lib/libsynack.so.$abi"
ln -sf "libsynack.so.$abi" "$prefix/lib/libsynack.so"
cp "$built/libsynack.a" "$prefix/lib/libsynack.a"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" "$here/synack.pc.in" \
    > "$prefix/lib/pkgconfig/synack.pc"
echo "installed libsynack $version (ABI $abi) under $prefix"
