#!/bin/sh
# Benchmark of the synack Wireshark plugin: tshark over a large capture with
# and without the plugin, median wall time (and peak RSS) of several runs.
#
#   plugins/wireshark/bench.sh            # ~300 MB capture, 5 runs each
#   BENCH_MB=100 BENCH_RUNS=3 plugins/wireshark/bench.sh
#
# The capture is fixtures/captures/ merged into one pcapng, copied with its
# timestamps shifted an hour each time (so connections end by idle timeout,
# as in a long capture) and concatenated to about BENCH_MB megabytes, in
# $TARGET/wireshark/bench/. tshark runs as the calling user (as nobody,
# through setpriv, when called as root: root ignores personal plugin
# folders) with a HOME of its own, holding the plugin or not; nothing is
# installed system-wide. Not a test: it prints a table, and the load of the
# machine, which the figures depend on.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in
/*) ;;
*) target=$root/$target ;;
esac
mb=${BENCH_MB:-300}
runs=${BENCH_RUNS:-5}

for tool in tshark mergecap editcap capinfos; do
    command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing (apt-get install tshark)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

plugin=$(sh "$here/build.sh" | tail -n 1)
work=$target/wireshark/bench
mkdir -p "$work"

# The large capture, made once per size.
big=$work/big-${mb}MB.pcapng
if [ ! -f "$big" ]; then
    echo "making $big ..." >&2
    tmp=$work/tmp
    rm -rf "$tmp"
    mkdir -p "$tmp"
    mergecap -a -F pcapng -w "$tmp/base.pcapng" "$root"/fixtures/captures/*.pcap "$root"/fixtures/captures/*.pcapng
    base_bytes=$(wc -c <"$tmp/base.pcapng")
    # A block of about 16 MB, then enough blocks for the size asked.
    per_block=$(( (16 * 1024 * 1024 + base_bytes - 1) / base_bytes ))
    i=0
    while [ $i -lt $per_block ]; do
        editcap -F pcapng -t $((i * 3600)) "$tmp/base.pcapng" "$tmp/copy-$(printf %05d $i).pcapng"
        i=$((i + 1))
    done
    mergecap -a -F pcapng -w "$tmp/block.pcapng" "$tmp"/copy-*.pcapng
    block_bytes=$(wc -c <"$tmp/block.pcapng")
    blocks=$(( (mb * 1024 * 1024 + block_bytes - 1) / block_bytes ))
    span=$((per_block * 3600))
    i=0
    while [ $i -lt $blocks ]; do
        editcap -F pcapng -t $((i * span)) "$tmp/block.pcapng" "$tmp/block-$(printf %05d $i).pcapng"
        i=$((i + 1))
    done
    mergecap -a -F pcapng -w "$big.part" "$tmp"/block-0*.pcapng
    mv "$big.part" "$big"
    rm -rf "$tmp"
fi

# Two HOMEs: one with the plugin, one without.
with=$work/home-with
without=$work/home-without
rm -rf "$with" "$without"
mkdir -p "$without" "$with"
plugdir=$(HOME=$with tshark -G folders 2>/dev/null | sed -n 's/^Personal Plugins:[[:space:]]*//p')
mkdir -p "$plugdir/epan"
cp "$plugin" "$plugdir/epan/synack.so"
chmod -R a+rX "$work"

run_tshark() { # HOME, tshark arguments...
    home=$1
    shift
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$home" XDG_CONFIG_HOME="$home/.config" tshark "$@"
    else
        env HOME="$home" XDG_CONFIG_HOME="$home/.config" tshark "$@"
    fi
}

# Check that the plugin loads from $with (and only from there).
run_tshark "$with" -G fields 2>/dev/null | grep -q "synack.role" || { echo "bench.sh: the plugin does not load" >&2; exit 1; }
if run_tshark "$without" -G fields 2>/dev/null | grep -q "synack.role"; then
    echo "bench.sh: synack is installed system-wide: no run would be without it" >&2
    exit 1
fi

median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# The configurations: label, then HOME and tshark's arguments.
configs=6
config() { # N: sets label, home and the positional arguments of tshark
    case $1 in
    1) label="tshark -r (summary lines), without plugin"; home=$without
       set -- -n -r "$big" ;;
    2) label="tshark -r (summary lines), with plugin"; home=$with
       set -- -n -r "$big" ;;
    3) label="-T fields -e frame.number -e tcp.stream, without plugin"; home=$without
       set -- -n -r "$big" -T fields -e frame.number -e tcp.stream ;;
    4) label="-T fields -e frame.number -e tcp.stream, with plugin"; home=$with
       set -- -n -r "$big" -T fields -e frame.number -e tcp.stream ;;
    5) label="-T fields ... -e synack.role -e synack.conn, with plugin"; home=$with
       set -- -n -r "$big" -T fields -e frame.number -e tcp.stream -e synack.role -e synack.conn ;;
    6) label="-2 -T fields ... -e synack.role -e synack.conn, with plugin"; home=$with
       set -- -2 -n -r "$big" -T fields -e frame.number -e tcp.stream -e synack.role -e synack.conn ;;
    esac
    args="$*"
}

# One run of configuration N: appends its wall time and peak RSS.
run_config() {
    config "$1"
    # shellcheck disable=SC2086 # the arguments hold no spaces
    /usr/bin/time -f "%e %M" -o "$work/one" "$work/run_tshark_wrapper" "$home" $args >/dev/null 2>&1
    awk '{print $1}' "$work/one" >>"$work/times-$1"
    awk '{print $2}' "$work/one" >>"$work/rss-$1"
}

# The wrapper /usr/bin/time runs (a script, so it times tshark and setpriv only).
cat >"$work/run_tshark_wrapper" <<EOF
#!/bin/sh
home=\$1
shift
if [ "\$(id -u)" -eq 0 ]; then
    exec setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="\$home" XDG_CONFIG_HOME="\$home/.config" tshark "\$@"
else
    exec env HOME="\$home" XDG_CONFIG_HOME="\$home/.config" tshark "\$@"
fi
EOF
chmod +x "$work/run_tshark_wrapper"
packets=$(capinfos -c -M "$big" | sed -n 's/^Number of packets:[[:space:]]*//p')
size=$(du -m "$big" | cut -f1)
echo "capture: $big, $size MB, $packets packets"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tshark: $(tshark --version | head -n 1)"
echo "runs per line: $runs, interleaved (median wall time, median peak RSS)"
# Rounds of every configuration in turn, so that a change of the machine's
# load falls on all of them alike.
n=1
while [ $n -le $configs ]; do
    : >"$work/times-$n"
    : >"$work/rss-$n"
    n=$((n + 1))
done
r=0
while [ $r -lt "$runs" ]; do
    n=1
    while [ $n -le $configs ]; do
        run_config $n
        n=$((n + 1))
    done
    r=$((r + 1))
done
n=1
while [ $n -le $configs ]; do
    config $n
    printf '%-60s %8s s %6s MB   (runs: %s)\n' "$label" "$(median <"$work/times-$n")" \
        "$(median <"$work/rss-$n" | awk '{printf "%.0f", $1/1024}')" "$(tr '\n' ' ' <"$work/times-$n")"
    n=$((n + 1))
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
