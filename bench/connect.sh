#!/usr/bin/env bash
# connect.sh — connection setup time and the TURN relay, in the NAT lab
# (integration/nat_bench_test.go; README "Connection setup and the relay").
#
#   bash bench/connect.sh [--count N] [--connections N] [--only setup|relay] [--keep]
#
# Runs BenchmarkConnectionSetup (LAN, punched, relayed through the embedded
# relay and through coturn, each relayed path also with the direct paths'
# head start cut short) and BenchmarkRelayThroughput (embedded, coturn),
# --count times each (default 5), and prints per benchmark and unit the
# median and every run's value (bench/benchmedian). Each setup run makes
# --connections fresh invitations (default 10) and reports their mean.
#
# Options:
#   --count N        runs of each benchmark (default 5)
#   --connections N  connections per setup run (default 10)
#   --only setup     only BenchmarkConnectionSetup; --only relay: only
#                    BenchmarkRelayThroughput
#   --keep           keep the raw `go test` output
#
# The lab needs root (network namespaces, nftables): the test binary is
# built as you and run with sudo unless you are root. coturn's turnserver
# (Debian package coturn) is needed for the coturn cases, ip, nft and
# sysctl for the lab. Nothing leaves the machine: the lab's namespaces have
# no route out. The medians go to stdout; the raw output, the commit and
# the load average to stderr.
set -euo pipefail

count=5
connections=10
only=""
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--count) count="$2"; shift 2 ;;
	--connections) connections="$2"; shift 2 ;;
	--only) only="$2"; shift 2 ;;
	--keep) keep=1; shift ;;
	*) sed -n '2,26p' "$0" >&2; exit 2 ;;
	esac
done
case "$only" in
"" | setup | relay) ;;
*) sed -n '2,26p' "$0" >&2; exit 2 ;;
esac

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
tmp=$(mktemp -d)
cleanup() {
	if [ "$keep" = 1 ]; then
		echo "raw output kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

sudo=()
if [ "$(id -u)" != 0 ]; then
	sudo=(sudo)
fi
command -v turnserver >/dev/null || echo "warning: no turnserver (coturn): the coturn cases will be skipped" >&2

go test -c -o "$tmp/integration.test" ./integration
go build -o "$tmp/benchmedian" ./bench/benchmedian

commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- . 2>/dev/null || commit="$commit (with uncommitted changes in the tree)"
load() { echo "load average ($1): $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2; }
echo "commit $commit" >&2
load before

# run NAME ARGS...: one benchmark, its output into $tmp/NAME.txt and stderr.
run() {
	local name="$1"
	shift
	# The test binary runs in its package's directory, as go test would.
	(cd integration && "${sudo[@]}" env QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING=true \
		"$tmp/integration.test" -test.run '^$' -test.count "$count" "$@") | tee "$tmp/$name.txt" >&2
	if grep -q -- '--- SKIP' "$tmp/$name.txt"; then
		echo "warning: $name skipped some cases (see above)" >&2
	fi
	if grep -q -- '--- FAIL\|^FAIL' "$tmp/$name.txt"; then
		echo "$name failed" >&2
		exit 1
	fi
}
touch "$tmp/setup.txt" "$tmp/relay.txt"
if [ "$only" != relay ]; then
	run setup -test.bench '^BenchmarkConnectionSetup$' -test.benchtime "${connections}x"
	load "after the setup benchmark"
fi
if [ "$only" != setup ]; then
	run relay -test.bench '^BenchmarkRelayThroughput$' -test.benchtime 1s
	load "after the relay benchmark"
fi

echo "commit $commit; $count runs each; medians, then each run's value"
cat "$tmp/setup.txt" "$tmp/relay.txt" | "$tmp/benchmedian"
