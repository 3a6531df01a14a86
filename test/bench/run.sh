#!/usr/bin/env bash
# The benchmark and load harness of issue 8; docs/performance.md shows its output.
#
#   bash test/bench/run.sh                  # everything: median of 3 runs, 5 min idle, 200 scrapers × 60 s
#   bash test/bench/run.sh -quick           # a quick pass: 1 run, 30 s idle, 50 scrapers × 5 s
#   bash test/bench/run.sh -runs 5 -idle 10m -profile /tmp/sfbex-prof -out /tmp/sfbex-bench
#   bash test/bench/run.sh -domains 10000   # the fleet scenario (issue 17) alone, one agent and 4 shards
#
# Options:
#   -runs N            runs per figure; each figure is the median (default 3)
#   -idle DURATION     length of each idle-footprint run (default 5m)
#   -scrapers N        concurrent scrapers of the load test (default 200)
#   -load DURATION     length of the load test (default 60s)
#   -only WHAT         scrape, dns, idle, fleet, load, directory or sip (repeatable; default all)
#   -domains LIST      domain counts of the fleet scenario (default 1000,5000,10000), e.g. -domains 10000
#   -window DURATION   how long the fleet scenario watches each agent after its first round (default 2m)
#   -shards N          agents that split the largest fleet estate with SFBEX_SHARD (default 4; 0: none)
#   -agentenv LIST     more environment for the fleet's agents, comma-separated (e.g. SFBEX_MEMORY_LIMIT=off)
#   -profile DIR       write CPU profiles (scrape-agent, scrape-plain, dns-cycle) and print their top
#   -out DIR           keep the tables here (default: a new temporary directory)
#   -strict            fail when a target is NOT MET
#
# Needs bind9 (named, named-checkconf, named-checkzone) and
# prometheus-blackbox-exporter from Debian (scripts/test.sh installs them as
# root), and root (or user namespaces) for the private network namespace
# the tests run in: the agent, bind9 and blackbox_exporter can only reach
# 127.0.0.1. Everything they start is stopped by PID.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

runs=3 idle=5m scrapers=200 load=60s profile="" out="" strict=false
domains=1000,5000,10000 window=2m shards=4 agentenv=""
only=()
while (($#)); do
	case "$1" in
	-runs) runs=$2; shift 2 ;;
	-idle) idle=$2; shift 2 ;;
	-scrapers) scrapers=$2; shift 2 ;;
	-load) load=$2; shift 2 ;;
	-only) only+=("$2"); shift 2 ;;
	-domains) domains=$2; only+=(fleet); shift 2 ;;
	-window) window=$2; shift 2 ;;
	-shards) shards=$2; shift 2 ;;
	-agentenv) agentenv=$2; shift 2 ;;
	-profile) profile=$2; shift 2 ;;
	-out) out=$2; shift 2 ;;
	-strict) strict=true; shift ;;
	-quick) runs=1 idle=30s scrapers=50 load=5s window=70s; shift ;;
	-h | --help) sed -n '2,26p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1 (try -h)" >&2; exit 2 ;;
	esac
done
if ((${#only[@]} == 0)); then
	only=(scrape dns idle fleet load)
	# The directory scan against slapd (issue 5), kept in this harness.
	[[ ! -d test/bench/directory ]] || only+=(directory)
	# One SIP check against the TLS check it extends, both against Kamailio (issue 15).
	[[ ! -d test/bench/sip ]] || only+=(sip)
fi
bench_subtests=()
for w in "${only[@]}"; do
	case "$w" in
	scrape | dns | idle | fleet) [[ " ${bench_subtests[*]} " == *" $w "* ]] || bench_subtests+=("$w") ;;
	load | directory | sip) ;;
	*) echo "run.sh: -only $w: use scrape, dns, idle, fleet, load, directory or sip" >&2; exit 2 ;;
	esac
done

[[ -n "$out" ]] || out=$(mktemp -d /tmp/sfbex-bench.XXXXXX)
mkdir -p "$out"
[[ -z "$profile" ]] || { mkdir -p "$profile"; profile=$(cd "$profile" && pwd); }
out=$(cd "$out" && pwd)

export SFBEX_BENCH=1

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), Debian $(cat /etc/debian_version)"
echo "output: $out"
status=0

if ((${#bench_subtests[@]})); then
	pattern="^TestPerformance\$/^($(IFS='|'; echo "${bench_subtests[*]}"))\$"
	args=(-bench.runs="$runs" -bench.idle="$idle" -bench.out="$out/bench.md"
		-bench.fleet.domains="$domains" -bench.fleet.window="$window" -bench.fleet.shards="$shards" -bench.fleet.env="$agentenv")
	[[ -z "$profile" ]] || args+=(-bench.profile="$profile")
	$strict && args+=(-bench.strict)
	echo "==> go test -run '$pattern' ./test/bench/ -args ${args[*]}"
	set +e
	go test -count=1 -timeout 180m -run "$pattern" -v ./test/bench/ -args "${args[@]}" 2>&1 | tee "$out/bench.log" | grep -v '^        [0-9][0-9]-...-'
	rc=${PIPESTATUS[0]}
	set -e
	((rc == 0)) || status=1
fi

if [[ " ${only[*]} " == *" load "* ]]; then
	echo "==> go test -run '^TestLoad\$' ./test/chaos/ -args -load.scrapers=$scrapers -load.duration=$load"
	set +e
	go test -count=1 -timeout 30m -run '^TestLoad$' -v ./test/chaos/ -args -load.scrapers="$scrapers" -load.duration="$load" -load.out="$out/load.md" 2>&1 | tee "$out/load.log"
	rc=${PIPESTATUS[0]}
	set -e
	((rc == 0)) || status=1
fi

if [[ " ${only[*]} " == *" directory "* ]]; then
	echo "==> go test -run '^TestDirectoryBench\$' ./test/bench/directory -args -bench.runs=$runs"
	set +e
	go test -count=1 -timeout 60m -run '^TestDirectoryBench$' -v ./test/bench/directory -args -bench.runs="$runs" 2>&1 | tee "$out/directory.log"
	rc=${PIPESTATUS[0]}
	set -e
	((rc == 0)) || status=1
fi

if [[ " ${only[*]} " == *" sip "* ]]; then
	echo "==> go test -run '^TestSIPCost\$' ./test/bench/sip"
	set +e
	go test -count=1 -timeout 20m -run '^TestSIPCost$' -v ./test/bench/sip 2>&1 | tee "$out/sip.log"
	rc=${PIPESTATUS[0]}
	set -e
	((rc == 0)) || status=1
fi

if [[ -n "$profile" ]]; then
	for p in "$profile"/*.pprof; do
		[[ -e "$p" ]] || continue
		echo "==> go tool pprof -top $p"
		go tool pprof -top -nodecount=25 "$p" 2>/dev/null | sed -n '1,35p'
	done
fi

echo
echo "==================== figures ($out) ===================="
[[ ! -f "$out/bench.md" ]] || cat "$out/bench.md"
[[ ! -f "$out/bench-fleet.md" ]] || { echo; cat "$out/bench-fleet.md"; }
[[ ! -f "$out/load.md" ]] || { echo; cat "$out/load.md"; }
exit $status
