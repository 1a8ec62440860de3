#!/usr/bin/env bash
# Side-by-side: synack against tcpdump and tshark on one large capture of
# real-traffic shape (BENCHMARKS.md, "Side by side"). Builds synack and the
# runner in release mode, then runs benches/src/bin/side_by_side.rs, which
# writes the capture to a temp dir, runs every command on it N times
# (alternating), prints the table and writes it into BENCHMARKS.md.
#
#   scripts/side-by-side.sh                                   # 1M+ packets, 1 GB, 5 runs
#   scripts/side-by-side.sh --packets 50000 --bytes 0 --runs 3   # a quick try
#   scripts/side-by-side.sh --help                            # every option
#
# Needs tcpdump, tshark and GNU time (/usr/bin/time; Debian packages tcpdump,
# tshark, time). A later --report FILE or --no-report overrides the report file.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v tcpdump >/dev/null || missing+=(tcpdump)
command -v tshark >/dev/null || missing+=(tshark)
if [ ${#missing[@]} -gt 0 ]; then
    echo "side-by-side.sh: missing ${missing[*]}: apt-get install ${missing[*]}" >&2
    exit 1
fi

cargo build --release --quiet -p synack-dissector -p synack-benches --bins
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/side_by_side" --report BENCHMARKS.md "$@"
